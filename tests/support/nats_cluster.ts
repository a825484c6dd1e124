/**
 * The cluster tests' NATS cluster: {@linkcode startLocalCluster} with Debian's nats-server
 * installed first when missing, and a gateway password that needs quoting in the servers'
 * configuration (so the generator's quoting is exercised).
 *
 * @module
 */

import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";
import { type LocalCluster, startLocalCluster } from "../../adapters/cluster/mod.ts";

/** Debian's nats-server. */
export const NATS_SERVER = "/usr/sbin/nats-server";

/** A running cluster. */
export type NatsCluster = LocalCluster;

/** Starts an N-node cluster with `partitions` partitions in its subject mapping. */
export function startNatsCluster(
  options: { nodes?: number; partitions?: number } = {},
): Promise<NatsCluster> {
  ensureSystemPackages(["nats-server"]);
  return startLocalCluster({
    ...options,
    executable: NATS_SERVER,
    gateway: { user: "foxtail-gateway", password: 'gw secret "quoted"' },
    publisher: { user: "foxtail-sensor", password: "sensor-secret" },
  });
}
