/**
 * Rewrites a little-endian microsecond pcap into other encodings of the same packets (nanosecond
 * and big-endian pcap, pcapng in either byte order with several interfaces and blocks to skip),
 * so that the readers can be checked to deliver identical packets. Independent of the reader
 * under test: it walks the classic file with a DataView of its own.
 *
 * @module
 */

/** One record of a classic pcap. */
export interface ClassicRecord {
  /** Byte offset of the record header. */
  offset: number;
  seconds: number;
  microseconds: number;
  originalLength: number;
  data: Uint8Array;
}

/** The link type and records of a little-endian microsecond pcap. */
export function classicRecords(file: Uint8Array): { linkType: number; records: ClassicRecord[] } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== 0xa1b2c3d4) throw new Error("expected a LE microsecond pcap");
  const linkType = view.getUint32(20, true);
  const records: ClassicRecord[] = [];
  for (let at = 24; at < file.length;) {
    const captured = view.getUint32(at + 8, true);
    records.push({
      offset: at,
      seconds: view.getUint32(at, true),
      microseconds: view.getUint32(at + 4, true),
      originalLength: view.getUint32(at + 12, true),
      data: file.subarray(at + 16, at + 16 + captured),
    });
    at += 16 + captured;
  }
  return { linkType, records };
}

/** A classic pcap of `records`: nanosecond and/or big-endian as asked. */
export function classicPcap(
  linkType: number,
  records: readonly ClassicRecord[],
  options: { nanoseconds?: boolean; bigEndian?: boolean } = {},
): Uint8Array {
  const little = !options.bigEndian;
  const size = 24 + records.reduce((sum, r) => sum + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, little);
  view.setUint16(4, 2, little);
  view.setUint16(6, 4, little);
  view.setUint32(16, 262144, little);
  view.setUint32(20, linkType, little);
  let at = 24;
  for (const r of records) {
    view.setUint32(at, r.seconds, little);
    view.setUint32(at + 4, options.nanoseconds ? r.microseconds * 1000 : r.microseconds, little);
    view.setUint32(at + 8, r.data.length, little);
    view.setUint32(at + 12, r.originalLength, little);
    out.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  return out;
}

/** Builds pcapng blocks in one byte order. */
export class PcapngWriter {
  readonly little: boolean;
  #parts: Uint8Array[] = [];

  constructor(bigEndian = false) {
    this.little = !bigEndian;
  }

  /** A block of `type` with `body` (padded to 4 bytes), lengths before and after. */
  block(type: number, body: Uint8Array): this {
    const padded = (body.length + 3) & ~3;
    const out = new Uint8Array(12 + padded);
    const view = new DataView(out.buffer);
    view.setUint32(0, type, this.little);
    view.setUint32(4, out.length, this.little);
    out.set(body, 8);
    view.setUint32(out.length - 4, out.length, this.little);
    this.#parts.push(out);
    return this;
  }

  /** A section header block. */
  section(): this {
    const body = new Uint8Array(16);
    const view = new DataView(body.buffer);
    view.setUint32(0, 0x1a2b3c4d, this.little);
    view.setUint16(4, 1, this.little);
    view.setBigInt64(8, -1n, this.little);
    return this.block(0x0a0d0d0a, body);
  }

  /** An interface description block; `tsresol` is the raw if_tsresol byte, when given. */
  interface(linkType: number, tsresol?: number, snapLength = 262144): this {
    const options: number[][] = [];
    // A comment option first, so the reader must walk the options to find if_tsresol.
    options.push([1, 5, ...new TextEncoder().encode("lan 0"), 0, 0, 0]);
    if (tsresol !== undefined) options.push([9, 1, tsresol, 0, 0, 0]);
    const optionBytes = options.flatMap(([code, length, ...value]) => {
      const head = new Uint8Array(4);
      new DataView(head.buffer).setUint16(0, code, this.little);
      new DataView(head.buffer).setUint16(2, length, this.little);
      return [...head, ...value];
    });
    const body = new Uint8Array(8 + optionBytes.length + 4);
    const view = new DataView(body.buffer);
    view.setUint16(0, linkType, this.little);
    view.setUint32(4, snapLength, this.little);
    body.set(optionBytes, 8);
    return this.block(1, body); // ends with opt_endofopt (4 zero bytes)
  }

  /** An enhanced packet block; `units` is the count of 1/unitsPerSecond seconds. */
  enhanced(interfaceId: number, units: bigint, data: Uint8Array, originalLength: number): this {
    const body = new Uint8Array(20 + ((data.length + 3) & ~3));
    const view = new DataView(body.buffer);
    view.setUint32(0, interfaceId, this.little);
    view.setUint32(4, Number(units >> 32n), this.little);
    view.setUint32(8, Number(units & 0xffffffffn), this.little);
    view.setUint32(12, data.length, this.little);
    view.setUint32(16, originalLength, this.little);
    body.set(data, 20);
    return this.block(6, body);
  }

  /** A simple packet block. */
  simple(data: Uint8Array, originalLength: number): this {
    const body = new Uint8Array(4 + data.length);
    new DataView(body.buffer).setUint32(0, originalLength, this.little);
    body.set(data, 4);
    return this.block(3, body);
  }

  /** The whole file so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#parts.reduce((sum, p) => sum + p.length, 0));
    let at = 0;
    for (const p of this.#parts) out.set(p, at), at += p.length;
    return out;
  }
}

/**
 * `records` as pcapng: two interfaces of the same link type, one in microseconds (default
 * resolution) and one in nanoseconds, packets alternating between them, with a name resolution
 * block, an interface statistics block and a custom block to skip along the way.
 */
export function pcapngOf(
  linkType: number,
  records: readonly ClassicRecord[],
  bigEndian = false,
): Uint8Array {
  const w = new PcapngWriter(bigEndian).section().interface(linkType).interface(linkType, 9);
  w.block(4, new Uint8Array([0, 0, 0, 0])); // name resolution block: end of records only
  records.forEach((r, i) => {
    if (i % 1000 === 500) w.block(5, new Uint8Array(12)).block(0x00000bad, new Uint8Array(7));
    const id = i % 2;
    const units = id === 0
      ? BigInt(r.seconds) * 1_000_000n + BigInt(r.microseconds)
      : BigInt(r.seconds) * 1_000_000_000n + BigInt(r.microseconds) * 1000n;
    w.enhanced(id, units, r.data, r.originalLength);
  });
  return w.bytes();
}

/** Splits `bytes` into chunks of `size` bytes (a stand-in for a slow pipe). */
export function* chunksOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
