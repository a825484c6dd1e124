import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DETECTOR_TYPES } from "../mod.ts";
import {
  compareDetectors,
  type LabelledStream,
  telemetryStream,
} from "../adapters/comparison/mod.ts";
import { runCli } from "./support/run_cli.ts";
import { sharedPath } from "./support/shared.ts";

// Short enough for every runtime: faults start at step 2,871 and recur daily (288 steps).
const SMALL = ["--steps", "3450", "--learn", "1000", "--calibration", "300", "--epochs", "10"];

describe("foxtail compare", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-compare-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("telemetry: a row per detector type; the table, the JSON and the SVG agree", async () => {
    const json = join(dir, "c.json"), plot = join(dir, "c.svg");
    const r = await runCli(["compare", ...SMALL, "--json", json, "--plot", plot]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(readFileSync(json, "utf8"));
    assert.deepEqual(result.rows.map((row: { detector: string }) => row.detector), DETECTOR_TYPES);
    assert.equal(result.devices, 5);
    assert.deepEqual(result.instances, { learn: 5000, calibrate: 1500, measured: 5 * 2150 });
    assert.ok(result.anomalies > 0 && result.anomalies < result.instances.measured);
    for (const row of result.rows) {
      assert.ok(row.rocAuc >= 0 && row.rocAuc <= 1, JSON.stringify(row));
      assert.ok(row.f1 >= 0 && row.f1 <= 1, JSON.stringify(row));
      assert.ok(row.instancesPerSecond > 0 && row.stateBytes > 0, JSON.stringify(row));
      // The printed table holds the same figures.
      assert.match(
        r.stdout,
        new RegExp(
          `\\| ${row.detector} \\| [^|]+ \\| ${row.rocAuc.toFixed(3)} \\| ${row.f1.toFixed(3)} \\|`,
        ),
      );
    }
    // The faults (a stuck heater, a CO₂ leak, a bearing, a voltage sag) stand out: every
    // detector ranks them well above chance.
    for (const row of result.rows) assert.ok(row.rocAuc > 0.75, `${row.detector} ${row.rocAuc}`);
    const svg = readFileSync(plot, "utf8");
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/class="bar"/g) ?? []).length, 4 * DETECTOR_TYPES.length);
  });

  test("pcap: throughput and state bytes, no AUC without labels", async () => {
    const json = join(dir, "p.json");
    const capture = sharedPath("vectors/kitsune/lan.pcap");
    const r = await runCli([
      "compare",
      "pcap",
      capture,
      "--limit",
      "3000",
      "--epochs",
      "2",
      "--json",
      json,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3,000 packets.*no labels/);
    const result = JSON.parse(readFileSync(json, "utf8"));
    assert.equal(result.instances.measured, 3000 - 1800 - 450);
    for (const row of result.rows) {
      assert.equal(row.rocAuc, null);
      assert.ok(row.instancesPerSecond > 0 && row.stateBytes > 0);
    }
  });

  test("bad usage exits 2 naming the flag or the input", async () => {
    const cases: [string[], RegExp][] = [
      [["compare", "video"], /INPUT must be telemetry, pcap FILE or kdd DATASET, got "video"/],
      [["compare", "--steps", "x"], /--steps must be an integer/],
      [["compare", "--tail-probability", "2"], /--tail-probability must be a number in \(0, 1\)/],
      [["compare", "--steps", "100"], /fewer than learn \+ calibration \+ 1 \(2752\)/],
      [["compare", "kdd", "nsl-kdd"], /kdd needs --train FILE and --test FILE/],
      [["compare", "pcap"], /pcap takes exactly one FILE/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

describe("compareDetectors", () => {
  test("every type is measured on the same instances, after the same learning and calibration", () => {
    const stream: LabelledStream = telemetryStream(3200, 2);
    const seen: string[] = [];
    const c = compareDetectors(stream, {
      learn: 900,
      calibration: 200,
      tailProbability: 1e-3,
      epochs: 3,
      onProgress: (type, done) => seen.push(`${type} ${done}`),
    });
    assert.deepEqual(c.instances, { learn: 1800, calibrate: 400, measured: 2 * 2100 });
    const labels = stream.devices.flatMap((d) => Array.from(d.labels!.subarray(1100)));
    assert.equal(c.anomalies, labels.filter((v) => v === 1).length);
    assert.deepEqual(seen, DETECTOR_TYPES.flatMap((t) => [`${t} 1`, `${t} 2`]));
  });
});
