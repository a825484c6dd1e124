/**
 * Files that are either wholly the old version or wholly the new one, even across a power cut:
 * write a temporary file beside the target, fsync it, rename it over the target, fsync the folder.
 *
 * Order matters: the data is durable before the rename makes it visible, so after a power cut
 * the target holds the old bytes or the new ones, never a mix; the folder's fsync makes the
 * rename itself durable, and only then may a caller delete older files it replaces. A crash
 * before the rename leaves a temporary file ({@linkcode isTemporaryName}), which no reader takes
 * for a finished one.
 *
 * @module
 */

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** Temporary files: `.<target name>.<ms since the epoch>.<random>.tmp`. */
const TEMPORARY = /^\.(.+)\.\d+\.[0-9a-z]+\.tmp$/;

/**
 * The target's file name if `name` is one of {@linkcode writeFileAtomic}'s temporary files (left
 * behind by a crash when no write is under way), else undefined.
 */
export function temporaryTarget(name: string): string | undefined {
  return TEMPORARY.exec(name)?.[1];
}

/** Whether `name` is one of {@linkcode writeFileAtomic}'s temporary files. */
export function isTemporaryName(name: string): boolean {
  return TEMPORARY.test(name);
}

/** Atomically replaces `path` with `bytes` (creating its folder when missing). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const folder = dirname(path);
  makeFolder(folder);
  const temporary = join(
    folder,
    `.${basename(path)}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fd = openSync(temporary, "wx", 0o644);
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

/** Creates `folder` (and missing parents), making each new entry durable in its parent. */
function makeFolder(folder: string): void {
  const created = mkdirSync(folder, { recursive: true });
  if (created === undefined) return;
  // Every folder from the first one created down to `folder` is new: sync each one's parent.
  const first = resolve(created);
  for (let at = resolve(folder);; at = dirname(at)) {
    syncFolder(dirname(at));
    if (at === first || dirname(at) === at) break;
  }
}

/** fsync errors of a folder that mean "not supported here", not "not written". */
const UNSUPPORTED = new Set(["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EISDIR", "EPERM", "EACCES"]);

// Makes a rename durable. Some platforms cannot open a folder (Windows) or fsync one (some
// network and FUSE file systems): the rename is still atomic there, only not yet flushed. A real
// failure (EIO) is thrown, so the caller keeps the files this one was to replace.
function syncFolder(folder: string): void {
  let fd: number;
  try {
    fd = openSync(folder, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!UNSUPPORTED.has((error as { code?: string }).code ?? "")) throw error;
  } finally {
    closeSync(fd);
  }
}
