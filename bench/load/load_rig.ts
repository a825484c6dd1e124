/**
 * The load rig: mosquitto on a free loopback port, `foxtail run` as a child of the runtime under
 * test, paced publishers and a score watcher; and one measured step of it: publish N messages
 * at a rate, wait until every one is scored, dropped or rejected, and read what happened.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { DeviceSummary } from "../../core/gateway/mod.ts";
import { latencyQuantileBound } from "../../core/gateway/mod.ts";
import type { GatewayStatus } from "../../adapters/gateway/mod.ts";
import { type MosquittoBroker, startMosquitto } from "../../tests/support/mosquitto.ts";
import { type GatewayChild, startGatewayChild } from "./gateway_child.ts";
import {
  deviceId,
  LOAD_PREFIX,
  loadConfig,
  type LoadConfigOptions,
  loadMosquittoConfig,
} from "./load_config.ts";
import { RssSampler } from "./rss_sampler.ts";
import { ScoreWatcher } from "./score_watcher.ts";
import { SendLog } from "./send_log.ts";
import { type PublishResult, reading, TelemetryPublisher } from "./telemetry_publisher.ts";

/** Sequence numbers remembered per device for latency matching. */
const SEND_LOG_CAPACITY = 16_384;
/** A step is over when nothing has moved for this long (messages lost before the gateway). */
const QUIET_MS = 2_000;
/** Longest wait for a step's backlog to clear. */
const SETTLE_TIMEOUT_MS = 120_000;

/** What the rig is built from. */
export interface LoadRigOptions {
  /** Devices publishing. */
  devices: number;
  /** MQTT connections the devices share. */
  publishers: number;
  /** The gateway's queue capacity. */
  queueCapacity: number;
  /** KitNET grace periods and the calibration window. */
  fmGracePeriod: number;
  adGracePeriod: number;
  calibrationWindow: number;
  /** Seconds between the gateway's snapshots (0: only the final one). */
  snapshotSeconds?: number;
  /** Leave mosquitto's Nagle's algorithm on (its default; see {@linkcode loadMosquittoConfig}). */
  brokerNagle?: boolean;
  /** Flags for the gateway's runtime (e.g. Node's `--cpu-prof`). */
  runtimeFlags?: readonly string[];
  /** A single executable to run as the gateway (e.g. `dist/foxtail`) instead of the sources. */
  executable?: string;
}

/** What one step measured. */
export interface StepResult {
  /** The target rate, messages/s. */
  rate: number;
  /** Messages published, and the rate they actually went out at. */
  published: number;
  offeredPerSecond: number;
  /** Scores received (each for a message the gateway accepted), and per second from the first publish. */
  scored: number;
  scoredPerSecond: number;
  /** Publish-to-score latency, ms: median, 99th percentile, largest. */
  p50: number;
  p99: number;
  maxLatency: number;
  /** Whether the latencies are exact (nothing dropped); else they are upper bounds. */
  latencyExact: boolean;
  /** From the gateway receiving a message to its score arriving, ms (exact with drops too). */
  gatewayP50: number;
  gatewayP99: number;
  /**
   * Receipt to score handed to the MQTT link, inside the gateway (its `scoreLatency` over the
   * step), ms: the bucket bounds of the median and the 99th percentile.
   */
  processingP50: number;
  processingP99: number;
  /** Times the gateway paused scoring because mosquitto read its scores too slowly. */
  sendPauses: number;
  /** Gateway counters over the step: received, scored, dropped from its queue, rejected. */
  received: number;
  accepted: number;
  dropped: number;
  rejected: number;
  /** Messages mosquitto dropped over the step (NaN if it did not report). */
  brokerDropped: number;
  /** The gateway's resident memory at the start, the end, and the most seen, in bytes. */
  rssStart: number;
  rssEnd: number;
  rssMax: number;
  /** CPU use over the step, in % of one core: the gateway, mosquitto, this benchmark. */
  gatewayCpu: number;
  brokerCpu: number;
  benchCpu: number;
  /** The gateway's CPU time per message it received, in µs (what the machine's load hides least). */
  gatewayMicrosPerMessage: number;
  /** The 1-minute load average at the start and the end (others share the machine). */
  loadStart: number;
  loadEnd: number;
  /** Whether every message was accounted for before the time-out. */
  settled: boolean;
  /** Seconds the step took, publishing and settling. */
  seconds: number;
}

