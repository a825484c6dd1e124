/**
 * The running gateway: MQTT in, the engine, scores and alerts out, snapshots on a timer and at
 * shutdown. {@linkcode GatewayView} is what the dashboard (and tests) read and act through.
 *
 * @module
 */

import type { GatewayConfig } from "./gateway_config.ts";
import {
  type AlertEvent,
  type DeviceState,
  type DeviceSummary,
  type GatewayCounters,
  GatewayEngine,
  type RejectSource,
} from "../../core/gateway/mod.ts";
import type {
  Incident,
  IncidentChange,
  IncidentCounts,
  IncidentQuery,
} from "../../core/incidents/mod.ts";
import { LatencyBuckets, type LatencySummary } from "../../core/gateway/mod.ts";
import type {
  DigestPoint,
  DigestRange,
  ScorePoint,
  VerdictRecord,
} from "../../core/gateway/mod.ts";
import { verdictJson, verdictRecord } from "../../core/gateway/mod.ts";
import { VERSION } from "../../core/version.ts";
import { readModelFiles } from "../files/mod.ts";
import { discoveryMessages, MqttLink, type MqttLinkStats } from "../mqtt/mod.ts";
import { SnapshotStore } from "../files/mod.ts";
import { RejectionLog } from "./rejection_log.ts";

/** Messages processed per turn of the event loop, so MQTT I/O keeps flowing under load. */
const DRAIN_BATCH = 512;

/** How often incidents of devices that went silent are closed. */
const SWEEP_MS = 1000;

/** Something that happened, as the dashboard's event stream carries it. */
export type GatewayEvent =
  | ({ type: "score"; device: string } & VerdictRecord)
  | { type: "alert"; alert: AlertEvent }
  | { type: "incident"; change: IncidentChange }
  | { type: "state"; device: string; state: DeviceState }
  | { type: "snapshot"; path: string; at: number };

/** Hands `event` to every listener; one that throws is logged, and the others still get it. */
export function emitEvent(
  listeners: Iterable<(event: GatewayEvent) => void>,
  event: GatewayEvent,
  log: (line: string) => void,
): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      log(`event listener failed: ${(error as Error).message}`);
    }
  }
}

/** The gateway's state at a glance. */
export interface GatewayStatus {
  /** foxtail's version. */
  version: string;
  /** When the gateway started, in milliseconds since the epoch. */
  startedAt: number;
  /** The MQTT connection. */
  mqtt: MqttLinkStats;
  /** Message, rejection, drop, eviction and anomaly counters. */
  counters: GatewayCounters;
  /** Devices held. */
  devices: number;
  /** Incidents open, opened, and overwritten in the full ring. */
  incidents: IncidentCounts;
  /** Messages waiting in the queue. */
  queued: number;
  /** When the last snapshot was written (or restored), or null. */
  lastSnapshotAt: number | null;
  /** Snapshot writes that failed. */
  snapshotFailures: number;
  /** Why the last snapshot write failed, or null once one succeeds again. */
  lastSnapshotError: string | null;
  /**
   * How long scored messages spent in the gateway, from receipt to their score handed to the
   * MQTT link (queue wait, decoding, scoring), since start.
   */
  scoreLatency: LatencySummary;
}

/** The senders of refused messages, as the dashboard lists them. */
export interface RejectSourceList {
  /** The senders with the most refused messages, most first. */
  sources: RejectSource[];
  /** Senders forgotten by the bounded table (`limits.maxDevices`) to make room. */
  forgotten: number;
}

