/**
 * A batch of feature rows on its way to the scoring worker and back with their scores: one
 * ArrayBuffer (transferred, never copied, between the threads) laid out as the rows, then their
 * scores, then the detector's phase each row was scored in.
 *
 * @module
 */

import type { DetectorPhase } from "../../core/detector.ts";

/** Detector phases as the batch stores them. */
export const PHASES: readonly DetectorPhase[] = ["mapping", "training", "executing"];

/** Views of one batch buffer of `capacity` rows of `width` features. */
export class ScoreBatch {
  /** Rows the batch holds. */
  readonly capacity: number;
  /** Features per row. */
  readonly width: number;
  /** The buffer (detached while the other thread has it). */
  readonly buffer: ArrayBuffer;
  /** Row i's features are `features[i·width …]`. */
  readonly features: Float64Array;
  /** Row i's score. */
  readonly scores: Float64Array;
  /** Row i's detector phase, an index into {@linkcode PHASES}. */
  readonly phases: Uint8Array;

  /** Bytes of a batch of `capacity` rows of `width` features. */
  static bytes(capacity: number, width: number): number {
    return 8 * capacity * (width + 1) + capacity;
  }

  /** Views of `buffer` (a new one of the right size when omitted). */
  constructor(capacity: number, width: number, buffer?: ArrayBuffer) {
    this.capacity = capacity;
    this.width = width;
    this.buffer = buffer ?? new ArrayBuffer(ScoreBatch.bytes(capacity, width));
    if (this.buffer.byteLength !== ScoreBatch.bytes(capacity, width)) {
      throw new RangeError(
        `a batch of ${capacity} rows of ${width} needs ${ScoreBatch.bytes(capacity, width)} ` +
          `bytes, got ${this.buffer.byteLength}`,
      );
    }
    this.features = new Float64Array(this.buffer, 0, capacity * width);
    this.scores = new Float64Array(this.buffer, 8 * capacity * width, capacity);
    this.phases = new Uint8Array(this.buffer, 8 * capacity * (width + 1), capacity);
  }
}
