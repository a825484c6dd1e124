/**
 * Half-Space Trees in the gateway, through the detector interface only: each device learns its
 * ranges, fills a window, calibrates, then flags and attributes a fault; its state survives a
 * snapshot exactly, in every phase.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type AlertEvent, GatewayEngine } from "../core/gateway/mod.ts";
import { HalfSpaceTrees } from "../mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { faultPayload, SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";

const topicOf = (device: string) => `sensors/${device}/telemetry`;
const MODEL = { type: "hst", warmUp: 80, window: 100, seed: 4 };
/** Warm-up, a window, and the calibration window of 60. */
const LEARNING = 80 + 100 + 60;

function hstConfig(model: Record<string, unknown> = MODEL): Record<string, unknown> {
  const config = smallConfig();
  (config.streams as Record<string, unknown>[])[0].model = model;
  return config;
}

interface Seen {
  device: string;
  score: number;
  anomaly: boolean;
  phase: string;
}

function recordingEngine(config = hstConfig()) {
  const seen: Seen[] = [];
  const alerts: AlertEvent[] = [];
  const engine = new GatewayEngine(validateGatewayConfig(config), {
    score: (device, v) => seen.push({ device, score: v.score, anomaly: v.anomaly, phase: v.phase }),
    alert: (a) => alerts.push(a),
  });
  return { engine, seen, alerts };
}

function feed(engine: GatewayEngine, signals: SensorSignal[], count: number, t0: number): void {
  for (let i = 0; i < count; i++) {
    signals.forEach((s, d) => engine.receive(topicOf(d === 0 ? "a" : "b"), s.next(), t0 + i));
    engine.drain();
  }
}

describe("gateway with Half-Space Trees", () => {
  test("scores exactly as the trees alone; phases in order; a fault is flagged and attributed", () => {
    const { engine, seen, alerts } = recordingEngine();
    const signal = new SensorSignal(3);
    const twin = new SensorSignal(3);
    const direct = new HalfSpaceTrees({ n: 3, warmUp: 80, window: 100, seed: 4 });
    for (let i = 0; i < LEARNING + 400; i++) {
      engine.receive(topicOf("a"), signal.next(), i);
      engine.drain();
      assert.equal(seen[i].score, direct.process(twin.values()), `message ${i}`);
    }
    const phases = [...new Set(seen.map((s) => s.phase))];
    assert.deepEqual(phases, ["mapping", "training", "calibrating", "executing"]);
    assert.equal(seen.findIndex((s) => s.phase === "executing"), LEARNING);
    const falseAlarms = seen.filter((s) => s.anomaly).length;
    assert.ok(falseAlarms <= 8, `${falseAlarms} false alarms in 400 normal messages`);
    const before = alerts.length;
    engine.receive(topicOf("a"), faultPayload(), LEARNING + 400);
    engine.drain();
    assert.equal(alerts.length, before + 1, "the fault is an alert");
    const { attribution, score, threshold } = alerts[before];
    assert.ok(score > threshold);
    // t jumps to 80, v collapses to 0.4, h is as usual: the shares name t and v, not h.
    const shares = Object.fromEntries(attribution.errors!.map((e) => [e.feature, e.squaredError]));
    assert.ok(shares.h < shares.t && shares.h < shares["power.v"], JSON.stringify(shares));
    assert.ok(!attribution.features.includes("h"), attribution.features.join(", "));
  });

  // Cut in every phase: the warm-up, the first window, calibrating, executing.
  for (const cut of [30, 120, 200, 300]) {
    test(`restored after ${cut} messages per device, every verdict continues exactly`, () => {
      const straight = recordingEngine();
      feed(straight.engine, [new SensorSignal(7), new SensorSignal(8)], cut + 80, 0);
      straight.engine.receive(topicOf("a"), faultPayload(), 1e9);
      straight.engine.drain();

      const first = recordingEngine();
      const signals = [new SensorSignal(7), new SensorSignal(8)];
      feed(first.engine, signals, cut, 0);
      const resumed = recordingEngine();
      const report = resumed.engine.restore(first.engine.toBytes(1));
      assert.deepEqual(report, { savedAt: 1, devices: 2, skipped: [] });
      feed(resumed.engine, signals, 80, cut);
      resumed.engine.receive(topicOf("a"), faultPayload(), 1e9);
      resumed.engine.drain();
      assert.deepEqual([...first.seen, ...resumed.seen], straight.seen);
    });
  }

  test("a KitNET device's snapshot is skipped by an hst stream, with the reason", () => {
    const kitnet = new GatewayEngine(validateGatewayConfig(smallConfig()));
    kitnet.receive(topicOf("a"), new SensorSignal(1).next(), 0);
    kitnet.drain();
    const report = recordingEngine().engine.restore(kitnet.toBytes(1));
    assert.equal(report.devices, 0);
    assert.deepEqual(report.skipped, [
      'device "a": its state is of a kitnet model, stream "env" now uses hst',
    ]);
  });

  test("given ranges skip the warm-up; a range of an unknown input names its key", () => {
    const { engine, seen } = recordingEngine(hstConfig({
      type: "hst",
      window: 50,
      ranges: { t: [15, 30], h: [30, 60], "power.v": [3, 3.6] },
    }));
    feed(engine, [new SensorSignal(1)], 51, 0);
    assert.equal(seen[0].phase, "training");
    assert.equal(seen[50].phase, "calibrating");
    assert.throws(
      () => recordingEngine(hstConfig({ type: "hst", ranges: { pressure: [0, 1] } })),
      /streams\[0\]\.model\.ranges\.pressure: stream "env" has no input "pressure" \(its inputs: t, h, power\.v\)/,
    );
  });
});