/** What the dashboard reads and does. */
export interface GatewayView {
  /** The state at a glance. */
  status(): GatewayStatus;
  /** Every device, most recently seen first. */
  devices(): DeviceSummary[];
  /** A device's recent scores, oldest first; undefined for an unknown device. */
  deviceScores(id: string, limit?: number): ScorePoint[] | undefined;
  /** A device's downsampled scores over the last hour or day; undefined for an unknown device. */
  deviceHistory(id: string, range: DigestRange): DigestPoint[] | undefined;
  /** Recent alerts, newest first. */
  recentAlerts(): AlertEvent[];
  /** Incidents, open ones first, newest first. */
  incidents(query?: IncidentQuery): Incident[];
  /** Acknowledges an incident; returns it, or undefined for an id not kept. */
  acknowledgeIncident(id: number): Incident | undefined;
  /**
   * Mutes a device for `minutes` from now, or with null ends its mute; returns until when it
   * is muted (null: not), or undefined for a device not held.
   */
  muteDevice(id: string, minutes: number | null): { mutedUntil: number | null } | undefined;
  /** The senders with the most refused messages (at most `limit`), by device or topic. */
  rejectSources(limit?: number): RejectSourceList;
  /** Calls `listener` on every event until the returned function is called. */
  subscribe(listener: (event: GatewayEvent) => void): () => void;
  /** Writes a snapshot now; returns its path. */
  snapshotNow(): string;
  /** Forgets a device so it relearns; returns whether it was held. */
  resetDevice(id: string): boolean;
  /** Sets (or with null clears) a device's manual threshold; returns whether it was held. */
  setThreshold(id: string, value: number | null): boolean;
}

/** What stopping the gateway could not do. */
export interface GatewayStopReport {
  /**
   * Scores and alerts that could not be sent and were dropped: those made while the link was
   * down during the stop, alerts held for a broker that did not come back, and QoS 1 publishes
   * it never acknowledged.
   */
  unsent: number;
  /** Whether the MQTT connection had to be closed forcibly. */
  forced: boolean;
}

/** Options of {@linkcode GatewayRunner}. */
export interface GatewayRunnerOptions {
  /** Where log lines go (default: standard error). */
  log?: (line: string) => void;
  /** The clock, in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** The gateway: start it, read it through {@linkcode GatewayView}, stop it. */
export class GatewayRunner implements GatewayView {
  /** The configuration it runs. */
  readonly config: GatewayConfig;
  /** The logic. */
  readonly engine: GatewayEngine;
  /** The MQTT connection. */
  readonly link: MqttLink;
  /** The snapshot folder. */
  readonly store: SnapshotStore;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #listeners = new Set<(event: GatewayEvent) => void>();
  readonly #scoreTopicPrefix: string;
  #startedAt = 0;
  #lastSnapshotAt: number | null = null;
  #snapshotFailures = 0;
  #lastSnapshotError: string | null = null;
  readonly #latency = new LatencyBuckets();
  readonly #rejections: RejectionLog;
  #drainScheduled = false;
  #drainTimer: ReturnType<typeof setImmediate> | undefined;
  #snapshotTimer: ReturnType<typeof setInterval> | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  readonly #drainSoon = (): void => this.#drain();
  readonly #resumeDrain = (): void => {
    this.#drainScheduled = false;
    this.#scheduleDrain();
  };

