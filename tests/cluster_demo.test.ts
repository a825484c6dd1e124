// `foxtail demo --cluster`: three NATS nodes and three instances start, each with a dashboard
// whose status shows the cluster; one crashes, the survivors take all its partitions, and SIGTERM
// stops everything cleanly.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { ensureSystemPackages } from "../scripts/ensure_system_packages.mjs";
import { CLI, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";

const WAIT_MS = 90_000;

async function until(check: () => boolean | Promise<boolean>, what: string, log: () => string) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The partitions each instance's last status line says it holds. */
function heldNow(log: string): Map<string, number[]> {
  const held = new Map<string, number[]>();
  for (const m of log.matchAll(/^ {2}(demo-\d): (?:no partitions|partitions ([\d,]+)),/gm)) {
    held.set(m[1], m[2] === undefined ? [] : m[2].split(",").map(Number));
  }
  return held;
}

describe("foxtail demo --cluster", () => {
  test("three instances share the plant; a crash is taken over; SIGTERM stops", {
    timeout: 150_000,
  }, async () => {
    ensureSystemPackages(["nats-server"]);
    const [command, prefix] = runtimeCommand(CLI);
    const child = spawn(command, [
      ...prefix,
      "demo",
      "--cluster",
      "--port",
      "0",
      "--crash-after",
      "6",
    ], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (chunk) => out += chunk.toString());
    child.stderr!.on("data", (chunk) => err += chunk.toString());
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const log = () => `${out}\n${err.slice(-6000)}`;
    try {
      await until(() => (out.match(/dashboard at http/g) ?? []).length === 3, "3 dashboards", log);
      const url = out.match(/demo-1's dashboard at (http:\/\/\S+)/)![1];
      await until(
        async () => {
          const s = await (await fetch(`${url}api/status`)).json();
          return s.cluster.members.length === 3 && s.counters.accepted > 0;
        },
        "demo-1 to see three members and score",
        log,
      );
      await until(() => /demo-3 crashes now/.test(err), "the crash", log);
      await until(
        () => {
          const held = heldNow(err.slice(err.indexOf("demo-3 crashes now")));
          const survivors = [...(held.get("demo-1") ?? []), ...(held.get("demo-2") ?? [])];
          return new Set(survivors).size === 16 && held.get("demo-3")?.length === 0;
        },
        "the survivors to hold all 16 partitions",
        log,
      );
      child.kill("SIGTERM");
      const code = await exited;
      // Deno's child_process reports a child that exited 0 after a SIGTERM as code null.
      if (code !== null || !("Deno" in globalThis)) assert.equal(code, 0, log());
      assert.match(err, /foxtail demo: stopped/);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
