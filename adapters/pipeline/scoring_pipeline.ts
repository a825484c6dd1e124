/**
 * Scoring on two threads: the caller extracts each packet's features (parsing and AfterImage)
 * while a worker thread scores earlier packets with a detector of any type, made there through
 * the registry. Feature rows travel in batches, in a fixed pool of buffers that are transferred
 * (not copied) to the worker and back; when every buffer is away the caller waits
 * ({@linkcode ScoringPipeline.room}), so memory stays bounded however far the capture runs
 * ahead. Scores come back in packet order and are the very numbers the same detector on the
 * caller's thread would give (same code, same rows, same order).
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { ModelOptions } from "../../core/detector.ts";
import type { FromWorker, ModelSummary, ToWorker, WorkerSetup } from "./protocol.ts";
import { ScoreBatch } from "./score_batch.ts";

/** Options of {@linkcode ScoringPipeline.start}. */
export interface ScoringPipelineOptions {
  /** The detector's model section (its type and that type's options). */
  model: ModelOptions;
  /** Features per row. */
  inputs: number;
  /** Rows per batch (default 256). */
  batchRows?: number;
  /** Batches in the pool (default 8): at most batchRows × batches rows are in flight. */
  batches?: number;
  /**
   * Receives the scores, in order: rows `first … first + rows − 1` are `batch`'s rows
   * `0 … rows − 1`. The batch is reused once this returns.
   */
  onScores(first: number, batch: ScoreBatch, rows: number): void;
}

/** The detector refused a row (the rows before it were all scored and delivered). */
export class PipelineRowError extends Error {
  /** The row's index (rows count from 0 in the order they were pushed). */
  readonly index: number;
  /** The tag the row was pushed with. */
  readonly tag: number;

  constructor(index: number, tag: number, message: string) {
    super(message);
    this.name = "PipelineRowError";
    this.index = index;
    this.tag = tag;
  }
}

const WORKER_URL = new URL("./scoring_worker.ts", import.meta.url);

/** The scoring stage on its own thread; see the module documentation. */
export class ScoringPipeline {
  /** Features per row. */
  readonly width: number;
  /** Rows per batch. */
  readonly batchRows: number;
  /** Batches in the pool. */
  readonly batches: number;
  #worker: Worker;
  #onScores: ScoringPipelineOptions["onScores"];
  #free: ArrayBuffer[] = [];
  #filling: ScoreBatch | undefined;
  #filled = 0;
  #pushed = 0;
  /** Each in-flight row's tag, by row index modulo the pool's rows. */
  #tags: Float64Array;
  #failure: Error | undefined;
  #closing = false;
  #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #onReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #onClosed: ((summary: ModelSummary) => void) | undefined;

