/**
 * The bounded queue between MQTT and the detectors: a ring of fixed capacity that, when full,
 * drops its oldest message to take the newest (fresh telemetry matters more than stale), and
 * counts what it dropped.
 *
 * @module
 */

/** One received message, as the queue holds it. */
export interface QueuedMessage {
  /** The MQTT topic. */
  topic: string;
  /** The payload bytes. */
  payload: Uint8Array;
  /** When it arrived, in milliseconds since the epoch. */
  receivedAt: number;
}

/**
 * A ring buffer of messages in parallel arrays (no object per message).
 *
 * @example
 * ```ts
 * import { DropOldestQueue } from "./mod.ts";
 * const q = new DropOldestQueue(2);
 * q.push("a", new Uint8Array(), 1); q.push("b", new Uint8Array(), 2); q.push("c", new Uint8Array(), 3);
 * q.dropped; // 1: "a" made room for "c"
 * ```
 */
export class DropOldestQueue {
  /** Most messages held. */
  readonly capacity: number;
  readonly #topics: (string | undefined)[];
  readonly #payloads: (Uint8Array | undefined)[];
  readonly #times: Float64Array;
  #head = 0; // index of the oldest
  #length = 0;
  #dropped = 0;

  /** An empty queue of at most `capacity` messages. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#topics = new Array(capacity).fill(undefined);
    this.#payloads = new Array(capacity).fill(undefined);
    this.#times = new Float64Array(capacity);
  }

  /** Messages waiting. */
  get length(): number {
    return this.#length;
  }

  /** Messages dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Adds a message; when full, the oldest is dropped (and counted) first. */
  push(topic: string, payload: Uint8Array, receivedAt: number): void {
    if (this.#length === this.capacity) {
      this.#head = (this.#head + 1) % this.capacity;
      this.#length--;
      this.#dropped++;
    }
    const at = (this.#head + this.#length) % this.capacity;
    this.#topics[at] = topic;
    this.#payloads[at] = payload;
    this.#times[at] = receivedAt;
    this.#length++;
  }

  /**
   * Removes the oldest message and hands it to `take` (its fields as arguments, no object made);
   * returns false when the queue is empty.
   */
  shift(take: (topic: string, payload: Uint8Array, receivedAt: number) => void): boolean {
    if (this.#length === 0) return false;
    const at = this.#head;
    const topic = this.#topics[at]!;
    const payload = this.#payloads[at]!;
    const receivedAt = this.#times[at];
    // Release the references so a drained queue holds no payloads.
    this.#topics[at] = undefined;
    this.#payloads[at] = undefined;
    this.#head = (at + 1) % this.capacity;
    this.#length--;
    take(topic, payload, receivedAt);
    return true;
  }

  /** Restores the dropped count (from a snapshot). */
  restoreDropped(dropped: number): void {
    this.#dropped = dropped;
  }
}
