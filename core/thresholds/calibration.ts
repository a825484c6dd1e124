/**
 * How a detector's scores become anomalies, in one place: a threshold calibrated online on the
 * first scores (a log-normal fit, KitNET's), or the one a model brings (a deep autoencoder's,
 * set from its training errors by a rule of `anomaly_thresholds.ts`). The device table wraps
 * every detector in one of these and lets a manual threshold override either.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec/mod.ts";
import { LogNormalCalibrator, logNormalThreshold } from "./lognormal_threshold.ts";

/** "No threshold yet": the one spelling foxtail uses for it (a number, so it costs nothing). */
export const NO_THRESHOLD: number = NaN;

/** Whether `threshold` is one (not {@linkcode NO_THRESHOLD}). */
export function hasThreshold(threshold: number): boolean {
  return !Number.isNaN(threshold);
}

/** A score's threshold: calibrating, or in force. */
export interface Calibration {
  /** The threshold in force, or {@linkcode NO_THRESHOLD} while calibrating. */
  readonly threshold: number;
  /** Whether it still takes scores to calibrate on. */
  readonly calibrating: boolean;
  /** Scores it has calibrated on. */
  readonly taken: number;
  /** Scores it calibrates on in all (0 when it needs none). */
  readonly window: number;
  /** Whether a score equal to the threshold is an anomaly (a model's own rule), or only above. */
  readonly inclusive: boolean;
  /** Calibrates on `score` while calibrating; ignores it after. */
  observe(score: number): void;
  /** Its state, as its reader takes it back (empty when it has none). */
  toBytes(): Uint8Array;
}

/** Whether `score` is an anomaly against `threshold` (never while there is none). */
export function exceeds(score: number, threshold: number, inclusive: boolean): boolean {
  return inclusive ? score >= threshold : score > threshold; // both false while NaN
}

/** The threshold a model brings with it: nothing to calibrate, at-or-above is an anomaly. */
export class FixedThreshold implements Calibration {
  /** The threshold. */
  readonly threshold: number;
  /** Never calibrating. */
  readonly calibrating = false;
  /** Takes no scores. */
  readonly taken = 0;
  /** Needs no scores. */
  readonly window = 0;
  /** A model's own rule: at or above. */
  readonly inclusive = true;

  /** The threshold `threshold`. */
  constructor(threshold: number) {
    this.threshold = threshold;
  }

  /** Nothing to calibrate. */
  observe(_score: number): void {}

  /** No state. */
  toBytes(): Uint8Array {
    return new Uint8Array(0);
  }
}

/**
 * A threshold calibrated on the first `window` scores: a log-normal fit, and the score whose
 * tail probability under it is `tailProbability`; scores above it are anomalies.
 */
export class LogNormalCalibration implements Calibration {
  /** The tail probability the threshold is set at. */
  readonly tailProbability: number;
  /** Only above the threshold is an anomaly. */
  readonly inclusive = false;
  readonly #calibrator: LogNormalCalibrator;
  #threshold = NO_THRESHOLD;

  /** A calibration over `window` scores (restarted, or continued from `calibrator`). */
  constructor(window: number, tailProbability: number, calibrator?: LogNormalCalibrator) {
    this.tailProbability = tailProbability;
    this.#calibrator = calibrator ?? new LogNormalCalibrator(window);
    if (this.#calibrator.complete) this.#fit();
  }

  /** The threshold, or {@linkcode NO_THRESHOLD} while calibrating. */
  get threshold(): number {
    return this.#threshold;
  }

  /** Whether the window is not full yet. */
  get calibrating(): boolean {
    return !this.#calibrator.complete;
  }

  /** Scores in the window so far. */
  get taken(): number {
    return this.#calibrator.count;
  }

  /** Scores the window takes. */
  get window(): number {
    return this.#calibrator.window;
  }

  /** Adds `score` to the window while it is not full. */
  observe(score: number): void {
    if (this.#calibrator.complete) return;
    if (this.#calibrator.add(score)) this.#fit();
  }

  #fit(): void {
    this.#threshold = logNormalThreshold(this.#calibrator.fit(), this.tailProbability);
  }

  /** The window's size and its accumulated fit (u32 window, then count, mean, m2, skipped). */
  toBytes(): Uint8Array {
    const c = this.#calibrator.state();
    const w = new ByteWriter();
    w.u32(this.#calibrator.window).f64(c.count).f64(c.mean).f64(c.m2).f64(c.skipped);
    return w.finish();
  }

  /**
   * Continues the calibration in `bytes` (from {@linkcode toBytes}) when its window is `window`;
   * a different window restarts it, and a different tail probability only moves the threshold
   * (recomputed from the kept fit). Throws a `RangeError` when the state cannot be a window's.
   */
  static fromBytes(
    bytes: Uint8Array,
    window: number,
    tailProbability: number,
  ): LogNormalCalibration {
    const r = new ByteReader(bytes, "calibration state");
    const saved = r.u32();
    const state = { count: r.f64(), mean: r.f64(), m2: r.f64(), skipped: r.f64() };
    if (r.remaining !== 0) {
      throw new RangeError(`calibration state: ${r.remaining} unexpected trailing bytes`);
    }
    if (saved !== window) return new LogNormalCalibration(window, tailProbability);
    const calibrator = LogNormalCalibrator.fromState(saved, state);
    return new LogNormalCalibration(window, tailProbability, calibrator);
  }
}

/** Options of an online calibration (a stream's `threshold` section). */
export interface CalibrationOptions {
  /** Scores that calibrate the fit. */
  calibrationWindow: number;
  /** Tail probability the threshold is set at. */
  tailProbability: number;
}

/**
 * The calibration of a detector whose model brings `ownThreshold` (a {@linkcode FixedThreshold}),
 * or brings none ({@linkcode NO_THRESHOLD}: a {@linkcode LogNormalCalibration} by `options`,
 * continued from `saved` when given).
 */
export function calibrationFor(
  ownThreshold: number,
  options: CalibrationOptions,
  saved?: Uint8Array,
): Calibration {
  if (hasThreshold(ownThreshold)) return new FixedThreshold(ownThreshold);
  const { calibrationWindow, tailProbability } = options;
  return saved === undefined
    ? new LogNormalCalibration(calibrationWindow, tailProbability)
    : LogNormalCalibration.fromBytes(saved, calibrationWindow, tailProbability);
}
