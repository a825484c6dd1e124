/**
 * `foxtail pcap` on a capture shorter than the detector's learning: with the default grace
 * periods it learns from the first half instead and says so; with grace periods given it keeps
 * them and says at the end why nothing was scored (so too on standard input, whose length is
 * known only then).
 */

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KITNET_DEFAULTS } from "../core/kitnet/kitnet_defaults.ts";
import { parseScoreCsv, runCli } from "./support/run_cli.ts";
import { sharedPath } from "./support/shared.ts";

const LAN = sharedPath("vectors/kitsune/lan.pcap");
const LAN_PACKETS = 6000;
/** KitNET's default learning: both grace periods (the mapping one is the training one's). */
const DEFAULT_LEARNING = 2 * KITNET_DEFAULTS.adGracePeriod + 1;

/** Scores that are 0, and the index of the first that is not. */
function zeros(scores: number[]): { zeros: number; first: number } {
  return { zeros: scores.filter((s) => s === 0).length, first: scores.findIndex((s) => s > 0) };
}

describe("pcap on a capture shorter than the learning", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-short-capture-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the defaults: learning from the first half, said on standard error", async () => {
    assert.ok(LAN_PACKETS < DEFAULT_LEARNING, "lan.pcap is shorter than the default learning");
    const out = join(dir, "one.csv"), pipelined = join(dir, "two.csv");
    const r = await runCli(["pcap", LAN, "--out", out, "--threads", "1"]);
    assert.equal(r.code, 0, r.stderr);
    const [note] = r.stderr.split("\n");
    assert.equal(
      note,
      `foxtail pcap: the capture holds 6,000 packets, no more than the ` +
        `${DEFAULT_LEARNING.toLocaleString("en-US")} packets that kitnet learns from by default ` +
        `before its first score: learning from the first half instead (--fm-grace 300 ` +
        `--ad-grace 2699); set --fm-grace/--ad-grace to choose`,
    );
    assert.doesNotMatch(r.stderr, /nothing was scored/);
    const scores = parseScoreCsv(readFileSync(out, "utf8"));
    assert.equal(scores.length, LAN_PACKETS);
    // 300 + 2699 learn and the next one trains last: the second half is scored.
    assert.deepEqual(zeros(scores), { zeros: 3000, first: 3000 });

    const two = await runCli(["pcap", LAN, "--out", pipelined, "--threads", "2"]);
    assert.equal(two.code, 0, two.stderr);
    assert.ok(two.stderr.startsWith(note), "the same note on two threads");
    assert.deepEqual(parseScoreCsv(readFileSync(pipelined, "utf8")), scores);
  });

  test("--limit makes the run short: the learning fits what it takes", async () => {
    const r = await runCli(["pcap", LAN, "--limit", "1000", "--threads", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^foxtail pcap: --limit 1000 stops after 1,000 packets, .*\(--fm-grace 50 --ad-grace 449\)/,
    );
    assert.deepEqual(zeros(parseScoreCsv(r.stdout)), { zeros: 500, first: 500 });
  });

  test("grace periods given and longer than the capture: kept, and the end says so", async () => {
    const r = await runCli([
      "pcap",
      LAN,
      "--fm-grace",
      "5000",
      "--ad-grace",
      "50000",
      "--threads",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /first half/);
    assert.equal(
      r.stderr.trim().split("\n").at(-1),
      "foxtail pcap: nothing was scored: the learning periods (--fm-grace 5000 --ad-grace " +
        "50000: the first 55,001 packets before the first score) exceed the 6,000 packets " +
        "read; set --fm-grace/--ad-grace lower to score some",
    );
    assert.deepEqual(zeros(parseScoreCsv(r.stdout)), { zeros: LAN_PACKETS, first: -1 });
  });

  test("standard input with the defaults: counted as it comes, so said at the end", async () => {
    const r = await runCli(["pcap", "-", "--threads", "2"], readFileSync(LAN));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr.trim().split("\n").at(-1),
      "foxtail pcap: nothing was scored: the learning periods (kitnet's defaults: the first " +
        `${DEFAULT_LEARNING.toLocaleString("en-US")} packets before the first score) exceed ` +
        "the 6,000 packets read; set --fm-grace/--ad-grace lower to score some",
    );
  });
});
