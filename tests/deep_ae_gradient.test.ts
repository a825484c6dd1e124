import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type DenseLayerSpec, DenseNetwork } from "../core/deep_ae/mod.ts";
import { rowMeanSquaredErrors, trainDense } from "../core/deep_ae/mod.ts";
import {
  MATMUL_USES_SIMD,
  matmulTransposed,
  matmulTransposedScalar,
  transpose,
} from "../core/math/mod.ts";
import { matmulTransposedSimd } from "../core/math/mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import { portableExp, portableExpm1, portableSigmoid, portableTanh } from "../core/math/mod.ts";

function randomMatrix(rng: MersenneTwister, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

describe("matrix kernels", () => {
  const kernels = [
    ["scalar", matmulTransposedScalar],
    ["WebAssembly SIMD", matmulTransposedSimd],
  ] as const;
  for (const [name, kernel] of kernels) {
    test(`${name} kernel equals the textbook triple loop for every block remainder`, () => {
      assert.ok(kernel !== undefined, "Deno, Bun and Node all have WebAssembly SIMD");
      const rng = new MersenneTwister(7);
      const shapes = [[1, 1, 1], [4, 2, 3], [5, 3, 7], [7, 5, 1], [9, 12, 16], [3, 1, 4], [
        101,
        50,
        25,
      ]];
      for (const [m, n, k] of shapes) {
        const a = randomMatrix(rng, m * k);
        const b = randomMatrix(rng, n * k);
        const c = new Float64Array(m * n + 1).fill(99);
        kernel(a, b, c, m, n, k);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let t = 0; t < k; t++) s += a[i * k + t] * b[j * k + t];
            assert.ok(Math.abs(c[i * n + j] - s) < 1e-12, `${m}×${n}×${k} at ${i},${j}`);
          }
        }
        assert.equal(c[m * n], 99, "nothing written past C");
      }
    });
  }

  test("the SIMD kernel is the one in use", () => {
    assert.ok(MATMUL_USES_SIMD);
    assert.equal(matmulTransposed, matmulTransposedSimd);
  });

  test("transpose", () => {
    const src = Float64Array.of(1, 2, 3, 4, 5, 6);
    const dst = new Float64Array(6);
    transpose(src, dst, 2, 3);
    assert.deepEqual([...dst], [1, 4, 2, 5, 3, 6]);
  });
});

describe("portable math", () => {
  test("exp, expm1, tanh and sigmoid agree with Math to a few ulps", () => {
    const rng = new MersenneTwister(3);
    for (let i = 0; i < 20000; i++) {
      const x = rng.uniform(-40, 40);
      assert.ok(Math.abs(portableExp(x) / Math.exp(x) - 1) < 1e-15, `exp(${x})`);
      const small = x / 200;
      assert.ok(Math.abs(portableExpm1(small) / Math.expm1(small) - 1) < 1e-15, `expm1(${small})`);
      assert.ok(Math.abs(portableTanh(x) - Math.tanh(x)) < 1e-15, `tanh(${x})`);
      assert.ok(Math.abs(portableSigmoid(x) - 1 / (1 + Math.exp(-x))) < 1e-15, `sigmoid(${x})`);
    }
  });

  test("edge values", () => {
    assert.equal(portableExp(0), 1);
    assert.equal(portableExp(710), Infinity);
    assert.equal(portableExp(-746), 0);
    assert.ok(Number.isNaN(portableExp(NaN)));
    assert.equal(portableTanh(0), 0);
    assert.equal(portableTanh(50), 1);
    assert.equal(portableTanh(-50), -1);
    assert.equal(portableSigmoid(-1000), 0);
    assert.equal(portableSigmoid(1000), 1);
  });
});

