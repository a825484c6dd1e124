/**
 * The deep autoencoder's model file (`DAEM`, version 1), beside the model rather than inside
 * it: seed, the network's shape and parameters, the threshold and the rule it came from, the
 * record encoder (columns, categories, scaling) when there is one, and free-text metadata. The
 * reader refuses, with a `RangeError` saying what is wrong, altered or truncated files and
 * values no training produces (an unknown activation or column kind, a negative or infinite
 * threshold, a scaling factor that is not finite).
 *
 * @module
 */

import { ACTIVATIONS } from "./activations.ts";
import { ByteReader, ByteWriter, seal, unseal } from "../codec/mod.ts";
import { ColumnScaler, SCALING_METHODS } from "./column_scaler.ts";
import { type DenseLayerSpec, DenseNetwork } from "./dense_network.ts";
import { type TabularColumn, TabularEncoder } from "./tabular_encoder.ts";

/** What names the file in error messages. */
export const MODEL_FILE = "deep autoencoder model";

const MODEL_KIND = "DAEM";
const MODEL_VERSION = 1;

/** A model file's contents. */
export interface ModelFileContents {
  /** The seed the model was initialised with. */
  seed: number;
  /** The network. */
  network: DenseNetwork;
  /** Rows at or above this error are anomalies; NaN before calibration. */
  threshold: number;
  /** The threshold's rule as text (`formatThresholdRule`), or "" when not calibrated. */
  thresholdRule: string;
  /** The record encoder, if the model reads raw records. */
  encoder: TabularEncoder | undefined;
  /** Free text saved with the model. */
  metadata: string;
}

/** `contents` as a sealed model file. */
export function writeModelFile(contents: ModelFileContents): Uint8Array {
  const w = new ByteWriter();
  const net = contents.network;
  w.u32(contents.seed);
  w.u32(net.inputSize);
  w.u32(net.layers.length);
  for (const layer of net.layers) {
    w.u32(layer.units);
    w.u8(ACTIVATIONS.indexOf(layer.activation));
  }
  for (let l = 0; l < net.layers.length; l++) {
    w.f64Array(net.kernels[l]);
    w.f64Array(net.biases[l]);
  }
  w.f64(contents.threshold);
  w.string(contents.thresholdRule);
  w.u8(contents.encoder === undefined ? 0 : 1);
  if (contents.encoder !== undefined) writeEncoder(w, contents.encoder);
  w.string(contents.metadata);
  return seal(MODEL_KIND, MODEL_VERSION, w.finish());
}

/** The contents of a model file from {@linkcode writeModelFile}. */
export function readModelFile(bytes: Uint8Array): ModelFileContents {
  const what = MODEL_FILE;
  const { payload } = unseal(bytes, MODEL_KIND, [MODEL_VERSION], what);
  const r = new ByteReader(payload, what);
  const seed = r.u32();
  const network = readNetwork(r);
  const threshold = r.f64();
  // NaN: not calibrated yet; otherwise an error level, never negative or infinite.
  if (!Number.isNaN(threshold) && !(threshold >= 0 && threshold < Infinity)) {
    throw new RangeError(`${what}: its threshold is ${threshold}`);
  }
  const thresholdRule = r.string();
  const encoder = r.u8() === 1 ? readEncoder(r) : undefined;
  const metadata = r.string();
  if (r.remaining !== 0) throw new RangeError(`${what} has ${r.remaining} unread bytes`);
  return { seed, network, threshold, thresholdRule, encoder, metadata };
}

/** The network's shape (input size, each layer's units and activation), then its parameters. */
function readNetwork(r: ByteReader): DenseNetwork {
  const inputSize = r.u32();
  const count = r.u32();
  const layers: DenseLayerSpec[] = [];
  for (let l = 0; l < count; l++) {
    const units = r.u32();
    const code = r.u8();
    const activation = ACTIVATIONS[code];
    if (activation === undefined) {
      throw new RangeError(`${MODEL_FILE}: layer ${l} has an unknown activation code ${code}`);
    }
    layers.push({ units, activation });
  }
  const sizes = [inputSize, ...layers.map((layer) => layer.units)];
  const kernels: Float64Array[] = [];
  const biases: Float64Array[] = [];
  for (let l = 0; l < count; l++) {
    kernels.push(r.f64Array(sizes[l] * sizes[l + 1]));
    biases.push(r.f64Array(sizes[l + 1]));
  }
  return new DenseNetwork(inputSize, layers, kernels, biases);
}

/** The encoder: its columns (each numeric, or categorical with its categories), its scaling. */
export function writeEncoder(w: ByteWriter, encoder: TabularEncoder): void {
  w.u32(encoder.columns.length);
  encoder.columns.forEach((column, i) => {
    w.string(column.name);
    const list = encoder.categories[i];
    w.u8(list === undefined ? 0 : 1);
    if (list !== undefined) {
      w.u32(list.length);
      for (const value of list) w.string(value);
    }
  });
  w.u8(SCALING_METHODS.indexOf(encoder.scaler.method));
  w.f64Array(encoder.scaler.offset);
  w.f64Array(encoder.scaler.factor);
}

/** An encoder written by {@linkcode writeEncoder}. */
export function readEncoder(r: ByteReader): TabularEncoder {
  const count = r.u32();
  const columns: TabularColumn[] = [];
  const categories: (string[] | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.string();
    const kind = r.u8();
    if (kind > 1) throw new RangeError(`column "${name}" has an unknown kind code ${kind}`);
    columns.push({ name, kind: kind === 0 ? "numeric" : "categorical" });
    if (kind === 0) categories.push(undefined);
    else {
      const length = r.u32();
      const list: string[] = [];
      for (let c = 0; c < length; c++) list.push(r.string());
      categories.push(list);
    }
  }
  const method = SCALING_METHODS[r.u8()];
  if (method === undefined) throw new RangeError("unknown scaling method code");
  const offset = r.f64Array();
  const factor = r.f64Array(offset.length);
  for (const [name, values] of [["offset", offset], ["factor", factor]] as const) {
    const i = values.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new RangeError(`scaling ${name}[${i}] is ${values[i]}, not a finite number`);
    }
  }
  return new TabularEncoder(columns, categories, new ColumnScaler(method, offset, factor));
}
