/**
 * A process's resident memory sampled on a timer, in bounded storage: when the buffer fills,
 * every other sample is dropped and the interval doubles, so an hour's soak costs as much
 * memory as a minute's.
 *
 * @module
 */

/** Samples kept at most. */
const CAPACITY = 2048;

/** RSS over time of one process. */
export class RssSampler {
  readonly #read: () => number;
  readonly #times = new Float64Array(CAPACITY);
  readonly #bytes = new Float64Array(CAPACITY);
  #count = 0;
  #every = 1; // keep one sample in this many ticks (doubles when the buffer fills)
  #ticks = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Samples `read()` (bytes; NaN when unavailable) every `intervalMs` until stopped. */
  constructor(read: () => number, intervalMs: number) {
    this.#read = read;
    this.sample();
    this.#timer = setInterval(() => {
      if (++this.#ticks % this.#every === 0) this.sample();
    }, intervalMs);
  }

  /** Takes a sample now. */
  sample(): number {
    const value = this.#read();
    if (Number.isNaN(value)) return value;
    if (this.#count === CAPACITY) {
      for (let i = 0; i < CAPACITY / 2; i++) {
        this.#times[i] = this.#times[2 * i];
        this.#bytes[i] = this.#bytes[2 * i];
      }
      this.#count = CAPACITY / 2;
      this.#every *= 2;
    }
    this.#times[this.#count] = performance.now();
    this.#bytes[this.#count] = value;
    this.#count++;
    return value;
  }

  /** Stops the timer (after one last sample). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
  }

  /** Samples taken (kept). */
  get count(): number {
    return this.#count;
  }

  /** The first sample, in bytes. */
  get first(): number {
    return this.#count === 0 ? NaN : this.#bytes[0];
  }

  /** The newest sample, in bytes. */
  get last(): number {
    return this.#count === 0 ? NaN : this.#bytes[this.#count - 1];
  }

  /** The largest sample, in bytes. */
  get max(): number {
    let max = NaN;
    for (let i = 0; i < this.#count; i++) if (!(this.#bytes[i] <= max)) max = this.#bytes[i];
    return max;
  }

  /** The smallest sample, in bytes. */
  get min(): number {
    let min = NaN;
    for (let i = 0; i < this.#count; i++) if (!(this.#bytes[i] >= min)) min = this.#bytes[i];
    return min;
  }

  /**
   * The mean of the samples taken between fractions `from` and `to` (0–1) of the time sampled,
   * in bytes (the nearest sample when none falls inside): garbage-collected runtimes saw their
   * memory up and down, so one sample says little.
   */
  meanBetween(from: number, to: number): number {
    if (this.#count === 0) return NaN;
    const t0 = this.#times[0];
    const span = this.#times[this.#count - 1] - t0;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < this.#count; i++) {
      const f = span === 0 ? 0 : (this.#times[i] - t0) / span;
      if (f >= from && f <= to) {
        sum += this.#bytes[i];
        n++;
      }
    }
    return n > 0 ? sum / n : this.at((from + to) / 2);
  }

  /** The sample nearest to `fraction` (0–1) of the time sampled, in bytes. */
  at(fraction: number): number {
    if (this.#count === 0) return NaN;
    const t0 = this.#times[0];
    const target = t0 + fraction * (this.#times[this.#count - 1] - t0);
    let best = 0;
    for (let i = 1; i < this.#count; i++) {
      if (Math.abs(this.#times[i] - target) < Math.abs(this.#times[best] - target)) best = i;
    }
    return this.#bytes[best];
  }
}
