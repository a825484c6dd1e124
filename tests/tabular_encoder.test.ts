import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ByteReader, ByteWriter } from "../core/codec/mod.ts";
import { ColumnScaler, readEncoder, writeEncoder } from "../core/deep_ae/mod.ts";
import { type TabularColumn, TabularEncoder } from "../core/deep_ae/mod.ts";

const columns: TabularColumn[] = [
  { name: "bytes", kind: "numeric" },
  { name: "proto", kind: "categorical" },
  { name: "constant", kind: "numeric" },
];
const training = [
  ["1", "udp", "7"],
  ["3", "tcp", "7"],
  ["5", "tcp", "7"],
  ["7", "icmp", "7"],
];

describe("ColumnScaler", () => {
  test("standardises with the population std; a constant column maps to 0", () => {
    const m = Float64Array.of(1, 5, 3, 5, 5, 5, 7, 5);
    const s = ColumnScaler.fit("standard", m, 2);
    // Column 0: mean 4, population variance (9 + 1 + 1 + 9) / 4 = 5.
    assert.deepEqual([...s.offset], [4, 5]);
    assert.ok(Math.abs(s.factor[0] - 1 / Math.sqrt(5)) < 1e-15);
    assert.equal(s.factor[1], 0);
    const x = Float64Array.of(4 + Math.sqrt(5), 99);
    s.transform(x);
    assert.ok(Math.abs(x[0] - 1) < 1e-12);
    assert.equal(x[1], 0);
  });

  test("min-max maps the training range to [0, 1]", () => {
    const m = Float64Array.of(2, 1, 4, 1, 10, 1);
    const s = ColumnScaler.fit("minmax", m, 2);
    s.transform(m);
    assert.deepEqual([...m], [0, 0, 0.25, 0, 1, 0]);
  });

  test("refuses an unknown method and a ragged matrix", () => {
    assert.throws(
      () => ColumnScaler.fit("robust" as "none", new Float64Array(2), 1),
      /scaling must be one of none, standard, minmax, got "robust"/,
    );
    assert.throws(() => ColumnScaler.fit("standard", new Float64Array(3), 2), /no 2 columns/);
  });
});

describe("TabularEncoder", () => {
  test("one-hot columns in sorted category order, in place of the field", () => {
    const e = TabularEncoder.fit(columns, training, "none");
    assert.equal(e.outputSize, 5);
    assert.deepEqual(e.outputNames(), [
      "bytes",
      "proto=icmp",
      "proto=tcp",
      "proto=udp",
      "constant",
    ]);
    assert.deepEqual([...e.encode([["2", "tcp", "7"]])], [2, 0, 1, 0, 7]);
  });

  test("a category unseen in training encodes as all zeros", () => {
    const e = TabularEncoder.fit(columns, training, "none");
    assert.deepEqual([...e.encode([["2", "sctp", 7]])], [2, 0, 0, 0, 7]);
  });

  test("standardisation applies to every output column, one-hot ones included", () => {
    const e = TabularEncoder.fit(columns, training, "standard");
    const x = e.encode(training);
    for (let j = 0; j < 5; j++) {
      let sum = 0;
      let squares = 0;
      for (let r = 0; r < 4; r++) sum += x[r * 5 + j];
      for (let r = 0; r < 4; r++) squares += x[r * 5 + j] ** 2;
      assert.ok(Math.abs(sum / 4) < 1e-12, `column ${j} mean`);
      // Constant column 4 stays 0; the others have population variance 1.
      assert.ok(Math.abs(squares / 4 - (j === 4 ? 0 : 1)) < 1e-12, `column ${j} variance`);
    }
    // "tcp" is in 2 of 4 rows: mean 0.5, std 0.5, so its column holds ±1.
    assert.equal(x[2], -1, "row 0 (udp): (0 − 0.5) / 0.5");
    assert.equal(x[5 + 2], 1, "row 1 (tcp): (1 − 0.5) / 0.5");
  });

  test("a bad numeric field names the row, column and value", () => {
    const e = TabularEncoder.fit(columns, training, "none");
    assert.throws(
      () => e.encode([["1", "tcp", "7"], ["x1", "tcp", "7"]]),
      /row 1: column "bytes" must be a finite number, got "x1"/,
    );
    assert.throws(() => e.encode([["1", "tcp"]]), /row 0 must have 3 fields, got 2/);
    assert.throws(
      () => TabularEncoder.fit([{ name: "a", kind: "text" as "numeric" }], [["1"]]),
      /columns\[0\]\.kind must be "numeric" or "categorical", got "text"/,
    );
  });

  test("round trip through bytes encodes identically", () => {
    const e = TabularEncoder.fit(columns, training, "standard");
    const w = new ByteWriter();
    writeEncoder(w, e);
    const back = readEncoder(new ByteReader(w.finish(), "test"));
    assert.deepEqual(back.columns, e.columns);
    assert.deepEqual(back.categories, e.categories);
    const probe = [["4", "udp", "7"], ["0", "gre", "3"]];
    assert.deepEqual([...back.encode(probe)], [...e.encode(probe)]);
  });
});
