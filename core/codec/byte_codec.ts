/**
 * Little-endian binary writing and bounds-checked reading, for saved model state.
 *
 * @module
 */

/** Appends little-endian values to a growing byte buffer. */
export class ByteWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** An unsigned 8-bit integer. */
  u8(value: number): this {
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
    return this;
  }

  /** An unsigned 32-bit integer. */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${value}`);
    }
    this.#reserve(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  /** A 64-bit float. */
  f64(value: number): this {
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  /** A length-prefixed array of 64-bit floats. */
  f64Array(values: ArrayLike<number>): this {
    this.u32(values.length);
    this.#reserve(values.length * 8);
    for (let i = 0; i < values.length; i++) {
      this.#view.setFloat64(this.#length, values[i], true);
      this.#length += 8;
    }
    return this;
  }

  /** A length-prefixed array of unsigned 32-bit integers. */
  u32Array(values: ArrayLike<number>): this {
    this.u32(values.length);
    for (let i = 0; i < values.length; i++) this.u32(values[i]);
    return this;
  }

  /** A length-prefixed UTF-8 string. */
  string(value: string): this {
    const encoded = new TextEncoder().encode(value);
    this.u32(encoded.length);
    this.bytes(encoded);
    return this;
  }

  /** Raw bytes, no length prefix. */
  bytes(value: Uint8Array): this {
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** A copy of everything written. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

/** Reads little-endian values, refusing to read past the end. */
export class ByteReader {
  #bytes: Uint8Array;
  #view: DataView;
  #offset = 0;
  #what: string;

  /** `what` names the data in error messages ("KitNET state", …). */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  /** Current read position. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(count: number): void {
    if (this.#offset + count > this.#bytes.length) {
      throw new RangeError(
        `${this.#what} is truncated: needs ${count} bytes at offset ${this.#offset}, ` +
          `has ${this.remaining}`,
      );
    }
  }

  /** An unsigned 8-bit integer. */
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#offset++);
  }

  /** An unsigned 32-bit integer. */
  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return value;
  }

  /** A 64-bit float. */
  f64(): number {
    this.#need(8);
    const value = this.#view.getFloat64(this.#offset, true);
    this.#offset += 8;
    return value;
  }

  /** A length-prefixed array of 64-bit floats; `expected` checks the length when given. */
  f64Array(expected?: number): Float64Array {
    const length = this.u32();
    this.#checkLength(length, expected, 8);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      out[i] = this.#view.getFloat64(this.#offset, true);
      this.#offset += 8;
    }
    return out;
  }

  /** A length-prefixed array of unsigned 32-bit integers. */
  u32Array(expected?: number): Uint32Array {
    const length = this.u32();
    this.#checkLength(length, expected, 4);
    const out = new Uint32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.u32();
    return out;
  }

  /** A length-prefixed UTF-8 string; a `RangeError` when the bytes are not UTF-8. */
  string(): string {
    const length = this.u32();
    const at = this.#offset;
    const bytes = this.bytes(length);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new RangeError(`${this.#what} is corrupt: the string at offset ${at} is not UTF-8`);
    }
  }

  /** `count` raw bytes (a view, not a copy). */
  bytes(count: number): Uint8Array {
    this.#need(count);
    const out = this.#bytes.subarray(this.#offset, this.#offset + count);
    this.#offset += count;
    return out;
  }

  #checkLength(length: number, expected: number | undefined, width: number): void {
    if (expected !== undefined && length !== expected) {
      throw new RangeError(
        `${this.#what} is inconsistent: an array at offset ${this.#offset - 4} has ` +
          `${length} entries, expected ${expected}`,
      );
    }
    this.#need(length * width);
  }
}
