/**
 * Checks an `Authorization: Bearer <token>` header against the configured token in constant
 * time: both sides are hashed to 32 bytes first, so neither the comparison nor an early length
 * mismatch tells an attacker how much of a guess was right.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text, "utf8").digest();
}

/** A configured bearer token, compared in constant time. */
export class BearerToken {
  readonly #digest: Uint8Array;

  constructor(token: string) {
    if (token.length === 0) throw new RangeError("the dashboard token must not be empty");
    this.#digest = digest(token);
  }

  /** Whether `header` (an Authorization header's value, if any) carries this token. */
  accepts(header: string | undefined | null): boolean {
    const presented = header == null ? undefined : BEARER.exec(header)?.[1];
    // Hash something even when the header is missing or malformed, so every refusal costs the
    // same as a wrong token.
    const same = timingSafeEqual(digest(presented ?? ""), this.#digest);
    return presented !== undefined && same;
  }
}
