import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KitNET } from "../mod.ts";
import { readKitNETVector, readSharedMatrix } from "./support/shared.ts";

const vector = readKitNETVector("vectors/kitnet/small.expected.json");
const rows = readSharedMatrix("vectors/kitnet/small.input.csv.gz");
const options = {
  n: rows[0].length,
  maxAutoencoderSize: vector.max_autoencoder_size,
  fmGracePeriod: vector.fm_grace,
  adGracePeriod: vector.ad_grace,
};

function uninterrupted(): number[] {
  const k = new KitNET(options);
  return rows.map((row) => k.process(row));
}

describe("KitNET state to bytes and back", () => {
  const reference = uninterrupted();

  // Save at every phase: mid-mapping, the instance that builds the map, mid-training, executing.
  for (const cut of [1, 100, vector.fm_grace, vector.fm_grace + 1, 500, 801, 1200]) {
    test(`saved after ${cut} rows and resumed, every score is exactly the uninterrupted run's`, () => {
      const first = new KitNET(options);
      const scores = rows.slice(0, cut).map((row) => first.process(row));
      const bytes = first.toBytes();
      const resumed = KitNET.fromBytes(bytes);
      assert.equal(resumed.phase, first.phase);
      assert.equal(resumed.trained, first.trained);
      assert.deepEqual(resumed.featureMap, first.featureMap);
      for (const row of rows.slice(cut)) scores.push(resumed.process(row));
      assert.deepEqual(scores, reference);
      // Saving the resumed model gives the same bytes as saving a model that never stopped.
      const straight = new KitNET(options);
      for (const row of rows) straight.process(row);
      assert.deepEqual(resumed.toBytes(), straight.toBytes());
    });
  }

  test("a given feature map survives the round trip", () => {
    const k = new KitNET({ n: 4, featureMap: [[0, 1], [3, 2]], adGracePeriod: 5 });
    const back = KitNET.fromBytes(k.toBytes());
    assert.equal(back.featureMapGiven, true);
    assert.deepEqual(back.featureMap, [[0, 1], [3, 2]]);
  });

  test("a truncated state is refused with a clear error", () => {
    const k = new KitNET(options);
    for (const row of rows.slice(0, 900)) k.process(row);
    const bytes = k.toBytes();
    for (const length of [0, 10, 20, bytes.length >> 1, bytes.length - 1]) {
      assert.throws(() => KitNET.fromBytes(bytes.subarray(0, length)), /truncated/);
    }
  });

  test("an altered state is refused: every single bit flip is caught", () => {
    const k = new KitNET(options);
    for (const row of rows.slice(0, 900)) k.process(row);
    const bytes = k.toBytes();
    // Every byte of the header and trailer, and a spread of payload bytes.
    const positions = new Set<number>();
    for (let i = 0; i < 20; i++) positions.add(i);
    for (let i = bytes.length - 4; i < bytes.length; i++) positions.add(i);
    for (let i = 20; i < bytes.length - 4; i += 97) positions.add(i);
    for (const position of positions) {
      for (let bit = 0; bit < 8; bit++) {
        const altered = bytes.slice();
        altered[position] ^= 1 << bit;
        assert.throws(
          () => KitNET.fromBytes(altered),
          /corrupt|magic|holds|truncated|too long|version/,
          `flip of bit ${bit} at byte ${position} was accepted`,
        );
      }
    }
  });

  test("other kinds of state are refused by name", () => {
    const bytes = new KitNET(options).toBytes();
    const other = bytes.slice();
    other.set([0x44, 0x41, 0x45, 0x4d], 4); // "DAEM"
    assert.throws(() => KitNET.fromBytes(other), /holds "DAEM" state, expected "KNET"/);
  });
});
