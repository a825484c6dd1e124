import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runKddExperiment } from "../adapters/kdd/mod.ts";
import { KDD_COLUMNS, loadKdd } from "../adapters/kdd/mod.ts";
import { crc32 } from "../core/codec/mod.ts";
import { readSharedText, sharedPath } from "./support/shared.ts";

const NSL_TRAIN = sharedPath("datasets/nsl-kdd/KDDTrain+_20Percent.txt.gz");
const NSL_TEST = sharedPath("datasets/nsl-kdd/KDDTest+.txt.gz");
const KDD_TRAIN = sharedPath("datasets/kdd99/kddcup.data_10_percent.gz");
const KDD_TEST = sharedPath("datasets/kdd99/corrected.gz");

describe("KDD readers", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-kdd-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("41 columns, three of them categorical", () => {
    assert.equal(KDD_COLUMNS.length, 41);
    assert.deepEqual(
      KDD_COLUMNS.filter((c) => c.kind === "categorical").map((c) => c.name),
      ["protocol_type", "service", "flag"],
    );
  });

  test("NSL-KDD (gzip): features parsed, difficulty dropped, labels binarised", async () => {
    const data = await loadKdd(NSL_TRAIN, "nsl-kdd", { limit: 500 });
    const lines = readSharedText("datasets/nsl-kdd/KDDTrain+_20Percent.txt.gz").split("\n", 500);
    assert.equal(data.records.length, 500);
    const first = lines[0].split(",");
    assert.deepEqual(data.records[0], [
      Number(first[0]),
      first[1],
      first[2],
      first[3],
      ...first.slice(4, 41).map(Number),
    ]);
    for (let i = 0; i < 500; i++) {
      const label = lines[i].split(",")[41];
      assert.equal(data.labels[i], label);
      assert.equal(data.attack[i], label === "normal" ? 0 : 1);
    }
    assert.ok(data.attack.includes(0) && data.attack.includes(1));
  });

  test("KDD-99 (gzip): the label's dot is dropped and exact duplicates go", async () => {
    const kept = await loadKdd(KDD_TRAIN, "kdd99", { limit: 3000, dropDuplicates: true });
    const all = await loadKdd(KDD_TRAIN, "kdd99", { limit: kept.read });
    assert.equal(kept.records.length, 3000);
    assert.equal(kept.read - kept.duplicates, 3000);
    const distinct = new Set(all.records.map((r, i) => `${r.join(",")},${all.labels[i]}`));
    assert.equal(distinct.size, 3000, "what is kept is exactly the distinct rows read");
    assert.ok(kept.labels.every((l) => !l.endsWith(".")));
    assert.ok(kept.labels.includes("normal"));
  });

  test("plain files work, blank lines are skipped, a bad row names its line", async () => {
    const lines = readSharedText("datasets/nsl-kdd/KDDTest+.txt.gz").split("\n", 3);
    const plain = join(dir, "plain.txt");
    writeFileSync(plain, `${lines[0]}\n\n${lines[1]}\n`);
    const data = await loadKdd(plain, "auto");
    assert.equal(data.records.length, 2);

    const badNumber = join(dir, "bad-number.txt");
    writeFileSync(badNumber, `${lines[0]}\n${lines[1].replace(/^0,/, "zero,")}\n`);
    await assert.rejects(
      loadKdd(badNumber, "nsl-kdd"),
      /bad-number\.txt:2: column 1 \(duration\) must be a number, got "zero"/,
    );
    const short = join(dir, "short.txt");
    writeFileSync(short, `${lines[0]}\n${lines[1]}\n1,2,3\n`);
    await assert.rejects(loadKdd(short, "nsl-kdd"), /short\.txt:3: expected 43 comma-separated/);
    await assert.rejects(loadKdd(plain, "kdd99"), /plain\.txt:1: expected 42 comma-separated/);
  });
});

describe("the deep-autoencoder protocol end to end, on slices", () => {
  test("NSL-KDD slice: trains, thresholds and measures the test slice", async () => {
    const r = await runKddExperiment({
      dataset: "nsl-kdd",
      train: NSL_TRAIN,
      test: NSL_TEST,
      limit: 3000,
      epochs: 3,
      learningRate: 0.001,
    });
    assert.equal(r.trainRows, 3000);
    assert.equal(r.testRows, 3000);
    assert.ok(r.trainNormalRows > 1000 && r.trainNormalRows < 2000);
    const c = r.report.confusion;
    assert.equal(c.truePositives + c.falseNegatives, r.testAttacks);
    assert.equal(c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives, 3000);
    // The paper's threshold sits just above the mean training error, so most but not all normal
    // training rows score below it.
    assert.ok(r.thresholdTrainingQuantile > 0.5 && r.thresholdTrainingQuantile < 1);
    assert.ok(r.auc > 0.85, `AUC ${r.auc}`);
    assert.ok(r.report.weightedF1 > 0.6, `weighted F1 ${r.report.weightedF1}`);
    assert.equal(r.detector.ownThreshold, r.threshold);
    // Same seed, same bits on every runtime: this suite runs under Deno, Bun and Node, and each
    // must train exactly this model (its weights, encoder and threshold, as saved). The digest is
    // what the code produced on all three; a deliberate change to the training arithmetic
    // changes it, and is re-pinned after checking that all three still agree.
    assert.equal(crc32(r.detector.toBytes()).toString(16), "2144df1c");
    assert.equal(r.threshold, 0.5480968104889439);
  });

  test("KDD-99 slice, de-duplicated, with a 95th-percentile threshold", async () => {
    const r = await runKddExperiment({
      dataset: "kdd99",
      train: KDD_TRAIN,
      test: KDD_TEST,
      limit: 2000,
      epochs: 2,
      threshold: { kind: "quantile", q: 0.95 },
    });
    assert.equal(r.trainRows, 2000);
    // The start of "corrected" repeats its rows heavily (the start of the training file does not).
    assert.ok(r.duplicatesDropped.test > 10000, `${r.duplicatesDropped.test} duplicates`);
    assert.ok(
      Math.abs(r.thresholdTrainingQuantile - 0.95) < 0.01,
      `${r.thresholdTrainingQuantile}`,
    );
    assert.ok(r.auc > 0.9, `AUC ${r.auc}`);
  });

  test("KitNET on the same preprocessed slice", async () => {
    const r = await runKddExperiment({
      dataset: "kdd99",
      train: KDD_TRAIN,
      test: KDD_TEST,
      limit: 2000,
      model: "kitnet",
      threshold: { kind: "quantile", q: 0.99 },
    });
    assert.equal(r.model, "kitnet");
    assert.ok(Number.isNaN(r.detector.ownThreshold), "KitNET brings no threshold");
    assert.ok(Math.abs(r.thresholdTrainingQuantile - 0.99) < 0.01);
    assert.ok(r.auc > 0.9, `AUC ${r.auc}`);
  });
});
