/**
 * KitNET's saved state (`KNET`, version 1), beside the model rather than inside it: the options,
 * the counters, then either the feature mapper's sums (still mapping) or the feature map and
 * both layers' parameters. The reader refuses, with a `RangeError` saying what is wrong, bytes
 * that are truncated or altered and states no KitNET can reach, checking sizes before it
 * allocates; the model (`KitNET.fromBytes`) then checks its options and map as its constructor
 * does.
 *
 * @module
 */

import { ByteReader, ByteWriter, seal, unseal } from "../codec/mod.ts";

/** What names this state in error messages. */
export const KITNET_STATE = "KitNET state";

const STATE_KIND = "KNET";
const STATE_VERSION = 1;

/** The feature mapper's running sums, while a KitNET maps. */
export interface MapperState {
  /** Instances seen. */
  count: number;
  /** Per-feature sums. */
  sum: Float64Array;
  /** Per-feature sums of residuals. */
  residualSum: Float64Array;
  /** Per-feature sums of squared residuals. */
  residualSquares: Float64Array;
  /** The packed upper triangle of residual products. */
  coResiduals: Float64Array;
}

/** One layer of autoencoders' parameters (the ensemble's, or the output's). */
export interface LayerState {
  /** Every autoencoder's weights, one after another. */
  weights: Float64Array;
  /** Hidden biases. */
  hiddenBias: Float64Array;
  /** Visible biases. */
  visibleBias: Float64Array;
  /** Smallest input seen, per visible unit (+∞ before any). */
  min: Float64Array;
  /** Largest input seen, per visible unit (−∞ before any). */
  max: Float64Array;
}

/** A KitNET's whole state as plain data. */
export interface KitNETState {
  /** Features per instance. */
  n: number;
  /** Most features per ensemble autoencoder. */
  maxAutoencoderSize: number;
  /** Instances of the mapping phase. */
  fmGracePeriod: number;
  /** Instances of the training phase. */
  adGracePeriod: number;
  /** SGD step. */
  learningRate: number;
  /** Hidden ratio. */
  hiddenRatio: number;
  /** Whether the feature map was given rather than learned. */
  featureMapGiven: boolean;
  /** Instances trained on. */
  trained: number;
  /** Instances scored. */
  executed: number;
  /** The mapper's sums, while there is no feature map. */
  mapper?: MapperState;
  /** The feature map, once there is one. */
  map?: number[][];
  /** The ensemble's and the output layer's parameters, once there is a feature map. */
  layers?: LayerState[];
}

/** `state`, sealed. */
export function writeKitNETState(state: KitNETState): Uint8Array {
  const w = new ByteWriter();
  w.u32(state.n).u32(state.maxAutoencoderSize).u32(state.fmGracePeriod).u32(state.adGracePeriod);
  w.f64(state.learningRate).f64(state.hiddenRatio).u8(state.featureMapGiven ? 1 : 0);
  w.f64(state.trained).f64(state.executed);
  if (state.map === undefined) {
    const mapper = state.mapper!;
    w.u8(0).f64(mapper.count);
    w.f64Array(mapper.sum).f64Array(mapper.residualSum).f64Array(mapper.residualSquares);
    w.f64Array(mapper.coResiduals);
  } else {
    w.u8(1).u32(state.map.length);
    for (const cluster of state.map) w.u32Array(cluster);
    for (const layer of state.layers!) {
      w.f64Array(layer.weights).f64Array(layer.hiddenBias).f64Array(layer.visibleBias);
      w.f64Array(layer.min).f64Array(layer.max);
    }
  }
  return seal(STATE_KIND, STATE_VERSION, w.finish());
}

/** The state in `bytes` (from {@linkcode writeKitNETState}), checked as the module says. */
export function readKitNETState(bytes: Uint8Array): KitNETState {
  const what = KITNET_STATE;
  const { payload } = unseal(bytes, STATE_KIND, [STATE_VERSION], what);
  const r = new ByteReader(payload, what);
  const n = r.u32(), m = r.u32(), fm = r.u32(), ad = r.u32();
  const learningRate = r.f64(), hiddenRatio = r.f64();
  const given = r.u8() === 1;
  const trained = r.f64(), executed = r.f64();
  const hasMap = r.u8() === 1;
  if (!Number.isInteger(trained) || trained < 0 || !Number.isInteger(executed) || executed < 0) {
    throw new RangeError(`${what}: bad counters ${trained}, ${executed}`);
  }
  if (!(hiddenRatio > 0 && hiddenRatio < Infinity)) {
    throw new RangeError(`${what}: hiddenRatio is ${hiddenRatio}`);
  }
  const state: KitNETState = {
    n,
    maxAutoencoderSize: m,
    fmGracePeriod: fm,
    adGracePeriod: ad,
    learningRate,
    hiddenRatio,
    featureMapGiven: given,
    trained,
    executed,
  };
  if (hasMap) {
    const map = readMap(r, n, given, trained, fm);
    const sizes = [...map.map((cluster) => cluster.length)];
    // Parameters the rest of the bytes must hold: checked before anything is allocated.
    const parameters = sizes.reduce((sum, v) => sum + layerParameters(v, hiddenRatio), 0) +
      layerParameters(map.length, hiddenRatio);
    checkRemaining(r, parameters);
    state.map = map;
    // Every autoencoder learns from every training instance, so after the first one no
    // min/max is left at its untouched ±∞.
    const learned = given ? trained : trained - fm - 1;
    state.layers = [sizes, [map.length]].map((visible, l) =>
      readLayer(r, visible, hiddenRatio, learned, `layer ${l}`)
    );
  } else {
    if (given) throw new RangeError(`${what}: a given feature map is missing`);
    if (trained > fm) {
      throw new RangeError(`${what}: no feature map after ${trained} of ${fm + 1} instances`);
    }
    checkRemaining(r, 1 + 3 * n + (n * (n + 1)) / 2);
    state.mapper = readMapper(r, n, trained);
  }
  if (r.remaining !== 0) {
    throw new RangeError(`${what}: ${r.remaining} unexpected trailing bytes`);
  }
  return state;
}

