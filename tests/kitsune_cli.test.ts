import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCaptureBatches } from "../adapters/files/mod.ts";
import { rocAuc } from "../core/evaluation/mod.ts";
import { Kitsune } from "../mod.ts";
import { classicRecords } from "./support/capture_variants.ts";
import { worstFeatureError } from "./support/kitsune_capture.ts";
import { parseScoreCsv, runCli } from "./support/run_cli.ts";
import { readKitNETVector, readSharedText, sharedPath } from "./support/shared.ts";

const LAN = sharedPath("vectors/kitsune/lan.pcap");
const vector = readKitNETVector("vectors/kitsune/lan.expected.json");
const grace = ["--fm-grace", String(vector.fm_grace), "--ad-grace", String(vector.ad_grace)];

describe("foxtail pcap", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-pcap-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("scores, features, plot and threshold of lan.pcap, as the library computes them", async () => {
    const out = join(dir, "scores.csv"), features = join(dir, "features.csv");
    const plot = join(dir, "timeline.svg");
    const r = await runCli([
      "pcap",
      LAN,
      "--max-ae",
      "10",
      ...grace,
      "--out",
      out,
      "--features-out",
      features,
      "--plot",
      plot,
      "--calibration",
      "1000",
      "--tail-probability",
      "1e-3",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    const scores = parseScoreCsv(readFileSync(out, "utf8"));

    const kitsune = new Kitsune({
      maxAutoencoderSize: 10,
      fmGracePeriod: vector.fm_grace,
      adGracePeriod: vector.ad_grace,
    });
    const expected: number[] = [];
    for await (const batch of readCaptureBatches(LAN)) {
      for (const p of batch) {
        expected.push(kitsune.process(p.data, p.linkType, p.timestamp, p.originalLength));
      }
    }
    assert.deepEqual(scores, expected);
    const first = vector.fm_grace + vector.ad_grace + 1;
    const labels = scores.slice(first).map((_, i) => first + i >= 5100);
    assert.ok(rocAuc(labels, scores.slice(first)) >= 0.99);

    const reference = readSharedText("vectors/kitsune/lan.features.csv.gz").trim().split("\n");
    const ours = readFileSync(features, "utf8").trim().split("\n");
    assert.equal(ours[0], reference[0], "the header is the reference's");
    const rows = (lines: string[]) => lines.slice(1).map((l) => l.split(",").map(Number));
    const { error, row, column } = worstFeatureError(rows(ours), rows(reference));
    assert.ok(error <= 1e-6, `features: packet ${row}, column ${column}, error ${error}`);

    assert.match(r.stderr, /6,000 packets in .* packets\/s\)/);
    assert.match(r.stderr, /evictions: 0 streams, 0 pairs/);
    assert.match(r.stderr, /threshold [\d.]+ \(tail probability 0\.001\), \d+ anomalies over it/);
    assert.match(readFileSync(plot, "utf8"), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  test("reads standard input; small tables report evictions", async () => {
    const r = await runCli(
      ["pcap", "-", ...grace, "--max-streams", "20", "--max-pairs", "20"],
      readFileSync(LAN),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseScoreCsv(r.stdout).length, 6000);
    assert.match(r.stderr, /6,000 packets/);
    assert.match(r.stderr, /\(of 20 each\); evictions: [1-9]\d* streams/);
  });

  test("--limit stops early", async () => {
    const r = await runCli(["pcap", LAN, ...grace, "--limit", "2000"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseScoreCsv(r.stdout).length, 2000);
    assert.match(r.stderr, /2,000 packets .*phase training/);
  });

  test("a truncated capture on standard input: earlier packets scored, the offset named", async () => {
    const bytes = new Uint8Array(readFileSync(LAN));
    const { records } = classicRecords(bytes);
    const cut = records[4321].offset;
    const r = await runCli(["pcap", "-", ...grace], bytes.subarray(0, cut + 20));
    assert.equal(r.code, 1);
    assert.equal(parseScoreCsv(r.stdout).length, 4321);
    assert.match(r.stderr, new RegExp(`byte offset ${cut}\\b.*the 4,321 packets before it`));
  });

  test("usage errors and --help", async () => {
    const help = await runCli(["pcap", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /foxtail pcap FILE\|-/);
    const bad = await runCli(["pcap", LAN, "--max-streams", "1"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-streams must be an integer ≥ 2, got "1"/);
    const none = await runCli(["pcap"]);
    assert.equal(none.code, 2);
  });
});
