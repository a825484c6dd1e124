/**
 * Cluster mode end to end, on one 3-node loopback NATS cluster (with users, as the tests run it)
 * and `foxtail run` instances in child processes of the bench's own runtime:
 *
 * 1. Throughput: messages/s scored end to end with 1, 2 and 3 instances. For each count the
 *    instances start, take the partitions between them (their `partition N: taken` lines) and
 *    score one probe reading of every device (so any replay is over); then a batch of
 *    `--messages` readings over `--devices` fresh devices is published through MQTT QoS 1 by
 *    `--publishers` connections, each with `--inflight` publishes pipelined. Timed from the first
 *    publish to the moment every stream sequence of the batch has a score on `foxtail.*.score`;
 *    the publish rate alone (first publish to last PUBACK) is shown beside it.
 * 2. Handover: with 3 instances and a steady trickle (one reading per device every
 *    `--trickle-ms` at most: a round starts once the previous one is acknowledged, so the trickle
 *    never outruns the cluster), one instance is `kill -9`ed, `--trials` times. Timed from the
 *    kill to the first score of new input (a sequence above the stream's end when the killed
 *    process had exited, so none of its own last scores) in a partition the
 *    killed instance held, and to the moment every such partition (holding trickle devices) has
 *    one; also to the last survivor's `taken` line. A replacement joins after each trial, and the
 *    next waits until the partitions are balanced again and every one scores new input.
 * 3. Replay: every instance stopped, `--replay` readings published, then one instance started;
 *    messages/s from its first `taken` line (and from its spawn) to every sequence scored.
 *
 * Usage: `<runtime> bench/cluster.ts [--messages N] [--devices N] [--publishers N]
 * [--inflight N] [--partitions N] [--trials N] [--lease-seconds S] [--renew-seconds S]
 * [--trickle-ms MS] [--replay N] [--json]`, or `npm run -s bench -- cluster`.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import mqtt, { type MqttClient } from "mqtt";
import { devicePartition } from "../core/cluster/mod.ts";
import { TELEMETRY_STREAM } from "../adapters/cluster/mod.ts";
import {
  type NatsCluster,
  startNatsCluster,
  writeInstanceConfig,
} from "../tests/support/nats_cluster.ts";
import { CLI, runtimeCommand } from "../tests/support/run_cli.ts";
import { SensorSignal } from "../tests/support/gateway_fixtures.ts";
import { ROOT } from "../tests/support/shared.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    devices: { type: "string", default: "64" },
    publishers: { type: "string", default: "4" },
    inflight: { type: "string", default: "256" },
    partitions: { type: "string", default: "12" },
    trials: { type: "string", default: "10" },
    "lease-seconds": { type: "string", default: "2" },
    "renew-seconds": { type: "string" },
    "trickle-ms": { type: "string", default: "20" },
    replay: { type: "string", default: "20000" },
    json: { type: "boolean" },
  },
});

function whole(name: string, min: number): number {
  const raw = (values as Record<string, unknown>)[name] as string;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name}: expected a whole number of at least ${min}, got ${raw}`);
    process.exit(2);
  }
  return n;
}
function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name}: expected a positive number, got ${raw}`);
    process.exit(2);
  }
  return n;
}

const MESSAGES = whole("messages", 1);
const DEVICES = whole("devices", 1);
const PUBLISHERS = whole("publishers", 1);
const INFLIGHT = whole("inflight", 1);
const PARTITIONS = whole("partitions", 1);
const TRIALS = whole("trials", 0);
const REPLAY = whole("replay", 0);
const LEASE_SECONDS = positive("lease-seconds", values["lease-seconds"]!);
const RENEW_SECONDS = values["renew-seconds"] === undefined
  ? LEASE_SECONDS / 4
  : positive("renew-seconds", values["renew-seconds"]);
const TRICKLE_MS = positive("trickle-ms", values["trickle-ms"]!);
if (RENEW_SECONDS >= LEASE_SECONDS) {
  console.error("--renew-seconds must be below --lease-seconds");
  process.exit(2);
}
/** Longest wait for any one event (instances joining, a batch scored). */
const WAIT_MS = 180_000;
/** Instance counts of the throughput part. */
const COUNTS = [1, 2, 3];

