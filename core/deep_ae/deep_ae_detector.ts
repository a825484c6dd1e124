/**
 * The deep autoencoder behind the detector interface (`core/detector.ts`): trained beforehand
 * (`foxtail train`, or a batch of rows through `fitRows`), learning nothing online, scoring by
 * its reconstruction error against the threshold stored with it (at or above is an anomaly).
 *
 * Two inputs: a model file read alone scores the rows its network reads (and reads text
 * records through its encoder, one-hot columns included); a stream's model scores telemetry
 * values, scaled by the model's encoder, shared by every device of the stream.
 *
 * @module
 */

import type {
  Detector,
  DetectorPhase,
  DetectorType,
  FitOptions,
  FitResult,
  ModelOptions,
  ScoreExplanation,
  StreamDetectors,
  StreamShape,
} from "../detector.ts";
import { ModelProblem } from "../detector.ts";
import { DeepAeScorer } from "./deep_ae_scorer.ts";
import {
  DeepAutoencoder,
  type DeepAutoencoderTrainingOptions,
  KDD99_TRAINING,
  NSL_KDD_TRAINING,
} from "./deep_autoencoder.ts";
import type { TabularEncoder } from "./tabular_encoder.ts";

/** The model type's name in a configuration. */
export const DEEP_AE_TYPE = "deep-ae";

/** A stream's `model` section for a deep autoencoder: the file it was saved to. */
export interface DeepAeModelOptions extends ModelOptions {
  /** `"deep-ae"`. */
  type: string;
  /** The model file's path (`foxtail train --save-model`). */
  path: string;
}

/** Published training settings by preset name (the datasets of the paper). */
const PRESETS: Record<string, Readonly<DeepAutoencoderTrainingOptions>> = {
  "nsl-kdd": NSL_KDD_TRAINING,
  "kdd99": KDD99_TRAINING,
};

/** A trained {@linkcode DeepAutoencoder} as a {@linkcode Detector}. */
export class DeepAeDetector implements Detector {
  /** `"deep-ae"`. */
  readonly type: string = DEEP_AE_TYPE;
  /** Trained already. */
  readonly phase: DetectorPhase = "executing";
  /** Learns nothing online. */
  readonly learningDone = 0;
  /** Learns nothing online. */
  readonly learningTotal = 0;
  /** Numbers per instance: the network's inputs, or the telemetry values it scales. */
  readonly inputs: number;
  /** Text columns of a record, when the model reads records through its encoder. */
  readonly recordColumns?: number;
  readonly #model: DeepAutoencoder;
  /** Scales telemetry values into the network's inputs (a stream's model). */
  readonly #scaler: DeepAeScorer | undefined;

  /**
   * Scores `model`'s encoded rows, or, with `telemetry`, raw values through a
   * {@linkcode DeepAeScorer} (one per stream).
   */
  constructor(model: DeepAutoencoder, telemetry?: DeepAeScorer) {
    this.#model = model;
    this.#scaler = telemetry;
    this.inputs = telemetry?.width ?? model.inputSize;
    if (telemetry === undefined && model.encoder !== undefined) {
      this.recordColumns = model.encoder.columns.length;
    }
  }

  /** The model's stored threshold (NaN when it has none). */
  get ownThreshold(): number {
    return this.#model.threshold;
  }

  /** The reconstruction error (MSE) of `x`; it learns nothing. */
  process(x: ArrayLike<number>): number {
    return this.scoreOne(x);
  }

  /** The reconstruction error (MSE) of `x`. */
  scoreOne(x: ArrayLike<number>): number {
    return this.#scaler !== undefined ? this.#scaler.score(x) : this.#model.scoreRow(x);
  }

  /** A model trained beforehand learns nothing online. */
  learnOne(_x: ArrayLike<number>): void {}

