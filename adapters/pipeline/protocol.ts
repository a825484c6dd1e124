/**
 * The messages between the main thread and the KitNET worker.
 *
 * @module
 */

import type { KitNETOptions, KitNETPhase } from "../../core/kitnet/mod.ts";

/** What the worker is started with (its `workerData`). */
export interface WorkerSetup {
  /** KitNET's options. */
  kitnet: KitNETOptions;
  /** Rows per batch. */
  capacity: number;
}

/** Main thread → worker. */
export type ToWorker =
  /** Score the first `rows` rows of the batch in `buffer`; `first` is the first row's index. */
  | { type: "batch"; buffer: ArrayBuffer; rows: number; first: number }
  /** No more batches: report the model's state. */
  | { type: "close" };

/** What KitNET looks like at the end. */
export interface ModelSummary {
  /** Its phase. */
  phase: KitNETPhase;
  /** Its ensemble's autoencoders (0 before the feature map exists). */
  autoencoders: number;
  /** Instances still to learn from before scoring begins. */
  remainingGrace: number;
}

/** Worker → main thread. */
export type FromWorker =
  /** Started, KitNET built. */
  | { type: "ready" }
  /** The batch back, scored. */
  | { type: "scored"; buffer: ArrayBuffer; rows: number; first: number }
  /**
   * KitNET refused row `first + rows` of the batch, saying `message`: the batch comes back with
   * its `rows` rows before it scored; nothing after it is scored.
   */
  | { type: "failed"; buffer: ArrayBuffer; rows: number; first: number; message: string }
  /** Answer to "close". */
  | { type: "closed"; summary: ModelSummary };
