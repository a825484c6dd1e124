/**
 * The deep-autoencoder branch of `foxtail score --load-model`: streams CSV records through a
 * saved {@linkcode DeepAutoencoder} (its own one-hot encoding and scaling) and writes
 * "index,score,anomaly" rows, the anomaly flag from the model's saved threshold.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { DeepAutoencoder } from "../../../core/deep_ae/mod.ts";
import { UsageError } from "../command.ts";
import { readCsvRecords } from "../../files/mod.ts";
import { LineWriter } from "../../files/mod.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

/** Whether the file at `path` holds a deep-autoencoder model (by its envelope's kind). */
export function isDeepAutoencoderFile(path: string): boolean {
  const head = readFileSync(path).subarray(0, 8);
  return head.length === 8 && String.fromCharCode(...head.subarray(4, 8)) === "DAEM";
}

/** Flags of `score` that mean nothing for a deep-autoencoder model. */
const KITNET_ONLY = ["calibration", "tail-probability", "plot", "save-model"];

/**
 * Scores `file` with the model at `modelPath`; `values` are score's parsed flags (`header`, `out`
 * are used). Resolves to the exit code.
 */
export async function scoreWithDeepAutoencoder(
  file: string,
  modelPath: string,
  values: Record<string, string | boolean | undefined>,
): Promise<number> {
  const clash = KITNET_ONLY.find((flag) => values[flag] !== undefined);
  if (clash) {
    throw new UsageError(
      `--${clash} does not apply to a deep autoencoder model (it brings its own threshold)`,
    );
  }
  const model = DeepAutoencoder.fromBytes(new Uint8Array(readFileSync(modelPath)));
  const columns = model.encoder?.columns.length;
  if (columns === undefined) {
    throw new RangeError(`${modelPath} has no record encoder, so it cannot read CSV records`);
  }
  const hasThreshold = !Number.isNaN(model.threshold);
  const out = new LineWriter(typeof values.out === "string" ? values.out : undefined);
  const progress = new ProgressLine("score");
  let header = values.header === true;
  let index = 0;
  let anomalies = 0;
  let failure: Error | undefined;
  const started = performance.now();
  await out.line(hasThreshold ? "index,score,anomaly" : "index,score");
  try {
    for await (const { line, fields } of readCsvRecords(file)) {
      if (header) {
        header = false;
        continue;
      }
      if (fields.length !== columns) {
        throw new RangeError(`line ${line}: ${fields.length} columns, the model reads ${columns}`);
      }
      let score: number;
      try {
        score = model.scoreRecord(fields);
      } catch (error) {
        throw new RangeError(`line ${line}: ${(error as Error).message}`);
      }
      if (hasThreshold) {
        const anomaly = model.isAnomaly(score);
        if (anomaly) anomalies++;
        await out.line(`${index},${score},${anomaly ? 1 : 0}`);
      } else {
        await out.line(`${index},${score}`);
      }
      index++;
      if ((index & 1023) === 0) progress.update(index);
    }
  } catch (error) {
    failure = error as Error;
  }
  progress.done();
  await out.close();
  const seconds = (performance.now() - started) / 1000;
  console.error(
    `scored ${index.toLocaleString("en-US")} rows with a deep autoencoder in ` +
      `${formatSeconds(seconds)}` +
      (hasThreshold
        ? `; threshold ${model.threshold.toPrecision(6)}, ${anomalies} anomalies`
        : "; the model has no threshold"),
  );
  if (failure !== undefined) {
    console.error(
      `foxtail score: ${failure.message}; the ${index} rows before it were scored and written`,
    );
    return 1;
  }
  return 0;
}
