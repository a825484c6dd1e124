import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { CLI, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";
import { SseReader, until } from "./support/dashboard_fixtures.ts";

const TOKEN = "s3cret-token-0123456789";

/** `foxtail run` as a child process, with its standard error collected. */
function startRun(args: string[]) {
  const [command, prefix] = runtimeCommand(CLI);
  const child = spawn(command, [...prefix, "run", ...args], { cwd: ROOT, stdio: "pipe" });
  const log = { text: "" };
  child.stderr.on("data", (chunk) => log.text += chunk.toString());
  child.stdout.on("data", (chunk) => log.text += chunk.toString());
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, log, exited };
}

/** Waits for a SIGTERMed run to exit, and checks it stopped cleanly. */
async function assertCleanStop(run: ReturnType<typeof startRun>): Promise<void> {
  const code = await run.exited;
  // Deno's child_process reports a child that exited 0 after a SIGTERM as code null.
  if (code !== null || !("Deno" in globalThis)) assert.equal(code, 0, run.log.text);
  assert.match(run.log.text, /foxtail run: stopped; /);
}

describe("foxtail run serves the dashboard", () => {
  test("prints its URL, streams scores, and SIGTERM ends the open stream and the process", async () => {
    const broker = await startBroker();
    const dir = mkdtempSync(join(tmpdir(), "foxtail-run-dashboard-"));
    const config = join(dir, "foxtail.json");
    writeFileSync(
      config,
      JSON.stringify(smallConfig({ dashboard: { port: 8080, token: TOKEN } })),
    );
    const sensor = await mqtt.connectAsync(broker.url);
    const run = startRun([
      "--config",
      config,
      "--mqtt-url",
      broker.url,
      "--snapshot-dir",
      join(dir, "state"),
      "--dashboard-port",
      "0",
    ]);
    try {
      await until(() => /dashboard at http/.test(run.log.text), "the dashboard URL", 60_000);
      const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+) \(changes need the bearer token\)/
        .exec(run.log.text)?.[1];
      assert.ok(url, run.log.text);
      assert.ok(!url.endsWith(":8080"), "--dashboard-port overrides the file");
      await until(() => /mqtt: subscribed/.test(run.log.text), "the subscription", 60_000);
      const status = await (await fetch(`${url}/api/status`)).json();
      assert.equal(status.mqtt.connected, true);

      const sse = new SseReader((await fetch(`${url}/api/events`)).body!);
      await sse.until((r) => r.named("status").length > 0, "the first status event");
      const signal = new SensorSignal(3);
      await sensor.publishAsync("sensors/oven/telemetry", Buffer.from(signal.next()), { qos: 1 });
      await sse.until((r) => r.named("score").some((s) => s.device === "oven"), "a score event");
      const snapshot = await fetch(`${url}/api/snapshot`, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(snapshot.status, 200);
      await snapshot.body?.cancel();

      run.child.kill("SIGTERM");
      await sse.until((r) => r.done, "the end of the event stream", 30_000);
      await assertCleanStop(run);
      assert.match(run.log.text, /foxtail run: stopped; 1 messages, 1 scored/);
      await assert.rejects(fetch(`${url}/healthz`), "no longer listening");
    } finally {
      run.child.kill("SIGKILL");
      await run.exited;
      await sensor.endAsync();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--no-dashboard serves none; a taken port is reported and the gateway runs on", async () => {
    const broker = await startBroker();
    const dir = mkdtempSync(join(tmpdir(), "foxtail-run-dashboard-"));
    const config = join(dir, "foxtail.json");
    writeFileSync(config, JSON.stringify(smallConfig()));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    const base = (state: string) => [
      ...["--config", config, "--mqtt-url", broker.url, "--snapshot-dir", join(dir, state)],
    ];
    const runs = [
      startRun([...base("a"), "--no-dashboard"]),
      startRun([...base("b"), "--dashboard-port", String(port)]),
    ];
    try {
      for (const run of runs) {
        await until(() => /mqtt: subscribed/.test(run.log.text), "the subscription", 60_000);
      }
      const [none, refused] = runs;
      assert.doesNotMatch(none.log.text, /dashboard (at|not)/);
      await until(() => /dashboard not started/.test(refused.log.text), "the report", 60_000);
      assert.match(
        refused.log.text,
        new RegExp(`dashboard not started: cannot serve the dashboard on 127\\.0\\.0\\.1:${port}`),
      );
      for (const run of runs) {
        run.child.kill("SIGTERM");
        await assertCleanStop(run);
      }
    } finally {
      for (const run of runs) {
        run.child.kill("SIGKILL");
        await run.exited;
      }
      await new Promise((resolve) => taken.close(resolve));
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
