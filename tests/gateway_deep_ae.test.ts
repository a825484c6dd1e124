import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { ConfigError } from "../core/gateway/mod.ts";
import { DampedFeatures, SENSOR_LAMBDAS } from "../core/gateway/mod.ts";
import { DeepAutoencoder } from "../core/deep_ae/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { type AlertEvent, GatewayEngine } from "../core/gateway/mod.ts";
import { TabularEncoder } from "../core/deep_ae/mod.ts";
import { readModelFiles } from "../adapters/files/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { runCli } from "./support/run_cli.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";

const FIELDS = ["t", "h", "power.v"];
const MODEL_PATH = "models/env.daem";
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const topicOf = (device: string) => `sensors/${device}/telemetry`;
const payloadOf = ([t, h, v]: number[]) => encode({ t, h, power: { v } });

/** Rows of normal readings from `signal`. */
function normalRows(signal: SensorSignal, count: number): number[][] {
  return Array.from({ length: count }, () => signal.values());
}

/**
 * A small deep autoencoder trained on normal rows, its columns scaled like `foxtail train`
 * does, its threshold the largest training error.
 */
function trainModel(rows: number[][], names = FIELDS.slice(0, rows[0].length)): DeepAutoencoder {
  const encoder = TabularEncoder.fit(names.map((name) => ({ name, kind: "numeric" })), rows);
  const model = DeepAutoencoder.create({
    inputSize: encoder.outputSize,
    hiddenLayers: [
      { units: 8, activation: "tanh" },
      { units: 2, activation: "linear" },
      { units: 8, activation: "tanh" },
    ],
    seed: 3,
    encoder,
  });
  const encoded = encoder.encode(rows);
  model.train(encoded, { epochs: 60, batchSize: 16, learningRate: 0.01 });
  model.calibrate(model.errors(encoded), { kind: "quantile", q: 1 });
  return model;
}

/** The small stream, with a deep-ae model at {@linkcode MODEL_PATH}. */
function deepAeConfig(stream: Record<string, unknown> = {}): Record<string, unknown> {
  const config = smallConfig();
  const base = (config.streams as Record<string, unknown>[])[0];
  const { threshold: _kitnetThreshold, ...rest } = base;
  return {
    ...config,
    streams: [{ ...rest, model: { type: "deep-ae", path: MODEL_PATH }, ...stream }],
  };
}