/** Everything a load run needs, started and connected. */
export class LoadRig {
  /** The broker. */
  readonly broker: MosquittoBroker;
  /** The gateway under test. */
  readonly gateway: GatewayChild;
  /** Publish times. */
  readonly log: SendLog;
  /** The publishers. */
  readonly publisher: TelemetryPublisher;
  /** The score subscriber. */
  readonly watcher: ScoreWatcher;
  /** Device ids, by index. */
  readonly ids: readonly string[];
  /** The configuration the gateway runs. */
  readonly options: LoadConfigOptions;
  readonly #dir: string;

  private constructor(parts: {
    broker: MosquittoBroker;
    gateway: GatewayChild;
    log: SendLog;
    publisher: TelemetryPublisher;
    watcher: ScoreWatcher;
    ids: string[];
    options: LoadConfigOptions;
    dir: string;
  }) {
    this.broker = parts.broker;
    this.gateway = parts.gateway;
    this.log = parts.log;
    this.publisher = parts.publisher;
    this.watcher = parts.watcher;
    this.ids = parts.ids;
    this.options = parts.options;
    this.#dir = parts.dir;
  }

  /** Starts mosquitto and the gateway, and connects the publishers and the watcher. */
  static async start(o: LoadRigOptions): Promise<LoadRig> {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-load-"));
    const broker = await startMosquitto({ extraConfig: loadMosquittoConfig(o.brokerNagle) });
    let gateway: GatewayChild | undefined;
    try {
      const options: LoadConfigOptions = {
        brokerUrl: broker.url,
        devices: o.devices,
        queueCapacity: o.queueCapacity,
        snapshotDir: join(dir, "state"),
        fmGracePeriod: o.fmGracePeriod,
        adGracePeriod: o.adGracePeriod,
        calibrationWindow: o.calibrationWindow,
        snapshotSeconds: o.snapshotSeconds ?? 0,
      };
      gateway = await startGatewayChild(
        loadConfig(options),
        dir,
        o.runtimeFlags,
        o.executable,
      );
      const ids = Array.from({ length: o.devices }, (_, i) => deviceId(i));
      const log = new SendLog(o.devices, SEND_LOG_CAPACITY);
      const watcher = await ScoreWatcher.connect(broker.url, log, ids, LOAD_PREFIX);
      const publisher = await TelemetryPublisher.connect(broker.url, log, o.publishers);
      return new LoadRig({ broker, gateway, log, publisher, watcher, ids, options, dir });
    } catch (error) {
      await gateway?.stop();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The gateway's devices (from its dashboard). */
  async devices(): Promise<DeviceSummary[]> {
    const response = await fetch(`${this.gateway.dashboardUrl}/api/devices`);
    if (!response.ok) throw new Error(`GET /api/devices: ${response.status}`);
    return ((await response.json()) as { devices: DeviceSummary[] }).devices;
  }

  /**
   * Publishes until every device executes (each device's learning, then more rounds if the
   * queue dropped some), at `rate`; returns the messages it took.
   */
  async warmUp(rate: number, learning: number): Promise<number> {
    let published = 0;
    for (let round = 0; round < 10; round++) {
      const devices = await this.devices();
      const learned = devices.filter((d) => d.phase === "executing").length;
      if (learned === this.ids.length) return published;
      const owed = round === 0 ? learning : Math.ceil(learning / 4);
      const step = await this.step(rate, owed * this.ids.length);
      published += step.published;
    }
    throw new Error(`devices still learning after ${published} messages`);
  }

  /**
   * One measured step: `messages` readings at `rate`/s (or `payload`'s bytes), then a wait until
   * every message is scored, dropped or rejected (or lost before the gateway, shown by mosquitto).
   * `rss` samples the gateway's memory (default: every 250 ms).
   */
  async step(
    rate: number,
    messages: number,
    options: {
      payload?: (device: number, seq: number) => string;
      rss?: RssSampler;
      /** Called just before the first publish and just after the last (e.g. to pause the gateway). */
      beforePublish?: () => void;
      afterPublish?: () => void;
    } = {},
  ): Promise<StepResult> {
    const { gateway, watcher } = this;
    const rss = options.rss ?? new RssSampler(() => gateway.rss(), 250);
    const loadStart = loadAverage();
    const cpuStart = this.#cpu();
    const before = await gateway.status();
    const brokerBefore = watcher.brokerDropped;
    watcher.resync();
    options.beforePublish?.();
    const sent: PublishResult = await this.publisher.run(
      rate,
      messages,
      options.payload ?? reading,
    );
    options.afterPublish?.();
    const { status: after, settled } = await this.#settle(before, sent.published);
    const ended = performance.now();
    const cpuEnd = this.#cpu();
    rss.stop();
    await watcher.brokerCatchUp(); // mosquitto reports what it dropped once a second
    const d = delta(before, after);
    const processing = after.scoreLatency.counts.map((n, i) => n - before.scoreLatency.counts[i]);
    const brokerDropped = watcher.brokerDropped - brokerBefore;
    const scoredSeconds = (watcher.lastAt - sent.startedAt) / 1000;
    const wall = (ended - sent.startedAt) / 1000;
    const share = (k: number) => (100 * (cpuEnd[k] - cpuStart[k])) / wall;
    return {
      rate,
      published: sent.published,
      offeredPerSecond: sent.published / sent.seconds,
      scored: watcher.received,
      scoredPerSecond: watcher.received / scoredSeconds,
      p50: watcher.histogram.percentile(50),
      p99: watcher.histogram.percentile(99),
      maxLatency: watcher.histogram.max,
      latencyExact: d.dropped === 0 && !(brokerDropped > 0) && watcher.unmatched === 0,
      gatewayP50: watcher.inGateway.percentile(50),
      gatewayP99: watcher.inGateway.percentile(99),
      processingP50: latencyQuantileBound(processing, 0.5),
      processingP99: latencyQuantileBound(processing, 0.99),
      sendPauses: (after.mqtt.sendPauses ?? NaN) - (before.mqtt.sendPauses ?? NaN),
      received: d.messages,
      accepted: d.accepted,
      dropped: d.dropped,
      rejected: d.rejected,
      brokerDropped,
      rssStart: rss.first,
      rssEnd: rss.last,
      rssMax: rss.max,
      gatewayCpu: share(0),
      brokerCpu: share(1),
      benchCpu: share(2),
      gatewayMicrosPerMessage: (1e6 * (cpuEnd[0] - cpuStart[0])) / d.messages,
      loadStart,
      loadEnd: loadAverage(),
      settled,
      seconds: wall,
    };
  }

  /** CPU seconds used so far by the gateway, mosquitto and this process. */
  #cpu(): [number, number, number] {
    return [
      cpuSeconds(this.gateway.pid),
      cpuSeconds(this.broker.pid() ?? -1),
      cpuSeconds(process.pid),
    ];
  }

  // Waits until the gateway has taken every published message and the watcher every score, or
  // until nothing has moved for QUIET_MS (messages lost on the way, which mosquitto counts).
  async #settle(
    before: GatewayStatus,
    published: number,
  ): Promise<{ status: GatewayStatus; settled: boolean }> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let lastChange = Date.now();
    let last = "";
    for (;;) {
      const status = await this.gateway.status();
      const d = delta(before, status);
      const complete = status.queued === 0 && d.messages === published &&
        this.watcher.received === d.accepted;
      if (complete) return { status, settled: true };
      const fingerprint = `${d.messages} ${status.queued} ${this.watcher.received}`;
      if (fingerprint !== last) {
        last = fingerprint;
        lastChange = Date.now();
      } else if (status.queued === 0 && Date.now() - lastChange > QUIET_MS) {
        return { status, settled: false };
      }
      if (Date.now() > deadline) return { status, settled: false };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops the gateway (SIGTERM; it writes its final snapshot), then everything else. */
  async close(): Promise<string> {
    let log = "";
    try {
      await this.publisher.close();
      await this.watcher.close();
    } finally {
      log = await this.gateway.stop();
      await this.broker.close();
      rmSync(this.#dir, { recursive: true, force: true });
    }
    return log;
  }
}

/** Counter changes between two statuses. */
function delta(a: GatewayStatus, b: GatewayStatus) {
  const sum = (s: GatewayStatus) => Object.values(s.counters.rejected).reduce((x, y) => x + y, 0);
  return {
    messages: b.counters.messages - a.counters.messages,
    accepted: b.counters.accepted - a.counters.accepted,
    dropped: b.counters.dropped - a.counters.dropped,
    rejected: sum(b) - sum(a),
  };
}

/** The 1-minute load average (as `uptime` shows it). */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) process `pid` has used, from `/proc/<pid>/stat`; NaN if unknown. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at index 2 (state).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return NaN;
  }
}
