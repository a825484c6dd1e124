/**
 * A large fleet in one gateway: memory per device and what the dashboard's page costs.
 *
 * `--devices N` (default 10,000) three-field devices each learn (KitNET with short grace
 * periods, so that every model is built and calibrated), fill their recent-score ring and go
 * through one incident. Reported: the live memory (the heap after a full collection, with the
 * typed arrays' stores, which live outside it) and the resident set per device, against the 16 KB budget; the messages/s of the engine while it fed them; and the
 * requests and bytes of the page's first load (status, incidents, alerts, one page of devices
 * and their scores), which must not grow with the fleet, beside what `/metrics` holds.
 *
 * Usage: `<runtime> bench/fleet.ts [--devices N] [--json]`, or `npm run bench -- fleet`.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { GatewayRunner, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { runtimeName } from "./runtime_name.ts";

/** The budget per device (issue 13): model, recent points, history and incidents. */
const BUDGET_BYTES = 16 * 1024;

/** Devices on one page of the dashboard (page_script.ts's PAGE_SIZE). */
const PAGE_SIZE = 24;

const { values } = parseArgs({
  options: { devices: { type: "string", default: "10000" }, json: { type: "boolean" } },
});
const devices = Number(values.devices);
if (!Number.isInteger(devices) || devices < 1) {
  console.error(`--devices: expected a whole number above 0, got ${values.devices}`);
  process.exit(2);
}

/** A full collection, by whatever the runtime offers, so that heap figures hold live data only. */
async function collect(): Promise<void> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) {
    g.Bun.gc(true);
    return;
  }
  if (g.gc === undefined) {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    g.gc = vm.runInNewContext("gc") as () => void;
  }
  g.gc!();
  g.gc!();
}

/**
 * Live JavaScript objects with the typed arrays' stores, and the RSS. V8 (Deno, Node) counts a
 * typed array's store in `external`, outside `heapUsed`; JavaScriptCore (Bun) counts it in
 * `heapUsed` and again in `external` (measured: a Float32Array of 4.8 KB adds 4.8 KB to each),
 * so there the heap alone is the figure.
 */
function memory(): { heap: number; rss: number } {
  const m = process.memoryUsage();
  const counted = "Bun" in globalThis ? m.heapUsed : m.heapUsed + m.external;
  return { heap: counted, rss: m.rss };
}

const FM = 20, AD = 100, CALIBRATION = 50;
const config = validateGatewayConfig({
  mqtt: { url: "mqtt://127.0.0.1:1", topicPrefix: "bench" },
  streams: [{
    name: "env",
    subscribe: "sensors/+/telemetry",
    device: "sensors/{device}/telemetry",
    payload: { format: "json", fields: ["t", "h", "v"] },
    features: "raw",
    model: { type: "kitnet", fmGracePeriod: FM, adGracePeriod: AD },
    threshold: { method: "lognormal", tailProbability: 1e-3, calibrationWindow: CALIBRATION },
  }],
  dashboard: { enabled: false },
  limits: { maxDevices: devices, queueCapacity: 4096 },
  incidents: { quietSeconds: 1 },
});
const historyPoints = config.limits.historyPoints;
// Enough messages that every model is built and calibrated and the recent-score ring is full.
const normal = Math.max(FM + AD + 1 + CALIBRATION, historyPoints) + 10;

await collect();
const before = memory();
const gateway = new GatewayRunner(config, { log: () => {}, now: () => clock });
const engine = gateway.engine;
let clock = 1_000_000;
const encoder = new TextEncoder();
const payloads = Array.from({ length: 64 }, (_, k) =>
  encoder.encode(JSON.stringify({
    t: 21 + Math.sin(k / 5) + (k % 7) * 0.01,
    h: 45 + Math.cos(k / 9),
    v: 3.3 + (k % 3) * 0.001,
  })));
const fault = encoder.encode(JSON.stringify({ t: 80, h: 45, v: 0.4 }));
const topics = Array.from({ length: devices }, (_, d) => `sensors/dev-${d}/telemetry`);
const started = performance.now();
let messages = 0;
for (let step = 0; step < normal; step++) {
  clock += 1000;
  const payload = payloads[step % payloads.length];
  for (let d = 0; d < devices; d++) {
    engine.receive(topics[d], payload, clock);
    if ((d & 1023) === 1023) engine.drain();
  }
  engine.drain();
  messages += devices;
  if (process.stderr.isTTY && step % 10 === 0) {
    process.stderr.write(`\rfleet: ${devices} devices, step ${step + 1} of ${normal} `);
  }
}
const seconds = (performance.now() - started) / 1000;
// One incident each: a fault, then a normal message after the quiet period closes it.
clock += 1000;
for (let d = 0; d < devices; d++) engine.receive(topics[d], fault, clock), engine.drain();
clock += 2000;
for (let d = 0; d < devices; d++) engine.receive(topics[d], payloads[0], clock), engine.drain();
if (process.stderr.isTTY) process.stderr.write("\n");
// One device still alerting: the page must show it first.
engine.receive(topics[devices - 1], fault, clock + 1);
engine.drain();

const held = engine.devices();
const executing = held.filter((d) => d.phase === "executing").length;
await collect();
const after = memory();
const heapPerDevice = (after.heap - before.heap) / devices;
const rssPerDevice = (after.rss - before.rss) / devices;

// The page's first load (page_script.ts): status, incidents, alerts, one page, its scores.
const app = createDashboardApp(gateway);
let requests = 0, bytes = 0;
const get = async (path: string): Promise<unknown> => {
  const response = await app.request(path);
  const text = await response.text();
  requests++;
  bytes += text.length;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text);
};
await get("/api/status");
await get("/api/incidents?limit=100");
await get("/api/alerts?limit=100");
const page = await get(`/api/devices?limit=${PAGE_SIZE}&offset=0`) as {
  devices: { id: string; state: string }[];
  total: number;
};
for (const d of page.devices) {
  await get(`/api/devices/${encodeURIComponent(d.id)}/scores?limit=300`);
}
const metrics = await (await app.request("/metrics")).text();
const metricLines = metrics.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;

const result = {
  runtime: runtimeName(),
  devices,
  executing,
  incidents: engine.incidentCounts().opened,
  messagesPerSecond: Math.round(messages / seconds),
  heapBytesPerDevice: Math.round(heapPerDevice),
  rssBytesPerDevice: Math.round(rssPerDevice),
  budgetBytes: BUDGET_BYTES,
  withinBudget: heapPerDevice <= BUDGET_BYTES,
  pageRequests: requests,
  pageBytes: bytes,
  firstOnPage: page.devices[0]?.id,
  firstState: page.devices[0]?.state,
  metricsSamples: metricLines,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  const kb = (n: number) => (n / 1024).toFixed(1) + " KB";
  console.log(
    `${result.runtime}: ${devices.toLocaleString("en")} devices (${executing} executing, ` +
      `${result.incidents} incidents), fed at ${result.messagesPerSecond.toLocaleString("en")} ` +
      `messages/s; heap ${kb(heapPerDevice)} and RSS ${kb(rssPerDevice)} per device ` +
      `(budget ${kb(BUDGET_BYTES)}: ${result.withinBudget ? "held" : "EXCEEDED"}); the page's ` +
      `first load: ${requests} requests, ${kb(bytes)}, first card ${result.firstOnPage} ` +
      `(${result.firstState}); /metrics: ${metricLines.toLocaleString("en")} samples`,
  );
}
if (!result.withinBudget || result.firstState !== "alerting") process.exitCode = 1;
