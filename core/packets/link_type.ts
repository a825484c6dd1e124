/**
 * The link-layer header types (LINKTYPE_* of tcpdump.org) the packet decoder understands, and
 * the names of common others, so that a refusal can say what a capture holds and what is read.
 *
 * @module
 */

/** Link-layer header types the packet decoder understands, by name. */
export const LinkType = {
  /** BSD loopback: a 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  /** IEEE 802.3 Ethernet (also carries 802.3 length frames with LLC/SNAP). */
  ETHERNET: 1,
  /** Raw IP on OpenBSD-style platforms (DLT_RAW 12). */
  RAW_12: 12,
  /** Raw IP on BSD/OS (DLT_RAW 14). */
  RAW_14: 14,
  /** Raw IPv4 or IPv6, told apart by the version nibble. */
  RAW: 101,
  /** OpenBSD loopback: NULL's 4-byte address family, in network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (SLL). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only. */
  IPV6: 229,
  /** Linux "cooked" capture v2 (SLL2). */
  LINUX_SLL2: 276,
} as const;

/** tcpdump.org's names of link types met in practice that the decoder does not read. */
const UNREAD_LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  3: "AX25",
  6: "IEEE802_5",
  8: "SLIP",
  9: "PPP",
  10: "FDDI",
  50: "PPP_HDLC",
  51: "PPP_ETHER",
  104: "C_HDLC",
  105: "IEEE802_11",
  107: "FRELAY",
  119: "IEEE802_11_PRISM",
  127: "IEEE802_11_RADIOTAP",
  163: "IEEE802_11_AVS",
  187: "BLUETOOTH_HCI_H4",
  189: "USB_LINUX",
  192: "PPI",
  195: "IEEE802_15_4_WITHFCS",
  201: "BLUETOOTH_HCI_H4_WITH_PHDR",
  204: "PPP_WITH_DIR",
  215: "IEEE802_15_4_NONASK_PHY",
  220: "USB_LINUX_MMAPPED",
  227: "CAN_SOCKETCAN",
  230: "IEEE802_15_4_NOFCS",
  231: "DBUS",
  239: "NFLOG",
  249: "USBPCAP",
  251: "BLUETOOTH_LE_LL",
  252: "WIRESHARK_UPPER_PDU",
  253: "NETLINK",
  256: "BLUETOOTH_LE_LL_WITH_PHDR",
};

/** The link types the decoder reads, in increasing number (from {@linkcode LinkType}). */
const READ_LINK_TYPES: readonly [name: string, linkType: number][] = Object.entries(LinkType)
  .sort(([, a], [, b]) => a - b);

const READ_LINK_TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  READ_LINK_TYPES.map(([name, linkType]) => [linkType, name]),
);

/** Whether the decoder understands link type `linkType`. */
export function isSupportedLinkType(linkType: number): boolean {
  return READ_LINK_TYPE_NAMES.has(linkType);
}

/** tcpdump.org's name of `linkType` without its `LINKTYPE_` prefix, when it is a common one. */
export function linkTypeName(linkType: number): string | undefined {
  return READ_LINK_TYPE_NAMES.get(linkType) ?? UNREAD_LINK_TYPE_NAMES[linkType];
}

/**
 * Why a frame of `linkType` cannot be read, for someone holding the capture: its link type by
 * number (and name, if known) and every link type that is read, e.g. `link type 105
 * (IEEE802_11) is not read; foxtail reads: 0 (NULL), 1 (ETHERNET), …`.
 */
export function unreadLinkTypeMessage(linkType: number): string {
  const name = linkTypeName(linkType);
  const read = READ_LINK_TYPES.map(([name, type]) => `${type} (${name})`).join(", ");
  return `link type ${linkType}${name === undefined ? "" : ` (${name})`} is not read; ` +
    `foxtail reads: ${read}`;
}
