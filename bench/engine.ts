/**
 * The gateway's pipeline without I/O: messages per second through `GatewayEngine` (payload
 * decoding, the device table, each device's detector and calibration, the score history), for
 * 100 devices of one stream, in process: the cost of the pipeline itself, without MQTT (the load
 * benchmark measures that). Three streams, each on its own: KitNET on raw values, KitNET on
 * damped features, and a trained deep autoencoder shared by the devices.
 *
 * Each run learns (KitNET's grace periods and calibration: 600 messages a device), then scores
 * `--messages` more; both parts are timed by CPU time, best of 3.
 *
 * Run: `deno run -A bench/engine.ts`, `bun bench/engine.ts`, `node bench/engine.ts` (or
 * `npm run bench -- engine` for all three). Flags: --messages N (default 200000), --json,
 * --streams raw,damped,deep (which of the three to run).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { DeepAutoencoder, GatewayEngine, MersenneTwister, TabularEncoder } from "../mod.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    messages: { type: "string", default: "200000" },
    json: { type: "boolean", default: false },
    streams: { type: "string", default: "raw,damped,deep" },
  },
});
const MESSAGES = Number(values.messages);
const DEVICES = 100;
const LEARNING = 600; // a device's grace periods (40 + 400) and calibration (100), and some
const FIELDS = ["t", "h", "v", "p"];

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A deep autoencoder of the four fields, trained a little on normal readings. */
function deepModel(): Uint8Array {
  const rng = new MersenneTwister(3);
  const rows = Array.from({ length: 400 }, () => FIELDS.map(() => String(20 + rng.nextDouble())));
  const columns = FIELDS.map((name) => ({ name, kind: "numeric" as const }));
  const encoder = TabularEncoder.fit(columns, rows, "standard");
  const model = DeepAutoencoder.create({ inputSize: encoder.outputSize, seed: 1, encoder });
  const encoded = encoder.encode(rows);
  model.train(encoded, { epochs: 2, batchSize: 32, learningRate: 1e-3 });
  model.calibrate(model.errors(encoded));
  return model.toBytes();
}

function config(stream: "raw" | "damped" | "deep") {
  const model = stream === "deep"
    ? { type: "deep-ae", path: "model.daem" }
    : { type: "kitnet", maxAutoencoderSize: 3, fmGracePeriod: 40, adGracePeriod: 400 };
  return validateGatewayConfig({
    mqtt: { url: "mqtt://127.0.0.1:1883" },
    streams: [{
      name: "s",
      subscribe: "s/+/t",
      device: "s/{device}/t",
      payload: { format: "json", fields: FIELDS },
      features: stream === "damped" ? { type: "damped", lambdas: [1, 0.1] } : "raw",
      model,
      ...(stream === "deep" ? {} : { threshold: { calibrationWindow: 100 } }),
    }],
    limits: { maxDevices: DEVICES, queueCapacity: 1024 },
  });
}

/** Payloads cycled through (encoding them is not the engine's work). */
const encoder = new TextEncoder();
const rng = new MersenneTwister(7);
const payloads = Array.from({ length: 4096 }, () =>
  encoder.encode(JSON.stringify({
    t: 21 + rng.nextDouble(),
    h: 40 + rng.nextDouble(),
    v: 3.3 + rng.nextDouble() / 10,
    p: 1000 + rng.nextDouble(),
  })));
const topics = Array.from({ length: DEVICES }, (_, d) => `s/dev${d}/t`);

function run(stream: "raw" | "damped" | "deep", files: Map<string, Uint8Array>) {
  let scored = 0;
  const engine = new GatewayEngine(config(stream), {
    score: () => scored++,
    alert: () => {},
  }, files);
  let k = 0;
  const feed = (count: number) => {
    for (let i = 0; i < count; i++, k++) {
      engine.receive(topics[k % DEVICES], payloads[k % payloads.length], 1e12 + k * 10);
      if ((i & 255) === 255) engine.drain();
    }
    engine.drain();
  };
  const t0 = cpuMs();
  feed(DEVICES * LEARNING);
  const t1 = cpuMs();
  feed(MESSAGES);
  const t2 = cpuMs();
  if (scored !== DEVICES * LEARNING + MESSAGES) throw new Error(`scored ${scored}`);
  return {
    learning: (DEVICES * LEARNING) / (t1 - t0) * 1000,
    scoring: MESSAGES / (t2 - t1) * 1000,
  };
}

const files = new Map([["model.daem", deepModel()]]);
const results: Record<string, { learning: number; scoring: number }> = {};
const STREAMS = ["raw", "damped", "deep"] as const;
const chosen = values.streams.split(",").map((s) => {
  const stream = STREAMS.find((known) => known === s.trim());
  if (stream === undefined) throw new Error(`--streams: no stream "${s}"; there are ${STREAMS}`);
  return stream;
});
for (const stream of chosen) {
  let best = { learning: 0, scoring: 0 };
  for (let rep = 0; rep < 3; rep++) {
    const r = run(stream, files);
    best = {
      learning: Math.max(best.learning, r.learning),
      scoring: Math.max(best.scoring, r.scoring),
    };
  }
  results[stream] = best;
}
const f = (x: number) => Math.round(x).toLocaleString("en-US").padStart(9);
if (values.json) {
  console.log(JSON.stringify({ runtime: runtimeName(), messages: MESSAGES, results }));
} else {
  console.log(
    `GatewayEngine, ${DEVICES} devices, ${MESSAGES} scored messages, best of 3, ${runtimeName()}`,
  );
  const labels = { raw: "kitnet raw", damped: "kitnet damped", deep: "deep-ae" };
  for (const stream of chosen) {
    const { learning, scoring } = results[stream];
    console.log(
      `  ${labels[stream].padEnd(15)} learning ${f(learning)}/s   scoring ${f(scoring)}/s`,
    );
  }
}
