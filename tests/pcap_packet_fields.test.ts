import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { emptyPacketFields, LinkType, PacketDecoder, type PacketFields } from "../mod.ts";
import { ipv6Text } from "../core/packets/mod.ts";

const SRC_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
const DST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0b];
const V4_SRC = [192, 168, 1, 11];
const V4_DST = [10, 0, 0, 2];
const V6_SRC = [0xfe, 0x80, ...Array(13).fill(0), 1];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x42];

const u16 = (v: number) => [v >> 8, v & 0xff];
const ports = (src: number, dst: number) => [...u16(src), ...u16(dst), 0, 0, 0, 0];
const ethernet = (
  type: number,
  payload: number[],
) => [...DST_MAC, ...SRC_MAC, ...u16(type), ...payload];
function ipv4(protocol: number, payload: number[], fragmentOffset = 0): number[] {
  const header = [
    0x45,
    0,
    ...u16(20 + payload.length),
    0,
    1,
    ...u16(fragmentOffset),
    64,
    protocol,
    0,
    0,
  ];
  return [...header, ...V4_SRC, ...V4_DST, ...payload];
}
function ipv6(next: number, payload: number[]): number[] {
  return [0x60, 0, 0, 0, ...u16(payload.length), next, 64, ...V6_SRC, ...V6_DST, ...payload];
}
const arp = [0, 1, 8, 0, 6, 4, 0, 1, ...SRC_MAC, 192, 168, 1, 1, 0, 0, 0, 0, 0, 0, 192, 168, 1, 9];

function decode(frame: number[], linkType: number = LinkType.ETHERNET): PacketFields {
  return new PacketDecoder().decode(new Uint8Array(frame), linkType, emptyPacketFields());
}

const MACS = { srcMAC: "02:00:00:00:00:0a", dstMAC: "02:00:00:00:00:0b" };
const V4 = { srcIP: "192.168.1.11", dstIP: "10.0.0.2" };
const V6 = { srcIP: "fe80::1", dstIP: "2001:db8::42" };

