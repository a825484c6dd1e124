/**
 * A real nats-server cluster on loopback for the cluster tests: N nodes (Debian's nats-server,
 * installed when missing) from {@linkcode loopbackClusterConfigs}, on free ports, with users and
 * no anonymous access; waits for health, routes and a JetStream leader by polling, never by
 * sleeping. Nodes can be killed and restarted on the same ports and store.
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
import { loopbackClusterConfigs, type NatsCredentials } from "../../adapters/cluster/mod.ts";

/** Debian's nats-server. */
export const NATS_SERVER = "/usr/sbin/nats-server";

/** How long a node may take to be healthy (the machine may be loaded). */
const READY_TIMEOUT_MS = 30_000;

/** Log characters kept per node (the newest). */
const LOG_CAPACITY = 1 << 18;

/** A running cluster. */
export interface NatsCluster {
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

/** Starts an N-node cluster with `partitions` partitions in its subject mapping. */
export async function startNatsCluster(
  options: { nodes?: number; partitions?: number } = {},
): Promise<NatsCluster> {
  ensureSystemPackages(["nats-server"]);
  const count = options.nodes ?? 3;
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(count, options.partitions ?? 16);
    } catch (error) {
      if (attempt >= 2) throw error; // a port taken between the probe and the start, once
    }
  }
}

async function startOnce(count: number, partitions: number): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-nats-"));
  const ports = await freePorts(4 * count);
  const nodes = Array.from({ length: count }, (_, i) => ({
    port: ports[4 * i],
    clusterPort: ports[4 * i + 1],
    mqttPort: ports[4 * i + 2],
    httpPort: ports[4 * i + 3],
  }));
  const gateway = { user: "foxtail-gateway", password: 'gw secret "quoted"' };
  const publisher = { user: "foxtail-sensor", password: "sensor-secret" };
  const configs = loopbackClusterConfigs({
    nodes,
    storeRoot: join(dir, "store"),
    partitions,
    gateway,
    publisher,
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
    const child = spawn(NATS_SERVER, ["-c", files[i]], { stdio: ["ignore", "ignore", "pipe"] });
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
    clientUrls: nodes.map((n) => `nats://127.0.0.1:${n.port}`),
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
