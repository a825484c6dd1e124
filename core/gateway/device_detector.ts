/**
 * One device's detector: its features (the values, or their damped statistics), its model (a
 * KitNET learned on the device's own telemetry with a log-normal threshold calibrated on its
 * first scores, or a trained deep autoencoder shared by the stream), the attribution of
 * anomalies, and a ring of recent scores.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec/mod.ts";
import { DampedFeatures } from "./damped_features.ts";
import type { DeepAeScorer } from "../deep_ae/mod.ts";
import type { ModelConfig, ThresholdConfig } from "./gateway_config.ts";
import { KitNET } from "../kitnet/mod.ts";
import { LogNormalCalibrator, logNormalThreshold } from "../thresholds/mod.ts";
import { ScoreHistory } from "./score_history.ts";

/** Where a device's detector is: learning its feature map, training, calibrating, scoring. */
export type DevicePhase = "mapping" | "training" | "calibrating" | "executing";

/** One feature's share of a deep autoencoder's reconstruction error. */
export interface FeatureError {
  /** The feature's name. */
  feature: string;
  /** Its squared reconstruction error. */
  squaredError: number;
}

/**
 * What raised a score. For KitNET: the ensemble autoencoder with the largest RMSE and every
 * autoencoder's RMSE. For a deep autoencoder: the fewest features that make up at least half of
 * the squared reconstruction error, and every feature's squared error.
 */
export interface Attribution {
  /** Names of the features that contributed most. */
  features: string[];
  /** The reconstruction RMSE of the autoencoder they belong to. */
  rmse: number;
  /** Every autoencoder, largest RMSE first (a deep autoencoder is one, over every feature). */
  autoencoders: { features: string[]; rmse: number }[];
  /** A deep autoencoder's squared error per feature, largest first. */
  errors?: FeatureError[];
}

/** The outcome of one scored message. Reused by the detector: read it, don't keep it. */
export interface Verdict {
  /** The anomaly score (0 while learning). */
  score: number;
  /** The threshold in force; NaN before calibration ends. */
  threshold: number;
  /** Whether the score is above the threshold (at or above, for a deep autoencoder's). */
  anomaly: boolean;
  /** The phase the message was scored in. */
  phase: DevicePhase;
}

/** What a detector is built from (the stream's settings). */
export interface DetectorSettings {
  /** Names of the values each message carries, in vector order. */
  fields: readonly string[];
  /** Names of the model's inputs: the fields, or their damped features. */
  features: readonly string[];
  /** Decay rates λ (per second) of damped features; undefined for raw ones. */
  lambdas?: readonly number[];
  /** The model's options. */
  model: ModelConfig;
  /** The trained model of a `deep-ae` stream, shared by its devices. */
  deepAe?: DeepAeScorer;
  /** Threshold options (KitNET's). */
  threshold: ThresholdConfig;
  /** Scores kept for the dashboard. */
  historyPoints: number;
}

/**
 * Score-history points a snapshot keeps per device: what the dashboard charts, so a restart
 * shows where each device was (the whole `historyPoints` ring would multiply snapshot sizes).
 */
export const SAVED_HISTORY_POINTS = 300;

/** The learned parts of a restored detector (each made new when absent). */
export interface LearnedState {
  /** The KitNET of a `kitnet` stream's device. */
  kitnet?: KitNET;
  /** Its threshold calibration. */
  calibrator?: LogNormalCalibrator;
  /** The damped windows of a `damped` stream's device. */
  damped?: DampedFeatures;
}

