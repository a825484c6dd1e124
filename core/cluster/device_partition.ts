/**
 * Which partition a device's telemetry lands in: the same function as nats-server's subject
 * mapping `partition(P, 1)` (FNV-1a, 32 bits, over the device token, modulo P). An instance
 * checks it on every consumed message, because a publisher allowed to send telemetry could also
 * write into a partition directly (nats-server checks publish permissions after the mapping).
 *
 * @module
 */

/**
 * The partition of `device` among `partitions`, as nats-server's `partition()` computes it.
 *
 * @example
 * ```ts
 * import { devicePartition } from "./device_partition.ts";
 * const k = devicePartition("boiler-7", 64); // 0 ≤ k < 64, the same on every instance
 * ```
 */
export function devicePartition(device: string, partitions: number): number {
  let hash = 0x811c9dc5;
  // nats-server hashes the token's UTF-8 bytes; device tokens are ASCII in practice, and a
  // non-ASCII one is encoded the same way here.
  const bytes = device.length === utf8Length(device) ? undefined : encoder.encode(device);
  const n = bytes === undefined ? device.length : bytes.length;
  for (let i = 0; i < n; i++) {
    hash ^= bytes === undefined ? device.charCodeAt(i) : bytes[i];
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

const encoder = new TextEncoder();

/** The UTF-8 length of `s` when it is ASCII (else larger than `s.length`). */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return s.length + 1;
  return s.length;
}
