/**
 * The lightweight deep autoencoder of Dlamini, Galieva and Fahim: a dense autoencoder trained on
 * normal rows only, scoring a row by its reconstruction error (mean squared error over the
 * features) against a threshold learned from the training errors.
 *
 * A {@linkcode DeepAutoencoder} bundles the network, the optional preprocessing of raw records
 * ({@linkcode TabularEncoder}) and the threshold, and saves them together in one checksummed
 * file ("DAEM"), so a model trained on a workstation scores raw records on a gateway.
 *
 * @module
 */

import type { Activation } from "./activations.ts";
import { type DenseLayerSpec, DenseNetwork, type DenseWorkspace } from "./dense_network.ts";
import {
  type DenseTrainingOptions,
  rowMeanSquaredErrors,
  trainDense,
  type TrainingHistory,
} from "./dense_trainer.ts";
import { MersenneTwister } from "../math/mod.ts";
import { MODEL_FILE, readModelFile, writeModelFile } from "./model_file.ts";
import type { TabularEncoder, TabularRecord } from "./tabular_encoder.ts";
import {
  formatThresholdRule,
  parseThresholdRule,
  thresholdFor,
  type ThresholdRule,
} from "../thresholds/mod.ts";

/** The paper's hidden layers: 100, 50, 25 tanh · 12 linear · 25, 50, 100 tanh. */
export const PAPER_HIDDEN_LAYERS: readonly DenseLayerSpec[] = [
  { units: 100, activation: "tanh" },
  { units: 50, activation: "tanh" },
  { units: 25, activation: "tanh" },
  { units: 12, activation: "linear" },
  { units: 25, activation: "tanh" },
  { units: 50, activation: "tanh" },
  { units: 100, activation: "tanh" },
];

/** Training options without the shuffling generator, which the model owns. */
export type DeepAutoencoderTrainingOptions = Omit<DenseTrainingOptions, "rng">;

/**
 * The paper's NSL-KDD training: L2 0.01 on both 50-unit kernels (layers 1 and 5), Adam lr 1e-4,
 * batch 250, 95 epochs, last 20 % for validation.
 */
export const NSL_KDD_TRAINING: Readonly<DeepAutoencoderTrainingOptions> = {
  epochs: 95,
  batchSize: 250,
  learningRate: 1e-4,
  validationSplit: 0.2,
  penalties: [{ layer: 1, lambda: 0.01 }, { layer: 5, lambda: 0.01 }],
};

/** The paper's KDD-99 training: no penalty, Adam lr 1e-3, batch 100, 20 epochs, 20 % validation. */
export const KDD99_TRAINING: Readonly<DeepAutoencoderTrainingOptions> = {
  epochs: 20,
  batchSize: 100,
  learningRate: 1e-3,
  validationSplit: 0.2,
};

/** Options of {@linkcode DeepAutoencoder.create}. */
export interface DeepAutoencoderOptions {
  /** Features of an (encoded) row. */
  inputSize: number;
  /** Hidden layers; default {@linkcode PAPER_HIDDEN_LAYERS}. The output layer is added. */
  hiddenLayers?: readonly DenseLayerSpec[];
  /** Activation of the output layer (inputSize units). Default linear. */
  outputActivation?: Activation;
  /** Seed of the Glorot initialisation and of the shuffling that follows. Default 1. */
  seed?: number;
  /** Preprocessing of raw records; its outputSize must equal inputSize. */
  encoder?: TabularEncoder;
}

/** A dense autoencoder anomaly detector with its preprocessing and threshold. */
export class DeepAutoencoder {
  /** The network (input → … → input). */
  readonly network: DenseNetwork;
  /** Preprocessing of raw records, when the model has one. */
  readonly encoder: TabularEncoder | undefined;
  /** Seed the model was created with. */
  readonly seed: number;
  /** Rows at or above this error are anomalies (NaN until {@linkcode DeepAutoencoder.calibrate}). */
  threshold: number = NaN;
  /** The rule the threshold came from, when calibrated. */
  thresholdRule: ThresholdRule | undefined;
  /** Free text saved with the model (e.g. JSON describing its training). */
  metadata = "";
  #rng: MersenneTwister;
  #workspace: DenseWorkspace | undefined;
  #row: Float64Array;

  private constructor(
    network: DenseNetwork,
    encoder: TabularEncoder | undefined,
    seed: number,
    rng: MersenneTwister,
  ) {
    if (encoder !== undefined && encoder.outputSize !== network.inputSize) {
      throw new RangeError(
        `the encoder produces ${encoder.outputSize} features, the network reads ${network.inputSize}`,
      );
    }
    if (network.outputSize !== network.inputSize) {
      throw new RangeError(
        `an autoencoder's output (${network.outputSize}) must match its input (${network.inputSize})`,
      );
    }
    this.network = network;
    this.encoder = encoder;
    this.seed = seed;
    this.#rng = rng;
    this.#row = new Float64Array(network.inputSize);
  }