/** A layer's parameter count for autoencoders of `visible` units (weights, biases, min, max). */
function layerParameters(visible: number, hiddenRatio: number): number {
  const h = Math.ceil(visible * hiddenRatio);
  return visible * h + h + 3 * visible;
}

function checkRemaining(r: ByteReader, parameters: number): void {
  if (parameters * 8 > r.remaining) {
    throw new RangeError(
      `${KITNET_STATE} is truncated: its sizes need ${parameters * 8} bytes of parameters, ` +
        `${r.remaining} remain`,
    );
  }
}

/** The feature map; a learned one must cluster every feature exactly once, after mapping. */
function readMap(
  r: ByteReader,
  n: number,
  given: boolean,
  trained: number,
  fm: number,
): number[][] {
  const what = KITNET_STATE;
  const clusters = r.u32();
  if (clusters > n) throw new RangeError(`${what}: ${clusters} clusters for ${n} features`);
  const map: number[][] = [];
  for (let a = 0; a < clusters; a++) map.push(Array.from(r.u32Array()));
  if (!given) {
    const seen = new Uint8Array(n <= 1 << 24 ? n : 0);
    let covered = 0;
    for (const cluster of map) {
      for (const index of cluster) {
        if (index < seen.length && seen[index] === 0) seen[index] = 1, covered++;
        else throw new RangeError(`${what}: feature ${index} is clustered twice or is beyond ${n}`);
      }
    }
    if (covered !== n) throw new RangeError(`${what}: the feature map leaves out features`);
    if (trained < fm + 1) {
      throw new RangeError(
        `${what}: a learned feature map after ${trained} of ${fm + 1} instances`,
      );
    }
  }
  return map;
}

/**
 * The mapper's sums, within bounds no stream of instances under ±1e100 (the gateway's limit)
 * reaches in 2³² steps, and within which the next updates cannot overflow into ∞ and NaN.
 */
function readMapper(r: ByteReader, n: number, trained: number): MapperState {
  const what = KITNET_STATE;
  const count = r.f64();
  if (count !== trained) {
    throw new RangeError(`${what}: the mapper counted ${count} of ${trained} instances`);
  }
  const sum = bounded(r.f64Array(n), 1e150, "mapper sums");
  const residualSum = bounded(r.f64Array(n), 1e150, "mapper residual sums");
  const residualSquares = bounded(r.f64Array(n), 1e300, "mapper squared residuals");
  const negative = residualSquares.findIndex((v) => v < 0);
  if (negative >= 0) {
    throw new RangeError(`${what}: mapper squared residuals[${negative}] is negative`);
  }
  const coResiduals = bounded(r.f64Array((n * (n + 1)) / 2), 1e300, "mapper co-residuals");
  return { count, sum, residualSum, residualSquares, coResiduals };
}

/** A layer of autoencoders of `visible` units each: finite parameters, sensible ranges. */
function readLayer(
  r: ByteReader,
  visible: readonly number[],
  hiddenRatio: number,
  learned: number,
  where: string,
): LayerState {
  let v = 0, h = 0, w = 0;
  for (const units of visible) {
    const hidden = Math.ceil(units * hiddenRatio);
    v += units;
    h += hidden;
    w += units * hidden;
  }
  const weights = finite(r.f64Array(w), `${where} weights`);
  const hiddenBias = finite(r.f64Array(h), `${where} biases`);
  const visibleBias = finite(r.f64Array(v), `${where} biases`);
  const min = r.f64Array(v), max = r.f64Array(v);
  for (let j = 0; j < min.length; j++) {
    const untouched = min[j] === Infinity && max[j] === -Infinity;
    const fits = min[j] <= max[j] && Number.isFinite(min[j]) && Number.isFinite(max[j]);
    if (untouched ? learned > 0 : !fits) {
      throw new RangeError(`${KITNET_STATE}: ${where} input ${j} has range ${min[j]}..${max[j]}`);
    }
  }
  return { weights, hiddenBias, visibleBias, min, max };
}

/** `values`, when every one is finite; else a RangeError naming the first that is not. */
function finite(values: Float64Array, name: string): Float64Array {
  return bounded(values, Number.MAX_VALUE, name);
}

/** `values`, when every one is within ±`most`; else a RangeError naming the first that is not. */
function bounded(values: Float64Array, most: number, name: string): Float64Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v <= most && v >= -most)) {
      const limit = most === Number.MAX_VALUE ? "not a finite number" : `beyond ±${most}`;
      throw new RangeError(`${KITNET_STATE}: ${name}[${i}] is ${v}, ${limit}`);
    }
  }
  return values;
}
