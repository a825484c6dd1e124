/**
 * A device's recent scores for the dashboard: a ring of fixed capacity (time, score, threshold,
 * anomaly) that overwrites its oldest point.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../codec/mod.ts";

/** Bytes one saved point takes: time, score and threshold as f64, anomaly as u8. */
const POINT_BYTES = 25;

/** One point of a score history. */
export interface ScorePoint {
  /** Milliseconds since the epoch. */
  ts: number;
  /** The anomaly score (0 while learning). */
  score: number;
  /** The threshold in force, or null before calibration. */
  threshold: number | null;
  /** Whether the score was an anomaly. */
  anomaly: boolean;
}

/**
 * The last `capacity` scores of one device: time, score and threshold side by side in one
 * array (two arrays a device, not four: each typed array costs its own header), the anomaly
 * flags in another.
 */
export class ScoreHistory {
  /** Most points held. */
  readonly capacity: number;
  /** Per point: time, score, threshold (NaN: none yet). */
  readonly #values: Float64Array;
  readonly #anomaly: Uint8Array;
  #next = 0;
  #length = 0;

  /** An empty ring of `capacity` points. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`history capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#values = new Float64Array(3 * capacity);
    this.#anomaly = new Uint8Array(capacity);
  }

  /** Points held. */
  get length(): number {
    return this.#length;
  }

  /** Appends a point, overwriting the oldest when full. `threshold` NaN means none. */
  push(ts: number, score: number, threshold: number, anomaly: boolean): void {
    const at = this.#next, v = this.#values;
    v[3 * at] = ts;
    v[3 * at + 1] = score;
    v[3 * at + 2] = threshold;
    this.#anomaly[at] = anomaly ? 1 : 0;
    this.#next = (at + 1) % this.capacity;
    if (this.#length < this.capacity) this.#length++;
  }

  /** Writes the newest `max` points, oldest first, for a snapshot: their count, then each point. */
  write(w: ByteWriter, max: number = this.#length): void {
    const count = Math.max(0, Math.min(max, this.#length));
    w.u32(count);
    for (let k = this.#length - count; k < this.#length; k++) {
      const at = this.#slot(k), v = this.#values;
      w.f64(v[3 * at]).f64(v[3 * at + 1]).f64(v[3 * at + 2]).u8(this.#anomaly[at]);
    }
  }

  /**
   * Reads points written by {@linkcode ScoreHistory.write} into a new history holding just them.
   * Reads every point before checking any, so that a caller can skip a refused history and read
   * on; then throws a `RangeError` naming the first point that is not a score (time or score not
   * finite, threshold neither finite nor none, anomaly not 0 or 1).
   */
  static read(r: ByteReader): ScoreHistory {
    const count = r.u32();
    // Size-checked before allocating: a hostile count must not allocate gigabytes.
    if (count * POINT_BYTES > r.remaining) {
      throw new RangeError(
        `score history of ${count} points is truncated: needs ${count * POINT_BYTES} bytes, ` +
          `has ${r.remaining}`,
      );
    }
    const history = new ScoreHistory(Math.max(1, count));
    const v = history.#values;
    for (let i = 0; i < count; i++) {
      v[3 * i] = r.f64();
      v[3 * i + 1] = r.f64();
      v[3 * i + 2] = r.f64();
      history.#anomaly[i] = r.u8();
    }
    history.#length = count;
    history.#next = count % history.capacity;
    for (let i = 0; i < count; i++) {
      const ts = v[3 * i], score = v[3 * i + 1], threshold = v[3 * i + 2];
      const anomaly = history.#anomaly[i];
      const thresholdOk = Number.isFinite(threshold) || Number.isNaN(threshold); // NaN: none
      if (!Number.isFinite(ts) || !Number.isFinite(score) || !thresholdOk) {
        throw new RangeError(
          `score history point ${i}: time ${ts}, score ${score}, threshold ${threshold}`,
        );
      }
      if (anomaly > 1) throw new RangeError(`score history point ${i}: anomaly flag ${anomaly}`);
    }
    return history;
  }

  /** Appends `other`'s points, oldest first (the oldest overwritten beyond this capacity). */
  append(other: ScoreHistory): void {
    for (let k = 0; k < other.#length; k++) {
      const at = other.#slot(k), v = other.#values;
      this.push(v[3 * at], v[3 * at + 1], v[3 * at + 2], other.#anomaly[at] === 1);
    }
  }

  /** Where the `k`-th point held, counting from the oldest, sits in the ring. */
  #slot(k: number): number {
    return (this.#next - this.#length + k + this.capacity) % this.capacity;
  }

  /** The points, oldest first (the last `limit` when given); allocates, for readers only. */
  points(limit = this.#length): ScorePoint[] {
    const count = Math.max(0, Math.min(limit, this.#length));
    const out: ScorePoint[] = [];
    for (let k = this.#length - count; k < this.#length; k++) {
      const at = this.#slot(k), v = this.#values;
      const threshold = v[3 * at + 2];
      out.push({
        ts: v[3 * at],
        score: v[3 * at + 1],
        threshold: Number.isNaN(threshold) ? null : threshold,
        anomaly: this.#anomaly[at] === 1,
      });
    }
    return out;
  }
}
