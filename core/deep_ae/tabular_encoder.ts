/**
 * Turns records of mixed fields into the numeric rows a network reads: numeric fields pass
 * through, categorical ones become one-hot blocks (categories learned from training records,
 * sorted; a value never seen in training encodes as all zeros), then every output column is
 * scaled ({@linkcode ColumnScaler}). Everything learned is saved with a model.
 *
 * @module
 */

import { ColumnScaler, type ScalingMethod } from "./column_scaler.ts";

/** One field of a record. */
export interface TabularColumn {
  /** Name, used in messages and output column names. */
  name: string;
  /** Numeric fields are parsed as numbers; categorical fields are one-hot encoded. */
  kind: "numeric" | "categorical";
}

/** A field value: a number, or text (parsed for numeric columns). */
export type TabularValue = string | number;

/** A record: one value per column. */
export type TabularRecord = readonly TabularValue[];

/** Learned one-hot encoding and scaling of records with given columns. */
export class TabularEncoder {
  /** The record layout. */
  readonly columns: readonly TabularColumn[];
  /** For each categorical column its categories (output order); `undefined` for numeric ones. */
  readonly categories: readonly (readonly string[] | undefined)[];
  /** The scaling of every output column. */
  readonly scaler: ColumnScaler;
  #lookup: (Map<string, number> | undefined)[];
  #start: Int32Array;
  #outputSize: number;

  /** An encoder with given categories and scaler (see {@linkcode TabularEncoder.fit}). */
  constructor(
    columns: readonly TabularColumn[],
    categories: readonly (readonly string[] | undefined)[],
    scaler: ColumnScaler,
  ) {
    checkColumns(columns);
    if (categories.length !== columns.length) {
      throw new RangeError(
        `categories has ${categories.length} entries, columns ${columns.length}`,
      );
    }
    this.columns = columns.map((c) => ({ name: c.name, kind: c.kind }));
    this.categories = categories.map((list, i) => {
      if (columns[i].kind === "numeric") return undefined;
      if (list === undefined) throw new RangeError(`column "${columns[i].name}" has no categories`);
      return [...list];
    });
    this.#lookup = this.categories.map((list) =>
      list === undefined ? undefined : new Map(list.map((value, index) => [value, index]))
    );
    this.#start = new Int32Array(columns.length);
    let size = 0;
    for (let i = 0; i < columns.length; i++) {
      this.#start[i] = size;
      size += this.categories[i]?.length ?? 1;
    }
    this.#outputSize = size;
    if (scaler.columns !== size) {
      throw new RangeError(`scaler has ${scaler.columns} columns, the encoding ${size}`);
    }
    this.scaler = scaler;
  }

  /**
   * Learns categories and scaling from training records (all of them: scaling statistics come
   * from every training record, whatever its label).
   */
  static fit(
    columns: readonly TabularColumn[],
    records: readonly TabularRecord[],
    scaling: ScalingMethod = "standard",
  ): TabularEncoder {
    checkColumns(columns);
    const seen = columns.map((c) => (c.kind === "categorical" ? new Set<string>() : undefined));
    records.forEach((record, r) => {
      checkLength(record, columns.length, r);
      for (let i = 0; i < columns.length; i++) seen[i]?.add(String(record[i]));
    });
    const categories = seen.map((set) =>
      set === undefined ? undefined : [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    );
    const size = categories.reduce((n, list) => n + (list?.length ?? 1), 0);
    const identity = new ColumnScaler(
      "none",
      new Float64Array(size),
      new Float64Array(size).fill(1),
    );
    const raw = new TabularEncoder(columns, categories, identity).encode(records);
    return new TabularEncoder(columns, categories, ColumnScaler.fit(scaling, raw, size));
  }

  /** Numbers per encoded row. */
  get outputSize(): number {
    return this.#outputSize;
  }

  /** Name of every output column: the column name, or "name=category" for one-hot columns. */
  outputNames(): string[] {
    const names: string[] = [];
    this.columns.forEach((column, i) => {
      const list = this.categories[i];
      if (list === undefined) names.push(column.name);
      else for (const value of list) names.push(`${column.name}=${value}`);
    });
    return names;
  }

  /** Encodes records into a new row-major matrix (rows × outputSize). */
  encode(records: readonly TabularRecord[]): Float64Array {
    const out = new Float64Array(records.length * this.#outputSize);
    records.forEach((record, r) => this.encodeInto(record, out, r * this.#outputSize, r));
    return out;
  }

  /**
   * Encodes one record into `out[offset .. offset + outputSize)`. Throws a `RangeError` naming
   * the column and value of a bad field (and `row`, when given).
   */
  encodeInto(record: TabularRecord, out: Float64Array, offset = 0, row?: number): void {
    checkLength(record, this.columns.length, row);
    const width = this.#outputSize;
    out.fill(0, offset, offset + width);
    for (let i = 0; i < this.columns.length; i++) {
      const value = record[i];
      const start = offset + this.#start[i];
      const lookup = this.#lookup[i];
      if (lookup === undefined) {
        out[start] = parseNumber(value, this.columns[i].name, row);
      } else {
        const index = lookup.get(String(value));
        if (index !== undefined) out[start + index] = 1;
      }
    }
    const { offset: shift, factor } = this.scaler;
    for (let j = 0; j < width; j++) out[offset + j] = (out[offset + j] - shift[j]) * factor[j];
  }
}

function parseNumber(value: TabularValue, column: string, row: number | undefined): number {
  const n = typeof value === "number" ? value : value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(n)) {
    const where = row === undefined ? "" : `row ${row}: `;
    throw new RangeError(
      `${where}column "${column}" must be a finite number, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function checkLength(record: TabularRecord, columns: number, row: number | undefined): void {
  if (!Array.isArray(record) || record.length !== columns) {
    const where = row === undefined ? "a record" : `row ${row}`;
    throw new RangeError(`${where} must have ${columns} fields, got ${record?.length}`);
  }
}

function checkColumns(columns: readonly TabularColumn[]): void {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new RangeError("a tabular encoder needs at least one column");
  }
  columns.forEach((column, i) => {
    if (typeof column?.name !== "string") {
      throw new RangeError(
        `columns[${i}].name must be a string, got ${JSON.stringify(column?.name)}`,
      );
    }
    if (column.kind !== "numeric" && column.kind !== "categorical") {
      throw new RangeError(
        `columns[${i}].kind must be "numeric" or "categorical", got ${JSON.stringify(column.kind)}`,
      );
    }
  });
}
