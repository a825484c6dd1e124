/**
 * A layer of KitNET's tied-weight autoencoders, packed side by side.
 *
 * Every autoencoder of a layer reads its own slice of one input vector. Their weights, biases,
 * normalisation bounds and scratch values live in a few contiguous typed arrays, and each step
 * (normalise, encode, decode, update) sweeps all autoencoders before the next begins: this keeps
 * memory access sequential and the per-instance work free of allocation.
 *
 * @module
 */

import { MersenneTwister } from "./mersenne_twister.ts";
import { sigmoid } from "./sigmoid.ts";

/** The seed every KitNET autoencoder's weights are drawn with (the reference's). */
export const AUTOENCODER_SEED = 1234;

/** Sizes and learning rate of an {@linkcode AutoencoderLayer}. */
export interface AutoencoderLayerOptions {
  /** For each autoencoder, the input indices it reads, in order. */
  inputs: ArrayLike<number>[];
  /** Hidden units = ceil(visible × hiddenRatio). */
  hiddenRatio: number;
  /** The SGD step of every autoencoder. */
  learningRate: number;
}

/** Several independent tied-weight autoencoders sharing one input vector. */
export class AutoencoderLayer {
  /** Number of autoencoders. */
  readonly size: number;
  /** The learning rate. */
  readonly learningRate: number;
  /** The hidden ratio the layer was built with. */
  readonly hiddenRatio: number;
  /** Visible units of autoencoder k are `visibleStart[k] .. visibleStart[k+1]`. */
  readonly visibleStart: Int32Array;
  /** Hidden units of autoencoder k are `hiddenStart[k] .. hiddenStart[k+1]`. */
  readonly hiddenStart: Int32Array;
  /** Weights of autoencoder k start at `weightStart[k]`, row-major (visible × hidden). */
  readonly weightStart: Int32Array;
  /** For each visible unit (all autoencoders), the input index it reads. */
  readonly inputIndex: Int32Array;
  /** Tied weights, all autoencoders. */
  readonly weights: Float64Array;
  /** Hidden biases. */
  readonly hiddenBias: Float64Array;
  /** Visible biases. */
  readonly visibleBias: Float64Array;
  /** Running minimum per visible unit (+∞ until seen). */
  readonly min: Float64Array;
  /** Running maximum per visible unit (−∞ until seen). */
  readonly max: Float64Array;
  /** Each autoencoder's RMSE of the last `train` or `execute`. */
  readonly rmse: Float64Array;

  // Scratch, reused for every instance.
  #normalised: Float64Array;
  #reconstructed: Float64Array;
  #error: Float64Array;
  #hidden: Float64Array;
  #hiddenGradient: Float64Array;

  constructor(options: AutoencoderLayerOptions) {
    const { inputs, hiddenRatio, learningRate } = options;
    const k = inputs.length;
    this.size = k;
    this.learningRate = learningRate;
    this.hiddenRatio = hiddenRatio;
    this.visibleStart = new Int32Array(k + 1);
    this.hiddenStart = new Int32Array(k + 1);
    this.weightStart = new Int32Array(k + 1);
    for (let a = 0; a < k; a++) {
      const v = inputs[a].length;
      const h = Math.ceil(v * hiddenRatio);
      this.visibleStart[a + 1] = this.visibleStart[a] + v;
      this.hiddenStart[a + 1] = this.hiddenStart[a] + h;
      this.weightStart[a + 1] = this.weightStart[a] + v * h;
    }
    const visible = this.visibleStart[k];
    const hidden = this.hiddenStart[k];
    this.inputIndex = new Int32Array(visible);
    for (let a = 0; a < k; a++) {
      const base = this.visibleStart[a];
      for (let j = 0; j < inputs[a].length; j++) this.inputIndex[base + j] = inputs[a][j];
    }
    this.weights = new Float64Array(this.weightStart[k]);
    this.hiddenBias = new Float64Array(hidden);
    this.visibleBias = new Float64Array(visible);
    this.min = new Float64Array(visible).fill(Infinity);
    this.max = new Float64Array(visible).fill(-Infinity);
    this.rmse = new Float64Array(k);
    this.#normalised = new Float64Array(visible);
    this.#reconstructed = new Float64Array(visible);
    this.#error = new Float64Array(visible);
    this.#hidden = new Float64Array(hidden);
    this.#hiddenGradient = new Float64Array(hidden);
    this.#initialiseWeights();
  }

  /** Visible units of autoencoder `a`. */
  visibleOf(a: number): number {
    return this.visibleStart[a + 1] - this.visibleStart[a];
  }

  /** Hidden units of autoencoder `a`. */
  hiddenOf(a: number): number {
    return this.hiddenStart[a + 1] - this.hiddenStart[a];
  }

