/**
 * What the cluster's leases need of a key-value store with revisions (JetStream KV in
 * production, a map in tests): create-if-absent, compare-and-set, compare-and-delete, listing.
 * Entries that are not rewritten within the store's time to live disappear; that is how a dead
 * instance's leases expire.
 *
 * @module
 */

/** One stored value and the revision that wrote it. */
export interface LeaseEntry {
  /** The bytes stored. */
  value: Uint8Array;
  /** The store's revision of this write (a compare-and-set names it). */
  revision: number;
}

/** A key-value store with revisions; every method may reject when the store is unreachable. */
export interface LeaseStore {
  /** Creates `key` when it is absent; its revision, or null when the key exists. */
  create(key: string, value: Uint8Array): Promise<number | null>;
  /**
   * Replaces `key` when its revision is still `revision`; the new revision, or null when another
   * write came first (or the key is gone).
   */
  update(key: string, value: Uint8Array, revision: number): Promise<number | null>;
  /** The entry at `key`, or null when it is absent (deleted or expired). */
  get(key: string): Promise<LeaseEntry | null>;
  /** Deletes `key` when its revision is still `revision`; whether it did. */
  delete(key: string, revision: number): Promise<boolean>;
  /** Every key present that starts with `prefix`, with its entry. */
  list(prefix: string): Promise<Map<string, LeaseEntry>>;
}
