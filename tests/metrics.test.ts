import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  classificationReport,
  confusionMatrix,
  prAuc,
  predictAtThreshold,
  rocAuc,
} from "../core/evaluation/mod.ts";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

describe("classification metrics", () => {
  // 4 attacks (3 caught), 6 normal rows (1 flagged).
  const actual = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  const predicted = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0];

  test("confusion matrix", () => {
    assert.deepEqual(confusionMatrix(actual, predicted), {
      truePositives: 3,
      falsePositives: 1,
      trueNegatives: 5,
      falseNegatives: 1,
    });
    assert.deepEqual(
      confusionMatrix([true, false], [false, false]),
      { truePositives: 0, falsePositives: 0, trueNegatives: 1, falseNegatives: 1 },
    );
  });

  test("accuracy, precision, recall and the three F1 averages", () => {
    const r = classificationReport(confusionMatrix(actual, predicted));
    close(r.accuracy, 8 / 10, "accuracy");
    close(r.precision, 3 / 4, "precision");
    close(r.recall, 3 / 4, "recall");
    close(r.f1, 3 / 4, "f1");
    close(r.falsePositiveRate, 1 / 6, "false-positive rate");
    close(r.normalF1, 10 / 12, "normal F1 = 2·5 / (2·5 + 1 + 1)");
    close(r.macroF1, (3 / 4 + 10 / 12) / 2, "macro F1");
    close(r.weightedF1, (4 * 3 / 4 + 6 * 10 / 12) / 10, "weighted F1");
  });

  test("asymmetric case: weighted and macro F1 differ", () => {
    // TP 1, FP 3, TN 5, FN 1: precision 1/4, recall 1/2, f1 1/3; normal F1 = 10/14.
    const r = classificationReport({
      truePositives: 1,
      falsePositives: 3,
      trueNegatives: 5,
      falseNegatives: 1,
    });
    close(r.precision, 0.25, "precision");
    close(r.recall, 0.5, "recall");
    close(r.f1, 1 / 3, "f1");
    close(r.normalF1, 10 / 14, "normal F1");
    close(r.macroF1, (1 / 3 + 10 / 14) / 2, "macro F1");
    close(r.weightedF1, (2 * (1 / 3) + 8 * (10 / 14)) / 10, "weighted F1");
  });

  test("undefined ratios are 0, as scikit-learn reports them", () => {
    const r = classificationReport(confusionMatrix([1, 0, 0], [0, 0, 0]));
    assert.equal(r.precision, 0);
    assert.equal(r.recall, 0);
    assert.equal(r.f1, 0);
    close(r.accuracy, 2 / 3, "accuracy");
  });

  test("predictAtThreshold flags scores at or above the threshold", () => {
    assert.deepEqual([...predictAtThreshold([0.1, 0.5, 0.7], 0.5)], [0, 1, 1]);
  });

  test("bad labels and lengths are refused with the index", () => {
    assert.throws(() => confusionMatrix([1, 2], [1, 0]), /actual\[1\] must be 0, 1/);
    assert.throws(() => confusionMatrix([1], [1, 0]), /1 labels but predicted has 2/);
  });
});

describe("ROC AUC", () => {
  test("hand-computed with a tie: 4.5 of 6 pairs ordered", () => {
    // Attacks score 0.9, 0.8, 0.3; normal rows 0.8, 0.1. Pairs won: 2 + 1.5 + 1 of 6.
    close(rocAuc([1, 0, 1, 0, 1], [0.9, 0.8, 0.8, 0.1, 0.3]), 0.75, "auc");
  });

  test("perfect, reversed and uninformative scores", () => {
    close(rocAuc([0, 0, 1, 1], [1, 2, 3, 4]), 1, "perfect");
    close(rocAuc([1, 1, 0, 0], [1, 2, 3, 4]), 0, "reversed");
    close(rocAuc([1, 0, 1, 0], [5, 5, 5, 5]), 0.5, "all tied");
  });

  test("needs both classes and numeric scores", () => {
    assert.throws(() => rocAuc([1, 1], [0.1, 0.2]), /both classes/);
    assert.throws(() => rocAuc([1, 0], [NaN, 0.2]), /score 0 is NaN/);
    assert.throws(() => rocAuc([1, 0], [0.2]), /2 labels but 1 scores/);
  });
});

describe("PR AUC (average precision)", () => {
  test("hand-computed with a tie: 1/3·1 + 1/3·2/3 + 1/3·3/4", () => {
    close(prAuc([1, 0, 1, 0, 1], [0.9, 0.8, 0.8, 0.1, 0.3]), 29 / 36, "average precision");
  });

  test("perfect ranking gives 1; all tied gives the attack share", () => {
    close(prAuc([0, 0, 1, 1], [1, 2, 3, 4]), 1, "perfect");
    close(prAuc([1, 0, 0, 0], [2, 2, 2, 2]), 1 / 4, "all tied");
  });

  test("needs an attack", () => {
    assert.throws(() => prAuc([0, 0], [1, 2]), /both classes/);
  });
});
