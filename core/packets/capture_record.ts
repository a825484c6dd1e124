/**
 * What the capture readers deliver, and the error a bad capture ends with.
 *
 * @module
 */

/** One captured packet. */
export interface CaptureRecord {
  /** Position of the packet in the capture, from 0. */
  index: number;
  /** Byte offset of the packet's record (pcap) or block (pcapng) in the input. */
  offset: number;
  /** The interface it was captured on (pcapng; always 0 for pcap). */
  interfaceId: number;
  /** LINKTYPE_* of the frame's first header. */
  linkType: number;
  /**
   * Capture time in seconds since the epoch: whole seconds + fraction / units-per-second, as a
   * double, so the same instant gives the same number in every format. A pcapng simple packet
   * block has no time of its own and repeats the previous packet's.
   */
  timestamp: number;
  /** Bytes captured (`data.length`). */
  capturedLength: number;
  /** The frame's length on the wire. */
  originalLength: number;
  /** The captured bytes: a view that stays valid only until the next batch is read. */
  data: Uint8Array;
}

/** A capture that is truncated, corrupt, or not a capture; `offset` is where it went wrong. */
export class CaptureFormatError extends Error {
  /** Byte offset in the input of the record, block or header at fault. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} (at byte offset ${offset})`);
    this.name = "CaptureFormatError";
    this.offset = offset;
  }
}
