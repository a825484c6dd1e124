/**
 * Gateway load: telemetry for many devices at controlled rates through a real mosquitto on
 * loopback into `foxtail run` (a child of the runtime running this file), measuring messages/s
 * scored, publish-to-score latency (p50, p99), the gateway's resident memory, and what its
 * bounded queue dropped. A rate sweep finds saturation; `--soak N` runs N messages at one rate
 * (after a ramp of 40 s at that rate, `--soak-ramp M` messages to change it) and says whether
 * the gateway's memory stayed flat (within 10 %).
 *
 * Run: `npm run bench -- load` (Deno, Bun and Node), or one runtime:
 * `node bench/load.ts [--rates 5000,10000,20000,30000,40000] [--seconds 10] [--devices 100]`
 * `node bench/load.ts --rate 20000 --devices 100 --messages 200000 [--soak 1000000]`
 * Flags: --queue N (the gateway's queue capacity), --publishers N (MQTT connections),
 * --fm/--ad/--calibration N (learning per device), --warmup-rate N, --cpu-prof DIR (Node: profile
 * the gateway), --gateway-flags "F …" (more runtime flags for the gateway, e.g.
 * --max-old-space-size=64), --gateway-executable PATH (run a single executable such as
 * dist/foxtail as the gateway, instead of the sources under this runtime), --broker-nagle
 * (mosquitto's default Nagle's algorithm instead of set_tcp_nodelay true), --json (one JSON line
 * at the end).
 *
 * @module
 */

import { basename } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { learningMessages } from "./load/load_config.ts";
import { loadAverage, LoadRig, type StepResult } from "./load/load_rig.ts";
import { RssSampler } from "./load/rss_sampler.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    rates: { type: "string", default: "5000,10000,20000,30000,40000" },
    rate: { type: "string" },
    seconds: { type: "string", default: "10" },
    messages: { type: "string" },
    soak: { type: "string" },
    "soak-ramp": { type: "string" },
    devices: { type: "string", default: "100" },
    queue: { type: "string", default: "4096" },
    publishers: { type: "string", default: "2" },
    fm: { type: "string", default: "50" },
    ad: { type: "string", default: "500" },
    calibration: { type: "string", default: "200" },
    "warmup-rate": { type: "string", default: "5000" },
    "cpu-prof": { type: "string" },
    "gateway-flags": { type: "string" },
    "gateway-executable": { type: "string" },
    "broker-nagle": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

/** A flag as a positive integer, or exit 2 naming it. */
function positive(name: string, raw: string | undefined, least = 1): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < least) {
    console.error(`--${name}: expected an integer ≥ ${least}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const rates = values.rate !== undefined
  ? [positive("rate", values.rate)]
  : values.rates!.split(",").map((r) => positive("rates", r.trim()));
const seconds = positive("seconds", values.seconds);
const fixedMessages = values.messages === undefined
  ? undefined
  : positive("messages", values.messages);
const soak = values.soak === undefined ? undefined : positive("soak", values.soak);
const devices = positive("devices", values.devices);
const fm = positive("fm", values.fm), ad = positive("ad", values.ad);
const calibration = positive("calibration", values.calibration);
const warmupRate = positive("warmup-rate", values["warmup-rate"]);
const runtimeFlags = [
  ...(values["cpu-prof"] === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`]),
  ...(values["gateway-flags"]?.split(" ").filter((flag) => flag !== "") ?? []),
];

const runtime = values["gateway-executable"] === undefined
  ? runtimeName()
  : basename(values["gateway-executable"]);
const MB = 1024 * 1024;
const say = (line: string) => console.error(`[load ${runtime}] ${line}`);

say(`uptime load ${loadAverage()}; starting mosquitto and foxtail run (${devices} devices)`);
const rig = await LoadRig.start({
  devices,
  publishers: positive("publishers", values.publishers),
  queueCapacity: positive("queue", values.queue),
  fmGracePeriod: fm,
  adGracePeriod: ad,
  calibrationWindow: calibration,
  runtimeFlags,
  executable: values["gateway-executable"],
  brokerNagle: values["broker-nagle"],
});

const steps: StepResult[] = [];
/** Seconds at the soak's rate before its memory is judged (see the soak below). */
const SOAK_RAMP_SECONDS = 40;

let rampResult: StepResult | undefined;
let soakResult:
  | { step: StepResult; start: number; middle: number; end: number; min: number }
  | undefined;
let finalLog = "";
try {
  const learning = learningMessages(rig.options);
  const warm = await rig.warmUp(warmupRate, learning);
  say(`warm-up: ${warm} messages at ${warmupRate}/s, every device executing`);
  for (const rate of rates) {
    const messages = fixedMessages ?? rate * seconds;
    const step = await rig.step(rate, messages);
    steps.push(step);
    say(describe(step));
  }
  if (soak !== undefined) {
    const rate = rates[0];
    // The runtime sizes its heap to the allocation rate in the first tens of seconds at a new
    // rate; the soak's memory is judged from then on.
    const ramp = values["soak-ramp"] === undefined
      ? rate * SOAK_RAMP_SECONDS
      : positive("soak-ramp", values["soak-ramp"], 0);
    if (ramp > 0) {
      say(`soak ramp: ${ramp} messages at ${rate}/s`);
      rampResult = await rig.step(rate, ramp);
      say(describe(rampResult));
    }
    say(`soak: ${soak} messages at ${rate}/s`);
    const rss = new RssSampler(() => rig.gateway.rss(), 1000);
    const step = await rig.step(rate, soak, { rss });
    soakResult = {
      step,
      start: rss.meanBetween(0, 0.1),
      middle: rss.meanBetween(0.45, 0.55),
      end: rss.meanBetween(0.9, 1),
      min: rss.min,
    };
    say(describe(step));
  }
} finally {
  finalLog = await rig.close();
}
const stopped = /stopped; .*/.exec(finalLog)?.[0];
if (stopped !== undefined) say(`gateway: ${stopped}`);

