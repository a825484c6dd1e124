/**
 * Hostile captures, property-based: random bytes and mutations of lan.pcap slices in every
 * encoding the readers take (classic pcap µs/ns in either byte order, pcapng with several
 * interfaces in either byte order), fed in random chunk sizes through the streaming reader and
 * Kitsune. A capture yields packets and then, at most, one `CaptureFormatError` naming a byte
 * offset inside the input; nothing else is thrown, nothing hangs, and no feature is ever NaN or
 * infinite.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { readCaptureBatches } from "../adapters/files/mod.ts";
import { CaptureFormatError } from "../core/packets/mod.ts";
import { Kitsune } from "../core/packets/mod.ts";
import { isSupportedLinkType } from "../core/packets/mod.ts";
import { byteMutations, checkAsyncProperty, mutate, PROPERTY_TEST } from "./support/hostile.ts";
import {
  chunksOf,
  classicPcap,
  classicRecords,
  pcapngOf,
  PcapngWriter,
} from "./support/capture_variants.ts";
import { sharedPath } from "./support/shared.ts";

const SLICE = 80;

/** lan.pcap slices in every encoding, plus pcapng oddities (time offsets and resolutions). */
function baseCaptures(): Uint8Array[] {
  const { linkType, records } = classicRecords(
    new Uint8Array(readFileSync(sharedPath("vectors/kitsune/lan.pcap"))),
  );
  const out: Uint8Array[] = [];
  for (const start of [0, 3000, 9000]) {
    const slice = records.slice(start, start + SLICE);
    out.push(
      classicPcap(linkType, slice),
      classicPcap(linkType, slice, { nanoseconds: true }),
      classicPcap(linkType, slice, { bigEndian: true }),
      pcapngOf(linkType, slice),
      pcapngOf(linkType, slice, true),
    );
  }
  // Extreme timestamp resolutions and a simple packet block (which reuses the last time).
  const slice = records.slice(100, 110);
  const w = new PcapngWriter().section().interface(linkType, 0x7f).interface(linkType, 0xff);
  slice.forEach((r, i) => {
    w.enhanced(i % 2, BigInt(r.seconds) * 1_000_000n + BigInt(i), r.data, r.originalLength);
    if (i % 3 === 0) w.simple(r.data, r.originalLength);
  });
  out.push(w.bytes());
  // Interfaces whose if_tsoffset moves every time by ±2^62 seconds, alternating (time jumps).
  const offsets = new PcapngWriter().section();
  for (const seconds of [2n ** 62n, -(2n ** 62n)]) {
    const body = new Uint8Array(8 + 12 + 4);
    const view = new DataView(body.buffer);
    view.setUint16(0, linkType, true);
    view.setUint32(4, 262144, true);
    view.setUint16(8, 14, true); // if_tsoffset
    view.setUint16(10, 8, true);
    view.setBigInt64(12, seconds, true);
    offsets.block(1, body); // ends with opt_endofopt
  }
  slice.forEach((r, i) =>
    offsets.enhanced(i % 2, BigInt(r.seconds) * 1_000_000n, r.data, r.originalLength)
  );
  out.push(offsets.bytes());
  return out;
}

/** What a run of the reader delivered, checked as it goes. */
async function readHostile(bytes: Uint8Array, chunk: number): Promise<void> {
  const kitsune = new Kitsune({
    fmGracePeriod: 20,
    adGracePeriod: 40,
    maxStreams: 64,
    maxPairs: 64,
  });
  let packets = 0;
  let lastOffset = -1;
  try {
    for await (const batch of readCaptureBatches(chunksOf(bytes, chunk))) {
      for (const r of batch) {
        packets++;
        // Records come in order, each inside the input; never more of them than could fit.
        assert.ok(r.offset > lastOffset && r.offset < bytes.length, `record offset ${r.offset}`);
        lastOffset = r.offset;
        assert.ok(packets <= bytes.length / 12, "more packets than the bytes can hold");
        assert.ok(Number.isFinite(r.timestamp), `packet ${r.index}: timestamp ${r.timestamp}`);
        let features: Float64Array;
        try {
          features = kitsune.extract(r.data, r.linkType, r.timestamp, r.originalLength);
        } catch (error) {
          // The one refusal of the feature path: a link type it cannot decode (foxtail pcap
          // stops there, naming the packet and its byte offset).
          assert.ok(error instanceof RangeError && !isSupportedLinkType(r.linkType), String(error));
          assert.match(
            error.message,
            new RegExp(`^link type ${r.linkType} (\\(\\w+\\) )?is not read`),
          );
          return;
        }
        const bad = features.findIndex((v) => !Number.isFinite(v));
        assert.equal(bad, -1, `packet ${r.index}: feature ${bad} is ${features[bad]}`);
        const score = kitsune.kitnet.process(features);
        assert.ok(Number.isFinite(score), `packet ${r.index}: score ${score}`);
      }
    }
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    assert.ok(
      error instanceof CaptureFormatError,
      `not a CaptureFormatError: ${(error as Error)?.stack}`,
    );
    assert.ok(Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= bytes.length);
    assert.ok(error.offset > lastOffset, "the error is after the packets delivered before it");
    assert.match(error.message, /\(at byte offset \d+\)$/);
  }
}

describe("hostile captures", () => {
  const bases = baseCaptures();

  test(
    "mutated captures: packets, then at most a clear error at a byte offset",
    PROPERTY_TEST,
    async () => {
      const input = fc.record({
        base: fc.integer({ min: 0, max: bases.length - 1 }),
        mutations: byteMutations(5),
        chunk: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 70_000 })),
      });
      await checkAsyncProperty(
        "pcap: mutated captures",
        input,
        async ({ base, mutations, chunk }) => {
          await readHostile(mutate(bases[base], mutations), chunk);
        },
        400,
      );
    },
  );

  test("random bytes, with or without a capture's magic number", PROPERTY_TEST, async () => {
    const magic = fc.constantFrom(
      [],
      [0xd4, 0xc3, 0xb2, 0xa1],
      [0xa1, 0xb2, 0xc3, 0xd4],
      [0x4d, 0x3c, 0xb2, 0xa1],
      [0x0a, 0x0d, 0x0d, 0x0a],
    );
    const input = fc.record({
      magic,
      rest: fc.uint8Array({ maxLength: 600 }),
      chunk: fc.integer({ min: 1, max: 700 }),
    });
    await checkAsyncProperty("pcap: random bytes", input, async ({ magic, rest, chunk }) => {
      await readHostile(new Uint8Array([...magic, ...rest]), chunk);
    }, 1500);
  });

  test("the unmutated captures read to the end with finite features", PROPERTY_TEST, async () => {
    for (const bytes of bases) await readHostile(bytes, 4096);
  });
});
