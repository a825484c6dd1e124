/**
 * A real mosquitto broker for the gateway tests: installed with apt-get when missing, started
 * from a generated configuration on a free loopback port, and stopped (or killed and restarted
 * on the same port) by the test.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";
import type { TestBroker } from "./mqtt_broker.ts";

/** Debian's mosquitto executable. */
export const MOSQUITTO = "/usr/sbin/mosquitto";

/** How long mosquitto may take to accept connections (the machine may be loaded). */
const READY_TIMEOUT_MS = 15_000;

/** Most log characters kept (the newest); a long test must not grow the log without bound. */
const LOG_CAPACITY = 1 << 20;

/** A running mosquitto. */
export interface MosquittoBroker extends TestBroker {
  /** The loopback port it listens on (kept across {@linkcode MosquittoBroker.restart}). */
  readonly port: number;
  /** mosquitto's process id now (undefined while it is not running). */
  pid(): number | undefined;
  /** What mosquitto logged so far (connections with their protocol level, e.g. `(p5, c1, k60)`). */
  log(): string;
  /** Kills mosquitto with SIGKILL, as a crash or power cut would, and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts mosquitto again on the same port and waits until it accepts connections. */
  restart(): Promise<void>;
}

/** Options of {@linkcode startMosquitto}. */
export interface MosquittoOptions {
  /**
   * More `mosquitto.conf` lines, appended to the defaults (e.g. `max_queued_messages 100000`
   * or `sys_interval 1` for a load benchmark).
   */
  extraConfig?: readonly string[];
}

/** The configuration file: one anonymous loopback listener, nothing persisted. */
function configText(port: number, extra: readonly string[]): string {
  return [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    "connection_messages true",
    ...extra,
    "",
  ].join("\n");
}

/** A port the system has just handed out on 127.0.0.1 (free unless someone takes it first). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts mosquitto on a free 127.0.0.1 port; installs it first (apt-get) when missing.
 * A port taken between choosing and binding is retried with another one.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const extra = options.extraConfig ?? [];
  ensureSystemPackages(["mosquitto"]);
  const dir = mkdtempSync(join(tmpdir(), "foxtail-mosquitto-"));
  const configPath = join(dir, "mosquitto.conf");
  let logText = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (port: number): Promise<void> => {
    writeFileSync(configPath, configText(port, extra));
    const proc = spawn(MOSQUITTO, ["-c", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let running = true;
    exited = new Promise((resolve) => {
      proc.once("exit", () => {
        running = false;
        resolve();
      });
    });
    proc.once("error", (error) => {
      running = false;
      logText += `spawn ${MOSQUITTO}: ${error.message}\n`;
    });
    proc.stderr!.on("data", (chunk) => {
      logText += chunk.toString();
      if (logText.length > LOG_CAPACITY) logText = logText.slice(-LOG_CAPACITY / 2);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await accepts(port))) {
      if (!running) {
        throw new Error(`mosquitto exited before listening on port ${port}:\n${logText}`);
      }
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`mosquitto did not listen on port ${port} within ${READY_TIMEOUT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const stopWith = async (signal: "SIGKILL" | "SIGTERM"): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    running.kill(signal);
    await exited;
  };

  // A test that dies before its cleanup must not leave mosquitto running after the run.
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  let port = 0;
  for (let attempt = 1;; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      break;
    } catch (error) {
      await stopWith("SIGKILL");
      if (attempt === 3) {
        process.off("exit", killOnExit);
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    log: () => logText,
    kill: () => stopWith("SIGKILL"),
    restart: async () => {
      await stopWith("SIGKILL");
      await launch(port);
    },
    close: async () => {
      await stopWith("SIGTERM");
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
