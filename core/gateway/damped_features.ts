/**
 * The gateway's `features: "damped"`: AfterImage-style damped statistics of each field of one
 * device's telemetry over several time windows (`spec/afterimage.md`'s 1-D stream: linear sum
 * CF1, squared sum CF2 and weight w, all decayed by 2^(−λΔt)), so that a scalar sensor whose
 * dynamics matter gives KitNET (or a deep autoencoder) something to learn from.
 *
 * All fields of a device arrive together, so every field sees the same times and the weight of
 * a window is one number per λ (the damped message rate), not one per field. The features of a
 * message are the raw values (a single spike is diluted in every window but plain here), then
 * for each λ: the weight, and each field's mean and standard deviation.
 *
 * The state has a fixed size set at construction; {@linkcode DampedFeatures.update} allocates
 * nothing.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec/mod.ts";
import { exp2 } from "../math/mod.ts";
import { seal, unseal } from "../codec/mod.ts";

/**
 * Default decay rates λ, per second: half-lives 1 s, 10 s, 100 s and 1000 s (about 17 min).
 * Kitsune's λs (5 … 0.01, half-lives 0.2–100 s) suit packets milliseconds apart; sensors report
 * every second to every minute, where windows shorter than a second hold one message and only
 * repeat the raw value.
 */
export const SENSOR_LAMBDAS: readonly number[] = Object.freeze([1, 0.1, 0.01, 0.001]);

/**
 * Values are clamped to ±1e100 before they are squared, so that no payload, however hostile,
 * can overflow the squared sum to Infinity (and the variance to NaN).
 */
export const LARGEST_VALUE = 1e100;

const STATE_KIND = "DAMP";
const STATE_VERSION = 1;
/** The spec's starting weight: a new window is not empty, so the first mean is defined. */
const INITIAL_WEIGHT = 1e-20;

/** Feature names in output order: `t`, …, then per λ `weight_λ`, `t_λ_mean`, `t_λ_std`, …. */
export function dampedFeatureNames(
  fields: readonly string[],
  lambdas: readonly number[],
): string[] {
  const names = fields.slice();
  for (const l of lambdas) {
    names.push(`weight_${l}`);
    for (const field of fields) names.push(`${field}_${l}_mean`, `${field}_${l}_std`);
  }
  return names;
}

/** Features per message for `fields` values and `lambdas` windows. */
export function dampedFeatureCount(fields: number, lambdas: number): number {
  return fields + lambdas * (1 + 2 * fields);
}

/**
 * One device's damped windows over its fields.
 *
 * @example
 * ```ts
 * import { DampedFeatures } from "./mod.ts";
 * const damped = new DampedFeatures(2, [1, 0.1]);
 * const out = new Float64Array(damped.size);
 * damped.update(Float64Array.of(21.5, 40), 12.0, out); // values, time in seconds
 * ```
 */
export class DampedFeatures {
  /** Values per message. */
  readonly fields: number;
  /** Decay rates λ (per second), in output order. */
  readonly lambdas: Float64Array;
  /** Features per message. */
  readonly size: number;
  /** Per λ: w, then per field CF1 and CF2. */
  readonly #state: Float64Array;
  /** Time of the last message, in seconds; NaN before the first. */
  #lastT = NaN;

  /** Windows for `fields` values at each λ (positive, finite) of `lambdas`. */
  constructor(fields: number, lambdas: ArrayLike<number>) {
    if (!Number.isInteger(fields) || fields < 1) {
      throw new RangeError(`fields must be an integer ≥ 1, got ${fields}`);
    }
    if (lambdas.length === 0) throw new RangeError("lambdas must hold at least one decay rate");
    for (let l = 0; l < lambdas.length; l++) {
      if (!(lambdas[l] > 0 && lambdas[l] < Infinity)) {
        throw new RangeError(`lambdas[${l}] must be a positive finite number, got ${lambdas[l]}`);
      }
    }
    this.fields = fields;
    this.lambdas = Float64Array.from(lambdas);
    this.size = dampedFeatureCount(fields, lambdas.length);
    this.#state = new Float64Array(lambdas.length * (1 + 2 * fields));
  }

  /** Time of the last message, in seconds (NaN before the first). */
  get lastTime(): number {
    return this.#lastT;
  }