  private constructor(options: ScoringPipelineOptions) {
    const { model, inputs, batchRows = 256, batches = 8 } = options;
    for (const [name, value] of [["batchRows", batchRows], ["batches", batches]] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be an integer ≥ 1, got ${value}`);
      }
    }
    if (!Number.isInteger(inputs) || inputs < 1) {
      throw new RangeError(`inputs must be an integer ≥ 1, got ${inputs}`);
    }
    this.width = inputs;
    this.batchRows = batchRows;
    this.batches = batches;
    this.#onScores = options.onScores;
    this.#tags = new Float64Array(batchRows * batches);
    for (let i = 0; i < batches; i++) {
      this.#free.push(new ArrayBuffer(ScoreBatch.bytes(batchRows, this.width)));
    }
    const setup: WorkerSetup = { model, inputs, capacity: batchRows };
    this.#worker = new Worker(WORKER_URL, { workerData: setup });
    this.#worker.on("message", (message: FromWorker) => this.#receive(message));
    this.#worker.on("error", (error: Error) => {
      this.#fail(new Error(`the scoring worker failed: ${error.message}`));
    });
    this.#worker.on("exit", (code: number) => {
      if (!this.#closing) this.#fail(new Error(`the scoring worker stopped (exit code ${code})`));
    });
  }

  /** Starts the worker; resolves once it has made the detector, rejects if it cannot start. */
  static start(options: ScoringPipelineOptions): Promise<ScoringPipeline> {
    const pipeline = new ScoringPipeline(options);
    return new Promise((resolve, reject) => {
      pipeline.#onReady = { resolve: () => resolve(pipeline), reject };
    });
  }

  /** Rows pushed so far. */
  get pushed(): number {
    return this.#pushed;
  }

  /**
   * Copies one row of {@linkcode width} features into the current batch (sending it when full)
   * and remembers `tag` for it (reported if the detector refuses the row). Returns false, taking
   * nothing, when every batch is away: then wait for {@linkcode room}. Throws once the worker
   * has failed.
   */
  tryPush(features: ArrayLike<number>, tag = 0): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#filling === undefined) {
      const buffer = this.#free.pop();
      if (buffer === undefined) return false;
      this.#filling = new ScoreBatch(this.batchRows, this.width, buffer);
      this.#filled = 0;
    }
    const width = this.width;
    const target = this.#filling.features;
    for (let j = 0, at = this.#filled * width; j < width; j++, at++) target[at] = features[j];
    this.#tags[this.#pushed % this.#tags.length] = tag;
    this.#filled++;
    this.#pushed++;
    if (this.#filled === this.batchRows) this.flush();
    return true;
  }

  /** Resolves when {@linkcode tryPush} can take a row; rejects once the worker has failed. */
  async room(): Promise<void> {
    while (this.#filling === undefined && this.#free.length === 0) await this.#nextReturn();
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Resolves when the worker next returns a batch; rejects if it has failed or fails. */
  #nextReturn(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Sends the current batch, however full (e.g. at the end of each chunk of a live capture). */
  flush(): void {
    const batch = this.#filling;
    if (batch === undefined || this.#filled === 0 || this.#failure !== undefined) return;
    const rows = this.#filled;
    const message: ToWorker = {
      type: "batch",
      buffer: batch.buffer,
      rows,
      first: this.#pushed - rows,
    };
    this.#filling = undefined;
    this.#filled = 0;
    this.#worker.postMessage(message, [batch.buffer]);
  }

  /**
   * Sends what is left, waits for every score, and stops the worker; resolves to the detector's final
   * state. Rejects (after stopping the worker) if the worker failed.
   */
  async close(): Promise<ModelSummary> {
    try {
      this.flush();
      const away = () => this.batches - this.#free.length - (this.#filling === undefined ? 0 : 1);
      while (away() > 0) await this.#nextReturn();
      if (this.#failure !== undefined) throw this.#failure;
      const closed = new Promise<ModelSummary>((resolve) => this.#onClosed = resolve);
      const failed = this.#nextReturn().then((): never => {
        throw new Error("the scoring worker returned a batch after the last");
      });
      this.#worker.postMessage({ type: "close" } satisfies ToWorker);
      return await Promise.race([closed, failed]);
    } finally {
      await this.stop();
    }
  }

  /** Stops the worker at once (scores still in flight are lost). */
  async stop(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case "ready":
        this.#onReady?.resolve();
        this.#onReady = undefined;
        return;
      case "scored": {
        try {
          const batch = new ScoreBatch(this.batchRows, this.width, message.buffer);
          this.#onScores(message.first, batch, message.rows);
        } catch (error) {
          this.#fail(error as Error);
          return;
        }
        this.#free.push(message.buffer);
        const waiters = this.#waiters.splice(0);
        for (const waiter of waiters) waiter.resolve();
        return;
      }
      case "failed": {
        // Its rows before the refused one are delivered; the buffer stays out of the pool.
        const index = message.first + message.rows;
        const tag = this.#tags[index % this.#tags.length];
        const batch = new ScoreBatch(this.batchRows, this.width, message.buffer);
        if (message.rows > 0) this.#onScores(message.first, batch, message.rows);
        this.#fail(new PipelineRowError(index, tag, message.message));
        return;
      }
      case "closed":
        this.#onClosed?.(message.summary);
        return;
    }
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#onReady?.reject(error);
    this.#onReady = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
