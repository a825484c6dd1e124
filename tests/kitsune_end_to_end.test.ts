import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readCaptureBatches } from "../adapters/files/mod.ts";
import { rocAuc } from "../core/evaluation/mod.ts";
import { fitLogNormal, logNormalThreshold } from "../core/thresholds/mod.ts";
import { Kitsune, ScoreThreshold } from "../mod.ts";
import { readKitNETVector, sharedPath } from "./support/shared.ts";

const vector = readKitNETVector("vectors/kitsune/lan.expected.json");
/** The first attack packet (spec: packets 5100–5999 are a port scan, then a SYN flood). */
const FIRST_ATTACK = 5100;
const firstScored = vector.fm_grace + vector.ad_grace + 1;

async function lanScores(): Promise<number[]> {
  const kitsune = new Kitsune({
    maxAutoencoderSize: vector.max_autoencoder_size,
    fmGracePeriod: vector.fm_grace,
    adGracePeriod: vector.ad_grace,
  });
  const scores: number[] = [];
  for await (const batch of readCaptureBatches(sharedPath("vectors/kitsune/lan.pcap"))) {
    for (const r of batch) {
      scores.push(kitsune.process(r.data, r.linkType, r.timestamp, r.originalLength));
    }
  }
  return scores;
}

describe("Kitsune end to end on lan.pcap (our reader → our features → KitNET)", () => {
  let cached: Promise<number[]> | undefined;
  const scores = () => cached ??= lanScores();

  test("attack packets rank above benign scored packets: ROC AUC ≥ 0.99", async () => {
    const all = await scores();
    assert.equal(all.length, vector.scores.length);
    for (let i = 0; i < firstScored; i++) assert.equal(all[i], 0, `packet ${i} is still learning`);
    const scored = all.slice(firstScored);
    const labels = scored.map((_, i) => firstScored + i >= FIRST_ATTACK);
    const auc = rocAuc(labels, scored);
    assert.ok(auc >= 0.99, `ROC AUC ${auc}`);
  });

  test("the calibrated threshold is the log-normal fit's, and flags attacks far more", async () => {
    const all = (await scores()).slice(firstScored);
    const calibration = 1000, tailProbability = 1e-3;
    const threshold = new ScoreThreshold({ calibration, tailProbability });
    const flagged = all.map((score) => threshold.observe(score));
    const expected = logNormalThreshold(fitLogNormal(all.slice(0, calibration)), tailProbability);
    assert.equal(threshold.threshold, expected);
    assert.equal(threshold.judged, all.length - calibration);
    assert.deepEqual(flagged, all.map((s, i) => i >= calibration && s > expected));
    assert.equal(threshold.flagged, flagged.filter((f) => f).length);
    const rate = (from: number, to: number) =>
      flagged.slice(from, to).filter((f) => f).length / (to - from);
    const benign = rate(calibration, FIRST_ATTACK - firstScored);
    const attack = rate(FIRST_ATTACK - firstScored, all.length);
    assert.ok(attack > 10 * benign, `flagged ${attack} of attacks, ${benign} of benign`);
  });
});

describe("ScoreThreshold options", () => {
  test("bad options are refused by name and value", () => {
    assert.throws(
      () => new ScoreThreshold({ calibration: 1, tailProbability: 0.01 }),
      /calibration must be an integer ≥ 2, got 1/,
    );
    assert.throws(
      () => new ScoreThreshold({ calibration: 10, tailProbability: 1 }),
      /tailProbability must be in \(0, 1\), got 1/,
    );
  });

  test("nothing is flagged while calibrating; the threshold appears when the window fills", () => {
    const t = new ScoreThreshold({ calibration: 3, tailProbability: 0.01 });
    assert.deepEqual([1, 2, 4].map((s) => t.observe(s)), [false, false, false]);
    assert.equal(t.threshold, logNormalThreshold(fitLogNormal([1, 2, 4]), 0.01));
    assert.equal(t.observe(1000), true);
    assert.equal(t.observe(1), false);
    assert.deepEqual([t.calibrated, t.judged, t.flagged], [3, 2, 1]);
  });
});
