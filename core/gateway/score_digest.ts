/**
 * A device's scores reaching back: the last hour in 30-second buckets and the last day in
 * 5-minute buckets, each bucket the minimum, mean and maximum of the scores in it, or marked as
 * learning when its messages were learnt from (score 0), in two fixed rings. Single precision
 * is enough for a chart, and keeps the whole digest under 5 KB a device.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../codec/mod.ts";

/** One of the digest's ranges. */
export type DigestRange = "hour" | "day";

/** The ranges, their bucket widths and bucket counts. */
export const DIGEST_RANGES: Readonly<Record<DigestRange, { bucketMs: number; buckets: number }>> = {
  hour: { bucketMs: 30_000, buckets: 120 },
  day: { bucketMs: 300_000, buckets: 288 },
};

/** One bucket of a range, as the dashboard draws it. */
export interface DigestPoint {
  /** The bucket's start, in milliseconds since the epoch. */
  ts: number;
  /** The lowest score in it; null for a learning bucket. */
  min: number | null;
  /** The mean score; null for a learning bucket. */
  mean: number | null;
  /** The highest score; null for a learning bucket. */
  max: number | null;
  /** Whether its messages were learnt from (no score). */
  learning: boolean;
}

const F32_MAX = 3.4028234663852886e38;
const LEVELS: readonly DigestRange[] = ["hour", "day"];

/** One range's place in the shared arrays and its running bucket. */
interface Level {
  bucketMs: number;
  buckets: number;
  /** Its first slot in the shared arrays. */
  first: number;
  /** The newest bucket's number (its start / bucketMs); -Infinity when empty. */
  newest: number;
  /** Where the newest bucket ends (ms) and its min's index: most messages land in it. */
  end: number;
  at: number;
  /** The newest bucket's sum and count of scores, for its mean. */
  sum: number;
  count: number;
}

/**
 * A device's downsampled scores; see the module's description. A slot's minimum also says
 * what it is: NaN an empty bucket, +Infinity a learning one (scores are kept below single
 * precision's largest value), else a scored one: one array a device, no flags beside it.
 */
export class ScoreDigest {
  /** min, mean, max per slot, every level's slots in a row. */
  readonly #values: Float32Array;
  readonly #levels: Level[];

