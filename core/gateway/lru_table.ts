/**
 * A table of at most `capacity` entries that evicts the least recently used one to make room,
 * and counts evictions.
 *
 * @module
 */

/**
 * A bounded map with least-recently-used eviction. Relies on `Map` keeping insertion order:
 * touching an entry re-inserts it at the end, so the first key is always the least recent.
 */
export class LruTable<V> {
  /** Most entries held. */
  readonly capacity: number;
  readonly #map = new Map<string, V>();
  #evicted = 0;

  /** An empty table of at most `capacity` entries. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`table capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Entries evicted to make room so far. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The entry for `key`, made the most recently used; undefined when absent. */
  touch(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The entry for `key` without changing its recency. */
  peek(key: string): V | undefined {
    return this.#map.get(key);
  }

  /**
   * Adds `value` under `key` as the most recently used entry, evicting (and returning) the least
   * recently used one when the table is full.
   */
  insert(key: string, value: V): V | undefined {
    let evicted: V | undefined;
    if (this.#map.has(key)) this.#map.delete(key);
    else if (this.#map.size === this.capacity) {
      const oldest = this.#map.keys().next().value as string;
      evicted = this.#map.get(oldest);
      this.#map.delete(oldest);
      this.#evicted++;
    }
    this.#map.set(key, value);
    return evicted;
  }

  /** Removes `key`; returns whether it was there. Not counted as an eviction. */
  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  /** The entries, least recently used first. */
  values(): IterableIterator<V> {
    return this.#map.values();
  }

  /** Restores the eviction count (from a snapshot). */
  restoreEvicted(evicted: number): void {
    this.#evicted = evicted;
  }
}
