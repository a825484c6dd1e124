/**
 * 2^x for the damped statistics' decay factors, several times faster than `Math.pow(2, x)` on
 * the runtimes foxtail targets and within about an ulp of it: a 256-entry table of 2^(j/256)
 * times a degree-5 polynomial of the remainder (|remainder| ≤ 1/512, truncation below 1e-20).
 *
 * @module
 */

import { POW2 as SHARED_POW2, POW2_OFFSET as SHARED_OFFSET } from "./powers_of_two.ts";

// Local constants, not the imports (see portable_math.ts: V8 folds its own, not imported ones).
const POW2 = SHARED_POW2;
const POW2_OFFSET = SHARED_OFFSET;

const STEPS = 256;
const LN2 = 0.6931471805599453;
/** 2^(j/256), j = 0..255. */
const TABLE = new Float64Array(STEPS);
for (let j = 0; j < STEPS; j++) TABLE[j] = Math.pow(2, j / STEPS);
/** Below this the result is subnormal or 0; leave that rare case to Math.pow. */
const SMALLEST = -1020;
const LARGEST = 1020;

/** 2^x (NaN for NaN, Math.pow(2, x) outside ±1020). */
export function exp2(x: number): number {
  if (!(x > SMALLEST && x < LARGEST)) return Math.pow(2, x);
  const scaled = x * STEPS; // exact: a power-of-two scaling
  const k = Math.round(scaled);
  const u = (scaled - k) * (LN2 / STEPS); // scaled − k is exact; |u| ≤ ln2/512
  // 2^(x − k/256) − 1 = e^u − 1, kept small so that adding it to 1 (below) rounds once.
  const q = u * (1 + u * (1 / 2 + u * (1 / 6 + u * (1 / 24 + u * (1 / 120)))));
  const j = k & (STEPS - 1);
  const t = TABLE[j];
  return (t + t * q) * POW2[POW2_OFFSET + (k - j) / STEPS];
}
