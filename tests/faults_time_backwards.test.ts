// Fault: timestamps that jump backwards (and forwards, and stand still), on every time source:
// a payload timestamp in milliseconds (JSON) or seconds (CSV) with damped features, and the
// arrival time with damped and with raw features. A sensor whose clock resets, an NTP
// correction, a replayed buffer: none may put a NaN or an Infinity anywhere, crash the gateway,
// or leave a snapshot that cannot be restored.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { TEST_TIMEOUT_MS, until } from "./support/faults.ts";
import { parsePrometheusText } from "./support/prometheus_text.ts";
import { SensorSignal, SMALL_LEARNING, smallConfig } from "./support/gateway_fixtures.ts";

const FIELDS = ["t", "h", "power.v"];

/** Streams on every time source, each on its own topic: `<source>/{device}`. */
function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = smallConfig(overrides);
  const stream = (base.streams as Record<string, unknown>[])[0];
  const make = (name: string, payload: Record<string, unknown>, features = "damped") => ({
    ...stream,
    name,
    subscribe: `${name}/+`,
    device: `${name}/{device}`,
    payload,
    features,
  });
  return {
    ...base,
    streams: [
      make("payload-ms", { format: "json", fields: FIELDS, timestampField: "ts" }),
      make("payload-s", {
        format: "csv",
        fields: ["ts", "t", "h", "v"],
        timestampField: "ts",
        timestampUnit: "s",
      }),
      make("arrival", { format: "json", fields: FIELDS }),
      make("raw", { format: "json", fields: FIELDS }, "raw"),
    ],
  };
}

const STREAMS = ["payload-ms", "payload-s", "arrival", "raw"] as const;

/** A payload of `stream` with `values` and (for the payload-time streams) time `ms`. */
function payload(stream: string, [t, h, v]: number[], ms: number): Uint8Array {
  const text = stream === "payload-s" ? `${ms / 1000},${t},${h},${v}` : JSON.stringify(
    stream === "payload-ms" ? { t, h, power: { v }, ts: ms } : { t, h, power: { v } },
  );
  return new TextEncoder().encode(text);
}

/**
 * Message times (ms): learning at one a second, then each jump followed by a few normal steps.
 * `extreme` adds jumps to ±1e90 ms, far beyond any clock yet inside the accepted ±1e100.
 */
function schedule(extreme: boolean): number[] {
  const times: number[] = [];
  let ms = 1.7e12;
  const step = (count: number) => {
    for (let i = 0; i < count; i++) times.push(ms += 1000);
  };
  const jump = (to: number, after = 5) => {
    ms = to;
    times.push(ms);
    step(after);
  };
  step(SMALL_LEARNING + 20);
  jump(ms - 3_600_000); // an hour back (a time zone or NTP correction)
  jump(ms - 365 * 864e5); // a year back
  jump(0); // a clock reset to the epoch
  jump(-5e9); // before it
  for (let i = 0; i < 30; i++) times.push(ms); // the same time, again and again
  jump(ms + 1e9); // far ahead
  for (let i = 0; i < 20; i++) jump(ms + (i % 2 === 0 ? -3_600_000 : 3_600_000), 1);
  if (extreme) {
    jump(1e90);
    jump(-1e90);
    jump(1e90, 0);
    jump(-1e90, 0);
  }
  jump(1.7e12 + 5e6, 20); // back to normal pace
  return times;
}

