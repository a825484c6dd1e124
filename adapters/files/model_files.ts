/**
 * Reads the files the gateway's streams' models name (a trained model's file) at start, for
 * the engine (core reads no files); which files, each model type says.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { ConfigProblems } from "../../core/gateway/mod.ts";
import type { PipelineConfig } from "../../core/gateway/mod.ts";
import { detectorType } from "../../core/registry.ts";

/**
 * The bytes of every file a stream's model names, by its configured path (relative paths
 * from the working directory, as for `mqtt.ca`). Throws a {@linkcode ConfigError} naming the
 * key path and file of each one that cannot be read.
 */
export function readModelFiles(config: PipelineConfig): Map<string, Uint8Array> {
  const models = new Map<string, Uint8Array>();
  const problems = new ConfigProblems();
  config.streams.forEach((stream, i) => {
    for (const { key, path } of detectorType(stream.model.type).filesOf(stream.model)) {
      if (models.has(path)) continue;
      try {
        models.set(path, new Uint8Array(readFileSync(path)));
      } catch (error) {
        problems.add(
          `streams[${i}].model.${key}`,
          `cannot read the model ${JSON.stringify(path)}: ${(error as Error).message}`,
        );
      }
    }
  });
  problems.throwIfAny();
  return models;
}
