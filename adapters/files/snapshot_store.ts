/**
 * The gateway's snapshot files: `snapshot-<seq>.bin` in one folder, each written atomically
 * (temp file, fsync, rename, folder fsync), the newest `keep` kept. Loading tries the newest
 * first and falls back, reporting each file it could not use. Temporary files left by a crash
 * mid-write are never read, and {@linkcode SnapshotStore.removeLeftovers} deletes them.
 *
 * @module
 */

import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { temporaryTarget, writeFileAtomic } from "./atomic_file.ts";

const NAME = /^snapshot-(\d{1,15})\.bin$/;

/** The outcome of {@linkcode SnapshotStore.loadNewest}. */
export interface SnapshotLoad<T> {
  /** What `read` made of the newest usable file, and its path; absent when none was usable. */
  loaded?: { value: T; path: string };
  /** One line per newer file that could not be used, with the reason. */
  passedOver: string[];
}

/** A folder of numbered snapshot files. */
export class SnapshotStore {
  /** The folder. */
  readonly dir: string;
  /** Files kept. */
  readonly keep: number;

  constructor(dir: string, keep: number) {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be ≥ 1, got ${keep}`);
    this.dir = dir;
    this.keep = keep;
  }

  /** The snapshot files' sequence numbers, newest first. */
  sequences(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
    const seqs: number[] = [];
    for (const name of names) {
      const m = NAME.exec(name);
      if (m !== null) seqs.push(Number(m[1]));
    }
    return seqs.sort((a, b) => b - a);
  }

  /**
   * Deletes the temporary files of snapshot writes that never finished (a crash or power cut
   * before the rename); returns their paths. Call it when no write is under way (at start).
   */
  removeLeftovers(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
    const removed: string[] = [];
    for (const name of names) {
      const target = temporaryTarget(name);
      if (target === undefined || !NAME.test(target)) continue;
      const path = join(this.dir, name);
      rmSync(path, { force: true });
      removed.push(path);
    }
    return removed;
  }

  /** The path of snapshot `seq`. */
  pathOf(seq: number): string {
    return join(this.dir, `snapshot-${seq}.bin`);
  }

  /** Writes `bytes` as the next snapshot, atomically, then deletes all but the newest `keep`. */
  save(bytes: Uint8Array): string {
    // writeFileAtomic creates the folder when missing, making it durable in its parent too.
    const seqs = this.sequences();
    const path = this.pathOf((seqs[0] ?? 0) + 1);
    writeFileAtomic(path, bytes);
    // Only after the new file is durable may old ones go.
    for (const seq of this.sequences().slice(this.keep)) rmSync(this.pathOf(seq), { force: true });
    return path;
  }

  /**
   * Reads the newest snapshot that `read` accepts (it throws for one it cannot use), reporting
   * every newer file it had to pass over. With no usable file, `loaded` is absent: the caller
   * starts fresh (the bad files stay until pruned, for inspection).
   */
  loadNewest<T>(read: (bytes: Uint8Array) => T): SnapshotLoad<T> {
    const passedOver: string[] = [];
    for (const seq of this.sequences()) {
      const path = this.pathOf(seq);
      try {
        return { loaded: { value: read(new Uint8Array(readFileSync(path))), path }, passedOver };
      } catch (error) {
        passedOver.push(`${path}: ${(error as Error).message}`);
      }
    }
    return { passedOver };
  }
}
