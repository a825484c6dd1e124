/**
 * One device's detector: its features (the values, or their damped statistics), its model
 * (any {@linkcode Detector}: made by the stream's {@linkcode StreamDetectors}), the calibration
 * that turns its scores into anomalies, a manual threshold, the attribution of anomalies, and a
 * ring of recent scores. Which model it holds, it does not ask.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec/mod.ts";
import { DampedFeatures } from "./damped_features.ts";
import type { Detector, ScoreExplanation, StreamDetectors } from "../detector.ts";
import { LEGACY_MODEL_CODES } from "../registry.ts";
import type { ThresholdConfig } from "./pipeline_config.ts";
import { type Calibration, calibrationFor, exceeds, NO_THRESHOLD } from "../thresholds/mod.ts";
import { ScoreHistory } from "./score_history.ts";
import { ScoreDigest } from "./score_digest.ts";

/** Where a device's detector is: learning its feature map, training, calibrating, scoring. */
export type DevicePhase = "mapping" | "training" | "calibrating" | "executing";

/**
 * A device's state in words: learning (its model's grace periods), calibrating (scoring, its
 * threshold not yet set), normal, or alerting (an incident is open).
 */
export type DeviceState = "learning" | "calibrating" | "normal" | "alerting";

/** One feature's share of a score, for a model that has one per input. */
export interface FeatureError {
  /** The feature's name. */
  feature: string;
  /**
   * Its share: a deep autoencoder's squared reconstruction error; for Half-Space Trees the bits
   * of mass lost at its splits (`docs/hst.md`). The name is the first model's, kept for readers.
   */
  squaredError: number;
}

/**
 * What raised a score. For KitNET: the ensemble autoencoder with the largest RMSE and every
 * autoencoder's RMSE. For a model with a share per input (a deep autoencoder, Half-Space
 * Trees): the fewest features that make up at least half of all the shares, and every share.
 */
export interface Attribution {
  /** Names of the features that contributed most. */
  features: string[];
  /** The reconstruction RMSE of the autoencoder they belong to. */
  rmse: number;
  /** Every autoencoder, largest RMSE first (a deep autoencoder is one, over every feature). */
  autoencoders: { features: string[]; rmse: number }[];
  /** The share of each feature, largest first, for a model that has one per input. */
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

/** What a stream's detectors are built from (the stream's settings). */
export interface DetectorSettings {
  /** Names of the values each message carries, in vector order. */
  fields: readonly string[];
  /** Names of the model's inputs: the fields, or their damped features. */
  features: readonly string[];
  /** Decay rates λ (per second) of damped features; undefined for raw ones. */
  lambdas?: readonly number[];
  /** The stream's model type, as configured. */
  type: string;
  /** The stream's detectors: made new, saved and restored. */
  detectors: StreamDetectors;
  /** Calibration options (for a model without a threshold of its own). */
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
  /** The model. */
  detector?: Detector;
  /** Its threshold calibration's saved state. */
  calibration?: Uint8Array;
  /** The damped windows of a `damped` stream's device. */
  damped?: DampedFeatures;
}

const FEATURES_RAW = 0, FEATURES_DAMPED = 1;
const NOTHING = new Uint8Array(0);

/** A device's detector. */
export class DeviceDetector {
  /** The device id. */
  readonly id: string;
  /** The stream the device belongs to. */
  readonly stream: string;
  /** Recent scores. */
  readonly history: ScoreHistory;
  #digest = new ScoreDigest();
  /** When the device was last seen, in milliseconds since the epoch. */
  lastSeen = 0;
  /** Messages scored. */
  messages = 0;
  /** Anomalies flagged. */
  anomalies = 0;
  /**
   * Its state as the gateway last reported it (undefined: not since it was made or restored);
   * kept here, not in a table, so that the check costs a field read per message.
   */
  reportedState: DeviceState | undefined = undefined;
  readonly #settings: DetectorSettings;
  readonly #detector: Detector;
  readonly #calibration: Calibration;
  readonly #damped: DampedFeatures | undefined;
  /** The damped features of the last message (undefined for raw features). */
  readonly #features: Float64Array | undefined;
  /** The model's input for the last message, for its attribution. */
  #input: Float64Array | undefined;
  #manual = NO_THRESHOLD;
  readonly #verdict: Verdict = { score: 0, threshold: NaN, anomaly: false, phase: "mapping" };

