/**
 * Runs a capture through the readers and Kitsune's feature extractor, for the tests.
 *
 * @module
 */

import { readCaptureBatches } from "../../adapters/files/mod.ts";
import type { CaptureSource } from "../../adapters/files/mod.ts";
import { Kitsune, type KitsuneOptions } from "../../core/packets/mod.ts";

/** Every packet's feature vector (copies) of the capture at `source`, from `kitsune`. */
export async function captureFeatures(
  source: CaptureSource,
  options: KitsuneOptions = {},
  kitsune: Kitsune = new Kitsune({ adGracePeriod: 1, ...options }),
): Promise<Float64Array[]> {
  const rows: Float64Array[] = [];
  for await (const batch of readCaptureBatches(source)) {
    for (const r of batch) {
      rows.push(kitsune.extract(r.data, r.linkType, r.timestamp, r.originalLength).slice());
    }
  }
  return rows;
}

/** The reference's tolerance: |ours − ref| ≤ 1e-6·max(1, |ref|). */
export function worstFeatureError(
  ours: readonly ArrayLike<number>[],
  reference: readonly ArrayLike<number>[],
): { error: number; row: number; column: number } {
  let worst = { error: 0, row: -1, column: -1 };
  for (let row = 0; row < reference.length; row++) {
    for (let column = 0; column < reference[row].length; column++) {
      const ref = reference[row][column];
      const error = Math.abs(ours[row][column] - ref) / Math.max(1, Math.abs(ref));
      if (!(error <= worst.error)) worst = { error, row, column };
    }
  }
  return worst;
}
