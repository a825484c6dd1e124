/**
 * The cluster's {@linkcode LeaseStore} over a JetStream KV bucket (@nats-io/kv): the bucket's
 * TTL (the stream's max age) removes entries that are not rewritten in time, which is how a dead
 * instance's leases expire.
 *
 * A compare-and-set that loses a race comes back from JetStream as "wrong last sequence"; that
 * is the normal outcome of two instances going for one lease, so it is answered with null/false.
 * Anything else (the server unreachable, a timeout, a bad key) rejects.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { LeaseEntry, LeaseStore } from "../../core/cluster/mod.ts";
import { lastPerSubject } from "./stream_reads.ts";

/** Whether `error` is JetStream refusing a write whose expected last sequence did not hold. */
export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/**
 * `bytes` as a plain Uint8Array (a view, no copy): on Node the client hands out Buffers, whose
 * other prototype tells them apart from the bytes written (deep equality, instanceof checks).
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A live entry (not a delete or purge marker) as a {@linkcode LeaseEntry}; null otherwise. */
function live(entry: KvEntry | null): LeaseEntry | null {
  if (entry === null || entry.operation !== "PUT") return null;
  return { value: plainBytes(entry.value), revision: entry.revision };
}

/** The {@linkcode LeaseStore} of a JetStream KV bucket. */
export class NatsLeaseStore implements LeaseStore {
  /** The bucket (opened by {@linkcode openLeaseBucket}, or by the caller). */
  readonly kv: KV;
  /** The bucket's name. */
  readonly bucket: string;
  readonly #jsm: JetStreamManager;

  /** `kv` is the bucket named `bucket`; `jsm` reads its stream for {@linkcode list}. */
  constructor(kv: KV, bucket: string, jsm: JetStreamManager) {
    this.kv = kv;
    this.bucket = bucket;
    this.#jsm = jsm;
  }

  /** Creates `key` when it is absent (never written, deleted or expired); null when it exists. */
  async create(key: string, value: Uint8Array): Promise<number | null> {
    try {
      // kv.create writes with an expected last sequence of 0, and over a delete marker with the
      // marker's revision: either way a concurrent writer makes it fail with a wrong sequence.
      return await this.kv.create(key, value);
    } catch (error) {
      if (isWrongLastSequence(error)) return null;
      throw error;
    }
  }

  /** Replaces `key` when its revision is still `revision`; the new revision, or null. */
  async update(key: string, value: Uint8Array, revision: number): Promise<number | null> {
    if (!Number.isSafeInteger(revision) || revision <= 0) return null;
    try {
      return await this.kv.update(key, value, revision);
    } catch (error) {
      if (isWrongLastSequence(error)) return null;
      throw error;
    }
  }

  /** The live entry at `key`, or null when it is absent, deleted or expired. */
  async get(key: string): Promise<LeaseEntry | null> {
    return live(await this.kv.get(key));
  }

  /** Deletes `key` when its revision is still `revision`; whether it did. */
  async delete(key: string, revision: number): Promise<boolean> {
    if (!Number.isSafeInteger(revision) || revision <= 0) return false;
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /** Every live key starting with `prefix`, with its entry (deleted and expired keys left out). */
  async list(prefix: string): Promise<Map<string, LeaseEntry>> {
    // The bucket's stream read by subject, not `kv.keys()`: see stream_reads.ts for why. The
    // server filters by subject tokens: everything up to the prefix's last dot, then ">".
    const dot = prefix.lastIndexOf(".");
    const filter = dot < 0 ? ">" : `${prefix.slice(0, dot + 1)}>`;
    const subjectPrefix = `$KV.${this.bucket}.`;
    const latest = await lastPerSubject(this.#jsm, `KV_${this.bucket}`, subjectPrefix + filter);
    const entries: [string, LeaseEntry][] = [];
    for (const message of latest.values()) {
      const key = message.subject.slice(subjectPrefix.length);
      const operation = message.header?.get(KV_OPERATION_HEADER) ?? "";
      if (!key.startsWith(prefix) || operation === "DEL" || operation === "PURGE") continue;
      entries.push([key, { value: plainBytes(message.data), revision: message.seq }]);
    }
    return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/** The header that marks a KV entry as a delete or purge (ADR-8). */
const KV_OPERATION_HEADER = "KV-Operation";

/** Options of {@linkcode openLeaseBucket}. */
export interface LeaseBucketOptions {
  /** The bucket's name (letters, digits, `-` and `_`). */
  name: string;
  /** How long an entry lives when not rewritten, in milliseconds (the bucket's TTL); 0: for ever. */
  ttlMs: number;
  /** Copies kept by the cluster (1, 3 or 5); only used when the bucket is created. */
  replicas?: number;
}

/** 2000 → "2 s", 1500 → "1.5 s", 50 → "50 ms". */
export function formatDelay(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Creates the lease bucket, or opens it when it exists; refuses an existing bucket whose TTL is
 * not `ttlMs` (its leases would expire at another pace than this instance renews them).
 */
export async function openLeaseBucket(
  nc: NatsConnection,
  options: LeaseBucketOptions,
): Promise<NatsLeaseStore> {
  const { name, ttlMs, replicas = 1 } = options;
  if (!Number.isSafeInteger(ttlMs) || (ttlMs !== 0 && ttlMs < 100)) {
    throw new RangeError(
      `lease bucket "${name}": ttlMs must be 0 (no expiry) or an integer ≥ 100, got ${ttlMs}`,
    );
  }
  const kv = await new Kvm(nc).create(name, { ttl: ttlMs, replicas, history: 1 });
  const status = await kv.status();
  if (status.ttl !== ttlMs) {
    const has = status.ttl === 0 ? "no TTL" : `a TTL of ${formatDelay(status.ttl)}`;
    throw new Error(
      `lease bucket "${name}" exists with ${has}, not the ${formatDelay(ttlMs)} asked for: ` +
        `every instance must use the same TTL (remove the bucket or change the setting)`,
    );
  }
  return new NatsLeaseStore(kv, name, await jetstreamManager(nc));
}
