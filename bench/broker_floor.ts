/**
 * The broker's floor: the load benchmark's traffic (paced JSON telemetry for many devices through
 * a real mosquitto on loopback) relayed by a child process that does nothing but republish each
 * message (`bench/load/echo_relay.ts`) where `foxtail run` would score it. The publish-to-relayed
 * latency is what mosquitto, the kernel and the MQTT clients cost on this machine before any
 * gateway work; `bench/load.ts` at the same rates shows what foxtail adds.
 *
 * Run: `node bench/broker_floor.ts [--rates 5000,10000,20000,30000,40000] [--seconds 10]
 * [--devices 100]` (or under Bun, `deno run -A`); `npm run bench -- broker_floor` for all three.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { startMosquitto } from "../tests/support/mosquitto.ts";
import { runtimeCommand } from "../tests/support/run_cli.ts";
import { LatencyHistogram } from "./load/latency_histogram.ts";
import { LOAD_PREFIX, loadMosquittoConfig, noDelay } from "./load/load_config.ts";
import { SendLog } from "./load/send_log.ts";
import { reading, TelemetryPublisher } from "./load/telemetry_publisher.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    rates: { type: "string", default: "5000,10000,20000,30000,40000" },
    seconds: { type: "string", default: "10" },
    devices: { type: "string", default: "100" },
    publishers: { type: "string", default: "2" },
  },
});
const rates = values.rates!.split(",").map(Number);
const seconds = Number(values.seconds), devices = Number(values.devices);
for (
  const [name, v] of [["seconds", seconds], ["devices", devices], ...rates.map((r) => ["rates", r])]
) {
  if (!Number.isInteger(v) || (v as number) < 1) {
    console.error(`--${name}: expected an integer ≥ 1, got ${v}`);
    process.exit(2);
  }
}
const runtime = runtimeName();
const say = (line: string) => console.error(`[broker floor ${runtime}] ${line}`);

const broker = await startMosquitto({ extraConfig: loadMosquittoConfig() });
const [command, prefix] = runtimeCommand(new URL("./load/echo_relay.ts", import.meta.url).pathname);
const relay = spawn(command, [...prefix, broker.url], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise<void>((resolve, reject) => {
  relay.stdout!.on("data", (chunk) => /ready/.test(String(chunk)) && resolve());
  relay.once("exit", (code) => reject(new Error(`the relay exited (${code}) before it was ready`)));
});

// The publish time travels in the payload, on a clock both ends share.
const now = () => performance.timeOrigin + performance.now();
const payload = (device: number, seq: number) =>
  `{"sent":${now()},${reading(device, seq).slice(1)}`;
const histogram = new LatencyHistogram();
let received = 0;
const watcher = await mqtt.connectAsync(broker.url, { clientId: "foxtail-floor-watch" });
noDelay(watcher);
await watcher.subscribeAsync(`${LOAD_PREFIX}/+/score`, { qos: 0 });
watcher.on("message", (_topic, message) => {
  const at = now();
  const text = String(message);
  histogram.record(at - Number(text.slice(8, text.indexOf(","))));
  received++;
});
const publisher = await TelemetryPublisher.connect(
  broker.url,
  new SendLog(devices, 4),
  Number(values.publishers),
);

const rows: string[] = [];
try {
  for (const rate of rates) {
    histogram.reset();
    received = 0;
    const sent = await publisher.run(rate, rate * seconds, payload);
    const deadline = Date.now() + 10_000;
    while (received < sent.published && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const line = `${rate}/s: relayed ${received} of ${sent.published}, publish→relayed p50 ` +
      `${histogram.percentile(50).toFixed(2)} ms p99 ${histogram.percentile(99).toFixed(1)} ms ` +
      `max ${histogram.max.toFixed(1)} ms`;
    say(line);
    rows.push(
      `| ${runtime} | ${rate} | ${received} / ${sent.published} | ` +
        `${histogram.percentile(50).toFixed(2)} | ${histogram.percentile(99).toFixed(1)} | ` +
        `${histogram.max.toFixed(1)} |`,
    );
  }
} finally {
  await publisher.close();
  await watcher.endAsync();
  relay.kill("SIGTERM");
  await new Promise((resolve) => relay.once("exit", resolve));
  await broker.close();
}
console.log("| runtime | rate/s | relayed | p50 ms | p99 ms | max ms |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) console.log(row);
