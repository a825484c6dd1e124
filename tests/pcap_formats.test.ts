import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CaptureParser } from "../core/packets/mod.ts";
import { CaptureFormatError, type CaptureRecord } from "../core/packets/mod.ts";
import { readCapture, readCaptureBatches } from "../adapters/files/mod.ts";
import {
  chunksOf,
  classicPcap,
  classicRecords,
  pcapngOf,
  PcapngWriter,
} from "./support/capture_variants.ts";
import { captureFeatures } from "./support/kitsune_capture.ts";
import { sharedPath } from "./support/shared.ts";

const LAN = sharedPath("vectors/kitsune/lan.pcap");
const original = new Uint8Array(readFileSync(LAN));
const { linkType, records } = classicRecords(original);

/** Every packet of a byte source, with its data copied out. */
async function collect(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array> | string,
): Promise<{ packets: CaptureRecord[]; error?: unknown }> {
  const packets: CaptureRecord[] = [];
  try {
    for await (const r of readCapture(source)) packets.push({ ...r, data: new Uint8Array(r.data) });
  } catch (error) {
    return { packets, error };
  }
  return { packets };
}

function assertSamePackets(actual: CaptureRecord[], expected: CaptureRecord[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    assert.equal(a.index, i);
    assert.equal(a.timestamp, e.timestamp, `packet ${i} timestamp`);
    assert.equal(a.linkType, e.linkType, `packet ${i} link type`);
    assert.equal(a.originalLength, e.originalLength, `packet ${i} original length`);
    assert.deepEqual(a.data, e.data, `packet ${i} bytes`);
  }
}

describe("capture readers: lan.pcap", () => {
  test("reads every packet of the file, with sec + µs/1e6 times and wire lengths", async () => {
    const { packets, error } = await collect(LAN);
    assert.equal(error, undefined);
    assert.equal(packets.length, records.length);
    packets.forEach((p, i) => {
      const r = records[i];
      assert.equal(p.timestamp, r.seconds + r.microseconds / 1e6);
      assert.equal(p.offset, r.offset);
      assert.equal(p.originalLength, r.originalLength);
      assert.equal(p.linkType, linkType);
      assert.deepEqual(p.data, new Uint8Array(r.data));
    });
  });

  test("tiny and odd chunk sizes give the same packets as whole-file reading", async () => {
    // Byte-by-byte on a prefix only: it re-joins the unfinished record at every byte.
    for (const [size, length] of [[1, 8000], [7, 100_000], [4093, original.length]]) {
      const prefix = original.subarray(0, length);
      const whole = (await collect([prefix])).packets;
      assert.ok(whole.length > 10);
      const chunked = await collect(chunksOf(prefix, size));
      assertSamePackets(chunked.packets, whole);
      assert.equal(chunked.error === undefined, whole.length === records.length);
    }
  });
});

describe("capture variants of lan.pcap give identical features", () => {
  const variants: Record<string, Uint8Array> = {
    "pcap, nanoseconds": classicPcap(linkType, records, { nanoseconds: true }),
    "pcap, big-endian": classicPcap(linkType, records, { bigEndian: true }),
    "pcap, big-endian nanoseconds": classicPcap(linkType, records, {
      nanoseconds: true,
      bigEndian: true,
    }),
    "pcapng, µs and ns interfaces, blocks to skip": pcapngOf(linkType, records),
    "pcapng, big-endian": pcapngOf(linkType, records, true),
  };
  let baseline: Float64Array[] | undefined;
  const base = async () => baseline ??= await captureFeatures([original]);

  for (const [name, bytes] of Object.entries(variants)) {
    test(name, async () => {
      const expected = await base();
      const features = await captureFeatures(chunksOf(bytes, 65536));
      assert.equal(features.length, expected.length);
      for (let i = 0; i < expected.length; i++) {
        assert.deepEqual(features[i], expected[i], `packet ${i}`);
      }
    });
  }
});

