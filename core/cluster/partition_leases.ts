/**
 * One instance's side of the partition lease protocol, over a {@linkcode LeaseStore} whose entries
 * expire when not rewritten within its time to live.
 *
 * Keys: `member.<id>` is an instance's heartbeat (`{"id","startedAt","info"}`), `partition.<k>` a
 * partition's lease (`{"owner","since"}`). Every {@linkcode PartitionLeases.tick} rewrites this
 * instance's keys (compare-and-set by revision), reads every member and lease, plans the partitions
 * ({@linkcode planPartitions}) and claims (create-if-absent) the free ones the plan gives it. A
 * partition the plan gives to another member is reported for hand-over but kept: the runner
 * snapshots its devices first, then calls {@linkcode PartitionLeases.release}. A dead instance's
 * keys expire and the others claim its partitions. Because a lease is only ever taken by create
 * (or by this instance rewriting its own), no two instances hold one partition at once.
 *
 * A settings store without a time to live holds `settings`, the cluster's fingerprint: an instance
 * whose fingerprint differs is refused at {@linkcode PartitionLeases.join}.
 *
 * @module
 */

import type { LeaseEntry, LeaseStore } from "./lease_store.ts";
import { planPartitions } from "./partition_plan.ts";
import { INSTANCE_ID } from "./cluster_settings.ts";

const MEMBER_PREFIX = "member.";
const PARTITION_PREFIX = "partition.";

/** The key of an instance's heartbeat. */
export function memberKey(id: string): string {
  return MEMBER_PREFIX + id;
}

/** The key of partition `k`'s lease. */
export function partitionKey(k: number): string {
  return PARTITION_PREFIX + k;
}

/** The settings store's key holding the cluster's fingerprint. */
export const SETTINGS_KEY = "settings";

/** What a `member.<id>` entry holds. */
export interface MemberValue {
  /** The instance's id (also the key's last token). */
  id: string;
  /** When it joined (the clock's milliseconds). */
  startedAt: number;
  /** The caller's note, e.g. the instance's dashboard URL. */
  info: string;
}

/** What a `partition.<k>` entry holds. */
export interface PartitionValue {
  /** The owning instance's id. */
  owner: string;
  /** When it claimed the partition (the clock's milliseconds). */
  since: number;
}

/** How to build a {@linkcode PartitionLeases}. */
export interface PartitionLeasesOptions {
  /** The leases (entries expire after the lease time to live). */
  leases: LeaseStore;
  /** The cluster settings (no time to live). */
  settings: LeaseStore;
  /** This instance's id (safe characters: it is a key token). */
  instance: string;
  /** Number of partitions. */
  partitions: number;
  /** The leases' time to live, in milliseconds: a lease not renewed within it is not trusted. */
  leaseMs: number;
  /** What every instance must agree on (see `clusterFingerprint`). */
  fingerprint: string;
  /** The clock, in milliseconds. */
  now: () => number;
  /** Published in the member entry (e.g. a dashboard URL). */
  info?: string;
}

/** What one {@linkcode PartitionLeases.tick} changed and saw. */
export interface TickReport {
  /** Partitions this instance now holds that it did not: load their devices. */
  claimed: number[];
  /** Partitions whose lease was lost (it expired and someone else wrote it): stop scoring them. */
  lost: number[];
  /** Partitions held that the plan gives another member: snapshot, then `release(k)`. */
  toHandOver: number[];
  /** The live members, by id. */
  members: string[];
  /** Each partition's owner as seen (after this tick's claims), undefined when free. */
  owners: (string | undefined)[];
}

/** An instance whose cluster settings differ from the cluster's. */
export class ClusterMismatchError extends Error {
  /** This instance's fingerprint. */
  readonly ours: string;
  /** The cluster's fingerprint. */
  readonly theirs: string;

  /** The error for fingerprints `ours` and `theirs`. */
  constructor(ours: string, theirs: string) {
    super(
      `this instance's cluster settings differ from the cluster's${
        describeDifference(ours, theirs)
      }; refusing to join (this instance: ${ours}; the cluster: ${theirs})`,
    );
    this.name = "ClusterMismatchError";
    this.ours = ours;
    this.theirs = theirs;
  }
}