printSummary();
if (values.json) {
  console.log(JSON.stringify({ runtime, steps, soakRamp: rampResult, soak: soakResult }));
}

/** One line per step, while the run goes on. */
function describe(s: StepResult): string {
  return `${s.rate}/s: offered ${Math.round(s.offeredPerSecond)}/s, scored ${s.scored} ` +
    `(${Math.round(s.scoredPerSecond)}/s), publish→score p50 ${latency(s, s.p50)} ms ` +
    `p99 ${latency(s, s.p99)} ms max ${latency(s, s.maxLatency)} ms, in gateway p50 ` +
    `${fmt(s.gatewayP50)} p99 ${fmt(s.gatewayP99)} ms, ` +
    `receive→score sent p50 ≤ ${bound(s.processingP50)} p99 ≤ ${bound(s.processingP99)} ms, ` +
    `dropped ${s.dropped}, rejected ` +
    `${s.rejected}, broker dropped ${s.brokerDropped}, send pauses ${s.sendPauses}, CPU gateway ` +
    `${Math.round(s.gatewayCpu)}% (${Math.round(s.gatewayMicrosPerMessage)} µs/msg) mosquitto ` +
    `${Math.round(s.brokerCpu)}% bench ${Math.round(s.benchCpu)}%, RSS ${mb(s.rssStart)}→` +
    `${mb(s.rssEnd)} MB (max ${mb(s.rssMax)}), load ${s.loadStart}→${s.loadEnd}` +
    (s.settled ? "" : " (NOT SETTLED)");
}

/** A publish-to-score latency, or "–" when drops made matching scores to messages unsure. */
function latency(s: StepResult, ms: number): string {
  return s.latencyExact ? fmt(ms) : "–";
}

function fmt(ms: number): string {
  return Number.isNaN(ms) ? "–" : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** A latency bucket's bound ("–" with nothing counted, "∞" beyond the largest). */
function bound(ms: number): string {
  return Number.isNaN(ms) ? "–" : ms === Infinity ? "∞" : String(ms);
}

function mb(bytes: number): string {
  return Number.isNaN(bytes) ? "?" : (bytes / MB).toFixed(1);
}

/** The summary table, on standard output. */
function printSummary(): void {
  const rows: string[][] = [[
    "runtime",
    "offered/s",
    "scored/s",
    "p50 ms",
    "p99 ms",
    "in-gw p99",
    "sent p99 ≤",
    "RSS start→end MB",
    "dropped",
    "rejected",
    "broker drop",
    "gw CPU µs/msg",
    "load avg",
  ]];
  const row = (label: string, s: StepResult) => {
    rows.push([
      label,
      `${s.rate} (${Math.round(s.offeredPerSecond)})`,
      String(Math.round(s.scoredPerSecond)),
      latency(s, s.p50),
      latency(s, s.p99),
      fmt(s.gatewayP99),
      bound(s.processingP99),
      `${mb(s.rssStart)}→${mb(s.rssEnd)}`,
      String(s.dropped),
      String(s.rejected),
      Number.isNaN(s.brokerDropped) ? "?" : String(s.brokerDropped),
      String(Math.round(s.gatewayMicrosPerMessage)),
      `${s.loadStart}→${s.loadEnd}`,
    ]);
  };
  for (const s of steps) row(runtime, s);
  if (rampResult !== undefined) row(`${runtime} soak ramp`, rampResult);
  if (soakResult !== undefined) row(`${runtime} soak`, soakResult.step);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    `| ${
      r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join(" | ")
    } |`;
  console.log(line(rows[0]));
  console.log(
    `| ${widths.map((w, c) => (c === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`,
  );
  for (const r of rows.slice(1)) console.log(line(r));
  const held = steps.filter((s) => s.dropped === 0 && s.scoredPerSecond >= 0.95 * s.rate);
  const best = held.reduce((m, s) => Math.max(m, s.scoredPerSecond), 0);
  console.log(
    `${runtime}, ${devices} devices: highest rate held (no drops, ≥ 95 % of offered scored): ` +
      `${best > 0 ? Math.round(best) : "none"}/s. p50/p99: publish → score at a subscriber ` +
      `("–": the queue dropped, so scores cannot be matched to messages); in-gw: gateway ` +
      `receive → score at the subscriber; sent: gateway receive → score handed to its MQTT ` +
      `socket (its own histogram's bucket bound); load avg: 1-minute, before → after (2 cores).`,
  );
  if (soakResult !== undefined) {
    const { start, middle, end, min, step } = soakResult;
    const worst = Math.max(Math.abs(middle - start), Math.abs(end - start)) / start;
    const ramp = rampResult === undefined
      ? ""
      : ` after a ramp of ${rampResult.published} messages (RSS ${mb(rampResult.rssStart)} → ` +
        `${mb(rampResult.rssEnd)} MB)`;
    console.log(
      `${runtime} soak: ${step.published} messages at ${step.rate}/s${ramp}: RSS (mean of the ` +
        `first, middle and last tenth) start ${mb(start)} MB, middle ${mb(middle)} MB, end ` +
        `${mb(end)} MB; samples ${mb(min)}–${mb(step.rssMax)} MB: ` +
        `${worst <= 0.1 ? "flat" : "NOT flat"} within 10 % (${(100 * worst).toFixed(1)} %); ` +
        `dropped ${step.dropped}`,
    );
  }
}