/** Fails on any number in `value` (deeply) that is not finite; `null` is allowed where listed. */
function assertFinite(value: unknown, where: string, nullable: ReadonlySet<string>): void {
  const visit = (v: unknown, path: string, key: string) => {
    if (typeof v === "number") assert.ok(Number.isFinite(v), `${where}${path} is ${v}`);
    else if (v === null) assert.ok(nullable.has(key), `${where}${path} is null`);
    else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`, key));
    else if (typeof v === "object") {
      for (const [k, x] of Object.entries(v as object)) visit(x, `${path}.${k}`, k);
    }
  };
  visit(value, "", "");
}

// A threshold before calibration, and a device's open incident, mute, and an incident's close
// and acknowledgement while there is none.
const NULLABLE = new Set(["threshold", "incident", "mutedUntil", "closedAt", "acknowledgedAt"]);

/** The device of stream `i`: one per stream (a device belongs to one stream). */
const deviceOf = (i: number) => `d${i}`;

/** Feeds message `k` of `times` to every stream's device. */
function feed(engine: GatewayEngine, times: number[], k: number, signals: SensorSignal[]): void {
  STREAMS.forEach((stream, i) => {
    // Arrival time follows the jumps on the arrival streams; payload-time streams arrive steadily.
    const arrival = stream === "arrival" || stream === "raw" ? times[k] : 1.7e12 + k;
    engine.receive(
      `${stream}/${deviceOf(i)}`,
      payload(stream, signals[i].values(), times[k]),
      arrival,
    );
  });
}

interface Seen {
  device: string;
  score: number;
  threshold: number;
  anomaly: boolean;
  phase: string;
}

/** An engine whose every verdict and alert is checked for non-finite numbers and recorded. */
function checkedEngine(cfg: ReturnType<typeof validateGatewayConfig>): {
  engine: GatewayEngine;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const engine = new GatewayEngine(cfg, {
    score: (device, v) => {
      assert.ok(Number.isFinite(v.score) && v.score >= 0, `${device}: score ${v.score}`);
      // NaN stands for "no threshold yet", and only before the device executes.
      if (v.phase === "executing") {
        assert.ok(Number.isFinite(v.threshold), `${device}: threshold ${v.threshold}`);
      }
      const input = engine.device(device)!.input!;
      for (let f = 0; f < input.length; f++) {
        assert.ok(Number.isFinite(input[f]), `${device}: feature ${f} is ${input[f]}`);
      }
      seen.push({
        device,
        score: v.score,
        threshold: v.threshold,
        anomaly: v.anomaly,
        phase: v.phase,
      });
    },
    alert: (alert) => assertFinite(alert, `alert of ${alert.device}`, new Set()),
  });
  return { engine, seen };
}

describe("fault: timestamps that jump backwards", () => {
  test("the engine: every jump on every time source gives finite features, scores, summaries and snapshots", () => {
    const cfg = validateGatewayConfig(
      config({ limits: { maxDevices: 8, queueCapacity: 64, historyPoints: 64 } }),
    );
    const { engine, seen } = checkedEngine(cfg);
    const times = schedule(true);
    const signals = STREAMS.map((_, i) => new SensorSignal(40 + i));
    // Cut the run in two around the jumps: the second part also runs on a restored copy.
    const cut = SMALL_LEARNING + 60;
    for (let k = 0; k < cut; k++) {
      feed(engine, times, k, signals);
      assert.equal(engine.drain(), STREAMS.length, `message ${k}`);
    }
    const twin = checkedEngine(cfg);
    assert.equal(twin.engine.restore(engine.toBytes(1.7e12)).devices, STREAMS.length);
    const twinSignals = STREAMS.map((_, i) => {
      const signal = new SensorSignal(40 + i);
      for (let k = 0; k < cut; k++) signal.values();
      return signal;
    });
    const before = seen.length;
    for (let k = cut; k < times.length; k++) {
      feed(engine, times, k, signals);
      feed(twin.engine, times, k, twinSignals);
      assert.equal(engine.drain(), STREAMS.length, `message ${k}`);
      assert.equal(twin.engine.drain(), STREAMS.length, `message ${k} (restored)`);
    }
    // The restored copy went through the same jumps with exactly the same verdicts.
    assert.deepEqual(twin.seen, seen.slice(before));

    const counters = engine.counters();
    assert.equal(counters.accepted, times.length * STREAMS.length, JSON.stringify(counters));
    assert.equal(seen.length, counters.accepted);
    assertFinite(counters, "counters", new Set());
    assertFinite(engine.devices(), "devices", NULLABLE);
    STREAMS.forEach((stream, i) => {
      const device = engine.device(deviceOf(i))!;
      assert.equal(device.phase, "executing", stream);
      assertFinite(device.history.points(), `${stream} history`, NULLABLE);
      assertFinite(device.attribution(), `${stream} attribution`, new Set());
    });
    assertFinite(engine.recentAlerts(), "alerts", new Set());
    // A snapshot taken after every jump, by a clock reset to the epoch, restores (restoring
    // refuses non-finite windows and times).
    const last = checkedEngine(cfg).engine;
    assert.equal(last.restore(engine.toBytes(0)).devices, STREAMS.length);
  });

  test(
    "the running gateway: an arrival clock jumping backwards over MQTT, the published scores, the dashboard and a restart",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const broker = await startBroker();
      const dir = mkdtempSync(join(tmpdir(), "foxtail-time-backwards-"));
      // The arrival clock: real clock values, set back and forth as NTP or a dead RTC battery does.
      let clock = 1.7e12;
      const raw = config({
        mqtt: { url: broker.url, topicPrefix: "ft" },
        snapshots: { dir, intervalSeconds: 0, keep: 2 },
        limits: { maxDevices: 8, queueCapacity: 1024, historyPoints: 64 },
      });
      const cfg = validateGatewayConfig(raw);
      const logs: string[] = [];
      let gateway = new GatewayRunner(cfg, { log: (l) => logs.push(l), now: () => clock });
      const sensor = await mqtt.connectAsync(broker.url);
      // One message at a time, each waited for: Nagle's algorithm would hold each for a delayed ACK.
      (sensor.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      const watcher = await mqtt.connectAsync(broker.url);
      const published: { topic: string; body: Record<string, unknown> }[] = [];
      watcher.on("message", (topic, body) => {
        // JSON.parse fails on a NaN or Infinity written into the hand-built score text.
        published.push({ topic, body: JSON.parse(body.toString()) });
      });
      await watcher.subscribeAsync("ft/+/score");
      await watcher.subscribeAsync("ft/+/alert");
      // Resolves once the gateway has scored `count` messages (an event, not a poll: ~2,000 waits).
      let scored = 0;
      let waiting: { count: number; resolve: () => void } | undefined;
      gateway.subscribe((event) => {
        if (event.type !== "score") return;
        scored++;
        if (waiting !== undefined && scored >= waiting.count) waiting.resolve();
      });
      const scoredUpTo = (count: number) =>
        scored >= count ? Promise.resolve() : new Promise<void>((resolve) => {
          const timer = setTimeout(() => resolve(), 20_000);
          waiting = {
            count,
            resolve: () => {
              clearTimeout(timer);
              waiting = undefined;
              resolve();
            },
          };
        }).then(() => assert.ok(scored >= count, `timed out waiting for score ${count}`));
      try {
        gateway.start();
        await gateway.link.whenConnected();
        await until(
          () => logs.filter((l) => /mqtt: subscribed/.test(l)).length === 4,
          "subscriptions",
        );
        const times = schedule(false);
        const signals = STREAMS.map((_, i) => new SensorSignal(60 + i));
        let sent = 0;
        for (let k = 0; k < times.length; k++) {
          // Each arrival reads the clock, set to this message's time before it is published.
          clock = times[k];
          for (const [i, stream] of STREAMS.entries()) {
            sensor.publish(
              `${stream}/${deviceOf(i)}`,
              Buffer.from(payload(stream, signals[i].values(), times[k])),
            );
            sent++;
          }
          // The clock is read when a message arrives: wait for its score before moving the clock
          // (while learning, ten steps at a time share one arrival time, which is quicker).
          if (k >= SMALL_LEARNING || k % 10 === 9) await scoredUpTo(sent);
        }
        await until(
          () => published.filter((p) => p.topic.endsWith("/score")).length === sent,
          "every score",
        );
        for (const { topic, body } of published) assertFinite(body, topic, NULLABLE);
        const status = gateway.status();
        assert.equal(status.counters.accepted, sent);
        STREAMS.forEach((stream, i) => {
          assert.equal(gateway.engine.device(deviceOf(i))!.phase, "executing", stream);
        });

        const app = createDashboardApp(gateway);
        assertFinite(
          await (await app.request("/api/status")).json(),
          "/api/status",
          new Set(["lastSnapshotAt", "lastSnapshotError"]),
        );
        assertFinite(
          await (await app.request("/api/devices")).json(),
          "/api/devices",
          NULLABLE,
        );
        for (let i = 0; i < STREAMS.length; i++) {
          const url = `/api/devices/${deviceOf(i)}/scores`;
          assertFinite(await (await app.request(url)).json(), url, NULLABLE);
        }
        // Every sample value finite (a histogram's `le="+Inf"` bucket label is not a value).
        const metrics = parsePrometheusText(await (await app.request("/metrics")).text());
        for (const family of metrics.values()) {
          for (const sample of family.samples) {
            assert.ok(Number.isFinite(sample.value), `${sample.name} ${JSON.stringify(sample)}`);
          }
        }

        // Stopped at a clock set back to 1970, restarted at the right time: resumes cleanly.
        clock = 0;
        await gateway.stop();
        clock = 1.7e12 + 1e7;
        gateway = new GatewayRunner(cfg, { log: (l) => logs.push(l), now: () => clock });
        gateway.start();
        assert.ok(
          logs.some((l) => l.startsWith(`snapshot: resumed ${STREAMS.length} device(s)`)),
          logs.join("\n"),
        );
        await gateway.link.whenConnected();
      } finally {
        await gateway.stop();
        await watcher.endAsync(true);
        await sensor.endAsync(true);
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
