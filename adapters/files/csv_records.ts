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
  const source = Readable.from(decompressedChunks(path));
  const parser = parse({
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
  });
  // pipe() does not pass a source's error on: without this a missing file is an unhandled
  // 'error' event (a stack trace, and a hang under Bun) instead of a rejected read.
  source.on("error", (error) => parser.destroy(error));
  source.pipe(parser);
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield { line: item.info.lines, fields: item.record };
  }
}