  /** A freshly initialised model (Glorot-uniform kernels, zero biases). */
  static create(options: DeepAutoencoderOptions): DeepAutoencoder {
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in 0..4294967295, got ${seed}`);
    }
    const rng = new MersenneTwister(seed);
    const layers = [
      ...(options.hiddenLayers ?? PAPER_HIDDEN_LAYERS),
      { units: options.inputSize, activation: options.outputActivation ?? "linear" },
    ];
    const network = DenseNetwork.glorot(options.inputSize, layers, rng);
    return new DeepAutoencoder(network, options.encoder, seed, rng);
  }

  /** Features of an encoded row. */
  get inputSize(): number {
    return this.network.inputSize;
  }

  /**
   * Trains on encoded normal rows (`rows`: n × inputSize, row-major), shuffling with the model's
   * generator (seeded by `seed`, continuing after the initialisation).
   */
  train(rows: Float64Array, options: DeepAutoencoderTrainingOptions): TrainingHistory {
    return trainDense(this.network, rows, { ...options, rng: this.#rng });
  }

  /** The reconstruction error (MSE over features) of every encoded row. */
  errors(rows: Float64Array): Float64Array {
    return rowMeanSquaredErrors(this.network, rows);
  }

  /** Sets the threshold from the errors of normal training rows; returns it. */
  calibrate(trainingErrors: ArrayLike<number>, rule: ThresholdRule = { kind: "paper" }): number {
    this.threshold = thresholdFor(rule, trainingErrors);
    this.thresholdRule = rule;
    return this.threshold;
  }

  /**
   * The reconstruction error of one encoded row (no allocation after the first call); when
   * `squaredErrors` is given, each feature's squared error is written to it as well.
   */
  scoreRow(row: ArrayLike<number>, squaredErrors?: Float64Array): number {
    const d = this.inputSize;
    if (row.length !== d) throw new RangeError(`a row must have ${d} features, got ${row.length}`);
    this.#workspace ??= this.network.workspace(1);
    const input = this.#workspace.activations[0];
    for (let i = 0; i < d; i++) {
      const v = row[i];
      if (!Number.isFinite(v)) throw new RangeError(`feature ${i} is ${v}, not a finite number`);
      input[i] = v;
    }
    const output = this.network.forward(this.#workspace, 1);
    let sum = 0;
    for (let i = 0; i < d; i++) {
      const e = output[i] - input[i];
      sum += e * e;
      if (squaredErrors !== undefined) squaredErrors[i] = e * e;
    }
    return sum / d;
  }

  /** The reconstruction error of a raw record, through the model's encoder. */
  scoreRecord(record: TabularRecord): number {
    if (this.encoder === undefined) {
      throw new RangeError("this model has no record encoder; score encoded rows with scoreRow");
    }
    this.encoder.encodeInto(record, this.#row);
    return this.scoreRow(this.#row);
  }

  /** Whether `score` is at or above the threshold (throws before calibration). */
  isAnomaly(score: number): boolean {
    if (Number.isNaN(this.threshold)) {
      throw new RangeError("the model has no threshold yet: calibrate it on training errors");
    }
    return score >= this.threshold;
  }

  /** The model, its encoder and threshold as a checksummed file (`model_file.ts`). */
  toBytes(): Uint8Array {
    return writeModelFile({
      seed: this.seed,
      network: this.network,
      threshold: this.threshold,
      thresholdRule: this.thresholdRule === undefined
        ? ""
        : formatThresholdRule(this.thresholdRule),
      encoder: this.encoder,
      metadata: this.metadata,
    });
  }

  /** Reads a model written by {@linkcode DeepAutoencoder.toBytes}; refuses altered files. */
  static fromBytes(bytes: Uint8Array): DeepAutoencoder {
    try {
      const file = readModelFile(bytes);
      const model = new DeepAutoencoder(
        file.network,
        file.encoder,
        file.seed,
        new MersenneTwister(file.seed),
      );
      model.threshold = file.threshold;
      model.thresholdRule = file.thresholdRule === ""
        ? undefined
        : parseThresholdRule(file.thresholdRule);
      model.metadata = file.metadata;
      return model;
    } catch (error) {
      // Errors of the parts (network, encoder, threshold rule) say what the file holds.
      if (!(error instanceof RangeError) || error.message.startsWith(MODEL_FILE)) throw error;
      throw new RangeError(`${MODEL_FILE}: ${error.message}`);
    }
  }
}
