/**
 * Streaming capture readers over a file, standard input (`-`) or any byte stream: chunk by chunk,
 * never the whole file in memory.
 *
 * @module
 */

import { fileError, rawChunks } from "./byte_source.ts";
import { CaptureParser, isSupportedLinkType } from "../../core/packets/mod.ts";
import type { CaptureRecord } from "../../core/packets/mod.ts";

/** Where a capture comes from: a path, `-` for standard input, or a stream of byte chunks. */
export type CaptureSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

function chunksOf(source: CaptureSource): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  return typeof source === "string" ? namedErrors(source, rawChunks(source)) : source;
}

/** `chunks`, with a file system error worded for the command line (see `fileError`). */
async function* namedErrors(path: string, chunks: AsyncIterable<Uint8Array>) {
  try {
    yield* chunks;
  } catch (error) {
    throw fileError(path, error);
  }
}

/**
 * The packets of a pcap or pcapng capture, in batches (one per chunk read; the fast way). Each
 * record's `data` stays valid only until the next batch is requested. A truncated or corrupt
 * capture yields every packet before the fault, then throws a `CaptureFormatError` naming the
 * byte offset.
 */
export async function* readCaptureBatches(
  source: CaptureSource,
): AsyncGenerator<CaptureRecord[], void, undefined> {
  const parser = new CaptureParser();
  for await (const chunk of chunksOf(source)) {
    const batch: CaptureRecord[] = [];
    try {
      parser.push(chunk, batch);
    } catch (error) {
      if (batch.length > 0) yield batch;
      throw error;
    }
    if (batch.length > 0) yield batch;
  }
  parser.end();
}

/**
 * The packets of a pcap or pcapng capture, one at a time (see {@linkcode readCaptureBatches};
 * a record's `data` stays valid only until the next record is requested).
 *
 * @example
 * ```ts
 * import { readCapture } from "./mod.ts";
 * for await (const packet of readCapture("capture.pcap")) console.log(packet.timestamp);
 * ```
 */
export async function* readCapture(
  source: CaptureSource,
): AsyncGenerator<CaptureRecord, void, undefined> {
  for await (const batch of readCaptureBatches(source)) yield* batch;
}

/**
 * How many packets the capture file at `path` holds, counting no further than `atMost` (so that
 * asking whether a capture is shorter than some length reads no more of it than that). A fault,
 * or a packet of a link type that is not read, ends the count at the packets before it: reading
 * the capture for real reports it.
 */
export async function countCapturePackets(path: string, atMost: number): Promise<number> {
  let count = 0;
  try {
    for await (const batch of readCaptureBatches(path)) {
      for (const record of batch) {
        if (!isSupportedLinkType(record.linkType)) return count;
        if (++count >= atMost) return atMost;
      }
    }
  } catch {
    // Counted up to the fault; the real reading names it.
  }
  return count;
}
