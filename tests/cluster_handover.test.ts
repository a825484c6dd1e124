// Cluster mode end to end: three NATS nodes and three `foxtail run` instances share the fleet.
// Every input sequence is scored, each device by one instance; after `kill -9` of an instance its
// partitions are scored again by the others from its snapshots plus the stream, and every score
// (re-emits included) equals what one uninterrupted engine gives on the same inputs; a fourth
// instance joining takes its share with the same guarantee.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import mqtt from "mqtt";
import { referenceScores } from "./support/cluster_reference.ts";
import { type NatsCluster, startNatsCluster, writeInstanceConfig } from "./support/nats_cluster.ts";
import { CLI, runtimeCommand } from "./support/run_cli.ts";
import { SensorSignal } from "./support/gateway_fixtures.ts";
import { ROOT } from "./support/shared.ts";

const PARTITIONS = 12;
const DEVICES = 8;
const WAIT_MS = 60_000;

/** Polls `check` until it holds; a check that throws (the cluster electing) is tried again. */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let last = "";
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = `: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A free loopback port (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One `foxtail run` instance: its process and what it logged. */
class Instance {
  readonly child: ChildProcess;
  log = "";
  readonly exited: Promise<number | null>;
  readonly id: string;
  constructor(id: string, configPath: string) {
    this.id = id;
    const [command, prefix] = runtimeCommand(CLI);
    this.child = spawn(command, [...prefix, "run", "--config", configPath], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child.stderr!.on("data", (chunk) => this.log += chunk.toString());
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }
  joined(): Promise<void> {
    return until(() => this.log.includes(`instance ${this.id} joined`), `${this.id} to join`);
  }
}

/** gw<N>'s configuration: leases of 2 s renewed every 0.5 s, a snapshot a second. */
function writeConfig(dir: string, cluster: NatsCluster, id: string, dashboardPort = 0): string {
  const timing = { partitions: PARTITIONS, leaseSeconds: 2, renewSeconds: 0.5, snapshotSeconds: 1 };
  const dashboard = dashboardPort === 0 ? {} : { dashboard: { port: dashboardPort } };
  return writeInstanceConfig(dir, cluster, id, timing, dashboard);
}

/** Every score published, by input sequence (a re-emit adds a second entry). */
class ScoreLog {
  readonly bySeq = new Map<number, number[]>();
  constructor(nc: NatsConnection) {
    const sub = nc.subscribe("foxtail.*.score");
    (async () => {
      for await (const m of sub) {
        const { seq, score } = m.json<{ seq: number; score: number }>();
        const list = this.bySeq.get(seq) ?? [];
        list.push(score);
        this.bySeq.set(seq, list);
      }
    })();
  }
  scoredUpTo(last: number): boolean {
    for (let s = 1; s <= last; s++) if (!this.bySeq.has(s)) return false;
    return true;
  }
}

/** Publishes `count` readings of every device through MQTT QoS 1 (acknowledged each). */
async function publish(cluster: NatsCluster, url: string, signals: SensorSignal[], count: number) {
  const client = await mqtt.connectAsync(url, {
    username: cluster.publisher.user,
    password: cluster.publisher.password,
    reconnectPeriod: 0,
  });
  try {
    for (let k = 0; k < count; k++) {
      await Promise.all(
        signals.map((signal, d) =>
          client.publishAsync(`sensors/dev${d}/telemetry`, Buffer.from(signal.next()), { qos: 1 })
        ),
      );
    }
  } finally {
    await client.endAsync();
  }
}

function assertSameScores(log: ScoreLog, reference: Map<number, number>, upTo: number): number {
  let reemits = 0;
  for (let s = 1; s <= upTo; s++) {
    const scores = log.bySeq.get(s);
    assert.ok(scores !== undefined, `sequence ${s} scored`);
    reemits += scores.length - 1;
    for (const score of scores) {
      assert.equal(score, reference.get(s), `sequence ${s}: the same score as one engine`);
    }
  }
  return reemits;
}

describe("cluster mode: three NATS nodes, three instances", () => {
  test(
    "one owner per device; kill -9 and a fourth instance change no score",
    { timeout: 240_000 },
    async () => {
      const cluster = await startNatsCluster({ nodes: 3, partitions: PARTITIONS });
      const dir = mkdtempSync(join(tmpdir(), "foxtail-cluster-"));
      const instances: Instance[] = [];
      const nc = await connect({
        servers: [...cluster.clientUrls],
        user: cluster.gateway.user,
        pass: cluster.gateway.password,
      });
      try {
        const log = new ScoreLog(nc);
        const dashboardPort = await freePort();
        for (const id of ["gw1", "gw2", "gw3"]) {
          const port = id === "gw1" ? dashboardPort : 0;
          instances.push(new Instance(id, writeConfig(dir, cluster, id, port)));
        }
        await Promise.all(instances.map((i) => i.joined()));
        // Wait until the three hold every partition between them, evenly.
        await until(
          () => instances.every((i) => /partition \d+: taken/.test(i.log)),
          "every instance to take partitions",
        );
        const signals = Array.from({ length: DEVICES }, (_, d) => new SensorSignal(100 + d));

        // Phase 1: each input scored exactly once.
        await publish(cluster, cluster.mqttUrls[0], signals, 150);
        let total = 150 * DEVICES;
        await until(() => log.scoredUpTo(total), "phase 1 scored");
        await nc.flush();
        for (let s = 1; s <= total; s++) {
          assert.equal(log.bySeq.get(s)!.length, 1, `sequence ${s} scored by one instance`);
        }

        // Phase 2: gw3 is killed; its partitions are taken over from snapshots and the stream.
        instances[2].child.kill("SIGKILL");
        await instances[2].exited;
        await publish(cluster, cluster.mqttUrls[1], signals, 150);
        total += 150 * DEVICES;
        await until(() => log.scoredUpTo(total), "phase 2 scored after the kill");

        // Phase 3: gw4 joins and takes its share by graceful handover.
        const gw4 = new Instance("gw4", writeConfig(dir, cluster, "gw4"));
        instances.push(gw4);
        await gw4.joined();
        await until(() => /partition \d+: taken/.test(gw4.log), "gw4 to take partitions");
        await publish(cluster, cluster.mqttUrls[2], signals, 150);
        total += 150 * DEVICES;
        await until(() => log.scoredUpTo(total), "phase 3 scored after the rebalance");

        const reference = await referenceScores(nc);
        assert.equal(reference.size, total, "one engine scores every input");
        const reemits = assertSameScores(log, reference, total);
        assert.ok(
          /handed over/.test(instances[0].log + instances[1].log),
          "a survivor handed partitions to gw4",
        );
        // gw1's dashboard shows the cluster as it is now.
        const status = await (await fetch(`http://127.0.0.1:${dashboardPort}/api/status`)).json();
        assert.equal(status.cluster.instance, "gw1");
        assert.equal(status.cluster.partitions.length, PARTITIONS);
        assert.ok(status.cluster.held.length >= 1, JSON.stringify(status.cluster.held));
        await until(async () => {
          const s = await (await fetch(`http://127.0.0.1:${dashboardPort}/api/status`)).json();
          return JSON.stringify(s.cluster.members) === JSON.stringify(["gw1", "gw2", "gw4"]);
        }, "the members without the killed gw3");
        assert.ok(status.cluster.lastHandover !== null);
        assert.ok(status.counters.accepted > 0);

        // The survivors stop gracefully: every partition handed over, exit code 0.
        for (const i of [instances[0], instances[1], gw4]) i.child.kill("SIGTERM");
        for (const i of [instances[0], instances[1], gw4]) {
          const code = await i.exited;
          // Deno's child_process reports a child that exited 0 after a SIGTERM as code null.
          if (code !== null || !("Deno" in globalThis)) assert.equal(code, 0, i.log);
          assert.match(i.log, /foxtail run: stopped; [1-9]\d* messages/, i.log);
        }
        console.log(`cluster handover: ${total} inputs, ${reemits} identical re-emits`);
      } catch (error) {
        for (const i of instances) console.error(`--- ${i.id}\n${i.log.slice(-4000)}`);
        throw error;
      } finally {
        for (const i of instances) i.child.kill("SIGKILL");
        await nc.close();
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
