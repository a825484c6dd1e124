/**
 * Shared machinery of the hostile-input property tests (`tests/hostile_*.test.ts`): one fixed
 * fast-check seed (printed by fast-check with the counterexample when a property fails), run
 * counts, a tally of the inputs each property ran, and byte mutations.
 *
 * `FOXTAIL_HOSTILE_SEED=<n>` replays another seed, `FOXTAIL_HOSTILE_RUNS=<factor>` multiplies
 * every run count (e.g. 10 for a longer hunt), and `FOXTAIL_HOSTILE_COUNTS=1` prints how many
 * inputs each property ran (the figures of the README's Reliability table).
 *
 * @module
 */

import process from "node:process";
import fc from "fast-check";

/** The seed every property runs with, unless `FOXTAIL_HOSTILE_SEED` gives another. */
export const HOSTILE_SEED: number = Number(process.env.FOXTAIL_HOSTILE_SEED ?? 20260606);

const FACTOR = Number(process.env.FOXTAIL_HOSTILE_RUNS ?? 1);

/**
 * Options of every property test: a generous timeout (Bun's default is 5 s; the machine may be
 * loaded), the run counts keeping each file near a few seconds per runtime.
 */
export const PROPERTY_TEST: { timeout: number } = { timeout: 120_000 };

/** `runs` scaled by `FOXTAIL_HOSTILE_RUNS`. */
export function runCount(runs: number): number {
  return Math.max(1, Math.round(runs * (FACTOR > 0 ? FACTOR : 1)));
}

/** fast-check parameters: the fixed seed and `runs` (scaled) generated inputs. */
export function hostileParameters(runs: number): fc.Parameters<unknown> {
  return { seed: HOSTILE_SEED, numRuns: runCount(runs) };
}

/**
 * Counts the inputs a property's predicate ran on and prints the tally when
 * `FOXTAIL_HOSTILE_COUNTS` is set.
 */
export class InputTally {
  readonly #name: string;
  /** Inputs run so far. */
  count = 0;

  constructor(name: string) {
    this.#name = name;
  }

  /** Wraps `predicate` so each call is counted. */
  counted<A extends unknown[], R>(predicate: (...args: A) => R): (...args: A) => R {
    return (...args: A) => {
      this.count++;
      return predicate(...args);
    };
  }

  /** Prints `name: count inputs (seed)` when asked to, and returns the count. */
  report(): number {
    if (process.env.FOXTAIL_HOSTILE_COUNTS) {
      console.log(`hostile inputs: ${this.#name}: ${this.count} (seed ${HOSTILE_SEED})`);
    }
    return this.count;
  }
}

/** Runs a synchronous property over `arbitrary`, counting its inputs; returns the count. */
export function checkProperty<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => void,
  runs: number,
): number {
  const tally = new InputTally(name);
  fc.assert(fc.property(arbitrary, tally.counted(predicate)), hostileParameters(runs));
  return tally.report();
}

/** {@linkcode checkProperty} for an asynchronous predicate. */
export async function checkAsyncProperty<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  runs: number,
): Promise<number> {
  const tally = new InputTally(name);
  await fc.assert(fc.asyncProperty(arbitrary, tally.counted(predicate)), hostileParameters(runs));
  return tally.report();
}

/** One edit of a byte string. */
export type ByteMutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "u32"; at: number; value: number };

/** An arbitrary edit (positions are fractions of the length, applied by {@linkcode mutate}). */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({
    kind: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 65536, 16),
  }),
);

/** `bytes` with `mutations` applied in order (a copy; positions taken modulo the length). */
export function mutate(bytes: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    switch (m.kind) {
      case "flip":
        if (at < out.length) out[at] = m.value;
        break;
      case "truncate":
        out = out.slice(0, at);
        break;
      case "insert": {
        const next = new Uint8Array(out.length + m.bytes.length);
        next.set(out.subarray(0, at), 0);
        next.set(m.bytes, at);
        next.set(out.subarray(at), at + m.bytes.length);
        out = next;
        break;
      }
      case "delete": {
        const end = Math.min(out.length, at + m.count);
        const next = new Uint8Array(out.length - (end - at));
        next.set(out.subarray(0, at), 0);
        next.set(out.subarray(end), at);
        out = next;
        break;
      }
      case "u32":
        if (at + 4 <= out.length) {
          new DataView(out.buffer, out.byteOffset).setUint32(at, m.value, at % 8 < 4);
        }
        break;
    }
  }
  return out;
}

/** 1 to `most` mutations. */
export function byteMutations(most = 4): fc.Arbitrary<ByteMutation[]> {
  return fc.array(byteMutation, { minLength: 1, maxLength: most });
}