  /**
   * Adds one message (`values`: finite numbers, one per field) at time `t` (seconds) to every
   * window and writes its {@linkcode size} features to `out`.
   *
   * Time that goes backwards decays nothing (Δt is clamped at 0) and the clock follows it back,
   * so a device whose clock is reset keeps decaying from its new time instead of freezing.
   */
  update(values: ArrayLike<number>, t: number, out: Float64Array): void {
    const fields = this.fields;
    const lambdas = this.lambdas;
    const state = this.#state;
    const stride = 1 + 2 * fields;
    if (this.#lastT !== this.#lastT) {
      for (let l = 0; l < lambdas.length; l++) state[l * stride] = INITIAL_WEIGHT;
    } else {
      const dt = t - this.#lastT;
      if (dt > 0) {
        for (let l = 0, base = 0; l < lambdas.length; l++, base += stride) {
          const f = exp2(-lambdas[l] * dt);
          for (let k = 0; k < stride; k++) state[base + k] *= f;
        }
      }
    }
    this.#lastT = t;
    for (let i = 0; i < fields; i++) out[i] = clamp(values[i]);
    let at = fields;
    for (let l = 0, base = 0; l < lambdas.length; l++, base += stride) {
      const w = state[base] += 1;
      out[at++] = w;
      for (let i = 0, c = base + 1; i < fields; i++, c += 2) {
        const v = out[i];
        const cf1 = state[c] += v;
        const cf2 = state[c + 1] += v * v;
        const mean = cf1 / w; // w ≥ 1 here
        out[at++] = mean;
        out[at++] = Math.sqrt(Math.abs(cf2 / w - mean * mean));
      }
    }
  }

  /** The windows as sealed bytes ("DAMP", versioned and checksummed). */
  toBytes(): Uint8Array {
    const w = new ByteWriter();
    w.u32(this.fields).f64Array(this.lambdas).f64(this.#lastT).f64Array(this.#state);
    return seal(STATE_KIND, STATE_VERSION, w.finish());
  }

  /** Reads windows written by {@linkcode DampedFeatures.toBytes}; refuses altered bytes. */
  static fromBytes(bytes: Uint8Array): DampedFeatures {
    const what = "damped features state";
    try {
      return DampedFeatures.#read(bytes, what);
    } catch (error) {
      if (!(error instanceof RangeError) || error.message.startsWith(what)) throw error;
      throw new RangeError(`${what}: ${error.message}`);
    }
  }

  static #read(bytes: Uint8Array, what: string): DampedFeatures {
    const { payload } = unseal(bytes, STATE_KIND, [STATE_VERSION], what);
    const r = new ByteReader(payload, what);
    const fields = r.u32();
    const lambdas = r.f64Array();
    // Checked before the windows are allocated: a hostile field count must not allocate GBs.
    const size = lambdas.length * (1 + 2 * fields) * 8;
    if (size > r.remaining) {
      throw new RangeError(`${what} is truncated: ${fields} fields need ${size} bytes of windows`);
    }
    const damped = new DampedFeatures(fields, lambdas);
    const lastT = r.f64();
    damped.#state.set(r.f64Array(damped.#state.length));
    if (r.remaining !== 0) throw new RangeError(`${what} has ${r.remaining} unread bytes`);
    // Bounds of any state built from values clamped to ±LARGEST_VALUE over at most 2⁵³
    // messages, within which the next update's squares and means stay finite.
    const state = damped.#state;
    const stride = 1 + 2 * fields;
    for (let i = 0; i < state.length; i++) {
      const v = state[i], k = i % stride;
      const fits = k === 0
        ? v >= 0 && v <= 2 ** 53
        : k % 2 === 1
        ? Math.abs(v) <= 1e120
        : v >= 0 && v <= 1e220;
      if (!fits) throw new RangeError(`${what} holds ${v} at ${i}, out of range`);
    }
    if (!Number.isNaN(lastT) && !Number.isFinite(lastT)) {
      throw new RangeError(`${what}: the last time is ${lastT}`);
    }
    damped.#lastT = lastT;
    return damped;
  }
}

function clamp(v: number): number {
  return v > LARGEST_VALUE ? LARGEST_VALUE : v < -LARGEST_VALUE ? -LARGEST_VALUE : v;
}
