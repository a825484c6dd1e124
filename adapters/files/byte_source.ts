/**
 * Byte streams from a file or standard input, gunzipped when they start with gzip's magic.
 *
 * @module
 */

import { accessSync, constants, createReadStream, statSync } from "node:fs";
import process from "node:process";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** `-` means standard input. */
export const STDIN = "-";

/** The raw chunks of `path` (or standard input for `-`). */
export function rawChunks(path: string, highWaterMark = 1 << 16): AsyncIterable<Uint8Array> {
  return path === STDIN ? process.stdin : createReadStream(path, { highWaterMark });
}

/**
 * Why `path` could not be read, in words for a command line (`cannot read data.csv: no such
 * file`), from a file system error; other errors as they are.
 */
export function fileError(path: string, error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  const reasons: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EISDIR: "it is a directory",
    ENOTDIR: "a part of the path is not a directory",
    EMFILE: "too many open files",
  };
  const reason = typeof code === "string" ? reasons[code] : undefined;
  if (reason === undefined) return error instanceof Error ? error : new Error(String(error));
  return new Error(`cannot read ${path === STDIN ? "standard input" : path}: ${reason}`);
}

/**
 * Throws {@linkcode fileError}'s error unless `path` (not `-`) is a file this process can read:
 * a command checks its input before it writes anything.
 */
export function assertReadableFile(path: string): void {
  if (path === STDIN) return;
  try {
    accessSync(path, constants.R_OK);
    if (statSync(path).isDirectory()) throw Object.assign(new Error(path), { code: "EISDIR" });
  } catch (error) {
    throw fileError(path, error);
  }
}

/** The chunks of `path`, decompressed when the data is gzip (judged by its first two bytes). */
export async function* decompressedChunks(path: string): AsyncGenerator<Uint8Array> {
  const iterator = rawChunks(path)[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (error) {
    throw fileError(path, error);
  }
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
