import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { exp, sigmoid } from "../core/math/mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";

const ULP = 2 ** -52;

describe("exp and sigmoid", () => {
  test("exp is within one ulp of Math.exp over the whole range", () => {
    const rng = new MersenneTwister(5);
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = (rng.nextDouble() - 0.5) * 1416; // −708 .. 708
      const expected = Math.exp(x);
      const error = Math.abs(exp(x) - expected) / expected;
      if (error > worst) worst = error;
    }
    assert.ok(worst <= 1.01 * ULP, `worst relative error ${worst}`);
  });

  test("exact and edge values", () => {
    assert.equal(exp(0), 1);
    assert.equal(exp(1), Math.E);
    for (const x of [-800, -708.5, 709.5, 800, Infinity, -Infinity]) {
      assert.equal(exp(x), Math.exp(x));
    }
    assert.ok(Number.isNaN(exp(NaN)));
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(-1000), 0);
    assert.equal(sigmoid(1000), 1);
  });

  test("exp gives the same bits on every engine", () => {
    // Bit patterns this implementation produced under Node; as it uses only IEEE +, −, ×, and
    // table lookups, Deno and Bun must produce exactly the same doubles.
    const expected: [number, string][] = [
      [0.1, "3ff1aec7b35a00d3"],
      [-3.3, "3fa2e259bb85be84"],
      [123.456, "4b11428e1cbc0143"],
      [-0.7071, "3fdf8e7e0238b0f9"],
      [0.00005, "3ff000346e1bbcd2"],
    ];
    const view = new DataView(new ArrayBuffer(8));
    for (const [x, hex] of expected) {
      view.setFloat64(0, exp(x));
      assert.equal(view.getBigUint64(0).toString(16), hex, `exp(${x})`);
    }
  });
});
