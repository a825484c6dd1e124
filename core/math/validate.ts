/**
 * Checks instances before they reach a model, so a bad one changes nothing.
 *
 * @module
 */

/**
 * Throws a `RangeError` unless `x` has exactly `n` finite numbers; the message names the first
 * offending index and value.
 */
export function assertInstance(x: ArrayLike<number>, n: number): void {
  if (x === null || typeof x !== "object" || typeof x.length !== "number") {
    throw new TypeError(`an instance must be an array of ${n} numbers, got ${describe(x)}`);
  }
  if (x.length !== n) {
    throw new RangeError(`an instance must have ${n} features, got ${x.length}`);
  }
  for (let i = 0; i < n; i++) {
    const v = x[i];
    // typeof guards against strings and booleans that Number.isFinite would reject anyway,
    // but keeps the check monomorphic on the fast path.
    if (typeof v !== "number" || v - v !== 0) {
      throw new RangeError(`feature ${i} is ${describe(v)}: every feature must be a finite number`);
    }
  }
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return String(v);
  if (v === null || v === undefined) return String(v);
  return typeof v;
}
