/**
 * One AfterImage table: damped incremental statistics of streams, and of pairs of streams, at
 * several decay rates, exactly as `spec/afterimage.md` states them (caching rule and all), with a
 * fixed capacity and least-recently-used eviction.
 *
 * One entry per key carries the state of every λ (the reference keeps one object per key and λ;
 * the λ states never interact, so this changes nothing but speed). State lives in flat typed
 * arrays that grow by doubling up to the capacity.
 *
 * @module
 */

import { exp2 } from "../math/mod.ts";

/** Per stream and λ: CF1, CF2, w, lastT, kept mean, kept var, kept std (NaN = none kept). */
const STREAM_FIELDS = 7;
const CF1 = 0, CF2 = 1, W = 2, LAST_T = 3, MEAN = 4, VAR = 5, STD = 6;
/** Per pair and λ: CF3, w3, lastT3, lastRes[0], lastRes[1]. */
const PAIR_FIELDS = 5;
const CF3 = 0, W3 = 1, LAST_T3 = 2, RES = 3;
const INITIAL_WEIGHT = 1e-20;
const FIRST_ALLOCATION = 256;
const NONE = -1;

/** Options of {@linkcode DampedStreamTable}. */
export interface DampedStreamTableOptions {
  /** Decay rates λ; every stream and pair keeps one state per λ. */
  lambdas: readonly number[];
  /** Most streams held; the least recently used is evicted, with its pairs, beyond it (≥ 2). */
  maxStreams: number;
  /** Most pairs held; the least recently looked-up pair is evicted beyond it (0: 1-D only). */
  maxPairs: number;
  /** A jitter table: insert ignores v and uses the time since the stream's last insert. */
  jitter?: boolean;
}

/** Sizes and eviction counts of a table. */
export interface TableUsage {
  /** Streams held now. */
  streams: number;
  /** Pairs held now. */
  pairs: number;
  /** Capacity in streams. */
  maxStreams: number;
  /** Capacity in pairs. */
  maxPairs: number;
  /** Streams evicted so far (each took its pairs along). */
  streamEvictions: number;
  /** Pairs evicted so far for lack of room (not counting those that left with a stream). */
  pairEvictions: number;
}

/**
 * A table of damped streams and stream pairs, addressed by string keys.
 *
 * @example
 * ```ts
 * import { DampedStreamTable } from "./mod.ts";
 * const table = new DampedStreamTable({ lambdas: [1], maxStreams: 100, maxPairs: 0 });
 * const out = new Float64Array(3);
 * table.update1D("host", 60, 0.5, out, 0);
 * ```
 */
export class DampedStreamTable {
  /** The decay rates, in output order. */
  readonly lambdas: Float64Array;
  /** Capacity in streams. */
  readonly maxStreams: number;
  /** Capacity in pairs. */
  readonly maxPairs: number;
  /** Whether this is a jitter table. */
  readonly jitter: boolean;
  #streamEvictions = 0;
  #pairEvictions = 0;

  #index = new Map<string, number>();
  #keys: string[] = [];
  #stream: Float64Array;
  #streamPrev: Int32Array;
  #streamNext: Int32Array;
  #streamHead = NONE; // most recently used
  #streamTail = NONE; // least recently used
  #streams = 0;
  #pairsOf: number[][] = [];

  #pair: Float64Array;
  #pairA: Int32Array;
  #pairB: Int32Array;
  #pairPrev: Int32Array;
  #pairNext: Int32Array;
  #pairHead = NONE;
  #pairTail = NONE;
  #pairs = 0;
  #pairSlotsUsed = 0;
  #freePairs: number[] = [];

  // The decay factors 2^(−λ·dt) of the last two distinct dt, all λ: a stream's pairs and their
  // other streams often last moved together, so the same dt comes up again and again.
  #factorDt = new Float64Array([NaN, NaN]);
  #factors: Float64Array;
  #factorsLatest = 0;

