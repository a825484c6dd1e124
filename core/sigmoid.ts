/**
 * The logistic function, 1 / (1 + e^−t).
 *
 * @module
 */

/** 1 / (1 + exp(−t)). */
export function sigmoid(t: number): number {
  return 1 / (1 + Math.exp(-t));
}
