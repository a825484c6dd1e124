/**
 * One device's detector: a KitNET learned on the device's own telemetry, a log-normal threshold
 * calibrated on its first scores, the attribution of anomalies, and a ring of recent scores.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./byte_codec.ts";
import type { KitNETModelConfig, ThresholdConfig } from "./gateway_config.ts";
import { KitNET } from "./kitnet.ts";
import { LogNormalCalibrator, logNormalThreshold } from "./lognormal_threshold.ts";
import { ScoreHistory } from "./score_history.ts";

/** Where a device's detector is: learning its feature map, training, calibrating, scoring. */
export type DevicePhase = "mapping" | "training" | "calibrating" | "executing";

/** The ensemble autoencoder behind an anomaly, and every autoencoder's RMSE. */
export interface Attribution {
  /** Feature names of the autoencoder with the largest RMSE. */
  features: string[];
  /** Its reconstruction RMSE. */
  rmse: number;
  /** Every ensemble autoencoder, largest RMSE first. */
  autoencoders: { features: string[]; rmse: number }[];
}

/** The outcome of one scored message. Reused by the detector: read it, don't keep it. */
export interface Verdict {
  /** The anomaly score (0 while learning). */
  score: number;
  /** The threshold in force; NaN before calibration ends. */
  threshold: number;
  /** Whether the score is above the threshold. */
  anomaly: boolean;
  /** The phase the message was scored in. */
  phase: DevicePhase;
}

/** What a detector is built from (the stream's settings). */
export interface DetectorSettings {
  /** Feature names, in vector order. */
  fields: readonly string[];
  /** KitNET options. */
  model: KitNETModelConfig;
  /** Threshold options. */
  threshold: ThresholdConfig;
  /** Scores kept for the dashboard. */
  historyPoints: number;
}

/** A device's detector. */
export class DeviceDetector {
  /** The device id. */
  readonly id: string;
  /** The stream the device belongs to. */
  readonly stream: string;
  /** Recent scores. */
  readonly history: ScoreHistory;
  /** When the device was last seen, in milliseconds since the epoch. */
  lastSeen = 0;
  /** Messages scored. */
  messages = 0;
  /** Anomalies flagged. */
  anomalies = 0;
  readonly #settings: DetectorSettings;
  readonly #kitnet: KitNET;
  readonly #calibrator: LogNormalCalibrator;
  #calibrated = NaN;
  #manual = NaN;
  readonly #verdict: Verdict = { score: 0, threshold: NaN, anomaly: false, phase: "mapping" };

