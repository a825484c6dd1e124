/**
 * One real nats-server with JetStream for the NATS adapter tests (the multi-node harness is
 * tests/support/nats_cluster.ts): installed with apt-get when missing, configured on free
 * loopback ports with a user and password, ready once its /healthz answers ok, and killed (or
 * restarted on its ports with its JetStream store) by the test.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";

/** Debian's nats-server executable. */
export const NATS_SERVER = "/usr/sbin/nats-server";

/** How long nats-server may take to become healthy (the machine may be loaded). */
const READY_TIMEOUT_MS = 20_000;

/** Most log characters kept (the newest). */
const LOG_CAPACITY = 1 << 20;

/** A nats-server, prepared on its ports; running once started. */
export interface NatsServer {
  /** The client URL, `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** The client port (kept across restarts). */
  readonly port: number;
  /** The monitoring port (/healthz). */
  readonly httpPort: number;
  /** The MQTT listener's URL, when asked for one. */
  readonly mqttUrl: string | undefined;
  /** The user allowed to connect, and its password. */
  readonly user: string;
  readonly password: string;
  /** What nats-server logged so far. */
  log(): string;
  /** Starts it and waits until /healthz answers ok. */
  start(): Promise<void>;
  /** Kills it with SIGKILL and waits for it to exit (its JetStream store is kept). */
  kill(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
}

/** A port the system has just handed out on 127.0.0.1 (free unless someone takes it first). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether /healthz on `httpPort` answers `{"status":"ok"}` (JetStream ready included). */
async function healthy(httpPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    const body = await response.text();
    return response.ok && JSON.parse(body).status === "ok";
  } catch {
    return false;
  }
}

/** Options of {@linkcode prepareNatsServer}. */
export interface NatsServerOptions {
  /** The user allowed to connect (default `gw`), and its password. */
  user?: string;
  password?: string;
  /** Whether it listens for MQTT too (then `mqttUrl` names the listener). */
  mqtt?: boolean;
}

/**
 * Prepares a nats-server on free ports (not started: a test may want its URL before it runs);
 * installs nats-server first when missing.
 */
export async function prepareNatsServer(
  options: NatsServerOptions = {},
): Promise<NatsServer> {
  ensureSystemPackages(["nats-server"]);
  const user = options.user ?? "gw";
  const password = options.password ?? "gw-secret-pass";
  const dir = mkdtempSync(join(tmpdir(), "foxtail-nats-"));
  const port = await freePort();
  const httpPort = await freePort();
  const mqttPort = options.mqtt ? await freePort() : undefined;
  const configPath = join(dir, "nats.conf");
  writeFileSync(
    configPath,
    [
      `server_name: foxtail-test`, // MQTT needs one
      `listen: 127.0.0.1:${port}`,
      `http: 127.0.0.1:${httpPort}`,
      ...(mqttPort === undefined ? [] : [`mqtt { listen: 127.0.0.1:${mqttPort} }`]),
      `jetstream { store_dir: ${JSON.stringify(join(dir, "jetstream"))} }`,
      `authorization { users: [ { user: ${JSON.stringify(user)}, ` +
      `password: ${JSON.stringify(password)} } ] }`,
      "",
    ].join("\n"),
  );
  let logText = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    running.kill("SIGKILL");
    await exited;
  };

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    httpPort,
    mqttUrl: mqttPort === undefined ? undefined : `mqtt://127.0.0.1:${mqttPort}`,
    user,
    password,
    log: () => logText,
    async start() {
      if (child !== undefined) throw new Error("nats-server is running already");
      const proc = spawn(NATS_SERVER, ["-c", configPath], { stdio: ["ignore", "pipe", "pipe"] });
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
        logText += `spawn ${NATS_SERVER}: ${error.message}\n`;
      });
      const append = (chunk: Uint8Array) => {
        logText += chunk.toString();
        if (logText.length > LOG_CAPACITY) logText = logText.slice(-LOG_CAPACITY / 2);
      };
      proc.stdout!.on("data", append);
      proc.stderr!.on("data", append);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!(await healthy(httpPort))) {
        if (!running) throw new Error(`nats-server exited before it was healthy:\n${logText}`);
        if (Date.now() > deadline) {
          await kill();
          throw new Error(`nats-server not healthy within ${READY_TIMEOUT_MS} ms:\n${logText}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    kill,
    async stop() {
      await kill();
      process.removeListener("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Prepares a nats-server and starts it. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const server = await prepareNatsServer(options);
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * The `cluster` section of an instance on this one server, with short leases (1 s, renewed every
 * 0.2 s) and snapshots only at a handover, as the in-process cluster tests run them.
 */
export function singleServerCluster(server: NatsServer, partitions: number, instance: string) {
  return {
    servers: [server.url],
    partitions,
    leaseSeconds: 1,
    renewSeconds: 0.2,
    snapshotSeconds: 3600, // only the handover's snapshot
    instance,
    user: server.user,
    password: server.password,
  };
}
