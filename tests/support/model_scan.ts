/**
 * Walks a saved KitNET state ("KNET", version 1) independently of `KitNET.fromBytes` and finds
 * parameters that are not finite, so the hostile-input tests can tell whether a model holds NaN
 * or Infinity. The only infinities a healthy model holds are the untouched min/max of an
 * autoencoder that has not trained yet (+∞ / −∞).
 *
 * @module
 */

import { unseal } from "../../core/codec/mod.ts";

/** Little-endian reads over a byte array. */
class Walker {
  #view: DataView;
  at = 0;
  constructor(bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(): number {
    return this.#view.getUint8(this.at++);
  }
  u32(): number {
    const v = this.#view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  f64(): number {
    const v = this.#view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  f64s(): number[] {
    const n = this.u32();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.f64());
    return out;
  }
  u32s(): number[] {
    const n = this.u32();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u32());
    return out;
  }
}

/**
 * The first non-finite parameter of the KitNET state `bytes` ("weights[3] of layer 0 is NaN"),
 * or `undefined` when every parameter is finite (allowing +∞/−∞ min/max pairs of autoencoders
 * that have not trained yet).
 */
export function kitnetStateProblem(bytes: Uint8Array): string | undefined {
  const w = new Walker(unseal(bytes, "KNET", [1]).payload);
  w.u32(), w.u32(), w.u32(), w.u32(); // n, m, fm, ad
  const header = { learningRate: w.f64(), hiddenRatio: w.f64() };
  w.u8(); // feature map given
  const counters = { trained: w.f64(), executed: w.f64() };
  for (const [name, v] of Object.entries({ ...header, ...counters })) {
    if (!Number.isFinite(v)) return `${name} is ${v}`;
  }
  if (w.u8() === 0) {
    const count = w.f64();
    if (!Number.isFinite(count)) return `mapper count is ${count}`;
    for (const name of ["sum", "residualSum", "residualSquares", "coResiduals"]) {
      const values = w.f64s();
      const i = values.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) return `mapper ${name}[${i}] is ${values[i]}`;
    }
    return undefined;
  }
  const clusters = w.u32();
  for (let a = 0; a < clusters; a++) w.u32s();
  for (const layer of [0, 1]) {
    const arrays: Record<string, number[]> = {};
    for (const name of ["weights", "hiddenBias", "visibleBias", "min", "max"]) {
      arrays[name] = w.f64s();
    }
    for (const name of ["weights", "hiddenBias", "visibleBias"]) {
      const i = arrays[name].findIndex((v) => !Number.isFinite(v));
      if (i >= 0) return `${name}[${i}] of layer ${layer} is ${arrays[name][i]}`;
    }
    const { min, max } = arrays;
    for (let j = 0; j < min.length; j++) {
      const untouched = min[j] === Infinity && max[j] === -Infinity;
      if (!untouched && !(Number.isFinite(min[j]) && Number.isFinite(max[j]))) {
        return `min/max[${j}] of layer ${layer} is ${min[j]}/${max[j]}`;
      }
    }
  }
  return undefined;
}
