import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeepAutoencoder } from "../core/deep_ae/mod.ts";
import { runCli } from "./support/run_cli.ts";
import { readSharedText, sharedPath } from "./support/shared.ts";

const NSL_TRAIN = sharedPath("datasets/nsl-kdd/KDDTrain+_20Percent.txt.gz");
const NSL_TEST = sharedPath("datasets/nsl-kdd/KDDTest+.txt.gz");

describe("foxtail evaluate / train / score with a deep autoencoder", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-deep-ae-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("evaluate prints the table and ends with one JSON line of results", async () => {
    const r = await runCli([
      "evaluate",
      "nsl-kdd",
      "--train",
      NSL_TRAIN,
      "--test",
      NSL_TEST,
      "--limit",
      "2000",
      "--epochs",
      "2",
      "--lr",
      "0.001",
      "--threshold",
      "q99",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(r.stdout, /weighted F1 +0\.\d{4}/);
    assert.match(r.stdout, /threshold +\S+ \(q99; 9\d\.\d % of normal training rows below it\)/);
    const json = JSON.parse(lines.at(-1)!);
    for (
      const key of ["weightedF1", "f1", "precision", "recall", "accuracy", "auc", "threshold"]
    ) {
      assert.equal(typeof json[key], "number", key);
    }
    assert.ok(json.trainSeconds >= 0);
    assert.equal(json.epochs, 2);
    assert.equal(json.learningRate, 0.001);
    assert.equal(json.thresholdRule, "q99");
    const c = json.confusion;
    assert.equal(c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives, 2000);
    assert.ok(Math.abs(json.accuracy - (c.truePositives + c.trueNegatives) / 2000) < 1e-12);
  });

  test("evaluate refuses bad usage, naming the flag", async () => {
    const cases: [string[], RegExp][] = [
      [["evaluate", "unsw"], /one dataset, nsl-kdd or kdd99; got "unsw"/],
      [["evaluate", "kdd99", "--test", NSL_TEST], /--train FILE is required/],
      [
        ["evaluate", "kdd99", "--train", NSL_TRAIN, "--test", NSL_TEST, "--model", "svm"],
        /--model must be one of deep-ae, kitnet, hst, got "svm"/,
      ],
      [
        ["evaluate", "kdd99", "--train", NSL_TRAIN, "--test", NSL_TEST, "--threshold", "p9"],
        /--threshold must be paper, qNN/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, message);
    }
  });

  test("train --format kdd saves a model; score --load-model scores raw records with it", async () => {
    const lines = readSharedText("datasets/nsl-kdd/KDDTrain+_20Percent.txt.gz").split("\n", 1500);
    const data = join(dir, "train.txt");
    writeFileSync(data, lines.join("\n") + "\n");
    const model = join(dir, "model.bin");
    const trained = await runCli([
      "train",
      "--data",
      data,
      "--format",
      "kdd",
      "--epochs",
      "3",
      "--threshold",
      "q95",
      "--seed",
      "3",
      "--save-model",
      model,
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stdout, /threshold \S+ \(q95\)/);
    const loaded = DeepAutoencoder.fromBytes(new Uint8Array(readFileSync(model)));
    assert.equal(loaded.seed, 3);
    assert.deepEqual(loaded.thresholdRule, { kind: "quantile", q: 0.95 });

    const test = readSharedText("datasets/nsl-kdd/KDDTest+.txt.gz").split("\n", 200);
    const features = test.map((l) => l.split(",").slice(0, 41));
    const input = join(dir, "features.csv");
    writeFileSync(input, features.map((f) => f.join(",")).join("\n") + "\n");
    const out = join(dir, "scores.csv");
    const scored = await runCli(["score", input, "--load-model", model, "--out", out]);
    assert.equal(scored.code, 0, scored.stderr);
    const rows = readFileSync(out, "utf8").trim().split("\n");
    assert.equal(rows[0], "index,score,anomaly");
    assert.equal(rows.length, 201);
    let anomalies = 0;
    rows.slice(1).forEach((row, i) => {
      const [index, score, flag] = row.split(",");
      assert.equal(Number(index), i);
      assert.equal(Number(score), loaded.scoreRecord(features[i]));
      assert.equal(flag, Number(score) >= loaded.threshold ? "1" : "0");
      anomalies += Number(flag);
    });
    assert.match(scored.stderr, new RegExp(`${anomalies} anomalies`));

    const bad = join(dir, "bad.csv");
    writeFileSync(bad, `${features[0].join(",")}\n${features[1].slice(0, 40).join(",")}\n`);
    const refused = await runCli(["score", bad, "--load-model", model]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /line 2: 40 columns, the model reads 41/);
  });

  test("train --format csv: header, categorical and label columns", async () => {
    const rows = ["temp,room,state"];
    for (let i = 0; i < 300; i++) {
      const t = 20 + Math.sin(i / 7);
      rows.push(`${t.toFixed(3)},${i % 2 ? "kitchen" : "hall"},${i % 50 === 0 ? "fault" : "ok"}`);
    }
    const data = join(dir, "sensors.csv");
    writeFileSync(data, rows.join("\n") + "\n");
    const model = join(dir, "sensors.bin");
    const r = await runCli([
      "train",
      "--data",
      data,
      "--format",
      "csv",
      "--categorical",
      "room",
      "--label",
      "state",
      "--normal",
      "ok",
      "--epochs",
      "2",
      "--save-model",
      model,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /of 294 normal rows \(300 rows read; \d+ held out\), 3 features/);
    const loaded = DeepAutoencoder.fromBytes(new Uint8Array(readFileSync(model)));
    assert.deepEqual(loaded.encoder?.outputNames(), ["temp", "room=hall", "room=kitchen"]);

    const wrong = await runCli([
      "train",
      "--data",
      data,
      "--format",
      "csv",
      "--categorical",
      "floor",
      "--save-model",
      model,
    ]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--categorical names "floor", which is not a column/);
  });
});
