/**
 * An incremental parser for classic pcap (micro- and nanosecond, either byte order) and pcapng
 * (several sections in either byte order, several interfaces, per-interface timestamp resolution
 * and offset, enhanced, simple and obsolete packet blocks; other blocks skipped). It is fed
 * chunks as they arrive and keeps only the unfinished record between them.
 *
 * @module
 */

import { CaptureFormatError, type CaptureRecord } from "./capture_record.ts";

const PCAP_MICRO = 0xa1b2c3d4;
const PCAP_NANO = 0xa1b23c4d;
const PCAPNG_SECTION = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const BLOCK_INTERFACE = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SIMPLE_PACKET = 3;
const BLOCK_ENHANCED_PACKET = 6;
const OPTION_END = 0;
const OPTION_TSRESOL = 9;
const OPTION_TSOFFSET = 14;
/** Larger records or blocks are taken for corruption rather than waited for. */
const LARGEST_RECORD = 1 << 24;
/** Above this many units per second, 16-bit long division in doubles is no longer exact. */
const EXACT_DIVISOR_LIMIT = 2 ** 37;

interface Interface {
  linkType: number;
  snapLength: number;
  unitsPerSecond: number;
  offsetSeconds: number;
}

/** Which format the parser found. */
export type CaptureFormat = "pcap" | "pcapng";

/**
 * Parses a capture pushed to it chunk by chunk.
 *
 * @example
 * ```ts
 * import { CaptureParser, type CaptureRecord } from "./mod.ts";
 * const parser = new CaptureParser();
 * const records: CaptureRecord[] = [];
 * for (const chunk of [new Uint8Array(0)]) parser.push(chunk, records);
 * ```
 */
export class CaptureParser {
  #format: CaptureFormat | undefined;
  #buffer: Uint8Array = new Uint8Array(0);
  #view = new DataView(this.#buffer.buffer);
  #position = 0;
  #bufferOffset = 0; // input offset of #buffer[0]
  #little = true;
  #packets = 0;
  // classic pcap
  #linkType = 0;
  #unitsPerSecond = 1e6;
  // pcapng
  #interfaces: Interface[] = [];
  #lastTimestamp = 0;
  #failed: CaptureFormatError | undefined;

  /** The format, once the first bytes have been seen. */
  get format(): CaptureFormat | undefined {
    return this.#format;
  }

  /** Packets delivered so far. */
  get packets(): number {
    return this.#packets;
  }

  /** Bytes taken in so far. */
  get bytesRead(): number {
    return this.#bufferOffset + this.#buffer.length;
  }

