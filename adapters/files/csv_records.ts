/**
 * CSV reading for foxtail, behind one file so the parser (csv-parse, from npm) can be swapped.
 *
 * @module
 */

import { parse } from "csv-parse";
import { Readable } from "node:stream";
import { decompressedChunks } from "./byte_source.ts";

/** One CSV record and the line it started on (1-based). */
export interface CsvRecord {
  /** 1-based line number in the file. */
  line: number;
  /** The fields, trimmed. */
  fields: string[];
}

/** Streams the records of a CSV file (plain or gzip, `-` for standard input); blank lines skipped. */
export async function* readCsvRecords(path: string): AsyncGenerator<CsvRecord> {
  const parser = Readable.from(decompressedChunks(path)).pipe(
    parse({ info: true, relax_column_count: true, skip_empty_lines: true, trim: true }),
  );
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield { line: item.info.lines, fields: item.record };
  }
}