  constructor(
    id: string,
    stream: string,
    settings: DetectorSettings,
    kitnet?: KitNET,
    calibrator?: LogNormalCalibrator,
  ) {
    this.id = id;
    this.stream = stream;
    this.#settings = settings;
    const m = settings.model;
    this.#kitnet = kitnet ?? new KitNET({
      n: settings.fields.length,
      maxAutoencoderSize: m.maxAutoencoderSize,
      fmGracePeriod: m.fmGracePeriod,
      adGracePeriod: m.adGracePeriod,
      learningRate: m.learningRate,
      hiddenRatio: m.hiddenRatio,
    });
    this.#calibrator = calibrator ?? new LogNormalCalibrator(settings.threshold.calibrationWindow);
    if (this.#calibrator.complete) this.#fitThreshold();
    this.history = new ScoreHistory(settings.historyPoints);
  }

  /** The detector's phase. */
  get phase(): DevicePhase {
    const phase = this.#kitnet.phase;
    if (phase !== "executing") return phase;
    return this.#calibrator.complete ? "executing" : "calibrating";
  }

  /** Share of learning and calibration done, in [0, 1]. */
  get progress(): number {
    const k = this.#kitnet;
    const learn = k.fmGracePeriod + k.adGracePeriod + 1;
    const total = learn + this.#calibrator.window;
    return Math.min(1, (learn - k.remainingGrace + this.#calibrator.count) / total);
  }

  /** The threshold in force (a manual one wins over the calibrated one); NaN when none. */
  get threshold(): number {
    return Number.isNaN(this.#manual) ? this.#calibrated : this.#manual;
  }

  /** The last verdict (the same object {@linkcode score} returns). */
  get last(): Readonly<Verdict> {
    return this.#verdict;
  }

  /** Sets a manual threshold (> 0), or clears it with `null` to use the calibrated one. */
  setThreshold(value: number | null): void {
    if (value !== null && !(value > 0 && value < Infinity)) {
      throw new RangeError(`a threshold must be a positive finite number, got ${value}`);
    }
    this.#manual = value ?? NaN;
  }

  /**
   * Learns from or scores `x` (finite numbers, one per field) received at `ts`, records it in the
   * history, and returns the verdict (a reused object).
   */
  score(x: Float64Array, ts: number): Verdict {
    const kitnet = this.#kitnet;
    const wasExecuting = kitnet.phase === "executing";
    const calibrating = wasExecuting && !this.#calibrator.complete;
    const phase: DevicePhase = wasExecuting
      ? (calibrating ? "calibrating" : "executing")
      : kitnet.phase;
    const score = kitnet.process(x);
    if (calibrating && this.#calibrator.add(score)) this.#fitThreshold();
    const threshold = phase === "executing" ? this.threshold : NaN;
    const anomaly = score > threshold; // false while NaN
    const v = this.#verdict;
    v.score = score;
    v.threshold = threshold;
    v.anomaly = anomaly;
    v.phase = phase;
    this.lastSeen = ts;
    this.messages++;
    if (anomaly) this.anomalies++;
    this.history.push(ts, score, threshold, anomaly);
    return v;
  }

  /** Which autoencoder (and so which features) contributed most to `x`'s score. */
  attribution(x: Float64Array): Attribution {
    const names = this.#settings.fields;
    const { autoencoders } = this.#kitnet.explain(x);
    const named = autoencoders
      .map((a) => ({ features: a.features.map((i) => names[i]), rmse: a.rmse }))
      .sort((a, b) => b.rmse - a.rmse);
    return { features: named[0].features, rmse: named[0].rmse, autoencoders: named };
  }

  #fitThreshold(): void {
    this.#calibrated = logNormalThreshold(
      this.#calibrator.fit(),
      this.#settings.threshold.tailProbability,
    );
  }

  /** Writes the detector's state (model, calibration, counters; not the history) to `w`. */
  write(w: ByteWriter): void {
    w.string(this.id).string(this.stream);
    w.f64(this.lastSeen).f64(this.messages).f64(this.anomalies).f64(this.#manual);
    const c = this.#calibrator.state();
    w.u32(this.#calibrator.window).f64(c.count).f64(c.mean).f64(c.m2).f64(c.skipped);
    const model = this.#kitnet.toBytes();
    w.u32(model.length).bytes(model);
  }

  /**
   * Reads a detector written by {@linkcode write}. `settingsOf` gives the settings of a stream
   * by name (undefined when the stream no longer exists); throws a `RangeError` saying why the
   * state does not fit them.
   */
  static read(
    r: ByteReader,
    settingsOf: (stream: string) => DetectorSettings | undefined,
  ): DeviceDetector {
    const id = r.string(), stream = r.string();
    const lastSeen = r.f64(), messages = r.f64(), anomalies = r.f64(), manual = r.f64();
    const window = r.u32();
    const state = { count: r.f64(), mean: r.f64(), m2: r.f64(), skipped: r.f64() };
    const kitnet = KitNET.fromBytes(r.bytes(r.u32()));
    const settings = settingsOf(stream);
    if (settings === undefined) {
      throw new RangeError(`device "${id}": its stream "${stream}" is no longer configured`);
    }
    if (kitnet.n !== settings.fields.length) {
      throw new RangeError(
        `device "${id}": its model has ${kitnet.n} features, stream "${stream}" now has ` +
          `${settings.fields.length}`,
      );
    }
    // A changed calibration window restarts calibration; a changed tail probability only
    // moves the threshold (recomputed from the kept fit).
    const calibrator = window === settings.threshold.calibrationWindow
      ? LogNormalCalibrator.fromState(window, state)
      : undefined;
    const detector = new DeviceDetector(id, stream, settings, kitnet, calibrator);
    detector.lastSeen = lastSeen;
    detector.messages = messages;
    detector.anomalies = anomalies;
    detector.#manual = manual;
    return detector;
  }
}
