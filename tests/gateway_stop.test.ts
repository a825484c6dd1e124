// A stop ends within a few seconds whatever the broker does: SIGTERM while connected, while the
// broker hangs (acknowledges nothing), and while it is gone (the gateway reconnecting, alerts in
// flight). The final snapshot is written, what could not be sent is counted, the exit code is 0.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { SnapshotStore } from "../adapters/files/mod.ts";
import { CLI, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { until } from "./support/dashboard_fixtures.ts";
import { TEST_TIMEOUT_MS } from "./support/faults.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const CLIENT_ID = "foxtail-stop-test";
/** How long a SIGTERMed gateway may take to exit (its own bound is 2 s past the snapshot). */
const EXIT_BOUND_MS = 10_000;
/** Faults sent once the broker stops acknowledging: alerts left in flight. */
const FAULTS = 5;

/** `foxtail run` as a child process, with its standard error collected. */
function startRun(args: string[]) {
  const [command, prefix] = runtimeCommand(CLI);
  const child = spawn(command, [...prefix, "run", ...args], { cwd: ROOT, stdio: "pipe" });
  const log = { text: "" };
  child.stderr.on("data", (chunk) => log.text += chunk.toString());
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, log, exited };
}

/** The exit code, or a failure when the process has not exited within `ms`. */
async function exitWithin(exited: Promise<number | null>, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after SIGTERM`)), ms);
  });
  try {
    return await Promise.race([exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Status {
  mqtt: { connected: boolean; reconnects: number };
  counters: { accepted: number; anomalies: number };
}

type BrokerFate = "stays" | "hangs" | "goes away";

describe("foxtail run stops within a bound whatever the broker does", () => {
  for (const fate of ["stays", "hangs", "goes away"] satisfies BrokerFate[]) {
    test(`SIGTERM when the broker ${fate}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const broker = await startBroker();
      const dir = mkdtempSync(join(tmpdir(), "foxtail-stop-"));
      const state = join(dir, "state");
      const raw = smallConfig({
        mqtt: {
          url: broker.url,
          topicPrefix: "ft",
          clientId: CLIENT_ID,
          reconnectMinMs: 50,
          reconnectMaxMs: 200,
        },
        snapshots: { dir: state, intervalSeconds: 0, keep: 2 },
        dashboard: { port: 0 },
        limits: { maxDevices: 8, queueCapacity: 1024, historyPoints: 32 },
      });
      const configPath = join(dir, "foxtail.json");
      writeFileSync(configPath, JSON.stringify(raw));
      const sensor = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const run = startRun(["--config", configPath]);
      let brokerClosed = false;
      try {
        await until(() => /dashboard at http/.test(run.log.text), "the dashboard URL", 60_000);
        const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.log.text)![1];
        const status = async (): Promise<Status> => await (await fetch(`${url}/api/status`)).json();
        await until(() => /mqtt: subscribed/.test(run.log.text), "the subscription", 60_000);
        const signal = new SensorSignal(17);
        let sent = 0;
        for (; sent < SMALL_LEARNING + 20; sent++) {
          await sensor.publishAsync("sensors/kiln/telemetry", Buffer.from(signal.next()), {
            qos: 1,
          });
        }
        // Generous waits: the machine may be loaded.
        await until(async () => (await status()).counters.accepted === sent, "scores", 60_000);
        let anomalies = 0;
        if (fate !== "stays") {
          // The broker takes the faults but acknowledges none of the gateway's alerts.
          broker.stall(CLIENT_ID);
          for (let i = 0; i < FAULTS; i++, sent++) {
            await sensor.publishAsync("sensors/kiln/telemetry", Buffer.from(faultPayload()), {
              qos: 1,
            });
          }
          await until(async () => (await status()).counters.accepted === sent, "faults", 60_000);
          anomalies = (await status()).counters.anomalies;
          assert.ok(anomalies >= 1, "the faults raised alerts");
        }
        if (fate === "goes away") {
          await sensor.endAsync(true);
          await broker.close();
          brokerClosed = true;
          await until(
            async () => {
              const { mqtt } = await status();
              return !mqtt.connected && mqtt.reconnects > 0;
            },
            "the gateway to be reconnecting",
            60_000,
          );
        }

        run.child.kill("SIGTERM");
        const code = await exitWithin(run.exited, EXIT_BOUND_MS);
        // Deno's child_process reports a child that exited 0 after a SIGTERM as code null.
        if (code !== null || !("Deno" in globalThis)) assert.equal(code, 0, run.log.text);

        const lines = run.log.text.trim().split("\n");
        const last = lines.at(-1)!;
        assert.match(last, new RegExp(`^foxtail run: stopped; ${sent} messages, ${sent} scored`));
        if (fate === "stays") {
          assert.match(last, /; nothing was left unsent$/, run.log.text);
        } else {
          // Every alert was left in flight, and so were the faults' incident (one opened) and the
          // device's state (alerting); the offline status is the last will's to say.
          const unsent = anomalies + 2;
          const dropped = new RegExp(`; ${unsent} messages could not be sent and were dropped$`);
          assert.match(last, dropped, run.log.text);
        }
        if (fate === "hangs") {
          assert.match(run.log.text, /mqtt: the broker did not answer within 2000 ms/);
        }
        const engine = new GatewayEngine(validateGatewayConfig(raw));
        const { loaded } = new SnapshotStore(state, 2).loadNewest((b) => engine.restore(b));
        assert.ok(loaded !== undefined, "a final snapshot was written");
        assert.equal(loaded.value.devices, 1);
        assert.equal(engine.counters().accepted, sent, "the snapshot holds every score");
      } finally {
        run.child.kill("SIGKILL");
        await run.exited;
        await sensor.endAsync(true);
        if (!brokerClosed) await broker.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
