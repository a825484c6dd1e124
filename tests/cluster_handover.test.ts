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
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { SENSOR_INBOX_PREFIX, TELEMETRY_STREAM } from "../adapters/cluster/mod.ts";
import mqtt from "mqtt";
import { referenceScores, type StreamMessage } from "./support/cluster_reference.ts";
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

/** What {@linkcode withCluster} gives a test. */
interface ClusterTest {
  cluster: NatsCluster;
  /** The instances' configuration folder. */
  dir: string;
  /** The instances the test starts: killed at the end, their logs shown on a failure. */
  instances: Instance[];
  /** The test's connection, with the gateway's user. */
  nc: NatsConnection;
}

/**
 * Runs `body` on a fresh three-node cluster with a connection to `servers` (default: every
 * node); on a failure prints the instances' logs (and the nodes' with `nodeLogs`); kills the
 * instances and removes the cluster and the folder whatever happens.
 */
async function withCluster(
  options: { servers?: (cluster: NatsCluster) => string[]; nodeLogs?: boolean },
  body: (t: ClusterTest) => Promise<void>,
): Promise<void> {
  const cluster = await startNatsCluster({ nodes: 3, partitions: PARTITIONS });
  const dir = mkdtempSync(join(tmpdir(), "foxtail-cluster-"));
  const instances: Instance[] = [];
  const nc = await connect({
    servers: options.servers?.(cluster) ?? [...cluster.clientUrls],
    user: cluster.gateway.user,
    pass: cluster.gateway.password,
  });
  try {
    await body({ cluster, dir, instances, nc });
  } catch (error) {
    for (const i of instances) console.error(`--- ${i.id}\n${i.log.slice(-4000)}`);
    if (options.nodeLogs) {
      for (let n = 0; n < 3; n++) console.error(`--- n${n + 1}\n${cluster.log(n).slice(-3000)}`);
    }
    throw error;
  } finally {
    for (const i of instances) i.child.kill("SIGKILL");
    await nc.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
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

/** Readings published until stopped; `acked` holds `device/k` with when it was acknowledged. */
interface Publisher {
  acked: Map<string, number>;
  stop(): Promise<void>;
}

/** The reading number `k` of device `d`, tagged so it can be found in the stream. */
function reading(signal: SensorSignal, d: number, k: number): string {
  const [t, h, v] = signal.values();
  return JSON.stringify({ d, k, t, h, power: { v } });
}

/** Publishes rounds of readings (one per device) until stopped, a few milliseconds apart. */
function publishRounds(
  connectAndPublish: () => Promise<{
    send: (d: number, body: string) => Promise<boolean>;
    close: () => Promise<void>;
  }>,
  signals: SensorSignal[],
  firstDevice: number,
): Publisher {
  const acked = new Map<string, number>();
  let stopping = false;
  const done = (async () => {
    const { send, close } = await connectAndPublish();
    try {
      for (let k = 0; !stopping; k++) {
        await Promise.all(signals.map(async (signal, i) => {
          const d = firstDevice + i;
          if (await send(d, reading(signal, d, k))) acked.set(`${d}/${k}`, Date.now());
        }));
        await new Promise((resolve) => setTimeout(resolve, 5)); // a steady stream, not a flood
      }
    } finally {
      await close();
    }
  })();
  return {
    acked,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

/** MQTT QoS 1 publishes; a reading counts as acknowledged on its PUBACK. */
function mqttPublisher(cluster: NatsCluster, url: string, signals: SensorSignal[], first: number) {
  return publishRounds(
    async () => {
      const client = await mqtt.connectAsync(url, {
        username: cluster.publisher.user,
        password: cluster.publisher.password,
        reconnectPeriod: 1000,
      });
      return {
        send: async (d, body) => {
          try {
            await client.publishAsync(`sensors/dev${d}/telemetry`, body, { qos: 1 });
            return true;
          } catch {
            return false; // not acknowledged: never accepted
          }
        },
        close: () => client.endAsync(),
      };
    },
    signals,
    first,
  );
}

/**
 * JetStream publishes with the sensors' credentials: a reading counts as acknowledged when the
 * stream's acknowledgement comes back (stored on a majority of its replicas); one that gets
 * none is sent again under the same message id, which the stream deduplicates.
 */
function jetStreamPublisher(
  cluster: NatsCluster,
  url: string,
  signals: SensorSignal[],
  first: number,
) {
  return publishRounds(
    async () => {
      const nc = await connect({
        servers: url,
        user: cluster.publisher.user,
        pass: cluster.publisher.password,
        inboxPrefix: SENSOR_INBOX_PREFIX,
      });
      const js = jetstream(nc, { timeout: 2000 });
      let closing = false;
      return {
        send: async (d, body) => {
          const msgID = `${d}/${JSON.parse(body).k}`;
          for (;;) {
            try {
              await js.publish(`sensors.dev${d}.telemetry`, body, { msgID });
              return true;
            } catch {
              if (closing) return false;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        },
        close: async () => {
          closing = true;
          await nc.close();
        },
      };
    },
    signals,
    first,
  );
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
    () =>
      withCluster({}, async ({ cluster, dir, instances, nc }) => {
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
      }),
  );
  test(
    "a NATS node killed mid-stream (the stream's leader) loses no accepted message",
    { timeout: 240_000 },
    () =>
      // The test's own connection stays on n1, which is never killed: scores are core NATS
      // messages, which a subscriber reconnecting to another node would miss.
      withCluster(
        { servers: (c) => [c.clientUrls[0]], nodeLogs: true },
        async ({ cluster, dir, instances, nc }) => {
          const log = new ScoreLog(nc);
          const ports: number[] = [];
          for (const id of ["gw1", "gw2", "gw3"]) {
            const port = await freePort();
            ports.push(port);
            instances.push(new Instance(id, writeConfig(dir, cluster, id, port)));
          }
          await Promise.all(instances.map((i) => i.joined()));
          await until(
            () => instances.every((i) => /partition \d+: taken/.test(i.log)),
            "every instance to take partitions",
          );
          const jsm = await jetstreamManager(nc);
          const leaderOf = async () => (await jsm.streams.info(TELEMETRY_STREAM)).cluster?.leader;
          // The stream's leader is the node to kill; when it is n1, it is asked to step down.
          await until(async () => {
            if (await leaderOf() !== "n1") return true;
            await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${TELEMETRY_STREAM}`);
            return false;
          }, "the stream's leader on n2 or n3");
          const leader = await leaderOf();
          const victim = Number(leader?.slice(1)) - 1; // the nodes are named n1…n3
          assert.ok(victim === 1 || victim === 2, `the stream's leader: ${leader}`);
          const signals = Array.from({ length: DEVICES }, (_, d) => new SensorSignal(200 + d));
          const half = DEVICES / 2;
          // Half the devices publish through MQTT, half through JetStream, both via a survivor.
          const through = 3 - victim;
          const viaMqtt = mqttPublisher(
            cluster,
            cluster.mqttUrls[through],
            signals.slice(0, half),
            0,
          );
          const viaJetStream = jetStreamPublisher(
            cluster,
            cluster.clientUrls[through],
            signals.slice(half),
            half,
          );
          // Both publishers under way before the kill: an MQTT client's first connection makes
          // nats-server 2.9 create the account's $MQTT_ streams (replicated on every node), and a
          // node killed meanwhile holds the CONNACK back by 10 to 20 s of JetStream API timeouts,
          // which left the MQTT publisher with nothing acknowledged (seen under Bun, whose client
          // connected later than the JetStream one reached its first readings).
          await until(
            () => viaMqtt.acked.size >= 200 && viaJetStream.acked.size >= 200,
            "readings of both publishers before the kill",
          );
          const killedAt = Date.now();
          await cluster.kill(victim);
          const mqttAtKill = viaMqtt.acked.size;
          const jetStreamAtKill = viaJetStream.acked.size;
          // Publishing goes on well past the stream's election (a new leader within seconds).
          await until(
            () =>
              Date.now() - killedAt > 15_000 && viaMqtt.acked.size >= mqttAtKill + 200 &&
              viaJetStream.acked.size >= jetStreamAtKill + 200,
            "more readings of both publishers",
          );
          await Promise.all([viaMqtt.stop(), viaJetStream.stop()]);

          // Every stored reading is scored, with the score one uninterrupted engine gives.
          const last = async () => (await jsm.streams.info(TELEMETRY_STREAM)).state.last_seq;
          await until(
            async () => log.scoredUpTo(await last()),
            "every stored reading scored",
          ).catch(async (error) => {
            const upTo = await last();
            for await (const ci of jsm.consumers.list(TELEMETRY_STREAM)) {
              console.error(
                `diagnosis: consumer ${ci.name} filter ${ci.config.filter_subject} delivered ${
                  JSON.stringify(ci.delivered)
                } pending ${ci.num_pending} waiting ${ci.num_waiting} leader ${ci.cluster?.leader} replicas ${
                  JSON.stringify(ci.cluster?.replicas?.map((r) => r.name))
                }`,
              );
            }
            const missing: number[] = [];
            for (let s = 1; s <= upTo; s++) if (!log.bySeq.has(s)) missing.push(s);
            for (const seq of missing.slice(0, 3)) {
              console.error(
                `diagnosis: missing ${seq}: ${
                  (await jsm.streams.getMessage(TELEMETRY_STREAM, { seq }))?.subject
                }`,
              );
            }
            for (const port of ports) {
              const st = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json();
              console.error(
                `diagnosis: ${st.cluster.instance} held ${st.cluster.held} restarts ${st.cluster.consumerRestarts} resent ${st.cluster.outputsResent} parts ${
                  JSON.stringify(
                    st.cluster.partitions.filter((x: { lag: number | null }) => x.lag !== null),
                  )
                }`,
              );
            }
            throw new Error(
              `${error.message}: ${missing.length} of ${upTo} not scored, first ${
                missing.slice(0, 10)
              }`,
            );
          });
          const messages = new Map<number, StreamMessage>();
          let reference = new Map<number, number>();
          await until(async () => {
            reference = await referenceScores(nc, messages);
            return true;
          }, "the reference scores");
          const reemits = assertSameScores(log, reference, await last());

          // No reading the stream acknowledged is lost.
          const stored = new Set<string>();
          let firstStoredAfterKill = Number.POSITIVE_INFINITY;
          for (const { body, at } of messages.values()) {
            const { d, k } = JSON.parse(body);
            stored.add(`${d}/${k}`);
            if (at > killedAt) firstStoredAfterKill = Math.min(firstStoredAfterKill, at);
          }
          const lostOf = (p: Publisher) => [...p.acked.keys()].filter((id) => !stored.has(id));
          const lost = lostOf(viaJetStream);
          assert.deepEqual(
            lost.slice(0, 20),
            [],
            `${lost.length} acknowledged JetStream readings lost`,
          );
          assert.ok(
            viaJetStream.acked.size >= 200,
            `${viaJetStream.acked.size} JetStream readings`,
          );
          // MQTT QoS 1: nats-server acknowledges a publish once it has taken it, not once the stream
          // has stored it, so readings acknowledged while the stream has no leader are lost. They
          // are exactly those of the election: none acknowledged after its new leader stored one.
          const mqttLost = lostOf(viaMqtt);
          const window = firstStoredAfterKill - killedAt;
          for (const id of mqttLost) {
            const at = viaMqtt.acked.get(id)! - killedAt;
            assert.ok(
              at > -1000 && at < window + 1000,
              `${id} acknowledged ${at} ms after the kill`,
            );
          }
          console.log(
            `NATS node kill (${leader}, the stream's leader): a new leader stored after ${window} ms; ` +
              `JetStream: ${viaJetStream.acked.size} acknowledged, none lost; MQTT QoS 1: ` +
              `${viaMqtt.acked.size} acknowledged, ${mqttLost.length} lost, all in the election; ` +
              `every stored reading scored as one engine scores it (${reemits} identical re-emits)`,
          );
        },
      ),
  );
});
