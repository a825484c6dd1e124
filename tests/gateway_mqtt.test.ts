import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import mqtt from "mqtt";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { startBroker, type TestBroker } from "./support/mqtt_broker.ts";
import { type MosquittoBroker, startMosquitto } from "./support/mosquitto.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

interface Received {
  topic: string;
  body: string;
  retain: boolean;
}

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A broker to run the gateway against, and the MQTT version every client speaks to it. */
interface BrokerCase {
  broker: string;
  start: () => Promise<TestBroker | MosquittoBroker>;
  protocolVersion: 4 | 5;
}

// aedes refuses MQTT 5, so version 5 is tested against mosquitto only.
const BROKER_CASES: BrokerCase[] = [
  { broker: "embedded aedes", start: startBroker, protocolVersion: 4 },
  { broker: "mosquitto", start: startMosquitto, protocolVersion: 4 },
  { broker: "mosquitto", start: startMosquitto, protocolVersion: 5 },
];

for (const { broker: brokerName, start, protocolVersion } of BROKER_CASES) {
  const version = protocolVersion === 5 ? "MQTT 5" : "MQTT 3.1.1";
  describe(`gateway over ${version} (${brokerName})`, () => {
    test("telemetry in, scores and alerts out, bad payloads counted, snapshot, restart resumes", async () => {
      const broker = await start();
      try {
        await gatewayRoundTrip(broker, protocolVersion);
      } finally {
        // Whatever failed, the broker goes: a leaked mosquitto would outlive the test run.
        await broker.close();
      }
    });
  });
}

/** The whole round trip against `broker`, every client speaking `protocolVersion`. */
async function gatewayRoundTrip(
  broker: TestBroker | MosquittoBroker,
  protocolVersion: 4 | 5,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-gateway-"));
  const logs: string[] = [];
  const clientId = `foxtail-test-${protocolVersion}-${process.pid}`;
  const config = validateGatewayConfig(smallConfig({
    mqtt: { url: broker.url, topicPrefix: "ft", protocolVersion, clientId, reconnectMinMs: 50 },
    snapshots: { dir, intervalSeconds: 0, keep: 2 },
    limits: { maxDevices: 8, queueCapacity: 4096, historyPoints: 64 },
  }));
  const observer = await mqtt.connectAsync(broker.url, { protocolVersion });
  const received: Received[] = [];
  observer.on("message", (topic, payload, packet) => {
    received.push({ topic, body: payload.toString(), retain: packet.retain });
  });
  await observer.subscribeAsync("ft/#", { qos: 1 });
  const sensor = await mqtt.connectAsync(broker.url, { protocolVersion });
  let gateway: GatewayRunner | undefined;
  try {
    gateway = new GatewayRunner(config, { log: (line) => logs.push(line) });
    gateway.start();
    await gateway.link.whenConnected();
    await until(
      () => received.some((m) => m.topic === "ft/status" && m.body === "online"),
      "online",
    );
    await until(() => logs.some((line) => /subscribed/.test(line)), "the subscription");
    if ("log" in broker) {
      // mosquitto logs each client's protocol level: p5 is MQTT 5, p2 is MQTT 3.1.1.
      const level = protocolVersion === 5 ? "p5" : "p2";
      assert.match(broker.log(), new RegExp(`connected from .* as ${clientId} \\(${level}, `));
    }

    const signal = new SensorSignal(21);
    const normal = SMALL_LEARNING + 30;
    for (let i = 0; i < normal; i++) {
      await sensor.publishAsync("sensors/boiler/telemetry", Buffer.from(signal.next()), {
        qos: 1,
      });
    }
    await sensor.publishAsync("sensors/boiler/telemetry", "{not json", { qos: 1 });
    await sensor.publishAsync("sensors/boiler/telemetry", Buffer.from(faultPayload()), {
      qos: 1,
    });
    const scores = () => received.filter((m) => m.topic === "ft/boiler/score");
    await until(() => scores().length === normal + 1, "every score");
    await until(() => received.some((m) => m.topic === "ft/boiler/alert"), "the alert");

    const parsed = scores().map((m) => JSON.parse(m.body));
    assert.deepEqual(Object.keys(parsed[0]).sort(), [
      "anomaly",
      "phase",
      "score",
      "threshold",
      "ts",
    ]);
    const phases = [...new Set(parsed.map((s) => s.phase))];
    assert.deepEqual(phases, ["mapping", "training", "calibrating", "executing"]);
    const last = parsed[parsed.length - 1];
    assert.equal(last.anomaly, true);
    assert.ok(last.score > last.threshold);
    const alert = JSON.parse(received.find((m) => m.topic === "ft/boiler/alert")!.body);
    assert.equal(alert.device, "boiler");
    assert.equal(alert.score, last.score);
    assert.equal(alert.threshold, last.threshold);
    assert.ok(alert.attribution.features.length > 0);
    assert.ok(alert.attribution.features.every((f: string) => ["t", "h", "power.v"].includes(f)));

    const counters = gateway.status().counters;
    assert.equal(counters.messages, normal + 2);
    assert.equal(counters.accepted, normal + 1);
    assert.equal(counters.rejected["not-json"], 1);
    assert.equal(gateway.deviceScores("boiler")!.length, config.limits.historyPoints);
    assert.equal(gateway.recentAlerts()[0].score, last.score);

    const written = gateway.snapshotNow();
    assert.ok(existsSync(written));
    await gateway.stop();
    await until(
      () => received.some((m) => m.topic === "ft/status" && m.body === "offline"),
      "offline",
    );
    assert.equal(gateway.store.sequences().length, 2, "the explicit and the final snapshot");

    // Restart: the device resumes executing at once and its scores continue.
    const messagesBefore = counters.accepted;
    received.length = 0;
    gateway = new GatewayRunner(config, { log: (line) => logs.push(line) });
    gateway.start();
    assert.equal(gateway.devices()[0].phase, "executing");
    assert.equal(gateway.status().counters.accepted, messagesBefore);
    // The dashboard's chart of the device starts from its saved scores, not empty.
    assert.equal(gateway.deviceScores("boiler")!.length, config.limits.historyPoints);
    await gateway.link.whenConnected();
    await until(() => received.some((m) => m.body === "online"), "online again");
    await until(
      () => logs.filter((line) => /subscribed/.test(line)).length === 2,
      "resubscribed",
    );
    const more = 5;
    for (let i = 0; i < more; i++) {
      await sensor.publishAsync("sensors/boiler/telemetry", Buffer.from(signal.next()), {
        qos: 1,
      });
    }
    await until(() => scores().length === more, "scores after the restart");
    for (const s of scores().map((m) => JSON.parse(m.body))) {
      assert.equal(s.phase, "executing");
      assert.ok(s.score > 0 && typeof s.threshold === "number");
    }
    assert.equal(gateway.engine.device("boiler")!.messages, messagesBefore + more);
    assert.ok(logs.some((line) => /resumed 1 device/.test(line)), logs.join("\n"));
  } finally {
    await gateway?.stop();
    await sensor.endAsync();
    await observer.endAsync();
    rmSync(dir, { recursive: true, force: true });
  }
}
