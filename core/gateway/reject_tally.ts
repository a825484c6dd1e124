/**
 * Who sends refused messages, so a misconfigured sensor can be found: reject counts by device
 * (whenever the topic matched a stream's pattern, held device or not) or, when no device can be
 * named, by topic; in a bounded table, so a flood of made-up topics cannot grow it.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../codec/mod.ts";
import { LruTable } from "./lru_table.ts";
import { REJECT_REASONS, type RejectReason } from "./payload_decoder.ts";

/**
 * Most characters of a topic or problem kept per sender: MQTT allows 64 KiB topics, and a full
 * table of them would hold gigabytes.
 */
export const REJECT_TEXT_KEPT = 256;

/** One sender of refused messages. */
export interface RejectSource {
  /** The device id, or null when none could be named (no pattern matched, or a bad id). */
  device: string | null;
  /** The topic of its last refused message (at most {@linkcode REJECT_TEXT_KEPT} characters). */
  topic: string;
  /** Its refused messages. */
  rejected: number;
  /** Why the last one was refused. */
  lastReason: RejectReason;
  /** What was wrong with the last one. */
  lastProblem: string;
  /** When the last one arrived, in milliseconds since the epoch. */
  lastAt: number;
}

/** Reject counts by sender, the least recently rejected forgotten first when full. */
export class RejectTally {
  readonly #sources: LruTable<RejectSource>;

  /** An empty tally of at most `capacity` senders. */
  constructor(capacity: number) {
    this.#sources = new LruTable(capacity);
  }

  /** Senders held. */
  get size(): number {
    return this.#sources.size;
  }

  /** Senders forgotten to make room (their counts are then only in the fleet totals). */
  get forgotten(): number {
    return this.#sources.evicted;
  }

  /** Counts one refused message from `device` (undefined: none named) on `topic`. */
  record(
    device: string | undefined,
    topic: string,
    reason: RejectReason,
    problem: string,
    at: number,
  ): void {
    const kept = topic.slice(0, REJECT_TEXT_KEPT);
    const key = keyOf({ device: device ?? null, topic: kept });
    let source = this.#sources.touch(key);
    if (source === undefined) {
      source = {
        device: device ?? null,
        topic: kept,
        rejected: 0,
        lastReason: reason,
        lastProblem: "",
        lastAt: at,
      };
      this.#sources.insert(key, source);
    }
    source.topic = kept;
    source.rejected++;
    source.lastReason = reason;
    source.lastProblem = problem.slice(0, REJECT_TEXT_KEPT);
    source.lastAt = at;
  }

  /** Refused messages counted for device `id` (0 when none, or when it was forgotten). */
  countOf(id: string): number {
    return this.#sources.peek(keyOf({ device: id, topic: "" }))?.rejected ?? 0;
  }

  /** The `limit` senders with the most refused messages, most first (copies). */
  top(limit = Infinity): RejectSource[] {
    const all = Array.from(this.#sources.values(), (source) => ({ ...source }));
    // Ties: the most recently rejected first.
    all.sort((a, b) => b.rejected - a.rejected || b.lastAt - a.lastAt);
    return all.slice(0, limit);
  }

  /** Writes every sender, least recently rejected first, and the forgotten count. */
  write(w: ByteWriter): void {
    w.f64(this.#sources.evicted).u32(this.#sources.size);
    for (const source of this.#sources.values()) {
      w.u8(source.device === null ? 0 : 1).string(source.device ?? "").string(source.topic);
      w.f64(source.rejected).string(source.lastReason).string(source.lastProblem);
      w.f64(source.lastAt);
    }
  }

  /**
   * Replaces the tally with one {@linkcode write} wrote (senders beyond the capacity are
   * forgotten, oldest first, and counted). Reads it all, then throws a `RangeError` naming what
   * no tally holds, changing nothing.
   */
  read(r: ByteReader): void {
    const forgotten = r.f64();
    const count = r.u32();
    const sources: RejectSource[] = [];
    for (let i = 0; i < count; i++) {
      const named = r.u8(), device = r.string(), topic = r.string();
      const rejected = r.f64(), lastReason = r.string(), lastProblem = r.string();
      const lastAt = r.f64();
      sources.push({
        device: named === 1 ? device : null,
        topic: topic.slice(0, REJECT_TEXT_KEPT),
        rejected,
        lastReason: lastReason as RejectReason,
        lastProblem: lastProblem.slice(0, REJECT_TEXT_KEPT),
        lastAt,
      });
    }
    if (!Number.isSafeInteger(forgotten) || forgotten < 0) {
      throw new RangeError(`reject tally: ${forgotten} senders forgotten`);
    }
    for (const s of sources) {
      const who = JSON.stringify(s.device ?? s.topic);
      if (!Number.isSafeInteger(s.rejected) || s.rejected < 1) {
        throw new RangeError(`reject tally: ${who} has ${s.rejected} rejections`);
      }
      if (!REJECT_REASONS.includes(s.lastReason)) {
        throw new RangeError(
          `reject tally: ${who}: unknown reason ${JSON.stringify(s.lastReason)}`,
        );
      }
      if (!Number.isFinite(s.lastAt)) throw new RangeError(`reject tally: ${who} at ${s.lastAt}`);
    }
    for (const s of Array.from(this.#sources.values())) this.#sources.delete(keyOf(s));
    const before = this.#sources.evicted;
    for (const s of sources) this.#sources.insert(keyOf(s), s);
    this.#sources.restoreEvicted(forgotten + this.#sources.evicted - before);
  }
}

/** A sender's key: device ids have no "/" (device_topic.ts), so the two kinds cannot collide. */
function keyOf(source: { device: string | null; topic: string }): string {
  return source.device === null ? `topic ${source.topic}` : `device/${source.device}`;
}