/** The problems a gateway engine is refused with. */
function engineProblems(config: Record<string, unknown>, bytes?: Uint8Array): readonly string[] {
  const models = new Map(bytes === undefined ? [] : [[MODEL_PATH, bytes]]);
  try {
    new GatewayEngine(validateGatewayConfig(config), undefined, models);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail("the engine was built");
}

const trained = trainModel(normalRows(new SensorSignal(1), 800));
const modelBytes = trained.toBytes();

describe("gateway with a deep-ae model", () => {
  test("every message is scored by the model from the first; a fault is flagged and attributed", () => {
    const alerts: AlertEvent[] = [];
    const phases = new Set<string>();
    const engine = new GatewayEngine(
      validateGatewayConfig(deepAeConfig()),
      { score: (_d, v) => phases.add(v.phase), alert: (a) => alerts.push(a) },
      new Map([[MODEL_PATH, modelBytes]]),
    );
    const direct = DeepAutoencoder.fromBytes(modelBytes);
    const rows = normalRows(new SensorSignal(2), 300);
    rows.forEach((row, k) => {
      engine.receive(topicOf("a"), payloadOf(row), k);
      engine.drain();
      const device = engine.device("a")!;
      assert.equal(device.last.score, direct.scoreRecord(row), `message ${k}`);
      assert.equal(device.last.threshold, direct.threshold);
      assert.equal(device.last.anomaly, direct.isAnomaly(device.last.score));
    });
    assert.deepEqual([...phases], ["executing"]);
    const device = engine.device("a")!;
    assert.equal(device.progress, 1);
    assert.ok(device.anomalies <= rows.length / 50, `${device.anomalies} false alarms`);
    const before = alerts.length;

    // Temperature and humidity as usual, the voltage collapses.
    const [t, h] = new SensorSignal(2).values();
    engine.receive(topicOf("a"), payloadOf([t, h, 0.4]), rows.length);
    engine.drain();
    assert.equal(device.last.anomaly, true);
    assert.equal(alerts.length, before + 1);
    const { attribution, score, threshold } = alerts[before];
    assert.ok(score >= threshold);
    const errors = attribution.errors!;
    assert.deepEqual(errors.map((e) => e.feature).sort(), FIELDS.slice().sort());
    for (let i = 1; i < errors.length; i++) {
      assert.ok(errors[i - 1].squaredError >= errors[i].squaredError);
    }
    const total = errors.reduce((sum, e) => sum + e.squaredError, 0);
    assert.ok(Math.abs(total / FIELDS.length - score) <= 1e-12 * score);
    assert.equal(errors[0].feature, "power.v");
    assert.equal(attribution.features[0], "power.v");
    // The named features are the fewest, largest first, that hold half the squared error.
    const named = errors.slice(0, attribution.features.length);
    assert.deepEqual(attribution.features, named.map((e) => e.feature));
    assert.ok(named.reduce((sum, e) => sum + e.squaredError, 0) >= total / 2);
    assert.equal(attribution.rmse, Math.sqrt(score));
  });

  test("a manual threshold overrides the model's, and survives a snapshot", () => {
    const models = new Map([[MODEL_PATH, modelBytes]]);
    const config = validateGatewayConfig(deepAeConfig());
    const first = new GatewayEngine(config, undefined, models);
    const signal = new SensorSignal(5);
    for (let k = 0; k < 20; k++) first.receive(topicOf("a"), payloadOf(signal.values()), k);
    first.drain();
    first.device("a")!.setThreshold(1e-9);
    first.receive(topicOf("a"), payloadOf(signal.values()), 20);
    first.drain();
    assert.equal(first.device("a")!.last.anomaly, true);
    const resumed = new GatewayEngine(config, undefined, models);
    assert.deepEqual(resumed.restore(first.toBytes(1)), { savedAt: 1, devices: 1, skipped: [] });
    assert.deepEqual(resumed.counters(), first.counters());
    const device = resumed.device("a")!;
    assert.equal(device.threshold, 1e-9);
    assert.equal(device.messages, 21);
    device.setThreshold(null);
    assert.equal(device.threshold, trained.threshold);
  });

  test("with damped features, a restored gateway gives exactly the next scores", () => {
    // Train on the damped features of normal telemetry, one message a second.
    const damped = new DampedFeatures(3, SENSOR_LAMBDAS);
    const out = new Float64Array(damped.size);
    const features = normalRows(new SensorSignal(6), 600).map((row, k) => {
      damped.update(row, k, out);
      return Array.from(out);
    });
    const names = features[0].map((_, i) => `f${i}`);
    const bytes = trainModel(features, names).toBytes();
    const models = new Map([[MODEL_PATH, bytes]]);
    const config = validateGatewayConfig(deepAeConfig({
      features: "damped",
      payload: { format: "json", fields: FIELDS, timestampField: "ts", timestampUnit: "s" },
    }));
    const send = (engine: GatewayEngine, row: number[], k: number) => {
      engine.receive(
        topicOf("a"),
        encode({ t: row[0], h: row[1], power: { v: row[2] }, ts: k }),
        0,
      );
      engine.drain();
      return engine.device("a")!.last.score;
    };
    const rows = normalRows(new SensorSignal(7), 120);
    const straight = new GatewayEngine(config, undefined, models);
    const expected = rows.map((row, k) => send(straight, row, k));
    const first = new GatewayEngine(config, undefined, models);
    const scores = rows.slice(0, 70).map((row, k) => send(first, row, k));
    const resumed = new GatewayEngine(config, undefined, models);
    resumed.restore(first.toBytes(1));
    scores.push(...rows.slice(70).map((row, k) => send(resumed, row, k + 70)));
    assert.deepEqual(scores, expected);
    // A restart that lost the damped windows would not have: the state matters.
    const fresh = new GatewayEngine(config, undefined, models);
    assert.notEqual(send(fresh, rows[70], 70), expected[70]);
  });

  test("a model of the wrong width is a configuration error naming path, width and fields", () => {
    const twoInputs = trainModel(normalRows(new SensorSignal(1), 100).map((r) => r.slice(0, 2)));
    assert.deepEqual(engineProblems(deepAeConfig(), twoInputs.toBytes()), [
      `streams[0].model.path: "${MODEL_PATH}" reads 2 inputs, stream "env" gives 3 field(s) ` +
      `(t, h, power.v)`,
    ]);
    const problems = engineProblems(deepAeConfig({ features: "damped" }), modelBytes);
    assert.deepEqual(problems, [
      `streams[0].model.path: "${MODEL_PATH}" reads 3 inputs, stream "env" gives 31 damped ` +
      `features (from 3 field(s): t, h, power.v)`,
    ]);
  });

  test("a missing, corrupt, one-hot, non-finite or uncalibrated model is refused with the key path", () => {
    assert.match(
      engineProblems(deepAeConfig())[0],
      /^streams\[0\]\.model\.path: .* was not loaded/,
    );
    const flipped = modelBytes.slice();
    flipped[100] ^= 1;
    assert.match(
      engineProblems(deepAeConfig(), flipped)[0],
      /^streams\[0\]\.model\.path: "models\/env\.daem" is not a usable model: .*corrupt/,
    );
    const records = normalRows(new SensorSignal(1), 50).map((
      [t, h],
      k,
    ) => [t, h, k % 2 ? "a" : "b"]);
    const oneHot = DeepAutoencoder.create({
      inputSize: 4,
      hiddenLayers: [{ units: 2, activation: "tanh" }],
      encoder: TabularEncoder.fit([
        { name: "t", kind: "numeric" },
        { name: "h", kind: "numeric" },
        { name: "room", kind: "categorical" },
      ], records),
    });
    oneHot.threshold = 1;
    assert.match(
      engineProblems(deepAeConfig(), oneHot.toBytes())[0],
      /^streams\[0\]\.model\.path: "models\/env\.daem": the model one-hot encodes column "room"/,
    );
    for (
      const poison of [
        (m: DeepAutoencoder) => m.network.kernels[1][0] = NaN,
        (m: DeepAutoencoder) => m.encoder!.scaler.factor[2] = Infinity,
      ]
    ) {
      const poisoned = DeepAutoencoder.fromBytes(modelBytes);
      poison(poisoned);
      assert.match(
        engineProblems(deepAeConfig(), poisoned.toBytes())[0],
        /^streams\[0\]\.model\.path: "models\/env\.daem".*not a finite number/,
      );
    }
    const uncalibrated = DeepAutoencoder.create({
      inputSize: 3,
      hiddenLayers: [{ units: 2, activation: "tanh" }],
    });
    assert.match(
      engineProblems(deepAeConfig(), uncalibrated.toBytes())[0],
      /^streams\[0\]\.model\.path: "models\/env\.daem": the model has no threshold/,
    );
  });

  test("a KitNET device's snapshot is skipped by a deep-ae stream, with the reason", () => {
    const kitnet = new GatewayEngine(validateGatewayConfig(smallConfig()));
    kitnet.receive(topicOf("a"), payloadOf(new SensorSignal(1).values()), 0);
    kitnet.drain();
    const engine = new GatewayEngine(
      validateGatewayConfig(deepAeConfig()),
      undefined,
      new Map([[MODEL_PATH, modelBytes]]),
    );
    const report = engine.restore(kitnet.toBytes(1));
    assert.equal(report.devices, 0);
    assert.deepEqual(report.skipped, [
      'device "a": its state is of a kitnet model, stream "env" now uses deep-ae',
    ]);
  });
});

describe("gateway deep-ae model files", () => {
  test("the adapter reads each model file; an unreadable one names its key path", () => {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-deep-ae-"));
    try {
      const path = join(dir, "env.daem");
      writeFileSync(path, modelBytes);
      const config = validateGatewayConfig(deepAeConfig({ model: { type: "deep-ae", path } }));
      assert.deepEqual(readModelFiles(config).get(path), modelBytes);
      const missing = join(dir, "missing.daem");
      assert.throws(
        () =>
          readModelFiles(
            validateGatewayConfig(deepAeConfig({ model: { type: "deep-ae", path: missing } })),
          ),
        (error: Error) =>
          error instanceof ConfigError &&
          error.problems[0].startsWith(`streams[0].model.path: cannot read the model "${missing}"`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("foxtail run refuses a model whose width does not fit, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-deep-ae-"));
    try {
      const path = join(dir, "env.daem");
      writeFileSync(path, modelBytes);
      const file = join(dir, "foxtail.json");
      writeFileSync(
        file,
        JSON.stringify(deepAeConfig({
          model: { type: "deep-ae", path },
          payload: { format: "json", fields: ["t", "h"] },
        })),
      );
      const r = await runCli(["run", "--config", file]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /streams\[0\]\.model\.path: ".*env\.daem" reads 3 inputs, stream "env" gives 2 field\(s\) \(t, h\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("gateway with a deep-ae model over MQTT (embedded aedes broker)", () => {
  test("a model from foxtail train scores telemetry at once and alerts on a fault", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-deep-ae-"));
    const broker = await startBroker();
    const received: { topic: string; body: string }[] = [];
    let observer: mqtt.MqttClient | undefined, sensor: mqtt.MqttClient | undefined;
    let gateway: GatewayRunner | undefined;
    try {
      // Train on a CSV of normal readings, as a user would.
      const csv = join(dir, "normal.csv");
      const rows = normalRows(new SensorSignal(1), 600);
      writeFileSync(csv, `t,h,v\n${rows.map((r) => r.join(",")).join("\n")}\n`);
      const path = join(dir, "env.daem");
      const trainedByCli = await runCli([
        "train",
        "--data",
        csv,
        "--format",
        "csv",
        "--epochs",
        "40",
        "--lr",
        "0.003",
        "--threshold",
        "q100",
        "--save-model",
        path,
      ]);
      assert.equal(trainedByCli.code, 0, trainedByCli.stderr);

      const config = validateGatewayConfig(deepAeConfig({
        model: { type: "deep-ae", path },
      }));
      config.mqtt = { ...config.mqtt, url: broker.url, topicPrefix: "ft", reconnectMinMs: 50 };
      config.snapshots = { dir: join(dir, "state"), intervalSeconds: 0, keep: 2 };
      observer = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
      observer.on(
        "message",
        (topic, payload) => received.push({ topic, body: payload.toString() }),
      );
      await observer.subscribeAsync("ft/#", { qos: 1 });
      sensor = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
      const logs: string[] = [];
      gateway = new GatewayRunner(config, { log: (line) => logs.push(line) });
      gateway.start();
      await gateway.link.whenConnected();
      await until(() => logs.some((line) => /subscribed/.test(line)), "the subscription");

      const signal = new SensorSignal(2);
      const normal = 40;
      for (let i = 0; i < normal; i++) {
        await sensor.publishAsync(topicOf("boiler"), Buffer.from(payloadOf(signal.values())), {
          qos: 1,
        });
      }
      const [t, h] = signal.values();
      await sensor.publishAsync(topicOf("boiler"), Buffer.from(payloadOf([t, h, 0.4])), { qos: 1 });
      const scores = () => received.filter((m) => m.topic === "ft/boiler/score");
      await until(() => scores().length === normal + 1, "every score");
      await until(() => received.some((m) => m.topic === "ft/boiler/alert"), "the alert");

      const parsed = scores().map((m) => JSON.parse(m.body));
      assert.ok(parsed.every((s) => s.phase === "executing" && typeof s.threshold === "number"));
      const model = DeepAutoencoder.fromBytes(new Uint8Array(readFileSync(path)));
      assert.equal(parsed[0].threshold, model.threshold);
      const falseAlarms = parsed.slice(0, normal).filter((s) => s.anomaly).length;
      assert.ok(falseAlarms <= 2, `${falseAlarms} false alarms in ${normal} normal messages`);
      const last = parsed[normal];
      assert.equal(last.anomaly, true);
      const alert = JSON.parse(received.find((m) => m.topic === "ft/boiler/alert")!.body);
      assert.equal(alert.score, last.score);
      assert.equal(alert.attribution.features[0], "power.v");
      assert.equal(alert.attribution.errors.length, 3);
    } finally {
      await gateway?.stop();
      await sensor?.endAsync();
      await observer?.endAsync();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
