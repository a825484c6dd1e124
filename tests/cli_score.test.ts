import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../mod.ts";
import { parseScoreCsv, runCli } from "./support/run_cli.ts";
import {
  maxRelativeError,
  readKitNETVector,
  readSharedText,
  ROOT,
  sharedPath,
} from "./support/shared.ts";

const vector = readKitNETVector("vectors/kitnet/small.expected.json");
const grace = ["--max-ae", "4", "--fm-grace", "200", "--ad-grace", "600"];

describe("foxtail score", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-cli-"));
  const input = readSharedText("vectors/kitnet/small.input.csv.gz");
  const lines = input.trim().split("\n");

  test("scores a gzip CSV to index,score matching the reference, and plots the timeline", async () => {
    const out = join(dir, "scores.csv");
    const plot = join(dir, "timeline.svg");
    const r = await runCli([
      "score",
      sharedPath("vectors/kitnet/small.input.csv.gz"),
      ...grace,
      "--out",
      out,
      "--plot",
      plot,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "", "nothing on stdout when --out is given");
    const scores = parseScoreCsv(readFileSync(out, "utf8"));
    assert.equal(scores.length, vector.scores.length);
    const { error, index } = maxRelativeError(scores, vector.scores);
    assert.ok(error <= 1e-9, `row ${index}: relative error ${error}`);
    assert.match(r.stderr, /scored 1,500 rows/);
    const svg = readFileSync(plot, "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /anomaly score \(log\)/);
    assert.match(svg, />mapping</);
    assert.match(svg, />training</);
    assert.match(svg, /<path d="M[\d.]+ [\d.]+V/, "the score envelope is drawn");
  });

  test("writes nothing but data to a pipe, reading standard input", async () => {
    const r = await runCli(["score", "-", ...grace], input);
    assert.equal(r.code, 0, r.stderr);
    const scores = parseScoreCsv(r.stdout);
    assert.ok(r.stdout.trim().split("\n").every((l, i) => i === 0 || /^\d+,[-+.\deE]+$/.test(l)));
    assert.ok(maxRelativeError(scores, vector.scores).error <= 1e-9);
    assert.doesNotMatch(r.stderr, /\r/, "no progress line when stderr is not a terminal");
  });

  test("a bad row names its line and column; the rows before it are scored and written", async () => {
    const bad = lines.slice(0, 700);
    const fields = bad[649].split(",");
    fields[2] = "n/a";
    bad[649] = fields.join(",");
    const file = join(dir, "bad.csv");
    writeFileSync(file, bad.join("\n") + "\n");
    const out = join(dir, "bad-scores.csv");
    const model = join(dir, "bad-model.bin");
    const r = await runCli(["score", file, ...grace, "--out", out, "--save-model", model]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 650, column 3: "n\/a" is not a finite number/);
    const scores = parseScoreCsv(readFileSync(out, "utf8"));
    assert.equal(scores.length, 649);
    assert.ok(maxRelativeError(scores, vector.scores.slice(0, 649)).error <= 1e-9);
    // The model saved is the one that learned exactly the good rows.
    const resumed = await runCli([
      "score",
      "-",
      "--load-model",
      model,
      "--out",
      join(dir, "resumed.csv"),
    ], lines.slice(649).join("\n"));
    assert.equal(resumed.code, 0, resumed.stderr);
    const rest = parseScoreCsv(readFileSync(join(dir, "resumed.csv"), "utf8"));
    assert.ok(maxRelativeError(rest, vector.scores.slice(649)).error <= 1e-9);
  });

  test("a wrong column count is refused with its line", async () => {
    const file = join(dir, "short.csv");
    writeFileSync(file, lines.slice(0, 3).join("\n") + "\n1,2,3\n");
    const r = await runCli(["score", file, ...grace, "--out", join(dir, "short-scores.csv")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 4: 3 columns, expected 12/);
    assert.equal(parseScoreCsv(readFileSync(join(dir, "short-scores.csv"), "utf8")).length, 3);
  });

  test("--header skips the names row; a threshold is calibrated and anomalies counted", async () => {
    const sample = join(dir, "sample.csv");
    const made = await runCli(["sample", "--rows", "6000", "--header", "--out", sample]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /faults: stuck-heater rows \d+-\d+/);
    const r = await runCli([
      "score",
      sample,
      "--header",
      "--fm-grace",
      "500",
      "--ad-grace",
      "3000",
      "--calibration",
      "1500",
      "--out",
      join(dir, "sample-scores.csv"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseScoreCsv(readFileSync(join(dir, "sample-scores.csv"), "utf8")).length, 6000);
    assert.match(r.stderr, /threshold [\d.e+-]+ \(tail probability 0.0001\), \d+ anomalies/);
  });

  test("usage errors exit 2 and point to --help", async () => {
    const r1 = await runCli(["score", "x.csv", "--max-ae", "ten"]);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /--max-ae must be an integer/);
    const r2 = await runCli(["score", "x.csv", "--bogus"]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /see foxtail score --help/);
    const r3 = await runCli(["nope"]);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /unknown command "nope"/);
  });

  test("--help on every command, and --version", async () => {
    for (const command of ["score", "sample"]) {
      const r = await runCli([command, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^foxtail ${command} `));
    }
    const v = await runCli(["--version"]);
    assert.equal(v.stdout.trim(), VERSION);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(VERSION, pkg.version);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));
});
