/**
 * Half-Space Trees' saved state (`HSTS`, version 1), beside the model rather than inside it.
 *
 * Payload, little-endian: u32 n, trees, height, window, warmUp, seed · per feature u8 (range
 * given) · f64 min[n] · f64 max[n] · f64 warm-up instances seen · u32 instances in the latest
 * window · f64 windows completed · u8 built; once built: u16 split features, f64 split values,
 * u16 reference masses, u16 latest masses (each table tree after tree, in heap order). The
 * reader refuses, with a `RangeError` saying what is wrong, bytes that are truncated, altered,
 * or hold a state no trees reach (sizes are checked before anything is allocated; the model
 * then checks every split and that every node's mass is its children's sum).
 *
 * @module
 */

import { ByteReader, ByteWriter, seal, unseal } from "../codec/mod.ts";
import { type FeatureRange, HalfSpaceTrees, halfSpaceTreesProblem } from "./half_space_trees.ts";

/** What names this state in error messages. */
export const HST_STATE = "Half-Space Trees state";

/** The kind its sealed header names. */
export const HST_STATE_KIND = "HSTS";

const STATE_VERSION = 1;

/** `model`'s whole state, sealed. */
export function writeHalfSpaceTrees(model: HalfSpaceTrees): Uint8Array {
  const s = model.settings;
  const t = model.tables();
  const w = new ByteWriter();
  w.u32(s.n).u32(s.trees).u32(s.height).u32(s.window).u32(s.warmUp).u32(s.seed);
  for (const given of s.given) w.u8(given ? 1 : 0);
  for (const v of t.min) w.f64(v);
  for (const v of t.max) w.f64(v);
  w.f64(t.warmedUp).u32(t.latestCount).f64(t.windows);
  if (t.reference === undefined) return seal(HST_STATE_KIND, STATE_VERSION, w.u8(0).finish());
  w.u8(1);
  w.bytes(u16Bytes(t.splitFeature!));
  for (const v of t.splitValue!) w.f64(v);
  w.bytes(u16Bytes(t.reference)).bytes(u16Bytes(t.latest!));
  return seal(HST_STATE_KIND, STATE_VERSION, w.finish());
}

/** The trees in `bytes` (from {@linkcode writeHalfSpaceTrees}), checked as the module says. */
export function readHalfSpaceTrees(bytes: Uint8Array): HalfSpaceTrees {
  const what = HST_STATE;
  const { payload } = unseal(bytes, HST_STATE_KIND, [STATE_VERSION], what);
  const r = new ByteReader(payload, what);
  const n = r.u32(), trees = r.u32(), height = r.u32(), window = r.u32();
  const warmUp = r.u32(), seed = r.u32();
  const options = { n, trees, height, window, warmUp, seed };
  const problem = halfSpaceTreesProblem({ ...options, ranges: Array(n).fill([0, 1]) });
  if (problem !== undefined) throw new RangeError(`${what}: ${problem.message}`);
  if (r.remaining < n * 17) throw new RangeError(`${what} is truncated in its ranges`);
  const given = Array.from({ length: n }, () => r.u8() === 1);
  const min = Float64Array.from({ length: n }, () => r.f64());
  const max = Float64Array.from({ length: n }, () => r.f64());
  const ranges: (FeatureRange | undefined)[] = given.map((g, q) =>
    g ? [min[q], max[q]] : undefined
  );
  for (let q = 0; q < n; q++) {
    if (Number.isNaN(min[q]) || Number.isNaN(max[q]) || min[q] > max[q] && max[q] !== -Infinity) {
      throw new RangeError(`${what}: feature ${q}'s range [${min[q]}, ${max[q]}] is not one`);
    }
  }
  const warmedUp = r.f64(), latestCount = r.u32(), windows = r.f64();
  const built = r.u8();
  if (built > 1) throw new RangeError(`${what}: bad built flag ${built}`);
  const tables = { warmedUp, latestCount, windows, min, max };
  if (built === 0) {
    if (r.remaining !== 0) throw new RangeError(`${what} has ${r.remaining} bytes too many`);
    return newModel();
  }
  const splits = trees * (2 ** height - 1);
  const nodes = trees * (2 ** (height + 1) - 1);
  const expected = splits * 10 + nodes * 4;
  if (r.remaining !== expected) {
    throw new RangeError(
      `${what} is ${r.remaining < expected ? "truncated" : "too long"}: its trees need ` +
        `${expected} bytes, it has ${r.remaining}`,
    );
  }
  const splitFeature = readU16(r, splits);
  const splitValue = Float64Array.from({ length: splits }, () => r.f64());
  const reference = readU16(r, nodes);
  const latest = readU16(r, nodes);
  return newModel({ splitFeature, splitValue, reference, latest });

  function newModel(built?: object): HalfSpaceTrees {
    try {
      return new HalfSpaceTrees({ ...options, ranges }, { ...tables, ...built });
    } catch (error) {
      throw new RangeError(`${what}: ${(error as Error).message}`);
    }
  }
}

function u16Bytes(values: Uint16Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(2 * i, values[i], true);
  return out;
}

function readU16(r: ByteReader, count: number): Uint16Array {
  const bytes = r.bytes(count * 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint16Array.from({ length: count }, (_, i) => view.getUint16(2 * i, true));
}
