/**
 * Partition snapshots in a JetStream object store (@nats-io/obj): each one sealed (kind "PSNP",
 * version 1: checksummed) with the partition, the stream sequence consumed up to, the time it
 * was taken and the partition's state bytes. The newest two of each partition are kept; reading
 * takes the newest sound one and reports the ones it refused.
 *
 * Object names: `p<partition>.s<sequence, 16 digits zero-padded>` (e.g. `p7.s0000000000001234`),
 * so the names of one partition sort in sequence order (2^53 has 16 digits).
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { ByteReader, ByteWriter, seal, unseal } from "../../core/codec/mod.ts";
import { plainBytes } from "./nats_lease_store.ts";

/** The envelope kind of a partition snapshot. */
export const SNAPSHOT_KIND = "PSNP";
/** The format version written. */
export const SNAPSHOT_VERSION = 1;
const SUPPORTED_VERSIONS = [1] as const;
/** Digits of the sequence in an object name. */
const SEQUENCE_DIGITS = 16;
/** Snapshots kept per partition by default. */
export const SNAPSHOTS_KEPT = 2;

/** One partition snapshot, as read back. */
export interface PartitionSnapshot {
  /** The object's name. */
  name: string;
  /** The partition it holds. */
  partition: number;
  /** The stream sequence consumed up to (included). */
  sequence: number;
  /** When it was taken (milliseconds since the epoch). */
  takenAt: number;
  /** The partition's state. */
  state: Uint8Array;
}

/** A snapshot passed over by {@linkcode PartitionSnapshots.latest}, and why. */
export interface RefusedSnapshot {
  /** The object's name. */
  name: string;
  /** What is wrong with it. */
  reason: string;
}

/** What {@linkcode PartitionSnapshots.latest} found. */
export interface LatestSnapshot {
  /** The newest sound snapshot, or null when there is none. */
  snapshot: PartitionSnapshot | null;
  /** Newer snapshots refused on the way, newest first. */
  refused: RefusedSnapshot[];
}

/** What {@linkcode PartitionSnapshots.put} did. */
export interface PutResult {
  /** The name written. */
  name: string;
  /** Older snapshots of the partition deleted after the write. */
  removed: string[];
}

function checkPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new RangeError(`partition must be an integer ≥ 0, got ${partition}`);
  }
}

function checkSequence(sequence: number): void {
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new RangeError(`sequence must be an integer ≥ 0, got ${sequence}`);
  }
}

/** The object name of `partition`'s snapshot at `sequence`. */
export function snapshotName(partition: number, sequence: number): string {
  checkPartition(partition);
  checkSequence(sequence);
  return `p${partition}.s${String(sequence).padStart(SEQUENCE_DIGITS, "0")}`;
}

/** The partition and sequence an object name gives, or undefined when it is not a snapshot's. */
export function parseSnapshotName(
  name: string,
): { partition: number; sequence: number } | undefined {
  const match = /^p(0|[1-9][0-9]*)\.s([0-9]{16})$/.exec(name);
  if (match === null) return undefined;
  const partition = Number(match[1]);
  const sequence = Number(match[2]);
  if (!Number.isSafeInteger(partition) || !Number.isSafeInteger(sequence)) return undefined;
  return { partition, sequence };
}

/** The sealed bytes of a snapshot. */
export function encodeSnapshot(
  partition: number,
  sequence: number,
  takenAt: number,
  state: Uint8Array,
): Uint8Array {
  checkPartition(partition);
  checkSequence(sequence);
  const payload = new ByteWriter()
    .f64(partition)
    .f64(sequence)
    .f64(takenAt)
    .u32(state.length)
    .bytes(state)
    .finish();
  return seal(SNAPSHOT_KIND, SNAPSHOT_VERSION, payload);
}

/** Reads sealed snapshot bytes; throws a `RangeError` saying what is wrong. */
export function decodeSnapshot(
  name: string,
  bytes: Uint8Array,
): Omit<PartitionSnapshot, "name"> {
  const what = `partition snapshot ${name}`;
  const { payload } = unseal(plainBytes(bytes), SNAPSHOT_KIND, SUPPORTED_VERSIONS, what);
  const reader = new ByteReader(payload, what);
  const partition = reader.f64();
  const sequence = reader.f64();
  const takenAt = reader.f64();
  const state = reader.bytes(reader.u32()).slice();
  if (reader.remaining !== 0) {
    throw new RangeError(`${what} has ${reader.remaining} bytes after its state`);
  }
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new RangeError(`${what} names no valid partition (${partition})`);
  }
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new RangeError(`${what} holds no valid sequence (${sequence})`);
  }
  return { partition, sequence, takenAt, state };
}

