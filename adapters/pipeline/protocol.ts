/**
 * The messages between the main thread and the scoring worker.
 *
 * @module
 */

import type { DetectorPhase, ModelOptions } from "../../core/detector.ts";

/** What the worker is started with (its `workerData`). */
export interface WorkerSetup {
  /** The detector's model section. */
  model: ModelOptions;
  /** Features per row. */
  inputs: number;
  /** Rows per batch. */
  capacity: number;
}

/** Main thread → worker. */
export type ToWorker =
  /** Score the first `rows` rows of the batch in `buffer`; `first` is the first row's index. */
  | { type: "batch"; buffer: ArrayBuffer; rows: number; first: number }
  /** No more batches: report the model's state. */
  | { type: "close" };

/** What the detector looks like at the end. */
export interface ModelSummary {
  /** Its phase. */
  phase: DetectorPhase;
  /** Its own description (`Detector.summary()`). */
  summary: string;
  /** Instances still to learn from before scoring begins. */
  learningLeft: number;
}

/** Worker → main thread. */
export type FromWorker =
  /** Started, the detector made. */
  | { type: "ready" }
  /** The batch back, scored. */
  | { type: "scored"; buffer: ArrayBuffer; rows: number; first: number }
  /**
   * The detector refused row `first + rows` of the batch, saying `message`: the batch comes back with
   * its `rows` rows before it scored; nothing after it is scored.
   */
  | { type: "failed"; buffer: ArrayBuffer; rows: number; first: number; message: string }
  /** Answer to "close". */
  | { type: "closed"; summary: ModelSummary };
