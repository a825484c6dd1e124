/**
 * The one interface every foxtail detector implements, in the spirit of River's anomaly
 * detectors (`learn_one`, `score_one`), sized for a gateway: learn and score one instance
 * without allocating, say where its learning is, explain a score feature by feature, and give
 * its whole state as versioned bytes that its type reads back.
 *
 * The device table, the engine, the snapshot store, `score` and `evaluate` see only these
 * types; which model a detector is stays inside its own folder and the registry
 * (`core/registry.ts`).
 *
 * @example
 * ```ts
 * import { detectorType } from "./registry.ts";
 * const stream = detectorType("kitnet").forStream(
 *   { type: "kitnet", fmGracePeriod: 100, adGracePeriod: 1000 },
 *   { stream: "env", fields: ["t", "h"], features: ["t", "h"], files: new Map() },
 * );
 * const detector = stream.create();
 * const score = detector.process(new Float64Array([21.5, 40])); // 0 while it learns
 * ```
 *
 * @module
 */

import type { ThresholdRule } from "./thresholds/mod.ts";

/** Where a detector's own learning is: its feature map, its training, or done (scoring). */
export type DetectorPhase = "mapping" | "training" | "executing";

/** A group of features and the reconstruction error of the part of the model that holds them. */
export interface FeatureGroup {
  /** Indices of the group's inputs. */
  features: number[];
  /** The group's reconstruction error (RMSE) for the explained instance. */
  error: number;
}

/** What made up one instance's score. */
export interface ScoreExplanation {
  /** The score, as {@linkcode Detector.scoreOne} gives it. */
  score: number;
  /** The model's parts that reconstruct the inputs (KitNET: its ensemble; else one group). */
  groups: FeatureGroup[];
  /**
   * Each input's share of the score, when the model has one per input: a deep autoencoder's
   * squared reconstruction error, Half-Space Trees' bits of mass lost at its splits.
   */
  featureErrors?: Float64Array;
}

/** An anomaly detector of fixed-width numeric instances. */
export interface Detector {
  /** Its type, as the configuration and the registry name it (`"kitnet"`, `"hst"`, …). */
  readonly type: string;
  /** Numbers per instance. */
  readonly inputs: number;
  /** Where its learning is. */
  readonly phase: DetectorPhase;
  /** Instances of learning done so far (counted towards {@linkcode learningTotal}). */
  readonly learningDone: number;
  /** Instances of learning before it scores (0 for a model trained beforehand). */
  readonly learningTotal: number;
  /**
   * The threshold the model brings with it (scores at or above it are anomalies), or
   * `NO_THRESHOLD` (NaN) when a calibration must choose one.
   */
  readonly ownThreshold: number;
  /**
   * The online step: the score of `x` (0 while the detector still learns), then learns from it
   * if it learns online. Allocates nothing. Throws a `RangeError` before touching the model when
   * `x` has the wrong length or a non-finite value.
   */
  process(x: ArrayLike<number>): number;
  /** The score of `x` without learning (0 while it cannot score yet). */
  scoreOne(x: ArrayLike<number>): number;
  /** Learns from `x` without scoring (nothing, for a model trained beforehand). */
  learnOne(x: ArrayLike<number>): void;
  /**
   * The scores of many instances (`rows`: `out.length` × {@linkcode inputs}, row-major) into
   * `out`, without learning: what {@linkcode scoreOne} gives each, in one batch.
   */
  scoreMany(rows: Float64Array, out: Float64Array): void;
  /** The score of `x` and what it is made of, without learning. Allocates: call it rarely. */
  explain(x: ArrayLike<number>): ScoreExplanation;
  /** A short description of what it has learned, for logs (`"phase executing, 4 autoencoders"`). */
  summary(): string;
  /** The whole state, sealed (versioned, checksummed); its type's `fromBytes` reads it. */
  toBytes(): Uint8Array;
  /**
   * Text columns a record of this detector has, when it reads text records itself (a model
   * that one-hot encodes categories): {@linkcode readRecord} turns one into its inputs.
   */
  readonly recordColumns?: number;
  /** Encodes a text record into `out` (its inputs); throws a `RangeError` naming the column. */
  readRecord?(fields: readonly string[], out: Float64Array): void;
}

/** The shape of the stream a detector serves, and the files the configuration names. */
export interface StreamShape {
  /** The stream's name. */
  stream: string;
  /** Names of the values each message carries. */
  fields: readonly string[];
  /** Names of the model's inputs: the fields, or their damped features. */
  features: readonly string[];
  /** Files read for the configuration (model files), by their configured path. */
  files: ReadonlyMap<string, Uint8Array>;
}

/**
 * The detectors of one stream: each device's, made new, saved and restored. A model trained
 * beforehand is shared by the stream's devices, so a device's saved part of it is empty.
 */
