/**
 * Log lines for refused MQTT payloads, naming the topic and device so a misconfigured sensor can
 * be found, and rate-limited per reason so a flood of bad payloads cannot flood the log.
 *
 * @module
 */

import type { Rejection, RejectReason } from "../../core/gateway/mod.ts";

/** Least time between two lines of one reason; the rejections in between are counted. */
export const REJECTION_LOG_INTERVAL_MS = 1_000;

/** Most characters of a topic, device or problem a line shows (they come from the network). */
export const REJECTION_TEXT_SHOWN = 120;

/** Options of {@linkcode RejectionLog}. */
export interface RejectionLogOptions {
  /** Where lines go. */
  log: (line: string) => void;
  /** The clock, in milliseconds. */
  now: () => number;
  /** Least time between two lines of one reason (default {@linkcode REJECTION_LOG_INTERVAL_MS}). */
  intervalMs?: number;
}

/** At most one line per reason per interval, the next one counting those left out. */
export class RejectionLog {
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #lastLineAt = new Map<RejectReason, number>();
  readonly #suppressed = new Map<RejectReason, number>();

  /** A log writing through `options.log`. */
  constructor(options: RejectionLogOptions) {
    const intervalMs = options.intervalMs ?? REJECTION_LOG_INTERVAL_MS;
    if (!(intervalMs >= 0 && intervalMs < Infinity)) {
      throw new RangeError(`intervalMs must be a finite number ≥ 0, got ${intervalMs}`);
    }
    this.#log = options.log;
    this.#now = options.now;
    this.#intervalMs = intervalMs;
  }

  /** Logs `rejection`, or counts it for the next line of its reason. */
  record(rejection: Readonly<Rejection>): void {
    const { reason } = rejection;
    const at = this.#now();
    const last = this.#lastLineAt.get(reason);
    if (last !== undefined && at - last < this.#intervalMs && at >= last) {
      this.#suppressed.set(reason, (this.#suppressed.get(reason) ?? 0) + 1);
      return;
    }
    this.#lastLineAt.set(reason, at);
    const suppressed = this.#suppressed.get(reason) ?? 0;
    this.#suppressed.delete(reason);
    const device = rejection.device === undefined ? "" : `, device ${shown(rejection.device)}`;
    this.#log(
      `payload rejected (${reason}) on ${shown(rejection.topic)}${device}: ` +
        `${shown(rejection.problem)}${more(suppressed)}`,
    );
  }

  /** Logs the rejections still uncounted in a line (at shutdown). */
  flush(): void {
    for (const [reason, suppressed] of this.#suppressed) {
      this.#log(`payload rejected (${reason}): ${suppressed} more since the last report`);
    }
    this.#suppressed.clear();
  }
}

function more(suppressed: number): string {
  if (suppressed === 0) return "";
  const what = suppressed === 1 ? "rejection" : "rejections";
  return `; ${suppressed} more ${what} since the last report`;
}

/**
 * `text` fit for one log line: control characters (a topic may hold a newline that would forge
 * a line) escaped as JSON would, and at most {@linkcode REJECTION_TEXT_SHOWN} characters.
 */
function shown(text: string): string {
  const clipped = text.length > REJECTION_TEXT_SHOWN
    ? `${text.slice(0, REJECTION_TEXT_SHOWN)}...`
    : text;
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(clipped) ? JSON.stringify(clipped) : clipped;
}
