// A refused payload names its topic and device: counted by sender in the engine (a bounded
// table), logged by the runner (rate-limited per reason), served by the API and /metrics, shown
// on the device card.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayEngine, REJECT_TEXT_KEPT, type Rejection } from "../core/gateway/mod.ts";
import { GatewayRunner, RejectionLog, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { dashboardScript } from "../adapters/dashboard/page_script.ts";
import { parsePrometheusText } from "./support/prometheus_text.ts";
import { OfflineGateway } from "./support/dashboard_fixtures.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";

const topicOf = (device: string) => `sensors/${device}/telemetry`;
const text = (s: string) => new TextEncoder().encode(s);

describe("reject counts by sender", () => {
  test("bad payloads from a held and an unknown device, counted by device and reason", () => {
    const rejections: Rejection[] = [];
    const engine = new GatewayEngine(validateGatewayConfig(smallConfig()), {
      score: () => {},
      alert: () => {},
      reject: (r) => rejections.push({ ...r }),
    });
    const signal = new SensorSignal(3);
    for (let i = 0; i < 5; i++) engine.receive(topicOf("boiler"), signal.next(), i);
    engine.receive(topicOf("boiler"), text("{oops"), 10);
    engine.receive(topicOf("boiler"), text('{"t": 1, "h": 2}'), 11);
    for (let i = 0; i < 3; i++) engine.receive(topicOf("ghost"), text("[1, 2]"), 20 + i);
    engine.receive("elsewhere/x", signal.next(), 30);
    engine.receive(topicOf("bad+id"), signal.next(), 31);
    const big = text(" ".repeat(engine.config.limits.maxPayloadBytes + 1));
    engine.drain();
    engine.receive(topicOf("ghost"), big, 32); // refused before the queue, still by device

    assert.equal(engine.deviceRejections("boiler"), 2);
    assert.equal(engine.deviceRejections("ghost"), 4);
    assert.equal(engine.device("ghost"), undefined, "never held: every payload was refused");
    const [boiler] = engine.devices();
    assert.equal(boiler.id, "boiler");
    assert.equal(boiler.rejected, 2);
    assert.equal(engine.lastRejection?.device, "ghost");
    assert.equal(engine.lastRejection?.reason, "too-large");

    const sources = engine.rejectSources();
    assert.deepEqual(
      sources.map((s) => [s.device, s.topic, s.rejected, s.lastReason]),
      [
        ["ghost", topicOf("ghost"), 4, "too-large"],
        ["boiler", topicOf("boiler"), 2, "missing-field"],
        [null, topicOf("bad+id"), 1, "bad-device-id"],
        [null, "elsewhere/x", 1, "unmatched-topic"],
      ],
    );
    assert.equal(sources[1].lastProblem, "no field power.v");
    assert.equal(sources[1].lastAt, 11);
    assert.equal(engine.rejectSources(1).length, 1);
    assert.equal(engine.rejectSourcesForgotten, 0);

    assert.equal(rejections.length, 8, "the output hears of every rejection");
    assert.deepEqual(rejections[0], {
      reason: "not-json",
      topic: topicOf("boiler"),
      device: "boiler",
      problem: "expected a JSON object",
    });
    assert.equal(rejections.find((r) => r.reason === "unmatched-topic")?.device, undefined);
  });

  test("the table is bounded: the least recent senders are forgotten and counted", () => {
    const maxDevices = 4;
    const raw = smallConfig({ limits: { maxDevices, queueCapacity: 64, historyPoints: 8 } });
    const engine = new GatewayEngine(validateGatewayConfig(raw));
    const senders = 10;
    for (let d = 0; d < senders; d++) engine.receive(topicOf(`node${d}`), text("nope"), d);
    // A topic of 64 KiB: kept clipped, so a full table stays small.
    engine.receive(`x/${"y".repeat(65_000)}`, text("{}"), senders);
    engine.drain();

    const sources = engine.rejectSources();
    assert.equal(sources.length, maxDevices);
    assert.equal(engine.rejectSourcesForgotten, senders + 1 - maxDevices);
    assert.equal(sources[0].topic.length, REJECT_TEXT_KEPT, "the newest, clipped");
    assert.deepEqual(
      sources.slice(1).map((s) => s.device).sort(),
      ["node7", "node8", "node9"],
    );
    assert.equal(engine.deviceRejections("node0"), 0, "forgotten");
    // The fleet totals still count every one.
    const { rejected } = engine.counters();
    assert.equal(rejected["not-json"], senders);
    assert.equal(rejected["unmatched-topic"], 1);
  });
});

describe("rejection log", () => {
  const rejection = (reason: Rejection["reason"], device?: string): Rejection => ({
    reason,
    topic: topicOf(device ?? "x"),
    device,
    problem: "expected a JSON object",
  });

  test("one line per reason per second, the next one counting those left out", () => {
    const lines: string[] = [];
    let now = 1_000;
    const log = new RejectionLog({ log: (line) => lines.push(line), now: () => now });
    log.record(rejection("not-json", "dev7"));
    assert.deepEqual(lines, [
      "payload rejected (not-json) on sensors/dev7/telemetry, device dev7: " +
      "expected a JSON object",
    ]);
    for (let i = 0; i < 12; i++) {
      now += 50;
      log.record(rejection("not-json", "dev7"));
    }
    // Another reason has its own budget.
    log.record({ reason: "unmatched-topic", topic: "a/b", device: undefined, problem: "none" });
    assert.equal(lines.length, 2);
    assert.equal(lines[1], "payload rejected (unmatched-topic) on a/b: none");
    now = 2_000;
    log.record(rejection("not-json", "dev8"));
    assert.equal(lines.length, 3);
    assert.equal(
      lines[2],
      "payload rejected (not-json) on sensors/dev8/telemetry, device dev8: " +
        "expected a JSON object; 12 more rejections since the last report",
    );
    now += 10;
    log.record(rejection("not-json"));
    log.flush();
    assert.equal(lines[3], "payload rejected (not-json): 1 more since the last report");
    log.flush();
    assert.equal(lines.length, 4, "nothing left to report");
  });

  test("a hostile topic cannot forge a line or flood one", () => {
    const lines: string[] = [];
    const log = new RejectionLog({ log: (line) => lines.push(line), now: () => 0 });
    const topic = `a\nfoxtail run: stopped; ${"z".repeat(10_000)}`;
    log.record({ reason: "unmatched-topic", topic, device: undefined, problem: "p".repeat(5000) });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes("\n"), lines[0]);
    assert.match(lines[0], /^payload rejected \(unmatched-topic\) on "a\\nfoxtail run/);
    assert.ok(lines[0].length < 400, `${lines[0].length} characters`);
  });

  test("the runner logs what its engine refuses, on the runner's clock", () => {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-rejections-"));
    try {
      const lines: string[] = [];
      let now = 5_000;
      const config = validateGatewayConfig(
        smallConfig({ snapshots: { dir, intervalSeconds: 0, keep: 2 } }),
      );
      const gateway = new GatewayRunner(config, { log: (l) => lines.push(l), now: () => now });
      const send = (payload: string) => {
        gateway.engine.receive(topicOf("dev7"), text(payload), now);
        gateway.engine.drain();
      };
      send("{oops");
      send("{oops");
      now += 1_000;
      send("{oops");
      assert.deepEqual(lines, [
        "payload rejected (not-json) on sensors/dev7/telemetry, device dev7: " +
        "expected a JSON object",
        "payload rejected (not-json) on sensors/dev7/telemetry, device dev7: " +
        "expected a JSON object; 1 more rejection since the last report",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rejections on the dashboard", () => {
  test("/api/devices, /api/rejections and /metrics name the rejecting devices", async () => {
    const g = new OfflineGateway();
    try {
      g.feed("boiler", 3);
      g.feed("pump", 3);
      const engine = g.gateway.engine;
      for (let i = 0; i < 2; i++) engine.receive(topicOf("boiler"), text("{"), 100 + i);
      engine.receive(topicOf("ghost"), text("[]"), 200);
      engine.receive("elsewhere/x", text("{}"), 201);
      engine.drain();
      const app = createDashboardApp(g.gateway);

      const { devices } = await (await app.request("/api/devices")).json();
      const rejected = Object.fromEntries(
        devices.map((d: { id: string; rejected: number }) => [d.id, d.rejected]),
      );
      assert.deepEqual(rejected, { boiler: 2, pump: 0 });

      const list = await (await app.request("/api/rejections")).json();
      assert.equal(list.forgotten, 0);
      assert.deepEqual(
        list.sources.map((s: { device: string | null; rejected: number; lastReason: string }) => [
          s.device,
          s.rejected,
          s.lastReason,
        ]),
        [["boiler", 2, "not-json"], [null, 1, "unmatched-topic"], ["ghost", 1, "not-json"]],
      );
      const one = await (await app.request("/api/rejections?limit=1")).json();
      assert.equal(one.sources.length, 1);
      const bad = await app.request("/api/rejections?limit=0");
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /^limit: expected an integer/);

      const families = parsePrometheusText(await (await app.request("/metrics")).text());
      const series = families.get("foxtail_device_rejected_total")!;
      assert.equal(series.type, "counter");
      // Only the devices with rejections, held or not; the unmatched topic is in the totals.
      assert.deepEqual(
        series.samples.map((s) => [s.labels.device, s.value]).sort(),
        [["boiler", 2], ["ghost", 1]],
      );
      assert.equal(families.get("foxtail_reject_sources_forgotten_total")!.samples[0].value, 0);
      const totals = families.get("foxtail_rejected_total")!.samples;
      assert.equal(totals.find((s) => s.labels.reason === "not-json")?.value, 3);
      assert.equal(totals.find((s) => s.labels.reason === "unmatched-topic")?.value, 1);
    } finally {
      g.dispose();
    }
  });

  // The page itself runs in headless Chromium in dashboard_page.test.ts; this checks the script
  // the page embeds renders the field, hidden while the count is 0.
  test('the device card\'s script renders an "n rejected" field, hidden at 0', () => {
    const source = dashboardScript.toString();
    assert.match(source, /setAttribute\("data-field", "rejected"\)/);
    assert.match(source, /count\(s\.rejected\) \+ " rejected"/);
    assert.match(source, /rejected\.hidden = !\(s\.rejected > 0\)/);
  });
});

describe("reject counts in snapshots", () => {
  test("each sender's count, topic and last reason come back after a restart", () => {
    const config = validateGatewayConfig(smallConfig());
    const engine = new GatewayEngine(config);
    const bad = new TextEncoder().encode("{not json");
    for (let k = 0; k < 3; k++) engine.receive("sensors/kiln/telemetry", bad, 1000 + k);
    engine.receive("elsewhere/x", bad, 2000);
    engine.drain();
    const resumed = new GatewayEngine(config);
    resumed.restore(engine.toBytes(3000));
    assert.deepEqual(resumed.rejectSources(), engine.rejectSources());
    assert.equal(resumed.rejectSources()[0].rejected, 3);
    assert.equal(resumed.rejectSourcesForgotten, engine.rejectSourcesForgotten);
  });
});
