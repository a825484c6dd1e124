/**
 * A versioned, checksummed envelope for saved state (models, snapshots).
 *
 * Layout, little-endian: magic "FOXT" · kind (4 ASCII bytes) · version u32 · payload length u32 ·
 * payload · CRC-32 of everything before it (u32).
 *
 * @module
 */

import { crc32 } from "./crc32.ts";

const MAGIC = [0x46, 0x4f, 0x58, 0x54]; // "FOXT"
const HEADER = 16;
const TRAILER = 4;

/** Wraps `payload` with a header naming its kind and version, and a checksum. */
export function seal(kind: string, version: number, payload: Uint8Array): Uint8Array {
  if (!/^[A-Z0-9]{4}$/.test(kind)) throw new RangeError(`kind must be 4 capitals: "${kind}"`);
  const out = new Uint8Array(HEADER + payload.length + TRAILER);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  for (let i = 0; i < 4; i++) out[4 + i] = kind.charCodeAt(i);
  view.setUint32(8, version, true);
  view.setUint32(12, payload.length, true);
  out.set(payload, HEADER);
  view.setUint32(HEADER + payload.length, crc32(out, 0, HEADER + payload.length), true);
  return out;
}

/** What {@linkcode unseal} found in a header. */
export interface Unsealed {
  /** The format version the payload was written with. */
  version: number;
  /** The payload (a view into the input). */
  payload: Uint8Array;
}

/**
 * Checks the envelope and returns its payload. Throws a `RangeError` saying what is wrong when
 * the bytes are not of `kind`, are truncated, were altered, or have a version outside
 * `supportedVersions`.
 */
export function unseal(
  bytes: Uint8Array,
  kind: string,
  supportedVersions: readonly number[],
  what = `${kind} state`,
): Unsealed {
  if (bytes.length < HEADER + TRAILER) {
    throw new RangeError(`${what} is truncated: ${bytes.length} bytes, a header alone is 20`);
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new RangeError(`${what}: not a foxtail state (bad magic)`);
  }
  const found = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (found !== kind) throw new RangeError(`${what}: holds "${found}" state, expected "${kind}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const length = view.getUint32(12, true);
  if (bytes.length !== HEADER + length + TRAILER) {
    throw new RangeError(
      `${what} is ${bytes.length < HEADER + length + TRAILER ? "truncated" : "too long"}: ` +
        `${bytes.length} bytes, its header says ${HEADER + length + TRAILER}`,
    );
  }
  const stored = view.getUint32(HEADER + length, true);
  const actual = crc32(bytes, 0, HEADER + length);
  if (stored !== actual) {
    throw new RangeError(
      `${what} is corrupt: checksum ${actual.toString(16).padStart(8, "0")} does not match the ` +
        `stored ${stored.toString(16).padStart(8, "0")}`,
    );
  }
  if (!supportedVersions.includes(version)) {
    throw new RangeError(
      `${what} has format version ${version}; this foxtail reads ${supportedVersions.join(", ")}`,
    );
  }
  return { version, payload: bytes.subarray(HEADER, HEADER + length) };
}

/** The kind a sealed state's header names, or undefined when `bytes` is not one (no magic). */
export function sealedKind(bytes: Uint8Array): string | undefined {
  if (bytes.length < HEADER) return undefined;
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) return undefined;
  return String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
}
