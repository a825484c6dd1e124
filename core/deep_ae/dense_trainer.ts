/**
 * Mini-batch training of a {@linkcode DenseNetwork} on mean squared error with Adam, as Keras's
 * `fit` does it: the last `validationSplit` of the rows are held out (before any shuffling) and
 * only measured; the rest are shuffled every epoch and cut into batches, the last one partial.
 * An optional L2 penalty λ·ΣW² is added on chosen kernels, to the loss and to the validation loss.
 *
 * @module
 */

import { Adam } from "./adam.ts";
import type { DenseNetwork, DenseWorkspace } from "./dense_network.ts";
import type { MersenneTwister } from "../math/mod.ts";

/** An L2 penalty λ·ΣW² on one layer's kernel. */
export interface KernelPenalty {
  /** Index of the layer (0 = the one reading the input). */
  layer: number;
  /** λ. */
  lambda: number;
}

/** Stop when the monitored loss has not improved for `patience` epochs. */
export interface EarlyStopping {
  /** Epochs without improvement before stopping (≥ 1). */
  patience: number;
  /** Smallest decrease that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping. Default true. */
  restoreBest?: boolean;
}

/** What {@linkcode trainDense} reports after every epoch. */
export interface EpochReport {
  /** 1-based epoch number. */
  epoch: number;
  /** Epochs planned. */
  epochs: number;
  /** Mean loss over the epoch's batches (taken before each update, weighted by batch size). */
  loss: number;
  /** Loss on the validation rows after the epoch (NaN without a validation split). */
  validationLoss: number;
  /** Seconds since training began. */
  elapsedSeconds: number;
}

/** Options of {@linkcode trainDense}. */
export interface DenseTrainingOptions {
  /** Passes over the training rows (≥ 1). */
  epochs: number;
  /** Rows per batch (≥ 1). */
  batchSize: number;
  /** Adam's step size. Default 0.001. */
  learningRate?: number;
  /** Adam's β1. Default 0.9. */
  beta1?: number;
  /** Adam's β2. Default 0.999. */
  beta2?: number;
  /** Adam's ε. Default 1e-8. */
  epsilon?: number;
  /** Fraction of rows, taken from the end, held out for validation. Default 0. */
  validationSplit?: number;
  /** L2 penalties on kernels. */
  penalties?: readonly KernelPenalty[];
  /** Shuffles the training rows every epoch (Fisher–Yates); omit to keep their order. */
  rng?: MersenneTwister;
  /** Stop early on the validation loss (the training loss without a validation split). */
  earlyStopping?: EarlyStopping;
  /** Called after every epoch. */
  onEpoch?: (report: EpochReport) => void;
  /** Milliseconds since some origin; default `Date.now`. */
  clock?: () => number;
}

/** What {@linkcode trainDense} did. */
export interface TrainingHistory {
  /** Training loss per epoch. */
  loss: number[];
  /** Validation loss per epoch (NaN without a validation split). */
  validationLoss: number[];
  /** Rows trained on and held out. */
  trainingRows: number;
  /** Rows held out for validation. */
  validationRows: number;
  /** Adam steps taken. */
  steps: number;
  /** Whether early stopping ended training. */
  stoppedEarly: boolean;
  /** 1-based epoch whose parameters the network holds at the end. */
  finalEpoch: number;
  /** Seconds spent. */
  seconds: number;
}

/**
 * Trains `network` in place to map rows of `inputs` (rows × inputSize, row-major) to the same
 * rows of `targets` (rows × outputSize; default `inputs`, i.e. an autoencoder).
 */
