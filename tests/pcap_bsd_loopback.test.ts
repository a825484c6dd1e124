/**
 * BSD loopback captures (`lo0` on macOS and the BSDs): link type 0 (NULL, a 4-byte address family
 * in the capturing host's byte order) and 108 (LOOP, the same in network byte order). The IP
 * packets of lan.pcap behind either header give exactly the fields they give behind Ethernet
 * (less the MACs, which loopback has not); an unknown family is a frame without IP, as a non-IP
 * EtherType is.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { emptyPacketFields, LinkType, PacketDecoder, type PacketFields } from "../mod.ts";
import { PacketFeatures } from "../core/packets/mod.ts";
import { readCapture } from "../adapters/files/mod.ts";
import {
  chunksOf,
  classicPcap,
  type ClassicRecord,
  classicRecords,
  pcapngOf,
} from "./support/capture_variants.ts";
import { sharedPath } from "./support/shared.ts";

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const AF_INET = 2;
/** IPv6's family on NetBSD/OpenBSD, FreeBSD and macOS: all three are read. */
const AF_INET6 = [24, 28, 30];

const lan = classicRecords(new Uint8Array(readFileSync(sharedPath("vectors/kitsune/lan.pcap"))));
assert.equal(lan.linkType, LinkType.ETHERNET);

/** lan.pcap's untagged IPv4 and IPv6 frames. */
const ipFrames = lan.records.filter((r) => {
  const type = (r.data[12] << 8) | r.data[13];
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6;
});

/** `records` with their Ethernet header replaced by a loopback header written by `header`. */
function behindLoopback(
  records: readonly ClassicRecord[],
  header: (family: number, view: DataView) => void,
): ClassicRecord[] {
  return records.map((r, i) => {
    const ip = r.data.subarray(14);
    const v6 = ((r.data[12] << 8) | r.data[13]) === ETHERTYPE_IPV6;
    const data = new Uint8Array(4 + ip.length);
    header(v6 ? AF_INET6[i % AF_INET6.length] : AF_INET, new DataView(data.buffer));
    data.set(ip, 4);
    return { ...r, data, originalLength: r.originalLength - 14 + 4 };
  });
}

/** The fields of every packet of a capture, read through the streaming reader. */
async function fieldsOf(capture: Uint8Array): Promise<PacketFields[]> {
  const decoder = new PacketDecoder();
  const out: PacketFields[] = [];
  for await (const r of readCapture(chunksOf(capture, 4096))) {
    out.push(decoder.decode(r.data, r.linkType, emptyPacketFields()));
  }
  return out;
}

describe("BSD loopback link types", () => {
  const decoder = new PacketDecoder();
  /** What each IP frame gives behind Ethernet, without the MACs loopback does not have. */
  const expected = ipFrames.map((r) => ({
    ...decoder.decode(r.data, LinkType.ETHERNET, emptyPacketFields()),
    srcMAC: "",
    dstMAC: "",
  }));

  test("lan.pcap holds IPv4 and IPv6 frames to carry", () => {
    const v6 = ipFrames.filter((r) => r.data[12] === 0x86).length;
    assert.ok(v6 > 100 && ipFrames.length - v6 > 1000, `${v6} of ${ipFrames.length}`);
  });

  const captures: Record<string, () => Uint8Array> = {
    "NULL written by a little-endian host": () =>
      classicPcap(
        LinkType.NULL,
        behindLoopback(ipFrames, (family, view) => view.setUint32(0, family, true)),
      ),
    "NULL written by a big-endian host (a big-endian pcap too)": () =>
      classicPcap(
        LinkType.NULL,
        behindLoopback(ipFrames, (family, view) => view.setUint32(0, family, false)),
        { bigEndian: true },
      ),
    "NULL written by a big-endian host, read from a little-endian pcapng": () =>
      pcapngOf(
        LinkType.NULL,
        behindLoopback(ipFrames, (family, view) => view.setUint32(0, family, false)),
      ),
    "LOOP (network byte order)": () =>
      classicPcap(
        LinkType.LOOP,
        behindLoopback(ipFrames, (family, view) => view.setUint32(0, family, false)),
      ),
  };
  for (const [name, capture] of Object.entries(captures)) {
    test(`${name}: the fields of the same packets behind Ethernet`, async () => {
      const fields = await fieldsOf(capture());
      assert.equal(fields.length, expected.length);
      for (let i = 0; i < expected.length; i++) {
        assert.deepEqual(fields[i], expected[i], `packet ${i}`);
      }
    });
  }

  test("an unknown address family is a frame without IP, as a non-IP EtherType is", () => {
    const ip = ipFrames[0].data.subarray(14);
    const lldp = ipFrames[0].data.slice();
    lldp.set([0x88, 0xcc], 12);
    const nonIP = decoder.decode(lldp, LinkType.ETHERNET, emptyPacketFields());
    assert.equal(nonIP.srcIP, nonIP.srcMAC, "behind Ethernet: the MACs stand in for the IPs");
    const none = { ...nonIP, srcMAC: "", dstMAC: "", srcIP: "", dstIP: "" };
    const cases: [number, number[]][] = [
      [LinkType.NULL, [7, 0, 0, 0]], // AF_7 in either order
      [LinkType.NULL, [0, 0, 0, 17]],
      [LinkType.LOOP, [2, 0, 0, 0]], // AF_INET in the wrong byte order for LOOP
      [LinkType.NULL, [2, 0, 0]], // cut inside the header
    ];
    const features = new PacketFeatures();
    for (const [linkType, header] of cases) {
      const frame = new Uint8Array([...header, ...(header.length === 4 ? ip : [])]);
      assert.deepEqual(decoder.decode(frame, linkType, emptyPacketFields()), none, `${header}`);
      // Counted like any other frame: features, no refusal.
      const row = features.extract(frame, linkType, 1, frame.length);
      assert.ok(row.every(Number.isFinite), `${header}: features`);
    }
  });
});
