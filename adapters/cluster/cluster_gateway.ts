/**
 * `foxtail run` in cluster mode: this instance's share of the fleet. It joins the cluster's
 * leases, scores the partitions it holds (one {@linkcode PartitionWorker} each, fed from the
 * replicated stream), snapshots them to the object store on a timer and before handing one over,
 * and publishes scores and alerts through NATS on the topics a single gateway uses (the NATS
 * MQTT bridge delivers them to MQTT subscribers), each with the input's stream sequence.
 *
 * @module
 */

import { hostname } from "node:os";
import process from "node:process";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import {
  clusterFingerprint,
  type ClusterSettings,
  devicePartition,
  PartitionLeases,
  type TickReport,
} from "../../core/cluster/mod.ts";
import {
  type AlertEvent,
  ConfigError,
  type DeviceSummary,
  DeviceTopicPattern,
  type DigestPoint,
  type DigestRange,
  type GatewayCounters,
  type GatewayOutput,
  LatencyBuckets,
  PIPELINE_KEYS,
  type ScorePoint,
  verdictJson,
  verdictRecord,
} from "../../core/gateway/mod.ts";
import type { Incident, IncidentQuery } from "../../core/incidents/mod.ts";
import { VERSION } from "../../core/version.ts";
import { readModelFiles } from "../files/mod.ts";
import {
  emitEvent,
  type GatewayConfig,
  type GatewayEvent,
  type GatewayStatus,
  type GatewayStopReport,
  type GatewayView,
  type RejectSourceList,
} from "../gateway/mod.ts";
import { splitIncidentId, withClusterId } from "./incident_ids.ts";
import { MqttLink } from "../mqtt/mod.ts";
import { connectCluster } from "./nats_connection.ts";
import { OutputJournal } from "./output_journal.ts";
import { openLeaseBucket } from "./nats_lease_store.ts";
import { isUnanswered, openSnapshotStore, type PartitionSnapshots } from "./partition_snapshots.ts";
import {
  type PartitionReset,
  PartitionWorker,
  sensorTopic,
  TELEMETRY_STREAM,
} from "./partition_worker.ts";

/**
 * Longest wait for one step of taking a partition (its snapshots, the stream's state, its
 * consumer): a step the cluster never answers gives the partition back for a later try.
 */
const TAKE_STEP_MS = 10_000;