  /**
   * Takes the next chunk and appends the packets it completes to `into`. On a corrupt record it
   * throws a {@linkcode CaptureFormatError} after appending every packet before it.
   */
  push(chunk: Uint8Array, into: CaptureRecord[]): void {
    if (this.#failed) throw this.#failed;
    const leftover = this.#buffer.length - this.#position;
    if (leftover === 0) {
      this.#bufferOffset += this.#buffer.length;
      this.#buffer = chunk;
    } else {
      const joined = new Uint8Array(leftover + chunk.length);
      joined.set(this.#buffer.subarray(this.#position));
      joined.set(chunk, leftover);
      this.#bufferOffset += this.#position;
      this.#buffer = joined;
    }
    this.#position = 0;
    this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.length);
    try {
      if (this.#format === undefined && !this.#readFileHeader()) return;
      if (this.#format === "pcap") this.#readPcapRecords(into);
      else this.#readPcapngBlocks(into);
    } catch (error) {
      if (error instanceof CaptureFormatError) this.#failed = error;
      throw error;
    }
  }

  /** Declares the input complete; throws a {@linkcode CaptureFormatError} if it ends mid-record. */
  end(): void {
    if (this.#failed) throw this.#failed;
    const remaining = this.#buffer.length - this.#position;
    const at = this.#bufferOffset + this.#position;
    if (this.#format === undefined) {
      throw new CaptureFormatError(
        remaining === 0 ? "empty input: not a pcap or pcapng capture" : "truncated file header",
        at,
      );
    }
    if (remaining > 0) {
      const needed = this.#neededLength();
      const what = needed === undefined
        ? `a truncated ${this.#format === "pcap" ? "record header" : "block header"}`
        : `a truncated ${this.#format === "pcap" ? "record" : "block"} of ${needed} bytes`;
      throw new CaptureFormatError(
        `capture ends after ${remaining} bytes of ${what}, following packet ${this.#packets}`,
        at,
      );
    }
  }

  #neededLength(): number | undefined {
    const remaining = this.#buffer.length - this.#position;
    if (this.#format === "pcap") {
      if (remaining < PCAP_RECORD_HEADER) return undefined;
      return PCAP_RECORD_HEADER + this.#u32(this.#position + 8);
    }
    if (remaining < 12) return undefined;
    return this.#u32(this.#position + 4);
  }

  #u32(at: number): number {
    return this.#view.getUint32(at, this.#little);
  }

  #u16(at: number): number {
    return this.#view.getUint16(at, this.#little);
  }

  #fail(message: string, at: number): never {
    throw new CaptureFormatError(message, this.#bufferOffset + at);
  }

  /** Reads the classic header or recognises pcapng; false while too few bytes have arrived. */
  #readFileHeader(): boolean {
    const buffer = this.#buffer;
    if (buffer.length < 4) return false;
    const magic = this.#view.getUint32(0, true);
    const swapped = this.#view.getUint32(0, false);
    if (magic === PCAPNG_SECTION) {
      this.#format = "pcapng";
      return true;
    }
    let unitsPerSecond: number;
    if (magic === PCAP_MICRO || swapped === PCAP_MICRO) unitsPerSecond = 1e6;
    else if (magic === PCAP_NANO || swapped === PCAP_NANO) unitsPerSecond = 1e9;
    else {
      const hex = Array.from(buffer.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
      this.#fail(`not a pcap or pcapng capture: it starts with bytes ${hex.join(" ")}`, 0);
    }
    if (buffer.length < PCAP_HEADER) return false;
    this.#little = magic === PCAP_MICRO || magic === PCAP_NANO;
    this.#unitsPerSecond = unitsPerSecond;
    this.#linkType = this.#u32(20) & 0xffff;
    this.#format = "pcap";
    this.#position = PCAP_HEADER;
    return true;
  }

  #readPcapRecords(into: CaptureRecord[]): void {
    const buffer = this.#buffer;
    const end = buffer.length;
    let at = this.#position;
    while (end - at >= PCAP_RECORD_HEADER) {
      const captured = this.#u32(at + 8);
      if (captured > LARGEST_RECORD) {
        this.#fail(`corrupt record: captured length ${captured} exceeds ${LARGEST_RECORD}`, at);
      }
      if (end - at < PCAP_RECORD_HEADER + captured) break;
      const seconds = this.#u32(at);
      const fraction = this.#u32(at + 4);
      into.push({
        index: this.#packets++,
        offset: this.#bufferOffset + at,
        interfaceId: 0,
        linkType: this.#linkType,
        timestamp: seconds + fraction / this.#unitsPerSecond,
        capturedLength: captured,
        originalLength: this.#u32(at + 12),
        data: buffer.subarray(at + PCAP_RECORD_HEADER, at + PCAP_RECORD_HEADER + captured),
      });
      at += PCAP_RECORD_HEADER + captured;
    }
    this.#position = at;
  }

  #readPcapngBlocks(into: CaptureRecord[]): void {
    const buffer = this.#buffer;
    const view = this.#view;
    const end = buffer.length;
    let at = this.#position;
    while (end - at >= 12) {
      const rawType = view.getUint32(at, true);
      if (rawType === PCAPNG_SECTION) {
        const order = view.getUint32(at + 8, true);
        if (order === PCAPNG_BYTE_ORDER) this.#little = true;
        else if (view.getUint32(at + 8, false) === PCAPNG_BYTE_ORDER) this.#little = false;
        else this.#fail(`corrupt section header: byte-order magic 0x${hex32(order)}`, at);
      }
      const type = this.#u32(at);
      const length = this.#u32(at + 4);
      if (length < 12 || length % 4 !== 0 || length > LARGEST_RECORD) {
        this.#fail(`corrupt block of type 0x${hex32(type)}: total length ${length}`, at);
      }
      if (end - at < length) break;
      if (this.#u32(at + length - 4) !== length) {
        this.#fail(
          `corrupt block of type 0x${hex32(type)}: total length ${length} at its start, ` +
            `${this.#u32(at + length - 4)} at its end`,
          at,
        );
      }
      if (type === PCAPNG_SECTION) this.#interfaces = [];
      else if (type === BLOCK_INTERFACE) this.#readInterface(at, length);
      else if (type === BLOCK_ENHANCED_PACKET || type === BLOCK_OBSOLETE_PACKET) {
        into.push(this.#readPacketBlock(at, length, type));
      } else if (type === BLOCK_SIMPLE_PACKET) into.push(this.#readSimplePacket(at, length));
      at += length;
    }
    this.#position = at;
  }

