/**
 * Text forms of link and network addresses, spelled as the Kitsune reference spells them
 * (scapy on Linux): MACs as lowercase `aa:bb:cc:dd:ee:ff`, IPv4 dotted decimal, IPv6 as glibc's
 * `inet_ntop` writes it. The spelling matters because stream keys are concatenations without a
 * separator, so collisions between them must be the reference's.
 *
 * @module
 */

const HEX2: string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** `bytes[offset .. offset+length)` as lowercase hex pairs joined by ":". */
export function colonHex(bytes: Uint8Array, offset: number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += (i === 0 ? "" : ":") + HEX2[bytes[offset + i]];
  return s;
}

/** The IPv4 address at `offset` in dotted decimal. */
export function ipv4Text(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * The IPv6 address at `offset` as glibc's `inet_ntop` writes it: lowercase hex groups without
 * leading zeros, the longest run of two or more zero groups (the first of equals) as "::", and
 * the last 32 bits in dotted decimal for IPv4-compatible (`::a.b.c.d`) and IPv4-mapped
 * (`::ffff:a.b.c.d`) addresses.
 */
export function ipv6Text(bytes: Uint8Array, offset: number): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1];
  let bestBase = -1, bestLength = 0, runBase = -1, runLength = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (runBase === -1) runBase = i, runLength = 1;
      else runLength++;
      if (runLength > bestLength) bestBase = runBase, bestLength = runLength;
    } else {
      runBase = -1;
    }
  }
  if (bestLength < 2) bestBase = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLength) {
      if (i === bestBase) s += ":";
      continue;
    }
    if (i !== 0) s += ":";
    if (
      i === 6 && bestBase === 0 &&
      (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))
    ) {
      s += ipv4Text(bytes, offset + 12);
      break;
    }
    s += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLength === 8) s += ":";
  return s;
}
