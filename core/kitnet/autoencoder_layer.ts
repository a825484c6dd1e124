/**
 * A layer of KitNET's tied-weight autoencoders, packed side by side.
 *
 * Every autoencoder of a layer reads its own slice of one input vector. Their weights, biases,
 * normalisation bounds and scratch values live in a few contiguous typed arrays, and each step
 * (normalise, encode, decode, update) sweeps all autoencoders before the next begins: this keeps
 * memory access sequential and the per-instance work free of allocation.
 *
 * The arrays are views of a {@linkcode KernelHeap}: where WebAssembly is available the layer
 * runs on `autoencoder_kernel.ts`'s kernel (same operations, same order, same bits, and about
 * twice as fast under V8); otherwise on the loops below.
 *
 * @module
 */

import { MersenneTwister } from "../math/mod.ts";
import { sigmoid } from "../math/mod.ts";
import { type AutoencoderKernel, HEADER, KernelHeap } from "./autoencoder_kernel.ts";

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
  /**
   * Where the layer's arrays go (see {@linkcode AutoencoderLayer.bytes}); default: a heap of
   * its own, on WebAssembly when the runtime has it.
   */
  heap?: KernelHeap;
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
  /** Whether the layer runs on the WebAssembly kernel. */
  readonly webAssembly: boolean;

  #kernel: AutoencoderKernel | undefined;
  #header: number;
  #input: Float64Array;
  // Scratch, reused for every instance.
  #normalised: Float64Array;
  #reconstructed: Float64Array;
  #error: Float64Array;
  #hidden: Float64Array;
  #hiddenGradient: Float64Array;

  /**
   * Bytes of heap the layer needs (for sizing a {@linkcode KernelHeap} shared by several).
   * Like the constructor, without `heap`.
   */
  static bytes(options: LayerShapeOptions): number {
    return heapBytes(shapeOf(options));
  }

  constructor(options: AutoencoderLayerOptions) {
    const { inputs, hiddenRatio, learningRate } = options;
    const k = inputs.length;
    this.size = k;
    this.learningRate = learningRate;
    this.hiddenRatio = hiddenRatio;
    const shape = shapeOf(options);
    const heap = options.heap ?? new KernelHeap(heapBytes(shape), true);
    const arrays = layOut(heap, shape, options);
    this.visibleStart = arrays.visibleStart;
    this.hiddenStart = arrays.hiddenStart;
    this.weightStart = shape.weightStart;
    this.inputIndex = arrays.inputIndex;
    this.#input = arrays.input;
    this.weights = arrays.weights;
    this.hiddenBias = arrays.hiddenBias;
    this.visibleBias = arrays.visibleBias;
    this.min = arrays.min.fill(Infinity);
    this.max = arrays.max.fill(-Infinity);
    this.rmse = arrays.rmse;
    this.#normalised = arrays.normalised;
    this.#reconstructed = arrays.reconstructed;
    this.#error = arrays.error;
    this.#hidden = arrays.hidden;
    this.#hiddenGradient = arrays.hiddenGradient;
    this.#kernel = heap.kernel;
    this.webAssembly = heap.kernel !== undefined;
    // The header tells the kernel where everything is.
    const header = arrays.header;
    this.#header = header.byteOffset;
    const slots: [number, ArrayBufferView][] = [
      [HEADER.visibleStart, arrays.visibleStart],
      [HEADER.hiddenStart, arrays.hiddenStart],
      [HEADER.inputIndex, arrays.inputIndex],
      [HEADER.input, arrays.input],
      [HEADER.weights, arrays.weights],
      [HEADER.hiddenBias, arrays.hiddenBias],
      [HEADER.visibleBias, arrays.visibleBias],
      [HEADER.min, arrays.min],
      [HEADER.max, arrays.max],
      [HEADER.rmse, arrays.rmse],
      [HEADER.normalised, arrays.normalised],
      [HEADER.reconstructed, arrays.reconstructed],
      [HEADER.error, arrays.error],
      [HEADER.hidden, arrays.hidden],
      [HEADER.hiddenGradient, arrays.hiddenGradient],
    ];
    header[HEADER.autoencoders] = k;
    for (const [slot, view] of slots) header[slot] = view.byteOffset;
    header[HEADER.expTable] = heap.expTable;
    header[HEADER.expPow2] = heap.expPow2;
    arrays.headerDoubles[HEADER.learningRateAt / 8] = learningRate;
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
    if (this.#kernel !== undefined) {
      this.#takeInput(input);
      this.#kernel.train(this.#header);
      return;
    }
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
    if (this.#kernel !== undefined) {
      this.#takeInput(input);
      this.#kernel.execute(this.#header);
      return;
    }
    const { inputIndex, min, max } = this;
    const u = this.#normalised;
    for (let j = 0; j < u.length; j++) {
      u[j] = (input[inputIndex[j]] - min[j]) / (max[j] - min[j] + 1e-16);
    }
    this.#reconstruct();
    this.#measureError();
  }

  /** Puts `input` where the kernel reads it. */
  #takeInput(input: ArrayLike<number>): void {
    const own = this.#input;
    if (input instanceof Float64Array && input.length === own.length) own.set(input);
    else for (let i = 0; i < own.length; i++) own[i] = input[i];
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

