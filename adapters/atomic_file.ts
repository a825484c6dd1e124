/**
 * Files that are either wholly the old version or wholly the new one, even across a power cut:
 * write a temporary file beside the target, fsync it, rename it over the target, fsync the folder.
 *
 * @module
 */

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Atomically replaces `path` with `bytes`. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });
  const temporary = join(
    folder,
    `.${basename(path)}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fd = openSync(temporary, "w", 0o644);
  try {
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(folder);
}

// Makes the rename itself durable; some platforms cannot open a folder for fsync, which is fine.
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, "r");
    fsyncSync(fd);
  } catch {
    // Not supported here (e.g. Windows): the rename is still atomic, only not yet flushed.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
