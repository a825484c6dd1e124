import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { exp2 } from "../core/math/mod.ts";
import { JoinedKeys } from "../core/packets/mod.ts";
import { MersenneTwister } from "../mod.ts";

describe("exp2, the decay factors' 2^x", () => {
  test("within 2 ulps of Math.pow(2, x) over the decay range, exact at integers", () => {
    const rng = new MersenneTwister(3);
    let worst = 0, at = 0;
    for (let i = 0; i < 200_000; i++) {
      // −λ·Δt: λ in [0.01, 5], Δt from microseconds to minutes.
      const x = -(10 ** (rng.nextDouble() * 8 - 6)) * (0.01 + 5 * rng.nextDouble());
      const expected = Math.pow(2, x);
      const ulps = Math.abs(exp2(x) - expected) / (expected * Number.EPSILON);
      if (ulps > worst) worst = ulps, at = x;
    }
    assert.ok(worst <= 2, `${worst} ulps at x = ${at}`);
    for (const k of [-1019, -52, -1, 0, 1, 52, 1019]) assert.equal(exp2(k), Math.pow(2, k));
  });

  test("outside ±1020, and for NaN and infinities, it is Math.pow", () => {
    for (const x of [-1074, -1030.5, 1030, NaN, -Infinity, Infinity]) {
      assert.ok(Object.is(exp2(x), Math.pow(2, x)), `x = ${x}`);
    }
  });
});

describe("JoinedKeys", () => {
  test("joins like +, returns the remembered string, and starts over when full", () => {
    const keys = new JoinedKeys(3);
    const first = keys.join("10.0.0.1", "80");
    assert.equal(first, "10.0.0.1" + "80");
    assert.equal(keys.join("10.0.0.1", "80"), first);
    assert.equal(keys.join("10.0.0.18", "0"), "10.0.0.180", "no separator, as the reference");
    for (let i = 0; i < 10; i++) assert.equal(keys.join("a", String(i)), `a${i}`);
  });
});
