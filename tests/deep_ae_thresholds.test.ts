import { test } from "node:test";
import assert from "node:assert/strict";
import {
  confidenceBoundThreshold,
  errorStatistics,
  formatThresholdRule,
  logNormalTailThreshold,
  meanStdThreshold,
  PAPER_Z,
  parseThresholdRule,
  quantileThreshold,
  thresholdFor,
} from "../core/thresholds/mod.ts";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

const errors = [4, 1, 3, 2]; // mean 2.5, population variance 1.25, n 4

test("statistics and the paper's confidence bound μ + z·σ/√n", () => {
  const s = errorStatistics(errors);
  close(s.mean, 2.5, "mean");
  close(s.std, Math.sqrt(1.25), "std");
  assert.equal(s.count, 4);
  close(PAPER_Z, 1.6448536269514722, "z");
  close(confidenceBoundThreshold(errors), 2.5 + 1.6448536269514722 * Math.sqrt(1.25) / 2, "paper");
});

test("quantiles interpolate linearly between order statistics", () => {
  close(quantileThreshold(errors, 0), 1, "q0");
  close(quantileThreshold(errors, 0.5), 2.5, "q50");
  close(quantileThreshold(errors, 0.95), 3.85, "q95: position 2.85");
  close(quantileThreshold(errors, 1), 4, "q100");
  close(quantileThreshold([7], 0.99), 7, "single error");
});

test("mean + k·σ and the log-normal tail", () => {
  close(meanStdThreshold(errors, 2), 2.5 + 2 * Math.sqrt(1.25), "mean2");
  // ln errors −1 and 1: μ 0, σ 1; tail 0.05 → e^{Φ⁻¹(0.95)}.
  const t = logNormalTailThreshold([Math.exp(-1), Math.exp(1)], 0.05);
  assert.ok(Math.abs(t - Math.exp(PAPER_Z)) < 1e-9, `${t}`);
});

test("rules parse, format and dispatch", () => {
  assert.deepEqual(parseThresholdRule("paper"), { kind: "paper" });
  assert.deepEqual(parseThresholdRule("q95"), { kind: "quantile", q: 0.95 });
  assert.deepEqual(parseThresholdRule("q99.5"), { kind: "quantile", q: 0.995 });
  assert.deepEqual(parseThresholdRule("mean3"), { kind: "mean-std", k: 3 });
  assert.deepEqual(parseThresholdRule("lognormal0.01"), {
    kind: "lognormal",
    tailProbability: 0.01,
  });
  for (const text of ["paper", "q95", "q99.5", "mean3", "lognormal0.01"]) {
    assert.equal(formatThresholdRule(parseThresholdRule(text)), text);
  }
  close(thresholdFor({ kind: "quantile", q: 0.5 }, errors), 2.5, "dispatch");
  assert.throws(() => parseThresholdRule("q101"), /threshold must be paper, qNN.*"q101"/);
  assert.throws(() => parseThresholdRule("p95"), /got "p95"/);
  assert.throws(() => quantileThreshold([], 0.5), /at least one training error/);
  assert.throws(() => confidenceBoundThreshold([1, NaN]), /training error 1 is NaN/);
});
