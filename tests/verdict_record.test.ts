/** The one JSON form of a verdict: the hand-written text is exactly JSON.stringify of the record. */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Verdict, verdictJson, verdictRecord } from "../core/gateway/mod.ts";

describe("verdict record", () => {
  const verdicts: Verdict[] = [
    { score: 0, threshold: NaN, anomaly: false, phase: "mapping" },
    { score: 0.012345678901234567, threshold: NaN, anomaly: false, phase: "calibrating" },
    { score: 3.5e-310, threshold: 1e-300, anomaly: false, phase: "executing" },
    { score: 1.7976931348623157e308, threshold: 0.25, anomaly: true, phase: "executing" },
    { score: 0.5, threshold: 0.5, anomaly: true, phase: "training" },
  ];
  for (const v of verdicts) {
    test(`${v.phase}, score ${v.score}, threshold ${v.threshold}`, () => {
      const ts = 1764936000123;
      const text = verdictJson(ts, v);
      assert.equal(text, JSON.stringify(verdictRecord(ts, v)));
      assert.deepEqual(JSON.parse(text), {
        ts,
        score: v.score,
        threshold: Number.isNaN(v.threshold) ? null : v.threshold,
        anomaly: v.anomaly,
        phase: v.phase,
      });
    });
  }
});
