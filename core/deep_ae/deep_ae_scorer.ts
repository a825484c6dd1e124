/**
 * A trained {@linkcode DeepAutoencoder} as the gateway uses it (`model.type: "deep-ae"`): it
 * scores each message's feature vector by the model's reconstruction error (MSE) against the
 * threshold stored with the model, learning nothing. One scorer serves every device of a
 * stream: it holds no per-device state.
 *
 * @module
 */

import type { DeepAutoencoder } from "./deep_autoencoder.ts";

/** Scaled inputs are clamped to ±1e100, so a finite payload always gets a finite score. */
const LARGEST_INPUT = 1e100;

/** A deep autoencoder scoring numeric feature vectors of a fixed width. */
export class DeepAeScorer {
  /** The model. */
  readonly model: DeepAutoencoder;
  /** Numbers per feature vector. */
  readonly width: number;
  /** The model's stored threshold: errors at or above it are anomalies. */
  readonly threshold: number;
  readonly #offset: Float64Array;
  readonly #factor: Float64Array;
  readonly #row: Float64Array;

  /**
   * A scorer of `width`-number vectors; throws a `RangeError` saying why the model cannot
   * score them ({@linkcode DeepAeScorer.problem}).
   */
  constructor(model: DeepAutoencoder, width: number) {
    const problem = DeepAeScorer.problem(model, width);
    if (problem !== undefined) throw new RangeError(problem);
    this.model = model;
    this.width = width;
    this.threshold = model.threshold;
    // A model trained from CSV records (foxtail train) scales its numeric columns; apply that
    // scaling here rather than through the record encoder, which wants arrays of values.
    const scaler = model.encoder?.scaler;
    this.#offset = scaler?.offset ?? new Float64Array(width);
    this.#factor = scaler?.factor ?? new Float64Array(width).fill(1);
    this.#row = new Float64Array(width);
  }

  /** Numbers `model` reads per row: its record encoder's columns, or its network's inputs. */
  static inputWidth(model: DeepAutoencoder): number {
    return model.encoder?.columns.length ?? model.inputSize;
  }

  /**
   * Why `model` cannot score vectors of `width` numbers (its inputs differ, it one-hot encodes
   * a column, it holds a non-finite number, or it has no threshold), or undefined when it can.
   */
  static problem(model: DeepAutoencoder, width: number): string | undefined {
    const inputs = DeepAeScorer.inputWidth(model);
    if (inputs !== width) return `the model reads ${inputs} inputs, not ${width}`;
    const encoder = model.encoder;
    if (encoder !== undefined) {
      const categorical = encoder.columns.find((c) => c.kind === "categorical");
      if (categorical !== undefined) {
        return `the model one-hot encodes column "${categorical.name}"; telemetry fields are ` +
          `numbers only`;
      }
    }
    const net = model.network;
    const arrays = [...net.kernels, ...net.biases];
    if (encoder !== undefined) arrays.push(encoder.scaler.offset, encoder.scaler.factor);
    if (arrays.some((array) => !array.every(Number.isFinite))) {
      return "the model holds a weight or scaling factor that is not a finite number";
    }
    if (!(model.threshold >= 0 && model.threshold < Infinity)) {
      return `the model has no threshold (${model.threshold}); train it with foxtail train, ` +
        `which stores one`;
    }
    return undefined;
  }

  /**
   * The reconstruction error (MSE) of `x` ({@linkcode width} finite numbers); each feature's
   * squared error goes to `squaredErrors` when given. Allocates nothing.
   */
  score(x: ArrayLike<number>, squaredErrors?: Float64Array): number {
    const row = this.#row, offset = this.#offset, factor = this.#factor;
    for (let i = 0; i < row.length; i++) {
      // Scaling can overflow a finite value; a clamped one still scores as far off.
      const v = (x[i] - offset[i]) * factor[i];
      row[i] = v > LARGEST_INPUT ? LARGEST_INPUT : v < -LARGEST_INPUT ? -LARGEST_INPUT : v;
    }
    return this.model.scoreRow(row, squaredErrors);
  }
}
