// Fault: `kill -9` while `foxtail run` is writing a snapshot.
//
// The snapshot is made large honestly: 250 devices whose telemetry has 160 fields, each still
// mapping its features (KitNET keeps a 160 × 160 correlation state per device), about 27 MB per
// snapshot, so each write (open, write, fsync, rename) takes tens of milliseconds. The test
// watches the snapshot folder and sends SIGKILL the moment a write's temporary file appears.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { SnapshotStore } from "../adapters/files/mod.ts";
import { CLI, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { temporaryFiles, TEST_TIMEOUT_MS, until } from "./support/faults.ts";
import { smallConfig } from "./support/gateway_fixtures.ts";

const DEVICES = 250;
const FIELDS = Array.from({ length: 160 }, (_, i) => `f${i}`);
/** Attempts at catching a write under way; a loaded machine may let one finish first. */
const ATTEMPTS = 4;

/** A running `foxtail run` and what it logged. */
interface Child {
  process: ChildProcess;
  log: { text: string };
  exited: Promise<number | null>;
}

function startChild(args: string[]): Child {
  const [command, prefix] = runtimeCommand(CLI);
  const child = spawn(command, [...prefix, ...args], { cwd: ROOT, stdio: "pipe" });
  const log = { text: "" };
  child.stderr!.on("data", (chunk) => log.text += chunk.toString());
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { process: child, log, exited };
}

/** Sleeps `ms` without yielding to the event loop. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Watches `dir` (synchronously, every millisecond, so nothing delays the kill) until a
 * temporary snapshot file appears, then kills `child` with SIGKILL; returns the file's name.
 */
function killWhenWriting(child: ChildProcess, dir: string, ms: number): string {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const writing = temporaryFiles(dir);
    if (writing.length > 0) {
      child.kill("SIGKILL");
      return writing[0];
    }
    sleepSync(1);
  }
  assert.fail(`no snapshot write seen in ${dir} within ${ms} ms`);
}

describe("fault: kill -9 during a snapshot write", () => {
  test(
    "the next start ignores and removes the cut write and resumes from the last complete snapshot",
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const broker = await startBroker();
      const dir = mkdtempSync(join(tmpdir(), "foxtail-kill-snapshot-"));
      const state = join(dir, "state");
      const raw = smallConfig({
        mqtt: { url: broker.url, topicPrefix: "ft", clientId: "foxtail-kill-snapshot" },
        snapshots: { dir: state, intervalSeconds: 0.2, keep: 3 },
        dashboard: { enabled: false }, // no port to share with tests running beside this one
        limits: { maxDevices: DEVICES, queueCapacity: 1024, historyPoints: 8 },
      });
      const stream = (raw.streams as Record<string, unknown>[])[0];
      stream.payload = { format: "json-array", fields: FIELDS };
      stream.model = {
        type: "kitnet",
        maxAutoencoderSize: 5,
        fmGracePeriod: 100_000,
        adGracePeriod: 100,
      };
      const configPath = join(dir, "foxtail.json");
      writeFileSync(configPath, JSON.stringify(raw));
      const config = validateGatewayConfig(raw);
      const args = ["run", "--config", configPath];
      const store = new SnapshotStore(state, config.snapshots.keep);
      const children: Child[] = [];
      const sensor = await mqtt.connectAsync(broker.url);
      try {
        let child = startChild(args);
        children.push(child);
        await until(() => /mqtt: subscribed/.test(child.log.text), "the gateway to subscribe");
        const watcher = await mqtt.connectAsync(broker.url);
        const scored = new Set<string>();
        watcher.on("message", (topic) => scored.add(topic));
        await watcher.subscribeAsync("ft/+/score");
        for (let d = 0; d < DEVICES; d++) {
          const values = FIELDS.map((_, i) => Math.sin(d + i));
          await sensor.publishAsync(`sensors/node${d}/telemetry`, JSON.stringify(values), {
            qos: 1,
          });
        }
        await until(() => scored.size === DEVICES, "every device to be scored", 60_000);
        await watcher.endAsync();
        // Two more snapshots: the later one began after every device was held.
        const seqAfterScoring = store.sequences()[0] ?? 0;
        await until(
          () => (store.sequences()[0] ?? 0) >= seqAfterScoring + 2,
          "complete snapshots of every device",
          60_000,
        );

        let cut: string | undefined;
        for (let attempt = 1; attempt <= ATTEMPTS && cut === undefined; attempt++) {
          const writing = killWhenWriting(child.process, state, 60_000);
          await child.exited;
          // Still there after the kill: the write was cut before its rename.
          if (temporaryFiles(state).includes(writing)) cut = writing;
          else {
            t.diagnostic(`attempt ${attempt}: the write of ${writing} finished before the kill`);
            child = startChild(args);
            children.push(child);
            await until(() => /mqtt: subscribed/.test(child.log.text), "the gateway to restart");
          }
        }
        assert.ok(cut !== undefined, `no write cut in ${ATTEMPTS} attempts`);
        const complete = store.sequences();
        const newest = store.pathOf(complete[0]);
        const cutSize = statSync(join(state, cut)).size;
        const fullSize = statSync(newest).size;
        t.diagnostic(`cut ${cut} at ${cutSize} of ~${fullSize} bytes`);
        assert.match(cut, new RegExp(`^\\.snapshot-${complete[0] + 1}\\.bin\\.`));
        // Every complete snapshot is whole and loadable: none was ever a partial file. Those
        // begun after the last device arrived hold them all.
        for (const seq of complete) {
          const engine = new GatewayEngine(config);
          const report = engine.restore(new Uint8Array(readFileSync(store.pathOf(seq))));
          if (seq >= seqAfterScoring + 2) assert.equal(report.devices, DEVICES, `snapshot-${seq}`);
        }

        const next = startChild(args);
        children.push(next);
        await until(() => /mqtt: subscribed/.test(next.log.text), "the next start to subscribe");
        assert.ok(
          next.log.text.includes(`snapshot: removed ${join(state, cut)}, a write cut short`),
          next.log.text,
        );
        assert.ok(
          next.log.text.includes(`snapshot: resumed ${DEVICES} device(s) from ${newest} `),
          next.log.text,
        );
        assert.doesNotMatch(next.log.text, /passed over/);
        assert.ok(!temporaryFiles(state).includes(cut), "the cut write is gone");

        const seqBeforeStop = store.sequences()[0];
        next.process.kill("SIGTERM");
        const code = await next.exited;
        // Deno's child_process reports a child that exited 0 after a SIGTERM as code null.
        if (code !== null) assert.equal(code, 0, next.log.text);
        const final = store.sequences()[0];
        assert.ok(final > seqBeforeStop, "a final snapshot was written");
        const engine = new GatewayEngine(config);
        assert.equal(
          engine.restore(new Uint8Array(readFileSync(store.pathOf(final)))).devices,
          DEVICES,
        );
        assert.deepEqual(temporaryFiles(state), []);
      } finally {
        for (const child of children) child.process.kill("SIGKILL");
        await Promise.all(children.map((child) => child.exited));
        await sensor.endAsync(true);
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
