/**
 * A one-line progress display on standard error, shown only when it is a terminal: what is in
 * progress (its label), then how far it is.
 *
 * @module
 */

import process from "node:process";

/** What a progress line shows at one moment. */
export interface ProgressState {
  /** What is in progress: `scoring sample.csv`, `training`. */
  label: string;
  /** What is counted, plural: `rows`, `epochs`. */
  unit: string;
  /** How many are done. */
  done: number;
  /** How many there are in all, when known. */
  total?: number;
  /** Seconds since it started. */
  seconds: number;
  /** Anything shown after the count: a phase, a loss. */
  detail?: string;
}

/**
 * The text of a progress line: `scoring sample.csv: 12,288 rows, 1.2s, 10,240 rows/s,
 * training`, or with a total `training: 3/10 epochs 30.0%, 4.2s elapsed, 9.8s left`.
 */
export function renderProgress(state: ProgressState): string {
  const { label, unit, done, total, seconds, detail } = state;
  const rate = seconds > 0 ? done / seconds : 0;
  let text = `${label}: ${done.toLocaleString("en-US")}`;
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, done / total);
    const remaining = rate > 0 ? (total - done) / rate : 0;
    text += `/${total.toLocaleString("en-US")} ${unit} ${(fraction * 100).toFixed(1)}%, ` +
      `${formatSeconds(seconds)} elapsed, ${formatSeconds(remaining)} left`;
  } else {
    text += ` ${unit}, ${formatSeconds(seconds)}, ` +
      `${Math.round(rate).toLocaleString("en-US")} ${unit}/s`;
  }
  return detail ? `${text}, ${detail}` : text;
}

/** Options of a {@linkcode ProgressLine}. */
export interface ProgressOptions {
  /** What is counted, plural (`rows`, `packets`, `epochs`). */
  unit: string;
  /** How many there are in all, when known. */
  total?: number;
  /** Whether to draw (default: when standard error is a terminal). */
  enabled?: boolean;
}

/** Redraws a status line at most ten times a second; silent when stderr is not a TTY. */
export class ProgressLine {
  readonly enabled: boolean;
  readonly #label: string;
  readonly #unit: string;
  readonly #total: number | undefined;
  #started = performance.now();
  #lastDraw = 0;

  /** A line for `label`, what is in progress (`scoring sample.csv`, `training`). */
  constructor(label: string, options: ProgressOptions) {
    this.#label = label;
    this.#unit = options.unit;
    this.#total = options.total;
    this.enabled = options.enabled ?? Boolean(process.stderr.isTTY);
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
    const text = renderProgress({
      label: this.#label,
      unit: this.#unit,
      done,
      total: this.#total,
      seconds: this.elapsedSeconds,
      detail,
    });
    process.stderr.write(`\r\x1b[2K${text}`);
  }

  /** Shows the label and `text` in place of a count (a stage: `loading…`); not throttled. */
  say(text: string): void {
    if (this.enabled) process.stderr.write(`\r\x1b[2K${this.#label}: ${text}`);
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
