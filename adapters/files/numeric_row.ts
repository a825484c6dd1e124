/**
 * Strict parsing of a CSV record into numbers, with errors that name line, column and value.
 *
 * @module
 */

const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A row that cannot become an instance; says where and why. */
export class RowError extends Error {
  /** 1-based line of the row. */
  readonly line: number;
  /** 1-based column, when one column is at fault. */
  readonly column: number | undefined;

  constructor(message: string, line: number, column?: number) {
    super(message);
    this.name = "RowError";
    this.line = line;
    this.column = column;
  }
}

/**
 * Parses `fields` into `into` (which fixes the expected count). Only plain decimal numbers are
 * taken: empty fields, NaN, Infinity, hex and words are refused.
 */
export function parseNumericRow(fields: readonly string[], line: number, into: Float64Array): void {
  if (fields.length !== into.length) {
    throw new RowError(
      `line ${line}: ${fields.length} columns, expected ${into.length}`,
      line,
    );
  }
  for (let i = 0; i < fields.length; i++) {
    const text = fields[i];
    const value = Number(text);
    if (!DECIMAL.test(text) || !Number.isFinite(value)) {
      throw new RowError(
        `line ${line}, column ${i + 1}: ${JSON.stringify(text)} is not a finite number`,
        line,
        i + 1,
      );
    }
    into[i] = value;
  }
}