const progress = (line: string) => {
  if (!values.json || process.stderr.isTTY) process.stderr.write(`cluster bench: ${line}\n`);
};

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One `foxtail run` instance: its process, its log, and the partitions its log says it holds. */
class Instance {
  readonly id: string;
  readonly child: ChildProcess;
  readonly spawnedAt = performance.now();
  readonly held = new Set<number>();
  /** When each partition was last taken (performance.now() as the line arrived). */
  readonly takenAt = new Map<number, number>();
  firstTakenAt: number | undefined;
  joined = false;
  log = "";
  #partial = "";
  exitCode: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  constructor(id: string, configPath: string) {
    this.id = id;
    const [command, prefix] = runtimeCommand(CLI);
    this.child = spawn(command, [...prefix, "run", "--config", configPath], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (text: string) => this.#read(text));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      })
    );
  }

  #read(text: string): void {
    const now = performance.now();
    this.log = (this.log + text).slice(-1 << 16);
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) {
      const m = /^partition (\d+): (taken|handed over|stopped)/.exec(line);
      if (m !== null) {
        const k = Number(m[1]);
        if (m[2] === "taken") {
          this.held.add(k);
          this.takenAt.set(k, now);
          this.firstTakenAt ??= now;
        } else {
          this.held.delete(k);
        }
      } else if (line.includes(`instance ${this.id} joined`)) {
        this.joined = true;
      }
    }
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** SIGTERM (hands its partitions over), then its exit; SIGKILL after a minute. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    try {
      await within(this.exited, `${this.id} to exit after SIGTERM`, 60_000);
    } catch (error) {
      this.child.kill("SIGKILL");
      await this.exited;
      throw error;
    }
  }
}

/** Every live instance holds its share (⌊P/n⌋ at least) and every partition has one owner. */
function balanced(live: readonly Instance[]): boolean {
  if (live.length === 0) return false;
  const quota = Math.floor(PARTITIONS / live.length);
  const all = new Set<number>();
  let sum = 0;
  for (const i of live) {
    if (!i.alive || !i.joined || i.held.size < quota) return false;
    for (const k of i.held) all.add(k);
    sum += i.held.size;
  }
  return all.size === PARTITIONS && sum === PARTITIONS;
}

interface Batch {
  base: number;
  seen: Uint8Array;
  count: number;
  done: (at: number) => void;
}

interface PartitionWatch {
  after: number;
  pending: Set<number>;
  first: number | undefined;
  onFirst: (at: number) => void;
  onAll: (at: number) => void;
}

/** The scores on `foxtail.*.score`: batches waiting for their sequences, partitions watched. */
class ScoreSink {
  maxSeq = 0;
  received = 0;
  readonly #partitionOf = new Map<string, number>();
  readonly #batches = new Set<Batch>();
  readonly #watches = new Set<PartitionWatch>();

  constructor(nc: NatsConnection) {
    nc.subscribe("foxtail.*.score", {
      callback: (error, m) => {
        if (error !== null) return;
        // The body starts `{"seq":N,`; the subject is `foxtail.<device>.score`.
        const seq = parseInt(m.string().slice(7), 10);
        this.#score(m.subject.slice(8, -6), seq);
      },
    });
  }

  #score(device: string, seq: number): void {
    const now = performance.now();
    this.received++;
    if (seq > this.maxSeq) this.maxSeq = seq;
    for (const b of this.#batches) {
      const i = seq - b.base - 1;
      if (i >= 0 && i < b.seen.length && b.seen[i] === 0) {
        b.seen[i] = 1;
        if (++b.count === b.seen.length) {
          this.#batches.delete(b);
          b.done(now);
        }
      }
    }
    if (this.#watches.size === 0) return;
    let k = this.#partitionOf.get(device);
    if (k === undefined) this.#partitionOf.set(device, k = devicePartition(device, PARTITIONS));
    for (const w of this.#watches) {
      if (seq <= w.after || !w.pending.has(k)) continue;
      if (w.first === undefined) {
        w.first = now;
        w.onFirst(now);
      }
      w.pending.delete(k);
      if (w.pending.size === 0) {
        this.#watches.delete(w);
        w.onAll(now);
      }
    }
  }

  /** Resolves with the time every sequence in (base, base + n] has a score. */
  batch(base: number, n: number): Promise<number> {
    return new Promise((resolve) => {
      if (n === 0) return resolve(performance.now());
      this.#batches.add({ base, seen: new Uint8Array(n), count: 0, done: resolve });
    });
  }

