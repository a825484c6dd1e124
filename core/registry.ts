/**
 * Which detector types foxtail has: a type's name (as a configuration writes it, `model.type`)
 * and its state kind (as a file's sealed header writes it) lead to its implementation. The only
 * place outside a detector's own folder that names the types; adding one is a folder and a line
 * here.
 *
 * @example
 * ```ts
 * import { detectorType, readDetector } from "./registry.ts";
 * const detector = detectorType("kitnet")
 *   .forStream({ type: "kitnet" }, { stream: "s", fields: ["a"], features: ["a"], files: new Map() })
 *   .create();
 * const same = readDetector(detector.toBytes()); // any model file, whatever its type
 * ```
 *
 * @module
 */

import { sealedKind } from "./codec/mod.ts";
import type { Detector, DetectorType } from "./detector.ts";
import { deepAeType } from "./deep_ae/mod.ts";
import { hstType } from "./hst/mod.ts";
import { kitnetType } from "./kitnet/mod.ts";

const TYPES: readonly DetectorType[] = [kitnetType, deepAeType, hstType];

/** The model types, in the order a configuration's help lists them (the first is the default). */
export const DETECTOR_TYPES: readonly string[] = TYPES.map((t) => t.type);

/** The model type a stream without `model.type` gets. */
export const DEFAULT_DETECTOR_TYPE: string = TYPES[0].type;

/** The type named `type`; throws a `RangeError` listing the types when there is none. */
export function detectorType(type: string): DetectorType {
  const found = TYPES.find((t) => t.type === type);
  if (found === undefined) {
    throw new RangeError(
      `no detector type ${JSON.stringify(type)}; foxtail has ${DETECTOR_TYPES.join(", ")}`,
    );
  }
  return found;
}

/**
 * The detector in `bytes` (a model file, or {@linkcode Detector.toBytes}'s), by the kind its
 * header names; throws a `RangeError` saying what the bytes are when no type reads them.
 */
export function readDetector(bytes: Uint8Array, what = "model file"): Detector {
  const kind = sealedKind(bytes);
  if (kind === undefined) throw new RangeError(`${what}: not a foxtail state (bad magic)`);
  const type = TYPES.find((t) => t.stateKind === kind);
  if (type === undefined) {
    throw new RangeError(
      `${what} holds "${kind}" state, not a model (${
        TYPES.map((t) => `"${t.stateKind}"`).join(", ")
      })`,
    );
  }
  return type.fromBytes(bytes);
}

/**
 * How gateway snapshots before format 4 wrote a device's model: a one-byte code, then the
 * type's part. Code 0 was KitNET, whose record held its calibration (36 bytes: u32 window and
 * four f64) and then its model (u32 length, bytes); code 1 a stream's deep autoencoder (nothing).
 */
export const LEGACY_MODEL_CODES: readonly {
  /** The type. */
  type: string;
  /** Bytes of calibration state before the model's own. */
  calibrationBytes: number;
  /** Whether the model's own state (u32 length, bytes) follows. */
  hasState: boolean;
}[] = [
  { type: kitnetType.type, calibrationBytes: 36, hasState: true },
  { type: deepAeType.type, calibrationBytes: 0, hasState: false },
];
