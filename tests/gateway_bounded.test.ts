import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DropOldestQueue } from "../core/gateway/mod.ts";
import { type AlertEvent, GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { ScoreHistory } from "../core/gateway/mod.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const topicOf = (device: string) => `sensors/${device}/telemetry`;

describe("bounded ingest queue", () => {
  test("overflow drops the oldest messages and counts them", () => {
    const capacity = 5, pushed = 12;
    const q = new DropOldestQueue(capacity);
    for (let i = 0; i < pushed; i++) q.push(`t${i}`, new Uint8Array([i]), i);
    assert.equal(q.length, capacity);
    assert.equal(q.dropped, pushed - capacity);
    const kept: string[] = [];
    while (q.shift((topic, payload, at) => kept.push(`${topic}:${payload[0]}:${at}`)));
    const expected = [];
    for (let i = pushed - capacity; i < pushed; i++) expected.push(`t${i}:${i}:${i}`);
    assert.deepEqual(kept, expected);
    assert.equal(q.length, 0);
  });

  test("the engine counts every message, scores what fits and drops the rest", () => {
    const config = validateGatewayConfig(smallConfig());
    const engine = new GatewayEngine(config);
    const signal = new SensorSignal(1);
    const sent = config.limits.queueCapacity * 3;
    for (let i = 0; i < sent; i++) engine.receive(topicOf("a"), signal.next(), i);
    assert.equal(engine.queued, config.limits.queueCapacity);
    assert.equal(engine.drain(), config.limits.queueCapacity);
    const c = engine.counters();
    assert.equal(c.messages, sent);
    assert.equal(c.dropped, sent - config.limits.queueCapacity);
    assert.equal(c.accepted, config.limits.queueCapacity);
    // The survivors are the newest: the device last saw the last message's time.
    assert.equal(engine.device("a")!.lastSeen, sent - 1);
  });
});

describe("device table", () => {
  test("beyond maxDevices the least recently seen device is evicted and counted", () => {
    const config = validateGatewayConfig(smallConfig());
    const max = config.limits.maxDevices;
    const engine = new GatewayEngine(config);
    const signal = new SensorSignal(2);
    let t = 0;
    for (let d = 0; d < max; d++) engine.receive(topicOf(`d${d}`), signal.next(), t++);
    engine.receive(topicOf("d0"), signal.next(), t++); // d0 is now the most recent; d1 the least
    const extra = 3;
    for (let d = max; d < max + extra; d++) engine.receive(topicOf(`d${d}`), signal.next(), t++);
    engine.drain();
    assert.equal(engine.deviceCount, max);
    assert.equal(engine.counters().evicted, extra);
    assert.ok(engine.device("d0") !== undefined, "the recently seen d0 was kept");
    for (let d = 1; d <= extra; d++) assert.equal(engine.device(`d${d}`), undefined, `d${d}`);
    assert.equal(engine.devices()[0].id, `d${max + extra - 1}`, "most recent first");
  });

  test("a device id from another stream's topic is refused as a conflict", () => {
    const base = smallConfig();
    const stream = (base.streams as Record<string, unknown>[])[0];
    const other = { ...stream, name: "power", subscribe: "power/+", device: "power/{device}" };
    const engine = new GatewayEngine(validateGatewayConfig({ ...base, streams: [stream, other] }));
    const signal = new SensorSignal(3);
    engine.receive(topicOf("x"), signal.next(), 0);
    engine.receive("power/x", signal.next(), 1);
    engine.receive("power/y", signal.next(), 2);
    engine.drain();
    const c = engine.counters();
    assert.equal(c.accepted, 2);
    assert.equal(c.rejected["stream-conflict"], 1);
    assert.equal(engine.device("y")!.stream, "power");
  });
});

describe("scoring through the engine", () => {
  test("phases advance, an anomaly is flagged with attribution, bad messages are counted", () => {
    const engine = new GatewayEngine(validateGatewayConfig(smallConfig()));
    const phases: string[] = [];
    const alerts: AlertEvent[] = [];
    engine.output = {
      score: (_device, verdict) => {
        if (phases[phases.length - 1] !== verdict.phase) phases.push(verdict.phase);
      },
      alert: (alert) => alerts.push(alert),
    };
    const signal = new SensorSignal(4);
    for (let i = 0; i < SMALL_LEARNING + 20; i++) {
      engine.receive(topicOf("boiler"), signal.next(), i);
      engine.drain();
    }
    assert.deepEqual(phases, ["mapping", "training", "calibrating", "executing"]);
    const normalAlerts = alerts.length;
    engine.receive(topicOf("boiler"), faultPayload(), 1e6);
    engine.receive(topicOf("boiler"), new TextEncoder().encode("{oops"), 1e6 + 1);
    engine.receive(topicOf("bad+id"), signal.next(), 1e6 + 2);
    engine.receive("elsewhere/x", signal.next(), 1e6 + 3);
    engine.drain();
    assert.equal(alerts.length, normalAlerts + 1);
    const alert = alerts[alerts.length - 1];
    assert.equal(alert.device, "boiler");
    assert.ok(alert.score > alert.threshold);
    assert.ok(alert.attribution.features.length > 0);
    assert.ok(alert.attribution.features.every((f) => ["t", "h", "power.v"].includes(f)));
    assert.equal(alert.attribution.rmse, alert.attribution.autoencoders[0].rmse);
    assert.deepEqual(engine.recentAlerts()[0], alert);
    const c = engine.counters();
    assert.equal(c.rejected["not-json"], 1);
    assert.equal(c.rejected["bad-device-id"], 1);
    assert.equal(c.rejected["unmatched-topic"], 1);
    assert.equal(c.anomalies, alerts.length);
    assert.equal(engine.lastRejection!.reason, "unmatched-topic");
  });
});

describe("score history", () => {
  test("keeps the newest points up to its capacity, oldest first", () => {
    const capacity = 4, pushed = 10;
    const h = new ScoreHistory(capacity);
    for (let i = 0; i < pushed; i++) h.push(i, i * 10, i < 5 ? NaN : 1, i === 9);
    const points = h.points();
    assert.equal(points.length, capacity);
    assert.deepEqual(points.map((p) => p.ts), [6, 7, 8, 9]);
    assert.equal(points[3].anomaly, true);
    assert.equal(points[0].threshold, 1);
    assert.deepEqual(h.points(2).map((p) => p.ts), [8, 9]);
  });
});
