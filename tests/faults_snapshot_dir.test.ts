// Fault: the snapshot folder becomes read-only, or its disk fills up, while the gateway runs.
//
// How the fault is made: a small tmpfs mounted for the test (tests/support/faults.ts). We run as
// root, so chmod would not stop a single write; `mount -o remount,ro` makes the kernel refuse
// every write with EROFS, and a filler file written until the kernel says ENOSPC leaves a disk
// really full. Both are what the gateway would meet on a board (a card remounted read-only after
// an error, a log filling the disk), with no seam in the code under test.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { type GatewayEvent, GatewayRunner } from "../adapters/gateway/mod.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { fillDisk, mountTmpfs, temporaryFiles, TEST_TIMEOUT_MS, until } from "./support/faults.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const TOKEN = "fault-test-token";
const TOPIC = "sensors/pump/telemetry";

/** The faults, how each is made and undone, and what the kernel says. */
const FAULTS = [
  {
    name: "read-only",
    error: /EROFS|read-only/i,
    make: (mount: ReturnType<typeof mountTmpfs>) => {
      mount.remount("ro");
      return () => mount.remount("rw");
    },
  },
  {
    name: "full",
    error: /ENOSPC|no space/i,
    make: (mount: ReturnType<typeof mountTmpfs>) => {
      const filler = fillDisk(mount.path);
      assert.ok(filler.bytes > 0);
      return () => rmSync(filler.path);
    },
  },
] as const;

describe("fault: the snapshot folder stops taking writes while the gateway runs", () => {
  for (const fault of FAULTS) {
    test(
      `a ${fault.name} snapshot folder: reported in the log, the status, /api/status and /metrics; the last good snapshot stays; scores go on; snapshots resume once it is writable`,
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const mount = mountTmpfs(4 << 20);
        const dir = join(mount.path, "state");
        const broker = await startBroker();
        const logs: string[] = [];
        const config = validateGatewayConfig(smallConfig({
          mqtt: { url: broker.url, topicPrefix: "ft" },
          snapshots: { dir, intervalSeconds: 0.05, keep: 2 },
          limits: { maxDevices: 8, queueCapacity: 1024, historyPoints: 64 },
        }));
        const gateway = new GatewayRunner(config, { log: (line) => logs.push(line) });
        const events: GatewayEvent[] = [];
        gateway.subscribe((event) => events.push(event));
        const scores = () => events.filter((e) => e.type === "score");
        const snapshots = () => events.filter((e) => e.type === "snapshot");
        const app = createDashboardApp(gateway, { token: TOKEN });
        const sensor = await mqtt.connectAsync(broker.url);
        const signal = new SensorSignal(21);
        const publish = async (count: number) => {
          for (let i = 0; i < count; i++) {
            await sensor.publishAsync(TOPIC, Buffer.from(signal.next()), { qos: 1 });
          }
        };
        let repair: (() => void) | undefined;
        try {
          gateway.start();
          await gateway.link.whenConnected();
          await until(() => logs.some((l) => /mqtt: subscribed/.test(l)), "the subscription");
          await publish(SMALL_LEARNING + 5);
          await until(
            () => gateway.engine.device("pump")?.phase === "executing",
            "the device to finish learning",
          );
          const before = snapshots().length;
          await until(() => snapshots().length >= before + 2, "snapshots of the executing device");

          // The fault strikes between two timer snapshots (writes are synchronous: none is under
          // way while this test runs).
          const store = gateway.store;
          const goodSeqs = store.sequences();
          const goodPath = store.pathOf(goodSeqs[0]);
          const goodBytes = readFileSync(goodPath);
          repair = fault.make(mount);
          const failuresBefore = gateway.status().snapshotFailures;
          await until(
            () => gateway.status().snapshotFailures >= failuresBefore + 3,
            "the timer's snapshot writes to fail",
          );

          // Detection goes on: new readings are scored and a fault is still flagged.
          const scoredBefore = scores().length;
          await publish(20);
          await sensor.publishAsync(TOPIC, Buffer.from(faultPayload()), { qos: 1 });
          await until(() => scores().length >= scoredBefore + 21, "scores during the fault");
          await until(() => gateway.recentAlerts().length > 0, "the alert during the fault");

          // Reported: the status, the log, the dashboard's JSON and metrics.
          const status = gateway.status();
          assert.ok(status.snapshotFailures >= failuresBefore + 3);
          assert.match(status.lastSnapshotError ?? "", fault.error);
          const failed = logs.filter((line) =>
            line.startsWith(`snapshot: cannot write to ${dir}: `)
          );
          assert.ok(failed.length >= 3, logs.join("\n"));
          assert.match(failed.at(-1)!, fault.error);
          const api = await (await app.request("/api/status")).json();
          assert.equal(api.snapshotFailures >= status.snapshotFailures, true);
          assert.match(api.lastSnapshotError, fault.error);
          const metrics = await (await app.request("/metrics")).text();
          const counted = /^foxtail_snapshot_failures_total (\d+)$/m.exec(metrics);
          assert.ok(counted !== null, metrics);
          assert.ok(Number(counted[1]) >= failuresBefore + 3);
          // Asked from the dashboard, the write fails with the reason, and is counted too.
          const failuresNow = gateway.status().snapshotFailures;
          const manual = await app.request("/api/snapshot", {
            method: "POST",
            headers: { Authorization: `Bearer ${TOKEN}` },
          });
          assert.equal(manual.status, 500);
          assert.match((await manual.json()).error, fault.error);
          assert.ok(gateway.status().snapshotFailures > failuresNow);

          // The last good snapshot is intact and loadable; nothing half-written is left.
          assert.deepEqual(store.sequences(), goodSeqs);
          assert.deepEqual(readFileSync(goodPath), goodBytes);
          assert.deepEqual(temporaryFiles(dir), []);
          const fresh = new GatewayEngine(config);
          assert.equal(fresh.restore(new Uint8Array(goodBytes)).devices, 1);
          assert.equal(fresh.device("pump")!.phase, "executing");

          // Writable again: the next timer snapshot succeeds and holds what was scored meanwhile.
          repair();
          repair = undefined;
          const resumedFrom = snapshots().length;
          await until(() => snapshots().length > resumedFrom, "a snapshot after the repair");
          const after = gateway.status();
          assert.equal(after.lastSnapshotError, null);
          assert.equal((await (await app.request("/api/status")).json()).lastSnapshotError, null);
          const newest = store.sequences()[0];
          assert.ok(newest > goodSeqs[0]);
          assert.ok(
            store.sequences().length <= config.snapshots.keep,
            "old snapshots pruned again",
          );
          const resumed = new GatewayEngine(config);
          resumed.restore(new Uint8Array(readFileSync(store.pathOf(newest))));
          assert.ok(
            resumed.device("pump")!.messages >= SMALL_LEARNING + 5 + 21,
            "the new snapshot holds the messages scored during the fault",
          );
          assert.deepEqual(temporaryFiles(dir), []);
        } finally {
          try {
            repair?.();
            await gateway.stop();
            await sensor.endAsync(true);
            await broker.close();
          } finally {
            mount.unmount();
          }
        }
      },
    );
  }
});
