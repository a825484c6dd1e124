import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import mqtt from "mqtt";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { type MosquittoBroker, startMosquitto } from "./support/mosquitto.ts";
import { makeTestCertificates, type TestCertificates } from "./support/test_ca.ts";
import { TEST_TIMEOUT_MS, until } from "./support/faults.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

/** The gateway's account on the broker. */
const GATEWAY = { username: "foxtail-gateway", password: "gateway-secret" };
/** The test clients' account (sensor and observer), distinct from the gateway's. */
const CLIENT = { username: "test-client", password: "client-secret" };

/** Failed attempts a refused gateway must make: it keeps retrying, it does not give up. */
const REFUSED_ATTEMPTS = 3;

/** A message a test client received. */
interface Received {
  topic: string;
  body: string;
}

/** A fresh CA and a mosquitto with a TLS listener (certificate from that CA) and a password file. */
interface TlsSetup {
  certs: TestCertificates;
  broker: MosquittoBroker;
}

/**
 * Runs `body` against a fresh {@linkcode TlsSetup}, made inside the test (its time limit covers
 * installing openssl and mosquitto; Bun's hooks allow 5 s) and removed whatever happens: a leaked
 * mosquitto would outlive the test run.
 */
async function withTlsBroker(body: (setup: TlsSetup) => Promise<void>): Promise<void> {
  const certs = makeTestCertificates();
  let broker: MosquittoBroker | undefined;
  try {
    broker = await startMosquitto({
      tls: { cafile: certs.caFile, certfile: certs.certFile, keyfile: certs.keyFile },
      users: {
        [GATEWAY.username]: GATEWAY.password,
        [CLIENT.username]: CLIENT.password,
      },
    });
    await body({ certs, broker });
  } finally {
    await broker?.close();
    certs.remove();
  }
}

/** A test client over TLS, trusting the right CA, with its own account; no reconnects. */
function connectClient({ certs, broker }: TlsSetup): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(broker.url, {
    ca: readFileSync(certs.caFile),
    ...CLIENT,
    reconnectPeriod: 0,
  });
}

/** A test client subscribed to `{prefix}/#`, and what it receives. */
async function observe(
  setup: TlsSetup,
  prefix: string,
): Promise<{ client: mqtt.MqttClient; got: Received[] }> {
  const client = await connectClient(setup);
  const got: Received[] = [];
  client.on("message", (topic, payload) => got.push({ topic, body: payload.toString() }));
  await client.subscribeAsync(`${prefix}/#`, { qos: 1 });
  return { client, got };
}

/** A gateway (not started) for the broker with `mqtt` options on top; its log and its folder. */
function makeGateway(
  { broker }: TlsSetup,
  prefix: string,
  mqttOptions: Record<string, unknown>,
): { gateway: GatewayRunner; logs: string[]; clientId: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-gateway-tls-"));
  const clientId = `foxtail-${prefix}-${process.pid}`;
  const config = validateGatewayConfig(smallConfig({
    mqtt: {
      url: broker.url,
      topicPrefix: prefix,
      clientId,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      ...mqttOptions,
    },
    snapshots: { dir, intervalSeconds: 0, keep: 2 },
    limits: { maxDevices: 8, queueCapacity: 4096, historyPoints: 64 },
  }));
  const logs: string[] = [];
  return {
    gateway: new GatewayRunner(config, { log: (line) => logs.push(line) }),
    logs,
    clientId,
    dir,
  };
}

/**
 * Runs a gateway with `mqttOptions` that the broker or the TLS handshake must refuse: it
 * reports `reason` on every attempt, keeps retrying, never connects, never subscribes and
 * never scores the telemetry a trusted client publishes meanwhile. Returns the first refusal
 * logged (each runtime words TLS errors its own way).
 */
