import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KitNET } from "../mod.ts";

function trainedModel(): KitNET {
  const k = new KitNET({ n: 3, maxAutoencoderSize: 2, fmGracePeriod: 20, adGracePeriod: 40 });
  for (let i = 0; i < 80; i++) k.process([Math.sin(i), Math.cos(i), i % 7]);
  return k;
}

describe("KitNET rejects bad instances before they touch the model", () => {
  const bad: [string, ArrayLike<number>, RegExp][] = [
    ["too short", [1, 2], /must have 3 features, got 2/],
    ["too long", [1, 2, 3, 4], /must have 3 features, got 4/],
    ["NaN", [1, NaN, 3], /feature 1 is NaN/],
    ["+Infinity", [Infinity, 2, 3], /feature 0 is Infinity/],
    ["-Infinity", [1, 2, -Infinity], /feature 2 is -Infinity/],
    ["a string", [1, "2" as unknown as number, 3], /feature 1 is "2"/],
    ["undefined", [1, 2, undefined as unknown as number], /feature 2 is undefined/],
  ];
  for (const phase of ["mapping", "training", "executing"] as const) {
    for (const [what, x, message] of bad) {
      test(`${what} during ${phase}: RangeError naming it, model unchanged`, () => {
        const k = new KitNET({ n: 3, maxAutoencoderSize: 2, fmGracePeriod: 20, adGracePeriod: 40 });
        const steps = { mapping: 5, training: 30, executing: 80 }[phase];
        for (let i = 0; i < steps; i++) k.process([Math.sin(i), Math.cos(i), i % 7]);
        assert.equal(k.phase, phase);
        const before = k.toBytes();
        assert.throws(
          () => k.process(x),
          (e: Error) => e instanceof RangeError && message.test(e.message),
        );
        assert.throws(() => k.train(x), RangeError);
        assert.deepEqual(k.toBytes(), before, "the model changed");
        if (phase === "executing") {
          assert.throws(() => k.execute(x), RangeError);
          assert.throws(() => k.explain(x), RangeError);
          assert.deepEqual(k.toBytes(), before, "the model changed");
        }
      });
    }
  }

  test("a non-array is a TypeError", () => {
    const k = new KitNET({ n: 3 });
    assert.throws(() => k.process(null as unknown as number[]), TypeError);
    assert.throws(() => k.process(5 as unknown as number[]), TypeError);
  });

  test("scoring before the map exists says how much mapping is left", () => {
    const k = new KitNET({ n: 3, fmGracePeriod: 10, adGracePeriod: 10 });
    assert.throws(() => k.execute([1, 2, 3]), /11 mapping instances to go/);
  });
});

describe("KitNET options are checked", () => {
  const cases: [string, object, RegExp][] = [
    ["n 0", { n: 0 }, /n must be an integer ≥ 1, got 0/],
    ["n 2.5", { n: 2.5 }, /n must be an integer/],
    ["adGracePeriod 0", { n: 2, adGracePeriod: 0 }, /adGracePeriod must be an integer ≥ 1, got 0/],
    ["fmGracePeriod -1", { n: 2, fmGracePeriod: -1 }, /fmGracePeriod must be an integer ≥ 0/],
    ["learningRate 0", { n: 2, learningRate: 0 }, /learningRate must be > 0, got 0/],
    ["hiddenRatio NaN", { n: 2, hiddenRatio: NaN }, /hiddenRatio must be > 0, got NaN/],
    ["map index out of range", { n: 2, featureMap: [[0, 2]] }, /featureMap\[0\]\[1\] is 2/],
    ["empty cluster", { n: 2, featureMap: [[0], []] }, /featureMap\[1\] must be a non-empty/],
  ];
  for (const [what, options, message] of cases) {
    test(what, () => assert.throws(() => new KitNET(options as { n: number }), message));
  }

  test("maxAutoencoderSize is clamped to [1, n] as the reference does", () => {
    assert.equal(new KitNET({ n: 5, maxAutoencoderSize: 0 }).maxAutoencoderSize, 1);
    assert.equal(new KitNET({ n: 5, maxAutoencoderSize: 50 }).maxAutoencoderSize, 5);
  });
});

describe("KitNET phases and explanation", () => {
  test("phases follow the grace periods; the first score comes at FM + AD + 1", () => {
    const k = new KitNET({ n: 3, fmGracePeriod: 20, adGracePeriod: 40 });
    const phases: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 70; i++) {
      phases.push(k.phase);
      scores.push(k.process([Math.sin(i), Math.cos(i), i % 7]));
    }
    assert.equal(phases.lastIndexOf("mapping"), 20);
    assert.equal(phases.indexOf("training"), 21);
    assert.equal(phases.indexOf("executing"), 61);
    assert.equal(scores.findIndex((s) => s > 0), 61);
    assert.equal(k.remainingGrace, 0);
  });

  test("explain gives the score and each autoencoder's features and RMSE, learning nothing", () => {
    const k = trainedModel();
    const before = k.toBytes();
    const x = [0.5, -0.2, 30]; // far outside the third feature's range
    const e = k.explain(x);
    assert.deepEqual(k.toBytes(), before, "explain changed the model");
    assert.deepEqual(e.autoencoders.map((a) => a.features), k.featureMap);
    const worst = e.autoencoders.reduce((a, b) => (a.rmse > b.rmse ? a : b));
    assert.ok(worst.features.includes(2), "the autoencoder reading feature 2 raised it");
    const executedBefore = k.executed;
    assert.equal(k.execute(x), e.score);
    assert.equal(k.executed, executedBefore + 1);
  });
});
