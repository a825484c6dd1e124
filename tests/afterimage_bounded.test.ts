import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readCapture } from "../adapters/files/mod.ts";
import {
  AfterImage,
  DampedStreamTable,
  emptyPacketFields,
  Kitsune,
  MersenneTwister,
  PacketDecoder,
} from "../mod.ts";
import { captureFeatures } from "./support/kitsune_capture.ts";
import { sharedPath } from "./support/shared.ts";

/** A plain least-recently-used key set: the eviction count a table of `capacity` must report. */
class LruModel {
  keys = new Map<string, true>();
  evictions = 0;
  capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  touch(key: string): void {
    if (this.keys.delete(key)) return void this.keys.set(key, true);
    if (this.keys.size === this.capacity) {
      this.keys.delete(this.keys.keys().next().value!);
      this.evictions++;
    }
    this.keys.set(key, true);
  }
}

describe("bounded AfterImage tables", () => {
  test("many distinct hosts through small tables: sizes never exceed capacity", () => {
    const maxStreams = 64, maxPairs = 96;
    const afterImage = new AfterImage({ maxStreams, maxPairs });
    const rng = new MersenneTwister(7);
    const host = () => `10.${rng.nextDouble() * 8 | 0}.${rng.nextDouble() * 250 | 0}.1`;
    const fields = emptyPacketFields();
    const mi = new LruModel(maxStreams), h = new LruModel(maxStreams);
    const out = new Float64Array(afterImage.featureCount);
    let t = 1_700_000_000;
    for (let i = 0; i < 20_000; i++) {
      fields.srcMAC = "02:00:00:00:00:01";
      fields.dstMAC = "02:00:00:00:00:02";
      fields.srcIP = i % 10 === 0 ? "10.0.0.1" : host(); // one busy host among many new ones
      fields.dstIP = host();
      fields.srcPort = String(1024 + (rng.nextDouble() * 60000 | 0));
      fields.dstPort = "443";
      t += rng.nextDouble() * 0.01;
      afterImage.update(fields, t, 60 + (i % 1400), out);
      mi.touch(fields.srcMAC + fields.srcIP);
      h.touch(fields.srcIP);
      h.touch(fields.dstIP);
      if (i % 97 === 0 || i === 19_999) {
        for (const [name, usage] of Object.entries(afterImage.usage())) {
          assert.ok(usage.streams <= maxStreams, `${name}: ${usage.streams} streams`);
          assert.ok(usage.pairs <= maxPairs, `${name}: ${usage.pairs} pairs`);
        }
      }
      assert.ok(out.every(Number.isFinite), `packet ${i}: every feature finite`);
    }
    const usage = afterImage.usage();
    assert.equal(usage.MI.streams, maxStreams);
    assert.equal(usage.MI.streamEvictions, mi.evictions);
    assert.equal(usage.H.streamEvictions, h.evictions);
    assert.ok(usage.Hp.streamEvictions > 10_000 && usage.jit.streamEvictions > 10_000);
    assert.equal(
      afterImage.streamEvictions,
      usage.MI.streamEvictions + usage.H.streamEvictions + usage.jit.streamEvictions +
        usage.Hp.streamEvictions,
    );
  });

  test("at exactly the capacity lan.pcap needs, the features are the unbounded ones", async () => {
    const lan = sharedPath("vectors/kitsune/lan.pcap");
    const unbounded = await captureFeatures(lan);
    // The size each table reached without eviction, measured on a second unbounded run.
    const usage = await usageAfter(lan, new AfterImage());
    const maxStreams = Math.max(...Object.values(usage).map((u) => u.streams));
    const maxPairs = Math.max(...Object.values(usage).map((u) => u.pairs));
    const exact = new Kitsune({ maxStreams, maxPairs, adGracePeriod: 1 });
    assert.deepEqual(await captureFeatures(lan, {}, exact), unbounded);
    assert.equal(exact.afterImage.streamEvictions + exact.afterImage.pairEvictions, 0);
    const tight = new Kitsune({ maxStreams: maxStreams - 1, maxPairs, adGracePeriod: 1 });
    await captureFeatures(lan, {}, tight);
    assert.ok(tight.afterImage.streamEvictions > 0, "one stream fewer evicts");
    const small = await captureFeatures(lan, { maxStreams: 16, maxPairs: 16 });
    assert.notDeepEqual(small, unbounded, "small tables forget and change the features");
  });
});

