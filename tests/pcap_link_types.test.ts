/**
 * Link types: a capture of one that is not read is refused with words a command-line user can
 * act on (its number and name, and every link type that is read, by number and name).
 */

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyPacketFields, LinkType, PacketDecoder } from "../mod.ts";
import { linkTypeName, unreadLinkTypeMessage } from "../core/packets/mod.ts";
import { classicPcap } from "./support/capture_variants.ts";
import { runCli } from "./support/run_cli.ts";

/** Every link type the decoder reads, as the message should list them: "1 (ETHERNET)". */
const READ = Object.entries(LinkType).sort(([, a], [, b]) => a - b).map(([name, type]) =>
  `${type} (${name})`
).join(", ");

function decode(frame: Uint8Array, linkType: number) {
  return new PacketDecoder().decode(frame, linkType, emptyPacketFields());
}

describe("link types that are not read", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-link-types-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the refusal names the link type and its name, and lists those read", () => {
    assert.throws(
      () => decode(new Uint8Array(40), 105),
      (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.equal(
          error.message,
          `link type 105 (IEEE802_11) is not read; foxtail reads: ${READ}`,
        );
        return true;
      },
    );
    assert.equal(
      unreadLinkTypeMessage(4000),
      `link type 4000 is not read; foxtail reads: ${READ}`,
      "a number without a known name is named by number alone",
    );
    assert.doesNotMatch(unreadLinkTypeMessage(105), /isSupportedLinkType/);
  });

  test("every link type the message lists is read", () => {
    for (const [name, type] of Object.entries(LinkType)) {
      assert.equal(linkTypeName(type), name);
      assert.doesNotThrow(() => decode(new Uint8Array(60), type), `${type} (${name})`);
    }
  });

  test("foxtail pcap on an 802.11 capture: the packet, then the readable message", async () => {
    const frame = new Uint8Array(60);
    const records = [{ offset: 24, seconds: 1, microseconds: 0, originalLength: 60, data: frame }];
    const path = join(dir, "wifi.pcap");
    writeFileSync(path, classicPcap(105, records));
    const r = await runCli(["pcap", path, "--threads", "1"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `foxtail pcap: packet 0 (byte offset 24): link type 105 (IEEE802_11) is not read; ` +
        `foxtail reads: ${READ}`,
    );
  });
});