  constructor(config: GatewayConfig, options: GatewayRunnerOptions = {}) {
    this.config = config;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#now = options.now ?? Date.now;
    this.#scoreTopicPrefix = `${config.mqtt.topicPrefix}/`;
    this.#rejections = new RejectionLog({ log: this.#log, now: this.#now });
    this.engine = new GatewayEngine(config, {
      score: (device, v, ts) => {
        this.#latency.record(this.#now() - ts);
        this.link.publishScore(`${this.#scoreTopicPrefix}${device}/score`, verdictJson(ts, v));
        if (this.#listeners.size > 0) {
          this.#emit({ type: "score", device, ...verdictRecord(ts, v) });
        }
      },
      alert: (alert) => {
        this.link.publishAlert(
          `${this.#scoreTopicPrefix}${alert.device}/alert`,
          JSON.stringify(alert),
        );
        this.#emit({ type: "alert", alert });
      },
      incident: (change) => {
        if (!change.muted) {
          const { incident } = change;
          this.link.publishAlert(
            `${this.#scoreTopicPrefix}${incident.device}/incident`,
            JSON.stringify({ change: change.change, ...incident }),
          );
        }
        this.#emit({ type: "incident", change });
      },
      state: (device, state, previous) => this.#publishState(device, state, previous),
      reject: (rejection) => this.#rejections.record(rejection),
    }, readModelFiles(config));
    this.link = new MqttLink(config.mqtt, config.streams, {
      message: (topic, payload) => {
        this.engine.receive(topic, payload, this.#now());
        this.#scheduleDrain();
      },
      log: (line) => this.#log(line),
    });
    this.store = new SnapshotStore(config.snapshots.dir, config.snapshots.keep);
  }

  /**
   * Removes snapshot writes a crash left unfinished, restores the newest usable snapshot,
   * connects, and starts the snapshot timer.
   */
  start(): void {
    if (this.#running) throw new Error("the gateway is already running");
    this.#running = true;
    this.#startedAt = this.#now();
    try {
      for (const path of this.store.removeLeftovers()) {
        this.#log(`snapshot: removed ${path}, a write cut short by a crash`);
      }
    } catch (error) {
      // A read-only folder must not stop detection: the leftovers are never read anyway.
      this.#log(`snapshot: cannot remove unfinished writes: ${(error as Error).message}`);
    }
    const { loaded, passedOver } = this.store.loadNewest((bytes) => this.engine.restore(bytes));
    for (const line of passedOver) this.#log(`snapshot: passed over ${line}`);
    if (loaded !== undefined) {
      const r = loaded.value;
      this.#lastSnapshotAt = r.savedAt;
      this.#log(
        `snapshot: resumed ${r.devices} device(s) from ${loaded.path} ` +
          `(saved ${new Date(r.savedAt).toISOString()})`,
      );
      for (const line of r.skipped) this.#log(`snapshot: skipped ${line}`);
    } else {
      this.#log(`snapshot: none usable in ${this.store.dir}; every device starts learning`);
    }
    this.link.start();
    const seconds = this.config.snapshots.intervalSeconds;
    if (seconds > 0) {
      this.#snapshotTimer = setInterval(() => this.#snapshotQuietly(), seconds * 1000);
    }
    this.#sweepTimer = setInterval(() => this.engine.sweep(this.#now()), SWEEP_MS);
  }

  /**
   * Publishes a device's state, retained, so a subscriber that connects later knows which
   * devices are alerting; announces a device new to this run to Home Assistant when asked to.
   */
  #publishState(device: string, state: DeviceState, previous: DeviceState | undefined): void {
    const { homeAssistantDiscovery, topicPrefix } = this.config.mqtt;
    if (previous === undefined && homeAssistantDiscovery !== undefined) {
      const stream = this.engine.device(device)?.stream ?? "";
      const messages = discoveryMessages(homeAssistantDiscovery, topicPrefix, device, stream);
      for (const { topic, body } of messages) this.link.publishAlert(topic, body, true);
    }
    const body = JSON.stringify({ state, ts: this.#now() });
    this.link.publishAlert(`${this.#scoreTopicPrefix}${device}/state`, body, true);
    this.#emit({ type: "state", device, state });
  }

  /**
   * Stops timers, scores what is queued, writes a final snapshot, publishes `offline` and
   * closes the connection, within a few seconds whatever the broker does (see
   * {@linkcode MqttLink.stop}); reports what could not be sent.
   */
  async stop(): Promise<GatewayStopReport> {
    if (!this.#running) return { unsent: 0, forced: false };
    this.#running = false;
    clearInterval(this.#snapshotTimer);
    clearInterval(this.#sweepTimer);
    if (this.#drainTimer !== undefined) clearImmediate(this.#drainTimer);
    this.#drainScheduled = false;
    const skippedBefore = this.link.stats().scoresSkipped;
    this.engine.drain();
    this.#rejections.flush();
    this.#snapshotQuietly();
    const { dropped, forced } = await this.link.stop();
    this.#listeners.clear();
    return { unsent: dropped + this.link.stats().scoresSkipped - skippedBefore, forced };
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || !this.#running) return;
    this.#drainScheduled = true;
    // setImmediate runs right after pending I/O; a 0 ms timer can wait behind many socket reads
    // (Deno), letting a burst overflow the queue while the CPU is idle.
    this.#drainTimer = setImmediate(this.#drainSoon);
  }

  #drain(): void {
    if (this.link.congested) {
      // The broker reads scores slower than they are made: wait for the send buffer to empty
      // (#drainScheduled stays set); meanwhile the bounded queue drops its oldest messages.
      this.link.whenSendable(this.#resumeDrain);
      return;
    }
    this.#drainScheduled = false;
    this.engine.drain(DRAIN_BATCH);
    if (this.engine.queued > 0) this.#scheduleDrain();
  }

  #snapshotQuietly(): void {
    try {
      this.snapshotNow();
    } catch {
      // Counted, kept for the dashboard and logged by snapshotNow; detection goes on.
    }
  }

  #emit(event: GatewayEvent): void {
    emitEvent(this.#listeners, event, this.#log);
  }

  // ---- GatewayView ---------------------------------------------------------------------------

  /** The state at a glance. */
  status(): GatewayStatus {
    return {
      version: VERSION,
      startedAt: this.#startedAt,
      mqtt: this.link.stats(),
      counters: this.engine.counters(),
      devices: this.engine.deviceCount,
      incidents: this.engine.incidentCounts(),
      queued: this.engine.queued,
      lastSnapshotAt: this.#lastSnapshotAt,
      snapshotFailures: this.#snapshotFailures,
      lastSnapshotError: this.#lastSnapshotError,
      scoreLatency: this.#latency.summary(),
    };
  }

  /** Every device, most recently seen first. */
  devices(): DeviceSummary[] {
    return this.engine.devices(this.#now());
  }

  /** A device's recent scores, oldest first. */
  deviceScores(id: string, limit?: number): ScorePoint[] | undefined {
    return this.engine.deviceScores(id, limit);
  }

  /** A device's downsampled scores over the last hour or day. */
  deviceHistory(id: string, range: DigestRange): DigestPoint[] | undefined {
    return this.engine.deviceDigest(id, range);
  }

  /** Recent alerts, newest first. */
  recentAlerts(): AlertEvent[] {
    return this.engine.recentAlerts();
  }

  /** Incidents, open ones first, newest first. */
  incidents(query?: IncidentQuery): Incident[] {
    return this.engine.incidents(query);
  }

  /** Acknowledges an incident now. */
  acknowledgeIncident(id: number): Incident | undefined {
    return this.engine.acknowledgeIncident(id, this.#now());
  }

  /** Mutes a device for `minutes` from now, or ends its mute. */
  muteDevice(id: string, minutes: number | null): { mutedUntil: number | null } | undefined {
    const until = minutes === null ? null : this.#now() + minutes * 60_000;
    return this.engine.muteDevice(id, until) ? { mutedUntil: until } : undefined;
  }

  /** The senders with the most refused messages, by device or topic. */
  rejectSources(limit?: number): RejectSourceList {
    return {
      sources: this.engine.rejectSources(limit),
      forgotten: this.engine.rejectSourcesForgotten,
    };
  }

  /** Calls `listener` on every event until the returned function is called. */
  subscribe(listener: (event: GatewayEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Writes a snapshot now (atomically); returns its path. A failure (full or read-only disk) is
   * counted, logged and kept in the status, whether the timer or the dashboard asked, then thrown.
   */
  snapshotNow(): string {
    const at = this.#now();
    let path: string;
    try {
      path = this.store.save(this.engine.toBytes(at));
    } catch (error) {
      this.#snapshotFailures++;
      this.#lastSnapshotError = (error as Error).message;
      this.#log(`snapshot: cannot write to ${this.store.dir}: ${(error as Error).message}`);
      throw error;
    }
    this.#lastSnapshotAt = at;
    this.#lastSnapshotError = null;
    this.#emit({ type: "snapshot", path, at });
    return path;
  }

  /** Forgets a device so it relearns. */
  resetDevice(id: string): boolean {
    return this.engine.resetDevice(id, this.#now());
  }

  /** Sets or clears a device's manual threshold. */
  setThreshold(id: string, value: number | null): boolean {
    return this.engine.setThreshold(id, value);
  }
}
