/**
 * From a captured frame to the six strings Kitsune keys its statistics by (`spec/afterimage.md`,
 * "From packet to fields"): Ethernet and 802.3/LLC/SNAP, 802.1Q/802.1ad VLAN tags, Linux cooked
 * captures v1/v2, BSD loopback, raw IP, ARP, IPv4, IPv6 with extension headers, IP-in-IP, TCP, UDP and ICMP.
 *
 * @module
 */

import { colonHex, ipv4Text, ipv6Text } from "./address_text.ts";
import { LinkType, unreadLinkTypeMessage } from "./link_type.ts";

/** The key fields of one packet, spelled as the reference spells them ("" when absent). */
export interface PacketFields {
  /** Link-layer source address, `aa:bb:cc:dd:ee:ff`; "" for raw IP. */
  srcMAC: string;
  /** Link-layer destination address; "" for raw IP and cooked captures (which have none). */
  dstMAC: string;
  /** Source IP (first IP header), ARP sender address, or the source MAC for non-IP frames. */
  srcIP: string;
  /** Destination IP, ARP target address, or the destination MAC for non-IP frames. */
  dstIP: string;
  /** TCP else UDP source port in decimal, or "arp" or "icmp", else "". */
  srcPort: string;
  /** TCP else UDP destination port in decimal, or "arp" or "icmp", else "". */
  dstPort: string;
}

