/**
 * The gateway without I/O: messages in (topic, payload, time), verdicts out through a
 * {@linkcode GatewayOutput}, with a bounded queue, a bounded device table, counters, recent
 * alerts, and the whole state as a snapshot. The MQTT adapter feeds it; the dashboard reads it.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec/mod.ts";
import { ConfigProblems } from "./config_reader.ts";
import { dampedFeatureNames } from "./damped_features.ts";
import { ModelProblem, type StreamDetectors } from "../detector.ts";
import { detectorType } from "../registry.ts";
import { deviceIdProblem, DeviceTopicPattern } from "./device_topic.ts";
import {
  type Attribution,
  type DetectorSettings,
  DeviceDetector,
  type DevicePhase,
  type DeviceState,
  type Verdict,
} from "./device_detector.ts";
import { DropOldestQueue } from "./drop_oldest_queue.ts";
import type { PipelineConfig, StreamConfig } from "./pipeline_config.ts";
import { LruTable } from "./lru_table.ts";
import { PayloadDecoder, REJECT_REASONS, type RejectReason } from "./payload_decoder.ts";
import { type RejectSource, RejectTally } from "./reject_tally.ts";
import { seal, unseal } from "../codec/mod.ts";
import type { ScorePoint } from "./score_history.ts";
import type { DigestPoint, DigestRange } from "./score_digest.ts";
import {
  type Incident,
  type IncidentChange,
  type IncidentCounts,
  IncidentLog,
  type IncidentQuery,
} from "../incidents/mod.ts";

/** Alerts kept for the dashboard. */
export const RECENT_ALERTS = 100;

const SNAPSHOT_KIND = "GWAY";
/**
 * 5 adds the incidents, the mutes, each device's downsampled scores and the reject counts by
 * sender; 4 writes each device's model by its type's name and state
 * bytes (any detector); 3 added each device's recent scores; 2 damped windows and shared models.
 * 1 (KitNET on raw values) to 4 are still read.
 */
const SNAPSHOT_VERSION = 5;

/** An anomaly, as published and kept among the recent alerts. */
export interface AlertEvent {
  /** The device id. */
  device: string;
  /** The device's stream. */
  stream: string;
  /** Milliseconds since the epoch. */
  ts: number;
  /** The anomaly score. */
  score: number;
  /** The threshold it exceeded. */
  threshold: number;
  /** The features that contributed most. */
  attribution: Attribution;
}

/** Where verdicts go (the MQTT publisher, the dashboard's event stream). */
export interface GatewayOutput {
  /**
   * Every scored message, by its device's id. `verdict` is reused: read it during the call,
   * don't keep it.
   */
  score(device: string, verdict: Readonly<Verdict>, ts: number): void;
  /** Every anomaly, after its score, unless its device is muted. */
  alert(alert: AlertEvent): void;
  /** Every incident that opens or closes (a muted device's too, marked so). */
  incident?(change: IncidentChange): void;
  /**
   * A device's state when it changes; `previous` is undefined on its first message since the
   * gateway started (or since it was forgotten).
   */
  state?(device: string, state: DeviceState, previous: DeviceState | undefined): void;
  /** Every refused message (for logs). `rejection` is the engine's `lastRejection`. */
  reject?(rejection: Readonly<Rejection>): void;
}

/** The gateway's counters. */
export interface GatewayCounters {
  /** Messages received (queued). */
  messages: number;
  /** Messages scored. */
  accepted: number;
  /** Messages refused, by reason. */
  rejected: Record<RejectReason, number>;
  /** Messages dropped from a full queue (oldest first). */
  dropped: number;
  /** Devices evicted from a full table (least recently seen first). */
  evicted: number;
  /** Anomalies flagged. */
  anomalies: number;
}

/** A device as the dashboard lists it. */
export interface DeviceSummary {
  /** The device id. */
  id: string;
  /** Its stream. */
  stream: string;
  /** Its detector's phase. */
  phase: DevicePhase;
  /** Its state in words. */
  state: DeviceState;
  /** Its open incident's id, or null. */
  incident: number | null;
  /** Until when it is muted (milliseconds since the epoch), or null. */
  mutedUntil: number | null;
  /** Share of learning and calibration done, in [0, 1]. */
  progress: number;
  /** The last score. */
  score: number;
  /** The threshold in force, or null. */
  threshold: number | null;
  /** Messages scored. */
  messages: number;
  /** Anomalies flagged. */
  anomalies: number;
  /** When it was last seen, in milliseconds since the epoch. */
  lastSeen: number;
  /** Its messages refused (since start; 0 once forgotten by the bounded reject table). */
  rejected: number;
}

