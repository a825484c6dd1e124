/**
 * Remembers the concatenations of key parts (srcIP + srcPort and the like), so that a stream key
 * is the same already-hashed string every time its packets come back, instead of a fresh
 * concatenation that each table lookup must flatten and hash again. Bounded: it starts over when
 * full.
 *
 * @module
 */

/** A bounded memo of `a + b`. */
export class JoinedKeys {
  /** Concatenations held before the memo starts over. */
  readonly limit: number;
  #joined = new Map<string, Map<string, string>>();
  #size = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** `a + b`, the same string object as last time when remembered. */
  join(a: string, b: string): string {
    let byB = this.#joined.get(a);
    if (byB === undefined) {
      if (this.#size >= this.limit) this.#clear();
      byB = new Map();
      this.#joined.set(a, byB);
    }
    let key = byB.get(b);
    if (key === undefined) {
      if (this.#size >= this.limit) {
        this.#clear();
        byB = new Map();
        this.#joined.set(a, byB);
      }
      key = a + b;
      byB.set(b, key);
      this.#size++;
    }
    return key;
  }

  #clear(): void {
    this.#joined.clear();
    this.#size = 0;
  }
}
