import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KitNET, kitsuneFeatureNames } from "../mod.ts";
import { captureFeatures, worstFeatureError } from "./support/kitsune_capture.ts";
import {
  maxRelativeError,
  readKitNETVector,
  readSharedText,
  sharedPath,
} from "./support/shared.ts";

const TOLERANCE = 1e-6;
const lines = readSharedText("vectors/kitsune/lan.features.csv.gz").split("\n").filter((l) => l);
const header = lines[0].split(",");
const reference = lines.slice(1).map((line) => line.split(",").map(Number));

describe("AfterImage reproduces the reference features of lan.pcap", () => {
  test("the 100 feature names are the reference header's", () => {
    assert.deepEqual(kitsuneFeatureNames(), header);
  });

  test(`every packet and column within ${TOLERANCE}·max(1, |ref|)`, async () => {
    const ours = await captureFeatures(sharedPath("vectors/kitsune/lan.pcap"));
    assert.equal(ours.length, reference.length);
    assert.equal(ours[0].length, header.length);
    const { error, row, column } = worstFeatureError(ours, reference);
    assert.ok(
      error <= TOLERANCE,
      `packet ${row}, ${header[column]}: ${ours[row]?.[column]} vs reference ` +
        `${reference[row]?.[column]} (error ${error})`,
    );
  });
});

describe("KitNET on the reference features", () => {
  test("reproduces lan.expected.json within 1e-9 relative (m 10, FM 500, AD 3000)", () => {
    const vector = readKitNETVector("vectors/kitsune/lan.expected.json");
    const k = new KitNET({
      n: header.length,
      maxAutoencoderSize: vector.max_autoencoder_size,
      fmGracePeriod: vector.fm_grace,
      adGracePeriod: vector.ad_grace,
      learningRate: vector.learning_rate,
      hiddenRatio: vector.hidden_ratio,
    });
    const scores = reference.map((row) => k.process(row));
    assert.equal(scores.length, vector.scores.length);
    assert.deepEqual(k.featureMap, vector.feature_map);
    const { error, index } = maxRelativeError(scores, vector.scores);
    assert.ok(error <= 1e-9, `packet ${index}: ${scores[index]} vs ${vector.scores[index]}`);
  });
});
