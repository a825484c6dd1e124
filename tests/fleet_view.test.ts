/**
 * The fleet view at scale: `/api/devices` pages (limit, offset, state, search) with alerting
 * devices first and the fleet's counts per state; an event stream follows only the devices it
 * names; `/metrics` gives per-device series to a bounded number of devices.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type DeviceSummary, queryDevices } from "../core/gateway/mod.ts";
import {
  createDashboardApp,
  SCORE_EVENT_BURST,
  SCORE_EVENTS_PER_SECOND,
} from "../adapters/dashboard/mod.ts";
import { parsePrometheusText } from "./support/prometheus_text.ts";
import { OfflineGateway, SseReader } from "./support/dashboard_fixtures.ts";

function summary(id: string, state: DeviceSummary["state"]): DeviceSummary {
  return {
    id,
    stream: "s",
    phase: state === "learning" ? "training" : state === "calibrating" ? state : "executing",
    state,
    incident: state === "alerting" ? 1 : null,
    mutedUntil: null,
    progress: 1,
    score: 0,
    threshold: null,
    messages: 1,
    anomalies: 0,
    rejected: 0,
    lastSeen: 0,
  };
}

describe("fleet queries", () => {
  const fleet = [
    summary("b", "normal"),
    summary("Pump-2", "learning"),
    summary("a", "calibrating"),
    summary("pump-1", "alerting"),
    summary("c", "alerting"),
  ];

  test("alerting first, then by id; counts of the whole fleet; pages", () => {
    const all = queryDevices(fleet);
    assert.deepEqual(all.devices.map((d) => d.id), ["c", "pump-1", "Pump-2", "a", "b"]);
    assert.deepEqual(all.states, { alerting: 2, calibrating: 1, learning: 1, normal: 1 });
    assert.equal(all.total, 5);
    const page = queryDevices(fleet, { offset: 2, limit: 2 });
    assert.deepEqual(page.devices.map((d) => d.id), ["Pump-2", "a"]);
    assert.equal(page.total, 5);
    assert.equal(page.offset, 2);
    assert.deepEqual(queryDevices(fleet, { offset: 9 }).devices, []);
  });

  test("by state and by a search in the ids (any case)", () => {
    const alerting = queryDevices(fleet, { state: "alerting" });
    assert.deepEqual(alerting.devices.map((d) => d.id), ["c", "pump-1"]);
    assert.equal(alerting.total, 2);
    assert.equal(alerting.states.normal, 1, "the counts are the fleet's");
    const pumps = queryDevices(fleet, { search: "PUMP" });
    assert.deepEqual(pumps.devices.map((d) => d.id), ["pump-1", "Pump-2"]);
  });
});

describe("the fleet through the dashboard", () => {
  test("/api/devices pages and filters, naming a bad parameter", async () => {
    const g = new OfflineGateway(undefined, undefined, 64);
    try {
      for (let k = 0; k < 30; k++) g.feed(`dev-${String(k).padStart(2, "0")}`);
      g.learn("zz-hot");
      assert.ok(g.fault("zz-hot"));
      const app = createDashboardApp(g.gateway);
      const get = async (path: string) => await (await app.request(path)).json();
      const first = await get("/api/devices?limit=5");
      assert.equal(first.devices.length, 5);
      assert.equal(first.total, 31);
      assert.equal(first.devices[0].id, "zz-hot", "the alerting device comes first");
      assert.equal(first.states.alerting, 1);
      assert.equal(first.states.learning, 30);
      const second = await get("/api/devices?limit=5&offset=5");
      assert.deepEqual(second.devices.map((d: DeviceSummary) => d.id), [
        "dev-04",
        "dev-05",
        "dev-06",
        "dev-07",
        "dev-08",
      ]);
      const found = await get("/api/devices?q=dev-1&state=learning");
      assert.equal(found.total, 10);
      assert.deepEqual((await get("/api/devices?state=alerting")).devices.length, 1);
      for (
        const [query, problem] of [
          ["limit=0", /^limit: expected an integer/],
          ["offset=-1", /^offset: expected a whole number, got "-1"/],
          ["state=broken", /^state: expected one of alerting, calibrating, learning, normal/],
        ] as const
      ) {
        const response = await app.request(`/api/devices?${query}`);
        assert.equal(response.status, 400, query);
        assert.match((await response.json()).error, problem);
      }
    } finally {
      g.dispose();
    }
  });

  test("an event stream that names its devices gets only their scores and states", async () => {
    const shutdown = new AbortController();
    const g = new OfflineGateway();
    try {
      g.feed("a");
      g.feed("b");
      const app = createDashboardApp(g.gateway, { shutdown: shutdown.signal });
      const response = await app.request("/api/events?devices=b");
      const sse = new SseReader(response.body!);
      await sse.until((r) => r.named("status").length > 0, "the first status event");
      assert.deepEqual(sse.named("status")[0].devices.map((d: DeviceSummary) => d.id), ["b"]);
      g.feed("a", 3);
      g.feed("b", 2);
      await sse.until((r) => r.named("score").length === 2, "b's two scores");
      g.feed("b", 1);
      await sse.until((r) => r.named("score").length === 3, "b's third score");
      assert.deepEqual([...new Set(sse.named("score").map((s) => s.device))], ["b"]);
      await sse.cancel();
      const tooMany = Array.from({ length: 201 }, (_, k) => `d${k}`).join(",");
      const refused = await app.request(`/api/events?devices=${tooMany}`);
      assert.equal(refused.status, 400);
      assert.match((await refused.json()).error, /^devices: expected at most 200 ids, got 201/);
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });

  test("a followed device's scores come at a bounded rate: a burst, then 20 a second", async () => {
    const shutdown = new AbortController();
    const g = new OfflineGateway();
    let clock = 1_000_000;
    try {
      g.feed("b");
      const app = createDashboardApp(g.gateway, { shutdown: shutdown.signal, now: () => clock });
      const sse = new SseReader((await app.request("/api/events?devices=b")).body!);
      await sse.until((r) => r.named("status").length > 0, "the first status event");
      const heldBack = async () => {
        const text = await (await app.request("/metrics")).text();
        return parsePrometheusText(text).get("foxtail_dashboard_score_events_held_back_total")!
          .samples[0].value;
      };
      g.feed("b", 60); // sent as the engine scores them: the counter is settled right after
      assert.equal(await heldBack(), 60 - SCORE_EVENT_BURST);
      await sse.until((r) => r.named("score").length === SCORE_EVENT_BURST, "the burst");
      clock += 1000; // a second later: 20 more may go
      g.feed("b", 30);
      assert.equal(await heldBack(), 60 - SCORE_EVENT_BURST + 30 - SCORE_EVENTS_PER_SECOND);
      await sse.until(
        (r) => r.named("score").length === SCORE_EVENT_BURST + SCORE_EVENTS_PER_SECOND,
        "a second's worth",
      );
      // The bucket is empty now, but an anomaly always goes: the chart and the card's count
      // show it as soon as its alert.
      g.learn("b");
      const held = await heldBack();
      assert.ok(g.fault("b"), "the fault raised an alert");
      assert.equal(await heldBack(), held, "the anomaly was not held back");
      await sse.until((r) => r.named("score").some((s) => s.anomaly), "the anomaly's score");
      await sse.cancel();
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });

  test("/metrics: per-device series for at most deviceMetrics devices, the rest counted", async () => {
    const g = new OfflineGateway();
    try {
      for (const id of ["a", "b", "c"]) g.feed(id);
      const metrics = async (deviceMetrics?: number) =>
        parsePrometheusText(
          await (await createDashboardApp(g.gateway, { deviceMetrics }).request("/metrics"))
            .text(),
        );
      const all = await metrics();
      assert.equal(all.get("foxtail_device_score")!.samples.length, 3);
      assert.equal(all.get("foxtail_device_metrics_omitted")!.samples[0].value, 0);
      const one = await metrics(1);
      assert.deepEqual(one.get("foxtail_device_score")!.samples.map((s) => s.labels.device), ["a"]);
      assert.equal(one.get("foxtail_device_metrics_omitted")!.samples[0].value, 2);
      assert.equal(one.get("foxtail_devices")!.samples[0].value, 3, "fleet totals stay");
      const learning = one.get("foxtail_devices_by_state")!.samples.find((s) =>
        s.labels.state === "learning"
      );
      assert.equal(learning?.value, 3);
      const none = await metrics(0);
      assert.equal(none.get("foxtail_device_score")!.samples.length, 0);
    } finally {
      g.dispose();
    }
  });
});
