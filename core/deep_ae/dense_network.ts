/**
 * A feed-forward network of dense layers, evaluated and differentiated a batch at a time.
 *
 * Layout: a batch is a row-major `Float64Array` (rows × features). Layer l's kernel is stored
 * output-major, `kernels[l][j * inputs + i]` = weight from input i to unit j — the transpose of a
 * Keras kernel — so the forward pass is one {@linkcode matmulTransposed}. All per-batch buffers
 * live in a {@linkcode DenseWorkspace} made once for the largest batch; nothing is allocated per
 * batch.
 *
 * @module
 */

import { activate, type Activation, checkActivation, multiplyByDerivative } from "./activations.ts";
import { matmulTransposed, transpose } from "../math/mod.ts";
import type { MersenneTwister } from "../math/mod.ts";

/** One dense layer: its width and activation. */
export interface DenseLayerSpec {
  /** Output units. */
  units: number;
  /** Activation applied to the affine output. */
  activation: Activation;
}

/** Buffers for forward and backward passes over batches of up to `capacity` rows. */
export class DenseWorkspace {
  /** Most rows a batch may have. */
  readonly capacity: number;
  /** `activations[0]` is the input batch; `activations[l + 1]` the output of layer l. */
  readonly activations: Float64Array[];
  /** `deltas[l]`: gradient of the loss with respect to layer l's pre-activation (rows × units). */
  readonly deltas: Float64Array[];
  /** Gradient of the loss with respect to each kernel (same layout as the kernels). */
  readonly kernelGradients: Float64Array[];
  /** Gradient of the loss with respect to each bias. */
  readonly biasGradients: Float64Array[];
  /** Scratch for transposed batches and kernels. */
  readonly scratchA: Float64Array;
  /** Scratch for transposed batches and kernels. */
  readonly scratchB: Float64Array;

