export * from "./nats_lease_store.ts";
export * from "./partition_snapshots.ts";
export * from "./nats_connection.ts";
