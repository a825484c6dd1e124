/**
 * Reads the model files of the gateway's `deep-ae` streams at start, for
 * {@linkcode GatewayEngine} (core reads no files).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { ConfigProblems } from "../../core/gateway/mod.ts";
import type { PipelineConfig } from "../../core/gateway/mod.ts";

/**
 * The bytes of every `deep-ae` stream's model file, by its configured path (relative paths
 * from the working directory, as for `mqtt.ca`). Throws a {@linkcode ConfigError} naming the
 * key path and file of each one that cannot be read.
 */
export function readModelFiles(config: PipelineConfig): Map<string, Uint8Array> {
  const models = new Map<string, Uint8Array>();
  const problems = new ConfigProblems();
  config.streams.forEach((stream, i) => {
    const model = stream.model;
    if (model.type !== "deep-ae" || models.has(model.path)) return;
    try {
      models.set(model.path, new Uint8Array(readFileSync(model.path)));
    } catch (error) {
      problems.add(
        `streams[${i}].model.path`,
        `cannot read the model ${JSON.stringify(model.path)}: ${(error as Error).message}`,
      );
    }
  });
  problems.throwIfAny();
  return models;
}
