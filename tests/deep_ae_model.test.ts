import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeepAutoencoder, PAPER_HIDDEN_LAYERS } from "../core/deep_ae/mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import { type TabularColumn, TabularEncoder } from "../core/deep_ae/mod.ts";

const columns: TabularColumn[] = [
  { name: "a", kind: "numeric" },
  { name: "kind", kind: "categorical" },
  { name: "b", kind: "numeric" },
];

/** Records where b ≈ 2a and the kind follows a's sign: normal structure an autoencoder learns. */
function records(rows: number, seed: number): string[][] {
  const rng = new MersenneTwister(seed);
  const out: string[][] = [];
  for (let i = 0; i < rows; i++) {
    const a = rng.uniform(-1, 1);
    out.push([String(a), a > 0 ? "up" : "down", String(2 * a + rng.uniform(-0.05, 0.05))]);
  }
  return out;
}

function trainedModel(): DeepAutoencoder {
  const train = records(300, 1);
  const encoder = TabularEncoder.fit(columns, train);
  const model = DeepAutoencoder.create({
    inputSize: encoder.outputSize,
    hiddenLayers: [{ units: 6, activation: "tanh" }, { units: 2, activation: "linear" }, {
      units: 6,
      activation: "tanh",
    }],
    seed: 4,
    encoder,
  });
  const x = encoder.encode(train);
  model.train(x, { epochs: 40, batchSize: 20, learningRate: 0.01, validationSplit: 0.2 });
  model.calibrate(model.errors(x), { kind: "quantile", q: 0.99 });
  model.metadata = JSON.stringify({ note: "test" });
  return model;
}

describe("DeepAutoencoder", () => {
  test("the paper's architecture: d → 100 → 50 → 25 → 12 → 25 → 50 → 100 → d", () => {
    const model = DeepAutoencoder.create({ inputSize: 122, seed: 1 });
    assert.deepEqual(model.network.sizes, [122, 100, 50, 25, 12, 25, 50, 100, 122]);
    assert.deepEqual(
      model.network.layers.map((l) => l.activation),
      [...PAPER_HIDDEN_LAYERS.map((l) => l.activation), "linear"],
    );
    // Glorot-uniform: every weight of layer 0 within ±√(6 / (122 + 100)); biases zero.
    const limit = Math.sqrt(6 / 222);
    assert.ok(model.network.kernels[0].every((w) => Math.abs(w) <= limit));
    assert.ok(model.network.kernels[0].some((w) => Math.abs(w) > limit * 0.9));
    assert.ok(model.network.biases.every((b) => b.every((v) => v === 0)));
  });

  test("learns normal records: anomalies score far above the threshold", () => {
    const model = trainedModel();
    const normal = records(50, 9).map((r) => model.scoreRecord(r));
    const flagged = normal.filter((s) => model.isAnomaly(s)).length;
    assert.ok(flagged <= 5, `${flagged} of 50 normal records flagged`);
    // b = −2a breaks the learned relation, and the kind contradicts a's sign.
    const odd = model.scoreRecord(["0.8", "down", "-1.6"]);
    assert.ok(model.isAnomaly(odd), `anomaly ${odd} vs threshold ${model.threshold}`);
  });

  test("save and load: same parameters, encoder, threshold and scores", () => {
    const model = trainedModel();
    const loaded = DeepAutoencoder.fromBytes(model.toBytes());
    assert.equal(loaded.threshold, model.threshold);
    assert.deepEqual(loaded.thresholdRule, { kind: "quantile", q: 0.99 });
    assert.equal(loaded.metadata, model.metadata);
    assert.equal(loaded.seed, 4);
    assert.deepEqual(loaded.network.sizes, model.network.sizes);
    for (const r of records(20, 3)) assert.equal(loaded.scoreRecord(r), model.scoreRecord(r));
    assert.deepEqual(loaded.toBytes(), model.toBytes());
  });

  test("a corrupted, truncated or foreign file is refused", () => {
    const bytes = trainedModel().toBytes();
    const flipped = bytes.slice();
    flipped[100] ^= 1;
    assert.throws(() => DeepAutoencoder.fromBytes(flipped), /deep autoencoder model is corrupt/);
    assert.throws(
      () => DeepAutoencoder.fromBytes(bytes.subarray(0, bytes.length - 9)),
      /deep autoencoder model is truncated/,
    );
    const foreign = bytes.slice();
    foreign.set([75, 78, 69, 84], 4); // "KNET"
    assert.throws(() => DeepAutoencoder.fromBytes(foreign), /holds "KNET" state, expected "DAEM"/);
  });

  test("scoring checks its input and the threshold", () => {
    const model = DeepAutoencoder.create({ inputSize: 3, seed: 2 });
    assert.throws(() => model.scoreRow([1, 2]), /must have 3 features, got 2/);
    assert.throws(() => model.scoreRow([1, NaN, 2]), /feature 1 is NaN/);
    assert.throws(() => model.scoreRecord(["1", "2", "3"]), /no record encoder/);
    assert.throws(() => model.isAnomaly(1), /no threshold yet/);
    assert.throws(() => DeepAutoencoder.create({ inputSize: 3, seed: -1 }), /seed must be/);
  });
});
