/**
 * QoS 0 PUBLISH packets (MQTT 3.1.1 and 5) encoded back to back into one fixed buffer, so a
 * batch of scores reaches the socket as one write. Through MQTT.js each score cost a packet
 * object, option handling and several small writes: about 5 µs of CPU, more than scoring it.
 *
 * @module
 */

/** Bytes a batch holds; a packet that does not fit waits for the next batch. */
export const PACKET_BATCH_BYTES = 64 * 1024;

/** UTF-8 bytes of `text` as `TextEncoder` writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes of MQTT's variable-length encoding of `n`. */
function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/** QoS 0 PUBLISH packets, appended into a reused buffer and taken out as one copy. */
export class PublishPacketBatch {
  /** MQTT protocol level: 4 (3.1.1) or 5 (5 adds an empty properties field). */
  readonly protocolVersion: 4 | 5;
  readonly #buffer = new Uint8Array(PACKET_BATCH_BYTES);
  readonly #encoder = new TextEncoder();
  #length = 0;
  #packets = 0;

  constructor(protocolVersion: 4 | 5) {
    this.protocolVersion = protocolVersion;
  }

  /** Packets waiting. */
  get packets(): number {
    return this.#packets;
  }

  /** Bytes waiting. */
  get length(): number {
    return this.#length;
  }

  /**
   * The size of the packet publishing `body` on `topic` (topic and body in UTF-8 bytes), or -1
   * when a topic is too long for MQTT (over 65,535 bytes).
   */
  packetSize(topicBytes: number, bodyBytes: number): number {
    if (topicBytes > 0xffff) return -1;
    const remaining = 2 + topicBytes + (this.protocolVersion === 5 ? 1 : 0) + bodyBytes;
    return 1 + varintLength(remaining) + remaining;
  }

  /**
   * Appends a PUBLISH (QoS 0, no retain) of `body` on `topic`; returns false, appending nothing,
   * when it does not fit in what is left of the buffer (take the batch, then try again; a packet
   * larger than {@linkcode PACKET_BATCH_BYTES} never fits).
   */
  append(topic: string, body: string): boolean {
    const topicBytes = utf8Length(topic);
    const bodyBytes = utf8Length(body);
    const size = this.packetSize(topicBytes, bodyBytes);
    if (size < 0 || this.#length + size > PACKET_BATCH_BYTES) return false;
    const b = this.#buffer;
    let at = this.#length;
    b[at++] = 0x30; // PUBLISH, QoS 0, not a duplicate, not retained
    // The remaining length: everything after itself, in MQTT's variable-length encoding.
    let remaining = 2 + topicBytes + (this.protocolVersion === 5 ? 1 : 0) + bodyBytes;
    do {
      let digit = remaining % 0x80;
      remaining = Math.floor(remaining / 0x80);
      if (remaining > 0) digit |= 0x80;
      b[at++] = digit;
    } while (remaining > 0);
    b[at++] = topicBytes >>> 8;
    b[at++] = topicBytes & 0xff;
    at += this.#encoder.encodeInto(topic, b.subarray(at, at + topicBytes)).written;
    if (this.protocolVersion === 5) b[at++] = 0; // no properties
    at += this.#encoder.encodeInto(body, b.subarray(at, at + bodyBytes)).written;
    this.#length = at;
    this.#packets++;
    return true;
  }

  /** A copy of the packets waiting (the socket may hold it after the call), and a fresh start. */
  take(): Uint8Array {
    const bytes = this.#buffer.slice(0, this.#length);
    this.clear();
    return bytes;
  }

  /** Forgets the packets waiting. */
  clear(): void {
    this.#length = 0;
    this.#packets = 0;
  }
}
