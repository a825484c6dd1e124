/**
 * Records a run's scores and phase changes as they stream by, then writes the score timeline
 * SVG: what `score` and `pcap` share for `--plot`.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { renderScoreTimelineSvg, type TimelineSpan } from "./score_timeline_svg.ts";

/** Shading of the learning phases; other phases (executing) are not shaded. */
const PHASE_COLORS: Record<string, string> = {
  mapping: "#c7e9c0",
  training: "#fdd0a2",
  calibrating: "#dadaeb",
};

/** Keeps every score (in a buffer that doubles when full) and the spans of each phase. */
export class TimelineRecorder {
  #scores = new Float64Array(1024);
  #length = 0;
  #spans: TimelineSpan[] = [];
  #phase: string | undefined;
  #phaseStart = 0;
  /** Index of the first instance scored in the executing phase: the threshold judges from it. */
  #executingFrom: number | undefined;

  /** Scores recorded so far. */
  get length(): number {
    return this.#length;
  }

  /** Records the next instance's score and the phase it was scored in. */
  record(phase: string, score: number): void {
    if (phase !== this.#phase) {
      this.#closeSpan();
      this.#phase = phase;
      this.#phaseStart = this.#length;
      if (phase === "executing") this.#executingFrom ??= this.#length;
    }
    if (this.#length === this.#scores.length) {
      const next = new Float64Array(this.#scores.length * 2);
      next.set(this.#scores);
      this.#scores = next;
    }
    this.#scores[this.#length++] = score;
  }

  /**
   * Writes the timeline to `path` (folders created as needed), with `threshold` if it is one,
   * marking the scores over it from the first executing instance on: those learning or
   * calibrating before it were not judged by it.
   */
  writeSvg(path: string, title: string, threshold: number = NaN): void {
    this.#closeSpan();
    this.#phase = undefined;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      renderScoreTimelineSvg({
        scores: this.#scores.subarray(0, this.#length),
        title,
        spans: this.#spans,
        threshold: Number.isNaN(threshold) ? undefined : threshold,
        thresholdFrom: this.#executingFrom ?? this.#length,
      }),
    );
  }

  #closeSpan(): void {
    const phase = this.#phase;
    if (phase !== undefined && PHASE_COLORS[phase] && this.#length > this.#phaseStart) {
      this.#spans.push({
        label: phase,
        start: this.#phaseStart,
        end: this.#length,
        color: PHASE_COLORS[phase],
      });
    }
  }
}
