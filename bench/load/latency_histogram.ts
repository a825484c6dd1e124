/**
 * A fixed-size latency histogram in the manner of HdrHistogram: microsecond values in
 * log-linear buckets (64 per power of two above 128 µs, so within 1.6 %), one `Float64Array`
 * allocated once, so recording millions of latencies allocates nothing.
 *
 * @module
 */

/** Exact buckets below this many microseconds; 64 buckets per power of two above. */
const LINEAR = 128;
const HALF = LINEAR / 2;
/** Largest value kept apart, in µs (2³² µs ≈ 71 minutes); larger ones count as it. */
const MAX_MICROS = 2 ** 32 - 1;
/** Buckets: 128 exact ones, then 64 for each power of two from 2⁷ to 2³¹. */
const BUCKETS = LINEAR + (32 - 7) * HALF;

/** Latencies in milliseconds, recorded without allocation; percentiles read back. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;
  #max = 0;

  /** Values recorded. */
  get count(): number {
    return this.#total;
  }

  /** The largest value recorded, in milliseconds (0 when empty). */
  get max(): number {
    return this.#max;
  }

  /** Records one latency in milliseconds (negative values count as 0). */
  record(ms: number): void {
    let micros = Math.round(ms * 1000);
    if (!(micros > 0)) micros = 0;
    if (micros > MAX_MICROS) micros = MAX_MICROS;
    this.#counts[bucketOf(micros)]++;
    this.#total++;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * The value at `percentile` (0–100) in milliseconds: the upper edge of the bucket holding it,
   * so never below the true value; NaN when nothing was recorded.
   */
  percentile(percentile: number): number {
    if (this.#total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((percentile / 100) * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(upperEdge(i), this.#max * 1000) / 1000;
    }
    return this.#max;
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = 0;
  }
}

/** The bucket of a value in µs (an integer in [0, 2³²)). */
function bucketOf(micros: number): number {
  if (micros < LINEAR) return micros;
  const magnitude = 31 - Math.clz32(micros); // ≥ 7
  const shift = magnitude - 6; // micros >>> shift lies in [64, 128)
  return LINEAR + (shift - 1) * HALF + ((micros >>> shift) - HALF);
}

/** The largest µs value that falls into bucket `i`. */
function upperEdge(i: number): number {
  if (i < LINEAR) return i;
  const shift = Math.floor((i - LINEAR) / HALF) + 1;
  const sub = (i - LINEAR) % HALF + HALF;
  return (sub + 1) * 2 ** shift - 1;
}
