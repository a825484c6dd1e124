/**
 * The cluster tests' NATS cluster: {@linkcode startLocalCluster} with Debian's nats-server
 * installed first when missing, and a gateway password that needs quoting in the servers'
 * configuration (so the generator's quoting is exercised).
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";
import {
  type LocalCluster,
  type LocalClusterOptions,
  startLocalCluster,
} from "../../adapters/cluster/mod.ts";
import { smallConfig } from "./gateway_fixtures.ts";

/** Debian's nats-server. */
export const NATS_SERVER = "/usr/sbin/nats-server";

/** A running cluster. */
export type NatsCluster = LocalCluster;

/** Starts an N-node cluster with `partitions` partitions in its subject mapping. */
export function startNatsCluster(
  options: Pick<LocalClusterOptions, "nodes" | "partitions" | "gatewayNkeys" | "tls"> = {},
): Promise<NatsCluster> {
  ensureSystemPackages(["nats-server"]);
  return startLocalCluster({
    ...options,
    executable: NATS_SERVER,
    gateway: { user: "foxtail-gateway", password: 'gw secret "quoted"' },
    publisher: { user: "foxtail-sensor", password: "sensor-secret" },
  });
}

/** The lease timing of a cluster instance's configuration. */
export interface InstanceTiming {
  partitions: number;
  leaseSeconds: number;
  renewSeconds: number;
  snapshotSeconds: number;
}

/**
 * Writes `<dir>/<id>.json`, the tests' small configuration with a `cluster` section for `cluster`
 * (the gateway user, the given timing), MQTT through the first node, and no dashboard unless
 * `overrides` gives one; returns its path.
 */
export function writeInstanceConfig(
  dir: string,
  cluster: NatsCluster,
  id: string,
  timing: InstanceTiming,
  overrides: Record<string, unknown> = {},
): string {
  const config = smallConfig({
    dashboard: { enabled: false },
    // The devices' states go out retained through a node's MQTT listener.
    mqtt: {
      url: cluster.mqttUrls[0],
      username: cluster.gateway.user,
      password: cluster.gateway.password,
      topicPrefix: "foxtail",
    },
    ...overrides,
    cluster: {
      servers: [...cluster.clientUrls],
      ...timing,
      instance: id,
      user: cluster.gateway.user,
      password: cluster.gateway.password,
    },
  });
  const path = join(dir, `${id}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}
