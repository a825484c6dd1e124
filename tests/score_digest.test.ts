/**
 * The downsampled scores: the last hour in 30 s buckets and the last day in 5 min buckets,
 * each the min, mean and max of its scores (or learning), in fixed rings, saved with the
 * device, and served by `/api/devices/:id/history`.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ByteReader, ByteWriter } from "../core/codec/mod.ts";
import { DIGEST_RANGES, ScoreDigest } from "../core/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { OfflineGateway } from "./support/dashboard_fixtures.ts";
import { SensorSignal, SMALL_LEARNING, smallConfig } from "./support/gateway_fixtures.ts";

const T0 = 1_800_000_000_000; // a multiple of 5 minutes, so buckets start at T0

function roundTrip(digest: ScoreDigest): ScoreDigest {
  const w = new ByteWriter();
  digest.write(w);
  const r = new ByteReader(w.finish(), "digest");
  const copy = ScoreDigest.read(r);
  assert.equal(r.remaining, 0);
  return copy;
}

describe("score digest", () => {
  test("each bucket's min, mean and max; learning buckets marked; gaps left out", () => {
    const d = new ScoreDigest();
    d.push(T0, 0, true);
    d.push(T0 + 10_000, 0, true);
    d.push(T0 + 30_000, 1, false);
    d.push(T0 + 40_000, 4, false);
    d.push(T0 + 50_000, 0.25, false);
    d.push(T0 + 150_000, 2, false); // buckets 2 to 4 have nothing
    assert.deepEqual(d.points("hour"), [
      { ts: T0, min: null, mean: null, max: null, learning: true },
      { ts: T0 + 30_000, min: 0.25, mean: 1.75, max: 4, learning: false },
      { ts: T0 + 150_000, min: 2, mean: 2, max: 2, learning: false },
    ]);
    // The day's first bucket holds all of them; scores win over learning.
    assert.deepEqual(d.points("day"), [
      { ts: T0, min: 0.25, mean: 1.8125, max: 4, learning: false },
    ]);
  });

  test("a ring of fixed size: only the last hour and the last day are kept", () => {
    const d = new ScoreDigest();
    const { hour, day } = DIGEST_RANGES;
    for (let k = 0; k < 2 * day.buckets; k++) d.push(T0 + k * day.bucketMs, k + 1, false);
    const days = d.points("day");
    assert.equal(days.length, day.buckets);
    assert.equal(days[0].ts, T0 + day.buckets * day.bucketMs);
    const hours = d.points("hour");
    assert.equal(hours.length, hour.buckets * hour.bucketMs / day.bucketMs);
    assert.equal(hours.at(-1)!.max, 2 * day.buckets);
  });

  test("a clock set back counts in the newest bucket, never rewriting the past", () => {
    const d = new ScoreDigest();
    d.push(T0 + 60_000, 1, false);
    d.push(T0, 3, false);
    assert.deepEqual(d.points("hour"), [
      { ts: T0 + 60_000, min: 1, mean: 2, max: 3, learning: false },
    ]);
  });

  test("written and read back, it goes on where it was; a hostile one is refused", () => {
    const d = new ScoreDigest();
    d.push(T0, 0, true);
    d.push(T0 + 30_000, 2, false);
    const copy = roundTrip(d);
    assert.deepEqual(copy.points("hour"), d.points("hour"));
    d.push(T0 + 31_000, 4, false);
    copy.push(T0 + 31_000, 4, false);
    assert.deepEqual(copy.points("day"), d.points("day"));
    const w = new ByteWriter();
    d.write(w);
    const bytes = w.finish();
    // After the range count and each range's header, the first slot's min, mean and max: a
    // scored bucket's mean that is no number is refused.
    const slots = 4 + 2 * (4 + 4 * 8);
    new DataView(bytes.buffer).setFloat32(slots + 4 * (3 * 1 + 1), -Infinity, true);
    assert.throws(
      () => ScoreDigest.read(new ByteReader(bytes, "digest")),
      /bucket 1 holds 2, -Infinity, 4/,
    );
  });
});

describe("the digest in the gateway", () => {
  test("kept in snapshots, served by /api/devices/:id/history", async () => {
    const engine = new GatewayEngine(validateGatewayConfig(smallConfig()));
    const signal = new SensorSignal(5);
    const payload = () => signal.next();
    for (let k = 0; k < SMALL_LEARNING + 50; k++) {
      engine.receive("sensors/a/telemetry", payload(), T0 + k * 10_000);
      engine.drain();
    }
    const hour = engine.deviceDigest("a", "hour")!;
    assert.ok(hour.some((p) => p.learning) && hour.some((p) => !p.learning));
    const resumed = new GatewayEngine(validateGatewayConfig(smallConfig()));
    resumed.restore(engine.toBytes(T0));
    assert.deepEqual(resumed.deviceDigest("a", "day"), engine.deviceDigest("a", "day"));

    const g = new OfflineGateway();
    try {
      g.feed("b", 5);
      const app = createDashboardApp(g.gateway);
      const body = await (await app.request("/api/devices/b/history?range=day")).json();
      assert.equal(body.range, "day");
      assert.equal(body.bucketMs, DIGEST_RANGES.day.bucketMs);
      assert.ok(body.points.length >= 1);
      assert.equal(body.points[0].learning, true);
      const bad = await app.request("/api/devices/b/history?range=week");
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /^range: expected hour or day, got "week"/);
      assert.equal((await app.request("/api/devices/nobody/history")).status, 404);
    } finally {
      g.dispose();
    }
  });
});
