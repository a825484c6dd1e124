/**
 * Tools of the fault tests: waiting for an event, a small tmpfs that can be made read-only or
 * filled up for real, and the temporary files an interrupted atomic write leaves.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, rmdirSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTemporaryName } from "../../adapters/files/mod.ts";

/**
 * Time limit of a fault test that runs a broker or child processes: generous, because the
 * machine may be loaded (Bun's default is 5 s).
 */
export const TEST_TIMEOUT_MS = 180_000;

/** Waits until `check` holds, polling; fails after `ms` (generous: the machine may be loaded). */
export async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The temporary files of interrupted atomic writes in `dir`. */
export function temporaryFiles(dir: string): string[] {
  return readdirSync(dir).filter(isTemporaryName);
}

/** A tmpfs mounted for one test. */
export interface TmpfsMount {
  /** Where it is mounted. */
  readonly path: string;
  /** Remounts it read-only (`ro`, every write then fails with EROFS) or writable again (`rw`). */
  remount(mode: "ro" | "rw"): void;
  /** Unmounts it and removes the mount point. */
  unmount(): void;
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${r.stderr?.trim() || r.error?.message}. ` +
        "The fault tests mount a small tmpfs to make a folder read-only or full for real " +
        "(chmod does not stop root); they need root with CAP_SYS_ADMIN, as CI has.",
    );
  }
}

/**
 * Mounts a tmpfs of `bytes` (a real file system: a full one fails writes with ENOSPC, a
 * read-only one with EROFS, whoever the writer is). Linux, as root.
 */
export function mountTmpfs(bytes: number): TmpfsMount {
  const path = mkdtempSync(join(tmpdir(), "foxtail-tmpfs-"));
  try {
    run("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "foxtail-fault-test", path]);
  } catch (error) {
    rmdirSync(path);
    throw error;
  }
  let mounted = true;
  return {
    path,
    remount: (mode) => run("mount", ["-o", `remount,${mode}`, path]),
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      // Lazy: a file a failed test left open must not keep the mount (and the test) alive.
      run("umount", ["--lazy", path]);
      rmdirSync(path);
    },
  };
}

/**
 * Fills the file system holding `dir` with `dir/filler` until a write fails with ENOSPC, as
 * another program filling the disk would; returns the filler's path (delete it to free the
 * space) and its size.
 */
export function fillDisk(dir: string): { path: string; bytes: number } {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(64 * 1024).fill(0xa5);
  let bytes = 0;
  try {
    for (;;) {
      try {
        bytes += writeSync(fd, chunk);
      } catch (error) {
        if ((error as { code?: string }).code === "ENOSPC") break;
        throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { path, bytes };
}
