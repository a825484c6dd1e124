/**
 * Kitsune end to end: packets per second of pcap parsing + AfterImage features + KitNET scoring
 * on the sample capture `../shared/vectors/kitsune/lan.pcap` (6,000 packets).
 *
 * The file is read into memory once (disk speed is not the question) and fed to the streaming
 * reader in 64 KiB chunks, `--passes` times in a row, each pass shifted later in time by the
 * capture's span so the clock keeps moving forward. KitNET (m 10, FM 500, AD 3000) learns during
 * the first pass and scores from then on. Reported: the whole run, and the steady state (every pass
 * after the first). Also the stages alone: parsing only, and parsing + features; and end to end
 * pipelined: KitNET on a worker thread (`foxtail pcap --threads 2`; started before the clock, its
 * CPU time counted), whose throughput needs a second core.
 *
 * Run: `deno run -A bench/kitsune.ts`, `bun bench/kitsune.ts`, `node bench/kitsune.ts`
 * (or `npm run bench -- kitsune` for all three). Flags: --passes N (default 30), --json,
 * --kernel auto|simd|wasm|ts (KitNET's arithmetic, default auto as foxtail pcap runs it; give
 * the kernel of an earlier version to measure before and after side by side). Also printed:
 * KitNET's share of the end-to-end time, 1 − (end-to-end rate / features rate).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { readCaptureBatches } from "../adapters/files/mod.ts";
import { ScoringPipeline } from "../adapters/pipeline/mod.ts";
import {
  DEFAULT_DETECTOR_TYPE,
  KITNET_DEFAULTS,
  KITNET_KERNELS,
  type KitNETKernelChoice,
  Kitsune,
} from "../mod.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    passes: { type: "string", default: "30" },
    file: {
      type: "string",
      default: new URL("../../shared/vectors/kitsune/lan.pcap", import.meta.url).pathname,
    },
    json: { type: "boolean", default: false },
    kernel: { type: "string", default: "auto" },
  },
});
const kernel = values.kernel as KitNETKernelChoice;
if (!KITNET_KERNELS.includes(kernel)) {
  throw new RangeError(`--kernel must be one of ${KITNET_KERNELS.join(", ")}, got ${kernel}`);
}
const passes = Number(values.passes);
if (!Number.isInteger(passes) || passes < 2) throw new RangeError("--passes must be ≥ 2");
const bytes = new Uint8Array(readFileSync(values.file!));
const CHUNK = 1 << 16;
const chunks: Uint8Array[] = [];
for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));

type Stage = "parse" | "features" | "end-to-end" | "pipelined";

/** Process CPU time in ms (user + system): steadier than the clock on a shared machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs `passes` passes through `stage`; packets, and wall and CPU times after each pass. */
async function run(stage: Stage): Promise<{ packets: number; marks: number[]; cpu: number[] }> {
  const options = {
    maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
    fmGracePeriod: 500,
    adGracePeriod: 3000,
    kernel,
  };
  const kitsune = new Kitsune(options);
  let packets = 0, span = 0, sink = 0;
  const pipeline = stage !== "pipelined" ? undefined : await ScoringPipeline.start({
    model: { type: DEFAULT_DETECTOR_TYPE, ...options }, // KitNET, the model Kitsune runs
    inputs: kitsune.afterImage.featureCount,
    onScores(_first, batch, rows) {
      for (let i = 0; i < rows; i++) sink += batch.scores[i];
    },
  });
  const marks = [performance.now()];
  const cpu = [cpuMs()];
  for (let pass = 0; pass < passes; pass++) {
    const shift = pass * span;
    let first = NaN, last = NaN;
    for await (const batch of readCaptureBatches(chunks)) {
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i];
        const t = r.timestamp + shift;
        if (first !== first) first = t;
        last = t;
        if (stage === "parse") sink += r.data[0];
        else if (stage === "features") {
          sink += kitsune.extract(r.data, r.linkType, t, r.originalLength)[0];
        } else if (pipeline !== undefined) {
          const features = kitsune.extract(r.data, r.linkType, t, r.originalLength);
          while (!pipeline.tryPush(features)) await pipeline.room();
        } else sink += kitsune.process(r.data, r.linkType, t, r.originalLength);
      }
      pipeline?.flush();
      packets += batch.length;
    }
    if (pass === 0) span = last - first + 1;
    if (pass === passes - 1) await pipeline?.close(); // the last scores are in
    marks.push(performance.now());
    cpu.push(cpuMs());
  }
  if (!(sink > 0)) throw new Error(`${stage}: nothing came out`);
  return { packets, marks, cpu };
}

const results: Record<string, { overall: number; steady: number; steadyCpu: number }> = {};
let packetsPerPass = 0;
for (const stage of ["parse", "features", "end-to-end", "pipelined"] as const) {
  const { packets, marks, cpu } = await run(stage);
  packetsPerPass = packets / passes;
  const steadyPackets = packetsPerPass * (passes - 1);
  results[stage] = {
    overall: packets / ((marks[passes] - marks[0]) / 1000),
    steady: steadyPackets / ((marks[passes] - marks[1]) / 1000),
    steadyCpu: steadyPackets / ((cpu[passes] - cpu[1]) / 1000),
  };
}

const fmt = (v: number) => Math.round(v).toLocaleString("en-US").padStart(11);
const kitnetShare = 1 - results["end-to-end"].steady / results.features.steady;
if (values.json) {
  console.log(
    JSON.stringify({
      runtime: runtimeName(),
      kernel,
      passes,
      packetsPerPass,
      kitnetShare,
      ...results,
    }),
  );
} else {
  console.log(
    `Kitsune on lan.pcap × ${passes} passes, ${runtimeName()}, KitNET kernel ${kernel}. Packets/s:`,
  );
  console.log("              all passes  after the first  after the first, per CPU second");
  for (const [stage, r] of Object.entries(results)) {
    console.log(
      `  ${stage.padEnd(11)}${fmt(r.overall)}${fmt(r.steady)}      ${fmt(r.steadyCpu)}`,
    );
  }
  console.log(
    "  (reference Python, features alone ≈ 1,700 packets/s; target end to end ≥ 100,000)",
  );
  console.log(
    `  KitNET's share of end to end (after the first): ${(100 * kitnetShare).toFixed(1)} %`,
  );
}