  /** A detector for device `id` of `stream`: new, or from `learned` state. */
  constructor(id: string, stream: string, settings: DetectorSettings, learned?: LearnedState) {
    this.id = id;
    this.stream = stream;
    this.#settings = settings;
    this.#detector = learned?.detector ?? settings.detectors.create();
    this.#calibration = calibrationFor(
      this.#detector.ownThreshold,
      settings.threshold,
      learned?.calibration,
    );
    if (settings.lambdas !== undefined) {
      this.#damped = learned?.damped ??
        new DampedFeatures(settings.fields.length, settings.lambdas);
      this.#features = new Float64Array(this.#damped.size);
    }
    this.history = new ScoreHistory(settings.historyPoints);
  }

  /** The detector's phase (its model's, with `calibrating` once it scores but calibrates). */
  get phase(): DevicePhase {
    const phase = this.#detector.phase;
    if (phase !== "executing") return phase;
    return this.#calibration.calibrating ? "calibrating" : "executing";
  }

  /** Share of learning and calibration done, in [0, 1]. */
  get progress(): number {
    const d = this.#detector, c = this.#calibration;
    const total = d.learningTotal + c.window;
    return total === 0 ? 1 : Math.min(1, (d.learningDone + c.taken) / total);
  }

  /** The threshold in force (a manual one wins over the calibrated one); NaN when none. */
  get threshold(): number {
    return Number.isNaN(this.#manual) ? this.#calibration.threshold : this.#manual;
  }

  /**
   * The model's input for the last scored message: the values, or their damped features.
   * A reused buffer, valid until the stream's next message: read it, don't keep it.
   * Undefined before the first message.
   */
  get input(): Readonly<Float64Array> | undefined {
    return this.#input;
  }

  /** Its scores reaching back (the last hour and day, downsampled). */
  get digest(): ScoreDigest {
    return this.#digest;
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
    this.#manual = value ?? NO_THRESHOLD;
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
    const detector = this.#detector, calibration = this.#calibration;
    const executing = detector.phase === "executing";
    const calibrating = executing && calibration.calibrating;
    const phase: DevicePhase = executing
      ? (calibrating ? "calibrating" : "executing")
      : detector.phase;
    const score = detector.process(x);
    if (calibrating) calibration.observe(score);
    const threshold = phase === "executing" ? this.threshold : NO_THRESHOLD;
    const anomaly = exceeds(score, threshold, calibration.inclusive);
    const v = this.#verdict;
    v.score = score;
    v.threshold = threshold;
    v.anomaly = anomaly;
    v.phase = phase;
    this.lastSeen = ts;
    this.messages++;
    if (anomaly) this.anomalies++;
    this.history.push(ts, score, threshold, anomaly);
    this.#digest.push(ts, score, phase === "mapping" || phase === "training");
    return v;
  }

  /**
   * What raised the last scored message's score. Call it right after {@linkcode score}: the
   * input it explains is only kept until the stream's next message. Learns nothing.
   */
  attribution(): Attribution {
    const x = this.#input;
    if (x === undefined) throw new Error(`device "${this.id}" has scored no message yet`);
    return attributionOf(this.#detector.explain(x), this.#settings.features);
  }

  /**
   * Writes the detector's state (model, calibration, damped windows, counters, and the newest
   * {@linkcode SAVED_HISTORY_POINTS} of its score history) to `w`. A model the stream shares
   * (a trained deep autoencoder) writes nothing of its own: it is loaded from its file.
   */
  write(w: ByteWriter): void {
    w.string(this.id).string(this.stream);
    w.f64(this.lastSeen).f64(this.messages).f64(this.anomalies).f64(this.#manual);
    w.string(this.#detector.type);
    const state = this.#settings.detectors.save(this.#detector);
    w.u32(state.length).bytes(state);
    const calibration = this.#calibration.toBytes();
    w.u32(calibration.length).bytes(calibration);
    if (this.#damped !== undefined) {
      const damped = this.#damped.toBytes();
      w.u8(FEATURES_DAMPED).u32(damped.length).bytes(damped);
    } else {
      w.u8(FEATURES_RAW);
    }
    this.history.write(w, SAVED_HISTORY_POINTS);
    this.#digest.write(w);
  }

  /**
   * Reads a detector written by {@linkcode write} (`format` 5), or by an earlier snapshot:
   * format 4 (no downsampled scores), 3 (a model code, see `LEGACY_MODEL_CODES`), 2 (no score history), 1 (KitNET on raw
   * features, no history). `settingsOf` gives the settings of a stream by name (undefined when
   * the stream no longer exists). Reads the whole record, then throws a `RangeError` saying why
   * its state does not fit the settings, if it does not.
   */
  static read(
    r: ByteReader,
    settingsOf: (stream: string) => DetectorSettings | undefined,
    format = 5,
  ): DeviceDetector {
    const id = r.string(), stream = r.string();
    const lastSeen = r.f64(), messages = r.f64(), anomalies = r.f64(), manual = r.f64();
    let type: string, state: Uint8Array, calibration: Uint8Array;
    if (format >= 4) {
      type = r.string();
      state = r.bytes(r.u32());
      calibration = r.bytes(r.u32());
    } else {
      const code = format === 1 ? 0 : r.u8();
      const legacy = LEGACY_MODEL_CODES[code];
      if (legacy === undefined) throw new RangeError(`device "${id}": unknown model kind ${code}`);
      type = legacy.type;
      calibration = r.bytes(legacy.calibrationBytes);
      state = legacy.hasState ? r.bytes(r.u32()) : NOTHING;
    }
    const featuresKind = format === 1 ? FEATURES_RAW : r.u8();
    let damped: DampedFeatures | undefined;
    if (featuresKind === FEATURES_DAMPED) {
      damped = DampedFeatures.fromBytes(r.bytes(r.u32()));
    } else if (featuresKind !== FEATURES_RAW) {
      throw new RangeError(`device "${id}": unknown features kind ${featuresKind}`);
    }
    // Both read, whatever the first holds, so that a refused record ends where it should; a
    // truncation still says so, which makes the caller refuse the whole snapshot.
    let history: ScoreHistory | undefined;
    let digest: ScoreDigest | undefined;
    let refused: unknown;
    if (format >= 3) {
      try {
        history = ScoreHistory.read(r);
      } catch (error) {
        refused = error;
      }
    }
    if (format >= 5) {
      try {
        digest = ScoreDigest.read(r);
      } catch (error) {
        refused ??= error;
      }
    }
    if (refused !== undefined) {
      throw new RangeError(`device "${id}": ${(refused as Error).message}`);
    }
    // Everything is read: now check it against the configuration.
    const settings = settingsOf(stream);
    if (settings === undefined) {
      throw new RangeError(`device "${id}": its stream "${stream}" is no longer configured`);
    }
    const problem = fitProblem(settings, `stream "${stream}"`, type, damped);
    if (problem !== undefined) throw new RangeError(`device "${id}": ${problem}`);
    let detector: DeviceDetector;
    try {
      const model = settings.detectors.load(state);
      detector = new DeviceDetector(id, stream, settings, { detector: model, calibration, damped });
    } catch (error) {
      throw new RangeError(`device "${id}": ${(error as Error).message}`);
    }
    detector.lastSeen = lastSeen;
    detector.messages = messages;
    detector.anomalies = anomalies;
    detector.#manual = manual;
    if (history !== undefined) detector.history.append(history);
    if (digest !== undefined) detector.#digest = digest;
    return detector;
  }
}

/**
 * An explanation in the features' names: every group, largest error first; the features that
 * contributed most are the fewest making up half the squared error when the model has one per
 * input, else the largest group's.
 */
function attributionOf(explanation: ScoreExplanation, names: readonly string[]): Attribution {
  const autoencoders = explanation.groups
    .map((g) => ({ features: g.features.map((i) => names[i]), rmse: g.error }))
    .sort((a, b) => b.rmse - a.rmse);
  const top = autoencoders[0];
  const squared = explanation.featureErrors;
  if (squared === undefined) return { features: top.features, rmse: top.rmse, autoencoders };
  const errors = names
    .map((feature, i) => ({ feature, squaredError: squared[i] }))
    .sort((a, b) => b.squaredError - a.squaredError);
  // Half of all the per-input errors, whatever the model's score is made of.
  let total = 0;
  for (let i = 0; i < names.length; i++) total += squared[i];
  const features: string[] = [];
  let covered = 0;
  for (const e of errors) {
    features.push(e.feature);
    covered += e.squaredError;
    if (covered >= total / 2) break;
  }
  return { features, rmse: top.rmse, autoencoders, errors };
}

/** Why saved state does not fit a stream's settings, or undefined when it does. */
function fitProblem(
  settings: DetectorSettings,
  stream: string,
  type: string,
  damped: DampedFeatures | undefined,
): string | undefined {
  if (type !== settings.type) {
    return `its state is of a ${type} model, ${stream} now uses ${settings.type}`;
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
  return undefined;
}