describe("packet fields, per spec/afterimage.md", () => {
  test("Ethernet IPv4 TCP and UDP: ports in decimal", () => {
    assert.deepEqual(decode(ethernet(0x0800, ipv4(6, ports(443, 51000)))), {
      ...MACS,
      ...V4,
      srcPort: "443",
      dstPort: "51000",
    });
    assert.deepEqual(decode(ethernet(0x0800, ipv4(17, ports(5353, 53)))), {
      ...MACS,
      ...V4,
      srcPort: "5353",
      dstPort: "53",
    });
  });

  test("802.1Q and stacked 802.1ad tags are skipped", () => {
    const tagged = ethernet(0x88a8, [
      0,
      5,
      ...u16(0x8100),
      0,
      7,
      ...u16(0x0800),
      ...ipv4(17, ports(1, 2)),
    ]);
    assert.deepEqual(decode(tagged), { ...MACS, ...V4, srcPort: "1", dstPort: "2" });
  });

  test("ARP: ports 'arp', addresses from the ARP sender and target", () => {
    assert.deepEqual(decode(ethernet(0x0806, arp)), {
      ...MACS,
      srcIP: "192.168.1.1",
      dstIP: "192.168.1.9",
      srcPort: "arp",
      dstPort: "arp",
    });
  });

  test("ICMP over IPv4: ports 'icmp'; ICMPv6 keeps empty ports", () => {
    assert.deepEqual(decode(ethernet(0x0800, ipv4(1, [8, 0, 0, 0]))), {
      ...MACS,
      ...V4,
      srcPort: "icmp",
      dstPort: "icmp",
    });
    assert.deepEqual(decode(ethernet(0x86dd, ipv6(58, [128, 0, 0, 0]))), {
      ...MACS,
      ...V6,
      srcPort: "",
      dstPort: "",
    });
  });

  test("802.3 with plain LLC: no IP, so the MACs stand in for the IPs", () => {
    const frame = [...DST_MAC, ...SRC_MAC, ...u16(38), 0x42, 0x42, 0x03, ...Array(35).fill(0)];
    assert.deepEqual(decode(frame), {
      ...MACS,
      srcIP: MACS.srcMAC,
      dstIP: MACS.dstMAC,
      srcPort: "",
      dstPort: "",
    });
  });

  test("802.3 with LLC/SNAP carrying IPv4", () => {
    const snap = [0xaa, 0xaa, 0x03, 0, 0, 0, ...u16(0x0800), ...ipv4(6, ports(22, 40000))];
    assert.deepEqual(decode([...DST_MAC, ...SRC_MAC, ...u16(snap.length), ...snap]), {
      ...MACS,
      ...V4,
      srcPort: "22",
      dstPort: "40000",
    });
  });

  test("IPv6 extension headers (hop-by-hop, destination, first fragment) are walked", () => {
    const hopByHop = [60, 0, 1, 4, 0, 0, 0, 0];
    const destination = [44, 0, 1, 4, 0, 0, 0, 0];
    const fragment = [6, 0, 0, 1, 0, 0, 0, 9]; // offset 0, more fragments
    const frame = ethernet(
      0x86dd,
      ipv6(0, [...hopByHop, ...destination, ...fragment, ...ports(80, 3000)]),
    );
    assert.deepEqual(decode(frame), { ...MACS, ...V6, srcPort: "80", dstPort: "3000" });
  });

  test("later fragments carry no transport header (IPv4 and IPv6)", () => {
    assert.deepEqual(decode(ethernet(0x0800, ipv4(6, ports(80, 3000), 185))), {
      ...MACS,
      ...V4,
      srcPort: "",
      dstPort: "",
    });
    const fragment = [6, 0, ...u16(185 << 3), 0, 0, 0, 9];
    assert.deepEqual(decode(ethernet(0x86dd, ipv6(44, [...fragment, ...ports(80, 3000)]))), {
      ...MACS,
      ...V6,
      srcPort: "",
      dstPort: "",
    });
  });

  test("IP in IP: the outer addresses, the inner transport ports", () => {
    assert.deepEqual(decode(ethernet(0x0800, ipv4(41, ipv6(17, ports(7, 8))))), {
      ...MACS,
      ...V4,
      srcPort: "7",
      dstPort: "8",
    });
  });

  test("Linux cooked v1 and v2: the source link address, no destination", () => {
    const sll = [0, 0, 0, 1, 0, 6, ...SRC_MAC, 0, 0, ...u16(0x0800), ...ipv4(17, ports(9, 10))];
    assert.deepEqual(decode(sll, LinkType.LINUX_SLL), {
      srcMAC: MACS.srcMAC,
      dstMAC: "",
      ...V4,
      srcPort: "9",
      dstPort: "10",
    });
    const sll2 = [
      ...u16(0x86dd),
      0,
      0,
      0,
      0,
      0,
      3,
      0,
      1,
      0,
      6,
      ...SRC_MAC,
      0,
      0,
      ...ipv6(6, ports(11, 12)),
    ];
    assert.deepEqual(decode(sll2, LinkType.LINUX_SLL2), {
      srcMAC: MACS.srcMAC,
      dstMAC: "",
      ...V6,
      srcPort: "11",
      dstPort: "12",
    });
  });

  test("raw IP link types: by version nibble, or IPv4/IPv6 only", () => {
    const v4 = ipv4(6, ports(1, 2)), v6 = ipv6(17, ports(3, 4));
    const empty = { srcMAC: "", dstMAC: "" };
    for (const link of [LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14, LinkType.IPV4]) {
      assert.deepEqual(decode(v4, link), { ...empty, ...V4, srcPort: "1", dstPort: "2" });
    }
    for (const link of [LinkType.RAW, LinkType.IPV6]) {
      assert.deepEqual(decode(v6, link), { ...empty, ...V6, srcPort: "3", dstPort: "4" });
    }
  });

  test("headers cut short by the capture end decoding without error", () => {
    assert.deepEqual(decode(ethernet(0x0800, ipv4(6, [0, 80]))), {
      ...MACS,
      ...V4,
      srcPort: "",
      dstPort: "",
    });
    assert.deepEqual(decode(ethernet(0x0800, [0x45, 0, 0])), {
      ...MACS,
      srcIP: MACS.srcMAC,
      dstIP: MACS.dstMAC,
      srcPort: "",
      dstPort: "",
    });
    assert.deepEqual(decode([1, 2, 3]), {
      srcMAC: "",
      dstMAC: "",
      srcIP: "",
      dstIP: "",
      srcPort: "",
      dstPort: "",
    });
  });

  test("an unsupported link type is refused by number", () => {
    assert.throws(() => decode([0, 0, 0, 2], 147), /link type 147 is not read; foxtail reads: /);
  });
});

describe("IPv6 text as glibc inet_ntop writes it", () => {
  const cases: [string, number[]][] = [
    ["::", Array(16).fill(0)],
    ["::1", [...Array(15).fill(0), 1]],
    ["2001:db8::1:0:0:1", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]],
    ["1:0:0:1::1", [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]],
    ["1::1:0:0:1:1", [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1]],
    ["1:0:1:1:1:1:1:1", [0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]],
    ["::ffff:192.0.2.1", [...Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]],
    ["::192.0.2.1", [...Array(12).fill(0), 192, 0, 2, 1]],
    ["fe80::abcd:ef01", [0xfe, 0x80, ...Array(10).fill(0), 0xab, 0xcd, 0xef, 0x01]],
    ["1:2:3:4:5:6:7:0", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ["1:2:3:4:5:6::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 0, 0, 0]],
  ];
  for (const [text, bytes] of cases) {
    test(text, () => assert.equal(ipv6Text(new Uint8Array(bytes), 0), text));
  }
});
