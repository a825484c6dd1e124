/**
 * Partition snapshots in a JetStream object store (@nats-io/obj): each one sealed (kind "PSNP",
 * version 1: checksummed) with the partition, the stream sequence consumed up to, the time it
 * was taken and the partition's state bytes. The newest two of each partition are kept; reading
 * takes the newest sound one and reports the ones it refused.
 *
 * Each partition has a fixed set of slots, objects named `p<partition>.<slot>` (`p7.0`, `p7.1`);
 * a new snapshot overwrites the slot of the oldest, and the object's metadata says the sequence.
 * So finding a partition's snapshots is one lookup per slot, never a listing of the store (a
 * listing creates a consumer, which nats-server 2.9 may place on a dead node: see
 * stream_reads.ts), and the store holds a bounded number of names (every deleted name would
 * leave a marker behind for good).
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj";
import { ByteReader, ByteWriter, seal, unseal } from "../../core/codec/mod.ts";
import { plainBytes } from "./nats_lease_store.ts";
import { readSubject } from "./stream_reads.ts";

/** The envelope kind of a partition snapshot. */
export const SNAPSHOT_KIND = "PSNP";
/** The format version written. */
export const SNAPSHOT_VERSION = 1;
const SUPPORTED_VERSIONS = [1] as const;
/** The object metadata entry that holds a snapshot's stream sequence. */
export const SEQUENCE_METADATA = "foxtail-sequence";
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
  /** The sequence its metadata gives (NaN when it gives none). */
  sequence: number;
  /** What is wrong with it. */
  reason: string;
}

/** One of a partition's stored snapshots, as its metadata describes it (not yet read). */
export interface StoredSnapshot {
  /** The object's name. */
  name: string;
  /** Its slot. */
  slot: number;
  /** The sequence its metadata gives (NaN when it gives none). */
  sequence: number;
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
  /** The snapshot it replaced in that slot, or null when the slot was empty. */
  replaced: StoredSnapshot | null;
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

/** The object name of `partition`'s snapshot slot `slot`. */
export function snapshotName(partition: number, slot: number): string {
  checkPartition(partition);
  if (!Number.isSafeInteger(slot) || slot < 0) {
    throw new RangeError(`slot must be an integer ≥ 0, got ${slot}`);
  }
  return `p${partition}.${slot}`;
}

/**
 * Whether a refusal's reason is the cluster not answering (a timeout, no responders) rather than
 * something wrong with the snapshot: such a snapshot may be sound, to be read again later.
 */
export function isUnanswered(reason: string): boolean {
  return /timeout|no responders/i.test(reason);
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
  /** Snapshots kept per partition, its slots (≥ 1; default 2). */
  keep?: number;
  /** The clock (milliseconds since the epoch) that stamps snapshots. */
  now?: () => number;
}

/** The partition snapshots of one object store. */
export class PartitionSnapshots {
  /** The object store. */
  readonly store: ObjectStore;
  /** The object store's name. */
  readonly bucket: string;
  readonly #jsm: JetStreamManager;
  #keep: number;
  #now: () => number;
  /** Per partition, the slots the last {@linkcode latest} refused: the first to overwrite. */
  readonly #refusedSlots = new Map<number, Set<number>>();

  /** `store` is the object store named `bucket`; `jsm` reads its chunks. */
  constructor(
    store: ObjectStore,
    bucket: string,
    jsm: JetStreamManager,
    options: PartitionSnapshotsOptions = {},
  ) {
    const keep = options.keep ?? SNAPSHOTS_KEPT;
    if (!Number.isSafeInteger(keep) || keep < 1) {
      throw new RangeError(`keep must be an integer ≥ 1, got ${keep}`);
    }
    this.store = store;
    this.bucket = bucket;
    this.#jsm = jsm;
    this.#keep = keep;
    this.#now = options.now ?? Date.now;
  }

