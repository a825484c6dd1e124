import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCaptureBatches } from "../adapters/files/mod.ts";
import { PipelineRowError, ScoringPipeline } from "../adapters/pipeline/mod.ts";
import { PHASES } from "../adapters/pipeline/mod.ts";
import { type KitNETPhase, Kitsune } from "../mod.ts";
import { parseScoreCsv, runCli } from "./support/run_cli.ts";
import { sharedPath } from "./support/shared.ts";

const LAN = sharedPath("vectors/kitsune/lan.pcap");
const MODEL = {
  maxAutoencoderSize: 10,
  fmGracePeriod: 500,
  adGracePeriod: 3000,
  webAssembly: true,
};

/** The bit patterns of doubles, for exact comparison. */
function bits(values: ArrayLike<number>): string[] {
  const view = new DataView(new ArrayBuffer(8));
  return Array.from({ length: values.length }, (_, i) => {
    view.setFloat64(0, values[i]);
    return view.getBigUint64(0).toString(16);
  });
}

/** lan.pcap's feature rows (copies) and, on one thread, its scores and phases. */
async function lanOnOneThread() {
  const kitsune = new Kitsune(MODEL);
  const rows: Float64Array[] = [], scores: number[] = [], phases: KitNETPhase[] = [];
  for await (const batch of readCaptureBatches(LAN)) {
    for (const p of batch) {
      phases.push(kitsune.kitnet.phase);
      scores.push(kitsune.process(p.data, p.linkType, p.timestamp, p.originalLength));
      rows.push(kitsune.features.slice());
    }
  }
  return { rows, scores, phases };
}

/** Collects what a pipeline delivers, checking that it comes in order. */
function collector() {
  const scores: number[] = [], phases: KitNETPhase[] = [];
  return {
    scores,
    phases,
    onScores(first: number, batch: { scores: Float64Array; phases: Uint8Array }, rows: number) {
      assert.equal(first, scores.length, "batches come back in order");
      for (let i = 0; i < rows; i++) {
        scores.push(batch.scores[i]);
        phases.push(PHASES[batch.phases[i]]);
      }
    },
  };
}

describe("a detector on a worker thread", () => {
  let reference: ReturnType<typeof lanOnOneThread> | undefined;
  const lan = () => reference ??= lanOnOneThread();

  test("scores and phases are the single thread's, bit for bit, and never too far ahead", async () => {
    const { rows, scores, phases } = await lan();
    const got = collector();
    // Small batches and a small pool: many batch boundaries, and the pool runs dry.
    const batchRows = 7, batches = 3;
    const pipeline = await ScoringPipeline.start({
      model: { type: "kitnet", ...MODEL },
      inputs: rows[0].length,
      batchRows,
      batches,
      onScores: got.onScores,
    });
    let refusals = 0;
    let summary;
    try {
      for (let i = 0; i < rows.length; i++) {
        while (!pipeline.tryPush(rows[i], i)) {
          // Refused only when every batch is away, each with at least one row.
          const inFlight = pipeline.pushed - got.scores.length;
          assert.ok(inFlight >= batches && inFlight <= batchRows * batches, `${inFlight}`);
          refusals++;
          await pipeline.room();
        }
        assert.ok(pipeline.pushed - got.scores.length <= batchRows * batches);
        if (i % 100 === 99) pipeline.flush(); // part-filled batches too
      }
      summary = await pipeline.close();
    } finally {
      await pipeline.stop(); // (already stopped unless an assertion failed)
    }
    assert.ok(refusals > 0, "the pool ran dry at least once");
    assert.deepEqual(bits(got.scores), bits(scores));
    assert.deepEqual(got.phases, phases);
    assert.deepEqual(summary, {
      phase: "executing",
      summary: "phase executing, 12 autoencoders",
      learningLeft: 0,
    });
  });

  test("a row KitNET refuses is named with its tag; every row before it is delivered", async () => {
    const { rows } = await lan();
    const got = collector();
    const pipeline = await ScoringPipeline.start({
      model: { type: "kitnet", ...MODEL },
      inputs: rows[0].length,
      batchRows: 64,
      onScores: got.onScores,
    });
    const bad = 4100; // while executing; not on a batch boundary
    const broken = rows[bad].slice();
    broken[3] = NaN;
    let failure: unknown;
    try {
      for (let i = 0; i < 5000; i++) {
        const row = i === bad ? broken : rows[i];
        while (!pipeline.tryPush(row, 1000 + i)) await pipeline.room();
      }
      await pipeline.close();
    } catch (error) {
      failure = error;
    } finally {
      await pipeline.stop();
    }
    assert.ok(failure instanceof PipelineRowError, String(failure));
    assert.equal(failure.index, bad);
    assert.equal(failure.tag, 1000 + bad);
    assert.match(failure.message, /feature 3 is NaN/);
    assert.equal(got.scores.length, bad);
  });

  test("a worker that cannot make its detector fails to start, saying why", async () => {
    await assert.rejects(
      ScoringPipeline.start({ model: { type: "no-such" }, inputs: 3, onScores: () => {} }),
      /the scoring worker failed: no detector type "no-such"; foxtail has kitnet, deep-ae, hst/,
    );
    assert.throws(
      () => ScoringPipeline.start({ model: { type: "kitnet" }, inputs: 0, onScores: () => {} }),
      /inputs must be an integer ≥ 1, got 0/,
    );
  });
});

describe("foxtail pcap --threads", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-threads-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const grace = ["--fm-grace", "500", "--ad-grace", "3000"];

  test("1 and 2 write the same scores and features", async () => {
    const outputs = [];
    for (const threads of ["1", "2"]) {
      const out = join(dir, `scores-${threads}.csv`), features = join(dir, `f-${threads}.csv`);
      const r = await runCli([
        "pcap",
        LAN,
        ...grace,
        "--threads",
        threads,
        "--out",
        out,
        "--features-out",
        features,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /6,000 packets in .*phase executing, 12 autoencoders/);
      assert.equal(/on a second thread/.test(r.stderr), threads === "2", r.stderr);
      outputs.push([readFileSync(out, "utf8"), readFileSync(features, "utf8")]);
    }
    assert.equal(parseScoreCsv(outputs[0][0]).length, 6000);
    assert.equal(outputs[1][0], outputs[0][0]);
    assert.equal(outputs[1][1], outputs[0][1]);
  });

  test("anything but 1 or 2 is a usage error", async () => {
    const r = await runCli(["pcap", LAN, "--threads", "3"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--threads must be 1 or 2, got "3"/);
  });
});
