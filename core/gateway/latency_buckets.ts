/**
 * How long messages spend inside the gateway, from receipt to their score handed to the broker
 * link, kept as a fixed-bucket histogram (cumulative in the Prometheus way when exported). The
 * buckets never change and recording allocates nothing, so it can run on every message forever.
 *
 * @module
 */

/** Upper bounds of the buckets, in milliseconds; one more bucket holds everything above. */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
  10000,
]);

/** A copy of a histogram's state. */
export interface LatencySummary {
  /** The bucket bounds in milliseconds ({@linkcode LATENCY_BOUNDS_MS}). */
  boundsMs: number[];
  /**
   * Latencies per bucket, not cumulative: `counts[i]` were ≤ `boundsMs[i]` and above the bound
   * before it; the last entry counts those above every bound.
   */
  counts: number[];
  /** Latencies recorded. */
  count: number;
  /** Their sum, in milliseconds. */
  sumMs: number;
  /**
   * The bucket bound the 99th percentile lies under ({@linkcode latencyQuantileBound}); null
   * when nothing was counted or it lies above every bound.
   */
  p99Ms: number | null;
}

/** A fixed-bucket histogram of latencies in milliseconds. */
export class LatencyBuckets {
  readonly #counts = new Float64Array(LATENCY_BOUNDS_MS.length + 1);
  #count = 0;
  #sumMs = 0;

  /**
   * Counts one latency. A negative or NaN one (the clock stepped backwards between receipt and
   * score) counts as 0 rather than poisoning the sum.
   */
  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    let bucket = 0;
    while (bucket < LATENCY_BOUNDS_MS.length && value > LATENCY_BOUNDS_MS[bucket]) bucket++;
    this.#counts[bucket]++;
    this.#count++;
    if (value !== Infinity) this.#sumMs += value;
  }

  /** Latencies recorded. */
  get count(): number {
    return this.#count;
  }

  /** A copy of the counts, with the bound of their 99th percentile. */
  summary(): LatencySummary {
    const p99 = latencyQuantileBound(this.#counts, 0.99);
    return {
      boundsMs: [...LATENCY_BOUNDS_MS],
      counts: Array.from(this.#counts),
      count: this.#count,
      sumMs: this.#sumMs,
      p99Ms: Number.isFinite(p99) ? p99 : null,
    };
  }
}

/**
 * The bound of the first bucket at which the share `q` (0 < q ≤ 1) of the latencies in `counts`
 * (per bucket, as in {@linkcode LatencySummary.counts}) is reached: an upper bound of the q-th
 * quantile. Infinity when it lies above every bound, NaN when nothing was counted.
 */
export function latencyQuantileBound(counts: ArrayLike<number>, q: number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`q must be in (0, 1], got ${q}`);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return NaN;
  const wanted = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= wanted) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : Infinity;
  }
  return Infinity;
}