type LayerShapeOptions = Pick<AutoencoderLayerOptions, "inputs" | "hiddenRatio">;

/** Where each autoencoder's units and weights start, and how long an input must be. */
interface LayerShape {
  visibleStart: Int32Array;
  hiddenStart: Int32Array;
  weightStart: Int32Array;
  inputLength: number;
}

function shapeOf({ inputs, hiddenRatio }: LayerShapeOptions): LayerShape {
  const k = inputs.length;
  const visibleStart = new Int32Array(k + 1);
  const hiddenStart = new Int32Array(k + 1);
  const weightStart = new Int32Array(k + 1);
  let inputLength = 0;
  for (let a = 0; a < k; a++) {
    const v = inputs[a].length;
    const h = Math.ceil(v * hiddenRatio);
    visibleStart[a + 1] = visibleStart[a] + v;
    hiddenStart[a + 1] = hiddenStart[a] + h;
    weightStart[a + 1] = weightStart[a] + v * h;
    for (let j = 0; j < v; j++) inputLength = Math.max(inputLength, inputs[a][j] + 1);
  }
  return { visibleStart, hiddenStart, weightStart, inputLength };
}

/** Lengths of a layer's f64 arrays after its input, in heap order (see layOut). */
function doubleArrayLengths(shape: LayerShape): number[] {
  const k = shape.visibleStart.length - 1;
  const visible = shape.visibleStart[k], hidden = shape.hiddenStart[k];
  return [shape.weightStart[k], hidden, visible, visible, visible, k, visible, visible, visible];
}

/** Bytes of heap a layer of this shape takes (see layOut). */
function heapBytes(shape: LayerShape): number {
  const k = shape.visibleStart.length - 1;
  const visible = shape.visibleStart[k], hidden = shape.hiddenStart[k];
  const ints = HEADER.bytes + 4 * (2 * (k + 1) + visible);
  const doubles = shape.inputLength + 2 * hidden +
    doubleArrayLengths(shape).reduce((sum, n) => sum + n, 0);
  return ((ints + 7) & ~7) + 8 * doubles;
}

/** A layer's arrays, allocated from `heap` in the order heapBytes counts. */
function layOut(heap: KernelHeap, shape: LayerShape, options: LayerShapeOptions) {
  const { inputs } = options;
  const k = inputs.length;
  // The header's i32 slots and its f64 learning rate share 8-aligned bytes.
  const headerDoubles = heap.f64(HEADER.bytes / 8);
  const header = new Int32Array(heap.buffer, headerDoubles.byteOffset, HEADER.bytes / 4);
  const visibleStart = heap.i32(k + 1);
  visibleStart.set(shape.visibleStart);
  const hiddenStart = heap.i32(k + 1);
  hiddenStart.set(shape.hiddenStart);
  const visible = shape.visibleStart[k], hidden = shape.hiddenStart[k];
  const inputIndex = heap.i32(visible);
  for (let a = 0; a < k; a++) {
    for (let j = 0; j < inputs[a].length; j++) inputIndex[shape.visibleStart[a] + j] = inputs[a][j];
  }
  const input = heap.f64(shape.inputLength);
  const [weights, hiddenBias, visibleBias, min, max, rmse, normalised, reconstructed, error] =
    doubleArrayLengths(shape).map((n) => heap.f64(n));
  const hiddenActivations = heap.f64(hidden);
  const hiddenGradient = heap.f64(hidden);
  return {
    header,
    headerDoubles,
    visibleStart,
    hiddenStart,
    inputIndex,
    input,
    weights,
    hiddenBias,
    visibleBias,
    min,
    max,
    rmse,
    normalised,
    reconstructed,
    error,
    hidden: hiddenActivations,
    hiddenGradient,
  };
}
