/**
 * The link-layer header types (LINKTYPE_* of tcpdump.org) the packet decoder understands.
 *
 * @module
 */

/** Link-layer header types the packet decoder understands, by name. */
export const LinkType = {
  /** IEEE 802.3 Ethernet (also carries 802.3 length frames with LLC/SNAP). */
  ETHERNET: 1,
  /** Raw IP on OpenBSD-style platforms (DLT_RAW 12). */
  RAW_12: 12,
  /** Raw IP on BSD/OS (DLT_RAW 14). */
  RAW_14: 14,
  /** Raw IPv4 or IPv6, told apart by the version nibble. */
  RAW: 101,
  /** Linux "cooked" capture v1 (SLL). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only. */
  IPV6: 229,
  /** Linux "cooked" capture v2 (SLL2). */
  LINUX_SLL2: 276,
} as const;

/** Whether the decoder understands link type `linkType`. */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LinkType.ETHERNET:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
    case LinkType.RAW:
    case LinkType.LINUX_SLL:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case LinkType.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}
