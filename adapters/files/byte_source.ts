/**
 * Byte streams from a file or standard input, gunzipped when they start with gzip's magic.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import process from "node:process";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** `-` means standard input. */
export const STDIN = "-";

/** The raw chunks of `path` (or standard input for `-`). */
export function rawChunks(path: string, highWaterMark = 1 << 16): AsyncIterable<Uint8Array> {
  return path === STDIN ? process.stdin : createReadStream(path, { highWaterMark });
}

/** The chunks of `path`, decompressed when the data is gzip (judged by its first two bytes). */
export async function* decompressedChunks(path: string): AsyncGenerator<Uint8Array> {
  const iterator = rawChunks(path)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head: Uint8Array = first.value;
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(prepend(head, rest)).pipe(createGunzip());
  } else {
    yield head;
    yield* rest;
  }
}

async function* prepend(head: Uint8Array, rest: AsyncIterable<Uint8Array>) {
  yield head;
  yield* rest;
}