  /** An empty table of the capacities in `options`. */
  constructor(options: DampedStreamTableOptions) {
    const { lambdas, maxStreams, maxPairs } = options;
    if (!Array.isArray(lambdas) || lambdas.length === 0) {
      throw new RangeError("lambdas must be a non-empty list of decay rates");
    }
    lambdas.forEach((lambda, i) => {
      if (!(lambda > 0 && lambda < Infinity)) {
        throw new RangeError(`lambdas[${i}] must be a positive finite number, got ${lambda}`);
      }
    });
    if (!Number.isInteger(maxStreams) || maxStreams < 2) {
      throw new RangeError(`maxStreams must be an integer ≥ 2, got ${maxStreams}`);
    }
    if (!Number.isInteger(maxPairs) || maxPairs < 0) {
      throw new RangeError(`maxPairs must be an integer ≥ 0, got ${maxPairs}`);
    }
    this.lambdas = Float64Array.from(lambdas);
    this.maxStreams = maxStreams;
    this.maxPairs = maxPairs;
    this.jitter = options.jitter === true;
    this.#factors = new Float64Array(2 * lambdas.length);
    const streams = Math.min(maxStreams, FIRST_ALLOCATION);
    this.#stream = new Float64Array(streams * lambdas.length * STREAM_FIELDS);
    this.#streamPrev = new Int32Array(streams);
    this.#streamNext = new Int32Array(streams);
    const pairs = Math.min(maxPairs, FIRST_ALLOCATION);
    this.#pair = new Float64Array(pairs * lambdas.length * PAIR_FIELDS);
    this.#pairA = new Int32Array(pairs);
    this.#pairB = new Int32Array(pairs);
    this.#pairPrev = new Int32Array(pairs);
    this.#pairNext = new Int32Array(pairs);
  }

  /** Current sizes and eviction counts. */
  usage(): TableUsage {
    return {
      streams: this.#streams,
      pairs: this.#pairs,
      maxStreams: this.maxStreams,
      maxPairs: this.maxPairs,
      streamEvictions: this.#streamEvictions,
      pairEvictions: this.#pairEvictions,
    };
  }

  /** Whether a stream with this key is held. */
  has(key: string): boolean {
    return this.#index.has(key);
  }

  /**
   * Inserts `v` at time `t` into stream `key` (created if new) and writes its 1-D stats
   * [w, mean, var] for each λ to `out` from `offset` on (3 numbers per λ).
   */
  update1D(key: string, v: number, t: number, out: Float64Array, offset: number): void {
    const s = this.#acquire(key, t);
    this.#insert(s, v, t);
    const lambdas = this.lambdas.length;
    for (let l = 0; l < lambdas; l++) this.#stats1D(s, l, out, offset + 3 * l);
  }

  /**
   * The spec's 1D2D: inserts `v` at `t` into stream `keyA`, then updates the pair (A, B) once
   * more, and writes A's 1-D stats and the pair's [radius, magnitude, cov, pcc] for each λ to
   * `out` from `offset` on (7 numbers per λ). Needs a table with `maxPairs` ≥ 1.
   */
  update1D2D(
    keyA: string,
    keyB: string,
    v: number,
    t: number,
    out: Float64Array,
    offset: number,
  ): void {
    if (this.maxPairs === 0) throw new Error("update1D2D needs a table that holds pairs");
    const a = this.#acquire(keyA, t);
    this.#insert(a, v, t);
    const b = keyB === keyA ? a : this.#acquire(keyB, t);
    const p = this.#pairOf(a, b, t);
    this.#pairUpdate(p, a, v, t);
    const lambdas = this.lambdas.length;
    for (let l = 0; l < lambdas; l++) {
      this.#stats1D(a, l, out, offset + 7 * l);
      this.#stats2D(p, l, out, offset + 7 * l + 3);
    }
  }

  // ---- streams -------------------------------------------------------------------------------

