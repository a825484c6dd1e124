/**
 * The scoring stage of the pipeline, run as a worker thread: makes its detector through the
 * registry, scores the feature rows of each batch in order and sends the batch back (see
 * `scoring_pipeline.ts`).
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { detectorType } from "../../core/registry.ts";
import type { FromWorker, ToWorker, WorkerSetup } from "./protocol.ts";
import { PHASES, ScoreBatch } from "./score_batch.ts";

const port = parentPort!;
const setup = workerData as WorkerSetup;
const width = setup.inputs;
const names = Array.from({ length: width }, (_, i) => `feature ${i}`);
const detector = detectorType(setup.model.type)
  .forStream(setup.model, { stream: "pipeline", fields: names, features: names, files: new Map() })
  .create();
/** One row, copied out of the batch (a view per row would allocate per packet). */
const row = new Float64Array(width);
let failed = false;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function score(buffer: ArrayBuffer, rows: number, first: number): void {
  const batch = new ScoreBatch(setup.capacity, width, buffer);
  const { features, scores, phases } = batch;
  for (let i = 0; i < rows; i++) {
    for (let j = 0, at = i * width; j < width; j++, at++) row[j] = features[at];
    phases[i] = PHASES.indexOf(detector.phase);
    try {
      scores[i] = detector.process(row);
    } catch (error) {
      // The rows before this one go back scored, as a single thread would have written them.
      failed = true;
      const message = (error as Error).message;
      send({ type: "failed", buffer, rows: i, first, message }, [buffer]);
      return;
    }
  }
  send({ type: "scored", buffer, rows, first }, [buffer]);
}

port.on("message", (message: ToWorker) => {
  if (message.type === "batch") {
    if (!failed) score(message.buffer, message.rows, message.first);
  } else {
    send({
      type: "closed",
      summary: {
        phase: detector.phase,
        summary: detector.summary(),
        learningLeft: detector.learningTotal - detector.learningDone,
      },
    });
  }
});
send({ type: "ready" });
