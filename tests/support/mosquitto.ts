/**
 * A real mosquitto broker for the gateway tests: installed with apt-get when missing, started
 * from a generated configuration on a free loopback port (plain, or TLS with a password file),
 * and stopped (or killed and restarted on the same port) by the test.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";
import type { TestBroker } from "./mqtt_broker.ts";

/** Debian's mosquitto executable. */
export const MOSQUITTO = "/usr/sbin/mosquitto";

/** Writes mosquitto's password files (Debian's `mosquitto` package ships it too). */
export const MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd";

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
  /**
   * Makes the listener TLS only (PEM files; `cafile` is the CA the server's certificate chains
   * to) and the broker's `url` `mqtts://`. Clients are not asked for certificates.
   */
  tls?: { cafile: string; certfile: string; keyfile: string };
  /** Users and their passwords: when given, only they may connect (no anonymous clients). */
  users?: Readonly<Record<string, string>>;
}

/**
 * The configuration file: one loopback listener (TLS with `options.tls`), anonymous unless
 * `passwordFile` is given, nothing persisted.
 */
function configText(
  port: number,
  options: MosquittoOptions,
  passwordFile: string | undefined,
): string {
  const tls = options.tls;
  return [
    // Started by root, mosquitto reads these files only after becoming the `mosquitto` user,
    // who cannot enter the tests' private (0700) temporary folders: it stays root instead
    // (no effect when not started by root).
    ...(tls === undefined && passwordFile === undefined ? [] : ["user root"]),
    `listener ${port} 127.0.0.1`,
    ...(tls === undefined
      ? []
      : [`cafile ${tls.cafile}`, `certfile ${tls.certfile}`, `keyfile ${tls.keyfile}`]),
    ...(passwordFile === undefined
      ? ["allow_anonymous true"]
      : ["allow_anonymous false", `password_file ${passwordFile}`]),
    "persistence false",
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    "connection_messages true",
    ...(options.extraConfig ?? []),
    "",
  ].join("\n");
}

/** Writes `users` to a new mosquitto password file at `path` (passwords hashed). */
function writePasswordFile(path: string, users: Readonly<Record<string, string>>): void {
  let create = true;
  for (const [user, password] of Object.entries(users)) {
    // -c (create) for the first user only: it would truncate the file on every call.
    const args = ["-b", ...(create ? ["-c"] : []), path, user, password];
    create = false;
    const r = spawnSync(MOSQUITTO_PASSWD, args, { encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(
        `${MOSQUITTO_PASSWD} for ${user} failed: ${r.stderr?.trim() || r.error?.message}`,
      );
    }
  }
}

/** A port the system has just handed out on 127.0.0.1 (free unless someone takes it first). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Whether something accepts TCP connections on 127.0.0.1:`port` (a TLS listener too: the
 * handshake only follows the connect).
 */
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
  ensureSystemPackages(["mosquitto"]);
  const dir = mkdtempSync(join(tmpdir(), "foxtail-mosquitto-"));
  const configPath = join(dir, "mosquitto.conf");
  let passwordFile: string | undefined;
  if (options.users !== undefined) {
    passwordFile = join(dir, "passwords");
    try {
      writePasswordFile(passwordFile, options.users);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  let logText = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (port: number): Promise<void> => {
    writeFileSync(configPath, configText(port, options, passwordFile));
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
    url: `${options.tls === undefined ? "mqtt" : "mqtts"}://127.0.0.1:${port}`,
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
