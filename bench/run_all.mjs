// Runs benchmarks under Deno, Bun and Node (the project's own, from node_modules/.bin).
// Usage: npm run bench [-- NAME ... [--flag value ...]]   (NAME: kitnet, or any bench/NAME.ts;
// flags after the names go to every run). `kitnet` runs side by side with the C baseline
// (bench/kitnet_c.ts, before and after the three runtimes, the better of the two kept) and ends
// with a table of instances/s and fractions of the tuned and the plain C build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith("--"));
const names = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
const benches = names.length > 0 ? names : ["kitnet"];
const runtimes = [
  ["deno", ["run", "-A"]],
  ["bun", []],
  ["node", []],
];
let failed = false;

for (const name of benches) {
  const file = `bench/${name}.ts`;
  if (!existsSync(file)) {
    console.error(`no such benchmark: ${file}`);
    process.exit(2);
  }
  if (name === "kitnet") {
    kitnetSideBySide(file);
    continue;
  }
  for (const [runtime, prefix] of runtimes) {
    const r = spawnSync(runtime, [...prefix, file, ...flags], { stdio: "inherit" });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);

/** JSON lines of a run's stdout (other lines echoed), or null when it failed. */
function jsonRun(command, commandArgs) {
  const r = spawnSync(command, commandArgs, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) {
    failed = true;
    console.error(`${command} ${commandArgs.join(" ")}: exit ${r.status}`);
    return null;
  }
  return r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

function kitnetSideBySide(file) {
  // The baseline takes the stream's flags, not the kernel choice.
  const baselineFlags = flags.filter((f, i) => f !== "--kernel" && flags[i - 1] !== "--kernel");
  const baseline = () => jsonRun("node", ["bench/kitnet_c.ts", "--json", ...baselineFlags])?.[0];
  console.log("C baseline (before) …");
  const before = baseline();
  const rows = [];
  for (const [runtime, prefix] of runtimes) {
    console.log(`${runtime} …`);
    rows.push(...(jsonRun(runtime, [...prefix, file, "--json", ...flags]) ?? []));
  }
  console.log("C baseline (after) …");
  const after = baseline();
  const c = [before, after].filter((b) => b?.available);
  const best = (build) => Math.max(...c.map((b) => b[build].bestIps));
  const f = (v) => Math.round(v).toLocaleString("en-US");
  const first = rows[0];
  if (first === undefined) return;
  console.log(
    `\nKitNET n=${first.n} m=10 FM=${first.fm} AD=${first.ad} execute=${first.execute}, ` +
      `${new Date().toISOString().slice(0, 10)}`,
  );
  if (c.length === 0) {
    console.log(`C baseline not measured: ${(before ?? after)?.reason ?? "it failed"}`);
  } else {
    console.log(
      `C baseline, best of its runs: tuned (${c[0].tuned.flags}) ${f(best("tuned"))}/s, ` +
        `plain (${c[0].plain.flags}) ${f(best("plain"))}/s`,
    );
    for (const r of rows) {
      if (r.clusters !== c[0].tuned.clusters) {
        console.log(`warning: ${r.runtime} found ${r.clusters} clusters, C ${c[0].tuned.clusters}`);
        failed = true;
      }
    }
  }
  console.log("| Runtime | Kernel | Instances/s | Of tuned C | Of plain C |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    const of = (build) => (c.length === 0 ? "–" : (r.overall / best(build)).toFixed(3));
    const kernel = r.default ? `${r.kernel} (default)` : r.kernel;
    console.log(`| ${r.runtime} | ${kernel} | ${f(r.overall)} | ${of("tuned")} | ${of("plain")} |`);
  }
}
