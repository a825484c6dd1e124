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
  if (isAscii(device)) {
    for (let i = 0; i < device.length; i++) {
      hash = Math.imul(hash ^ device.charCodeAt(i), 0x01000193);
    }
  } else {
    // nats-server hashes the token's UTF-8 bytes.
    for (const byte of encoder.encode(device)) hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

const encoder = new TextEncoder();

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