  /** An empty digest. */
  constructor() {
    let first = 0;
    this.#levels = LEVELS.map((range) => {
      const { bucketMs, buckets } = DIGEST_RANGES[range];
      const level: Level = {
        bucketMs,
        buckets,
        first,
        newest: -Infinity,
        end: -Infinity,
        at: 0,
        sum: 0,
        count: 0,
      };
      first += buckets;
      return level;
    });
    this.#values = new Float32Array(3 * first).fill(NaN);
  }

  /**
   * Adds a message at `ts`: its `score`, or with `learning` a message learnt from. A time before
   * the newest bucket counts in the newest (a clock set back never rewrites the past).
   */
  push(ts: number, score: number, learning: boolean): void {
    for (const level of this.#levels) this.#add(level, ts, score, learning);
  }

  #add(level: Level, ts: number, score: number, learning: boolean): void {
    // Anything before the newest bucket's end counts in it (a clock set back never rewrites the
    // past); only a later time opens a bucket.
    if (!(ts < level.end)) {
      const bucket = Math.floor(ts / level.bucketMs);
      if (!Number.isFinite(bucket)) return;
      // Buckets skipped since the newest are empty (at most a whole ring of them).
      const skipped = level.newest === -Infinity
        ? 0
        : Math.min(bucket - level.newest - 1, level.buckets);
      for (let k = 1; k <= skipped; k++) {
        this.#values[3 * this.#slot(level, level.newest + k)] = NaN;
      }
      this.#open(level, bucket);
      level.sum = 0;
      level.count = 0;
      this.#values[level.at] = NaN;
    } else if (ts === -Infinity) return;
    const v = this.#values, at = level.at;
    const min = v[at];
    if (learning) {
      if (Number.isNaN(min)) v[at] = Infinity;
      return;
    }
    // Single precision ends at about 3.4e38: a larger score is kept as the largest it holds.
    if (score > F32_MAX) score = F32_MAX;
    level.sum += score;
    level.count++;
    if (Number.isNaN(min) || min === Infinity) {
      v[at] = score;
      v[at + 2] = score;
    } else {
      if (score < min) v[at] = score;
      if (score > v[at + 2]) v[at + 2] = score;
    }
    v[at + 1] = Math.min(level.sum / level.count, F32_MAX);
  }

  /** Makes `bucket` the newest of `level` (its contents unchanged). */
  #open(level: Level, bucket: number): void {
    level.newest = bucket;
    level.end = bucket === -Infinity ? -Infinity : (bucket + 1) * level.bucketMs;
    level.at = bucket === -Infinity ? 0 : 3 * this.#slot(level, bucket);
  }

  #slot(level: Level, bucket: number): number {
    return level.first + (((bucket % level.buckets) + level.buckets) % level.buckets);
  }

  /** The buckets of `range`, oldest first, up to the newest one (empty buckets left out). */
  points(range: DigestRange): DigestPoint[] {
    const level = this.#levels[LEVELS.indexOf(range)];
    const out: DigestPoint[] = [];
    if (level.newest === -Infinity) return out;
    for (let bucket = level.newest - level.buckets + 1; bucket <= level.newest; bucket++) {
      const at = 3 * this.#slot(level, bucket), v = this.#values;
      if (Number.isNaN(v[at])) continue;
      const scored = v[at] !== Infinity;
      out.push({
        ts: bucket * level.bucketMs,
        min: scored ? v[at] : null,
        mean: scored ? v[at + 1] : null,
        max: scored ? v[at + 2] : null,
        learning: !scored,
      });
    }
    return out;
  }

  /** Writes the digest (each range's newest bucket and running sums, then every slot). */
  write(w: ByteWriter): void {
    w.u32(this.#levels.length);
    for (const level of this.#levels) {
      w.u32(level.buckets).f64(level.bucketMs).f64(level.newest).f64(level.sum).f64(level.count);
    }
    // Little-endian like the rest of a snapshot, whatever the host's byte order.
    const bytes = new Uint8Array(this.#values.byteLength);
    const view = new DataView(bytes.buffer);
    this.#values.forEach((value, k) => view.setFloat32(4 * k, value, true));
    w.bytes(bytes);
  }

  /**
   * Reads a digest {@linkcode write} wrote. Throws a `RangeError` naming what is wrong for one
   * of another shape (the ranges changed) or with values no digest holds.
   */
  static read(r: ByteReader): ScoreDigest {
    const digest = new ScoreDigest();
    const count = r.u32();
    if (count !== digest.#levels.length) {
      throw new RangeError(`score digest: ${count} ranges, expected ${digest.#levels.length}`);
    }
    // Everything read before anything is checked, so that a caller can skip a refused digest
    // and read on.
    const headers = digest.#levels.map(() => ({
      buckets: r.u32(),
      bucketMs: r.f64(),
      newest: r.f64(),
      sum: r.f64(),
      count: r.f64(),
    }));
    const bytes = r.bytes(digest.#values.byteLength);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < digest.#values.length; k++) {
      digest.#values[k] = view.getFloat32(4 * k, true);
    }
    digest.#levels.forEach((level, i) => {
      const { buckets, bucketMs, newest, sum, count } = headers[i];
      if (buckets !== level.buckets || bucketMs !== level.bucketMs) {
        throw new RangeError(
          `score digest: a range of ${buckets} buckets of ${bucketMs} ms, expected ` +
            `${level.buckets} of ${level.bucketMs}`,
        );
      }
      // A bucket number is the time over the width: any whole number a clock gave.
      if (!(newest === -Infinity || Number.isInteger(newest))) {
        throw new RangeError(`score digest: newest bucket ${newest}`);
      }
      if (!Number.isFinite(sum) || !Number.isSafeInteger(count) || count < 0) {
        throw new RangeError(`score digest: running sum ${sum} of ${count} scores`);
      }
      Object.assign(level, { sum, count });
      digest.#open(level, newest);
    });
    const v = digest.#values;
    for (let at = 0; at < v.length; at += 3) {
      if (Number.isNaN(v[at]) || v[at] === Infinity) continue; // empty, learning
      if (!(Number.isFinite(v[at]) && Number.isFinite(v[at + 1]) && Number.isFinite(v[at + 2]))) {
        throw new RangeError(
          `score digest: bucket ${at / 3} holds ${v[at]}, ${v[at + 1]}, ${v[at + 2]}`,
        );
      }
    }
    return digest;
  }
}
