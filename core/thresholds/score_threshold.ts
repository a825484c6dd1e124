/**
 * A calibrated anomaly threshold for a stream of scores: the first scores after the detector's
 * grace periods calibrate a log-normal fit; from then on, scores whose tail probability under
 * the fit is below a chosen value are flagged.
 *
 * @module
 */

import {
  LogNormalCalibrator,
  type LogNormalFit,
  logNormalThreshold,
} from "./lognormal_threshold.ts";
import { hasThreshold, NO_THRESHOLD } from "./calibration.ts";

/** Options of {@linkcode ScoreThreshold}. */
export interface ScoreThresholdOptions {
  /** Scores (after the grace periods) that calibrate the fit (≥ 2). */
  calibration: number;
  /** Flag scores whose tail probability is below this, in (0, 1). */
  tailProbability: number;
}

/**
 * Calibrates on the first `calibration` scores it observes, then flags each later score above
 * the threshold, i.e. whose tail probability under the log-normal fit is below
 * `tailProbability`. Feed it only scores from the detector's executing phase.
 *
 * @example
 * ```ts
 * import { ScoreThreshold } from "./mod.ts";
 * const t = new ScoreThreshold({ calibration: 1000, tailProbability: 1e-4 });
 * const flagged = t.observe(0.02); // false while calibrating
 * ```
 */
export class ScoreThreshold {
  /** Scores of the calibration window. */
  readonly calibration: number;
  /** The tail probability below which a score is flagged. */
  readonly tailProbability: number;
  #calibrator: LogNormalCalibrator;
  #fit: LogNormalFit | undefined;
  #threshold = NO_THRESHOLD;
  #flagged = 0;
  #judged = 0;

  /** A threshold by `options`; throws a `RangeError` naming a bad one. */
  constructor(options: ScoreThresholdOptions) {
    const { calibration, tailProbability } = options;
    if (!Number.isInteger(calibration) || calibration < 2) {
      throw new RangeError(`calibration must be an integer ≥ 2, got ${calibration}`);
    }
    if (!(tailProbability > 0 && tailProbability < 1)) {
      throw new RangeError(`tailProbability must be in (0, 1), got ${tailProbability}`);
    }
    this.calibration = calibration;
    this.tailProbability = tailProbability;
    this.#calibrator = new LogNormalCalibrator(calibration);
  }

  /** The threshold once calibrated (scores above it are flagged), else `NO_THRESHOLD`. */
  get threshold(): number {
    return this.#threshold;
  }

  /** The log-normal fit once calibrated. */
  get fit(): LogNormalFit | undefined {
    return this.#fit;
  }

  /** Calibration scores taken so far. */
  get calibrated(): number {
    return this.#calibrator.count;
  }

  /** Scores judged against the threshold so far (those after calibration). */
  get judged(): number {
    return this.#judged;
  }

  /** Scores flagged so far. */
  get flagged(): number {
    return this.#flagged;
  }

  /** Takes the next score: calibrates with it, or says whether it is flagged. */
  observe(score: number): boolean {
    if (!hasThreshold(this.#threshold)) {
      if (this.#calibrator.add(score)) {
        this.#fit = this.#calibrator.fit();
        this.#threshold = logNormalThreshold(this.#fit, this.tailProbability);
      }
      return false;
    }
    this.#judged++;
    if (score > this.#threshold) {
      this.#flagged++;
      return true;
    }
    return false;
  }
}
