/**
 * Turns one MQTT payload into a feature vector, per the stream's format. A bad payload is a
 * returned rejection reason, never an exception.
 *
 * @module
 */

import type { PayloadConfig } from "./pipeline_config.ts";

/** Why a message was not scored. */
export type RejectReason =
  | "too-large"
  | "not-utf8"
  | "not-json"
  | "missing-field"
  | "not-a-number"
  | "out-of-range"
  | "wrong-length"
  | "unmatched-topic"
  | "bad-device-id"
  | "stream-conflict";

/** Every rejection reason, in a fixed order (counters and snapshots use it). */
export const REJECT_REASONS: readonly RejectReason[] = Object.freeze([
  "too-large",
  "not-utf8",
  "not-json",
  "missing-field",
  "not-a-number",
  "out-of-range",
  "wrong-length",
  "unmatched-topic",
  "bad-device-id",
  "stream-conflict",
]);

/**
 * Largest magnitude a feature may have. Far beyond any reading a sensor sends, and small enough
 * that KitNET's sums of squares over 2³² messages and its normalised errors stay finite (finite
 * values near 1e308 overflowed them into Infinity and then NaN inside the model).
 */
export const MAX_FEATURE_MAGNITUDE = 1e100;

// A plain decimal number; refuses what Number() would also take ("", "0x1f", "Infinity").
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Decodes payloads of one stream into a caller-owned vector. */
export class PayloadDecoder {
  /** The payload format. */
  readonly format: PayloadConfig["format"];
  /** Feature names, in vector order. */
  readonly fields: readonly string[];
  /** Largest payload accepted, in bytes. */
  readonly maxBytes: number;
  /** What was wrong with the last rejected payload, for logs. */
  lastProblem = "";
  readonly #paths: string[][];
  readonly #text = new TextDecoder("utf-8", { fatal: true });

  /** A decoder of payloads in `config`'s format, of at most `maxBytes` bytes. */
  constructor(config: PayloadConfig, maxBytes: number) {
    this.format = config.format;
    this.fields = config.fields.slice();
    this.maxBytes = maxBytes;
    this.#paths = config.fields.map((field) => field.split("."));
  }

  /** Features per vector. */
  get size(): number {
    return this.fields.length;
  }

  /**
   * Writes the features of `payload` into `out` (length ≥ {@linkcode size}) and returns
   * `undefined`, or returns why the payload is refused (then `out` holds garbage and
   * {@linkcode lastProblem} says more).
   */
  decode(payload: Uint8Array, out: Float64Array): RejectReason | undefined {
    if (payload.length > this.maxBytes) {
      return this.#reject("too-large", `${payload.length} bytes, the limit is ${this.maxBytes}`);
    }
    let text: string;
    try {
      text = this.#text.decode(payload);
    } catch {
      return this.#reject("not-utf8", "the payload is not UTF-8 text");
    }
    switch (this.format) {
      case "json":
        return this.#json(text, out);
      case "json-array":
        return this.#jsonArray(text, out);
      case "csv":
        return this.#csv(text, out);
      case "number":
        return this.#number(text.trim(), 0, out);
    }
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return PARSE_FAILED;
    }
  }

  #json(text: string, out: Float64Array): RejectReason | undefined {
    const root = this.#parse(text);
    if (root === PARSE_FAILED || root === null || typeof root !== "object" || Array.isArray(root)) {
      return this.#reject("not-json", "expected a JSON object");
    }
    const paths = this.#paths;
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i];
      let node: unknown = root;
      for (let j = 0; j < path.length; j++) {
        if (node === null || typeof node !== "object") {
          node = undefined;
          break;
        }
        // Own properties only: "__proto__" or "constructor" must not reach the prototype.
        node = Object.hasOwn(node, path[j])
          ? (node as Record<string, unknown>)[path[j]]
          : undefined;
      }
      if (node === undefined) return this.#reject("missing-field", `no field ${this.fields[i]}`);
      if (typeof node !== "number" || node - node !== 0) {
        return this.#reject("not-a-number", `field ${this.fields[i]} is not a finite number`);
      }
      if (!inRange(node)) return this.#outOfRange(`field ${this.fields[i]}`, node);
      out[i] = node;
    }
    return undefined;
  }

  #jsonArray(text: string, out: Float64Array): RejectReason | undefined {
    const root = this.#parse(text);
    if (!Array.isArray(root)) return this.#reject("not-json", "expected a JSON array");
    if (root.length !== this.fields.length) {
      return this.#reject("wrong-length", `${root.length} values, expected ${this.fields.length}`);
    }
    for (let i = 0; i < root.length; i++) {
      const v = root[i];
      if (typeof v !== "number" || v - v !== 0) {
        return this.#reject("not-a-number", `value ${i} is not a finite number`);
      }
      if (!inRange(v)) return this.#outOfRange(`value ${i}`, v);
      out[i] = v;
    }
    return undefined;
  }

  #csv(text: string, out: Float64Array): RejectReason | undefined {
    const n = this.fields.length;
    let end = text.length;
    // One line: a trailing newline is fine, a second line is not.
    while (end > 0 && (text.charCodeAt(end - 1) === 10 || text.charCodeAt(end - 1) === 13)) end--;
    let start = 0;
    let count = 0;
    while (start <= end) {
      let comma = text.indexOf(",", start);
      if (comma === -1 || comma > end) comma = end;
      if (count === n) return this.#reject("wrong-length", `more than ${n} values`);
      const reason = this.#number(text.slice(start, comma).trim(), count, out);
      if (reason !== undefined) return reason;
      count++;
      start = comma + 1;
    }
    if (count !== n) return this.#reject("wrong-length", `${count} values, expected ${n}`);
    return undefined;
  }

  #number(token: string, index: number, out: Float64Array): RejectReason | undefined {
    if (!DECIMAL.test(token)) {
      return this.#reject("not-a-number", `value ${index} is not a decimal number`);
    }
    const v = Number(token);
    if (v - v !== 0) return this.#reject("not-a-number", `value ${index} is not finite`);
    if (!inRange(v)) return this.#outOfRange(`value ${index}`, v);
    out[index] = v;
    return undefined;
  }

  #outOfRange(what: string, value: number): RejectReason {
    return this.#reject(
      "out-of-range",
      `${what} is ${value}, beyond ±${MAX_FEATURE_MAGNITUDE}`,
    );
  }

  #reject(reason: RejectReason, problem: string): RejectReason {
    this.lastProblem = problem;
    return reason;
  }
}

const PARSE_FAILED = Symbol("parse failed");

function inRange(v: number): boolean {
  return v <= MAX_FEATURE_MAGNITUDE && v >= -MAX_FEATURE_MAGNITUDE;
}
