/**
 * Who sends refused messages, so a misconfigured sensor can be found: reject counts by device
 * (whenever the topic matched a stream's pattern, held device or not) or, when no device can be
 * named, by topic; in a bounded table, so a flood of made-up topics cannot grow it.
 *
 * @module
 */

import { LruTable } from "./lru_table.ts";
import type { RejectReason } from "./payload_decoder.ts";

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
    // Device ids have no "/" (device_topic.ts), so the two kinds of key cannot collide.
    const key = device === undefined ? `topic ${kept}` : `device/${device}`;
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
    return this.#sources.peek(`device/${id}`)?.rejected ?? 0;
  }

  /** The `limit` senders with the most refused messages, most first (copies). */
  top(limit = Infinity): RejectSource[] {
    const all = Array.from(this.#sources.values(), (source) => ({ ...source }));
    // Ties: the most recently rejected first.
    all.sort((a, b) => b.rejected - a.rejected || b.lastAt - a.lastAt);
    return all.slice(0, limit);
  }
}