/** ": this instance has 64 partitions, the cluster 32" when both are JSON objects; else "". */
function describeDifference(ours: string, theirs: string): string {
  const a = parseObject(ours);
  const b = parseObject(theirs);
  if (a === undefined || b === undefined) return "";
  const parts: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[key]);
    const y = JSON.stringify(b[key]);
    if (x !== y) parts.push(`this instance has ${x} ${key}, the cluster ${y}`);
  }
  return parts.length === 0 ? "" : `: ${parts.join("; ")}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** A lease entry's owner; "" when the entry is unreadable (it is occupied until it expires). */
function ownerOf(entry: LeaseEntry): string {
  try {
    const value = JSON.parse(decoder.decode(entry.value)) as Partial<PartitionValue>;
    return typeof value?.owner === "string" ? value.owner : "";
  } catch {
    return "";
  }
}

/** Waits for every promise; rethrows the first rejection once all have settled. */
async function settleAll<T>(work: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r) => r.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * One instance's leases. State is sized by the partition count: per partition the revision of its
 * lease (0 when not held), when it was claimed and when it was last renewed.
 *
 * Store conflicts (a race with another instance) never throw; they show in the next
 * {@linkcode TickReport}. A store that is unreachable rejects, and the adapter retries.
 */
export class PartitionLeases {
  readonly #options: PartitionLeasesOptions;
  readonly #revision: Float64Array;
  readonly #since: Float64Array;
  readonly #renewed: Float64Array;
  #memberRevision = 0;
  #startedAt = 0;
  #joined = false;

  /** Leases for `options.instance`; nothing is written until {@linkcode join}. */
  constructor(options: PartitionLeasesOptions) {
    if (!Number.isSafeInteger(options.partitions) || options.partitions < 1) {
      throw new RangeError(
        `partitions must be a positive integer, got ${String(options.partitions)}`,
      );
    }
    if (!INSTANCE_ID.test(options.instance)) {
      throw new RangeError(
        `instance id must be 1 to 64 letters, digits, "_" or "-", got ${
          JSON.stringify(options.instance)
        }`,
      );
    }
    if (!(options.leaseMs > 0)) {
      throw new RangeError(`leaseMs must be above 0, got ${String(options.leaseMs)}`);
    }
    this.#options = options;
    this.#revision = new Float64Array(options.partitions);
    this.#since = new Float64Array(options.partitions);
    this.#renewed = new Float64Array(options.partitions);
  }

  /** This instance's id. */
  get instance(): string {
    return this.#options.instance;
  }

  /**
   * Checks the cluster's fingerprint (setting it when this is the first instance) and writes this
   * instance's member entry (replacing one left by an earlier run with the same id).
   *
   * @throws {ClusterMismatchError} when the cluster's fingerprint differs from this instance's.
   */
  async join(): Promise<void> {
    const { settings, fingerprint } = this.#options;
    let stored = await settings.get(SETTINGS_KEY);
    if (stored === null) {
      const created = await settings.create(SETTINGS_KEY, encoder.encode(fingerprint));
      if (created === null) stored = await settings.get(SETTINGS_KEY);
    }
    if (stored !== null) {
      const theirs = decoder.decode(stored.value);
      if (theirs !== fingerprint) throw new ClusterMismatchError(fingerprint, theirs);
    }
    this.#startedAt = this.#options.now();
    this.#memberRevision = 0;
    await this.#writeMember();
    this.#joined = true;
  }

  /** Whether this instance holds partition `k` with a lease renewed within its time to live. */
  holds(k: number): boolean {
    return this.#revision[k] > 0 &&
      this.#options.now() - this.#renewed[k] < this.#options.leaseMs;
  }

  /** The partitions this instance holds, ascending. */
  held(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.#revision.length; k++) if (this.#revision[k] > 0) out.push(k);
    return out;
  }

  /**
   * Renews this instance's entries, reads the cluster, claims the free partitions planned for it
   * and reports what changed. Call it every `renewSeconds`.
   */
  async tick(): Promise<TickReport> {
    if (!this.#joined) throw new Error("PartitionLeases.tick before join (or after releaseAll)");
    const { leases, instance, partitions, now } = this.#options;
    const lost: number[] = [];

    // Renew: the member entry, then every lease held (a failed compare-and-set is a lost lease).
    await this.#writeMember();
    const held = this.held();
    const renewed = await settleAll(held.map(async (k) => {
      // Timed before the write: the server's time to live starts later than this, so this
      // instance stops trusting a lease before anyone else can take it.
      const at = now();
      const revision = await leases.update(partitionKey(k), this.#leaseValue(k), this.#revision[k]);
      if (revision === null) {
        this.#revision[k] = 0;
      } else {
        this.#revision[k] = revision;
        this.#renewed[k] = at;
      }
      return revision;
    }));
    held.forEach((k, i) => {
      if (renewed[i] === null) lost.push(k);
    });

    // Read the cluster.
    const [memberEntries, leaseEntries] = await Promise.all([
      leases.list(MEMBER_PREFIX),
      leases.list(PARTITION_PREFIX),
    ]);
    const memberSet = new Set<string>([instance]);
    for (const key of memberEntries.keys()) memberSet.add(key.slice(MEMBER_PREFIX.length));
    const members = [...memberSet].sort(); // code-unit order, as the plan's
    const owners: (string | undefined)[] = new Array(partitions).fill(undefined);
    const found: (LeaseEntry | undefined)[] = new Array(partitions).fill(undefined);
    for (const [key, entry] of leaseEntries) {
      const text = key.slice(PARTITION_PREFIX.length);
      if (!/^(0|[1-9][0-9]*)$/.test(text)) continue;
      const k = Number(text);
      if (k >= partitions) continue;
      found[k] = entry;
      owners[k] = ownerOf(entry);
    }
    for (let k = 0; k < partitions; k++) if (this.#revision[k] > 0) owners[k] = instance;

    // Plan; claim what is planned for this instance and free (or still ours from an earlier run).
    const plan = planPartitions(partitions, members, owners);
    const claims: number[] = [];
    const toHandOver: number[] = [];
    for (let k = 0; k < partitions; k++) {
      if (this.#revision[k] > 0) {
        if (plan[k] !== instance) toHandOver.push(k);
      } else if (plan[k] === instance && (owners[k] === undefined || owners[k] === instance)) {
        claims.push(k);
      }
    }
    const claimed: number[] = [];
    const results = await settleAll(claims.map(async (k) => {
      const since = now();
      const value = encode({ owner: instance, since } satisfies PartitionValue);
      const entry = found[k];
      const revision = entry === undefined
        ? await leases.create(partitionKey(k), value)
        : await leases.update(partitionKey(k), value, entry.revision);
      if (revision !== null) {
        this.#revision[k] = revision;
        this.#since[k] = since;
        this.#renewed[k] = since; // before the write, as for a renewal
      }
      return revision;
    }));
    claims.forEach((k, i) => {
      if (results[i] !== null) {
        claimed.push(k);
        owners[k] = instance;
      } else if (owners[k] === instance) {
        owners[k] = undefined;
      }
    });
    for (const k of lost) if (owners[k] === instance) owners[k] = undefined;
    return { claimed, lost, toHandOver, members, owners };
  }

  /**
   * Gives partition `k` up (after its devices are snapshotted): deletes its lease by revision.
   * Whether it deleted it (false when it was not held or was already lost). A store that is
   * unreachable rejects and the lease stays held, so the call can be retried.
   */
  async release(k: number): Promise<boolean> {
    const revision = this.#revision[k];
    if (!(revision > 0)) return false;
    const deleted = await this.#options.leases.delete(partitionKey(k), revision);
    this.#revision[k] = 0;
    return deleted;
  }

  /**
   * For a graceful stop (after every partition is snapshotted): releases every lease and deletes
   * the member entry, so the others take over at once rather than after the time to live. The
   * partitions released.
   */
  async releaseAll(): Promise<number[]> {
    const held = this.held();
    const deleted = await settleAll(held.map((k) => this.release(k)));
    if (this.#memberRevision > 0) {
      await this.#options.leases.delete(memberKey(this.instance), this.#memberRevision);
      this.#memberRevision = 0;
    }
    this.#joined = false;
    return held.filter((_, i) => deleted[i]);
  }

  #leaseValue(k: number): Uint8Array {
    return encode({ owner: this.instance, since: this.#since[k] } satisfies PartitionValue);
  }

  /** Rewrites the member entry: by revision, else creates it, else replaces whatever is there. */
  async #writeMember(): Promise<void> {
    const { leases, info = "" } = this.#options;
    const key = memberKey(this.instance);
    const value = encode(
      { id: this.instance, startedAt: this.#startedAt, info } satisfies MemberValue,
    );
    let revision = this.#memberRevision > 0
      ? await leases.update(key, value, this.#memberRevision)
      : null;
    if (revision === null) revision = await leases.create(key, value);
    if (revision === null) {
      const entry = await leases.get(key);
      revision = entry === null
        ? await leases.create(key, value)
        : await leases.update(key, value, entry.revision);
    }
    // Still null: another write raced this one; the next tick tries again.
    this.#memberRevision = revision ?? 0;
  }
}
