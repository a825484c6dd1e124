/**
 * The KitNET stage of the Kitsune pipeline, run as a worker thread: scores the feature rows of
 * each batch in order and sends the batch back (see `kitnet_pipeline.ts`).
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { KitNET } from "../../core/kitnet/mod.ts";
import type { FromWorker, ToWorker, WorkerSetup } from "./protocol.ts";
import { PHASES, ScoreBatch } from "./score_batch.ts";

const port = parentPort!;
const setup = workerData as WorkerSetup;
const kitnet = new KitNET(setup.kitnet);
const width = kitnet.n;
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
    phases[i] = PHASES.indexOf(kitnet.phase);
    try {
      scores[i] = kitnet.process(row);
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
    const map = kitnet.featureMap;
    send({
      type: "closed",
      summary: {
        phase: kitnet.phase,
        autoencoders: map === undefined ? 0 : map.length,
        remainingGrace: kitnet.remainingGrace,
      },
    });
  }
});
send({ type: "ready" });