export function trainDense(
  network: DenseNetwork,
  inputs: Float64Array,
  options: DenseTrainingOptions,
  targets: Float64Array = inputs,
): TrainingHistory {
  const d = network.inputSize;
  const out = network.outputSize;
  if (inputs.length % d !== 0) {
    throw new RangeError(`inputs has ${inputs.length} numbers, not a multiple of inputSize ${d}`);
  }
  const rows = inputs.length / d;
  if (targets.length !== rows * out) {
    throw new RangeError(`targets must have ${rows} × ${out} numbers, got ${targets.length}`);
  }
  const epochs = checkInteger(options.epochs, "epochs", 1);
  const batchSize = checkInteger(options.batchSize, "batchSize", 1);
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) {
    throw new RangeError(`validationSplit must be in [0, 1), got ${split}`);
  }
  const trainingRows = Math.floor(rows * (1 - split));
  const validationRows = rows - trainingRows;
  if (trainingRows < 1) throw new RangeError(`no rows left to train on (${rows} rows)`);
  const penalties = checkPenalties(options.penalties ?? [], network);
  const stopping = options.earlyStopping;
  if (stopping !== undefined) checkInteger(stopping.patience, "earlyStopping.patience", 1);
  const clock = options.clock ?? Date.now;

  const adam = new Adam(network.parameters(), options);
  const workspace = network.workspace(Math.min(batchSize, Math.max(trainingRows, validationRows)));
  const gradients = network.gradients(workspace);
  const order = new Uint32Array(trainingRows);
  for (let i = 0; i < trainingRows; i++) order[i] = i;
  const sameTargets = targets === inputs && out === d;
  const targetBatch = sameTargets ? workspace.activations[0] : new Float64Array(batchSize * out);

  const history: TrainingHistory = {
    loss: [],
    validationLoss: [],
    trainingRows,
    validationRows,
    steps: 0,
    stoppedEarly: false,
    finalEpoch: 0,
    seconds: 0,
  };
  const started = clock();
  let best = Infinity;
  let bestEpoch = 0;
  let bestNetwork: DenseNetwork | undefined;
  let waited = 0;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (options.rng !== undefined) shuffle(order, options.rng);
    let lossSum = 0;
    for (let start = 0; start < trainingRows; start += batchSize) {
      const count = Math.min(batchSize, trainingRows - start);
      gather(inputs, d, order, start, count, workspace.activations[0]);
      if (!sameTargets) gather(targets, out, order, start, count, targetBatch);
      const output = network.forward(workspace, count);
      const mse = meanSquaredError(output, targetBatch, count * out, workspace.deltas.at(-1)!);
      network.backward(workspace, count);
      lossSum += (mse + addPenalties(network, penalties, workspace)) * count;
      adam.step(gradients);
    }
    const loss = lossSum / trainingRows;
    const validationLoss = validationRows > 0
      ? meanSquaredErrorOf(network, inputs, targets, trainingRows, rows, workspace) +
        penaltyOf(network, penalties)
      : NaN;
    history.loss.push(loss);
    history.validationLoss.push(validationLoss);
    history.finalEpoch = epoch;
    options.onEpoch?.({
      epoch,
      epochs,
      loss,
      validationLoss,
      elapsedSeconds: (clock() - started) / 1000,
    });
    if (stopping !== undefined) {
      const monitored = validationRows > 0 ? validationLoss : loss;
      if (monitored < best - (stopping.minDelta ?? 0)) {
        best = monitored;
        bestEpoch = epoch;
        waited = 0;
        if (stopping.restoreBest ?? true) {
          if (bestNetwork === undefined) bestNetwork = network.clone();
          else bestNetwork.copyFrom(network);
        }
      } else if (++waited >= stopping.patience) {
        history.stoppedEarly = true;
        if (bestNetwork !== undefined) {
          network.copyFrom(bestNetwork);
          history.finalEpoch = bestEpoch;
        }
        break;
      }
    }
  }
  history.steps = adam.steps;
  history.seconds = (clock() - started) / 1000;
  return history;
}

/**
 * Per-row mean squared error between `network`'s output for each row of `inputs` and the same
 * row of `targets` (default `inputs`): the reconstruction error of an autoencoder.
 */
