// Adds Deno's platform packages to package-lock.json.
//
// The `deno` npm package lists one optional binary package per platform. The registry this
// project is built against serves only @deno/linux-x64-glibc, so `npm install` leaves the others
// out of the lockfile, and `npm ci` then refuses the lockfile as out of sync. Listed here with
// their os/cpu, `npm ci` skips them on other platforms without fetching, and fetches the right one
// where the full registry has it. Run after any `npm install` that rewrites the lockfile.
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const deno = lock.packages["node_modules/deno"];
if (!deno) throw new Error("package-lock.json has no node_modules/deno entry");
const platforms = {
  "@deno/win32-x64": [["win32"], ["x64"]],
  "@deno/win32-arm64": [["win32"], ["arm64"]],
  "@deno/darwin-x64": [["darwin"], ["x64"]],
  "@deno/darwin-arm64": [["darwin"], ["arm64"]],
  "@deno/linux-x64-glibc": [["linux"], ["x64"]],
  "@deno/linux-arm64-glibc": [["linux"], ["arm64"]],
};
let added = 0;
for (const [name, version] of Object.entries(deno.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [os, cpu] = platforms[name] ?? [];
  if (!os) throw new Error(`unknown Deno platform package ${name}`);
  lock.packages[key] = { version, cpu, dev: true, optional: true, os };
  added++;
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: ${added} Deno platform entries added`);
