/**
 * Access to the reference material in `../shared` (beside the project root), which the tests
 * read in place and the repository never copies.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** The project root. */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The `shared/` folder beside the project root. */
export const SHARED: string = resolve(ROOT, "..", "shared");

/** Absolute path of a file under `shared/`; throws a clear error when it is missing. */
export function sharedPath(relative: string): string {
  const path = join(SHARED, relative);
  if (!existsSync(path)) {
    throw new Error(`reference file missing: ${path} (the tests expect ../shared beside the repo)`);
  }
  return path;
}

/** A file under `shared/` as text, gunzipped when its name ends in `.gz`. */
export function readSharedText(relative: string): string {
  const raw = readFileSync(sharedPath(relative));
  return (relative.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
}

/** A numeric CSV (no header unless `header`) under `shared/` as rows of numbers. */
export function readSharedMatrix(relative: string, header = false): number[][] {
  const lines = readSharedText(relative).split("\n").filter((line) => line.length > 0);
  return (header ? lines.slice(1) : lines).map((line) => line.split(",").map(Number));
}

/** What a KitNET vector's `.expected.json` holds. */
export interface KitNETVector {
  n?: number;
  rows?: number;
  max_autoencoder_size: number;
  fm_grace: number;
  ad_grace: number;
  learning_rate: number;
  hidden_ratio: number;
  feature_map_given?: boolean;
  feature_map: number[][];
  scores: number[];
}

/** A KitNET vector's parameters and expected scores. */
export function readKitNETVector(relative: string): KitNETVector {
  return JSON.parse(readSharedText(relative));
}

/** Largest relative error |a − b| / |b| over two series (a zero expected value wants exactly 0). */
export function maxRelativeError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    const d = e === 0 ? (a === 0 ? 0 : Infinity) : Math.abs(a - e) / Math.abs(e);
    if (Number.isNaN(d)) return { error: NaN, index: i };
    if (d > error) {
      error = d;
      index = i;
    }
  }
  return { error, index };
}