  /** When the first, and when every one, of `partitions` scores a sequence above `after`. */
  watch(
    partitions: Iterable<number>,
    after: number,
  ): { first: Promise<number>; all: Promise<number> } {
    let onFirst!: (at: number) => void, onAll!: (at: number) => void;
    const first = new Promise<number>((resolve) => onFirst = resolve);
    const all = new Promise<number>((resolve) => onAll = resolve);
    const pending = new Set(partitions);
    if (pending.size === 0) {
      const now = performance.now();
      onFirst(now);
      onAll(now);
    } else this.#watches.add({ after, pending, first: undefined, onFirst, onAll });
    return { first, all };
  }
}

/** The devices of one part of the bench: fresh ids, each with its own deterministic signal. */
function fleet(tag: string, seed: number): { names: string[]; signals: SensorSignal[] } {
  const names = Array.from({ length: DEVICES }, (_, d) => `${tag}-${d}`);
  return { names, signals: names.map((_, d) => new SensorSignal(seed + d)) };
}

function partitionsOf(names: readonly string[]): Set<number> {
  return new Set(names.map((n) => devicePartition(n, PARTITIONS)));
}

async function mqttClient(cluster: NatsCluster, url: string): Promise<MqttClient> {
  return await mqtt.connectAsync(url, {
    username: cluster.publisher.user,
    password: cluster.publisher.password,
    reconnectPeriod: 0,
  });
}

/**
 * Publishes `total` readings (device `i % D` for the i-th) through `clients`, device d through
 * client `d % C` so each device's readings stay in order, `INFLIGHT` unacknowledged per client.
 * Returns when the first was sent and the last acknowledged.
 */
async function publishBatch(
  clients: readonly MqttClient[],
  devices: { names: string[]; signals: SensorSignal[] },
  total: number,
): Promise<{ start: number; end: number }> {
  const C = clients.length, D = devices.names.length;
  const work: { topic: string; payload: Buffer }[][] = clients.map(() => []);
  for (let i = 0; i < total; i++) {
    const d = i % D;
    work[d % C].push({
      topic: `sensors/${devices.names[d]}/telemetry`,
      payload: Buffer.from(devices.signals[d].next()),
    });
  }
  const start = performance.now();
  await Promise.all(clients.map(async (client, c) => {
    let active = 0;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const settle = () => {
      active--;
      const w = wake;
      wake = undefined;
      w?.();
    };
    for (const { topic, payload } of work[c]) {
      while (active >= INFLIGHT) await new Promise<void>((resolve) => wake = resolve);
      if (failure !== undefined) throw failure;
      active++;
      client.publishAsync(topic, payload, { qos: 1 }).then(settle, (error) => {
        failure ??= error;
        settle();
      });
    }
    while (active > 0) await new Promise<void>((resolve) => wake = resolve);
    if (failure !== undefined) throw failure;
  }));
  return { start, end: performance.now() };
}

/** One reading per device every `TRICKLE_MS`, through one connection, until stopped. */
function trickle(client: MqttClient, devices: { names: string[]; signals: SensorSignal[] }) {
  let stopping = false;
  let sent = 0, failed = 0;
  const done = (async () => {
    while (!stopping) {
      const started = performance.now();
      await Promise.all(devices.names.map(async (name, d) => {
        try {
          await client.publishAsync(
            `sensors/${name}/telemetry`,
            Buffer.from(devices.signals[d].next()),
            { qos: 1 },
          );
          sent++;
        } catch {
          failed++;
        }
      }));
      const rest = TRICKLE_MS - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest)); // the pacing
    }
  })();
  return {
    stats: () => ({ sent, failed }),
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

interface ThroughputRow {
  instances: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  publishPerSecond: number;
  startSeconds: number;
  afterLastAckMs: number;
}

interface HandoverTrial {
  victim: string;
  partitions: number[];
  firstMs: number;
  allMs: number;
  takenMs: number;
}

const stats = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  const median = s.length === 0
    ? NaN
    : s.length % 2 === 1
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { min: s[0] ?? NaN, median, max: s[s.length - 1] ?? NaN };
};

const started = new Date();
const cluster = await startNatsCluster({ nodes: 3, partitions: PARTITIONS });
const dir = mkdtempSync(join(tmpdir(), "foxtail-bench-cluster-"));
const instances: Instance[] = [];
const clients: MqttClient[] = [];
let nc: NatsConnection | undefined;
let trickling: ReturnType<typeof trickle> | undefined;
const killAll = () => instances.forEach((i) => i.alive && i.child.kill("SIGKILL"));
process.once("exit", killAll);

