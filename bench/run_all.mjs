// Runs every benchmark under Deno, Bun and Node (the project's own, from node_modules/.bin).
// Usage: npm run bench [-- NAME ...]   (NAME: kitnet, or any bench/NAME.ts)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const names = process.argv.slice(2);
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
  for (const [runtime, prefix] of runtimes) {
    const r = spawnSync(runtime, [...prefix, file], { stdio: "inherit" });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
