import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KitNET } from "../mod.ts";
import { maxRelativeError, readKitNETVector, readSharedMatrix } from "./support/shared.ts";

const TOLERANCE = 1e-9;

function runVector(name: string) {
  const vector = readKitNETVector(`vectors/kitnet/${name}.expected.json`);
  const rows = readSharedMatrix(`vectors/kitnet/${name}.input.csv.gz`);
  const k = new KitNET({
    n: rows[0].length,
    maxAutoencoderSize: vector.max_autoencoder_size,
    fmGracePeriod: vector.fm_grace,
    adGracePeriod: vector.ad_grace,
    learningRate: vector.learning_rate,
    hiddenRatio: vector.hidden_ratio,
    featureMap: vector.feature_map_given ? vector.feature_map : undefined,
  });
  const scores = rows.map((row) => k.process(row));
  return { vector, rows, k, scores };
}

describe("KitNET reproduces the reference vectors", () => {
  for (const name of ["small", "medium", "custom-map"]) {
    test(`${name}: feature map and every score within ${TOLERANCE} relative`, () => {
      const { vector, rows, k, scores } = runVector(name);
      assert.equal(rows.length, vector.scores.length);
      assert.deepEqual(k.featureMap, vector.feature_map);
      const firstScore = vector.fm_grace + vector.ad_grace + 1;
      for (let i = 0; i < firstScore; i++) assert.equal(scores[i], 0, `score ${i} while learning`);
      assert.ok(scores[firstScore] > 0, "the first score after the grace periods is positive");
      const { error, index } = maxRelativeError(scores, vector.scores);
      assert.ok(
        error <= TOLERANCE,
        `row ${index}: ${scores[index]} vs reference ${vector.scores[index]} (relative ${error})`,
      );
      assert.equal(k.phase, "executing");
      assert.equal(k.executed, rows.length - firstScore);
    });
  }

  test("the anomalies at the end of each stream score above the normal rows", () => {
    const { vector, scores } = runVector("medium");
    const firstScore = vector.fm_grace + vector.ad_grace + 1;
    const executed = scores.slice(firstScore);
    const sorted = executed.slice().sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1];
    assert.ok(Math.max(...executed.slice(-20)) > 10 * median);
  });
});