  /** The reconstruction errors of `rows`, in one batch through the network. */
  scoreMany(rows: Float64Array, out: Float64Array): void {
    if (this.#scaler === undefined) {
      out.set(this.#model.errors(rows));
      return;
    }
    const d = this.inputs;
    for (let r = 0; r < out.length; r++) {
      out[r] = this.#scaler.score(rows.subarray(r * d, (r + 1) * d));
    }
  }

  /** The error and each input's squared error (one group: every input). */
  explain(x: ArrayLike<number>): ScoreExplanation {
    const featureErrors = new Float64Array(this.#model.inputSize);
    const score = this.#scaler !== undefined
      ? this.#scaler.score(x, featureErrors)
      : this.#model.scoreRow(x, featureErrors);
    const features = Array.from({ length: featureErrors.length }, (_, i) => i);
    return { score, groups: [{ features, error: Math.sqrt(score) }], featureErrors };
  }

  /** Its layers and threshold. */
  summary(): string {
    const t = this.#model.threshold;
    const layers = this.#model.network.layers.map((l) => l.units).join("-");
    return `deep autoencoder ${this.#model.inputSize}-${layers}` +
      (Number.isNaN(t) ? ", no threshold" : `, threshold ${t.toPrecision(6)}`);
  }

  /** The model file's bytes (`DAEM`). */
  toBytes(): Uint8Array {
    return this.#model.toBytes();
  }

  /** Encodes a text record through the model's encoder into `out`. */
  readRecord(fields: readonly string[], out: Float64Array): void {
    const encoder = this.#model.encoder;
    if (encoder === undefined || this.#scaler !== undefined) {
      throw new RangeError("this model has no record encoder; it scores rows of numbers");
    }
    encoder.encodeInto(fields, out);
  }
}

/** The deep autoencoder as the registry sees it. */
export const deepAeType: DetectorType = {
  type: DEEP_AE_TYPE,
  stateKind: "DAEM",
  flags: [], // trained beforehand: nothing to set on a command line
  fromBytes: (bytes) => new DeepAeDetector(DeepAutoencoder.fromBytes(bytes)),
  filesOf: (options) => [{ key: "path", path: (options as DeepAeModelOptions).path }],
  forStream(options: ModelOptions, shape: StreamShape): StreamDetectors {
    const scorer = streamModel(options as DeepAeModelOptions, shape);
    const detector = new DeepAeDetector(scorer.model, scorer);
    const empty = new Uint8Array(0);
    return {
      create: () => detector,
      save: () => empty, // the stream's model, loaded from its file: nothing per device
      load(bytes) {
        if (bytes.length !== 0) {
          throw new RangeError(`its deep-ae state holds ${bytes.length} bytes; it has none`);
        }
        return detector;
      },
    };
  },
  fitRows(rows: Float64Array, inputs: number, options: FitOptions): FitResult {
    const preset = options.preset === undefined ? undefined : PRESETS[options.preset];
    if (options.preset !== undefined && preset === undefined) {
      throw new RangeError(
        `no training preset "${options.preset}"; there are ${Object.keys(PRESETS).join(", ")}`,
      );
    }
    const settings: DeepAutoencoderTrainingOptions = { ...(preset ?? NSL_KDD_TRAINING) };
    if (options.epochs !== undefined) settings.epochs = options.epochs;
    if (options.learningRate !== undefined) settings.learningRate = options.learningRate;
    settings.onEpoch = options.onEpoch;
    const model = DeepAutoencoder.create({
      inputSize: inputs,
      seed: options.seed ?? 1,
      encoder: options.encoder as TabularEncoder | undefined,
    });
    const history = model.train(rows, settings);
    const training = {
      epochs: settings.epochs,
      learningRate: settings.learningRate!,
      batchSize: settings.batchSize,
      l2: settings.penalties?.[0]?.lambda,
    };
    if (options.thresholdRule !== undefined) {
      model.calibrate(model.errors(rows), options.thresholdRule);
    }
    if (options.metadata !== undefined) model.metadata = options.metadata(training);
    const description = `${training.epochs} epochs, Adam lr ${training.learningRate}, batch ` +
      `${training.batchSize}` + (training.l2 ? `, L2 ${training.l2}` : "");
    return {
      detector: new DeepAeDetector(model),
      training,
      description,
      seconds: history.seconds,
      finalLoss: history.loss.at(-1),
      finalValidationLoss: history.validationLoss.at(-1),
    };
  },
};

/** The scorer of a stream's model file; throws a {@linkcode ModelProblem} saying why not. */
function streamModel(options: DeepAeModelOptions, shape: StreamShape): DeepAeScorer {
  const { fields, features } = shape;
  const file = JSON.stringify(options.path);
  const bytes = shape.files.get(options.path);
  if (bytes === undefined) throw new ModelProblem("path", `the model ${file} was not loaded`);
  let model: DeepAutoencoder;
  try {
    model = DeepAutoencoder.fromBytes(bytes);
  } catch (error) {
    throw new ModelProblem("path", `${file} is not a usable model: ${(error as Error).message}`);
  }
  const width = DeepAeScorer.inputWidth(model);
  if (width !== features.length) {
    const damped = features.length !== fields.length || features.some((f, i) => f !== fields[i]);
    const gives = damped
      ? `${features.length} damped features (from ${fields.length} field(s): ${fields.join(", ")})`
      : `${fields.length} field(s) (${fields.join(", ")})`;
    throw new ModelProblem(
      "path",
      `${file} reads ${width} inputs, stream "${shape.stream}" gives ${gives}`,
    );
  }
  const problem = DeepAeScorer.problem(model, width);
  if (problem !== undefined) throw new ModelProblem("path", `${file}: ${problem}`);
  return new DeepAeScorer(model, width);
}