  // numpy's RandomState(1234).uniform(-1/v, 1/v, (v, h)), a fresh generator per autoencoder.
  #initialiseWeights(): void {
    for (let a = 0; a < this.size; a++) {
      const v = this.visibleOf(a);
      const bound = 1 / v;
      const rng = new MersenneTwister(AUTOENCODER_SEED);
      const end = this.weightStart[a + 1];
      for (let w = this.weightStart[a]; w < end; w++) this.weights[w] = rng.uniform(-bound, bound);
    }
  }

  /** Trains every autoencoder on its slice of `input`; their RMSEs land in {@linkcode rmse}. */
  train(input: ArrayLike<number>): void {
    const { inputIndex, min, max } = this;
    const u = this.#normalised;
    for (let j = 0; j < u.length; j++) {
      const x = input[inputIndex[j]];
      if (x > max[j]) max[j] = x;
      if (x < min[j]) min[j] = x;
      u[j] = (x - min[j]) / (max[j] - min[j] + 1e-16);
    }
    this.#reconstruct();
    this.#measureError();
    this.#update();
  }

  /** Scores every autoencoder on its slice of `input` without learning. */
  execute(input: ArrayLike<number>): void {
    const { inputIndex, min, max } = this;
    const u = this.#normalised;
    for (let j = 0; j < u.length; j++) {
      u[j] = (input[inputIndex[j]] - min[j]) / (max[j] - min[j] + 1e-16);
    }
    this.#reconstruct();
    this.#measureError();
  }

  // y = sigmoid(u W + hb); z = sigmoid(y Wᵀ + vb), every autoencoder. Indices run over the
  // packed arrays directly (no per-autoencoder offsets inside the loops) to keep V8's loops tight.
  #reconstruct(): void {
    const W = this.weights, hb = this.hiddenBias, vb = this.visibleBias;
    const vs = this.visibleStart, hs = this.hiddenStart;
    const u = this.#normalised, y = this.#hidden, z = this.#reconstructed;
    y.fill(0);
    for (let a = 0, w = 0; a < this.size; a++) {
      const v0 = vs[a], v1 = vs[a + 1], h0 = hs[a], h1 = hs[a + 1];
      const wa = w;
      for (let j = v0; j < v1; j++) {
        const uj = u[j];
        for (let l = h0; l < h1; l++, w++) y[l] += uj * W[w];
      }
      for (let l = h0; l < h1; l++) y[l] = sigmoid(y[l] + hb[l]);
      for (let j = v0, wj = wa; j < v1; j++) {
        let sum = 0;
        for (let l = h0; l < h1; l++, wj++) sum += y[l] * W[wj];
        z[j] = sigmoid(sum + vb[j]);
      }
    }
  }

  // e = u − z and each autoencoder's sqrt(mean(e²)).
  #measureError(): void {
    const { visibleStart, rmse } = this;
    const u = this.#normalised;
    const z = this.#reconstructed;
    const e = this.#error;
    for (let a = 0; a < this.size; a++) {
      const v0 = visibleStart[a], v1 = visibleStart[a + 1];
      let sum = 0;
      for (let j = v0; j < v1; j++) {
        const d = u[j] - z[j];
        e[j] = d;
        sum += d * d;
      }
      rmse[a] = Math.sqrt(sum / (v1 - v0));
    }
  }

  // g = (e W) ⊙ y ⊙ (1 − y); W += lr (u gᵀ + e yᵀ); hb += lr g; vb += lr e.
  #update(): void {
    const W = this.weights, hb = this.hiddenBias, vb = this.visibleBias;
    const vs = this.visibleStart, hs = this.hiddenStart, lr = this.learningRate;
    const u = this.#normalised, e = this.#error, y = this.#hidden, g = this.#hiddenGradient;
    g.fill(0);
    for (let a = 0, w = 0; a < this.size; a++) {
      const v0 = vs[a], v1 = vs[a + 1], h0 = hs[a], h1 = hs[a + 1];
      const wa = w;
      for (let j = v0; j < v1; j++) {
        const ej = e[j];
        for (let l = h0; l < h1; l++, w++) g[l] += ej * W[w];
      }
      for (let l = h0; l < h1; l++) {
        const yl = y[l];
        g[l] = g[l] * yl * (1 - yl);
      }
      for (let j = v0, wj = wa; j < v1; j++) {
        const uj = u[j], ej = e[j];
        for (let l = h0; l < h1; l++, wj++) W[wj] += lr * (uj * g[l] + ej * y[l]);
      }
      for (let l = h0; l < h1; l++) hb[l] += lr * g[l];
      for (let j = v0; j < v1; j++) vb[j] += lr * e[j];
    }
  }
}