export function rowMeanSquaredErrors(
  network: DenseNetwork,
  inputs: Float64Array,
  targets: Float64Array = inputs,
  batchSize = 256,
): Float64Array {
  const d = network.inputSize;
  const out = network.outputSize;
  const rows = inputs.length / d;
  if (!Number.isInteger(rows) || targets.length !== rows * out) {
    throw new RangeError(`inputs and targets do not hold the same number of rows`);
  }
  const errors = new Float64Array(rows);
  if (rows === 0) return errors;
  const workspace = network.workspace(Math.min(batchSize, rows));
  const batch = workspace.activations[0];
  for (let start = 0; start < rows; start += workspace.capacity) {
    const count = Math.min(workspace.capacity, rows - start);
    batch.set(inputs.subarray(start * d, (start + count) * d));
    const output = network.forward(workspace, count);
    for (let r = 0; r < count; r++) {
      const o = r * out;
      const t = (start + r) * out;
      let sum = 0;
      for (let j = 0; j < out; j++) {
        const e = output[o + j] - targets[t + j];
        sum += e * e;
      }
      errors[start + r] = sum / out;
    }
  }
  return errors;
}

/** Mean of (output − target)² over `length` numbers; writes ∂/∂output into `gradient`. */
function meanSquaredError(
  output: Float64Array,
  target: Float64Array,
  length: number,
  gradient: Float64Array,
): number {
  const scale = 2 / length;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const e = output[i] - target[i];
    sum += e * e;
    gradient[i] = scale * e;
  }
  return sum / length;
}

/** Mean squared error over rows [from, to) of `inputs` against `targets`, batch by batch. */
function meanSquaredErrorOf(
  network: DenseNetwork,
  inputs: Float64Array,
  targets: Float64Array,
  from: number,
  to: number,
  workspace: DenseWorkspace,
): number {
  const d = network.inputSize;
  const out = network.outputSize;
  const batch = workspace.activations[0];
  let sum = 0;
  for (let start = from; start < to; start += workspace.capacity) {
    const count = Math.min(workspace.capacity, to - start);
    batch.set(inputs.subarray(start * d, (start + count) * d));
    const output = network.forward(workspace, count);
    const t = start * out;
    for (let i = 0; i < count * out; i++) {
      const e = output[i] - targets[t + i];
      sum += e * e;
    }
  }
  return sum / ((to - from) * out);
}

/** Adds 2λW to each penalised kernel's gradient; returns Σ λ·ΣW². */
function addPenalties(
  network: DenseNetwork,
  penalties: readonly KernelPenalty[],
  workspace: DenseWorkspace,
): number {
  let total = 0;
  for (const { layer, lambda } of penalties) {
    const kernel = network.kernels[layer];
    const gradient = workspace.kernelGradients[layer];
    let sum = 0;
    for (let i = 0; i < kernel.length; i++) {
      const w = kernel[i];
      sum += w * w;
      gradient[i] += 2 * lambda * w;
    }
    total += lambda * sum;
  }
  return total;
}

function penaltyOf(network: DenseNetwork, penalties: readonly KernelPenalty[]): number {
  let total = 0;
  for (const { layer, lambda } of penalties) {
    const kernel = network.kernels[layer];
    let sum = 0;
    for (let i = 0; i < kernel.length; i++) sum += kernel[i] * kernel[i];
    total += lambda * sum;
  }
  return total;
}

function gather(
  source: Float64Array,
  width: number,
  order: Uint32Array,
  start: number,
  count: number,
  target: Float64Array,
): void {
  for (let r = 0; r < count; r++) {
    const from = order[start + r] * width;
    target.set(source.subarray(from, from + width), r * width);
  }
}

/** Fisher–Yates, drawing j uniformly in [0, i] from the seeded generator. */
function shuffle(order: Uint32Array, rng: MersenneTwister): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.nextDouble() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

function checkInteger(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${field} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

function checkPenalties(
  penalties: readonly KernelPenalty[],
  network: DenseNetwork,
): KernelPenalty[] {
  return penalties.map(({ layer, lambda }, i) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= network.layers.length) {
      throw new RangeError(
        `penalties[${i}].layer must be a layer index in 0..${network.layers.length - 1}, ` +
          `got ${layer}`,
      );
    }
    if (!(lambda >= 0 && lambda < Infinity)) {
      throw new RangeError(`penalties[${i}].lambda must be a finite number ≥ 0, got ${lambda}`);
    }
    return { layer, lambda };
  });
}
