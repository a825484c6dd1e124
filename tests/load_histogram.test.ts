// The load benchmark's latency histogram and send log: percentiles within the bucket precision,
// and publish times matched by device and sequence number.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LatencyHistogram } from "../bench/load/latency_histogram.ts";
import { SendLog } from "../bench/load/send_log.ts";
import { MersenneTwister } from "../core/math/mod.ts";

describe("LatencyHistogram", () => {
  test("percentiles of a wide sample are within 1.6 % above the exact ones, never below", () => {
    const rng = new MersenneTwister(7);
    const values: number[] = [];
    const h = new LatencyHistogram();
    for (let i = 0; i < 50_000; i++) {
      // Log-uniform from 1 µs to 10 s: every bucket range is used.
      const ms = 10 ** (rng.nextDouble() * 7 - 3);
      values.push(ms);
      h.record(ms);
    }
    values.sort((a, b) => a - b);
    assert.equal(h.count, values.length);
    assert.equal(h.max, values.at(-1));
    for (const p of [1, 10, 50, 90, 99, 99.9, 100]) {
      const exact = values[Math.max(0, Math.ceil((p / 100) * values.length) - 1)];
      const read = h.percentile(p);
      // Microsecond rounding below 128 µs, then 1/64 of a power of two.
      assert.ok(read >= exact - 0.0005, `p${p}: ${read} below ${exact}`);
      assert.ok(read <= exact * (1 + 1 / 64) + 0.0005, `p${p}: ${read} too far above ${exact}`);
    }
  });

  test("empty, negative and huge values; reset forgets", () => {
    const h = new LatencyHistogram();
    assert.ok(Number.isNaN(h.percentile(50)));
    h.record(-3);
    assert.equal(h.percentile(100), 0);
    h.record(1e9); // beyond the last bucket: counted there
    assert.equal(h.count, 2);
    assert.ok(h.percentile(100) > 4e6);
    h.reset();
    assert.equal(h.count, 0);
    assert.ok(Number.isNaN(h.percentile(99)));
  });
});

describe("SendLog", () => {
  test("remembers the newest `capacity` publish times of each device", () => {
    const log = new SendLog(3, 4);
    for (let k = 0; k < 10; k++) assert.equal(log.record(k % 3, 100 + k), Math.floor(k / 3));
    assert.equal(log.total(), 10);
    assert.equal(log.sent(0), 4);
    assert.equal(log.timeOf(0, 3), 109);
    assert.equal(log.timeOf(1, 0), 101);
    assert.ok(Number.isNaN(log.timeOf(1, 3)), "not published yet");
    for (let k = 0; k < 5; k++) log.record(2, 200 + k);
    assert.ok(Number.isNaN(log.timeOf(2, 0)), "beyond the ring");
    assert.equal(log.timeOf(2, 7), 204);
    assert.throws(() => new SendLog(0, 4), /devices must be an integer ≥ 1, got 0/);
  });
});
