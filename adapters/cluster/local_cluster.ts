/**
 * A nats-server cluster on this machine's loopback, for the cluster demo and the tests: N nodes
 * from {@linkcode loopbackClusterConfigs} on free ports, with a gateway user and a sensors user
 * and no anonymous access. It waits for health, routes and a JetStream meta leader by polling the
 * monitoring port, never by sleeping. Nodes can be killed and restarted on the same ports and
 * store.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import process from "node:process";
import { loopbackClusterConfigs, type NatsCredentials } from "./nats_server_config.ts";

/** How long a node may take to be healthy (the machine may be loaded). */
const READY_TIMEOUT_MS = 30_000;

/** Log characters kept per node (the newest). */
const LOG_CAPACITY = 1 << 18;

/** A running local cluster. */
export interface LocalCluster {
  /** Each node's client URL. */
  readonly clientUrls: readonly string[];
  /** Each node's MQTT URL. */
  readonly mqttUrls: readonly string[];
  /** The instances' user. */
  readonly gateway: NatsCredentials;
  /** The sensors' user. */
  readonly publisher: NatsCredentials;
  /** Node `i`'s log so far. */
  log(i: number): string;
  /** Kills node `i` (SIGKILL unless said) and waits for it to exit. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts node `i` again on its ports and store; waits until it is healthy with its routes. */
  restart(i: number): Promise<void>;
  /** Kills every node and removes the folder. */
  stop(): Promise<void>;
}

/** Free loopback ports (bound then released: another process could take one, so start retries). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function json(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.json() : (await response.body?.cancel(), undefined);
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode startLocalCluster}. */
export interface LocalClusterOptions {
  /** Nodes (default 3). */
  nodes?: number;
  /** Partitions of the subject mapping (default 16). */
  partitions?: number;
  /** The instances' user (default: `foxtail-gateway` with a random password). */
  gateway?: NatsCredentials;
  /** The sensors' user (default: `foxtail-sensor` with a random password). */
  publisher?: NatsCredentials;
  /** NKey public keys with the instances' rights (instances that sign in by seed). */
  gatewayNkeys?: readonly string[];
  /** TLS on the client ports (PEM paths); the client URLs are then `tls://`. */
  tls?: { cert: string; key: string; ca?: string };
  /** The nats-server executable (default: `nats-server` on the PATH, else Debian's). */
  executable?: string;
}

/**
 * Starts an N-node loopback cluster and waits until every node is healthy, routed to the others
 * and agrees on a JetStream meta leader.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const executable = options.executable ?? findNatsServer();
  const count = options.nodes ?? 3;
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(executable, count, options);
    } catch (error) {
      if (attempt >= 2) throw error; // a port taken between the probe and the start, once
    }
  }
}

/** `nats-server` on the PATH, else Debian's; a clear error when neither is there. */
function findNatsServer(): string {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of [...dirs, "/usr/sbin"]) {
    const candidate = join(dir, "nats-server");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    "nats-server not found on the PATH nor in /usr/sbin: install it (Debian: apt-get install " +
      "nats-server; or `npm run test:setup`, which does)",
  );
}

async function startOnce(
  executable: string,
  count: number,
  options: LocalClusterOptions,
): Promise<LocalCluster> {
  const partitions = options.partitions ?? 16;
  const dir = mkdtempSync(join(tmpdir(), "foxtail-nats-"));
  const ports = await freePorts(4 * count);
  const nodes = Array.from({ length: count }, (_, i) => ({
    port: ports[4 * i],
    clusterPort: ports[4 * i + 1],
    mqttPort: ports[4 * i + 2],
    httpPort: ports[4 * i + 3],
  }));
  const gateway = options.gateway ??
    { user: "foxtail-gateway", password: randomBytes(12).toString("hex") };
  const publisher = options.publisher ??
    { user: "foxtail-sensor", password: randomBytes(12).toString("hex") };
  const configs = loopbackClusterConfigs({
    nodes,
    storeRoot: join(dir, "store"),
    partitions,
    gateway,
    publisher,
    gatewayNkeys: options.gatewayNkeys,
    tls: options.tls,
  });
  const files = configs.map(({ name, config }) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, config);
    return file;
  });
  const children: (ChildProcess | undefined)[] = new Array(count).fill(undefined);
  const logs: string[] = new Array(count).fill("");
  const killAll = () => children.forEach((c) => c?.kill("SIGKILL"));
  process.once("exit", killAll);

  const launch = (i: number) => {
    const child = spawn(executable, ["-c", files[i]], { stdio: ["ignore", "ignore", "pipe"] });
    children[i] = child;
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      logs[i] = (logs[i] + text).slice(-LOG_CAPACITY);
    });
    child.once("exit", () => {
      if (children[i] === child) children[i] = undefined;
    });
  };
  const monitor = (i: number, path: string) => json(`http://127.0.0.1:${nodes[i].httpPort}${path}`);
  /** Healthy with JetStream, routed to every live node, and a meta leader known. */
  const ready = async (i: number) => {
    const live = children.filter((c) => c !== undefined).length;
    const [health, routes, jsz] = await Promise.all([
      monitor(i, "/healthz?js-enabled-only=true"),
      monitor(i, "/routez"),
      monitor(i, "/jsz"),
    ]);
    const leader = (jsz?.meta_cluster as { leader?: string } | undefined)?.leader;
    return health?.status === "ok" && routes?.num_routes === live - 1 && !!leader;
  };
  const waitReady = async (which: number[]) => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const i of which) {
      while (!(await ready(i))) {
        if (children[i] === undefined) {
          throw new Error(`nats-server n${i + 1} exited while starting:\n${logs[i]}`);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `nats-server n${i + 1} not ready after ${READY_TIMEOUT_MS} ms:\n${logs[i]}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const kill = async (i: number, signal: NodeJS.Signals = "SIGKILL") => {
    const child = children[i];
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  };
  const stop = async () => {
    await Promise.all(children.map((_, i) => kill(i)));
    process.removeListener("exit", killAll);
    rmSync(dir, { recursive: true, force: true });
  };

  for (let i = 0; i < count; i++) launch(i);
  try {
    await waitReady(nodes.map((_, i) => i));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    clientUrls: nodes.map((n) => `${options.tls ? "tls" : "nats"}://127.0.0.1:${n.port}`),
    mqttUrls: nodes.map((n) => `mqtt://127.0.0.1:${n.mqttPort}`),
    gateway,
    publisher,
    log: (i) => logs[i],
    kill,
    restart: async (i) => {
      await kill(i);
      launch(i);
      await waitReady(nodes.map((_, j) => j).filter((j) => children[j] !== undefined));
    },
    stop,
  };
}
