import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SAVED_HISTORY_POINTS } from "../core/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { ByteWriter, seal, unseal } from "../core/codec/mod.ts";
import { RejectTally, ScoreDigest } from "../core/gateway/mod.ts";
import { IncidentLog } from "../core/incidents/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const topicOf = (device: string) => `sensors/${device}/telemetry`;

interface Seen {
  device: string;
  score: number;
  threshold: number;
  anomaly: boolean;
  phase: string;
}

function recordingEngine(config = smallConfig()): { engine: GatewayEngine; seen: Seen[] } {
  const seen: Seen[] = [];
  const engine = new GatewayEngine(validateGatewayConfig(config), {
    score: (device, v) => seen.push({ device, ...v }),
    alert: () => {},
  });
  return { engine, seen };
}

/** Feeds `count` messages to devices a and b from their signals. */
function feed(engine: GatewayEngine, signals: SensorSignal[], count: number, t0: number): void {
  for (let i = 0; i < count; i++) {
    signals.forEach((s, d) => engine.receive(topicOf(d === 0 ? "a" : "b"), s.next(), t0 + i));
    engine.drain();
  }
}

describe("gateway snapshots", () => {
  // Cut in every phase: mapping, training, calibrating, executing.
  for (const cut of [10, 120, SMALL_LEARNING - 30, SMALL_LEARNING + 10]) {
    test(`restored after ${cut} messages per device, every verdict continues exactly`, () => {
      const straight = recordingEngine();
      feed(straight.engine, [new SensorSignal(7), new SensorSignal(8)], cut + 60, 0);
      straight.engine.receive(topicOf("a"), faultPayload(), 1e9);
      straight.engine.drain();

      const first = recordingEngine();
      const signals = [new SensorSignal(7), new SensorSignal(8)];
      feed(first.engine, signals, cut, 0);
      const bytes = first.engine.toBytes(12345);
      const resumed = recordingEngine();
      const report = resumed.engine.restore(bytes);
      assert.deepEqual(report, { savedAt: 12345, devices: 2, skipped: [] });
      assert.deepEqual(resumed.engine.counters(), first.engine.counters());
      assert.deepEqual(
        resumed.engine.devices().map((d) => [d.id, d.phase, d.messages]),
        first.engine.devices().map((d) => [d.id, d.phase, d.messages]),
      );
      feed(resumed.engine, signals, 60, cut);
      resumed.engine.receive(topicOf("a"), faultPayload(), 1e9);
      resumed.engine.drain();
      assert.deepEqual([...first.seen, ...resumed.seen], straight.seen);
      assert.deepEqual(resumed.engine.counters(), straight.engine.counters());
    });
  }

  test("a corrupt or truncated snapshot is refused and changes nothing", () => {
    const { engine } = recordingEngine();
    feed(engine, [new SensorSignal(9)], 50, 0);
    const good = engine.toBytes(1);
    const target = recordingEngine();
    feed(target.engine, [new SensorSignal(10)], 5, 0);
    const before = target.engine.counters();
    const flipped = good.slice();
    flipped[good.length >> 1] ^= 0x10;
    assert.throws(() => target.engine.restore(flipped), /corrupt/);
    assert.throws(() => target.engine.restore(good.subarray(0, good.length - 7)), /truncated/);
    assert.deepEqual(target.engine.counters(), before);
    assert.equal(target.engine.device("a")!.messages, 5);
  });

  test("each device's newest scores come back with it, so charts resume after a restart", () => {
    const config = smallConfig({
      limits: { maxDevices: 8, queueCapacity: 64, historyPoints: 2 * SAVED_HISTORY_POINTS },
    });
    const { engine } = recordingEngine(config);
    feed(engine, [new SensorSignal(12), new SensorSignal(13)], SAVED_HISTORY_POINTS + 40, 0);
    const resumed = recordingEngine(config);
    resumed.engine.restore(engine.toBytes(3));
    for (const id of ["a", "b"]) {
      const saved = engine.device(id)!.history.points(SAVED_HISTORY_POINTS);
      assert.equal(saved.length, SAVED_HISTORY_POINTS);
      assert.deepEqual(resumed.engine.device(id)!.history.points(), saved);
    }
  });

  test("a score history that is not scores skips its device, saying why", () => {
    const { engine } = recordingEngine();
    feed(engine, [new SensorSignal(15)], 30, 0);
    const { payload } = unseal(engine.toBytes(5), "GWAY", [5]);
    const points = engine.device("a")!.history.length;
    const hostile = payload.slice();
    // The newest point's score: its time is 8 bytes before it, the history ends with the point;
    // the device's downsampled scores follow it, then the empty incident log and reject tally.
    const tail = new ByteWriter();
    new ScoreDigest().write(tail);
    new IncidentLog({ quietMs: 1, keep: 1 }).write(tail);
    new RejectTally(1).write(tail);
    new DataView(hostile.buffer).setFloat64(hostile.length - tail.length - 17, NaN, true);
    assert.ok(points > 0);
    const report = recordingEngine().engine.restore(seal("GWAY", 5, hostile));
    assert.equal(report.devices, 0);
    assert.match(report.skipped[0], /device "a": score history point \d+: time \d+, score NaN/);
  });

  test("devices whose stream changed shape are skipped and reported", () => {
    const { engine } = recordingEngine();
    feed(engine, [new SensorSignal(11)], 20, 0);
    const config = smallConfig();
    const stream = (config.streams as Record<string, unknown>[])[0];
    const changed = { ...stream, payload: { format: "json", fields: ["t", "h"] } };
    const other = recordingEngine({ ...config, streams: [changed] });
    const report = other.engine.restore(engine.toBytes(2));
    assert.equal(report.devices, 0);
    assert.equal(report.skipped.length, 1);
    assert.match(report.skipped[0], /device "a": its model has 3 features, stream "env" now has 2/);
  });
});
