import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { erfc, normalQuantile, normalSurvival } from "../core/math/mod.ts";
import {
  fitLogNormal,
  LogNormalCalibrator,
  logNormalTailProbability,
  logNormalThreshold,
} from "../core/thresholds/mod.ts";

function close(actual: number, expected: number, relative: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}: ${actual} vs ${expected}`,
  );
}

describe("normal distribution", () => {
  test("erfc matches tabulated values across both of its methods", () => {
    // Values from Abramowitz & Stegun / high-precision tables.
    close(erfc(0), 1, 1e-15, "erfc(0)");
    close(erfc(0.5), 0.4795001221869535, 1e-14, "erfc(0.5)");
    close(erfc(1), 0.15729920705028513, 1e-14, "erfc(1)");
    close(erfc(2), 0.004677734981047266, 1e-13, "erfc(2)");
    close(erfc(3), 2.209049699858544e-5, 1e-13, "erfc(3)");
    close(erfc(6), 2.1519736712498913e-17, 1e-12, "erfc(6)");
    close(erfc(-1), 1.8427007929497148, 1e-15, "erfc(-1)");
  });

  test("quantile inverts the survival function", () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-13, "z(0.975)");
    close(normalQuantile(0.95), 1.6448536269514722, 1e-13, "z(0.95)");
    close(normalQuantile(1 - 1e-4), 3.719016485455709, 1e-12, "z(1-1e-4)");
    for (const p of [1e-10, 1e-3, 0.3, 0.5, 0.9, 0.999]) {
      close(normalSurvival(-normalQuantile(p)), p, 1e-9, `Φ(z(${p}))`);
    }
    assert.throws(() => normalQuantile(0), /\(0, 1\)/);
  });
});

describe("log-normal threshold", () => {
  test("fit is the mean and population std of ln(score)", () => {
    const scores = [1, Math.E, Math.E ** 2, Math.E ** 3];
    const fit = fitLogNormal(scores);
    close(fit.mu, 1.5, 1e-15, "mu");
    close(fit.sigma, Math.sqrt(1.25), 1e-15, "sigma");
    assert.equal(fit.count, 4);
  });

  test("threshold sits where the tail probability equals the chosen value", () => {
    const fit = { mu: -2, sigma: 0.5, count: 100 };
    const t = logNormalThreshold(fit, 1e-4);
    close(t, Math.exp(-2 + 0.5 * 3.719016485455709), 1e-12, "threshold");
    close(logNormalTailProbability(fit, t), 1e-4, 1e-9, "tail at threshold");
    assert.ok(logNormalTailProbability(fit, t * 1.01) < 1e-4);
  });

  test("calibrator fills its window, skips unusable scores, and resumes from state", () => {
    const c = new LogNormalCalibrator(3);
    assert.equal(c.add(0), false);
    assert.equal(c.add(NaN), false);
    assert.equal(c.skipped, 2);
    c.add(1);
    const resumed = LogNormalCalibrator.fromState(3, c.state());
    for (const k of [c, resumed]) {
      assert.equal(k.add(Math.E), false);
      assert.equal(k.add(Math.E ** 2), true);
      assert.equal(k.add(100), true, "a full window takes no more");
      close(k.fit().mu, 1, 1e-15, "mu");
      assert.equal(k.fit().count, 3);
    }
    assert.throws(() => new LogNormalCalibrator(1), /window/);
  });
});
