/**
 * exp, expm1, tanh and the logistic function in plain IEEE-754 arithmetic.
 *
 * `Math.exp` and `Math.tanh` are not correctly rounded and differ in the last bit between
 * JavaScript engines (V8 ports fdlibm, JavaScriptCore calls the platform libm). Over thousands of
 * training steps those bits grow into visibly different models, so the deep autoencoder computes
 * its activations here: +, −, ×, ÷ and `Math.round` are exact or correctly rounded everywhere, so
 * these functions return the same double on every runtime. Accuracy is within a few ulps.
 *
 * @module
 */

import { POW2 as SHARED_POW2, POW2_OFFSET as SHARED_OFFSET } from "./powers_of_two.ts";

// Local constants, not the imports: V8 folds a module's own constants into its hot loops but
// loads an imported binding on every call (9% of the deep autoencoder's scoring time on Node).
const POW2 = SHARED_POW2;
const POW2_OFFSET = SHARED_OFFSET;

const LN2_HI = 6.93147180369123816490e-1; // high bits of ln 2, exact in 32 bits
const LN2_LO = 1.90821492927058770002e-10; // ln 2 − LN2_HI
const INV_LN2 = 1.44269504088896338700;
const EXP_OVERFLOW = 709.782712893384;
const EXP_UNDERFLOW = -745.1332191019412;

/** e^r − 1 for |r| ≤ ln2/2 + a little: Taylor series to r^14 (truncation below 1e-17). */
function expm1Reduced(r: number): number {
  // Horner from the highest term, 1/14! … 1/2!, then × r twice.
  let p = 1 / 87178291200;
  p = p * r + 1 / 6227020800;
  p = p * r + 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 1 / 2;
  return r + r * r * p;
}

/** e^x by the plain reduction e^x = 2^k·e^r, |r| ≤ ln2/2: slow, used to build the table. */
function slowExp(x: number): number {
  const k = Math.round(x * INV_LN2);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  return (1 + expm1Reduced(r)) * POW2[POW2_OFFSET + k];
}

// e^(j·ln2/64) = 2^(j/64) for j = 0 … 63, so that the fast path's remainder is tiny.
const STEPS = 64;
const TABLE = new Float64Array(STEPS);
for (let j = 0; j < STEPS; j++) TABLE[j] = slowExp(j * (LN2_HI + LN2_LO) / STEPS);
const STEP_HI = LN2_HI / STEPS; // exact: dividing by a power of two
const STEP_LO = LN2_LO / STEPS;
const INV_STEP = INV_LN2 * STEPS;

/** e^x, identical on every JavaScript engine. */
export function portableExp(x: number): number {
  if (!(x < EXP_OVERFLOW)) return x !== x ? NaN : Infinity;
  if (x < EXP_UNDERFLOW) return 0;
  // x = (64q + j)·ln2/64 + r with |r| ≤ ln2/128; e^x = 2^q · 2^(j/64) · e^r, and the degree-6
  // Taylor polynomial of e^r − 1 is exact to 1e-17 there. k·STEP_HI is exact (k < 2^17).
  const k = Math.round(x * INV_STEP);
  const r = (x - k * STEP_HI) - k * STEP_LO;
  const j = k & (STEPS - 1);
  const q = (k - j) / STEPS;
  const p = r + r * r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720)))));
  const t = TABLE[j];
  const scaled = t + t * p;
  // Two steps keep 2^q representable near both ends of the range.
  if (q > 1000) return scaled * POW2[POW2_OFFSET + q - 100] * POW2[POW2_OFFSET + 100];
  if (q < -1000) return scaled * POW2[POW2_OFFSET + q + 100] * POW2[POW2_OFFSET - 100];
  return scaled * POW2[POW2_OFFSET + q];
}

/** e^x − 1, accurate near 0, identical on every JavaScript engine. */
export function portableExpm1(x: number): number {
  if (x > -0.34 && x < 0.34) return expm1Reduced(x);
  return portableExp(x) - 1;
}

/** tanh(x), identical on every JavaScript engine. */
export function portableTanh(x: number): number {
  const a = x < 0 ? -x : x;
  // tanh(a) rounds to 1 beyond 19.1; this also keeps exp away from overflow.
  if (a > 22) return x < 0 ? -1 : 1;
  // tanh(a) = (e^2a − 1) / (e^2a + 1), with e^2a − 1 computed as in portableExp (inlined here
  // because this is the autoencoder's hottest function). For 2a < ln2 the power of two is 1 and
  // (t − 1) + t·p keeps full relative accuracy near 0.
  const k = Math.round(2 * a * INV_STEP);
  const r = (2 * a - k * STEP_HI) - k * STEP_LO;
  const j = k & (STEPS - 1);
  const q = (k - j) / STEPS;
  const p = r + r * r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720)))));
  const t = TABLE[j];
  const e = q === 0 ? (t - 1) + t * p : (t + t * p) * POW2[POW2_OFFSET + q] - 1;
  const y = e / (e + 2);
  return x < 0 ? -y : y;
}

/** The logistic function 1 / (1 + e^−x), identical on every JavaScript engine. */
export function portableSigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + portableExp(-x));
  const e = portableExp(x);
  return e / (1 + e);
}
