/**
 * Thresholds on reconstruction errors, learned from the errors of normal training rows. A row is
 * anomalous when its error is ≥ the threshold.
 *
 * - `paper`: μ + z·σ/√n with z = Φ⁻¹(0.95), the upper end of the 95 % confidence interval of the
 *   mean error (Dlamini et al.). It sits near the mean, so with heavy-tailed errors it flags few
 *   normal rows and does not control the false-positive rate.
 * - `quantile`: the q-quantile of training errors (linear interpolation, NumPy's default), for a
 *   target false-positive rate of about 1 − q on data like the training data.
 * - `mean-std`: μ + k·σ.
 * - `lognormal`: the score whose tail probability under a log-normal fit of the errors is `p`
 *   (KitNET's rule, {@linkcode logNormalThreshold}).
 *
 * μ and σ are the mean and population standard deviation, n the count.
 *
 * @module
 */

import { fitLogNormal, logNormalThreshold } from "./lognormal_threshold.ts";

/** Φ⁻¹(0.95): the z of the paper's one-sided 95 % confidence bound. */
export const PAPER_Z = 1.6448536269514722;

/** How to derive a threshold from training errors. */
export type ThresholdRule =
  | { kind: "paper" }
  | { kind: "quantile"; q: number }
  | { kind: "mean-std"; k: number }
  | { kind: "lognormal"; tailProbability: number };

/** Mean, population standard deviation and count of a list of errors. */
export interface ErrorStatistics {
  /** μ. */
  mean: number;
  /** σ (population). */
  std: number;
  /** n. */
  count: number;
}

/** μ, σ and n of `errors` (two-pass, so large offsets do not cancel). */
export function errorStatistics(errors: ArrayLike<number>): ErrorStatistics {
  const n = checkErrors(errors);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += errors[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const e = errors[i] - mean;
    squares += e * e;
  }
  return { mean, std: Math.sqrt(squares / n), count: n };
}

/** The paper's threshold: μ + z·σ/√n (z defaults to {@linkcode PAPER_Z}). */
export function confidenceBoundThreshold(errors: ArrayLike<number>, z = PAPER_Z): number {
  const { mean, std, count } = errorStatistics(errors);
  return mean + z * std / Math.sqrt(count);
}

/** The q-quantile of `errors`, q in [0, 1], interpolating linearly between order statistics. */
export function quantileThreshold(errors: ArrayLike<number>, q: number): number {
  const n = checkErrors(errors);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be in [0, 1], got ${q}`);
  const sorted = Float64Array.from(errors).sort();
  const position = q * (n - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  const fraction = position - below;
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

/** μ + k·σ of `errors`. */
export function meanStdThreshold(errors: ArrayLike<number>, k: number): number {
  if (!Number.isFinite(k)) throw new RangeError(`k must be a finite number, got ${k}`);
  const { mean, std } = errorStatistics(errors);
  return mean + k * std;
}

/** The error whose tail probability under a log-normal fit of `errors` is `tailProbability`. */
export function logNormalTailThreshold(
  errors: ArrayLike<number>,
  tailProbability: number,
): number {
  checkErrors(errors);
  return logNormalThreshold(fitLogNormal(errors), tailProbability);
}

/** The threshold `rule` gives for training errors `errors`. */
export function thresholdFor(rule: ThresholdRule, errors: ArrayLike<number>): number {
  switch (rule.kind) {
    case "paper":
      return confidenceBoundThreshold(errors);
    case "quantile":
      return quantileThreshold(errors, rule.q);
    case "mean-std":
      return meanStdThreshold(errors, rule.k);
    case "lognormal":
      return logNormalTailThreshold(errors, rule.tailProbability);
  }
}

/**
 * Reads a rule from its command-line spelling: `paper`, `qNN` (NN-th percentile, e.g. `q95`,
 * `q99.5`), `meanK` (μ + K·σ, e.g. `mean3`), `lognormalP` (tail probability P, e.g.
 * `lognormal0.01`).
 */
export function parseThresholdRule(text: string): ThresholdRule {
  const bad = () =>
    new RangeError(
      `threshold must be paper, qNN (percentile, e.g. q95), meanK (μ + K·σ, e.g. mean3) or ` +
        `lognormalP (tail probability, e.g. lognormal0.01); got ${JSON.stringify(text)}`,
    );
  if (text === "paper") return { kind: "paper" };
  const match = /^(q|mean|lognormal)(\d+(?:\.\d+)?)$/.exec(text);
  if (match === null) throw bad();
  const value = Number(match[2]);
  if (match[1] === "q") {
    if (!(value >= 0 && value <= 100)) throw bad();
    return { kind: "quantile", q: value / 100 };
  }
  if (match[1] === "mean") return { kind: "mean-std", k: value };
  if (!(value > 0 && value < 1)) throw bad();
  return { kind: "lognormal", tailProbability: value };
}

/** A short description of a rule, as {@linkcode parseThresholdRule} reads it. */
export function formatThresholdRule(rule: ThresholdRule): string {
  switch (rule.kind) {
    case "paper":
      return "paper";
    case "quantile":
      return `q${Number((rule.q * 100).toPrecision(12))}`;
    case "mean-std":
      return `mean${rule.k}`;
    case "lognormal":
      return `lognormal${rule.tailProbability}`;
  }
}

function checkErrors(errors: ArrayLike<number>): number {
  const n = errors.length;
  if (n < 1) throw new RangeError("a threshold needs at least one training error");
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(errors[i])) {
      throw new RangeError(`training error ${i} is ${errors[i]}, not a finite number`);
    }
  }
  return n;
}
