#!/usr/bin/env node
// Installs, with Debian's apt-get, the system programs the tests need and the machine lacks:
// the suite's own set-up, so a clean CI machine needs nothing done by hand.
//
//   node scripts/ensure_system_packages.mjs mosquitto nats-server chromium qemu openssl strace
//
// `npm test` runs it first for everything the suite uses (test:setup), so test files running side
// by side do not each start apt-get; each test still calls it for what it needs, for runs of one
// file.
//
// Each name is checked by the file it provides; only what is missing is installed. Exits 1 with
// apt-get's message when an install fails.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** What each name needs: the files that prove it is there, and the Debian packages that bring them. */
export const SYSTEM_PACKAGES = {
  mosquitto: { files: ["/usr/sbin/mosquitto"], packages: ["mosquitto"] },
  "nats-server": { files: ["/usr/sbin/nats-server"], packages: ["nats-server"] },
  chromium: { files: ["/usr/bin/chromium"], packages: ["chromium"] },
  qemu: {
    files: ["/usr/bin/qemu-aarch64-static", "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"],
    packages: ["qemu-user-static", "libc6-arm64-cross"],
  },
  openssl: { files: ["/usr/bin/openssl"], packages: ["openssl"] },
  strace: { files: ["/usr/bin/strace"], packages: ["strace"] },
};

// Another apt-get (a second test file, an unattended upgrade) may hold dpkg's lock: wait for it
// rather than fail.
const LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=600"];

/** Installs what `names` need and is missing; returns the packages installed. */
export function ensureSystemPackages(names, log = (line) => console.error(line)) {
  const missing = [];
  for (const name of names) {
    const entry = SYSTEM_PACKAGES[name];
    if (entry === undefined) {
      throw new Error(
        `unknown system package "${name}" (known: ${Object.keys(SYSTEM_PACKAGES).join(", ")})`,
      );
    }
    if (!entry.files.every((file) => existsSync(file))) missing.push(...entry.packages);
  }
  if (missing.length === 0) return [];
  log(`ensure_system_packages: installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync(
      "apt-get",
      ["install", ...LOCK_WAIT, "-y", "-q", "--no-install-recommends", ...missing],
      { env, encoding: "utf8" },
    );
  let result = install();
  if (result.status !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync("apt-get", ["update", ...LOCK_WAIT, "-q"], { env, stdio: "ignore" });
    result = install();
  }
  if (result.status !== 0) {
    throw new Error(
      `apt-get install ${missing.join(" ")} failed (exit ${result.status}):\n` +
        `${result.stderr || result.error?.message || ""}`.trim(),
    );
  }
  return missing;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    ensureSystemPackages(process.argv.slice(2));
  } catch (error) {
    console.error(`ensure_system_packages: ${error.message}`);
    process.exit(1);
  }
}
