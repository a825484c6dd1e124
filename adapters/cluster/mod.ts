/**
 * The cluster's side that talks to NATS: the servers' configuration (JetStream, MQTT, the
 * partition mapping, users), the connection, the leases in a JetStream KV bucket and the
 * partitions' snapshots in an object store.
 *
 * @module
 */
export * from "./nats_server_config.ts";
export * from "./nats_connection.ts";
export * from "./nats_lease_store.ts";
export * from "./partition_snapshots.ts";
export * from "./cluster_gateway.ts";
export * from "./partition_worker.ts";
export * from "./local_cluster.ts";
