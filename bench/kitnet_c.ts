/**
 * The C baseline beside foxtail's KitNET: builds `../shared/baselines/kitnet_c/kitnet.c` twice
 * when a C compiler is there (tuned: `-O3 -march=native`, its inline vector exp; plain: `-O2`,
 * x86-64's SSE2 only), runs both on the stream `bench/kitnet.ts` runs (same rows, same phases),
 * and prints their instances/s. Without a compiler, or without the source, it says so and
 * exits 0 with `"available": false`, so the side-by-side table still prints foxtail's figures.
 *
 * Run: `node bench/kitnet_c.ts [--n 115] [--fm 5000] [--ad 20000] [--execute 50000]
 * [--repeat 5] [--json]`; `npm run bench -- kitnet` runs it before and after the three runtimes.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { kitnetStream, STREAM_ROWS } from "./kitnet_stream.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    n: { type: "string", default: "115" },
    fm: { type: "string", default: "5000" },
    ad: { type: "string", default: "20000" },
    execute: { type: "string", default: "50000" },
    repeat: { type: "string", default: "5" },
    source: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const n = Number(values.n), fm = Number(values.fm), ad = Number(values.ad);
const rows = fm + ad + 1 + Number(values.execute);
const source = values.source ??
  fileURLToPath(new URL("../../shared/baselines/kitnet_c/kitnet.c", import.meta.url));
const cc = process.env.CC ?? "cc";

/** One build's figures, as kitnet.c prints them. */
interface BuildResult {
  flags: string;
  bestIps: number;
  medianIps: number;
  clusters: number;
}

function report(result: Record<string, unknown>): void {
  if (values.json) console.log(JSON.stringify({ baseline: "kitnet_c", ...result }));
  else if (result.available === false) console.log(`C baseline: not measured (${result.reason})`);
  else {
    for (const build of ["tuned", "plain"] as const) {
      const b = result[build] as BuildResult;
      console.log(
        `C baseline, ${build} (${b.flags}): ${Math.round(b.bestIps).toLocaleString("en-US")} ` +
          `instances/s best, ${Math.round(b.medianIps).toLocaleString("en-US")} median, ` +
          `${b.clusters} clusters`,
      );
    }
  }
}

function main(): void {
  if (!existsSync(source)) return report({ available: false, reason: `no ${source}` });
  const probe = spawnSync(cc, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    return report({ available: false, reason: `no C compiler (${cc}) on the PATH` });
  }
  const dir = mkdtempSync(join(tmpdir(), "foxtail-kitnet-c-"));
  try {
    const builds = { tuned: "-O3 -march=native", plain: "-O2" };
    for (const [name, flags] of Object.entries(builds)) {
      const out = join(dir, name);
      const built = spawnSync(cc, [...flags.split(" "), "-o", out, source, "-lz", "-lm"], {
        encoding: "utf8",
      });
      if (built.status !== 0) {
        return report({
          available: false,
          reason: `${cc} ${flags} failed: ${(built.stderr || built.error?.message || "").trim()}`,
        });
      }
    }
    // The very rows foxtail's bench feeds process(), as shortest round-trip decimals (exact).
    const stream = kitnetStream(n, STREAM_ROWS);
    const csv = join(dir, "stream.csv");
    const fd = openSync(csv, "w");
    for (let i = 0; i < rows; i += 1000) {
      const lines: string[] = [];
      for (let r = i; r < Math.min(rows, i + 1000); r++) {
        lines.push(stream[r % STREAM_ROWS].join(","));
      }
      writeSync(fd, lines.join("\n") + "\n");
    }
    closeSync(fd);
    const expected = join(dir, "expected.json");
    writeFileSync(
      expected,
      JSON.stringify({
        n,
        rows,
        max_autoencoder_size: 10,
        fm_grace: fm,
        ad_grace: ad,
        learning_rate: 0.1,
        hidden_ratio: 0.75,
        feature_map_given: false,
        feature_map: [],
        scores: [],
      }),
    );
    const result: Record<string, unknown> = { available: true, n, fm, ad, rows };
    for (const [name, flags] of Object.entries(builds)) {
      const run = spawnSync(join(dir, name), [csv, expected, values.repeat!], { encoding: "utf8" });
      const line = run.stdout ?? "";
      const best = /best_ips=(\d+)/.exec(line), median = /median_ips=(\d+)/.exec(line);
      const clusters = /clusters=(\d+)/.exec(line);
      if (run.status !== 0 || best === null || median === null || clusters === null) {
        return report({ available: false, reason: `the ${name} build failed: ${run.stderr}` });
      }
      result[name] = {
        flags,
        bestIps: Number(best[1]),
        medianIps: Number(median[1]),
        clusters: Number(clusters[1]),
      };
    }
    report(result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
