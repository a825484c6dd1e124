import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LATENCY_BOUNDS_MS, LatencyBuckets, latencyQuantileBound } from "../core/gateway/mod.ts";
import { PrometheusText } from "../adapters/dashboard/mod.ts";
import { checkHistogram, parsePrometheusText } from "./support/prometheus_text.ts";

describe("LatencyBuckets", () => {
  test("each latency lands in the first bucket whose bound holds it", () => {
    const h = new LatencyBuckets();
    for (const ms of [0, 1, 1.5, 2, 7, 10, 10.01, 20_000]) h.record(ms);
    const s = h.summary();
    assert.deepEqual(s.boundsMs, [...LATENCY_BOUNDS_MS]);
    // ≤1: 0 and 1; ≤2: 1.5 and 2; ≤10: 7 and 10; ≤20: 10.01; above 10 s: 20,000.
    const expected = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    expected[0] = 2;
    expected[1] = 2;
    expected[3] = 2;
    expected[4] = 1;
    expected[LATENCY_BOUNDS_MS.length] = 1;
    assert.deepEqual(s.counts, expected);
    assert.equal(s.count, 8);
    assert.equal(s.sumMs, 0 + 1 + 1.5 + 2 + 7 + 10 + 10.01 + 20_000);
    assert.equal(s.p99Ms, null); // the 99th percentile is the 20 s one, above every bound
  });

  test("a clock stepping backwards or a NaN counts as 0, never poisons the sum", () => {
    const h = new LatencyBuckets();
    h.record(-3_600_000);
    h.record(NaN);
    h.record(Infinity);
    const s = h.summary();
    assert.equal(s.counts[0], 2);
    assert.equal(s.counts[LATENCY_BOUNDS_MS.length], 1);
    assert.equal(s.sumMs, 0);
    assert.equal(h.count, 3);
  });

  test("quantile bounds: the bucket where the share is reached", () => {
    const counts = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    assert.ok(Number.isNaN(latencyQuantileBound(counts, 0.5)));
    counts[0] = 98; // ≤ 1 ms
    counts[5] = 1; // ≤ 50 ms
    counts[LATENCY_BOUNDS_MS.length] = 1; // above 10 s
    assert.equal(latencyQuantileBound(counts, 0.5), 1);
    assert.equal(latencyQuantileBound(counts, 0.98), 1);
    assert.equal(latencyQuantileBound(counts, 0.99), 50);
    assert.equal(latencyQuantileBound(counts, 1), Infinity);
    assert.throws(() => latencyQuantileBound(counts, 0), /q must be in \(0, 1\], got 0/);
    // The summary carries the p99 bound: null with nothing counted.
    const h = new LatencyBuckets();
    assert.equal(h.summary().p99Ms, null);
    for (let i = 0; i < 99; i++) h.record(3);
    h.record(12_000);
    assert.equal(h.summary().p99Ms, 5); // 99 of 100 at or under 5 ms
  });

  test("exported as a Prometheus histogram: cumulative buckets, +Inf, sum and count", () => {
    const h = new LatencyBuckets();
    for (const ms of [0.5, 3, 3, 40, 12_000]) h.record(ms);
    const s = h.summary();
    const text = new PrometheusText()
      .histogram("t_seconds", "test", s.boundsMs.map((ms) => ms / 1000), s.counts, s.sumMs / 1000)
      .toString();
    const family = parsePrometheusText(text).get("t_seconds")!;
    assert.equal(family.type, "histogram");
    checkHistogram(family);
    const bucket = (le: string) =>
      family.samples.find((x) => x.name === "t_seconds_bucket" && x.labels.le === le)?.value;
    assert.equal(bucket("0.001"), 1);
    assert.equal(bucket("0.005"), 3);
    assert.equal(bucket("0.05"), 4);
    assert.equal(bucket("10"), 4);
    assert.equal(bucket("+Inf"), 5);
    assert.equal(family.samples.find((x) => x.name === "t_seconds_count")?.value, 5);
    assert.equal(family.samples.find((x) => x.name === "t_seconds_sum")?.value, 12.0465);
    assert.throws(
      () => new PrometheusText().histogram("x", "x", [1, 2], [1, 2], 0),
      /2 bounds need 3 counts/,
    );
  });
});
