/**
 * A one-line progress display on standard error, shown only when it is a terminal.
 *
 * @module
 */

import process from "node:process";

/** Redraws a status line at most ten times a second; silent when stderr is not a TTY. */
export class ProgressLine {
  readonly enabled: boolean;
  #label: string;
  #total: number | undefined;
  #started = performance.now();
  #lastDraw = 0;

  constructor(label: string, total?: number, enabled = Boolean(process.stderr.isTTY)) {
    this.#label = label;
    this.#total = total;
    this.enabled = enabled;
  }

  /** Seconds since the line was created. */
  get elapsedSeconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Shows `done` (of the total, if known) and any detail; throttled. */
  update(done: number, detail = ""): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const seconds = this.elapsedSeconds;
    const rate = seconds > 0 ? done / seconds : 0;
    let text = `${this.#label} ${done.toLocaleString("en-US")}`;
    if (this.#total !== undefined && this.#total > 0) {
      const fraction = Math.min(1, done / this.#total);
      const remaining = rate > 0 ? (this.#total - done) / rate : 0;
      text += `/${this.#total.toLocaleString("en-US")} ${(fraction * 100).toFixed(1)}% ` +
        `${formatSeconds(seconds)} elapsed, ${formatSeconds(remaining)} left`;
    } else {
      text += ` ${formatSeconds(seconds)}, ${Math.round(rate).toLocaleString("en-US")}/s`;
    }
    if (detail) text += ` ${detail}`;
    process.stderr.write(`\r\x1b[2K${text}`);
  }

  /** Clears the line. */
  done(): void {
    if (this.enabled) process.stderr.write("\r\x1b[2K");
  }
}

/** 75 → "1m15s", 4.2 → "4.2s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - minutes * 60)).padStart(2, "0")}s`;
}
