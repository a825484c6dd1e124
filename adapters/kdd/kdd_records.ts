/**
 * Streaming readers for the KDD Cup 1999 and NSL-KDD connection records (plain or gzip): 41
 * features, the label (KDD-99's ends in "."), and for NSL-KDD a difficulty level. No header.
 *
 * @module
 */

import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { TabularColumn, TabularValue } from "../../core/deep_ae/mod.ts";
import { decompressedChunks } from "../files/mod.ts";

/** The benchmarks these readers know. */
export type KddFormat = "kdd99" | "nsl-kdd";

/** The 41 feature columns of both files, protocol_type, service and flag categorical. */
export const KDD_COLUMNS: readonly TabularColumn[] = [
  "duration",
  "protocol_type",
  "service",
  "flag",
  "src_bytes",
  "dst_bytes",
  "land",
  "wrong_fragment",
  "urgent",
  "hot",
  "num_failed_logins",
  "logged_in",
  "num_compromised",
  "root_shell",
  "su_attempted",
  "num_root",
  "num_file_creations",
  "num_shells",
  "num_access_files",
  "num_outbound_cmds",
  "is_host_login",
  "is_guest_login",
  "count",
  "srv_count",
  "serror_rate",
  "srv_serror_rate",
  "rerror_rate",
  "srv_rerror_rate",
  "same_srv_rate",
  "diff_srv_rate",
  "srv_diff_host_rate",
  "dst_host_count",
  "dst_host_srv_count",
  "dst_host_same_srv_rate",
  "dst_host_diff_srv_rate",
  "dst_host_same_src_port_rate",
  "dst_host_srv_diff_host_rate",
  "dst_host_serror_rate",
  "dst_host_srv_serror_rate",
  "dst_host_rerror_rate",
  "dst_host_srv_rerror_rate",
].map((name) => ({
  name,
  kind: name === "protocol_type" || name === "service" || name === "flag"
    ? "categorical"
    : "numeric",
}));

const FEATURES = KDD_COLUMNS.length;

/** One connection record. */
export interface KddRecord {
  /** 1-based line in the file. */
  line: number;
  /** The 41 features: numbers, and strings for the categorical columns. */
  features: TabularValue[];
  /** The label without KDD-99's trailing ".", e.g. "normal", "smurf". */
  label: string;
  /** The raw line, trimmed (for de-duplication). */
  text: string;
}

/** A bad line: says which file and line, and what is wrong. */
export class KddRowError extends Error {
  constructor(path: string, line: number, message: string) {
    super(`${path}:${line}: ${message}`);
    this.name = "KddRowError";
  }
}

/**
 * Streams the records of `path` (`-` for standard input). NSL-KDD lines carry 43 fields, KDD-99
 * lines 42; `format` says which to expect ("auto": whichever the first line has). Blank lines
 * are skipped.
 */
export async function* readKddRecords(
  path: string,
  format: KddFormat | "auto",
): AsyncGenerator<KddRecord> {
  let expected = format === "nsl-kdd" ? FEATURES + 2 : format === "kdd99" ? FEATURES + 1 : 0;
  const lines = createInterface({
    input: Readable.from(decompressedChunks(path)),
    crlfDelay: Infinity,
  });
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = raw.trim();
    if (text === "") continue;
    const fields = text.split(",");
    if (expected === 0 && (fields.length === FEATURES + 1 || fields.length === FEATURES + 2)) {
      expected = fields.length;
    }
    if (fields.length !== expected) {
      throw new KddRowError(
        path,
        line,
        expected === 0
          ? `expected 42 (KDD-99) or 43 (NSL-KDD) comma-separated fields, got ${fields.length}`
          : `expected ${expected} comma-separated fields (41 features, label` +
            `${expected === FEATURES + 2 ? ", difficulty" : ""}), got ${fields.length}`,
      );
    }
    const features: TabularValue[] = new Array(FEATURES);
    for (let i = 0; i < FEATURES; i++) {
      const field = fields[i];
      if (KDD_COLUMNS[i].kind === "categorical") {
        features[i] = field;
        continue;
      }
      const value = field === "" ? NaN : Number(field);
      if (!Number.isFinite(value)) {
        throw new KddRowError(
          path,
          line,
          `column ${i + 1} (${KDD_COLUMNS[i].name}) must be a number, got ${JSON.stringify(field)}`,
        );
      }
      features[i] = value;
    }
    let label = fields[FEATURES];
    if (label.endsWith(".")) label = label.slice(0, -1);
    if (label === "") throw new KddRowError(path, line, "the label is empty");
    yield { line, features, label, text };
  }
}

/** A whole file, ready for {@linkcode TabularEncoder}. */
export interface KddDataset {
  /** The feature records, in file order. */
  records: TabularValue[][];
  /** 1 for an attack, 0 for "normal". */
  attack: Uint8Array;
  /** The labels. */
  labels: string[];
  /** Records read, duplicates included. */
  read: number;
  /** Exact duplicate lines dropped. */
  duplicates: number;
}

/** Options of {@linkcode loadKdd}. */
export interface LoadKddOptions {
  /** Drop exact duplicate lines, keeping the first (the protocol does this for KDD-99). */
  dropDuplicates?: boolean;
  /** Stop after this many kept records. */
  limit?: number;
  /** Called every 65,536 lines with the records read so far. */
  onProgress?: (read: number) => void;
}

/** Reads a KDD-99 or NSL-KDD file into memory. */
export async function loadKdd(
  path: string,
  format: KddFormat | "auto",
  options: LoadKddOptions = {},
): Promise<KddDataset> {
  const records: TabularValue[][] = [];
  const labels: string[] = [];
  const seen = options.dropDuplicates ? new Set<string>() : undefined;
  const limit = options.limit ?? Infinity;
  let read = 0;
  let duplicates = 0;
  for await (const record of readKddRecords(path, format)) {
    read++;
    if ((read & 0xffff) === 0) options.onProgress?.(read);
    if (seen !== undefined) {
      if (seen.has(record.text)) {
        duplicates++;
        continue;
      }
      seen.add(record.text);
    }
    records.push(record.features);
    labels.push(record.label);
    if (records.length >= limit) break;
  }
  const attack = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) attack[i] = labels[i] === "normal" ? 0 : 1;
  return { records, attack, labels, read, duplicates };
}