  /** Buffers for `network` over batches of up to `capacity` rows. */
  constructor(network: DenseNetwork, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`batch capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
    const sizes = network.sizes;
    this.activations = sizes.map((size) => new Float64Array(capacity * size));
    this.deltas = sizes.slice(1).map((size) => new Float64Array(capacity * size));
    this.kernelGradients = network.kernels.map((k) => new Float64Array(k.length));
    this.biasGradients = network.biases.map((b) => new Float64Array(b.length));
    let widest = 0;
    for (const size of sizes) widest = Math.max(widest, size);
    const scratch = Math.max(capacity * widest, widest * widest);
    this.scratchA = new Float64Array(scratch);
    this.scratchB = new Float64Array(scratch);
  }
}

/** A stack of dense layers with their parameters. */
export class DenseNetwork {
  /** Features of an input row. */
  readonly inputSize: number;
  /** The layers, input side first. */
  readonly layers: readonly DenseLayerSpec[];
  /** `sizes[0]` = inputSize, `sizes[l + 1]` = units of layer l. */
  readonly sizes: readonly number[];
  /** Kernels, output-major (units × inputs, row-major). */
  readonly kernels: Float64Array[];
  /** Biases (units). */
  readonly biases: Float64Array[];

  /**
   * A network with the given parameters (copied from `kernels` and `biases` when given,
   * zeros otherwise). Use {@linkcode DenseNetwork.glorot} for a freshly initialised one.
   */
  constructor(
    inputSize: number,
    layers: readonly DenseLayerSpec[],
    kernels?: readonly ArrayLike<number>[],
    biases?: readonly ArrayLike<number>[],
  ) {
    checkSize(inputSize, "inputSize");
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new RangeError("a dense network needs at least one layer");
    }
    this.layers = layers.map((layer, l) => ({
      units: checkSize(layer.units, `layers[${l}].units`),
      activation: checkActivation(layer.activation, `layers[${l}].activation`),
    }));
    this.inputSize = inputSize;
    this.sizes = [inputSize, ...this.layers.map((layer) => layer.units)];
    this.kernels = [];
    this.biases = [];
    for (let l = 0; l < this.layers.length; l++) {
      const kernel = new Float64Array(this.sizes[l] * this.sizes[l + 1]);
      const bias = new Float64Array(this.sizes[l + 1]);
      if (kernels !== undefined) copyChecked(kernels[l], kernel, `kernels[${l}]`);
      if (biases !== undefined) copyChecked(biases[l], bias, `biases[${l}]`);
      this.kernels.push(kernel);
      this.biases.push(bias);
    }
  }

  /**
   * A network with Glorot-uniform kernels (uniform in ±√(6 / (inputs + units)), drawn layer by
   * layer in Keras's kernel order, input-major) and zero biases.
   */
  static glorot(
    inputSize: number,
    layers: readonly DenseLayerSpec[],
    rng: MersenneTwister,
  ): DenseNetwork {
    const network = new DenseNetwork(inputSize, layers);
    for (let l = 0; l < network.layers.length; l++) {
      const fanIn = network.sizes[l];
      const fanOut = network.sizes[l + 1];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const kernel = network.kernels[l];
      for (let i = 0; i < fanIn; i++) {
        for (let j = 0; j < fanOut; j++) kernel[j * fanIn + i] = rng.uniform(-limit, limit);
      }
    }
    return network;
  }

  /** Features of an output row. */
  get outputSize(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** Trainable numbers in the network. */
  get parameterCount(): number {
    let count = 0;
    for (let l = 0; l < this.kernels.length; l++) {
      count += this.kernels[l].length + this.biases[l].length;
    }
    return count;
  }

  /** The parameters as one list (kernels then biases, layer by layer), for an optimiser. */
  parameters(): Float64Array[] {
    const out: Float64Array[] = [];
    for (let l = 0; l < this.kernels.length; l++) out.push(this.kernels[l], this.biases[l]);
    return out;
  }

  /** The gradients of a workspace in the order of {@linkcode DenseNetwork.parameters}. */
  gradients(workspace: DenseWorkspace): Float64Array[] {
    const out: Float64Array[] = [];
    for (let l = 0; l < this.kernels.length; l++) {
      out.push(workspace.kernelGradients[l], workspace.biasGradients[l]);
    }
    return out;
  }

  /** A workspace for batches of up to `capacity` rows. */
  workspace(capacity: number): DenseWorkspace {
    return new DenseWorkspace(this, capacity);
  }

  /**
   * Runs the first `rows` rows of `workspace.activations[0]` through the network; returns the
   * output buffer (`workspace.activations[last]`, rows × outputSize valid).
   */
  forward(workspace: DenseWorkspace, rows: number): Float64Array {
    this.#checkRows(workspace, rows);
    const acts = workspace.activations;
    for (let l = 0; l < this.layers.length; l++) {
      const inputs = this.sizes[l];
      const units = this.sizes[l + 1];
      const out = acts[l + 1];
      matmulTransposed(acts[l], this.kernels[l], out, rows, units, inputs);
      const bias = this.biases[l];
      for (let r = 0; r < rows; r++) {
        const o = r * units;
        for (let j = 0; j < units; j++) out[o + j] += bias[j];
      }
      activate(this.layers[l].activation, out, rows * units);
    }
    return acts[this.layers.length];
  }

  /**
   * Backpropagates after {@linkcode DenseNetwork.forward}: expects ∂loss/∂output (rows ×
   * outputSize) in `workspace.deltas[last]` and fills `kernelGradients` and `biasGradients`.
   */
  backward(workspace: DenseWorkspace, rows: number): void {
    this.#checkRows(workspace, rows);
    const acts = workspace.activations;
    const deltas = workspace.deltas;
    const last = this.layers.length - 1;
    multiplyByDerivative(
      this.layers[last].activation,
      acts[last + 1],
      deltas[last],
      rows * this.sizes[last + 1],
    );
    for (let l = last; l >= 0; l--) {
      const inputs = this.sizes[l];
      const units = this.sizes[l + 1];
      const delta = deltas[l];
      // ∂W (units × inputs) = δᵀ · a, as a product of the transposed batch matrices.
      transpose(delta, workspace.scratchA, rows, units);
      transpose(acts[l], workspace.scratchB, rows, inputs);
      matmulTransposed(
        workspace.scratchA,
        workspace.scratchB,
        workspace.kernelGradients[l],
        units,
        inputs,
        rows,
      );
      const biasGradient = workspace.biasGradients[l];
      biasGradient.fill(0);
      for (let r = 0; r < rows; r++) {
        const o = r * units;
        for (let j = 0; j < units; j++) biasGradient[j] += delta[o + j];
      }
      if (l === 0) break;
      // δ_{l−1} = (δ_l · W_l) ⊙ f′: W_l transposed to inputs × units for the NT product.
      transpose(this.kernels[l], workspace.scratchA, units, inputs);
      matmulTransposed(delta, workspace.scratchA, deltas[l - 1], rows, inputs, units);
      multiplyByDerivative(this.layers[l - 1].activation, acts[l], deltas[l - 1], rows * inputs);
    }
  }

  /** A deep copy. */
  clone(): DenseNetwork {
    return new DenseNetwork(this.inputSize, this.layers, this.kernels, this.biases);
  }

  /** Copies every parameter from `other`, which must have the same shape. */
  copyFrom(other: DenseNetwork): void {
    for (let l = 0; l < this.kernels.length; l++) {
      copyChecked(other.kernels[l], this.kernels[l], `kernels[${l}]`);
      copyChecked(other.biases[l], this.biases[l], `biases[${l}]`);
    }
  }

  #checkRows(workspace: DenseWorkspace, rows: number): void {
    if (!Number.isInteger(rows) || rows < 1 || rows > workspace.capacity) {
      throw new RangeError(`batch rows must be in 1..${workspace.capacity}, got ${rows}`);
    }
  }
}

function checkSize(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${field} must be an integer ≥ 1, got ${value}`);
  }
  return value;
}

function copyChecked(source: ArrayLike<number> | undefined, target: Float64Array, field: string) {
  if (source === undefined || source.length !== target.length) {
    throw new RangeError(`${field} must have ${target.length} numbers, got ${source?.length}`);
  }
  for (let i = 0; i < target.length; i++) {
    const v = source[i];
    if (!Number.isFinite(v)) throw new RangeError(`${field}[${i}] is ${v}, not a finite number`);
    target[i] = v;
  }
}
