import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { SnapshotStore } from "../adapters/files/mod.ts";
import { CLI, runCli, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";
import { startBroker, type TestBroker } from "./support/mqtt_broker.ts";
import { type MosquittoBroker, startMosquitto } from "./support/mosquitto.ts";
import { SensorSignal, SMALL_LEARNING, smallConfig } from "./support/gateway_fixtures.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "foxtail-run-"));
}

describe("snapshot store", () => {
  test("keeps the newest `keep` files; a corrupt newest one is reported and the previous used", () => {
    const dir = tempDir();
    try {
      const keep = 3;
      const store = new SnapshotStore(join(dir, "state"), keep);
      assert.deepEqual(store.loadNewest((b) => b), { passedOver: [] });
      const written = 5;
      for (let i = 1; i <= written; i++) store.save(new Uint8Array([i]));
      const expected = [];
      for (let seq = written; seq > written - keep; seq--) expected.push(seq);
      assert.deepEqual(store.sequences(), expected);
      const read = (bytes: Uint8Array) => {
        if (bytes[0] === written) throw new RangeError("checksum mismatch");
        return bytes[0];
      };
      const { loaded, passedOver } = store.loadNewest(read);
      assert.equal(loaded!.value, written - 1);
      assert.equal(passedOver.length, 1);
      assert.match(passedOver[0], new RegExp(`snapshot-${written}\\.bin: checksum mismatch`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("foxtail run", () => {
  test("--help, a missing --config, and a configuration error naming its path", async () => {
    const help = await runCli(["run", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--config FILE/);
    assert.equal((await runCli(["run"])).code, 2);
    const dir = tempDir();
    try {
      const path = join(dir, "bad.json");
      writeFileSync(path, JSON.stringify(smallConfig({ limits: { maxDevices: -1 } })));
      const bad = await runCli(["run", "--config", path]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /limits\.maxDevices: expected an integer in \[1, \d+\], got -1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The embedded broker, and mosquitto speaking MQTT 5 (which aedes refuses); KitNET, and
  // Half-Space Trees learning as long (a 40-message warm-up and a window of 200).
  const hst = { type: "hst", warmUp: 40, window: 200 };
  const brokers: {
    name: string;
    start: () => Promise<TestBroker | MosquittoBroker>;
    protocolVersion: 4 | 5;
    model?: Record<string, unknown>;
  }[] = [
    { name: "embedded aedes, MQTT 3.1.1", start: startBroker, protocolVersion: 4 },
    { name: "mosquitto, MQTT 5", start: startMosquitto, protocolVersion: 5 },
    {
      name: "embedded aedes, Half-Space Trees",
      start: startBroker,
      protocolVersion: 4,
      model: hst,
    },
  ];
  for (const { name, start: startTheBroker, protocolVersion, model } of brokers) {
    test(`after kill -9 a restart resumes from the last interval snapshot; SIGTERM stops cleanly (${name})`, async () => {
      const broker = await startTheBroker();
      const dir = tempDir();
      const sensor = await mqtt.connectAsync(broker.url, { protocolVersion });
      const configPath = join(dir, "foxtail.json");
      const config = smallConfig({
        mqtt: {
          url: "mqtt://127.0.0.1:1883",
          topicPrefix: "foxtail",
          clientId: "foxtail-run-test",
          protocolVersion,
        },
        snapshots: { dir: "unused", intervalSeconds: 0.2, keep: 2 },
        dashboard: { enabled: false },
        // Room for a whole burst: this test is about resuming, not about overflow.
        limits: { maxDevices: 8, queueCapacity: 1024, historyPoints: 32 },
      });
      if (model !== undefined) (config.streams as Record<string, unknown>[])[0].model = model;
      writeFileSync(configPath, JSON.stringify(config));
      const state = join(dir, "state");
      const args = [
        "run",
        "--config",
        configPath,
        "--mqtt-url",
        broker.url,
        "--snapshot-dir",
        state,
      ];
      const [command, prefix] = runtimeCommand(CLI);
      const start = () => {
        const child = spawn(command, [...prefix, ...args], { cwd: ROOT, stdio: "pipe" });
        const log = { text: "" };
        child.stderr.on("data", (chunk) => log.text += chunk.toString());
        const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
        return { child, log, exited };
      };
      const until = async (check: () => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!check()) {
          if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const store = new SnapshotStore(state, 2);
      const first = start();
      let second: ReturnType<typeof start> | undefined;
      try {
        await until(() => /mqtt: subscribed/.test(first.log.text), "the first run to subscribe");
        if ("log" in broker) {
          // mosquitto logs each client's protocol level: p5 is MQTT 5.
          assert.match(broker.log(), /as foxtail-run-test \(p5, /);
        }
        // Watch the scores, so the test knows when the gateway (not just the broker) has every
        // message: a broker's acknowledgement says nothing about the gateway having scored it.
        const watcher = await mqtt.connectAsync(broker.url, { protocolVersion });
        const scored: string[] = [];
        watcher.on(
          "message",
          (_topic, payload) => scored.push(JSON.parse(payload.toString()).phase),
        );
        await watcher.subscribeAsync("foxtail/pump/score");
        const signal = new SensorSignal(5);
        const sent = SMALL_LEARNING + 30;
        for (let i = 0; i < sent; i++) {
          await sensor.publishAsync("sensors/pump/telemetry", Buffer.from(signal.next()), {
            qos: 1,
          });
        }
        await until(() => scored.at(-1) === "executing", "the device to finish learning");
        await watcher.endAsync();
        // Wait for two more interval snapshots: the later one began after the device was executing.
        const seqAfterSending = store.sequences()[0] ?? 0;
        await until(() => (store.sequences()[0] ?? 0) >= seqAfterSending + 2, "a snapshot");
        first.child.kill("SIGKILL");
        await first.exited;

        second = start();
        await until(() => /mqtt: subscribed/.test(second!.log.text), "the second run to subscribe");
        assert.match(second.log.text, /resumed 1 device\(s\)/);
        const observer = await mqtt.connectAsync(broker.url, { protocolVersion });
        const phases: string[] = [];
        observer.on(
          "message",
          (_topic, payload) => phases.push(JSON.parse(payload.toString()).phase),
        );
        await observer.subscribeAsync("foxtail/pump/score");
        await sensor.publishAsync("sensors/pump/telemetry", Buffer.from(signal.next()), { qos: 1 });
        await until(() => phases.length === 1, "a score after the restart");
        assert.equal(phases[0], "executing", "no retraining after the restart");
        await observer.endAsync();
        const seqBeforeStop = store.sequences()[0];
        second.child.kill("SIGTERM");
        const code = await second.exited;
        // Deno's child_process reports a child that exited 0 after a SIGTERM as code null.
        if (code !== null) assert.equal(code, 0, second.log.text);
        assert.match(second.log.text, /SIGTERM: saving a final snapshot/);
        assert.match(second.log.text, /stopped; \d+ messages/);
        assert.ok(store.sequences()[0] > seqBeforeStop, "a final snapshot was written");
      } finally {
        first.child.kill("SIGKILL");
        second?.child.kill("SIGKILL");
        await sensor.endAsync();
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
