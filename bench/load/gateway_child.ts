/**
 * `foxtail run` as a child process of the runtime under test, for the load benchmark and its
 * smoke test: started with a configuration file, read through its dashboard's `/api/status`,
 * its resident memory read from `/proc/<pid>/status`, stopped with SIGTERM.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, runtimeCommand } from "../../tests/support/run_cli.ts";
import { ROOT } from "../../tests/support/shared.ts";
import type { GatewayStatus } from "../../adapters/gateway/mod.ts";

/** Most log characters kept (the newest), so a long soak cannot grow the bench's memory. */
const LOG_CAPACITY = 1 << 16;

/** How long the gateway may take to subscribe and serve its dashboard (the machine may be loaded). */
const READY_TIMEOUT_MS = 60_000;

/** A running gateway child. */
export interface GatewayChild {
  /** The child's process id (the runtime itself: Deno, Bun and Node run the CLI in-process). */
  readonly pid: number;
  /** The dashboard's base URL, e.g. `http://127.0.0.1:40123`. */
  readonly dashboardUrl: string;
  /** The newest part of what the gateway logged. */
  log(): string;
  /** `/api/status`: counters, queue, MQTT link. */
  status(): Promise<GatewayStatus>;
  /** The resident set size now, in bytes (VmRSS), or NaN once the process is gone. */
  rss(): number;
  /** Sends SIGTERM and waits for the exit; resolves with the log's last lines. */
  stop(): Promise<string>;
}

/**
 * Writes `config` to `dir/foxtail.json`, starts `foxtail run` on it with the dashboard on a free
 * loopback port, and resolves once it has subscribed and its dashboard answers. `runtimeFlags` go
 * to the runtime, before the script.
 */
export async function startGatewayChild(
  config: Record<string, unknown>,
  dir: string,
  runtimeFlags: readonly string[] = [],
  executable?: string,
): Promise<GatewayChild> {
  const configPath = join(dir, "foxtail.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const [command, prefix] = executable === undefined
    ? runtimeCommand(CLI)
    : [resolve(executable), [] as string[]];
  // The runtime's own flags (e.g. Node's --cpu-prof) go just before the script.
  const args = [
    ...prefix.slice(0, -1),
    ...runtimeFlags,
    ...prefix.slice(-1),
    "run",
    "--config",
    configPath,
    "--dashboard-host",
    "127.0.0.1",
    "--dashboard-port",
    "0",
  ];
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logText = "";
  const append = (chunk: Buffer) => {
    logText += chunk.toString();
    if (logText.length > LOG_CAPACITY) logText = logText.slice(-LOG_CAPACITY / 2);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let running = true;
  void exited.then(() => running = false);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${command} ${args.join(" ")}`);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let dashboardUrl: string | undefined;
  while (dashboardUrl === undefined || !/mqtt: subscribed/.test(logText)) {
    if (!running) throw new Error(`foxtail run exited before it was ready:\n${logText}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`foxtail run was not ready within ${READY_TIMEOUT_MS} ms:\n${logText}`);
    }
    dashboardUrl ??= /dashboard at (http:\/\/\S+?)\/? /.exec(logText)?.[1];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = dashboardUrl;

  return {
    pid,
    dashboardUrl: url,
    log: () => logText,
    status: async () => {
      const response = await fetch(`${url}/api/status`);
      if (!response.ok) throw new Error(`GET /api/status: ${response.status}`);
      return await response.json() as GatewayStatus;
    },
    rss: () => residentBytes(pid),
    stop: async () => {
      if (running) child.kill("SIGTERM");
      await exited;
      return logText;
    },
  };
}

/** VmRSS of process `pid` in bytes, from `/proc/<pid>/status`; NaN when unreadable. */
export function residentBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return NaN;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match === null ? NaN : Number(match[1]) * 1024;
}