/** `work`, or a rejection naming `what` once {@linkcode TAKE_STEP_MS} pass without an answer. */
function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${TAKE_STEP_MS / 1000} s (timeout)`)),
      TAKE_STEP_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Outputs kept until the server confirms them (a flush every OUTPUT_CONFIRM_MS). */
const OUTPUT_JOURNAL_CAPACITY = 8192;
const OUTPUT_CONFIRM_MS = 200;

/** Attempts at opening the stream and buckets before start gives up (about a minute). */
const START_ATTEMPTS = 12;

/** The lease bucket. */
export const LEASE_BUCKET = "foxtail-leases";
/** The bucket holding the cluster's settings (no time to live). */
export const SETTINGS_BUCKET = "foxtail-settings";
/** The object store holding the partitions' snapshots. */
export const SNAPSHOT_BUCKET = "foxtail-snapshots";
/** The telemetry stream's subjects: `foxtail.telemetry.<partition>.<device>`, nothing else. */
export const TELEMETRY_SUBJECTS = "foxtail.telemetry.*.*";

/** A partition handed over or taken over, and how long it took. */
export interface Handover {
  /** The partition. */
  partition: number;
  /** "taken": this instance started scoring it; "released": it handed it to another. */
  kind: "taken" | "released";
  /** When it finished (the clock's milliseconds). */
  at: number;
  /** From the decision to the consumer running (taken), or to the lease released. */
  ms: number;
  /** Messages replayed from the snapshot's sequence to the stream's end when taken. */
  replay: number;
}

/** One partition as the dashboard shows it. */
export interface PartitionStatus {
  /** The partition. */
  partition: number;
  /** Its owner as last seen, or null. */
  owner: string | null;
  /** Messages in the stream not yet scored (held partitions only). */
  lag: number | null;
  /** Devices held (held partitions only). */
  devices: number | null;
}

/** The cluster as this instance sees it. */
export interface ClusterStatus {
  /** This instance's id. */
  instance: string;
  /** The connection to NATS (the MQTT one, for the devices' states, is the status's `mqtt`). */
  nats: { connected: boolean; reconnects: number };
  /** The live members. */
  members: string[];
  /** Partitions held by this instance. */
  held: number[];
  /** Every partition. */
  partitions: PartitionStatus[];
  /** The last handover seen by this instance, or null. */
  lastHandover: Handover | null;
  /** Partitions whose models were reset, and the last reason. */
  resets: number;
  /** The last reset, or null. */
  lastReset: PartitionReset | null;
  /** Messages found in a partition their device does not map to (refused). */
  misplaced: number;
  /** Consumers replaced because they went silent (their node died). */
  consumerRestarts: number;
  /** Outputs published again after a reconnect, the server not having confirmed them. */
  outputsResent: number;
  /** Outputs that waited for a confirmation beyond the journal's capacity (given up). */
  outputsGivenUp: number;
}

/** The status of a cluster instance: the gateway's plus its cluster. */
export interface ClusterGatewayStatus extends GatewayStatus {
  /** The cluster. */
  cluster: ClusterStatus;
}

/** Options of {@linkcode ClusterGateway}. */
export interface ClusterGatewayOptions {
  /** Where log lines go (default: standard error). */
  log?: (line: string) => void;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** Replicas of the stream, the buckets and the object store (default: 3, or 1 for 1 server). */
  replicas?: number;
  /** The environment the NATS credentials may come from (default: the process's). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** One cluster instance: start it, read it as a {@linkcode GatewayView}, stop it. */
export class ClusterGateway implements GatewayView {
  /** The configuration it runs. */
  readonly config: GatewayConfig;
  /** This instance's id. */
  readonly instance: string;
  readonly #cluster: NonNullable<GatewayConfig["cluster"]>;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #options: ClusterGatewayOptions;
  readonly #models: ReadonlyMap<string, Uint8Array>;
  readonly #workers = new Map<number, PartitionWorker>();
  /** Partitions being taken (snapshot read, consumer starting), not yet in #workers. */
  readonly #taking = new Map<number, Promise<void>>();
  readonly #listeners = new Set<(event: GatewayEvent) => void>();
  readonly #latency = new LatencyBuckets();
  readonly #prefix: string;
  /**
   * The MQTT connection the devices' states go out on, retained: nats-server keeps a retained
   * message only from an MQTT publisher, never from a NATS one.
   */
  readonly #stateLink: MqttLink;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #leases: PartitionLeases | undefined;
  #snapshots: PartitionSnapshots | undefined;
  #lastReport: TickReport | undefined;
  #lastHandover: Handover | null = null;
  #resets = 0;
  #lastReset: PartitionReset | null = null;
  #startedAt = 0;
  #lastSnapshotAt: number | null = null;
  #snapshotFailures = 0;
  #lastSnapshotError: string | null = null;
  #snapshotted = new Map<number, number>();
  #tickTimer: ReturnType<typeof setTimeout> | undefined;
  #snapshotTimer: ReturnType<typeof setInterval> | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #confirmTimer: ReturnType<typeof setInterval> | undefined;
  readonly #journal = new OutputJournal(OUTPUT_JOURNAL_CAPACITY);
  #confirming = false;
  #outputsResent = 0;
  #consumerRestarts = 0;
  #busy: Promise<void> = Promise.resolve();
  #running = false;
  #reconnects = 0;
  /** The counters of partitions no longer held, so the totals cover the whole run. */
  #retired: GatewayCounters[] = [];

  constructor(config: GatewayConfig, options: ClusterGatewayOptions = {}) {
    if (config.cluster === undefined) throw new Error("cluster mode needs a `cluster` section");
    this.config = config;
    this.#cluster = config.cluster;
    this.#options = options;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#now = options.now ?? Date.now;
    this.instance = config.cluster.instance ?? defaultInstanceId();
    this.#prefix = config.mqtt.topicPrefix.replaceAll("/", ".");
    // One MQTT client id per instance: the broker would close one of two alike.
    const clientId = `${config.mqtt.clientId ?? "foxtail"}-${this.instance}`;
    this.#stateLink = new MqttLink(
      { ...config.mqtt, clientId },
      [],
      { message: () => {}, log: this.#log },
      `${config.mqtt.topicPrefix}/status/${this.instance}`,
    );
    this.#models = readModelFiles(config);
    // The partitions hold `sensors/<id>/telemetry` (the servers' mapping): a configuration whose
    // streams never match it would refuse every message, so it is refused at once.
    const probe = sensorTopic("probe-device");
    const matching = config.streams.some((s) =>
      new DeviceTopicPattern(s.device).match(probe) === "probe-device"
    );
    if (!matching) {
      const patterns = config.streams.map((s) => JSON.stringify(s.device)).join(", ");
      throw new ConfigError([
        `streams: cluster mode scores ${sensorTopic("{device}")}, and no stream's device ` +
        `pattern matches it (got ${patterns})`,
      ]);
    }
  }

  /**
   * Connects (waiting for the cluster), opens the stream, leases and snapshots, joins (refusing
   * a cluster whose settings differ) and takes the first share of the partitions.
   */
  async start(): Promise<void> {
    if (this.#running) throw new Error("the gateway is already running");
    this.#startedAt = this.#now();
    const c = this.#cluster;
    const nc = await connectCluster({
      servers: c.servers,
      user: c.user,
      password: c.password,
      nkeySeedFile: c.nkeySeedFile,
      tls: c.tls,
      env: this.#options.env,
      name: `foxtail ${this.instance}`,
      log: this.#log,
    });
    this.#nc = nc;
    (async () => {
      for await (const s of nc.status()) {
        if (s.type !== "reconnect") continue;
        this.#reconnects++;
        // A consumer may go quiet after a reconnect without missing a heartbeat: each is
        // replaced from the sequence after the last scored (nothing is scored twice).
        for (const worker of this.#workers.values()) {
          worker.replaceConsumer("the connection to NATS was re-established");
        }
        const resent = this.#journal.pending;
        this.#journal.forEachPending((subject, body) => nc.publish(subject, body));
        this.#outputsResent += resent;
        if (resent > 0) {
          this.#log(`cluster: ${resent} outputs not confirmed before the reconnect sent again`);
        }
      }
    })().catch(() => {});
    const replicas = this.#options.replicas ?? (c.servers.length >= 3 ? 3 : 1);
    try {
      await this.#retrying("opening the cluster's stream and buckets", async () => {
        await ensureTelemetryStream(nc, replicas, c, this.#log);
        const leaseMs = c.leaseSeconds * 1000;
        const leases = await openLeaseBucket(nc, { name: LEASE_BUCKET, ttlMs: leaseMs, replicas });
        const settings = await openLeaseBucket(nc, { name: SETTINGS_BUCKET, ttlMs: 0, replicas });
        this.#snapshots = await openSnapshotStore(nc, { name: SNAPSHOT_BUCKET, replicas });
        this.#js = jetstream(nc);
        this.#leases = new PartitionLeases({
          leases,
          settings,
          instance: this.instance,
          partitions: c.partitions,
          leaseMs,
          fingerprint: clusterFingerprint(c, pipelineRendering(this.config)),
          now: this.#now,
        });
        await this.#leases.join();
      });
    } catch (error) {
      await nc.close();
      throw error;
    }
    this.#running = true;
    this.#stateLink.start();
    this.#log(
      `cluster: instance ${this.instance} joined (${c.partitions} partitions, leases of ` +
        `${c.leaseSeconds} s)`,
    );
    await this.#tick();
    if (c.snapshotSeconds > 0) {
      this.#snapshotTimer = setInterval(
        () => this.#serially(() => this.#snapshotAll()),
        c.snapshotSeconds * 1000,
      );
    }
    this.#sweepTimer = setInterval(() => {
      const now = this.#now();
      for (const w of this.#workers.values()) w.engine.sweep(w.sweepTime(now));
    }, 1000);
    this.#confirmTimer = setInterval(() => this.#confirmOutputs(), OUTPUT_CONFIRM_MS);
  }

  /** A flush: the server has everything published before it (see output_journal.ts). */
  #confirmOutputs(): void {
    if (this.#confirming || this.#journal.pending === 0) return;
    const mark = this.#journal.mark();
    this.#confirming = true;
    this.#nc!.flush()
      .then(() => this.#journal.confirm(mark), () => {})
      .finally(() => this.#confirming = false);
  }

  /**
   * Runs `work` until it succeeds, waiting longer after each JetStream timeout (several
   * instances creating replicated buckets at once, or a cluster still electing leaders); any
   * other error (a settings mismatch, a stream of other subjects) is thrown at once.
   */
  async #retrying(what: string, work: () => Promise<void>): Promise<void> {
    let delay = 500;
    for (let attempt = 1;; attempt++) {
      try {
        return await work();
      } catch (error) {
        const message = (error as Error).message;
        if (attempt >= START_ATTEMPTS || !/timeout|no responders|leader/i.test(message)) {
          throw error;
        }
        this.#log(`cluster: ${what}: ${message}; retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 8000);
      }
    }
  }

  /** Lease work and snapshots never overlap. */
  #serially(work: () => Promise<void>): Promise<void> {
    const next = this.#busy.then(work).catch((error) => {
      this.#log(`cluster: ${(error as Error).message}`);
    });
    this.#busy = next;
    return next;
  }

  #scheduleTick(): void {
    if (!this.#running) return;
    this.#tickTimer = setTimeout(() => this.#tick(), this.#cluster.renewSeconds * 1000);
  }

  #tick(): Promise<void> {
    return this.#serially(async () => {
      const leases = this.#leases!;
      try {
        const report = await leases.tick();
        this.#lastReport = report;
        for (const k of report.lost) await this.#drop(k, "its lease was lost");
        for (const k of report.toHandOver) await this.#handOver(k);
      } catch (error) {
        this.#log(`cluster: lease renewal failed: ${(error as Error).message}`);
      }
      // Every partition held and trusted gets a worker: the ones claimed now, and any whose
      // take failed before (the cluster not answering) and was not given back. Takes run
      // beside the ticks: one waiting on a slow cluster must not hold up the lease renewals.
      for (const k of leases.held()) {
        if (this.#workers.has(k) || this.#taking.has(k) || !leases.holds(k) || !this.#running) {
          continue;
        }
        const taking = this.#take(k)
          .catch((error) => this.#putBack(k, (error as Error).message))
          .finally(() => this.#taking.delete(k));
        this.#taking.set(k, taking);
      }
      // A partition whose lease is no longer trusted (renewals failing) stops being scored.
      for (const k of [...this.#workers.keys()]) {
        if (!leases.holds(k)) await this.#drop(k, "its lease is no longer trusted");
      }
    }).finally(() => this.#scheduleTick());
  }

  #newWorker(k: number): PartitionWorker {
    const worker: PartitionWorker = new PartitionWorker({
      partition: k,
      partitions: this.#cluster.partitions,
      config: this.config,
      output: this.#output(() => worker),
      models: this.#models,
      holds: () => this.#leases!.holds(k),
      log: this.#log,
    });
    return worker;
  }

  async #take(k: number): Promise<void> {
    const started = this.#now();
    const found = await bounded(this.#snapshots!.latest(k), `reading partition ${k}'s snapshots`);
    const unreadable = found.refused.find((r) => isUnanswered(r.reason));
    if (unreadable !== undefined) {
      // The cluster is not answering: an older snapshot (or none) would only cost a longer
      // replay, but none at all would reset the models, so the partition is left for later.
      await this.#putBack(
        k,
        `its snapshot ${unreadable.name} (sequence ${unreadable.sequence}) cannot be read now ` +
          `(${unreadable.reason})`,
      );
      return;
    }
    for (const r of found.refused) {
      this.#log(
        `partition ${k}: refused snapshot ${r.name} (sequence ${r.sequence}): ${r.reason}`,
      );
    }
    const info = await bounded(
      jetstreamManager(this.#nc!).then((jsm) => jsm.streams.info(TELEMETRY_STREAM)),
      "reading the stream's state",
    );
    const snapshot = found.snapshot;
    let worker = this.#newWorker(k);
    let reset: string | undefined;
    const state = snapshot && { bytes: snapshot.state, sequence: snapshot.sequence };
    try {
      reset = worker.restore(state, info.state.first_seq);
    } catch (error) {
      // The snapshot's envelope held but its contents did not: start afresh, said so.
      reset = `its snapshot ${snapshot?.name} (sequence ${snapshot?.sequence}) cannot be ` +
        `restored: ${(error as Error).message}`;
      worker = this.#newWorker(k);
      worker.restore(null, info.state.first_seq);
    }
    const consuming = worker.consume(this.#js!);
    try {
      await bounded(consuming, `starting partition ${k}'s consumer`);
    } catch (error) {
      consuming.then(() => worker.stop(), () => {}); // should it start after all
      await this.#putBack(k, `its consumer cannot start (${(error as Error).message})`);
      return;
    }
    if (!this.#running || !this.#leases!.holds(k)) {
      // Lost, handed over or stopping while it was being taken.
      await worker.stop();
      this.#log(`partition ${k}: not taken: its lease ended while it was being taken`);
      return;
    }
    if (reset !== undefined) {
      this.#resets++;
      this.#lastReset = { partition: k, reason: reset, at: this.#now() };
      this.#log(`partition ${k}: reset: ${reset}`);
    }
    this.#workers.set(k, worker);
    if (snapshot) this.#snapshotted.set(k, snapshot.sequence);
    const at = this.#now();
    const replay = Math.max(0, info.state.last_seq - worker.consumed);
    this.#lastHandover = { partition: k, kind: "taken", at, ms: at - started, replay };
    this.#log(
      `partition ${k}: taken` +
        (snapshot
          ? ` from snapshot ${snapshot.name} (sequence ${snapshot.sequence})`
          : " with no snapshot (fresh models)") +
        `; replaying from sequence ${worker.consumed + 1}`,
    );
  }

  /** Gives a claimed partition back (it is claimed again on a later tick, here or elsewhere). */
  async #putBack(k: number, why: string): Promise<void> {
    this.#log(`partition ${k}: not taken: ${why}; released for a later try`);
    // Between ticks, not during one: the leases are changed by one piece of work at a time.
    await this.#serially(async () => {
      await this.#leases!.release(k).catch(() => false);
    });
  }

  async #drop(k: number, why: string): Promise<void> {
    const worker = this.#workers.get(k);
    if (worker === undefined) return;
    this.#workers.delete(k);
    await worker.stop();
    this.#retire(worker);
    this.#log(`partition ${k}: stopped: ${why}`);
  }

  /** Snapshot, then release: the next owner replays nothing it does not have to. */
  async #handOver(k: number): Promise<void> {
    const started = this.#now();
    const worker = this.#workers.get(k);
    if (worker !== undefined) {
      this.#workers.delete(k);
      await worker.stop();
      await this.#snapshot(worker);
      this.#retire(worker);
    }
    await this.#leases!.release(k);
    const at = this.#now();
    this.#lastHandover = { partition: k, kind: "released", at, ms: at - started, replay: 0 };
    this.#log(`partition ${k}: handed over at sequence ${worker?.consumed ?? 0}`);
  }

  #retire(worker: PartitionWorker): void {
    this.#consumerRestarts += worker.restarts;
    this.#retired = [sumCounters([...this.#retired, worker.engine.counters()])];
  }

  async #snapshot(worker: PartitionWorker): Promise<void> {
    const k = worker.partition;
    // Nothing new since the last one, or nothing at all (a fresh engine needs no snapshot).
    if ((this.#snapshotted.get(k) ?? 0) === worker.consumed) return;
    const at = this.#now();
    try {
      await this.#snapshots!.put(k, worker.consumed, worker.engine.toBytes(at));
      this.#snapshotted.set(k, worker.consumed);
      this.#lastSnapshotAt = at;
      this.#lastSnapshotError = null;
    } catch (error) {
      this.#snapshotFailures++;
      this.#lastSnapshotError = (error as Error).message;
      this.#log(`partition ${k}: snapshot failed: ${(error as Error).message}`);
    }
  }

  async #snapshotAll(): Promise<void> {
    for (const worker of [...this.#workers.values()]) await this.#snapshot(worker);
  }

  #output(worker: () => PartitionWorker): GatewayOutput {
    const prefix = this.#prefix;
    const publish = (subject: string, body: string) => {
      try {
        this.#nc!.publish(subject, body);
        this.#journal.record(subject, body);
      } catch {
        // Closed while stopping: the next owner re-emits from the snapshot.
      }
    };
    return {
      score: (device, v, ts) => {
        this.#latency.record(Math.max(0, this.#now() - ts));
        const seq = worker().sequence;
        publish(`${prefix}.${device}.score`, `{"seq":${seq},${verdictJson(ts, v).slice(1)}`);
        if (this.#listeners.size > 0) {
          this.#emit({ type: "score", device, ...verdictRecord(ts, v) });
        }
      },
      alert: (alert) => {
        publish(
          `${prefix}.${alert.device}.alert`,
          JSON.stringify({ seq: worker().sequence, ...alert }),
        );
        this.#emit({ type: "alert", alert });
      },
      incident: (change) => {
        const w = worker();
        const incident = withClusterId(change.incident, w.partition, this.#cluster.partitions);
        if (!change.muted) {
          publish(
            `${prefix}.${incident.device}.incident`,
            JSON.stringify({ seq: w.sequence, change: change.change, ...incident }),
          );
        }
        this.#emit({ type: "incident", change: { ...change, incident } });
      },
      state: (device, state) => {
        const body = JSON.stringify({ state, ts: this.#now() });
        this.#stateLink.publishAlert(`${this.config.mqtt.topicPrefix}/${device}/state`, body, true);
        this.#emit({ type: "state", device, state });
      },
    };
  }

  /**
   * Hands every held partition over (snapshot, then release) and closes the connection, so the
   * others take them at once instead of after the lease time.
   */
  async stop(): Promise<GatewayStopReport> {
    if (!this.#running) return { unsent: 0, forced: false };
    this.#running = false;
    clearTimeout(this.#tickTimer);
    clearInterval(this.#snapshotTimer);
    clearInterval(this.#sweepTimer);
    clearInterval(this.#confirmTimer);
    await Promise.allSettled([...this.#taking.values()]);
    await this.#serially(async () => {
      for (const k of [...this.#workers.keys()]) await this.#handOver(k);
      await this.#leases!.releaseAll();
    });
    this.#listeners.clear();
    const states = await this.#stateLink.stop();
    let forced = states.forced;
    try {
      await this.#nc!.drain();
    } catch {
      forced = true;
      await this.#nc!.close();
    }
    return { unsent: states.dropped, forced };
  }

  /**
   * Stops as a crash would (the demo's and the tests' fault): no handover, no release, the
   * connection dropped. The others take its partitions once the leases run out, from the last
   * periodic snapshots and the stream.
   */
  async crash(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#tickTimer);
    clearInterval(this.#snapshotTimer);
    clearInterval(this.#sweepTimer);
    clearInterval(this.#confirmTimer);
    await Promise.allSettled([...this.#taking.values()]);
    await this.#serially(async () => {
      for (const w of this.#workers.values()) await w.stop();
      this.#workers.clear();
    });
    this.#listeners.clear();
    await this.#stateLink.stop(0); // closed at once; the broker may announce the last will
    await this.#nc!.close();
  }

  #emit(event: GatewayEvent): void {
    emitEvent(this.#listeners, event, this.#log);
  }

  #workerOf(device: string): PartitionWorker | undefined {
    return this.#workers.get(devicePartition(device, this.#cluster.partitions));
  }

  // ---- GatewayView ---------------------------------------------------------------------------

  /** The state at a glance, with the cluster. */
  status(): ClusterGatewayStatus {
    const workers = [...this.#workers.values()];
    const counters = sumCounters([...this.#retired, ...workers.map((w) => w.engine.counters())]);
    const report = this.#lastReport;
    return {
      version: VERSION,
      startedAt: this.#startedAt,
      mqtt: this.#stateLink.stats(),
      counters,
      devices: workers.reduce((n, w) => n + w.engine.deviceCount, 0),
      incidents: workers.reduce(
        (sum, w) => {
          const c = w.engine.incidentCounts();
          return {
            open: sum.open + c.open,
            opened: sum.opened + c.opened,
            overwritten: sum.overwritten + c.overwritten,
          };
        },
        { open: 0, opened: 0, overwritten: 0 },
      ),
      queued: workers.reduce((n, w) => n + w.engine.queued, 0),
      lastSnapshotAt: this.#lastSnapshotAt,
      snapshotFailures: this.#snapshotFailures,
      lastSnapshotError: this.#lastSnapshotError,
      scoreLatency: this.#latency.summary(),
      cluster: {
        instance: this.instance,
        nats: {
          connected: this.#nc !== undefined && !this.#nc.isClosed(),
          reconnects: this.#reconnects,
        },
        members: report?.members ?? [],
        held: [...this.#workers.keys()].sort((a, b) => a - b),
        partitions: Array.from({ length: this.#cluster.partitions }, (_, k) => {
          const w = this.#workers.get(k);
          return {
            partition: k,
            owner: report?.owners[k] ?? null,
            lag: w === undefined ? null : Math.max(0, w.lastSeen - w.consumed),
            devices: w === undefined ? null : w.engine.deviceCount,
          };
        }),
        lastHandover: this.#lastHandover,
        resets: this.#resets,
        lastReset: this.#lastReset,
        misplaced: workers.reduce((n, w) => n + w.misplaced, 0),
        consumerRestarts: this.#consumerRestarts + workers.reduce((n, w) => n + w.restarts, 0),
        outputsResent: this.#outputsResent,
        outputsGivenUp: this.#journal.overflowed,
      },
    };
  }

  /** Every device held, most recently seen first. */
  devices(): DeviceSummary[] {
    const now = this.#now();
    const all = [...this.#workers.values()].flatMap((w) => w.engine.devices(now));
    return all.sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** A device's recent scores. */
  deviceScores(id: string, limit?: number): ScorePoint[] | undefined {
    return this.#workerOf(id)?.engine.deviceScores(id, limit);
  }

  /** A device's downsampled scores. */
  deviceHistory(id: string, range: DigestRange): DigestPoint[] | undefined {
    return this.#workerOf(id)?.engine.deviceDigest(id, range);
  }

  /** Recent alerts of the held partitions, newest first. */
  recentAlerts(): AlertEvent[] {
    const all = [...this.#workers.values()].flatMap((w) => w.engine.recentAlerts());
    return all.sort((a, b) => b.ts - a.ts).slice(0, 100);
  }

  /**
   * Incidents of the held partitions, with their ids in the cluster (see `incident_ids.ts`):
   * open ones first, newest first, then closed ones, last closed first.
   */
  incidents(query?: IncidentQuery): Incident[] {
    const partitions = this.#cluster.partitions;
    const all = [...this.#workers.values()].flatMap((w) =>
      w.engine.incidents(query).map((incident) => withClusterId(incident, w.partition, partitions))
    );
    const open = (i: Incident) => i.closedAt === null;
    all.sort((a, b) =>
      Number(open(b)) - Number(open(a)) ||
      (open(a) ? b.start - a.start : b.closedAt! - a.closedAt!) || b.id - a.id
    );
    return query?.limit === undefined ? all : all.slice(0, query.limit);
  }

  /** Acknowledges an incident by its id in the cluster, if its partition is held here. */
  acknowledgeIncident(id: number): Incident | undefined {
    const partitions = this.#cluster.partitions;
    const at = splitIncidentId(id, partitions);
    if (at === undefined) return undefined;
    const found = this.#workers.get(at.partition)?.engine.acknowledgeIncident(
      at.partitionId,
      this.#now(),
    );
    return found && withClusterId(found, at.partition, partitions);
  }

  /** Mutes a device held here. */
  muteDevice(id: string, minutes: number | null): { mutedUntil: number | null } | undefined {
    const until = minutes === null ? null : this.#now() + minutes * 60_000;
    return this.#workerOf(id)?.engine.muteDevice(id, until) ? { mutedUntil: until } : undefined;
  }

  /** Refused senders of the held partitions. */
  rejectSources(limit?: number): RejectSourceList {
    const workers = [...this.#workers.values()];
    const sources = workers.flatMap((w) => w.engine.rejectSources(limit));
    sources.sort((a, b) => b.rejected - a.rejected);
    return {
      sources: limit === undefined ? sources : sources.slice(0, limit),
      forgotten: workers.reduce((n, w) => n + w.engine.rejectSourcesForgotten, 0),
    };
  }

  /** Calls `listener` on every event until the returned function is called. */
  subscribe(listener: (event: GatewayEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Snapshots every held partition (in the background); returns where they go. */
  snapshotNow(): string {
    void this.#serially(() => this.#snapshotAll());
    return `nats object store ${SNAPSHOT_BUCKET}`;
  }

  /** Forgets a device so it relearns (on this owner: a later owner replays its snapshot). */
  resetDevice(id: string): boolean {
    return this.#workerOf(id)?.engine.resetDevice(id, this.#now()) ?? false;
  }

  /** Sets or clears a device's manual threshold. */
  setThreshold(id: string, value: number | null): boolean {
    return this.#workerOf(id)?.engine.setThreshold(id, value) ?? false;
  }
}

/**
 * Creates the telemetry stream with the configured retention, or checks the one there takes the
 * partitioned subjects (and says so when its retention is not this instance's).
 */
async function ensureTelemetryStream(
  nc: NatsConnection,
  replicas: number,
  settings: ClusterSettings,
  log: (line: string) => void,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const maxAge = Math.round(settings.streamMaxAgeHours * 3600 * 1e9); // nanoseconds
  const maxBytes = Math.round(settings.streamMaxMegabytes * 1024 * 1024);
  try {
    const info = await jsm.streams.info(TELEMETRY_STREAM);
    if (!info.config.subjects?.includes(TELEMETRY_SUBJECTS)) {
      throw new Error(
        `stream ${TELEMETRY_STREAM} exists with subjects ${
          JSON.stringify(info.config.subjects)
        }, ` +
          `not ${TELEMETRY_SUBJECTS}`,
      );
    }
    if (info.config.max_age !== maxAge || info.config.max_bytes !== maxBytes) {
      const hours = info.config.max_age / 3600e9;
      const megabytes = info.config.max_bytes / (1024 * 1024);
      log(
        `cluster: stream ${TELEMETRY_STREAM} keeps ${hours} h and ${megabytes} MB (set when it ` +
          `was created), not the ${settings.streamMaxAgeHours} h and ` +
          `${settings.streamMaxMegabytes} MB configured here`,
      );
    }
    return;
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
  }
  await jsm.streams.add({
    name: TELEMETRY_STREAM,
    subjects: [TELEMETRY_SUBJECTS],
    num_replicas: replicas,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: maxAge,
    max_bytes: maxBytes,
  });
}

/** The pipeline settings every instance must share, as one string. */
function pipelineRendering(config: GatewayConfig): string {
  const picked: Record<string, unknown> = {};
  for (const key of PIPELINE_KEYS) {
    picked[key] = (config as unknown as Record<string, unknown>)[key];
  }
  return JSON.stringify(picked);
}

function sumCounters(all: GatewayCounters[]): GatewayCounters {
  const out: GatewayCounters = {
    messages: 0,
    accepted: 0,
    rejected: {} as GatewayCounters["rejected"],
    dropped: 0,
    evicted: 0,
    anomalies: 0,
  };
  for (const c of all) {
    out.messages += c.messages;
    out.accepted += c.accepted;
    out.dropped += c.dropped;
    out.evicted += c.evicted;
    out.anomalies += c.anomalies;
    for (const [reason, n] of Object.entries(c.rejected)) {
      const r = reason as keyof GatewayCounters["rejected"];
      out.rejected[r] = (out.rejected[r] ?? 0) + n;
    }
  }
  return out;
}

/** The host name and process id: unique on a site, and readable in the dashboard. */
function defaultInstanceId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40);
  return `${host}-${process.pid}`;
}
