/**
 * Half-Space Trees against computations worked by hand from `docs/hst.md`, not against
 * foxtail's own output: two trees of height 2 over two features, a window of 4.
 *
 * The random draws are MT19937's for seed 1 as numpy's `random_sample` gives them (the
 * well-known `np.random.seed(1); np.random.rand(10)`):
 *   u1 0.417022004702574  u2 0.720324493442158  u3 0.000114374817345  u4 0.302332572631840
 *   u5 0.146755890817113  u6 0.092338594768798  u7 0.186260211377671  u8 0.345560727043048
 *   u9 0.396767474230670  u10 0.538816734003357
 *
 * Ranges [0, 10] and [0, 100]. Tree 0: workspace s = (u1, u2); feature 0 spans
 * [u1 − 2(1 − u1), 2 − u1] = [−0.748934, 1.582978]. Root: q = ⌊2·u3⌋ = 0, p = u1, v = 4.17022.
 * Node 1 (left): q = ⌊2·u4⌋ = 0, p = (−0.748934 + 0.417022)/2 = −0.165956, v = −1.65956.
 * Node 2 (right): q = ⌊2·u5⌋ = 0, p = (0.417022 + 1.582978)/2 = 1, v = 10.
 * Tree 1: s = (u6, u7); feature 0 spans [u6 − 2(1 − u6), 2 − u6] = [−1.722984, 1.907661],
 * feature 1 [u7 − 2(1 − u7), 2 − u7]. Root: q = ⌊2·u8⌋ = 0, p = u6, v = 0.923386.
 * Node 1: q = ⌊2·u9⌋ = 0, p = (−1.722984 + 0.092339)/2 = −0.815323, v = −8.15323.
 * Node 2: q = ⌊2·u10⌋ = 1, p = u7, v = 18.6260.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HalfSpaceTrees, readHalfSpaceTrees, writeHalfSpaceTrees } from "../mod.ts";

const U = [
  0.417022004702574,
  0.720324493442158,
  0.000114374817345,
  0.302332572631840,
  0.146755890817113,
  0.092338594768798,
  0.186260211377671,
  0.345560727043048,
  0.396767474230670,
  0.538816734003357,
];

function small(): HalfSpaceTrees {
  return new HalfSpaceTrees({
    n: 2,
    trees: 2,
    height: 2,
    window: 4,
    ranges: [[0, 10], [0, 100]],
    seed: 1,
  });
}

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

// The first window: A, B, C, D.
const A = [5, 50], B = [6, 10], C = [1, 80], D = [7, 30];
// Probes.
const P = [5, 50], Q = [0, 15], R = [8, 15];

describe("Half-Space Trees, worked by hand", () => {
  test("the splits are those of the hand-worked draws", () => {
    const { splitFeature, splitValue } = small().tables();
    assert.deepEqual(Array.from(splitFeature!), [0, 0, 0, 0, 0, 1]);
    const u1 = U[0], u6 = U[5], u7 = U[6];
    const expected = [
      u1 * 10,
      ((u1 - 2 * (1 - u1) + u1) / 2) * 10,
      10,
      u6 * 10,
      ((u6 - 2 * (1 - u6) + u6) / 2) * 10,
      u7 * 100,
    ];
    expected.forEach((v, i) => close(splitValue![i], v, `split ${i}`));
  });

  test("the first window's masses: every node on each path counted once", () => {
    const hst = small();
    for (const x of [A, B, C]) assert.equal(hst.process(x), 0);
    assert.equal(hst.phase, "training");
    assert.equal(hst.learningDone, 3);
    assert.equal(hst.process(D), 0, "no score before a window is complete");
    assert.equal(hst.phase, "executing");
    assert.equal(hst.learningDone, hst.learningTotal);
    const { reference, latest, windows } = hst.tables();
    assert.equal(windows, 1);
    // Tree 0: A, B, D go right then left (x0 < 10): node 5; C goes left then right: node 4.
    // Tree 1: all go right (x0 ≥ 0.92); B has x1 < 18.6 (node 5), A, C, D node 6.
    assert.deepEqual(Array.from(reference!), [4, 1, 3, 0, 1, 3, 0, 4, 0, 4, 0, 0, 1, 3]);
    assert.deepEqual(Array.from(latest!), Array(14).fill(0));
  });

  test("scores: the terminal node's mass × 2^depth, summed, as (maxMass + 1) / (M + 1)", () => {
    const hst = small();
    for (const x of [A, B, C, D]) hst.process(x);
    assert.equal(hst.maxMass, 32); // 2 trees × 4 × 2^2
    assert.equal(hst.sizeLimit, 0.4);
    // P: tree 0 leaf 5 (mass 3, depth 2) 12; tree 1 leaf 6 (3) 12: M = 24.
    assert.equal(hst.mass(P), 24);
    assert.equal(hst.score(P), 33 / 25);
    // Q: tree 0 node 1 (1) → leaf 4 (1): 4; tree 1 node 1 has mass 0 < 0.4: stops, 0 × 2.
    assert.equal(hst.mass(Q), 4);
    assert.equal(hst.score(Q), 33 / 5);
    // R: tree 0 leaf 5: 12; tree 1 leaf 5 (1): 4.
    assert.equal(hst.mass(R), 16);
    assert.equal(hst.score(R), 33 / 17);
    const out = new Float64Array(3);
    hst.scoreMany(Float64Array.from([...P, ...Q, ...R]), out);
    assert.deepEqual(Array.from(out), [33 / 25, 33 / 5, 33 / 17]);
  });

  test("the windows trade places every window: scores use the reference until then", () => {
    const hst = small();
    for (const x of [A, B, C, D]) hst.process(x);
    // The second window P, Q, P, P is scored against the first.
    assert.deepEqual([P, Q, P, P].map((x) => hst.process(x)), [33 / 25, 33 / 5, 33 / 25, 33 / 25]);
    const { reference, windows, latestCount } = hst.tables();
    assert.equal(windows, 2);
    assert.equal(latestCount, 0);
    // Tree 1 now: P ×3 right then node 6; Q left (0 < 0.92), then right (0 ≥ −8.15): node 4.
    assert.deepEqual(Array.from(reference!), [4, 1, 3, 0, 1, 3, 0, 4, 1, 3, 0, 1, 0, 3]);
    // Q: tree 0 leaf 4 (1): 4; tree 1 leaf 4 (1): 4. M = 8.
    assert.equal(hst.score(Q), 33 / 9);
  });

  test("explanation: bits lost beyond halving at each feature's splits, averaged over trees", () => {
    const hst = small();
    for (const x of [A, B, C, D]) hst.process(x);
    // Q: tree 0 root (4) → node 1 (1) on x0: log2(5/2) − 1; node 1 → leaf 4 (1): log2(2/2) − 1
    // < 0, nothing. Tree 1 root (4) → node 1 (0) on x0: log2(5/1) − 1; the path stops there.
    const q = hst.explainFeatures(Q);
    close(q[0], (Math.log2(5 / 2) - 1 + Math.log2(5) - 1) / 2, "Q feature 0");
    assert.equal(q[1], 0);
    // R: only tree 1's node 2 (4) → leaf 5 (1), on x1, loses more than half: log2(5/2) − 1.
    const r = hst.explainFeatures(R);
    assert.equal(r[0], 0);
    close(r[1], (Math.log2(5 / 2) - 1) / 2, "R feature 1");
  });

  test("ranges from a warm-up: min and max of the warm-up, a constant feature ±0.5", () => {
    const hst = new HalfSpaceTrees({ n: 2, trees: 2, height: 2, window: 4, warmUp: 3, seed: 1 });
    assert.equal(hst.phase, "mapping");
    assert.equal(hst.learningTotal, 7);
    for (const x of [[2, 7], [8, 7]]) assert.equal(hst.process(x), 0);
    assert.equal(hst.phase, "mapping");
    assert.equal(hst.learningDone, 2);
    hst.process([5, 7]);
    assert.equal(hst.phase, "training");
    assert.deepEqual(hst.ranges, [[2, 8], [6.5, 7.5]]);
    // The root of tree 0 splits feature 0 at lo + u1 × width; the warm-up counted no mass.
    const { splitValue, latest } = hst.tables();
    close(splitValue![0], 2 + U[0] * 6, "root split");
    assert.ok(latest!.every((m) => m === 0));
  });

  test("a given range is kept; the others are learned", () => {
    const hst = new HalfSpaceTrees({ n: 2, warmUp: 2, ranges: [undefined, [0, 100]] });
    hst.process([3, 500]);
    hst.process([4, -500]);
    assert.deepEqual(hst.ranges, [[3, 4], [0, 100]]);
  });

  test("every range given: no warm-up, trees built at once", () => {
    const hst = small();
    assert.equal(hst.settings.warmUp, 0);
    assert.equal(hst.learningTotal, 4);
  });
});

describe("Half-Space Trees refuse what they cannot take", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["zero trees", { trees: 0 }, /trees must be an integer in \[1, 1024\], got 0/],
    ["a fractional height", { height: 2.5 }, /height must be an integer in \[1, 20\], got 2.5/],
    ["a window beyond 16 bits", { window: 70000 }, /window must be an integer in \[1, 65535\]/],
    ["too many nodes", { trees: 1024, height: 20 }, /at most 4194304 nodes/],
    ["an empty range", { ranges: [[1, 1]] }, /ranges\[0\] must be \[min, max\].*got \[1, 1\]/],
    ["no warm-up without ranges", { warmUp: 0 }, /warmUp must be at least 1/],
    ["a negative seed", { seed: -1 }, /seed must be an integer/],
  ];
  for (const [what, options, message] of cases) {
    test(what, () => {
      assert.throws(() => new HalfSpaceTrees({ n: 1, ...options }), message);
    });
  }

  test("a wrong-length or non-finite instance changes nothing", () => {
    const hst = small();
    for (const x of [A, B]) hst.process(x);
    const before = writeHalfSpaceTrees(hst);
    assert.throws(() => hst.process([1]), /must have 2 features, got 1/);
    assert.throws(() => hst.process([1, NaN]), /feature 1 is NaN/);
    assert.throws(() => hst.learn([1, 2, 3]), /must have 2 features, got 3/);
    assert.deepEqual(writeHalfSpaceTrees(hst), before);
  });
});

describe("Half-Space Trees' one-walk process", () => {
  test("process(x) is score(x) then learn(x), score for score and mass for mass", () => {
    const rows = Array.from({ length: 5000 }, (_, i) => [Math.sin(i / 30), Math.cos(i / 70) * 5]);
    rows[4000] = [40, -40];
    const fused = new HalfSpaceTrees({ n: 2, window: 64, warmUp: 200, seed: 3 });
    const apart = new HalfSpaceTrees({ n: 2, window: 64, warmUp: 200, seed: 3 });
    for (const x of rows) {
      const expected = apart.score(x);
      apart.learn(x);
      assert.equal(fused.process(x), expected);
    }
    assert.deepEqual(writeHalfSpaceTrees(fused), writeHalfSpaceTrees(apart));
  });
});

describe("Half-Space Trees state", () => {
  test("saved at any point and resumed, it continues exactly", () => {
    const rows = Array.from({ length: 3000 }, (_, i) => [Math.sin(i / 40), (i * 7919) % 101]);
    const straight = new HalfSpaceTrees({ n: 2, window: 100, warmUp: 300, seed: 9 });
    const expected = rows.map((x) => straight.process(x));
    for (const cut of [0, 1, 299, 300, 301, 399, 400, 1234]) {
      let hst = new HalfSpaceTrees({ n: 2, window: 100, warmUp: 300, seed: 9 });
      const got = rows.slice(0, cut).map((x) => hst.process(x));
      hst = readHalfSpaceTrees(writeHalfSpaceTrees(hst));
      for (const x of rows.slice(cut)) got.push(hst.process(x));
      assert.deepEqual(got, expected, `cut at ${cut}`);
    }
  });

  test("a flipped byte, a truncation or an inconsistent mass is refused", () => {
    const hst = small();
    for (const x of [A, B, C, D, P]) hst.process(x);
    const bytes = writeHalfSpaceTrees(hst);
    const flipped = bytes.slice();
    flipped[40] ^= 1;
    assert.throws(() => readHalfSpaceTrees(flipped), /corrupt: checksum/);
    assert.throws(() => readHalfSpaceTrees(bytes.subarray(0, 30)), /truncated/);
    // Re-seal an altered leaf mass: the checksum is right, the masses no longer add up.
    const tables = hst.tables();
    tables.reference![5] += 1;
    assert.throws(() => readHalfSpaceTrees(writeHalfSpaceTrees(hst)), /do not add up at node 2/);
    tables.reference![5] -= 1;
    tables.latest![0] += 1;
    assert.throws(() => readHalfSpaceTrees(writeHalfSpaceTrees(hst)), /latest mass of tree 0/);
  });
});