/** A fresh, empty {@linkcode PacketFields} to decode into. */
export function emptyPacketFields(): PacketFields {
  return { srcMAC: "", dstMAC: "", srcIP: "", dstIP: "", srcPort: "", dstPort: "" };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const LARGEST_8023_LENGTH = 1500;
const SLL_PROTOCOL_LLC = 0x0004;
/** BSD loopback's address family of IPv4, the same everywhere. */
const LOOPBACK_AF_INET = 2;
/** BSD loopback's families of IPv6: NetBSD/OpenBSD (24), FreeBSD (28), macOS (30). */
const LOOPBACK_AF_INET6 = [24, 28, 30];
const PROTO_ICMP = 1;
const PROTO_IPIP = 4;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_IPV6 = 41;
const PROTO_IPV6_ROUTING = 43;
const PROTO_IPV6_FRAGMENT = 44;
const PROTO_AH = 51;
const PROTO_IPV6_HOP_BY_HOP = 0;
const PROTO_IPV6_DESTINATION = 60;
const MOST_NESTED_HEADERS = 16;
/** Address texts kept per cache before it starts over (bounds memory on hostile traffic). */
const CACHE_LIMIT = 8192;

const PORT_TEXT: string[] = [];
function portText(port: number): string {
  return PORT_TEXT[port] ?? (PORT_TEXT[port] = String(port));
}

/**
 * Decodes frames into {@linkcode PacketFields}. Keeps small bounded caches of address texts so
 * that the strings of frequent hosts are built once; otherwise allocation-free.
 *
 * @example
 * ```ts
 * import { emptyPacketFields, LinkType, PacketDecoder } from "./mod.ts";
 * const decoder = new PacketDecoder();
 * const fields = emptyPacketFields();
 * decoder.decode(new Uint8Array(60), LinkType.ETHERNET, fields);
 * ```
 */
export class PacketDecoder {
  #macs = new Map<number, string>();
  #ipv4s = new Map<number, string>();
  #frame: Uint8Array = new Uint8Array(0);
  #length = 0;
  #srcIP = "";
  #dstIP = "";
  #srcPort = "";
  #dstPort = "";
  #arp = false;
  #icmp = false;

  /**
   * Decodes `frame` (the captured bytes) of link type `linkType` into `out` and returns it.
   * Headers cut short by the capture simply end decoding there, as in the reference.
   * Throws a `RangeError` naming the link types it reads for one it does not
   * ({@linkcode isSupportedLinkType}).
   */
  decode(frame: Uint8Array, linkType: number, out: PacketFields): PacketFields {
    this.#frame = frame;
    this.#length = frame.length;
    this.#srcIP =
      this.#dstIP =
      this.#srcPort =
      this.#dstPort =
        "";
    this.#arp = this.#icmp = false;
    let srcMAC = "", dstMAC = "";
    const n = frame.length;
    switch (linkType) {
      case LinkType.ETHERNET:
        if (n >= 14) {
          dstMAC = this.#mac(0);
          srcMAC = this.#mac(6);
          this.#etherType(u16(frame, 12), 14);
        } else if (n >= 12) {
          dstMAC = this.#mac(0);
          srcMAC = this.#mac(6);
        }
        break;
      case LinkType.LINUX_SLL:
        if (n >= 16) {
          srcMAC = this.#linkAddress(6, u16(frame, 4));
          const protocol = u16(frame, 14);
          if (protocol === SLL_PROTOCOL_LLC) this.#llc(16);
          else this.#etherType(protocol, 16);
        }
        break;
      case LinkType.LINUX_SLL2:
        if (n >= 20) {
          srcMAC = this.#linkAddress(12, frame[11]);
          const protocol = u16(frame, 0);
          if (protocol === SLL_PROTOCOL_LLC) this.#llc(20);
          else this.#etherType(protocol, 20);
        }
        break;
      case LinkType.NULL:
        // The capturing host's byte order: the smaller reading is the family (they are < 256).
        if (n >= 4) this.#loopback(Math.min(u32(frame, 0), u32LittleEndian(frame, 0)));
        break;
      case LinkType.LOOP:
        if (n >= 4) this.#loopback(u32(frame, 0));
        break;
      case LinkType.RAW:
      case LinkType.RAW_12:
      case LinkType.RAW_14:
        if (n >= 1) {
          const version = frame[0] >> 4;
          if (version === 4) this.#ipv4(0, 0);
          else if (version === 6) this.#ipv6(0, 0);
        }
        break;
      case LinkType.IPV4:
        this.#ipv4(0, 0);
        break;
      case LinkType.IPV6:
        this.#ipv6(0, 0);
        break;
      default:
        throw new RangeError(unreadLinkTypeMessage(linkType));
    }
    let srcIP = this.#srcIP, dstIP = this.#dstIP, srcPort = this.#srcPort, dstPort = this.#dstPort;
    if (srcPort === "") {
      if (this.#arp) {
        srcPort = dstPort = "arp";
      } else if (this.#icmp) {
        srcPort = dstPort = "icmp";
      } else if (srcIP === "" && dstIP === "") {
        srcIP = srcMAC;
        dstIP = dstMAC;
      }
    }
    out.srcMAC = srcMAC;
    out.dstMAC = dstMAC;
    out.srcIP = srcIP;
    out.dstIP = dstIP;
    out.srcPort = srcPort;
    out.dstPort = dstPort;
    this.#frame = EMPTY;
    return out;
  }

  #etherType(type: number, offset: number): void {
    const frame = this.#frame;
    while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
      if (offset + 4 > this.#length) return;
      type = u16(frame, offset + 2);
      offset += 4;
    }
    if (type <= LARGEST_8023_LENGTH) this.#llc(offset);
    else if (type === ETHERTYPE_IPV4) this.#ipv4(offset, 0);
    else if (type === ETHERTYPE_IPV6) this.#ipv6(offset, 0);
    else if (type === ETHERTYPE_ARP) this.#arpHeader(offset);
  }

  /** The IP packet after a BSD loopback header of address family `family` (others: nothing). */
  #loopback(family: number): void {
    if (family === LOOPBACK_AF_INET) this.#ipv4(4, 0);
    else if (LOOPBACK_AF_INET6.includes(family)) this.#ipv6(4, 0);
  }

  /** 802.2 LLC; SNAP (AA AA 03) carries an EtherType after a 3-byte OUI. */
  #llc(offset: number): void {
    const frame = this.#frame;
    if (offset + 8 > this.#length) return;
    if (frame[offset] === 0xaa && frame[offset + 1] === 0xaa) {
      const type = u16(frame, offset + 6);
      if (type > LARGEST_8023_LENGTH) this.#etherType(type, offset + 8);
    }
  }

  #arpHeader(offset: number): void {
    const frame = this.#frame;
    if (offset + 8 > this.#length) return;
    const hardwareLength = frame[offset + 4];
    const protocolLength = frame[offset + 5];
    if (offset + 8 + 2 * (hardwareLength + protocolLength) > this.#length) return;
    const sender = offset + 8 + hardwareLength;
    const target = sender + protocolLength + hardwareLength;
    this.#srcIP = this.#protocolAddress(sender, protocolLength);
    this.#dstIP = this.#protocolAddress(target, protocolLength);
    this.#arp = true;
  }

  #protocolAddress(offset: number, length: number): string {
    if (length === 4) return this.#ipv4Address(offset);
    if (length === 16) return ipv6Text(this.#frame, offset);
    return colonHex(this.#frame, offset, length);
  }

  #ipv4(offset: number, depth: number): void {
    const frame = this.#frame;
    if (offset + 20 > this.#length) return;
    if (depth === 0) {
      this.#srcIP = this.#ipv4Address(offset + 12);
      this.#dstIP = this.#ipv4Address(offset + 16);
    }
    // Only the first fragment carries the transport header (the reference binds TCP/UDP/ICMP
    // to IP with fragment offset 0).
    if ((u16(frame, offset + 6) & 0x1fff) !== 0) return;
    const headerLength = Math.max(20, (frame[offset] & 0x0f) * 4);
    this.#transport(frame[offset + 9], offset + headerLength, depth, true);
  }

  #ipv6(offset: number, depth: number): void {
    const frame = this.#frame;
    if (offset + 40 > this.#length) return;
    if (depth === 0) {
      this.#srcIP = ipv6Text(frame, offset + 8);
      this.#dstIP = ipv6Text(frame, offset + 24);
    }
    let next = frame[offset + 6];
    let at = offset + 40;
    for (let hops = 0; hops < MOST_NESTED_HEADERS; hops++) {
      if (
        next === PROTO_IPV6_HOP_BY_HOP || next === PROTO_IPV6_ROUTING ||
        next === PROTO_IPV6_DESTINATION
      ) {
        if (at + 2 > this.#length) return;
        next = frame[at];
        at += (frame[at + 1] + 1) * 8;
      } else if (next === PROTO_AH) {
        if (at + 2 > this.#length) return;
        next = frame[at];
        at += (frame[at + 1] + 2) * 4;
      } else if (next === PROTO_IPV6_FRAGMENT) {
        if (at + 8 > this.#length) return;
        if ((u16(frame, at + 2) >> 3) !== 0) return;
        next = frame[at];
        at += 8;
      } else {
        this.#transport(next, at, depth, false);
        return;
      }
    }
  }

  #transport(protocol: number, offset: number, depth: number, v4: boolean): void {
    const frame = this.#frame;
    if (protocol === PROTO_TCP || protocol === PROTO_UDP) {
      if (offset + 4 > this.#length) return;
      this.#srcPort = portText(u16(frame, offset));
      this.#dstPort = portText(u16(frame, offset + 2));
    } else if (protocol === PROTO_ICMP) {
      // ICMP counts only over IPv4 and only when some of it was captured.
      if (v4 && offset < this.#length) this.#icmp = true;
    } else if (depth < MOST_NESTED_HEADERS) {
      if (protocol === PROTO_IPIP) this.#ipv4(offset, depth + 1);
      else if (protocol === PROTO_IPV6) this.#ipv6(offset, depth + 1);
    }
  }

  #mac(offset: number): string {
    const f = this.#frame;
    const key = ((f[offset] << 8) | f[offset + 1]) * 4294967296 +
      (((f[offset + 2] << 24) | (f[offset + 3] << 16) | (f[offset + 4] << 8) | f[offset + 5]) >>>
        0);
    let text = this.#macs.get(key);
    if (text === undefined) {
      if (this.#macs.size >= CACHE_LIMIT) this.#macs.clear();
      text = colonHex(f, offset, 6);
      this.#macs.set(key, text);
    }
    return text;
  }

  #ipv4Address(offset: number): string {
    const f = this.#frame;
    const key =
      ((f[offset] << 24) | (f[offset + 1] << 16) | (f[offset + 2] << 8) | f[offset + 3]) >>>
      0;
    let text = this.#ipv4s.get(key);
    if (text === undefined) {
      if (this.#ipv4s.size >= CACHE_LIMIT) this.#ipv4s.clear();
      text = ipv4Text(f, offset);
      this.#ipv4s.set(key, text);
    }
    return text;
  }

  /** A cooked capture's link-layer address: its first `length` (≤ 8) bytes. */
  #linkAddress(offset: number, length: number): string {
    if (length === 6) return this.#mac(offset);
    return colonHex(this.#frame, offset, Math.min(length, 8));
  }
}

const EMPTY = new Uint8Array(0);

function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | u16(bytes, offset + 2)) >>> 0;
}

function u32LittleEndian(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 3] << 24) | (bytes[offset + 2] << 16) | (bytes[offset + 1] << 8) |
    bytes[offset]) >>> 0;
}