describe("backpropagation", () => {
  const layers: DenseLayerSpec[] = [
    { units: 5, activation: "tanh" },
    { units: 4, activation: "sigmoid" },
    { units: 3, activation: "relu" },
    { units: 2, activation: "linear" },
    { units: 6, activation: "linear" },
  ];

  /** Loss of one batch: mean squared error to the input plus λ‖W₁‖². */
  function loss(network: DenseNetwork, x: Float64Array, rows: number, lambda: number): number {
    const errors = rowMeanSquaredErrors(network, x);
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += errors[r];
    let penalty = 0;
    for (const w of network.kernels[1]) penalty += w * w;
    return sum / rows + lambda * penalty;
  }

  test("analytic gradients match central finite differences (all activations, L2)", () => {
    const rng = new MersenneTwister(11);
    const network = DenseNetwork.glorot(6, layers, rng);
    for (const bias of network.biases) for (let i = 0; i < bias.length; i++) bias[i] = 0.3;
    const rows = 7;
    const x = randomMatrix(rng, rows * 6);
    const lambda = 0.05;
    // The gradient trainDense computes: ∂MSE/∂output, backpropagated, plus 2λW on kernel 1.
    const workspace = network.workspace(rows);
    workspace.activations[0].set(x);
    const output = network.forward(workspace, rows);
    const delta = workspace.deltas.at(-1)!;
    for (let i = 0; i < rows * 6; i++) delta[i] = 2 * (output[i] - x[i]) / (rows * 6);
    network.backward(workspace, rows);
    const kernel1 = network.kernels[1];
    for (let i = 0; i < kernel1.length; i++) {
      workspace.kernelGradients[1][i] += 2 * lambda * kernel1[i];
    }
    const h = 1e-6;
    let checked = 0;
    for (let l = 0; l < layers.length; l++) {
      for (
        const [params, grads] of [
          [network.kernels[l], workspace.kernelGradients[l]],
          [network.biases[l], workspace.biasGradients[l]],
        ]
      ) {
        for (let i = 0; i < params.length; i++) {
          const saved = params[i];
          params[i] = saved + h;
          const up = loss(network, x, rows, lambda);
          params[i] = saved - h;
          const down = loss(network, x, rows, lambda);
          params[i] = saved;
          const numeric = (up - down) / (2 * h);
          const error = Math.abs(numeric - grads[i]);
          assert.ok(
            error < 1e-7 + 1e-5 * Math.abs(numeric),
            `layer ${l} parameter ${i}: analytic ${grads[i]} vs numeric ${numeric}`,
          );
          checked++;
        }
      }
    }
    assert.equal(checked, network.parameterCount);
  });

  test("trainDense lowers the loss, holds out the last rows, and repeats exactly", () => {
    const run = () => {
      const rng = new MersenneTwister(5);
      const network = DenseNetwork.glorot(6, [
        { units: 8, activation: "tanh" },
        { units: 3, activation: "linear" },
        { units: 6, activation: "linear" },
      ], rng);
      const x = new Float64Array(200 * 6);
      // Rows on a 2-dimensional subspace, so a width-3 bottleneck can reconstruct them.
      for (let r = 0; r < 200; r++) {
        const a = rng.uniform(-1, 1);
        const b = rng.uniform(-1, 1);
        x.set([a, b, a + b, a - b, 2 * a, -b], r * 6);
      }
      const history = trainDense(network, x, {
        epochs: 30,
        batchSize: 16,
        learningRate: 0.01,
        validationSplit: 0.25,
        rng,
      });
      return { network, history };
    };
    const first = run();
    const { history } = first;
    assert.equal(history.trainingRows, 150);
    assert.equal(history.validationRows, 50);
    assert.equal(history.steps, 30 * Math.ceil(150 / 16));
    assert.ok(
      history.loss[29] < history.loss[0] / 5,
      `loss ${history.loss[0]} → ${history.loss[29]}`,
    );
    assert.ok(history.validationLoss[29] < history.validationLoss[0] / 5);
    const second = run();
    assert.deepEqual(second.history.loss, history.loss);
    assert.deepEqual([...second.network.kernels[0]], [...first.network.kernels[0]]);
  });

  test("early stopping restores the best epoch", () => {
    const rng = new MersenneTwister(2);
    const network = DenseNetwork.glorot(3, [{ units: 3, activation: "linear" }], rng);
    const x = randomMatrix(rng, 40 * 3);
    // A huge step makes the validation loss bounce, so patience 2 must stop training.
    const history = trainDense(network, x, {
      epochs: 200,
      batchSize: 4,
      learningRate: 0.5,
      validationSplit: 0.5,
      rng,
      earlyStopping: { patience: 2 },
    });
    assert.ok(history.stoppedEarly);
    const best = Math.min(...history.validationLoss);
    assert.equal(history.validationLoss[history.finalEpoch - 1], best);
    const errors = rowMeanSquaredErrors(network, x.subarray(60));
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    assert.ok(Math.abs(mean - best) < 1e-12, `restored loss ${mean} vs best ${best}`);
  });

  test("bad options name the field", () => {
    const network = new DenseNetwork(2, [{ units: 2, activation: "linear" }]);
    const x = new Float64Array(8);
    assert.throws(() => trainDense(network, x, { epochs: 0, batchSize: 2 }), /epochs/);
    assert.throws(
      () => trainDense(network, x, { epochs: 1, batchSize: 2, validationSplit: 1 }),
      /validationSplit/,
    );
    assert.throws(
      () =>
        trainDense(network, x, { epochs: 1, batchSize: 2, penalties: [{ layer: 3, lambda: 1 }] }),
      /penalties\[0\]\.layer/,
    );
    assert.throws(
      () => new DenseNetwork(2, [{ units: 2, activation: "softmax" as "linear" }]),
      /layers\[0\]\.activation/,
    );
  });
});