  #readInterface(at: number, length: number): void {
    if (length < 20) this.#fail(`corrupt interface description block: length ${length}`, at);
    const iface: Interface = {
      linkType: this.#u16(at + 8),
      snapLength: this.#u32(at + 12),
      unitsPerSecond: 1e6,
      offsetSeconds: 0,
    };
    const end = at + length - 4;
    let option = at + 16;
    while (option + 4 <= end) {
      const code = this.#u16(option);
      const size = this.#u16(option + 2);
      if (code === OPTION_END) break;
      if (option + 4 + size > end) {
        this.#fail(`corrupt interface description block: option ${code} overruns it`, at);
      }
      if (code === OPTION_TSRESOL && size >= 1) {
        const resolution = this.#buffer[option + 4];
        iface.unitsPerSecond = resolution & 0x80 ? 2 ** (resolution & 0x7f) : 10 ** resolution;
      } else if (code === OPTION_TSOFFSET && size >= 8) {
        iface.offsetSeconds = Number(this.#view.getBigInt64(option + 4, this.#little));
      }
      option += 4 + ((size + 3) & ~3);
    }
    this.#interfaces.push(iface);
  }

  #interface(id: number, at: number): Interface {
    const iface = this.#interfaces[id];
    if (iface === undefined) {
      this.#fail(
        `packet block names interface ${id}, but its section describes ${this.#interfaces.length}`,
        at,
      );
    }
    return iface;
  }

  #readPacketBlock(at: number, length: number, type: number): CaptureRecord {
    if (length < 32) this.#fail(`corrupt packet block: length ${length}`, at);
    const interfaceId = type === BLOCK_ENHANCED_PACKET ? this.#u32(at + 8) : this.#u16(at + 8);
    const iface = this.#interface(interfaceId, at);
    const captured = this.#u32(at + 20);
    if (28 + captured > length - 4) {
      this.#fail(`corrupt packet block: captured length ${captured} overruns its ${length}`, at);
    }
    const timestamp = toSeconds(this.#u32(at + 12), this.#u32(at + 16), iface);
    this.#lastTimestamp = timestamp;
    return {
      index: this.#packets++,
      offset: this.#bufferOffset + at,
      interfaceId,
      linkType: iface.linkType,
      timestamp,
      capturedLength: captured,
      originalLength: this.#u32(at + 24),
      data: this.#buffer.subarray(at + 28, at + 28 + captured),
    };
  }

  #readSimplePacket(at: number, length: number): CaptureRecord {
    if (length < 16) this.#fail(`corrupt simple packet block: length ${length}`, at);
    const iface = this.#interface(0, at);
    const original = this.#u32(at + 8);
    let captured = Math.min(original, length - 16);
    if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
    return {
      index: this.#packets++,
      offset: this.#bufferOffset + at,
      interfaceId: 0,
      linkType: iface.linkType,
      timestamp: this.#lastTimestamp,
      capturedLength: captured,
      originalLength: original,
      data: this.#buffer.subarray(at + 12, at + 12 + captured),
    };
  }
}

/**
 * A 64-bit count of 1/units-second as whole seconds + fraction / units: exact long division in
 * 16-bit steps, so a pcapng microsecond or nanosecond time equals the classic pcap one.
 */
function toSeconds(high: number, low: number, iface: Interface): number {
  const units = iface.unitsPerSecond;
  let seconds: number;
  let remainder: number;
  if (units < EXACT_DIVISOR_LIMIT) {
    let quotient = 0;
    remainder = 0;
    for (let i = 0; i < 4; i++) {
      const limb = ((i < 2 ? high : low) >>> (i % 2 === 0 ? 16 : 0)) & 0xffff;
      const current = remainder * 65536 + limb;
      let digit = Math.floor(current / units);
      remainder = current - digit * units;
      if (remainder < 0) digit--, remainder += units;
      else if (remainder >= units) digit++, remainder -= units;
      quotient = quotient * 65536 + digit;
    }
    seconds = quotient;
  } else {
    const total = (BigInt(high) << 32n) | BigInt(low);
    const divisor = BigInt(units);
    seconds = Number(total / divisor);
    remainder = Number(total % divisor);
  }
  const t = seconds + remainder / units;
  return iface.offsetSeconds === 0 ? t : t + iface.offsetSeconds;
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, "0");
}