const MODEL_KITNET = 0, MODEL_DEEP_AE = 1;
const FEATURES_RAW = 0, FEATURES_DAMPED = 1;

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
  readonly #kitnet: KitNET | undefined;
  readonly #calibrator: LogNormalCalibrator | undefined;
  readonly #deepAe: DeepAeScorer | undefined;
  readonly #damped: DampedFeatures | undefined;
  /** The damped features of the last message (undefined for raw features). */
  readonly #features: Float64Array | undefined;
  /** The model's input for the last message, for its attribution. */
  #input: Float64Array | undefined;
  #calibrated = NaN;
  #manual = NaN;
  readonly #verdict: Verdict = { score: 0, threshold: NaN, anomaly: false, phase: "mapping" };

  /** A detector for device `id` of `stream`: new, or from `learned` state. */
  constructor(id: string, stream: string, settings: DetectorSettings, learned?: LearnedState) {
    this.id = id;
    this.stream = stream;
    this.#settings = settings;
    const m = settings.model;
    if (m.type === "deep-ae") {
      if (settings.deepAe === undefined) {
        throw new Error(`stream "${stream}" has a deep-ae model but no model was loaded`);
      }
      this.#deepAe = settings.deepAe;
    } else {
      this.#kitnet = learned?.kitnet ?? new KitNET({
        n: settings.features.length,
        maxAutoencoderSize: m.maxAutoencoderSize,
        fmGracePeriod: m.fmGracePeriod,
        adGracePeriod: m.adGracePeriod,
        learningRate: m.learningRate,
        hiddenRatio: m.hiddenRatio,
      });
      this.#calibrator = learned?.calibrator ??
        new LogNormalCalibrator(settings.threshold.calibrationWindow);
      if (this.#calibrator.complete) this.#fitThreshold();
    }
    if (settings.lambdas !== undefined) {
      this.#damped = learned?.damped ??
        new DampedFeatures(settings.fields.length, settings.lambdas);
      this.#features = new Float64Array(this.#damped.size);
    }
    this.history = new ScoreHistory(settings.historyPoints);
  }

  /** The detector's phase (a deep autoencoder is trained already: always `executing`). */
  get phase(): DevicePhase {
    const kitnet = this.#kitnet;
    if (kitnet === undefined) return "executing";
    const phase = kitnet.phase;
    if (phase !== "executing") return phase;
    return this.#calibrator!.complete ? "executing" : "calibrating";
  }

  /** Share of learning and calibration done, in [0, 1]. */
  get progress(): number {
    const k = this.#kitnet;
    if (k === undefined) return 1;
    const calibrator = this.#calibrator!;
    const learn = k.fmGracePeriod + k.adGracePeriod + 1;
    const total = learn + calibrator.window;
    return Math.min(1, (learn - k.remainingGrace + calibrator.count) / total);
  }

  /** The threshold in force (a manual one wins over the model's); NaN when none. */
  get threshold(): number {
    if (!Number.isNaN(this.#manual)) return this.#manual;
    return this.#deepAe !== undefined ? this.#deepAe.threshold : this.#calibrated;
  }

  /**
   * The model's input for the last scored message: the values, or their damped features.
   * A reused buffer, valid until the stream's next message: read it, don't keep it.
   * Undefined before the first message.
   */
  get input(): Readonly<Float64Array> | undefined {
    return this.#input;
  }

  /** The last verdict (the same object {@linkcode score} returns). */
  get last(): Readonly<Verdict> {
    return this.#verdict;
  }

  /** Sets a manual threshold (> 0), or clears it with `null` to use the model's. */
  setThreshold(value: number | null): void {
    if (value !== null && !(value > 0 && value < Infinity)) {
      throw new RangeError(`a threshold must be a positive finite number, got ${value}`);
    }
    this.#manual = value ?? NaN;
  }

  /**
   * Learns from or scores `values` (finite numbers, one per field) received at `ts`, records it
   * in the history, and returns the verdict (a reused object). `seconds` is the message's own
   * time for damped features; it defaults to `ts` in seconds.
   */
  score(values: Float64Array, ts: number, seconds: number = ts / 1000): Verdict {
    let x = values;
    if (this.#damped !== undefined) {
      this.#damped.update(values, seconds, this.#features!);
      x = this.#features!;
    }
    this.#input = x;
    let score: number, threshold: number, anomaly: boolean, phase: DevicePhase;
    const deepAe = this.#deepAe;
    if (deepAe !== undefined) {
      score = deepAe.score(x);
      phase = "executing";
      threshold = this.threshold;
      anomaly = score >= threshold; // the model's own rule
    } else {
      const kitnet = this.#kitnet!, calibrator = this.#calibrator!;
      const wasExecuting = kitnet.phase === "executing";
      const calibrating = wasExecuting && !calibrator.complete;
      phase = wasExecuting ? (calibrating ? "calibrating" : "executing") : kitnet.phase;
      score = kitnet.process(x);
      if (calibrating && calibrator.add(score)) this.#fitThreshold();
      threshold = phase === "executing" ? this.threshold : NaN;
      anomaly = score > threshold; // false while NaN
    }
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

  /**
   * What raised the last scored message's score. Call it right after {@linkcode score}: the
   * input it explains is only kept until the stream's next message. Learns nothing.
   */
  attribution(): Attribution {
    const names = this.#settings.features;
    const x = this.#input;
    if (x === undefined) throw new Error(`device "${this.id}" has scored no message yet`);
    if (this.#deepAe !== undefined) return this.#deepAeAttribution(x, names);
    const { autoencoders } = this.#kitnet!.explain(x);
    const named = autoencoders
      .map((a) => ({ features: a.features.map((i) => names[i]), rmse: a.rmse }))
      .sort((a, b) => b.rmse - a.rmse);
    return { features: named[0].features, rmse: named[0].rmse, autoencoders: named };
  }

  #deepAeAttribution(x: Float64Array, names: readonly string[]): Attribution {
    const squared = new Float64Array(names.length);
    const mse = this.#deepAe!.score(x, squared);
    const errors = names
      .map((feature, i) => ({ feature, squaredError: squared[i] }))
      .sort((a, b) => b.squaredError - a.squaredError);
    const total = mse * names.length;
    const features: string[] = [];
    let covered = 0;
    for (const e of errors) {
      features.push(e.feature);
      covered += e.squaredError;
      if (covered >= total / 2) break;
    }
    const rmse = Math.sqrt(mse);
    return { features, rmse, autoencoders: [{ features: names.slice(), rmse }], errors };
  }

  #fitThreshold(): void {
    this.#calibrated = logNormalThreshold(
      this.#calibrator!.fit(),
      this.#settings.threshold.tailProbability,
    );
  }

  /**
   * Writes the detector's state (model, calibration, damped windows, counters, and the newest
   * {@linkcode SAVED_HISTORY_POINTS} of its score history) to `w`. A deep autoencoder is not
   * written: it is the stream's, loaded from its file.
   */
  write(w: ByteWriter): void {
    w.string(this.id).string(this.stream);
    w.f64(this.lastSeen).f64(this.messages).f64(this.anomalies).f64(this.#manual);
    if (this.#kitnet !== undefined) {
      w.u8(MODEL_KITNET);
      const calibrator = this.#calibrator!;
      const c = calibrator.state();
      w.u32(calibrator.window).f64(c.count).f64(c.mean).f64(c.m2).f64(c.skipped);
      const model = this.#kitnet.toBytes();
      w.u32(model.length).bytes(model);
    } else {
      w.u8(MODEL_DEEP_AE);
    }
    if (this.#damped !== undefined) {
      const damped = this.#damped.toBytes();
      w.u8(FEATURES_DAMPED).u32(damped.length).bytes(damped);
    } else {
      w.u8(FEATURES_RAW);
    }
    this.history.write(w, SAVED_HISTORY_POINTS);
  }

  /**
   * Reads a detector written by {@linkcode write} (`format` 3), by format 2 (no score history),
   * or by the first gateway snapshots (`format` 1: KitNET on raw features, no history).
   * `settingsOf` gives the settings of a stream by name (undefined when the stream no longer
   * exists). Reads the whole detector, then throws a `RangeError` saying why its state does not
   * fit the settings, if it does not.
   */
  static read(
    r: ByteReader,
    settingsOf: (stream: string) => DetectorSettings | undefined,
    format = 3,
  ): DeviceDetector {
    const id = r.string(), stream = r.string();
    const lastSeen = r.f64(), messages = r.f64(), anomalies = r.f64(), manual = r.f64();
    const modelKind = format === 1 ? MODEL_KITNET : r.u8();
    let kitnet: KitNET | undefined;
    let window = 0;
    let calibration = { count: 0, mean: 0, m2: 0, skipped: 0 };
    if (modelKind === MODEL_KITNET) {
      window = r.u32();
      calibration = { count: r.f64(), mean: r.f64(), m2: r.f64(), skipped: r.f64() };
      kitnet = KitNET.fromBytes(r.bytes(r.u32()));
    } else if (modelKind !== MODEL_DEEP_AE) {
      throw new RangeError(`device "${id}": unknown model kind ${modelKind}`);
    }
    const featuresKind = format === 1 ? FEATURES_RAW : r.u8();
    let damped: DampedFeatures | undefined;
    if (featuresKind === FEATURES_DAMPED) {
      damped = DampedFeatures.fromBytes(r.bytes(r.u32()));
    } else if (featuresKind !== FEATURES_RAW) {
      throw new RangeError(`device "${id}": unknown features kind ${featuresKind}`);
    }
    let history: ScoreHistory | undefined;
    if (format >= 3) {
      try {
        history = ScoreHistory.read(r);
      } catch (error) {
        // A truncation still says so, which makes the caller refuse the whole snapshot.
        throw new RangeError(`device "${id}": ${(error as Error).message}`);
      }
    }
    // Everything is read: now check it against the configuration.
    const settings = settingsOf(stream);
    if (settings === undefined) {
      throw new RangeError(`device "${id}": its stream "${stream}" is no longer configured`);
    }
    const problem = fitProblem(settings, `stream "${stream}"`, kitnet, damped);
    if (problem !== undefined) throw new RangeError(`device "${id}": ${problem}`);
    // A changed calibration window restarts calibration; a changed tail probability only
    // moves the threshold (recomputed from the kept fit).
    const calibrator = kitnet !== undefined && window === settings.threshold.calibrationWindow
      ? LogNormalCalibrator.fromState(window, calibration)
      : undefined;
    const detector = new DeviceDetector(id, stream, settings, { kitnet, calibrator, damped });
    detector.lastSeen = lastSeen;
    detector.messages = messages;
    detector.anomalies = anomalies;
    detector.#manual = manual;
    if (history !== undefined) detector.history.append(history);
    return detector;
  }
}

/** Why saved state does not fit a stream's settings, or undefined when it does. */
function fitProblem(
  settings: DetectorSettings,
  stream: string,
  kitnet: KitNET | undefined,
  damped: DampedFeatures | undefined,
): string | undefined {
  const type = settings.model.type;
  if ((kitnet === undefined) !== (type === "deep-ae")) {
    return `its state is of a ${kitnet === undefined ? "deep-ae" : "kitnet"} model, ${stream} ` +
      `now uses ${type}`;
  }
  const lambdas = settings.lambdas;
  if ((damped === undefined) !== (lambdas === undefined)) {
    return `its features were ${damped === undefined ? "raw" : "damped"}, ${stream} now has ` +
      `${lambdas === undefined ? "raw" : "damped"} ones`;
  }
  if (damped !== undefined && lambdas !== undefined) {
    const same = damped.fields === settings.fields.length &&
      damped.lambdas.length === lambdas.length && lambdas.every((l, i) => damped.lambdas[i] === l);
    if (!same) {
      return `its damped windows (${damped.fields} fields, λ ${damped.lambdas.join(", ")}) ` +
        `differ from those of ${stream} (${settings.fields.length} fields, λ ${
          lambdas.join(", ")
        })`;
    }
  }
  if (kitnet !== undefined && kitnet.n !== settings.features.length) {
    return `its model has ${kitnet.n} features, ${stream} now has ${settings.features.length}`;
  }
  return undefined;
}
