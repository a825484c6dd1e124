import { test } from "node:test";
import assert from "node:assert/strict";
import { Adam } from "../core/deep_ae/mod.ts";

test("Adam's first two steps follow Keras's update rule, computed by hand", () => {
  const p = Float64Array.of(1, -2);
  const adam = new Adam([p], { learningRate: 0.1 });
  adam.step([Float64Array.of(0.5, -4)]);
  // Step 1: m = 0.1·g, v = 0.001·g², lr_t = 0.1·√0.001/0.1, so each parameter moves by
  // lr_t·m/(√v + ε) = 0.1·|g|/(|g| + 1e-8/√0.001) ≈ 0.1 against the gradient's sign.
  const lr1 = 0.1 * Math.sqrt(1 - 0.999) / (1 - 0.9);
  assert.ok(Math.abs(p[0] - (1 - lr1 * 0.05 / (Math.sqrt(0.001 * 0.25) + 1e-8))) < 1e-15);
  assert.ok(Math.abs(p[1] - (-2 + lr1 * 0.4 / (Math.sqrt(0.001 * 16) + 1e-8))) < 1e-15);
  assert.ok(Math.abs(p[0] - 0.9) < 1e-6 && Math.abs(p[1] + 1.9) < 1e-6);
  adam.step([Float64Array.of(1, 0)]);
  // Step 2 for p[0]: m = 0.9·0.05 + 0.1·1 = 0.145, v = 0.999·0.00025 + 0.001·1 = 0.00124975.
  const lr2 = 0.1 * Math.sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9);
  const expected = 1 - lr1 * 0.05 / (Math.sqrt(0.00025) + 1e-8) -
    lr2 * 0.145 / (Math.sqrt(0.00124975) + 1e-8);
  assert.ok(Math.abs(p[0] - expected) < 1e-12, `${p[0]} vs ${expected}`);
  assert.equal(adam.steps, 2);
});

test("Adam minimises an ill-conditioned quadratic", () => {
  // f(p) = Σ cᵢ (pᵢ − tᵢ)² with curvatures spanning four orders of magnitude.
  const c = [100, 1, 0.01];
  const t = [3, -1, 0.5];
  const p = new Float64Array(3);
  const g = new Float64Array(3);
  const adam = new Adam([p], { learningRate: 0.05 });
  for (let step = 0; step < 3000; step++) {
    for (let i = 0; i < 3; i++) g[i] = 2 * c[i] * (p[i] - t[i]);
    adam.step([g]);
  }
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i] - t[i]) < 1e-2, `p[${i}] = ${p[i]}`);
});

test("Adam refuses bad hyper-parameters and mismatched gradients", () => {
  const p = new Float64Array(2);
  assert.throws(() => new Adam([p], { learningRate: 0 }), /learningRate/);
  assert.throws(() => new Adam([p], { beta1: 1 }), /beta1/);
  assert.throws(() => new Adam([p], { beta2: -0.1 }), /beta2/);
  assert.throws(() => new Adam([p]).step([]), /1 gradient arrays/);
  assert.throws(() => new Adam([p]).step([new Float64Array(3)]), /gradient 0 has 3/);
});
