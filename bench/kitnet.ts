/**
 * KitNET throughput: instances per second of `process()` on a stream shaped like Kitsune's
 * (n = 115 damped statistics, m = 10), through mapping, training and executing.
 *
 * Run: `deno run -A bench/kitnet.ts`, `bun bench/kitnet.ts`, `node bench/kitnet.ts`
 * (or `npm run bench` for all three). Flags: --fm N --ad N --execute N --repeat N,
 * --n N (features, default 115), --kernel ts|wasm|simd|all or a comma list (default all: the
 * TypeScript loops, the scalar WebAssembly kernel and its SIMD variant; which one a KitNET runs
 * by default is marked), --json (one line per kernel, for `bench/run_all.mjs`).
 * `npm run bench -- kitnet` runs it on the three runtimes beside the C baseline
 * (`bench/kitnet_c.ts`) and prints the ratios.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { KitNET, KITNET_DEFAULTS } from "../mod.ts";
import { kitnetStream, STREAM_ROWS } from "./kitnet_stream.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    fm: { type: "string", default: "5000" },
    ad: { type: "string", default: "20000" },
    execute: { type: "string", default: "50000" },
    repeat: { type: "string", default: "3" },
    kernel: { type: "string", default: "all" },
    n: { type: "string", default: "115" },
    json: { type: "boolean", default: false },
  },
});
const fm = Number(values.fm), ad = Number(values.ad), executeCount = Number(values.execute);
const repeat = Number(values.repeat);
const n = Number(values.n);
const kernels = (values.kernel === "all" ? "ts,wasm,simd" : values.kernel!).split(",");
for (const kernel of kernels) {
  if (kernel !== "ts" && kernel !== "wasm" && kernel !== "simd") {
    console.error(`--kernel: expected ts, wasm, simd or all, got ${JSON.stringify(values.kernel)}`);
    process.exit(2);
  }
}

const stream = kitnetStream(n, STREAM_ROWS);
/** The kernel a KitNET of this size runs by default here (`kernel: "auto"`). */
const defaultKernel = new KitNET({ n }).kernel;
let clusters = 0;
const fmt = (v: number) => Math.round(v).toLocaleString("en-US").padStart(11);

for (const kernel of kernels) {
  const best = measure(kernel as "ts" | "wasm" | "simd");
  if (values.json) {
    console.log(
      JSON.stringify({
        runtime: runtimeName(),
        kernel,
        default: kernel === defaultKernel,
        n,
        fm,
        ad,
        execute: executeCount,
        clusters,
        ...best,
      }),
    );
  } else {
    console.log(
      `KitNET n=${n} m=10 FM=${fm} AD=${ad} execute=${executeCount}, ${kernel} kernel, ` +
        `best of ${repeat}, ${runtimeName()}${
          kernel === defaultKernel ? " (the default here)" : ""
        }`,
    );
    console.log(`  mapping   ${fmt(best.mapping)} instances/s`);
    console.log(`  training  ${fmt(best.training)} instances/s`);
    console.log(`  executing ${fmt(best.executing)} instances/s`);
    console.log(`  overall   ${fmt(best.overall)} instances/s  (reference Python ≈ 2,700/s)`);
  }
}

/** The best of `repeat` rounds: instances/s per phase and overall. */
function measure(kernel: "ts" | "wasm" | "simd") {
  let best = { mapping: 0, training: 0, executing: 0, overall: 0 };
  for (let round = 0; round < repeat; round++) {
    const k = new KitNET({
      n,
      maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
      fmGracePeriod: fm,
      adGracePeriod: ad,
      kernel,
    });
    const total = fm + ad + 1 + executeCount;
    const marks: number[] = [performance.now()];
    let sink = 0;
    for (let i = 0; i < total; i++) {
      sink += k.process(stream[i % STREAM_ROWS]);
      if (i === fm + 1 && round === 0 && !values.json) {
        console.error("map sizes:", k.featureMap!.map((c) => c.length).join(" "));
      }
      if (i === fm || i === fm + ad) marks.push(performance.now());
    }
    marks.push(performance.now());
    if (!(sink > 0)) throw new Error("no scores came out");
    if (k.kernel !== kernel) throw new Error(`asked for the ${kernel} kernel, ran ${k.kernel}`);
    clusters = k.featureMap!.length;
    const rate = (count: number, a: number, b: number) => count / ((marks[b] - marks[a]) / 1000);
    const round_ = {
      mapping: rate(fm + 1, 0, 1),
      training: rate(ad, 1, 2),
      executing: rate(executeCount, 2, 3),
      overall: rate(total, 0, 3),
    };
    if (round_.overall > best.overall) best = round_;
  }
  return best;
}
