/**
 * Files written by earlier foxtail (before the detector interface) still load, and the state in
 * them continues exactly as the code that wrote it continued: gateway snapshots of formats 2 and
 * 3, a KitNET model file (`score --save-model`), a deep-autoencoder model file (`train`).
 * The fixtures and their expected outputs were written by `tests/fixtures/legacy/write_fixtures.ts`
 * at commits 9a13ead (format 2) and 1ed9b42 (format 3 and the models).
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DeepAutoencoder } from "../core/deep_ae/mod.ts";
import { type DeviceSummary, GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { KitNET } from "../core/kitnet/mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import {
  AFTER_SNAPSHOT,
  BEFORE_SNAPSHOT,
  deviceRngs,
  feed,
  reading,
} from "./fixtures/legacy/legacy_stream.ts";

const dir = new URL("./fixtures/legacy/", import.meta.url);
const bytesOf = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const jsonOf = (name: string) => JSON.parse(readFileSync(new URL(name, dir), "utf8"));

interface Seen {
  device: string;
  score: number;
  threshold: number | null;
  anomaly: boolean;
  phase: string;
}

describe("files written before the detector interface", () => {
  for (const version of ["v2", "v3"]) {
    test(`a format ${version.slice(1)} gateway snapshot restores and continues exactly`, () => {
      const expected = jsonOf(`snapshot_${version}.expected.json`);
      const seen: Seen[] = [];
      const engine = new GatewayEngine(
        validateGatewayConfig(jsonOf("gateway_config.json")),
        {
          score: (d, v) =>
            seen.push({
              device: d,
              score: v.score,
              threshold: Number.isNaN(v.threshold) ? null : v.threshold,
              anomaly: v.anomaly,
              phase: v.phase,
            }),
          alert: () => {},
        },
        new Map([["deep.daem", bytesOf("deep.daem")]]),
      );
      const report = engine.restore(bytesOf(`snapshot_${version}.bin`));
      assert.deepEqual(report, { savedAt: 1234567890123, devices: 7, skipped: [] });
      // The last score is not part of a snapshot (a restored device shows 0 until it scores);
      // the state words and reject counts came after these formats, which hold no incidents.
      const withoutScore = ({ score: _, ...rest }: { score: number }) => rest;
      const withoutState = (
        { state: _, incident, mutedUntil, rejected, ...rest }: DeviceSummary,
      ) => {
        assert.equal(incident, null);
        assert.equal(mutedUntil, null);
        assert.equal(rejected, 0);
        return withoutScore(rest);
      };
      assert.deepEqual(
        engine.devices().map(withoutState),
        expected.devices.map(withoutScore),
      );
      // Format 2 kept no score history; format 3 keeps each device's newest scores.
      for (const d of engine.devices()) {
        const kept = engine.deviceScores(d.id)!.length;
        if (version === "v2") assert.equal(kept, 0, d.id);
        else assert.equal(kept, Math.min(d.messages, 300), d.id);
      }
      // Advance each device's readings to where the snapshot was taken, without the engine.
      const rngs = deviceRngs();
      for (const [id, rng] of rngs) {
        const count = expected.devices.find((d: { id: string }) => d.id === id).messages;
        for (let k = 0; k < count; k++) reading(rng, k);
      }
      feed(engine, BEFORE_SNAPSHOT, BEFORE_SNAPSHOT + AFTER_SNAPSHOT, rngs);
      assert.equal(seen.length, expected.after.length);
      assert.deepEqual(seen, expected.after);
      assert.deepEqual(engine.counters(), expected.counters);
    });
  }

  test("a KitNET model file saved mid-training resumes with the same scores", () => {
    const { seed, scores } = jsonOf("kitnet.expected.json");
    const k = KitNET.fromBytes(bytesOf("kitnet.model"));
    const rng = new MersenneTwister(seed);
    const row = () =>
      Float64Array.from({ length: 5 }, (_, i) => i + 3 * rng.uniform(0, 1) * rng.uniform(0, 1));
    for (let i = 0; i < 300; i++) row();
    const resumed = scores.map(() => k.process(row()));
    assert.deepEqual(resumed, scores);
  });

  test("a deep-autoencoder model file scores records as before", () => {
    const { scores } = jsonOf("deep.expected.json");
    const model = DeepAutoencoder.fromBytes(bytesOf("deep.daem"));
    const rng = new MersenneTwister(11);
    const rows = Array.from({ length: 50 }, (_, k) => reading(rng, k % 97 === 0 ? 1 : k));
    assert.deepEqual(rows.map((r) => model.scoreRecord(r.map(String))), scores);
  });
});