  /** `partition`'s stored snapshots, newest first (those without a sequence last). */
  async stored(partition: number): Promise<StoredSnapshot[]> {
    return (await this.#slots(partition)).map(({ info: _info, ...rest }) => rest);
  }

  async #slots(partition: number): Promise<(StoredSnapshot & { info: ObjectInfo })[]> {
    checkPartition(partition);
    const names = Array.from({ length: this.#keep }, (_, slot) => snapshotName(partition, slot));
    const infos = await Promise.all(names.map((name) => this.store.info(name)));
    const out: (StoredSnapshot & { info: ObjectInfo })[] = [];
    infos.forEach((info, slot) => {
      if (info === null || info.deleted) return;
      const sequence = Number(info.metadata?.[SEQUENCE_METADATA] ?? NaN);
      out.push({ name: names[slot], slot, sequence, info });
    });
    const rank = (s: StoredSnapshot) => (Number.isSafeInteger(s.sequence) ? s.sequence : -1);
    return out.sort((a, b) => rank(b) - rank(a));
  }

  /**
   * Writes `partition`'s state as consumed up to stream `sequence`: in an empty slot, else over
   * one that {@linkcode latest} refused here, else over the oldest (so the newest sound one is
   * kept while `keep` ≥ 2).
   */
  async put(partition: number, sequence: number, state: Uint8Array): Promise<PutResult> {
    const bytes = encodeSnapshot(partition, sequence, this.#now(), state);
    const slots = await this.#slots(partition);
    const taken = new Set(slots.map((s) => s.slot));
    let slot = 0;
    while (taken.has(slot)) slot++;
    let replaced: StoredSnapshot | null = null;
    if (slot >= this.#keep) {
      const refused = this.#refusedSlots.get(partition);
      const { info: _info, ...victim } = slots.find((s) => refused?.has(s.slot)) ??
        slots[slots.length - 1];
      replaced = victim;
      slot = victim.slot;
    }
    this.#refusedSlots.get(partition)?.delete(slot);
    const name = snapshotName(partition, slot);
    // The object store writes the new chunks, then the name's metadata, then drops the old
    // chunks: a crash in between leaves the previous snapshot of that slot whole.
    await this.store.putBlob({ name, metadata: { [SEQUENCE_METADATA]: String(sequence) } }, bytes);
    return { name, replaced };
  }

  /**
   * The newest sound snapshot of `partition`: one whose chunks are all there, whose envelope and
   * checksum are good, that names this partition and the sequence its metadata says. Refused
   * ones are reported.
   */
  async latest(partition: number): Promise<LatestSnapshot> {
    const refused: RefusedSnapshot[] = [];
    const refusedSlots = new Set<number>();
    this.#refusedSlots.set(partition, refusedSlots);
    for (const { name, slot, sequence, info } of await this.#slots(partition)) {
      const refuse = (reason: string) => {
        refused.push({ name, sequence, reason });
        // One the cluster could not hand over now may be sound: not the first to overwrite.
        if (!isUnanswered(reason)) refusedSlots.add(slot);
      };
      let bytes: Uint8Array;
      try {
        bytes = await this.#read(info);
      } catch (error) {
        refuse(`cannot read it: ${(error as Error).message}`);
        continue;
      }
      let decoded: Omit<PartitionSnapshot, "name">;
      try {
        decoded = decodeSnapshot(name, bytes);
      } catch (error) {
        refuse((error as Error).message);
        continue;
      }
      if (decoded.partition !== partition) {
        refuse(`holds partition ${decoded.partition}, not partition ${partition}`);
        continue;
      }
      if (decoded.sequence !== sequence) {
        refuse(`holds sequence ${decoded.sequence}, its metadata says ${sequence}`);
        continue;
      }
      return { snapshot: { name, ...decoded }, refused };
    }
    return { snapshot: null, refused };
  }

  /** An object's bytes, its chunks read by message get (see stream_reads.ts), digest checked. */
  async #read(info: ObjectInfo): Promise<Uint8Array> {
    const chunks = await readSubject(
      this.#jsm,
      `OBJ_${this.bucket}`,
      `$O.${this.bucket}.C.${info.nuid}`,
      { limit: info.chunks + 1 },
    );
    const size = chunks.reduce((n, c) => n + c.data.length, 0);
    if (chunks.length !== info.chunks || size !== info.size) {
      throw new Error(
        `${chunks.length} of its ${info.chunks} chunks are there (${size} of ${info.size} bytes)`,
      );
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk.data, at);
      at += chunk.data.length;
    }
    const digest = await sha256Digest(bytes);
    if (digest !== info.digest) {
      throw new Error(`its digest is ${digest}, the object store says ${info.digest}`);
    }
    return bytes;
  }
}

/** The object store's digest of `bytes`: "SHA-256=" and the URL-safe padded base64 (ADR-20). */
async function sha256Digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let binary = "";
  for (const byte of hash) binary += String.fromCharCode(byte);
  return `SHA-256=${btoa(binary).replaceAll("+", "-").replaceAll("/", "_")}`;
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
  return new PartitionSnapshots(store, options.name, await jetstreamManager(nc), options);
}
