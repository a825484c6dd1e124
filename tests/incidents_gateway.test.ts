/**
 * Incidents through the running gateway: MQTT `…/incident` open and close messages, the
 * retained `…/state` a late subscriber finds, Home Assistant's discovery, `/api/incidents`,
 * acknowledging and muting (token-protected), the Prometheus counts, and a restart that keeps
 * them. The gateway's clock is the test's, so the quiet period passes when the test says.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { GatewayRunner, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { parsePrometheusText } from "./support/prometheus_text.ts";
import { until } from "./support/dashboard_fixtures.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const TOKEN = "incident-test-token-0123456789";

interface Received {
  topic: string;
  body: string;
  retain: boolean;
}

describe("incidents through the gateway", () => {
  test("MQTT incident and retained state, discovery, API, acknowledge, mute, restart", async () => {
    const broker = await startBroker();
    const dir = mkdtempSync(join(tmpdir(), "foxtail-incidents-"));
    let clock = 1_000_000;
    const config = validateGatewayConfig(smallConfig({
      mqtt: {
        url: broker.url,
        topicPrefix: "ft",
        reconnectMinMs: 50,
        homeAssistantDiscovery: "homeassistant",
      },
      snapshots: { dir, intervalSeconds: 0, keep: 2 },
      limits: { maxDevices: 8, queueCapacity: 4096, historyPoints: 64 },
      incidents: { quietSeconds: 5, keep: 10 },
    }));
    const observer = await mqtt.connectAsync(broker.url);
    const received: Received[] = [];
    observer.on("message", (topic, payload, packet) => {
      received.push({ topic, body: payload.toString(), retain: packet.retain });
    });
    await observer.subscribeAsync(["ft/#", "homeassistant/#"], { qos: 1 });
    const sensor = await mqtt.connectAsync(broker.url);
    const logs: string[] = [];
    const start = () => {
      const g = new GatewayRunner(config, { log: (line) => logs.push(line), now: () => clock });
      g.start();
      return g;
    };
    let gateway = start();
    try {
      await gateway.link.whenConnected();
      await until(() => logs.some((line) => /subscribed/.test(line)), "the subscription");
      const signal = new SensorSignal(31);
      const normal = SMALL_LEARNING + 30;
      const publish = async (payload: Uint8Array) => {
        clock += 100;
        await sensor.publishAsync("sensors/pump/telemetry", Buffer.from(payload), { qos: 1 });
      };
      for (let i = 0; i < normal; i++) await publish(signal.next());
      const scored = () => gateway.devices()[0]?.messages ?? 0;
      await until(() => scored() === normal, "the learning phase scored");
      for (let i = 0; i < 5; i++) await publish(faultPayload());
      const on = (topic: string) => received.filter((m) => m.topic === topic);
      await until(() => on("ft/pump/incident").length === 1, "the incident's open message");
      const opened = JSON.parse(on("ft/pump/incident")[0].body);
      assert.equal(opened.change, "open");
      assert.equal(opened.device, "pump");
      assert.equal(opened.closedAt, null);

      // A subscriber that connects now finds the device alerting, retained.
      await until(
        () => on("ft/pump/state").some((m) => JSON.parse(m.body).state === "alerting"),
        "the alerting state",
      );
      const late = await mqtt.connectAsync(broker.url);
      const lateStates: Received[] = [];
      late.on("message", (topic, payload, packet) => {
        lateStates.push({ topic, body: payload.toString(), retain: packet.retain });
      });
      await late.subscribeAsync("ft/+/state", { qos: 1 });
      await until(() => lateStates.length > 0, "the retained state");
      assert.equal(lateStates[0].retain, true);
      assert.equal(JSON.parse(lateStates[0].body).state, "alerting");
      await late.endAsync();

      // Home Assistant's discovery: one anomaly binary sensor, one score sensor, retained.
      const discovery = received.filter((m) => m.topic.startsWith("homeassistant/"));
      assert.deepEqual(discovery.map((m) => m.topic).sort(), [
        "homeassistant/binary_sensor/foxtail_pump/anomaly/config",
        "homeassistant/sensor/foxtail_pump/score/config",
      ]);
      const anomalySensor = JSON.parse(discovery.find((m) => /binary/.test(m.topic))!.body);
      assert.equal(anomalySensor.state_topic, "ft/pump/state");
      assert.equal(anomalySensor.availability_topic, "ft/status");
      assert.equal(anomalySensor.device.identifiers[0], "foxtail_pump");

      // The quiet period passes with no message: the sweep closes the incident.
      clock += 6000;
      await until(() => on("ft/pump/incident").length === 2, "the incident's close message");
      const closed = JSON.parse(on("ft/pump/incident")[1].body);
      assert.equal(closed.change, "close");
      assert.equal(closed.id, opened.id);
      assert.equal(closed.closedAt, closed.end + 5000);
      assert.equal(closed.alerts, gateway.status().counters.anomalies);
      await until(
        () => JSON.parse(on("ft/pump/state").at(-1)!.body).state === "normal",
        "the normal state",
      );

      const app = createDashboardApp(gateway, { token: TOKEN });
      const auth = { Authorization: `Bearer ${TOKEN}` };
      const listed = await (await app.request("/api/incidents")).json();
      assert.equal(listed.incidents.length, 1);
      assert.equal(listed.incidents[0].id, opened.id);
      assert.ok(listed.incidents[0].topFeatures.length > 0);
      const none = await (await app.request("/api/incidents?state=open")).json();
      assert.deepEqual(none.incidents, []);
      const badState = await app.request("/api/incidents?state=maybe");
      assert.equal(badState.status, 400);
      assert.match((await badState.json()).error, /state: expected open or closed, got "maybe"/);

      const ackPath = `/api/incidents/${opened.id}/acknowledge`;
      assert.equal((await app.request(ackPath, { method: "POST" })).status, 401);
      const acked = await app.request(ackPath, { method: "POST", headers: auth });
      assert.equal(acked.status, 200);
      assert.equal((await acked.json()).incident.acknowledgedAt, clock);
      const missing = await app.request("/api/incidents/999/acknowledge", {
        method: "POST",
        headers: auth,
      });
      assert.equal(missing.status, 404);

      const mute = (body: string) =>
        app.request("/api/devices/pump/mute", { method: "PUT", headers: auth, body });
      const badMute = await mute(`{"minutes": -3}`);
      assert.equal(badMute.status, 400);
      assert.match((await badMute.json()).error, /minutes: expected a number above 0/);
      const muted = await mute(`{"minutes": 30}`);
      assert.equal(muted.status, 200);
      const mutedUntil = clock + 30 * 60_000;
      assert.equal((await muted.json()).mutedUntil, mutedUntil);
      const devices = await (await app.request("/api/devices")).json();
      assert.equal(devices.devices[0].mutedUntil, mutedUntil);
      assert.equal(devices.devices[0].state, "normal");

      // A muted device's next fault: an incident kept, but no alert or incident message.
      const messagesBefore = on("ft/pump/incident").length + on("ft/pump/alert").length;
      await publish(faultPayload());
      await until(() => gateway.incidents({ state: "open" }).length === 1, "the muted incident");
      const metrics = parsePrometheusText(await (await app.request("/metrics")).text());
      const value = (name: string) => metrics.get(name)?.samples[0]?.value;
      assert.equal(value("foxtail_incidents_open"), 1);
      assert.equal(value("foxtail_incidents_total"), 2);
      assert.equal(on("ft/pump/incident").length + on("ft/pump/alert").length, messagesBefore);

      // After a restart: the incidents, the acknowledgement and the mute are still there.
      await gateway.stop();
      gateway = start();
      const restarted = gateway.incidents();
      assert.equal(restarted.length, 2);
      assert.equal(restarted[1].acknowledgedAt !== null, true);
      assert.equal(gateway.devices()[0].mutedUntil, mutedUntil);
      assert.equal(gateway.devices()[0].state, "alerting");
    } finally {
      await gateway.stop();
      await sensor.endAsync();
      await observer.endAsync();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