function launch(id: string): Instance {
  const timing = {
    partitions: PARTITIONS,
    leaseSeconds: LEASE_SECONDS,
    renewSeconds: RENEW_SECONDS,
    snapshotSeconds: 1,
  };
  const path = writeInstanceConfig(dir, cluster, id, timing, {
    snapshots: { dir: join(dir, "state"), intervalSeconds: 0, keep: 3 },
    limits: { maxDevices: 4096, queueCapacity: 64, historyPoints: 32 },
  });
  const instance = new Instance(id, path);
  instances.push(instance);
  return instance;
}

const live = () => instances.filter((i) => i.alive);

async function waitBalanced(group: readonly Instance[], what: string): Promise<void> {
  await until(() => {
    const dead = group.find((i) => !i.alive);
    if (dead !== undefined) throw new Error(`${dead.id} exited (${dead.exitCode}):\n${dead.log}`);
    return balanced(group);
  }, what);
}

try {
  nc = await connect({
    servers: [...cluster.clientUrls],
    user: cluster.gateway.user,
    pass: cluster.gateway.password,
  });
  const sink = new ScoreSink(nc);
  const jsm = await jetstreamManager(nc);
  const lastSeq = async () => (await jsm.streams.info(TELEMETRY_STREAM)).state.last_seq;
  for (let c = 0; c < PUBLISHERS; c++) {
    clients.push(await mqttClient(cluster, cluster.mqttUrls[c % cluster.mqttUrls.length]));
  }

  // 1. Throughput with 1, 2, 3 instances.
  const throughput: ThroughputRow[] = [];
  for (const n of COUNTS) {
    const spawnedAt = performance.now();
    const group = Array.from({ length: n }, (_, i) => launch(`t${n}-${i + 1}`));
    await waitBalanced(group, `${n} instance(s) to hold every partition`);
    const devices = fleet(`t${n}`, 1000 * n);
    // One probe reading per device: scored once any replay of the partitions is over.
    const probeBase = await lastSeq();
    const probed = sink.batch(probeBase, DEVICES);
    await publishBatch(clients, devices, DEVICES);
    await within(probed, `the probe readings scored by ${n} instance(s)`);
    const startSeconds = (performance.now() - spawnedAt) / 1000;
    const base = await lastSeq();
    const scored = sink.batch(base, MESSAGES);
    progress(`${n} instance(s): publishing ${MESSAGES} readings`);
    const { start, end } = await publishBatch(clients, devices, MESSAGES);
    const doneAt = await within(scored, `${MESSAGES} readings scored by ${n} instance(s)`);
    const stored = await lastSeq();
    if (stored !== base + MESSAGES) {
      throw new Error(`the stream holds ${stored - base} of the ${MESSAGES} readings published`);
    }
    const seconds = (doneAt - start) / 1000;
    throughput.push({
      instances: n,
      messages: MESSAGES,
      seconds,
      messagesPerSecond: MESSAGES / seconds,
      publishPerSecond: MESSAGES / ((end - start) / 1000),
      startSeconds,
      afterLastAckMs: doneAt - end,
    });
    progress(`${n} instance(s): ${Math.round(MESSAGES / seconds)} messages/s`);
    await Promise.all(group.map((i) => i.stop()));
  }

  // 2. Handover after kill -9, with a trickle of readings.
  const trials: HandoverTrial[] = [];
  let trickleRate = 0;
  if (TRIALS > 0) {
    let next = 1;
    const group = [launch(`h${next++}`), launch(`h${next++}`), launch(`h${next++}`)];
    await waitBalanced(group, "3 instances to hold every partition");
    const devices = fleet("h", 5000);
    const covered = partitionsOf(devices.names);
    const trickleClient = await mqttClient(cluster, cluster.mqttUrls[0]);
    clients.push(trickleClient);
    trickling = trickle(trickleClient, devices);
    const trickleStart = performance.now();
    await within(sink.watch(covered, await lastSeq()).all, "the trickle scored in every partition");
    for (let t = 0; t < TRIALS; t++) {
      const survivors = live();
      const victim = survivors[t % survivors.length];
      const held = [...victim.held].sort((a, b) => a - b);
      const watched = held.filter((k) => covered.has(k));
      const before = sink.maxSeq;
      const killedAt = performance.now();
      victim.child.kill("SIGKILL");
      await victim.exited;
      // The victim cannot have scored past the stream's end at its death; its last scores may
      // still be on their way, so "new input" is above that end (well before any lease expires).
      const watch = sink.watch(watched, Math.max(before, await lastSeq()));
      const first = await within(watch.first, `new input scored in ${victim.id}'s partitions`);
      const all = await within(
        watch.all,
        `new input scored in every one of ${victim.id}'s partitions`,
      );
      const others = live();
      await until(() => held.every((k) => others.some((i) => i.held.has(k))), "the takeover logs");
      const takenMs = Math.max(
        ...held.map((k) => Math.max(...others.map((i) => i.held.has(k) ? i.takenAt.get(k)! : 0))),
      ) - killedAt;
      trials.push({
        victim: victim.id,
        partitions: held,
        firstMs: first - killedAt,
        allMs: all - killedAt,
        takenMs,
      });
      progress(
        `trial ${t + 1}: killed ${victim.id} (partitions ${held.join(",")}); new input scored ` +
          `after ${Math.round(first - killedAt)} ms, in all of them after ` +
          `${Math.round(all - killedAt)} ms`,
      );
      // A replacement, and the partitions balanced and scoring new input again.
      const replacement = launch(`h${next++}`);
      await waitBalanced([...others, replacement], `${replacement.id} to take its share`);
      await within(sink.watch(covered, await lastSeq()).all, "every partition scoring again");
    }
    const { sent } = trickling.stats();
    trickleRate = sent / ((performance.now() - trickleStart) / 1000);
    await trickling.stop();
    trickling = undefined;
    await Promise.all(live().map((i) => i.stop()));
  }

  // 3. Replay: readings published with no instance running, then one instance catches up.
  let replay: {
    messages: number;
    fromTakenPerSecond: number;
    fromSpawnPerSecond: number;
    seconds: number;
    spawnToTakenSeconds: number;
    publishPerSecond: number;
  } | undefined;
  if (REPLAY > 0) {
    await Promise.all(live().map((i) => i.stop()));
    const devices = fleet("r", 9000);
    const base = await lastSeq();
    progress(`replay: publishing ${REPLAY} readings with no instance running`);
    const { start, end } = await publishBatch(clients, devices, REPLAY);
    await until(async () => (await lastSeq()) >= base + REPLAY, "the replay readings stored");
    const scored = sink.batch(base, REPLAY);
    const instance = launch("r1");
    const doneAt = await within(scored, `${REPLAY} readings replayed by one instance`);
    await until(() => instance.firstTakenAt !== undefined, "r1's first taken line");
    const fromTaken = (doneAt - instance.firstTakenAt!) / 1000;
    const fromSpawn = (doneAt - instance.spawnedAt) / 1000;
    replay = {
      messages: REPLAY,
      fromTakenPerSecond: REPLAY / fromTaken,
      fromSpawnPerSecond: REPLAY / fromSpawn,
      seconds: fromTaken,
      spawnToTakenSeconds: (instance.firstTakenAt! - instance.spawnedAt) / 1000,
      publishPerSecond: REPLAY / ((end - start) / 1000),
    };
    await instance.stop();
  }

  const ms = (xs: number[]) => {
    const s = stats(xs);
    return { min: Math.round(s.min), median: Math.round(s.median), max: Math.round(s.max) };
  };
  const result = {
    runtime: runtimeName(),
    date: started.toISOString(),
    cpus: typeof availableParallelism === "function" ? availableParallelism() : cpus().length,
    settings: {
      nodes: 3,
      partitions: PARTITIONS,
      devices: DEVICES,
      messages: MESSAGES,
      publishers: PUBLISHERS,
      inflight: INFLIGHT,
      leaseSeconds: LEASE_SECONDS,
      renewSeconds: RENEW_SECONDS,
      snapshotSeconds: 1,
      trials: TRIALS,
      trickleMs: TRICKLE_MS,
      replay: REPLAY,
    },
    throughput: throughput.map((r) => ({
      instances: r.instances,
      messages: r.messages,
      seconds: Number(r.seconds.toFixed(3)),
      messagesPerSecond: Math.round(r.messagesPerSecond),
      publishPerSecond: Math.round(r.publishPerSecond),
      startSeconds: Number(r.startSeconds.toFixed(2)),
      afterLastAckMs: Math.round(r.afterLastAckMs),
    })),
    handover: TRIALS === 0 ? null : {
      trials: trials.length,
      trickleReadingsPerSecond: Math.round(trickleRate),
      firstNewScoreMs: ms(trials.map((t) => t.firstMs)),
      allPartitionsMs: ms(trials.map((t) => t.allMs)),
      lastTakenMs: ms(trials.map((t) => t.takenMs)),
      each: trials.map((t) => ({
        victim: t.victim,
        partitions: t.partitions,
        firstMs: Math.round(t.firstMs),
        allMs: Math.round(t.allMs),
        takenMs: Math.round(t.takenMs),
      })),
    },
    replay: replay === undefined ? null : {
      messages: replay.messages,
      seconds: Number(replay.seconds.toFixed(3)),
      messagesPerSecond: Math.round(replay.fromTakenPerSecond),
      fromSpawnPerSecond: Math.round(replay.fromSpawnPerSecond),
      spawnToTakenSeconds: Number(replay.spawnToTakenSeconds.toFixed(2)),
      publishPerSecond: Math.round(replay.publishPerSecond),
    },
  };

  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    const f = (v: number) => (Math.round(v) + 0).toLocaleString("en-US"); // no "-0"
    const s = result.settings;
    console.log(
      `cluster mode, ${result.runtime}, ${result.date.slice(0, 10)}, ${result.cpus} CPUs; ` +
        `3 NATS nodes, ${s.partitions} partitions, ${s.devices} devices per part, leases of ` +
        `${s.leaseSeconds} s renewed every ${s.renewSeconds} s, snapshots every 1 s`,
    );
    console.log(
      `\nthroughput: ${f(MESSAGES)} readings per count, MQTT QoS 1 over ${PUBLISHERS} ` +
        `connections, ${INFLIGHT} in flight each`,
    );
    console.log(
      "instances  scored msg/s  publish msg/s  seconds  last ack->last score ms  start+probe s",
    );
    for (const r of result.throughput) {
      console.log(
        `${String(r.instances).padStart(9)}  ${f(r.messagesPerSecond).padStart(12)}  ` +
          `${f(r.publishPerSecond).padStart(13)}  ${r.seconds.toFixed(2).padStart(7)}  ` +
          `${f(r.afterLastAckMs).padStart(23)}  ${r.startSeconds.toFixed(2).padStart(13)}`,
      );
    }
    const h = result.handover;
    if (h !== null) {
      console.log(
        `\nhandover after kill -9 (${h.trials} trials, 3 instances, trickle ` +
          `${f(h.trickleReadingsPerSecond)} readings/s, lease ${s.leaseSeconds} s)`,
      );
      console.log(
        `${"(ms)".padEnd(42)}${"min".padStart(6)}${"median".padStart(8)}${"max".padStart(8)}`,
      );
      const row = (label: string, v: { min: number; median: number; max: number }) =>
        console.log(
          `${label.padEnd(42)}${f(v.min).padStart(6)}${f(v.median).padStart(8)}` +
            `${f(v.max).padStart(8)}`,
        );
      row("kill -> first new score, its partitions", h.firstNewScoreMs);
      row("kill -> new scores in all its partitions", h.allPartitionsMs);
      row("kill -> last `taken` line of a survivor", h.lastTakenMs);
    }
    const r = result.replay;
    if (r !== null) {
      console.log(
        `\nreplay: ${f(r.messages)} readings published with no instance (at ` +
          `${f(r.publishPerSecond)}/s), then one instance: ${f(r.messagesPerSecond)} messages/s ` +
          `from its first \`taken\` (${r.seconds.toFixed(2)} s), ${f(r.fromSpawnPerSecond)}/s ` +
          `from its spawn (${r.spawnToTakenSeconds.toFixed(2)} s spawn to first taken)`,
      );
    }
  }
} catch (error) {
  for (const i of instances) {
    if (i.log !== "") console.error(`--- ${i.id} (exit ${i.exitCode})\n${i.log.slice(-3000)}`);
  }
  throw error;
} finally {
  await trickling?.stop().catch(() => {});
  killAll();
  await Promise.all(instances.map((i) => i.exited));
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await nc?.close().catch(() => {});
  await cluster.stop();
  process.removeListener("exit", killAll);
  rmSync(dir, { recursive: true, force: true });
}