export interface StreamDetectors {
  /** A new detector for a device. */
  create(): Detector;
  /** A device's state, as {@linkcode load} reads it. */
  save(detector: Detector): Uint8Array;
  /** A device's detector from {@linkcode save}'s bytes; throws a `RangeError` saying why not. */
  load(bytes: Uint8Array): Detector;
}

/**
 * Why a stream's model cannot be made: `key` is the configuration key at fault relative to the
 * stream's model section (`"path"`), `message` says why.
 */
export class ModelProblem extends Error {
  /** The key at fault, within the model's section. */
  readonly key: string;

  /** A problem with `key`. */
  constructor(key: string, message: string) {
    super(message);
    this.name = "ModelProblem";
    this.key = key;
  }
}

/** Options of {@linkcode DetectorType.fitRows}: a batch of normal rows, learned at once. */
export interface FitOptions {
  /** Passes (epochs) over the rows; the type's default when absent. */
  epochs?: number;
  /** The learning rate; the type's default when absent. */
  learningRate?: number;
  /** Seed of a model's random initialisation. */
  seed?: number;
  /** A named set of published training settings (e.g. a dataset's), for types that have them. */
  preset?: string;
  /** How a type that stores its own threshold sets it from its training rows' scores. */
  thresholdRule?: ThresholdRule;
  /** Free text stored with the model (for types whose files keep it), from the settings used. */
  metadata?: (training: FitResult["training"]) => string;
  /** The record encoder the rows came from, kept with a model that reads records itself. */
  encoder?: unknown;
  /** Called after each epoch, for types that train in epochs. */
  onEpoch?: (report: EpochProgress) => void;
}

/** One epoch of batch training, as {@linkcode FitOptions.onEpoch} hears of it. */
export interface EpochProgress {
  /** 1-based epoch number. */
  epoch: number;
  /** Epochs planned. */
  epochs: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Validation loss after it (NaN without a validation split). */
  validationLoss: number;
  /** Seconds since training began. */
  elapsedSeconds: number;
}

/** What {@linkcode DetectorType.fitRows} learned. */
export interface FitResult {
  /** The trained detector, scoring. */
  detector: Detector;
  /** Passes made and the settings used (for reports). */
  training: { epochs: number; learningRate: number; batchSize?: number; l2?: number };
  /** How it was trained, in a line of a report. */
  description: string;
  /** Seconds spent learning. */
  seconds: number;
  /** Final training loss, for types that measure one. */
  finalLoss?: number;
  /** Final validation loss, for types that measure one. */
  finalValidationLoss?: number;
}

/** One option of a model type that a command line sets (`--window 500`). */
export interface ModelFlag {
  /** The flag, without its dashes (`"window"`). */
  flag: string;
  /** The key it sets in the model section (`"window"`). */
  key: string;
  /**
   * An integer of at least `least`, a number above `least`, the path of a JSON file whose
   * content is the value, or one of `choices`.
   */
  kind: "integer" | "number" | "json-file" | "choice";
  /** What a `"choice"` flag accepts. */
  choices?: readonly string[];
  /** The smallest integer, or the number the value must exceed (unused for a file). */
  least: number;
  /** What it is, with its default, for a command's help (`"instances per window (250)"`). */
  help: string;
}

/** A model type: how the registry makes, reads and trains detectors of it. */
export interface DetectorType {
  /** Its name in the configuration (`model.type`). */
  readonly type: string;
  /** The kind its sealed state is written with (4 capitals). */
  readonly stateKind: string;
  /** Its options a command line sets, as flags (none for a type trained beforehand). */
  readonly flags: readonly ModelFlag[];
  /** Reads the bytes of {@linkcode Detector.toBytes}; throws a `RangeError` naming the problem. */
  fromBytes(bytes: Uint8Array): Detector;
  /**
   * The detectors of a stream configured with `options` (the stream's model section); throws a
   * {@linkcode ModelProblem} when they cannot be made (a file missing or not fitting the stream).
   */
  forStream(options: ModelOptions, shape: StreamShape): StreamDetectors;
  /**
   * The files a stream's model section names, by their key in it (`{ key: "path", path }`):
   * an adapter reads them into {@linkcode StreamShape.files} before the engine starts.
   */
  filesOf(options: ModelOptions): { key: string; path: string }[];
  /**
   * For a type that learns online: its options (defaults elsewhere) for a stream on which it
   * must finish learning within `instances` instances, so that one comparison can give every
   * type the same learning budget. Absent for a type trained beforehand ({@linkcode fitRows}).
   */
  learningWithin?(instances: number): ModelOptions;
  /** Learns a batch of normal rows (`rows`: n × `inputs`, row-major) into a scoring detector. */
  fitRows(rows: Float64Array, inputs: number, options: FitOptions): FitResult;
}

/** A stream's model section: its type and that type's own options. */
export interface ModelOptions {
  /** The model type (`"kitnet"`, `"deep-ae"`, `"hst"`). */
  type: string;
  /** The type's own options (each type documents its keys). */
  [option: string]: unknown;
}