describe("pcapng details", () => {
  const frame = records[0].data;

  test("power-of-two if_tsresol, if_tsoffset-free times, several sections", async () => {
    const w = new PcapngWriter().section().interface(1, 0x8a); // 2^-10 s
    w.enhanced(0, 5n * 1024n + 256n, frame, 90);
    w.section().interface(113).interface(1, 3); // a new section forgets the old interfaces
    w.enhanced(1, 7_250n, frame, 91); // milliseconds
    const { packets, error } = await collect([w.bytes()]);
    assert.equal(error, undefined);
    assert.deepEqual(packets.map((p) => p.timestamp), [5.25, 7.25]);
    assert.deepEqual(packets.map((p) => p.linkType), [1, 1]);
    assert.deepEqual(packets.map((p) => p.interfaceId), [0, 1]);
    assert.deepEqual(packets.map((p) => p.originalLength), [90, 91]);
  });

  test("a simple packet block takes interface 0 and the previous packet's time", async () => {
    const w = new PcapngWriter(true).section().interface(1, 6, 40);
    w.enhanced(0, 2_500_000n, frame, frame.length).simple(frame, frame.length);
    const { packets, error } = await collect([w.bytes()]);
    assert.equal(error, undefined);
    assert.equal(packets.length, 2);
    assert.equal(packets[1].timestamp, 2.5);
    assert.equal(packets[1].capturedLength, 40, "cut to the interface's snap length");
    assert.deepEqual(packets[1].data, frame.subarray(0, 40));
  });

  test("a packet naming an undescribed interface is an error at its block", async () => {
    const w = new PcapngWriter().section().interface(1);
    w.enhanced(0, 1n, frame, frame.length);
    const at = w.bytes().length;
    w.enhanced(3, 2n, frame, frame.length);
    const { packets, error } = await collect([w.bytes()]);
    assert.equal(packets.length, 1);
    assert.ok(error instanceof CaptureFormatError);
    assert.equal(error.offset, at);
    assert.match(error.message, /interface 3/);
  });
});

describe("truncated and corrupt captures", () => {
  const k = 1234;
  const cut = records[k].offset;

  for (const [what, end] of [["mid-record", cut + 30], ["mid-header", cut + 5]] as const) {
    test(`a pcap cut ${what} keeps the ${k} packets before it and names offset ${cut}`, async () => {
      const { packets, error } = await collect(chunksOf(original.subarray(0, end), 4096));
      assert.equal(packets.length, k);
      assert.deepEqual(packets[k - 1].data, records[k - 1].data);
      assert.ok(error instanceof CaptureFormatError, String(error));
      assert.equal(error.offset, cut);
      assert.match(error.message, new RegExp(`byte offset ${cut}\\b`));
    });
  }

  test("a cut pcapng keeps the packets before the cut block", async () => {
    const w = new PcapngWriter().section().interface(linkType);
    for (const r of records.slice(0, 10)) {
      w.enhanced(0, BigInt(r.seconds) * 1_000_000n + BigInt(r.microseconds), r.data, 60);
    }
    const bytes = w.bytes();
    const last = bytes.length - (12 + 20 + ((records[9].data.length + 3) & ~3));
    const { packets, error } = await collect([bytes.subarray(0, bytes.length - 3)]);
    assert.equal(packets.length, 9);
    assert.ok(error instanceof CaptureFormatError);
    assert.equal(error.offset, last);
  });

  test("an absurd captured length is corruption, reported after the packets before it", async () => {
    const bad = original.slice();
    new DataView(bad.buffer).setUint32(cut + 8, 0x7fffffff, true);
    const batches: number[] = [];
    let error: unknown;
    try {
      for await (const batch of readCaptureBatches([bad])) batches.push(batch.length);
    } catch (e) {
      error = e;
    }
    assert.deepEqual(batches, [k], "the packets before the fault come in one batch");
    assert.ok(error instanceof CaptureFormatError);
    assert.equal(error.offset, cut);
    assert.match(error.message, /captured length 2147483647/);
  });

  test("not a capture, or empty: a clear error at offset 0", async () => {
    const text = await collect([new TextEncoder().encode("index,score\n0,1\n")]);
    assert.ok(text.error instanceof CaptureFormatError);
    assert.match(text.error.message, /not a pcap or pcapng capture: .*69 6e 64 65/);
    const empty = await collect([]);
    assert.ok(empty.error instanceof CaptureFormatError);
    assert.match(empty.error.message, /empty input/);
  });

  test("the parser refuses more input after a fault", () => {
    const parser = new CaptureParser();
    assert.throws(() => parser.push(new Uint8Array([1, 2, 3, 4]), []), CaptureFormatError);
    assert.throws(() => parser.push(original, []), CaptureFormatError);
  });
});
