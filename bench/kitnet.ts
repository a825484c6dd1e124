/**
 * KitNET throughput: instances per second of `process()` on a stream shaped like Kitsune's
 * (n = 115 damped statistics, m = 10), through mapping, training and executing.
 *
 * Run: `deno run -A bench/kitnet.ts`, `bun bench/kitnet.ts`, `node bench/kitnet.ts`
 * (or `npm run bench` for all three). Flags: --fm N --ad N --execute N --repeat N,
 * --kernel ts|wasm|both (default both: the TypeScript loops, which every KitNET runs by default,
 * and the WebAssembly kernel of `KitNETOptions.webAssembly`, which `foxtail pcap` turns on).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { KitNET, KITNET_DEFAULTS } from "../mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    fm: { type: "string", default: "5000" },
    ad: { type: "string", default: "20000" },
    execute: { type: "string", default: "50000" },
    repeat: { type: "string", default: "3" },
    kernel: { type: "string", default: "both" },
    json: { type: "boolean", default: false },
  },
});
const fm = Number(values.fm), ad = Number(values.ad), executeCount = Number(values.execute);
const repeat = Number(values.repeat);
const n = 115;
const kernels = values.kernel === "both" ? ["ts", "wasm"] : [values.kernel!];
for (const kernel of kernels) {
  if (kernel !== "ts" && kernel !== "wasm") {
    console.error(`--kernel: expected ts, wasm or both, got ${JSON.stringify(values.kernel)}`);
    process.exit(2);
  }
}

/** Rows like Kitsune's: groups of correlated statistics at different scales, a few constants. */
function makeStream(rows: number): Float64Array[] {
  const rng = new MersenneTwister(42);
  const groups = 23;
  const scale = Array.from({ length: n }, (_, i) => 10 ** ((i % 7) - 2));
  const out: Float64Array[] = [];
  const latent = new Float64Array(groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) latent[g] = 0.9 * latent[g] + rng.nextDouble() - 0.5;
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = i % groups;
      row[i] = i % 29 === 0 ? 1 : scale[i] * (latent[g] + 0.3 * (rng.nextDouble() - 0.5));
    }
    out.push(row);
  }
  return out;
}

const stream = makeStream(8192);
const fmt = (v: number) => Math.round(v).toLocaleString("en-US").padStart(11);

for (const kernel of kernels) {
  const best = measure(kernel === "wasm");
  if (values.json) {
    console.log(
      JSON.stringify({ runtime: runtimeName(), kernel, n, fm, ad, execute: executeCount, ...best }),
    );
  } else {
    console.log(
      `KitNET n=${n} m=10 FM=${fm} AD=${ad} execute=${executeCount}, ${kernel} kernel, ` +
        `best of ${repeat}, ${runtimeName()}`,
    );
    console.log(`  mapping   ${fmt(best.mapping)} instances/s`);
    console.log(`  training  ${fmt(best.training)} instances/s`);
    console.log(`  executing ${fmt(best.executing)} instances/s`);
    console.log(`  overall   ${fmt(best.overall)} instances/s  (reference Python ≈ 2,700/s)`);
  }
}

/** The best of `repeat` rounds: instances/s per phase and overall. */
function measure(webAssembly: boolean) {
  let best = { mapping: 0, training: 0, executing: 0, overall: 0 };
  for (let round = 0; round < repeat; round++) {
    const k = new KitNET({
      n,
      maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
      fmGracePeriod: fm,
      adGracePeriod: ad,
      webAssembly,
    });
    const total = fm + ad + 1 + executeCount;
    const marks: number[] = [performance.now()];
    let sink = 0;
    for (let i = 0; i < total; i++) {
      sink += k.process(stream[i & 8191]);
      if (i === fm + 1 && round === 0 && !values.json) {
        console.error("map sizes:", k.featureMap!.map((c) => c.length).join(" "));
      }
      if (i === fm || i === fm + ad) marks.push(performance.now());
    }
    marks.push(performance.now());
    if (!(sink > 0)) throw new Error("no scores came out");
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