async function assertRefused(
  setup: TlsSetup,
  prefix: string,
  mqttOptions: Record<string, unknown>,
  reason: RegExp,
): Promise<string> {
  const { gateway, logs, clientId, dir } = makeGateway(setup, prefix, mqttOptions);
  const observer = await observe(setup, prefix);
  const sensor = await connectClient(setup);
  const refusals = () => logs.filter((line) => reason.test(line)).length;
  try {
    gateway.start();
    await until(() => refusals() >= REFUSED_ATTEMPTS, `${REFUSED_ATTEMPTS} refusals`);
    // Published while the gateway retries: a subscribed gateway would receive it.
    for (let i = 0; i < 5; i++) {
      await sensor.publishAsync("sensors/pump/telemetry", Buffer.from(faultPayload()), {
        qos: 1,
      });
    }
    const seen = refusals();
    await until(() => refusals() > seen, "another refusal (still retrying)");

    const status = gateway.status();
    assert.equal(status.mqtt.connected, false);
    assert.equal(status.mqtt.connects, 0);
    assert.ok(status.mqtt.reconnects >= REFUSED_ATTEMPTS - 1, JSON.stringify(status.mqtt));
    assert.equal(status.counters.messages, 0, "nothing was received");
    assert.ok(!logs.some((line) => /mqtt: (connected|subscribed)/.test(line)), logs.join("\n"));
    assert.deepEqual(observer.got, [], "no status, score or alert was published");
    assert.doesNotMatch(setup.broker.log(), new RegExp(` as ${clientId} `));
    return logs.find((line) => reason.test(line))!;
  } finally {
    await gateway.stop();
    await sensor.endAsync(true);
    await observer.client.endAsync(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("gateway over mqtts:// with a password (mosquitto, self-signed CA)", () => {
  test("the broker listens with TLS only: a plain MQTT client is turned away", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withTlsBroker(async ({ broker }) => {
      // Every broker of withTlsBroker is made so: a gateway that connects to one speaks TLS.
      const plain = mqtt.connect(broker.url.replace(/^mqtts:/, "mqtt:"), {
        ...CLIENT,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      plain.on("error", () => {}); // the broker resetting the connection is the expected outcome
      try {
        const outcome = await new Promise<string>((resolve) => {
          plain.once("connect", () => resolve("connected"));
          plain.once("close", () => resolve("closed"));
        });
        assert.equal(outcome, "closed");
      } finally {
        await plain.endAsync(true);
      }
    });
  });

  test("right CA and credentials: connects over mqtts, scores and alerts arrive", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withTlsBroker(async (setup) => {
      const { broker, certs } = setup;
      const { gateway, logs, clientId, dir } = makeGateway(setup, "ok", {
        ca: certs.caFile,
        ...GATEWAY,
      });
      const observer = await observe(setup, "ok");
      const sensor = await connectClient(setup);
      try {
        gateway.start();
        await until(() => gateway.status().mqtt.connected, "the gateway to connect");
        await until(() => logs.some((line) => /mqtt: subscribed/.test(line)), "the subscription");
        await until(
          () => observer.got.some((m) => m.topic === "ok/status" && m.body === "online"),
          "the online status",
        );
        // mosquitto names the account each client logged in with.
        assert.match(
          broker.log(),
          new RegExp(
            `New client connected from 127\\.0\\.0\\.1:\\d+ as ${clientId} \\(p[25], ` +
              `c1, k\\d+, u'${GATEWAY.username}'\\)`,
          ),
        );
        assert.ok(logs.includes(`mqtt: connected to ${broker.url}`), logs.join("\n"));

        // Enough to learn, then a fault: scores go out as ready-made packets written to the TLS
        // socket, the alert through MQTT.js; both must arrive.
        const signal = new SensorSignal(7);
        const normal = SMALL_LEARNING + 10;
        for (let i = 0; i < normal; i++) {
          await sensor.publishAsync("sensors/pump/telemetry", Buffer.from(signal.next()), {
            qos: 1,
          });
        }
        await sensor.publishAsync("sensors/pump/telemetry", Buffer.from(faultPayload()), {
          qos: 1,
        });
        const scores = () => observer.got.filter((m) => m.topic === "ok/pump/score");
        await until(() => scores().length === normal + 1, "every score");
        await until(() => observer.got.some((m) => m.topic === "ok/pump/alert"), "the alert");

        const parsed = scores().map((m) => JSON.parse(m.body));
        for (const s of parsed) {
          assert.deepEqual(Object.keys(s).sort(), ["anomaly", "phase", "score", "threshold", "ts"]);
          assert.ok(Number.isFinite(s.ts) && Number.isFinite(s.score) && s.score >= 0);
          assert.ok(s.threshold === null || Number.isFinite(s.threshold));
          assert.equal(typeof s.anomaly, "boolean");
        }
        assert.deepEqual(
          [...new Set(parsed.map((s) => s.phase))],
          ["mapping", "training", "calibrating", "executing"],
        );
        const last = parsed[parsed.length - 1];
        assert.equal(last.anomaly, true);
        const alert = JSON.parse(observer.got.find((m) => m.topic === "ok/pump/alert")!.body);
        assert.equal(alert.device, "pump");
        assert.equal(alert.score, last.score);

        const status = gateway.status();
        assert.equal(status.counters.accepted, normal + 1);
        assert.equal(status.mqtt.connects, 1);
        assert.equal(status.mqtt.scoresSkipped, 0);
      } finally {
        await gateway.stop();
        await sensor.endAsync(true);
        await observer.client.endAsync(true);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test("wrong password: refused as not authorized, retried, nothing subscribed", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withTlsBroker(async (setup) => {
      const refusal = await assertRefused(
        setup,
        "badpw",
        { ca: setup.certs.caFile, username: GATEWAY.username, password: "not-the-password" },
        /^mqtt: cannot connect to \S+ \(Connection refused: Not authorized\); retrying in /,
      );
      // mosquitto turned it away after the handshake, at the login.
      assert.match(setup.broker.log(), /disconnected, not authorised/);
      t.diagnostic(refusal);
    });
  });

  test("a CA that did not sign the server's certificate: the handshake is refused", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withTlsBroker(async (setup) => {
      const refusal = await assertRefused(
        setup,
        "otherca",
        { ca: setup.certs.otherCaFile, ...GATEWAY },
        /^mqtt: .*certificate/i,
      );
      // Refused before any login: mosquitto saw the handshake fail, never a client.
      assert.doesNotMatch(setup.broker.log(), /not authorised/);
      t.diagnostic(refusal);
    });
  });

  test("no CA for a self-signed server: refused too, verification is never off", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withTlsBroker(async (setup) => {
      const refusal = await assertRefused(setup, "noca", { ...GATEWAY }, /^mqtt: .*certificate/i);
      assert.doesNotMatch(setup.broker.log(), /not authorised/);
      t.diagnostic(refusal);
    });
  });
});
