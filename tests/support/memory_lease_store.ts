/**
 * A {@linkcode LeaseStore} in memory, for the cluster's tests: revisions like JetStream KV's (one
 * counter for the whole store), a settable clock, and an optional time to live that drops an entry
 * not rewritten within it. `unreachable` makes every call reject, like a store that is down.
 *
 * @module
 */

import type { LeaseEntry, LeaseStore } from "../../core/cluster/mod.ts";

/** A clock the tests move by hand, in milliseconds. */
export class ManualClock {
  /** The time now. */
  time: number;

  /** A clock at `start`. */
  constructor(start = 1_000_000) {
    this.time = start;
  }

  /** The time now (bind-free, to pass as `now`). */
  readonly now = (): number => this.time;

  /** Moves the clock on by `ms`. */
  advance(ms: number): void {
    this.time += ms;
  }
}

interface Stored {
  value: Uint8Array;
  revision: number;
  writtenAt: number;
}

/** An in-memory lease store; every call is asynchronous, as a real store's. */
export class MemoryLeaseStore implements LeaseStore {
  readonly #clock: ManualClock;
  readonly #ttlMs: number | undefined;
  readonly #entries = new Map<string, Stored>();
  #revision = 0;
  /** When true, every call rejects (the store is unreachable). */
  unreachable = false;
  /** Calls made, by method name, for tests that count round trips. */
  readonly calls = new Map<string, number>();

  /** A store on `clock`; entries expire `ttlMs` after their last write when it is given. */
  constructor(clock: ManualClock, ttlMs?: number) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  async create(key: string, value: Uint8Array): Promise<number | null> {
    await this.#enter("create");
    if (this.#live(key) !== undefined) return null;
    return this.#write(key, value);
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number | null> {
    await this.#enter("update");
    const entry = this.#live(key);
    if (entry === undefined || entry.revision !== revision) return null;
    return this.#write(key, value);
  }

  async get(key: string): Promise<LeaseEntry | null> {
    await this.#enter("get");
    const entry = this.#live(key);
    return entry === undefined ? null : { value: entry.value.slice(), revision: entry.revision };
  }

  async delete(key: string, revision: number): Promise<boolean> {
    await this.#enter("delete");
    const entry = this.#live(key);
    if (entry === undefined || entry.revision !== revision) return false;
    this.#entries.delete(key);
    this.#revision++;
    return true;
  }

  async list(prefix: string): Promise<Map<string, LeaseEntry>> {
    await this.#enter("list");
    const out = new Map<string, LeaseEntry>();
    for (const key of [...this.#entries.keys()].sort()) {
      const entry = key.startsWith(prefix) ? this.#live(key) : undefined;
      if (entry !== undefined) {
        out.set(key, { value: entry.value.slice(), revision: entry.revision });
      }
    }
    return out;
  }

  /** Writes `key` whatever is there (another instance's write, for tests). */
  put(key: string, value: Uint8Array): number {
    return this.#write(key, value);
  }

  /** The live entries' values as text, by key (for assertions). */
  dump(prefix = ""): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of [...this.#entries.keys()].sort()) {
      const entry = key.startsWith(prefix) ? this.#live(key) : undefined;
      if (entry !== undefined) out.set(key, new TextDecoder().decode(entry.value));
    }
    return out;
  }

  async #enter(method: string): Promise<void> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    await Promise.resolve();
    if (this.unreachable) throw new Error(`lease store unreachable (${method})`);
  }

  #live(key: string): Stored | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#ttlMs !== undefined && this.#clock.time - entry.writtenAt >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, value: Uint8Array): number {
    const revision = ++this.#revision;
    this.#entries.set(key, { value: value.slice(), revision, writtenAt: this.#clock.time });
    return revision;
  }
}
