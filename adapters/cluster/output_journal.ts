/**
 * The outputs (scores, alerts, incidents) an instance published that the server has not yet
 * confirmed, so they can be sent again after a reconnect.
 *
 * Why: outputs are core NATS messages. When the node an instance is connected to dies, what the
 * instance wrote to the connection just before it noticed is gone, although the readings were
 * scored. A flush (a ping answered after everything before it) confirms what came before it;
 * after a reconnect the unconfirmed ones are published again. They carry the input's sequence,
 * so a consumer drops the duplicates as it drops a takeover's re-emits.
 *
 * Fixed capacity: when more outputs than that wait for a confirmation, the oldest are given up
 * and counted.
 *
 * @module
 */

/** A ring of the unconfirmed outputs, oldest first. */
export class OutputJournal {
  /** Outputs given up because more than the capacity waited for a confirmation. */
  overflowed = 0;
  /** The most outputs kept unconfirmed. */
  readonly capacity: number;
  readonly #subjects: string[];
  readonly #bodies: string[];
  /** Outputs recorded so far; entry `n` is at `n % capacity`. */
  #recorded = 0;
  /** The first unconfirmed entry. */
  #confirmed = 0;

  /** A journal of at most `capacity` unconfirmed outputs. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#subjects = new Array(capacity).fill("");
    this.#bodies = new Array(capacity).fill("");
  }

  /** Outputs waiting for a confirmation. */
  get pending(): number {
    return this.#recorded - this.#confirmed;
  }

  /** Records one published output. */
  record(subject: string, body: string): void {
    if (this.pending === this.capacity) {
      this.#confirmed++;
      this.overflowed++;
    }
    const at = this.#recorded % this.capacity;
    this.#subjects[at] = subject;
    this.#bodies[at] = body;
    this.#recorded++;
  }

  /** A mark to confirm later: everything recorded up to now. */
  mark(): number {
    return this.#recorded;
  }

  /** The server has everything recorded before `mark`. */
  confirm(mark: number): void {
    if (mark > this.#confirmed) this.#confirmed = Math.min(mark, this.#recorded);
  }

  /** Calls `publish` with each unconfirmed output, oldest first. */
  forEachPending(publish: (subject: string, body: string) => void): void {
    for (let n = this.#confirmed; n < this.#recorded; n++) {
      const at = n % this.capacity;
      publish(this.#subjects[at], this.#bodies[at]);
    }
  }
}
