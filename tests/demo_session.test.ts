import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { startDemo } from "../adapters/demo/mod.ts";
import { DEMO_STEP_SECONDS } from "../adapters/demo/mod.ts";
import { demoStatusLine } from "../adapters/demo/mod.ts";
import type { DeviceSummary } from "../core/gateway/mod.ts";
import type { GatewayStatus } from "../adapters/gateway/mod.ts";

/** Readings per second per node: fast, so that the detectors learn in seconds. */
const STEPS_PER_SECOND = 300;

describe("demo session (in-process, over MQTT)", () => {
  test(
    "the first injected fault raises alerts on its node, published on MQTT, after the models learned",
    { timeout: 300_000 },
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), "foxtail-demo-test-"));
      const lines: string[] = [];
      const demo = await startDemo({
        nodes: 2,
        speed: STEPS_PER_SECOND * DEMO_STEP_SECONDS,
        port: 0,
        stateDir,
        log: (line) => lines.push(line),
      });
      const observer = await mqtt.connectAsync(demo.broker.url, { protocolVersion: 4 });
      try {
        const faulty = demo.plant.nodes[demo.plant.schedule.window(0).node].profile.name;
        const firstKind = demo.plant.schedule.window(0).kind;
        const alerts: { device: string; body: { attribution: { features: string[] } } }[] = [];
        let beforeFault = 0;
        const faultLine = new RegExp(`^fault: ${faulty}: ${firstKind} at sim `);
        observer.on("message", (topic, payload) => {
          if (!lines.some((line) => faultLine.test(line))) beforeFault++;
          alerts.push({ device: topic.split("/")[1], body: JSON.parse(payload.toString()) });
        });
        await observer.subscribeAsync("foxtail/+/alert", { qos: 1 });

        const deadline = Date.now() + 240_000;
        while (alerts.length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        assert.ok(
          alerts.length > 0,
          `no alert in time:\n${demo.statusLine()}\n${lines.join("\n")}`,
        );
        assert.equal(beforeFault, 0, "an alert came before any fault was injected");
        assert.equal(alerts[0].device, faulty);
        assert.ok(alerts[0].body.attribution.features.length > 0);
        for (const device of demo.gateway.devices()) assert.equal(device.phase, "executing");
        assert.match(demo.statusLine(), new RegExp(`${faulty} executing \\[${firstKind}\\]`));
      } finally {
        await observer.endAsync();
        await demo.stop();
      }
      try {
        assert.notEqual(demo.gateway.status().lastSnapshotAt, null);
        assert.ok(readdirSync(stateDir).some((f) => /^snapshot-\d+\.bin$/.test(f)));
        // The broker is closed: nobody listens on its port any more.
        await assert.rejects(
          mqtt.connectAsync(demo.broker.url, { reconnectPeriod: 0, connectTimeout: 5000 }),
        );
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  );
});

describe("demo status line", () => {
  const device = (id: string, phase: DeviceSummary["phase"], progress: number): DeviceSummary => ({
    id,
    stream: "plant",
    phase,
    state: phase === "executing" ? "normal" : phase === "calibrating" ? phase : "learning",
    incident: null,
    mutedUntil: null,
    progress,
    score: 0,
    threshold: null,
    messages: 1,
    anomalies: 0,
    lastSeen: 0,
    rejected: 0,
  });
  const status = (messages: number, anomalies: number, dropped: number) =>
    ({ counters: { messages, accepted: messages - dropped, dropped, anomalies } }) as GatewayStatus;

  test("groups devices by phase, shows faults, wall and simulated time", () => {
    const line = demoStatusLine(
      status(12_345, 7, 0),
      [
        device("b", "training", 0.456),
        device("a", "training", 0.456),
        device("c", "executing", 1),
        device("d", "executing", 1),
      ],
      {
        elapsedMs: 83_999,
        simulatedSeconds: 2 * 86_400 + 5 * 3600 + 7 * 60,
        faults: new Map([["d", "vibration-spikes"]]),
      },
    );
    assert.equal(
      line,
      "demo 1:23 | sim day 2 05:07 | 12,345 msgs, 12,345 scored | a, b training 45%; c executing; " +
        "d executing [vibration-spikes] | 7 anomalies",
    );
  });

  test("names dropped messages and the absence of devices", () => {
    const line = demoStatusLine(status(10, 0, 3), [], {
      elapsedMs: 0,
      simulatedSeconds: 0,
      faults: new Map(),
    });
    assert.equal(
      line,
      "demo 0:00 | sim day 0 00:00 | 10 msgs, 7 scored, 3 dropped | no device yet | 0 anomalies",
    );
  });
});