  /** The slot of stream `key`, created (evicting the least recently used if full), made MRU. */
  #acquire(key: string, t: number): number {
    let s = this.#index.get(key);
    if (s !== undefined) {
      this.#touchStream(s);
      return s;
    }
    if (this.#streams === this.maxStreams) {
      s = this.#streamTail;
      this.#evictStream(s);
    } else {
      s = this.#streams++;
      if (s >= this.#streamPrev.length) this.#growStreams();
      this.#pairsOf[s] = [];
    }
    this.#index.set(key, s);
    this.#keys[s] = key;
    const state = this.#stream;
    const lambdas = this.lambdas.length;
    for (let l = 0; l < lambdas; l++) {
      const base = (s * lambdas + l) * STREAM_FIELDS;
      state[base + CF1] = 0;
      state[base + CF2] = 0;
      state[base + W] = INITIAL_WEIGHT;
      state[base + LAST_T] = t;
      state[base + MEAN] = NaN;
      state[base + VAR] = NaN;
      state[base + STD] = NaN;
    }
    this.#linkStreamFirst(s);
    return s;
  }

  // Every λ state of a stream (or pair) sees the same sequence of times, so the time since its
  // last update is one number for all λ; and λ states never interact, so a stream or pair is
  // updated for all λ at once (the reference goes λ by λ; the result is the same).

