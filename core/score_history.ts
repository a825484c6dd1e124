/**
 * A device's recent scores for the dashboard: a ring of fixed capacity (time, score, threshold,
 * anomaly) that overwrites its oldest point.
 *
 * @module
 */

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

/** The last `capacity` scores of one device, in parallel typed arrays. */
export class ScoreHistory {
  /** Most points held. */
  readonly capacity: number;
  readonly #ts: Float64Array;
  readonly #score: Float64Array;
  readonly #threshold: Float64Array; // NaN: none yet
  readonly #anomaly: Uint8Array;
  #next = 0;
  #length = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`history capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ts = new Float64Array(capacity);
    this.#score = new Float64Array(capacity);
    this.#threshold = new Float64Array(capacity);
    this.#anomaly = new Uint8Array(capacity);
  }

  /** Points held. */
  get length(): number {
    return this.#length;
  }

  /** Appends a point, overwriting the oldest when full. `threshold` NaN means none. */
  push(ts: number, score: number, threshold: number, anomaly: boolean): void {
    const at = this.#next;
    this.#ts[at] = ts;
    this.#score[at] = score;
    this.#threshold[at] = threshold;
    this.#anomaly[at] = anomaly ? 1 : 0;
    this.#next = (at + 1) % this.capacity;
    if (this.#length < this.capacity) this.#length++;
  }

  /** The points, oldest first (the last `limit` when given); allocates, for readers only. */
  points(limit = this.#length): ScorePoint[] {
    const count = Math.max(0, Math.min(limit, this.#length));
    const out: ScorePoint[] = [];
    for (let k = this.#length - count; k < this.#length; k++) {
      const at = (this.#next - this.#length + k + this.capacity) % this.capacity;
      const threshold = this.#threshold[at];
      out.push({
        ts: this.#ts[at],
        score: this.#score[at],
        threshold: Number.isNaN(threshold) ? null : threshold,
        anomaly: this.#anomaly[at] === 1,
      });
    }
    return out;
  }
}
