/**
 * KitNET's anomaly threshold: fit a log-normal to the scores of a calibration window of normal
 * traffic (the Kitsune authors' example does this), then flag scores whose tail probability under
 * that fit is below a chosen value.
 *
 * @module
 */

import { normalQuantile, normalSurvival } from "../math/mod.ts";

/** A log-normal fit: mean and population standard deviation of ln(score). */
export interface LogNormalFit {
  /** Mean of ln(score). */
  mu: number;
  /** Population standard deviation of ln(score). */
  sigma: number;
  /** Scores the fit was made from. */
  count: number;
}

/**
 * Accumulates ln(score) over a window of fixed length (Welford's update, no storage), and once
 * the window is full, gives the threshold for a tail probability.
 */
export class LogNormalCalibrator {
  /** Scores the window takes. */
  readonly window: number;
  #count = 0;
  #mean = 0;
  #m2 = 0;
  #skipped = 0;

  constructor(window: number) {
    if (!Number.isInteger(window) || window < 2) {
      throw new RangeError(`calibration window must be an integer ≥ 2, got ${window}`);
    }
    this.window = window;
  }

  /** Scores taken so far. */
  get count(): number {
    return this.#count;
  }

  /** Scores passed over because they were not positive and finite (ln undefined). */
  get skipped(): number {
    return this.#skipped;
  }

  /** Whether the window is full. */
  get complete(): boolean {
    return this.#count >= this.window;
  }

  /** Adds a score while the window is not full; returns whether it is full now. */
  add(score: number): boolean {
    if (this.#count >= this.window) return true;
    if (!(score > 0 && score < Infinity)) {
      this.#skipped++;
      return false;
    }
    const v = Math.log(score);
    const count = ++this.#count;
    const delta = v - this.#mean;
    this.#mean += delta / count;
    this.#m2 += delta * (v - this.#mean);
    return count >= this.window;
  }

  /** The fit so far (needs at least two scores). */
  fit(): LogNormalFit {
    if (this.#count < 2) {
      throw new RangeError(`a log-normal fit needs 2 scores, has ${this.#count}`);
    }
    return { mu: this.#mean, sigma: Math.sqrt(this.#m2 / this.#count), count: this.#count };
  }

  /** Restores a calibrator's accumulated state (from {@linkcode LogNormalCalibrator.state}). */
  static fromState(
    window: number,
    state: { count: number; mean: number; m2: number; skipped: number },
  ): LogNormalCalibrator {
    const c = new LogNormalCalibrator(window);
    const { count, mean, m2, skipped } = state;
    // ln of a positive finite double lies in [−745, 710], so the mean does, and the variance is
    // at most (width of that range)² / 4: anything else did not come from add().
    const fits = Number.isInteger(count) && count >= 0 && count <= window &&
      Number.isSafeInteger(skipped) && skipped >= 0 &&
      (count === 0 ? mean === 0 && m2 === 0 : mean >= -746 && mean <= 710) &&
      m2 >= 0 && m2 <= count * (1456 * 1456) / 4;
    if (!fits) {
      throw new RangeError(
        `calibration state (count ${count}, mean ${mean}, m2 ${m2}, skipped ${skipped}) cannot ` +
          `come from a window of ${window}`,
      );
    }
    c.#count = state.count;
    c.#mean = state.mean;
    c.#m2 = state.m2;
    c.#skipped = state.skipped;
    return c;
  }

  /** The accumulated state, for saving. */
  state(): { count: number; mean: number; m2: number; skipped: number } {
    return { count: this.#count, mean: this.#mean, m2: this.#m2, skipped: this.#skipped };
  }
}

/** Fits a log-normal to the positive, finite scores in `scores`. */
export function fitLogNormal(scores: ArrayLike<number>): LogNormalFit {
  const c = new LogNormalCalibrator(Math.max(2, scores.length));
  for (let i = 0; i < scores.length; i++) c.add(scores[i]);
  return c.fit();
}

/** The score above which the fit's tail probability is below `tailProbability`. */
export function logNormalThreshold(fit: LogNormalFit, tailProbability: number): number {
  if (!(tailProbability > 0 && tailProbability < 1)) {
    throw new RangeError(`tailProbability must be in (0, 1), got ${tailProbability}`);
  }
  // z(1 − p) = −z(p): 1 − p rounds to 1 below p ≈ 1.1e-16 (and loses digits well before).
  return Math.exp(fit.mu - fit.sigma * normalQuantile(tailProbability));
}

/** P(score' ≥ score) under the fit; 1 for non-positive scores. */
export function logNormalTailProbability(fit: LogNormalFit, score: number): number {
  if (!(score > 0)) return 1;
  if (fit.sigma === 0) return Math.log(score) > fit.mu ? 0 : 1;
  return normalSurvival((Math.log(score) - fit.mu) / fit.sigma);
}