async function usageAfter(path: string, afterImage: AfterImage) {
  const decoder = new PacketDecoder();
  const fields = emptyPacketFields();
  for await (const r of readCapture(path)) {
    afterImage.update(decoder.decode(r.data, r.linkType, fields), r.timestamp, r.originalLength);
  }
  for (const u of Object.values(afterImage.usage())) {
    assert.equal(u.streamEvictions + u.pairEvictions, 0);
  }
  return afterImage.usage();
}

describe("DampedStreamTable eviction", () => {
  const lambdas = [1, 0.1];
  const out = new Float64Array(14);

  test("the least recently used stream goes; a returning key starts afresh", () => {
    const table = new DampedStreamTable({ lambdas, maxStreams: 2, maxPairs: 0 });
    table.update1D("a", 10, 0, out, 0);
    table.update1D("b", 20, 1, out, 0);
    table.update1D("a", 30, 2, out, 0); // a is now the most recent
    table.update1D("c", 40, 3, out, 0); // evicts b
    assert.deepEqual([table.has("a"), table.has("b"), table.has("c")], [true, false, true]);
    table.update1D("b", 50, 4, out, 0); // evicts a
    assert.deepEqual(Array.from(out.subarray(0, 6)), [1, 50, 0, 1, 50, 0]);
    assert.deepEqual(table.usage(), {
      streams: 2,
      pairs: 0,
      maxStreams: 2,
      maxPairs: 0,
      streamEvictions: 2,
      pairEvictions: 0,
    });
  });

  test("a stream leaves with its pairs, from its partners' lists too", () => {
    const table = new DampedStreamTable({ lambdas, maxStreams: 3, maxPairs: 10 });
    const step = (a: string, b: string, t: number) => {
      table.update1D2D(a, b, 10, t, out, 0);
      const u = table.usage();
      return [u.streams, u.pairs, u.streamEvictions];
    };
    assert.deepEqual(step("a", "b", 0), [2, 1, 0]);
    assert.deepEqual(step("c", "b", 1), [3, 2, 0]); // recency: b, c, a
    assert.deepEqual(step("d", "d", 2), [3, 2, 1]); // a goes with (a, b); d's self pair
    assert.equal(table.has("a"), false);
    assert.deepEqual(step("e", "d", 3), [3, 2, 2]); // c goes with (c, b)
    assert.deepEqual(step("b", "x", 4), [3, 2, 3]); // e goes with (e, d)
    // d goes with its self pair, which its list holds twice: freed once only.
    assert.deepEqual(step("y", "b", 5), [3, 2, 4]);
    assert.deepEqual(["b", "x", "y", "d"].map((k) => table.has(k)), [true, true, true, false]);
    assert.deepEqual(step("y", "x", 6), [3, 3, 4]); // a fresh pair reuses a freed slot
  });

  test("the pair capacity holds, evicting the least recently used pair", () => {
    const table = new DampedStreamTable({ lambdas, maxStreams: 100, maxPairs: 2 });
    for (let i = 0; i < 10; i++) table.update1D2D("hub", `peer${i}`, 10, i, out, 0);
    assert.deepEqual([table.usage().pairs, table.usage().pairEvictions], [2, 8]);
    table.update1D2D("hub", "peer9", 10, 11, out, 0); // still held: updated, not re-created
    assert.equal(table.usage().pairEvictions, 8);
  });

  test("bad capacities are refused by name and value", () => {
    assert.throws(
      () => new DampedStreamTable({ lambdas, maxStreams: 1, maxPairs: 0 }),
      /maxStreams must be an integer ≥ 2, got 1/,
    );
    assert.throws(() => new AfterImage({ maxPairs: 0 }), /maxPairs must be an integer ≥ 1, got 0/);
    assert.throws(
      () => new DampedStreamTable({ lambdas: [1, -2], maxStreams: 4, maxPairs: 0 }),
      /lambdas\[1\] must be a positive finite number, got -2/,
    );
  });

  test("a bad time or size is refused before anything changes", () => {
    const afterImage = new AfterImage();
    const fields = { ...emptyPacketFields(), srcIP: "10.0.0.1", dstIP: "10.0.0.2" };
    assert.throws(() => afterImage.update(fields, NaN, 60), /packet time t .* got NaN/);
    assert.throws(() => afterImage.update(fields, 1, -1), /packet size .* got -1/);
    assert.equal(afterImage.packets, 0);
    assert.equal(afterImage.usage().MI.streams, 0);
  });
});