/** The last refused message, for logs. */
export interface Rejection {
  /** Why. */
  reason: RejectReason;
  /** Its topic. */
  topic: string;
  /** The device it named, when its topic matched a stream's pattern with a valid id. */
  device: string | undefined;
  /** Details. */
  problem: string;
}

/** What restoring a snapshot did. */
export interface RestoreReport {
  /** When the snapshot was taken, in milliseconds since the epoch. */
  savedAt: number;
  /** Devices restored. */
  devices: number;
  /** Devices left out, each with the reason. */
  skipped: string[];
}

interface CompiledStream {
  config: StreamConfig;
  pattern: DeviceTopicPattern;
  decoder: PayloadDecoder;
  /** The decoded payload: the values, and the timestamp if it has one. */
  vector: Float64Array;
  /** The values: a view of `vector`, or filled from it through `valueAt`. */
  values: Float64Array;
  /** Where each value sits in `vector`, when the timestamp is among them. */
  valueAt: Int32Array | undefined;
  /** Where the timestamp sits in `vector`; -1: the arrival time is used. */
  timeAt: number;
  /** Timestamp units per second. */
  timeUnits: number;
  settings: DetectorSettings;
}

/** The gateway's logic, fed messages and read by adapters. */
export class GatewayEngine {
  /** The configuration it runs. */
  readonly config: PipelineConfig;
  /** Where verdicts and alerts go. */
  output: GatewayOutput | undefined;
  /** The last refused message. */
  lastRejection: Rejection | undefined;
  readonly #streams: CompiledStream[];
  readonly #queue: DropOldestQueue;
  readonly #devices: LruTable<DeviceDetector>;
  readonly #rejected: Float64Array = new Float64Array(REJECT_REASONS.length);
  #rejectSources: RejectTally;
  #messages = 0;
  #accepted = 0;
  #anomalies = 0;
  readonly #alerts: (AlertEvent | undefined)[] = new Array(RECENT_ALERTS).fill(undefined);
  #alertCount = 0;
  #incidents: IncidentLog;
  readonly #take = (topic: string, payload: Uint8Array, receivedAt: number): void => {
    this.#process(topic, payload, receivedAt);
  };

  /**
   * A gateway running `config`. `models` holds the bytes of every `deep-ae` stream's model
   * file, by its configured path (core reads no files: the adapter does). Throws a
   * {@linkcode ConfigError} naming the key path when a model is missing, unreadable, or does
   * not fit its stream (input width versus the stream's fields or features).
   */
  constructor(
    config: PipelineConfig,
    output?: GatewayOutput,
    models: ReadonlyMap<string, Uint8Array> = new Map(),
  ) {
    this.config = config;
    this.output = output;
    const { limits } = config;
    const problems = new ConfigProblems();
    this.#streams = config.streams.map((stream, i) =>
      compileStream(stream, `streams[${i}]`, limits.maxPayloadBytes, limits.historyPoints, {
        models,
        problems,
      })
    );
    problems.throwIfAny();
    this.#queue = new DropOldestQueue(limits.queueCapacity);
    this.#devices = new LruTable(limits.maxDevices);
    this.#incidents = newIncidentLog(config);
    this.#rejectSources = new RejectTally(limits.maxDevices);
  }

  /** Messages waiting in the queue. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues a received message (dropping the oldest when the queue is full). A payload over
   * `limits.maxPayloadBytes` is refused at once, so the queue never holds more than
   * `queueCapacity × maxPayloadBytes` of payloads.
   */
  receive(topic: string, payload: Uint8Array, receivedAt: number): void {
    this.#messages++;
    if (payload.length > this.config.limits.maxPayloadBytes) {
      const limit = this.config.limits.maxPayloadBytes;
      const problem = `${payload.length} bytes, the limit is ${limit}`;
      this.#reject("too-large", topic, problem, this.#deviceOf(topic), receivedAt);
      return;
    }
    this.#queue.push(topic, payload, receivedAt);
  }

  /** Processes up to `max` queued messages, oldest first; returns how many it processed. */
  drain(max = Infinity): number {
    let done = 0;
    while (done < max && this.#queue.shift(this.#take)) done++;
    return done;
  }

  // Decodes and scores one message; a bad message is counted, never thrown.
  #process(topic: string, payload: Uint8Array, receivedAt: number): RejectReason | undefined {
    let stream: CompiledStream | undefined;
    let id: string | undefined;
    for (let s = 0; s < this.#streams.length && id === undefined; s++) {
      stream = this.#streams[s];
      id = stream.pattern.match(topic);
    }
    if (id === undefined || stream === undefined) {
      const problem = "no stream's device pattern matches";
      return this.#reject("unmatched-topic", topic, problem, undefined, receivedAt);
    }
    const idProblem = deviceIdProblem(id);
    if (idProblem !== undefined) {
      return this.#reject("bad-device-id", topic, idProblem, undefined, receivedAt);
    }
    const reason = stream.decoder.decode(payload, stream.vector);
    if (reason !== undefined) {
      return this.#reject(reason, topic, stream.decoder.lastProblem, id, receivedAt);
    }
    const { vector, values, valueAt, timeAt } = stream;
    if (valueAt !== undefined) {
      for (let k = 0; k < valueAt.length; k++) values[k] = vector[valueAt[k]];
    }
    const seconds = timeAt < 0 ? receivedAt / 1000 : vector[timeAt] / stream.timeUnits;
    let detector = this.#devices.touch(id);
    if (detector === undefined) {
      detector = new DeviceDetector(id, stream.config.name, stream.settings);
      const evicted = this.#devices.insert(id, detector);
      if (evicted !== undefined) this.#forget(evicted.id, receivedAt);
    } else if (detector.stream !== stream.config.name) {
      return this.#reject(
        "stream-conflict",
        topic,
        `device "${id}" belongs to stream "${detector.stream}"`,
        id,
        receivedAt,
      );
    }
    const verdict = detector.score(values, receivedAt, seconds);
    this.#accepted++;
    this.output?.score(id, verdict, receivedAt);
    let alerting = false;
    if (verdict.anomaly) {
      this.#anomalies++;
      const alert: AlertEvent = {
        device: id,
        stream: detector.stream,
        ts: receivedAt,
        score: verdict.score,
        threshold: verdict.threshold,
        attribution: detector.attribution(),
      };
      this.#alerts[this.#alertCount % RECENT_ALERTS] = alert;
      this.#alertCount++;
      const { score, threshold, attribution } = alert;
      const change = this.#incidents.alert(
        id,
        alert.stream,
        receivedAt,
        score,
        threshold,
        attribution.features,
      );
      if (this.#incidents.mutedUntil(id, receivedAt) === null) this.output?.alert(alert);
      if (change !== undefined) this.output?.incident?.(change);
      alerting = true;
    } else if (this.#incidents.openCount > 0) {
      const change = this.#incidents.calm(id, receivedAt);
      if (change !== undefined) this.output?.incident?.(change);
      alerting = this.#incidents.openId(id) !== 0;
    }
    this.#report(detector, alerting);
    return undefined;
  }

  /** Tells `output.state` of a change of the device's state. */
  #report(detector: DeviceDetector, alerting: boolean): void {
    const state = alerting ? "alerting" : stateOfPhase(detector.phase);
    const previous = detector.reportedState;
    if (previous === state) return;
    detector.reportedState = state;
    this.output?.state?.(detector.id, state, previous);
  }

  /** A device left the table: its incident closes, its mute ends. */
  #forget(id: string, at: number): void {
    const change = this.#incidents.forget(id, at);
    if (change !== undefined) this.output?.incident?.(change);
  }

  /**
   * Closes the incidents of devices that went quiet by `now` (no message came to close them),
   * reporting each close and state change, and ends mutes that ran out. The adapter calls it
   * on a timer.
   */
  sweep(now: number): void {
    if (this.#incidents.openCount === 0) return;
    this.#incidents.sweep(now, (change) => {
      this.output?.incident?.(change);
      const detector = this.#devices.peek(change.incident.device);
      if (detector !== undefined) this.#report(detector, false);
    });
  }

  /** Incidents, open ones first, newest first. */
  incidents(query?: IncidentQuery): Incident[] {
    return this.#incidents.list(query);
  }

  /** The incident counters. */
  incidentCounts(): IncidentCounts {
    return this.#incidents.counts();
  }

  /** Acknowledges incident `id` at `at`; returns it, or undefined for an id not kept. */
  acknowledgeIncident(id: number, at: number): Incident | undefined {
    return this.#incidents.acknowledge(id, at);
  }

  /**
   * Mutes device `id` until `until` (its alerts and incidents are kept and shown but not
   * announced), or with null ends its mute; returns whether the device is held.
   */
  muteDevice(id: string, until: number | null): boolean {
    if (this.#devices.peek(id) === undefined) return false;
    if (until === null) this.#incidents.unmute(id);
    else this.#incidents.mute(id, until);
    return true;
  }

  #reject(
    reason: RejectReason,
    topic: string,
    problem: string,
    device: string | undefined,
    at: number,
  ): RejectReason {
    this.#rejected[REJECT_REASONS.indexOf(reason)]++;
    this.#rejectSources.record(device, topic, reason, problem, at);
    this.lastRejection = { reason, topic, device, problem };
    this.output?.reject?.(this.lastRejection);
    return reason;
  }

  /** The valid device id a topic names, if any stream's pattern matches it. */
  #deviceOf(topic: string): string | undefined {
    for (const stream of this.#streams) {
      const id = stream.pattern.match(topic);
      if (id !== undefined) return deviceIdProblem(id) === undefined ? id : undefined;
    }
    return undefined;
  }

  /**
   * The senders with the most refused messages, most first (at most `limit`): by device when
   * the topic named one, else by topic. The table holds at most `limits.maxDevices` senders.
   */
  rejectSources(limit?: number): RejectSource[] {
    return this.#rejectSources.top(limit);
  }

  /** Senders forgotten by the bounded reject table to make room. */
  get rejectSourcesForgotten(): number {
    return this.#rejectSources.forgotten;
  }

  /** Messages refused from device `id` (whether or not it is held). */
  deviceRejections(id: string): number {
    return this.#rejectSources.countOf(id);
  }

  /** A copy of the counters. */
  counters(): GatewayCounters {
    const rejected = {} as Record<RejectReason, number>;
    REJECT_REASONS.forEach((reason, i) => rejected[reason] = this.#rejected[i]);
    return {
      messages: this.#messages,
      accepted: this.#accepted,
      rejected,
      dropped: this.#queue.dropped,
      evicted: this.#devices.evicted,
      anomalies: this.#anomalies,
    };
  }

  /** Devices held now. */
  get deviceCount(): number {
    return this.#devices.size;
  }

  /** The detector of device `id`, if held. */
  device(id: string): DeviceDetector | undefined {
    return this.#devices.peek(id);
  }

  /** Device `id`'s recent scores, oldest first (the newest `limit`), if it is held. */
  deviceScores(id: string, limit?: number): ScorePoint[] | undefined {
    return this.#devices.peek(id)?.history.points(limit);
  }

  /** Device `id`'s downsampled scores over `range`, oldest first, if it is held. */
  deviceDigest(id: string, range: DigestRange): DigestPoint[] | undefined {
    return this.#devices.peek(id)?.digest.points(range);
  }

  /**
   * Sets device `id`'s manual threshold (> 0), or clears it with `null`; returns whether the
   * device is held. Throws a `RangeError` for a threshold that is not a positive finite number.
   */
  setThreshold(id: string, value: number | null): boolean {
    const device = this.#devices.peek(id);
    if (device === undefined) return false;
    device.setThreshold(value);
    return true;
  }

  /** Every device held, most recently seen first; `now` decides which mutes still hold. */
  devices(now: number = -Infinity): DeviceSummary[] {
    const out: DeviceSummary[] = [];
    for (const d of this.#devices.values()) {
      const threshold = d.threshold;
      const phase = d.phase;
      const incident = this.#incidents.openId(d.id);
      out.push({
        id: d.id,
        stream: d.stream,
        phase,
        state: incident !== 0 ? "alerting" : stateOfPhase(phase),
        incident: incident !== 0 ? incident : null,
        mutedUntil: this.#incidents.mutedUntil(d.id, now),
        progress: d.progress,
        score: d.last.score,
        threshold: Number.isNaN(threshold) ? null : threshold,
        messages: d.messages,
        anomalies: d.anomalies,
        lastSeen: d.lastSeen,
        rejected: this.#rejectSources.countOf(d.id),
      });
    }
    return out.reverse();
  }

  /**
   * Forgets device `id` at `at` (it relearns from its next message; its incident closes);
   * returns whether it was held.
   */
  resetDevice(id: string, at: number): boolean {
    if (!this.#devices.delete(id)) return false;
    this.#forget(id, at);
    return true;
  }

  /** The recent alerts, newest first (at most {@linkcode RECENT_ALERTS}). */
  recentAlerts(): AlertEvent[] {
    const out: AlertEvent[] = [];
    const count = Math.min(this.#alertCount, RECENT_ALERTS);
    for (let k = 1; k <= count; k++) {
      out.push(this.#alerts[(this.#alertCount - k) % RECENT_ALERTS]!);
    }
    return out;
  }

  /**
   * Every detector (model, calibration, counters, recent scores) and the gateway's counters,
   * sealed.
   */
  toBytes(savedAt: number): Uint8Array {
    const w = new ByteWriter();
    w.f64(savedAt);
    w.f64(this.#messages).f64(this.#accepted).f64(this.#anomalies);
    w.f64(this.#queue.dropped).f64(this.#devices.evicted);
    w.u32(REJECT_REASONS.length);
    REJECT_REASONS.forEach((reason, i) => w.string(reason).f64(this.#rejected[i]));
    w.u32(this.#devices.size);
    for (const detector of this.#devices.values()) detector.write(w); // least recent first
    this.#incidents.write(w);
    this.#rejectSources.write(w);
    return seal(SNAPSHOT_KIND, SNAPSHOT_VERSION, w.finish());
  }

  /**
   * Replaces the state with a snapshot from {@linkcode toBytes}. Throws a `RangeError` (and
   * changes nothing) when the bytes are corrupt; devices that no longer fit the configuration
   * are skipped and reported.
   */
  restore(bytes: Uint8Array): RestoreReport {
    const what = "gateway snapshot";
    const { version, payload } = unseal(bytes, SNAPSHOT_KIND, [1, 2, 3, 4, SNAPSHOT_VERSION], what);
    const r = new ByteReader(payload, what);
    const savedAt = r.f64();
    const messages = r.f64(), accepted = r.f64(), anomalies = r.f64();
    const dropped = r.f64(), evicted = r.f64();
    const rejected = new Float64Array(REJECT_REASONS.length);
    const reasons = r.u32();
    for (let i = 0; i < reasons; i++) {
      const reason = r.string() as RejectReason;
      const count = r.f64();
      const at = REJECT_REASONS.indexOf(reason);
      if (at >= 0) rejected[at] = count; // a reason this version no longer has is dropped
    }
    // The checksum held, but the contents may still be hostile: counters are whole numbers and
    // the time is one a Date can show (the runner logs it).
    if (!(savedAt >= 0 && savedAt <= 8.64e15)) throw new RangeError(`${what}: saved at ${savedAt}`);
    const counts: [string, number][] = [["messages", messages], ["accepted", accepted]];
    counts.push(["anomalies", anomalies], ["dropped", dropped], ["evicted", evicted]);
    REJECT_REASONS.forEach((reason, i) => counts.push([`rejected ${reason}`, rejected[i]]));
    for (const [name, v] of counts) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what}: ${name} is ${v}`);
    }
    const settings = new Map(this.#streams.map((s) => [s.config.name, s.settings]));
    const detectors: DeviceDetector[] = [];
    const skipped: string[] = [];
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const start = r.offset;
      try {
        const detector = DeviceDetector.read(r, (name) => settings.get(name), version);
        const problem = restoredProblem(detector);
        if (problem !== undefined) {
          throw new RangeError(`device ${JSON.stringify(detector.id)}: ${problem}`);
        }
        detectors.push(detector);
      } catch (error) {
        // The checksum held, so this is a configuration change, not corruption; a truncation
        // here would be a bug, and the reader cannot resynchronise after one.
        if (r.offset === start || /truncated/.test((error as Error).message)) throw error;
        skipped.push((error as Error).message);
      }
    }
    const incidents = newIncidentLog(this.config);
    const rejectSources = new RejectTally(this.config.limits.maxDevices);
    if (version >= 5) {
      try {
        incidents.read(r);
        rejectSources.read(r);
      } catch (error) {
        throw new RangeError(`${what}: ${(error as Error).message}`);
      }
    }
    if (r.remaining !== 0) {
      throw new RangeError(`${what}: ${r.remaining} unexpected trailing bytes`);
    }
    // Everything read: now replace the state.
    for (const d of Array.from(this.#devices.values())) this.#devices.delete(d.id);
    for (const d of detectors) {
      if (this.#devices.insert(d.id, d) !== undefined) {
        skipped.push(`a device was dropped: the snapshot holds more than maxDevices`);
      }
    }
    this.#devices.restoreEvicted(evicted);
    this.#queue.restoreDropped(dropped);
    this.#messages = messages;
    this.#accepted = accepted;
    this.#anomalies = anomalies;
    this.#rejected.set(rejected);
    this.#incidents = incidents;
    this.#rejectSources = rejectSources;
    // A device that was not restored keeps no open incident or mute.
    for (const incident of incidents.list({ state: "open" })) {
      if (this.#devices.peek(incident.device) === undefined) {
        incidents.forget(incident.device, savedAt);
      }
    }
    return { savedAt, devices: this.#devices.size, skipped };
  }
}

function newIncidentLog(config: PipelineConfig): IncidentLog {
  const { quietSeconds, keep } = config.incidents;
  return new IncidentLog({ quietMs: quietSeconds * 1000, keep });
}

/** The state a phase shows when no incident is open. */
function stateOfPhase(phase: DevicePhase): DeviceState {
  if (phase === "executing") return "normal";
  return phase === "calibrating" ? "calibrating" : "learning";
}

/** Why a restored detector is unusable (the checksum held; its contents may not), if it is. */
function restoredProblem(d: DeviceDetector): string | undefined {
  const idProblem = deviceIdProblem(d.id);
  if (idProblem !== undefined) return `its id ${idProblem}`;
  if (!Number.isFinite(d.lastSeen)) return `last seen at ${d.lastSeen}`;
  if (!Number.isSafeInteger(d.messages) || d.messages < 0) return `${d.messages} messages`;
  if (!Number.isSafeInteger(d.anomalies) || d.anomalies < 0) return `${d.anomalies} anomalies`;
  const t = d.threshold;
  if (!Number.isNaN(t) && !(t > 0 && t < Infinity)) return `threshold ${t}`;
  return undefined;
}

/** Decodes, names and models one stream; problems with its model go to `problems`. */
function compileStream(
  stream: StreamConfig,
  path: string,
  maxPayloadBytes: number,
  historyPoints: number,
  { models, problems }: { models: ReadonlyMap<string, Uint8Array>; problems: ConfigProblems },
): CompiledStream {
  const { payload, features, model } = stream;
  const ts = payload.timestampField;
  // JSON finds the timestamp by its own path, read last; a positional format has it in place.
  const decoded = ts !== undefined && payload.format === "json"
    ? [...payload.fields, ts]
    : payload.fields;
  const vector = new Float64Array(decoded.length);
  const timeAt = ts === undefined ? -1 : decoded.indexOf(ts);
  const fields = payload.fields.filter((field) => field !== ts);
  let values = vector.subarray(0, fields.length);
  let valueAt: Int32Array | undefined;
  if (timeAt >= 0 && timeAt < fields.length) {
    values = new Float64Array(fields.length);
    valueAt = Int32Array.from(fields, (field) => decoded.indexOf(field));
  }
  const lambdas = features.type === "damped" ? features.lambdas : undefined;
  const names = lambdas === undefined ? fields : dampedFeatureNames(fields, lambdas);
  let detectors: StreamDetectors | undefined;
  try {
    const shape = { stream: stream.name, fields, features: names, files: models };
    detectors = detectorType(model.type).forStream(model, shape);
  } catch (error) {
    if (!(error instanceof ModelProblem)) throw error;
    problems.add(`${path}.model.${error.key}`, error.message);
  }
  return {
    config: stream,
    pattern: new DeviceTopicPattern(stream.device),
    decoder: new PayloadDecoder({ ...payload, fields: decoded }, maxPayloadBytes),
    vector,
    values,
    valueAt,
    timeAt,
    timeUnits: payload.timestampUnit === "s" ? 1 : 1000,
    settings: {
      fields,
      features: names,
      lambdas,
      type: model.type,
      detectors: detectors!, // undefined only with a problem, which the constructor throws
      threshold: stream.threshold,
      historyPoints,
    },
  };
}
