/**
 * One client's server-sent-event stream with a bounded buffer. Events wait in a list of at most
 * `capacity` entries until the server pulls them (one pull takes everything waiting, as one
 * chunk); a client that lets the list fill is reading too slowly and is cut off rather than
 * allowed to grow memory. Nothing is queued beyond that list and the one chunk being written.
 *
 * @module
 */

/** Why a stream ended. */
export type EventStreamEnd = "client" | "slow" | "shutdown";

/** Options of {@linkcode EventStream}. */
export interface EventStreamOptions {
  /** Events that may wait for the client before it counts as too slow. */
  capacity: number;
  /** Called once when the stream ends, with why. */
  onEnd: (why: EventStreamEnd) => void;
}

const encoder = new TextEncoder();

/** A `text/event-stream` response body fed by {@linkcode EventStream.send}. */
export class EventStream {
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #capacity: number;
  readonly #onEnd: (why: EventStreamEnd) => void;
  #waiting: string[] = [];
  #wake: (() => void) | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #ended: EventStreamEnd | undefined;

  constructor(options: EventStreamOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`capacity must be an integer ≥ 1, got ${options.capacity}`);
    }
    this.#capacity = options.capacity;
    this.#onEnd = options.onEnd;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.end("client"),
    }, { highWaterMark: 1 });
  }

  /** Whether the stream has ended. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Events waiting for the client now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Queues an event (`data` on one line, as JSON is). Returns false when the stream has ended,
   * including when this event found the buffer full and ended it as too slow.
   */
  send(event: string, data: string): boolean {
    return this.#push(`event: ${event}\ndata: ${data}\n\n`);
  }

  /** Queues a comment line (ignored by clients; keeps proxies and idle timers from closing). */
  comment(text: string): boolean {
    return this.#push(`: ${text}\n\n`);
  }

  /** Queues raw field lines, such as `retry: 3000\n\n`. */
  raw(text: string): boolean {
    return this.#push(text);
  }

  /**
   * Ends the stream. At shutdown what is waiting is still delivered; a slow client's backlog is
   * discarded; a client that went away gets nothing more. Later calls do nothing.
   */
  end(why: EventStreamEnd): void {
    if (this.#ended !== undefined) return;
    this.#ended = why;
    if (why !== "shutdown") this.#waiting = [];
    if (this.#wake !== undefined) {
      this.#wake(); // the pending pull flushes and closes
    } else if (why !== "client" && this.#waiting.length === 0) {
      try {
        this.#controller?.close(); // the chunk already queued, if any, is still written
      } catch { /* already closed */ }
    }
    this.#onEnd(why);
  }

  #push(text: string): boolean {
    if (this.#ended !== undefined) return false;
    if (this.#waiting.length >= this.#capacity) {
      this.end("slow");
      return false;
    }
    this.#waiting.push(text);
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake();
    }
    return true;
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.#waiting.length === 0 && this.#ended === undefined) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    this.#wake = undefined;
    try {
      if (this.#waiting.length > 0) {
        const chunk = this.#waiting.length === 1 ? this.#waiting[0] : this.#waiting.join("");
        this.#waiting.length = 0;
        controller.enqueue(encoder.encode(chunk));
      }
      if (this.#ended !== undefined && this.#ended !== "client") controller.close();
    } catch { /* the client cancelled meanwhile */ }
  }
}