  #insert(s: number, v: number, t: number): void {
    const state = this.#stream;
    const lambdas = this.lambdas;
    const count = lambdas.length;
    const first = s * count * STREAM_FIELDS;
    const dt = t - state[first + LAST_T];
    if (this.jitter) v = dt > 0 ? dt : 0;
    const factors = this.#factors;
    const at = dt > 0 ? this.#decayFactors(dt) : 0;
    for (let l = 0, base = first; l < count; l++, base += STREAM_FIELDS) {
      if (dt > 0) {
        const f = factors[at + l];
        state[base + CF1] *= f;
        state[base + CF2] *= f;
        state[base + W] *= f;
        state[base + LAST_T] = t;
      }
      state[base + CF1] += v;
      state[base + CF2] += v * v;
      state[base + W] += 1;
      state[base + MEAN] = NaN;
      state[base + VAR] = NaN;
      state[base + STD] = NaN;
    }
    const pairs = this.#pairsOf[s];
    for (let i = 0; i < pairs.length; i++) this.#pairUpdate(pairs[i], s, v, t);
  }

  /**
   * Where in #factors the factors 2^(−λ·dt) of every λ start: one of the two cached rows (made
   * the latest), else the older row, recomputed. The row a caller got stays valid through one
   * more call, which can only replace the other row.
   */
  #decayFactors(dt: number): number {
    const cached = this.#factorDt;
    const latest = this.#factorsLatest;
    const count = this.lambdas.length;
    if (cached[latest] === dt) return latest * count;
    const older = latest ^ 1;
    this.#factorsLatest = older;
    if (cached[older] !== dt) {
      cached[older] = dt;
      const lambdas = this.lambdas, factors = this.#factors;
      for (let l = 0; l < count; l++) factors[older * count + l] = exp2(-lambdas[l] * dt);
    }
    return older * count;
  }

  /** The kept mean, computed and kept if none is. */
  #mean(base: number): number {
    const state = this.#stream;
    let mean = state[base + MEAN];
    if (mean !== mean) {
      const w = state[base + W];
      mean = state[base + MEAN] = w === 0 ? 0 : state[base + CF1] / w;
    }
    return mean;
  }

  /** The kept variance, computed (from the kept mean) and kept if none is. */
  #var(base: number): number {
    const state = this.#stream;
    let variance = state[base + VAR];
    if (variance !== variance) {
      const w = state[base + W];
      const mean = this.#mean(base);
      variance = state[base + VAR] = w === 0 ? 0 : Math.abs(state[base + CF2] / w - mean * mean);
    }
    return variance;
  }

  /** The kept standard deviation, computed (from the kept variance) and kept if none is. */
  #std(base: number): number {
    const state = this.#stream;
    let std = state[base + STD];
    if (std !== std) std = state[base + STD] = Math.sqrt(this.#var(base));
    return std;
  }

  /** [w, mean, var], recomputing and keeping mean and var (the kept std stays as it is). */
  #stats1D(s: number, l: number, out: Float64Array, at: number): void {
    const state = this.#stream;
    const base = (s * this.lambdas.length + l) * STREAM_FIELDS;
    const w = state[base + W];
    const mean = w === 0 ? 0 : state[base + CF1] / w;
    const variance = w === 0 ? 0 : Math.abs(state[base + CF2] / w - mean * mean);
    state[base + MEAN] = mean;
    state[base + VAR] = variance;
    out[at] = w;
    out[at + 1] = mean;
    out[at + 2] = variance;
  }

  // ---- pairs ---------------------------------------------------------------------------------

  /** The pair of a and b: the first in a's list with b as a member, else a new one. */
  #pairOf(a: number, b: number, t: number): number {
    const pairA = this.#pairA, pairB = this.#pairB;
    const list = this.#pairsOf[a];
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (pairA[p] === b || pairB[p] === b) {
        this.#touchPair(p);
        return p;
      }
    }
    let p: number;
    if (this.#pairs === this.maxPairs) {
      p = this.#pairTail;
      this.#unlinkPairFromStreams(p);
      this.#unlinkPair(p);
      this.#pairs--;
      this.#pairEvictions++;
    } else if (this.#freePairs.length > 0) {
      p = this.#freePairs.pop()!;
    } else {
      p = this.#pairSlotsUsed++;
      if (p >= this.#pairA.length) this.#growPairs();
    }
    this.#pairs++;
    this.#pairA[p] = a;
    this.#pairB[p] = b;
    const state = this.#pair;
    const lambdas = this.lambdas.length;
    for (let l = 0; l < lambdas; l++) {
      const base = (p * lambdas + l) * PAIR_FIELDS;
      state[base + CF3] = 0;
      state[base + W3] = INITIAL_WEIGHT;
      state[base + LAST_T3] = t;
      state[base + RES] = 0;
      state[base + RES + 1] = 0;
    }
    this.#pairsOf[a].push(p);
    this.#pairsOf[b].push(p); // the same list twice when a is b, as in the reference
    this.#linkPairFirst(p);
    return p;
  }

  /** update(s, v, t) of pair p, for every λ. */
  #pairUpdate(p: number, s: number, v: number, t: number): void {
    const stream = this.#stream;
    const pair = this.#pair;
    const lambdas = this.lambdas;
    const count = lambdas.length;
    const i = this.#pairA[p] === s ? 0 : 1;
    const other = i === 0 ? this.#pairB[p] : this.#pairA[p];
    let sb = s * count * STREAM_FIELDS;
    let ob = other * count * STREAM_FIELDS;
    let pb = p * count * PAIR_FIELDS;
    const otherDt = t - stream[ob + LAST_T];
    const pairDt = t - pair[pb + LAST_T3];
    const mine = RES + i, theirs = RES + 1 - i;
    const factors = this.#factors;
    const otherAt = otherDt > 0 ? this.#decayFactors(otherDt) : 0;
    const pairAt = pairDt > 0 ? this.#decayFactors(pairDt) : 0;
    for (let l = 0; l < count; l++) {
      if (otherDt > 0) { // decay(t) of the other stream
        const f = factors[otherAt + l];
        stream[ob + CF1] *= f;
        stream[ob + CF2] *= f;
        stream[ob + W] *= f;
        stream[ob + LAST_T] = t;
      }
      if (pairDt > 0) {
        const f = factors[pairAt + l];
        pair[pb + CF3] *= f;
        pair[pb + W3] *= f;
        pair[pb + mine] *= f;
        pair[pb + LAST_T3] = t;
      }
      let mean = stream[sb + MEAN];
      if (mean !== mean) {
        const w = stream[sb + W];
        mean = stream[sb + MEAN] = w === 0 ? 0 : stream[sb + CF1] / w;
      }
      const r = v - mean;
      pair[pb + CF3] += r * pair[pb + theirs];
      pair[pb + W3] += 1;
      pair[pb + mine] = r;
      sb += STREAM_FIELDS;
      ob += STREAM_FIELDS;
      pb += PAIR_FIELDS;
    }
  }

  /** [radius, magnitude, cov, pcc] of pair p at λ index l. */
  #stats2D(p: number, l: number, out: Float64Array, at: number): void {
    const lambdas = this.lambdas.length;
    const a = (this.#pairA[p] * lambdas + l) * STREAM_FIELDS;
    const b = (this.#pairB[p] * lambdas + l) * STREAM_FIELDS;
    const varA = this.#var(a);
    const varB = this.#var(b);
    const meanA = this.#mean(a);
    const meanB = this.#mean(b);
    const base = (p * lambdas + l) * PAIR_FIELDS;
    const cov = this.#pair[base + CF3] / this.#pair[base + W3];
    const ss = this.#std(a) * this.#std(b);
    out[at] = Math.sqrt(varA * varA + varB * varB);
    out[at + 1] = Math.sqrt(meanA * meanA + meanB * meanB);
    out[at + 2] = cov;
    out[at + 3] = ss !== 0 ? cov / ss : 0;
  }

  // ---- eviction and recency ------------------------------------------------------------------

  #evictStream(s: number): void {
    const list = this.#pairsOf[s];
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (this.#pairA[p] === NONE) continue; // a self pair, listed twice, already freed
      const other = this.#pairA[p] === s ? this.#pairB[p] : this.#pairA[p];
      if (other !== s) removeAll(this.#pairsOf[other], p);
      this.#unlinkPair(p);
      this.#pairA[p] = this.#pairB[p] = NONE;
      this.#freePairs.push(p);
      this.#pairs--;
    }
    list.length = 0;
    this.#index.delete(this.#keys[s]);
    this.#unlinkStream(s);
    this.#streamEvictions++;
  }

  #unlinkPairFromStreams(p: number): void {
    const a = this.#pairA[p], b = this.#pairB[p];
    removeAll(this.#pairsOf[a], p);
    if (b !== a) removeAll(this.#pairsOf[b], p);
  }

  #touchStream(s: number): void {
    if (this.#streamHead === s) return;
    this.#unlinkStream(s);
    this.#linkStreamFirst(s);
  }

  #linkStreamFirst(s: number): void {
    this.#streamPrev[s] = NONE;
    this.#streamNext[s] = this.#streamHead;
    if (this.#streamHead !== NONE) this.#streamPrev[this.#streamHead] = s;
    this.#streamHead = s;
    if (this.#streamTail === NONE) this.#streamTail = s;
  }

  #unlinkStream(s: number): void {
    const prev = this.#streamPrev[s], next = this.#streamNext[s];
    if (prev !== NONE) this.#streamNext[prev] = next;
    else this.#streamHead = next;
    if (next !== NONE) this.#streamPrev[next] = prev;
    else this.#streamTail = prev;
  }

  #touchPair(p: number): void {
    if (this.#pairHead === p) return;
    this.#unlinkPair(p);
    this.#linkPairFirst(p);
  }

  #linkPairFirst(p: number): void {
    this.#pairPrev[p] = NONE;
    this.#pairNext[p] = this.#pairHead;
    if (this.#pairHead !== NONE) this.#pairPrev[this.#pairHead] = p;
    this.#pairHead = p;
    if (this.#pairTail === NONE) this.#pairTail = p;
  }

  #unlinkPair(p: number): void {
    const prev = this.#pairPrev[p], next = this.#pairNext[p];
    if (prev !== NONE) this.#pairNext[prev] = next;
    else this.#pairHead = next;
    if (next !== NONE) this.#pairPrev[next] = prev;
    else this.#pairTail = prev;
  }

  #growStreams(): void {
    const size = Math.min(this.maxStreams, this.#streamPrev.length * 2);
    this.#stream = grow(this.#stream, size * this.lambdas.length * STREAM_FIELDS);
    this.#streamPrev = grow(this.#streamPrev, size);
    this.#streamNext = grow(this.#streamNext, size);
  }

  #growPairs(): void {
    const size = Math.min(this.maxPairs, Math.max(1, this.#pairA.length * 2));
    this.#pair = grow(this.#pair, size * this.lambdas.length * PAIR_FIELDS);
    this.#pairA = grow(this.#pairA, size);
    this.#pairB = grow(this.#pairB, size);
    this.#pairPrev = grow(this.#pairPrev, size);
    this.#pairNext = grow(this.#pairNext, size);
  }
}

function grow<T extends Float64Array | Int32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as { new (n: number): T })(length);
  bigger.set(array);
  return bigger;
}

function removeAll(list: number[], p: number): void {
  let kept = 0;
  for (let i = 0; i < list.length; i++) if (list[i] !== p) list[kept++] = list[i];
  list.length = kept;
}
