/**
 * A fleet's devices shared by many gateways: partitions, their leases and their hand-over.
 *
 * @module
 */
export * from "./lease_store.ts";
export * from "./partition_plan.ts";
export * from "./cluster_settings.ts";
export * from "./partition_leases.ts";
export * from "./device_partition.ts";