/** Options of {@linkcode PartitionSnapshots}. */
export interface PartitionSnapshotsOptions {
  /** Snapshots kept per partition (≥ 1; default 2). */
  keep?: number;
  /** The clock (milliseconds since the epoch) that stamps snapshots. */
  now?: () => number;
}

/** The partition snapshots of one object store. */
export class PartitionSnapshots {
  /** The object store. */
  readonly store: ObjectStore;
  #keep: number;
  #now: () => number;

  constructor(store: ObjectStore, options: PartitionSnapshotsOptions = {}) {
    const keep = options.keep ?? SNAPSHOTS_KEPT;
    if (!Number.isSafeInteger(keep) || keep < 1) {
      throw new RangeError(`keep must be an integer ≥ 1, got ${keep}`);
    }
    this.store = store;
    this.#keep = keep;
    this.#now = options.now ?? Date.now;
  }

  /** The names of `partition`'s snapshots, newest first. */
  async names(partition: number): Promise<string[]> {
    checkPartition(partition);
    const infos = await this.store.list();
    const names: string[] = [];
    for (const info of infos) {
      if (info.deleted) continue;
      if (parseSnapshotName(info.name)?.partition === partition) names.push(info.name);
    }
    // One partition's names differ only in the zero-padded sequence: their order is its order.
    return names.sort().reverse();
  }

  /**
   * Writes `partition`'s state as consumed up to stream `sequence`; once written, deletes the
   * partition's snapshots beyond the newest `keep`.
   */
  async put(partition: number, sequence: number, state: Uint8Array): Promise<PutResult> {
    const name = snapshotName(partition, sequence);
    const bytes = encodeSnapshot(partition, sequence, this.#now(), state);
    await this.store.putBlob({ name }, bytes);
    const names = await this.names(partition);
    const removed = names.slice(this.#keep);
    for (const old of removed) await this.store.delete(old);
    return { name, removed };
  }

  /**
   * The newest sound snapshot of `partition`: one whose envelope and checksum are good, that
   * names this partition and the sequence its object name says. Refused ones are reported.
   */
  async latest(partition: number): Promise<LatestSnapshot> {
    const refused: RefusedSnapshot[] = [];
    for (const name of await this.names(partition)) {
      let bytes: Uint8Array | null;
      try {
        bytes = await this.store.getBlob(name);
      } catch (error) {
        // The object store's own digest check, or chunks missing.
        refused.push({ name, reason: `cannot read it: ${(error as Error).message}` });
        continue;
      }
      if (bytes === null) continue; // deleted since the listing
      let decoded: Omit<PartitionSnapshot, "name">;
      try {
        decoded = decodeSnapshot(name, bytes);
      } catch (error) {
        refused.push({ name, reason: (error as Error).message });
        continue;
      }
      if (decoded.partition !== partition) {
        refused.push({
          name,
          reason: `holds partition ${decoded.partition}, not partition ${partition}`,
        });
        continue;
      }
      const named = parseSnapshotName(name)!;
      if (decoded.sequence !== named.sequence) {
        refused.push({
          name,
          reason: `holds sequence ${decoded.sequence}, its name says ${named.sequence}`,
        });
        continue;
      }
      return { snapshot: { name, ...decoded }, refused };
    }
    return { snapshot: null, refused };
  }
}

/** Options of {@linkcode openSnapshotStore}. */
export interface SnapshotStoreOptions extends PartitionSnapshotsOptions {
  /** The object store's name. */
  name: string;
  /** Copies kept by the cluster (1, 3 or 5); only used when the store is created. */
  replicas?: number;
}

/** Creates the snapshots' object store, or opens it when it exists. */
export async function openSnapshotStore(
  nc: NatsConnection,
  options: SnapshotStoreOptions,
): Promise<PartitionSnapshots> {
  const store = await new Objm(nc).create(options.name, { replicas: options.replicas ?? 1 });
  return new PartitionSnapshots(store, options);
}
