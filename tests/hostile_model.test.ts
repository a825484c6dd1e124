/**
 * Hostile model files and snapshots, property-based: mutated KitNET states, deep-autoencoder
 * model files, damped-feature windows and gateway snapshots. Each is refused with a clear
 * `RangeError`, or loads into a model that holds no NaN or Infinity and goes on scoring finite
 * numbers. The sealed envelope's CRC-32 catches random flips, so most inputs are hostile
 * payloads inside a valid envelope (re-sealed), which reach the decoders themselves.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { SnapshotStore } from "../adapters/files/mod.ts";
import { ByteWriter } from "../core/codec/mod.ts";
import { DampedFeatures } from "../core/gateway/mod.ts";
import { DeepAutoencoder } from "../core/deep_ae/mod.ts";
import { deviceIdProblem } from "../core/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { type GatewayConfig, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { KitNET } from "../core/kitnet/mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import { seal, unseal } from "../core/codec/mod.ts";
import { type TabularColumn, TabularEncoder } from "../core/deep_ae/mod.ts";
import {
  type ByteMutation,
  byteMutations,
  checkProperty,
  mutate,
  PROPERTY_TEST,
} from "./support/hostile.ts";
import { kitnetStateProblem } from "./support/model_scan.ts";

// ---- hostile contents in a valid envelope ----------------------------------------------------

/** Numbers that break arithmetic, written as little-endian f64 over the payload. */
const POISON = [NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 0, -1, 2 ** 53, 1e300];

/** An edit of a sealed file's payload; the file is sealed again afterwards. */
type PayloadEdit =
  | { kind: "bytes"; mutations: ByteMutation[] }
  | { kind: "f64"; at: number; value: number }
  | { kind: "envelope"; mutations: ByteMutation[] };

const payloadEdit: fc.Arbitrary<PayloadEdit> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("bytes" as const), mutations: byteMutations() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("f64" as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(...POISON), fc.double()),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("envelope" as const), mutations: byteMutations(2) }),
  },
);

/** `sealed` (of `kind`) with `edits` applied; payload edits are re-sealed with a valid CRC. */
function applyEdits(sealed: Uint8Array, kind: string, edits: readonly PayloadEdit[]): Uint8Array {
  let bytes = sealed;
  for (const e of edits) {
    if (e.kind === "envelope") {
      bytes = mutate(bytes, e.mutations);
      continue;
    }
    let version: number, payload: Uint8Array;
    try {
      ({ version, payload } = unseal(bytes, kind, [1, 2, 3, 4]));
    } catch {
      continue; // an envelope edit broke it already
    }
    if (e.kind === "bytes") payload = mutate(payload, e.mutations);
    else {
      payload = payload.slice();
      if (payload.length >= 8) {
        const at = e.at % (payload.length - 7);
        new DataView(payload.buffer).setFloat64(at, e.value, true);
      }
    }
    bytes = seal(kind, version, payload);
  }
  return bytes;
}

/** Asserts `error` is the clear refusal expected of a decoder: a RangeError naming `what`. */
function assertRefusal(error: unknown, what: RegExp): void {
  assert.ok(error instanceof RangeError, `not a RangeError: ${(error as Error)?.stack ?? error}`);
  assert.match(error.message, what);
}

const edits = fc.array(payloadEdit, { minLength: 1, maxLength: 3 });

// ---- KitNET ----------------------------------------------------------------------------------

/** A finite instance of `n` features (deterministic, varied). */
function instance(n: number, i: number): number[] {
  return Array.from({ length: n }, (_, j) => Math.sin(i * 0.7 + j) * (j + 1) + (i % 3));
}

/** KitNETs in each phase: mapping, training, executing, and one with a given feature map. */
function kitnetStates(): Uint8Array[] {
  const states: Uint8Array[] = [];
  for (const seen of [5, 30, 80]) {
    const k = new KitNET({ n: 5, maxAutoencoderSize: 2, fmGracePeriod: 10, adGracePeriod: 40 });
    for (let i = 0; i < seen; i++) k.process(instance(5, i));
    states.push(k.toBytes());
  }
  const given = new KitNET({ n: 4, featureMap: [[0, 1], [2, 3]], adGracePeriod: 5 });
  for (let i = 0; i < 3; i++) given.process(instance(4, i));
  states.push(given.toBytes());
  return states;
}

/** Loads hostile KitNET bytes: refused clearly, or a finite model that keeps scoring finitely. */
function checkKitNET(bytes: Uint8Array): void {
  let k: KitNET;
  try {
    k = KitNET.fromBytes(bytes);
  } catch (error) {
    assertRefusal(error, /^KitNET state/);
    return;
  }
  assert.equal(kitnetStateProblem(k.toBytes()), undefined, "loaded with a non-finite parameter");
  // A given feature map may leave features out, so n is bounded only by the caller, who must
  // pass n numbers per instance (the gateway checks n against its stream first).
  if (k.n > 10_000) return;
  for (let i = 0; i < 12; i++) {
    const score = k.process(instance(k.n, i));
    assert.ok(Number.isFinite(score), `score ${score}`);
  }
  assert.equal(kitnetStateProblem(k.toBytes()), undefined, "a non-finite parameter after learning");
}

// ---- deep autoencoder --------------------------------------------------------------------------

/** Small trained deep autoencoders: one on encoded rows, one with a numeric record encoder. */
function deepAeFiles(): Uint8Array[] {
  const rng = new MersenneTwister(3);
  const rows = Array.from({ length: 60 }, () => {
    const a = rng.uniform(-1, 1);
    return [a, 2 * a + rng.uniform(-0.05, 0.05), -a];
  });
  const columns: TabularColumn[] = ["a", "b", "c"].map((name) => ({ name, kind: "numeric" }));
  const encoder = TabularEncoder.fit(columns, rows.map((r) => r.map(String)));
  const files: Uint8Array[] = [];
  for (const withEncoder of [false, true]) {
    const model = DeepAutoencoder.create({
      inputSize: 3,
      hiddenLayers: [{ units: 4, activation: "tanh" }, { units: 2, activation: "linear" }],
      seed: 5,
      encoder: withEncoder ? encoder : undefined,
    });
    const x = withEncoder
      ? encoder.encode(rows.map((r) => r.map(String)))
      : Float64Array.from(rows.flat());
    model.train(x, { epochs: 3, batchSize: 10, learningRate: 0.01, validationSplit: 0.2 });
    model.calibrate(model.errors(x), { kind: "quantile", q: 0.95 });
    model.metadata = "{}";
    files.push(model.toBytes());
  }
  return files;
}

/** Loads a hostile deep-AE file: refused clearly, or a model holding only finite numbers. */
function checkDeepAe(bytes: Uint8Array): void {
  let model: DeepAutoencoder;
  try {
    model = DeepAutoencoder.fromBytes(bytes);
  } catch (error) {
    assertRefusal(error, /^deep autoencoder model/);
    return;
  }
  const net = model.network;
  for (const array of [...net.kernels, ...net.biases]) {
    assert.ok(array.every(Number.isFinite), "a non-finite weight");
  }
  if (model.encoder !== undefined) {
    const { offset, factor } = model.encoder.scaler;
    assert.ok(offset.every(Number.isFinite) && factor.every(Number.isFinite), "scaler");
  }
  const t = model.threshold;
  assert.ok(Number.isNaN(t) || (t >= 0 && t < Infinity), `threshold ${t}`);
}

// ---- damped features -------------------------------------------------------------------------

function dampedStates(): Uint8Array[] {
  const d = new DampedFeatures(3, [1, 0.1]);
  const out = new Float64Array(d.size);
  const states = [d.toBytes()];
  for (let i = 0; i < 20; i++) d.update(instance(3, i), i * 0.5, out);
  states.push(d.toBytes());
  return states;
}

function checkDamped(bytes: Uint8Array): void {
  let d: DampedFeatures;
  try {
    d = DampedFeatures.fromBytes(bytes);
  } catch (error) {
    assertRefusal(error, /^damped features state/);
    return;
  }
  const out = new Float64Array(d.size);
  for (let i = 0; i < 5; i++) {
    d.update(instance(d.fields, i), 100 + i, out);
    assert.ok(out.every(Number.isFinite), `features ${out}`);
  }
}

// ---- gateway snapshots -----------------------------------------------------------------------

const encoderUtf8 = new TextEncoder();

/** Two streams: KitNET on raw values and KitNET on damped features with payload timestamps. */
function snapshotConfig(): GatewayConfig {
  const stream = (name: string, extra: Record<string, unknown>) => ({
    name,
    subscribe: `${name}/+`,
    device: `${name}/{device}`,
    payload: { format: "json", fields: ["a", "b"] },
    model: { maxAutoencoderSize: 2, fmGracePeriod: 4, adGracePeriod: 10 },
    threshold: { calibrationWindow: 5, tailProbability: 0.01 },
    ...extra,
  });
  return validateGatewayConfig({
    mqtt: { url: "mqtt://127.0.0.1:1883" },
    streams: [
      stream("raw", {}),
      stream("damped", {
        payload: { format: "json", fields: ["a", "b"], timestampField: "ts", timestampUnit: "s" },
        features: { type: "damped", lambdas: [1, 0.1] },
      }),
    ],
    limits: { maxDevices: 8, queueCapacity: 64, historyPoints: 4 },
  });
}

/** Sends `count` messages to two devices of each stream. */
function feed(engine: GatewayEngine, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) {
    const [a, b] = instance(2, i);
    for (const name of ["raw", "damped"]) {
      for (const device of ["d1", "d2"]) {
        const body = JSON.stringify({ a, b, ts: i });
        engine.receive(`${name}/${name}-${device}`, encoderUtf8.encode(body), 1000 * i);
      }
    }
    engine.drain();
  }
}

/** Snapshots of an engine at several points of learning. */
function snapshots(): Uint8Array[] {
  const engine = new GatewayEngine(snapshotConfig());
  const out = [engine.toBytes(0)];
  for (const more of [3, 10, 25]) {
    feed(engine, more, out.length * 100);
    out.push(engine.toBytes(out.length));
  }
  return out;
}

/**
 * Restores hostile snapshot bytes: refused with the state untouched, or restored into devices
 * with safe ids and finite models that survive their own snapshot and go on scoring.
 */
function checkSnapshot(bytes: Uint8Array, config: GatewayConfig): void {
  const scores: number[] = [];
  const engine = new GatewayEngine(config, {
    score: (_d, v) => scores.push(v.score),
    alert: () => {},
  });
  feed(engine, 2);
  const before = JSON.stringify(engine.counters());
  let report;
  try {
    report = engine.restore(bytes);
  } catch (error) {
    assertRefusal(error, /gateway snapshot|KitNET state|damped features state|score history/);
    assert.equal(JSON.stringify(engine.counters()), before, "a refused snapshot changed state");
    return;
  }
  for (const line of report.skipped) assert.ok(typeof line === "string" && line.length > 0);
  assert.ok(Number.isFinite(report.savedAt), `savedAt ${report.savedAt}`);
  const c = engine.counters();
  for (const [name, v] of Object.entries({ ...c, ...c.rejected })) {
    if (typeof v === "number") assert.ok(Number.isSafeInteger(v) && v >= 0, `${name} is ${v}`);
  }
  for (const d of engine.devices()) {
    assert.equal(deviceIdProblem(d.id), undefined, `device id ${JSON.stringify(d.id)}`);
    assert.ok(Number.isFinite(d.lastSeen) && Number.isSafeInteger(d.messages), d.id);
    assert.ok(d.threshold === null || (d.threshold > 0 && d.threshold < Infinity), d.id);
  }
  const again = new GatewayEngine(config);
  assert.deepEqual(
    again.restore(engine.toBytes(1)).skipped,
    [],
    "a restored device did not survive",
  );
  feed(engine, 20, 500);
  for (const s of scores) assert.ok(Number.isFinite(s), `score ${s}`);
}

/** A KitNET state in the mapping phase, written field by field (see `KitNET.toBytes`). */
function mappingState(n: number, o: { trained?: number; count?: number; sum0?: number } = {}) {
  const w = new ByteWriter();
  w.u32(n).u32(2).u32(10).u32(40).f64(0.1).f64(0.75).u8(0);
  w.f64(o.trained ?? 0).f64(0).u8(0).f64(o.count ?? o.trained ?? 0);
  const sums = new Float64Array(n);
  sums[0] = o.sum0 ?? 0;
  w.f64Array(sums).f64Array(new Float64Array(n)).f64Array(new Float64Array(n));
  w.f64Array(new Float64Array((n * (n + 1)) / 2));
  return seal("KNET", 1, w.finish());
}

/** `bytes` (sealed `kind`) with the f64 at payload offset `at` set to `value`, re-sealed. */
function withF64(bytes: Uint8Array, kind: string, at: number, value: number): Uint8Array {
  const { version, payload } = unseal(bytes, kind, [1, 2, 3, 4, 5]);
  const copy = payload.slice();
  new DataView(copy.buffer).setFloat64(at, value, true);
  return seal(kind, version, copy);
}

describe("hostile model files and snapshots", () => {
  test("regressions found by the properties", () => {
    const refused = (load: () => unknown, what: RegExp) => {
      assert.throws(load, (error) => {
        assertRefusal(error, what);
        return true;
      });
    };
    // KitNET: the layout itself loads; then each hostile field is refused with a reason.
    assert.equal(KitNET.fromBytes(mappingState(3, { trained: 2 })).trained, 2);
    // A mapper sum of -1e308 loaded, then overflowed into a NaN distance matrix.
    refused(() => KitNET.fromBytes(mappingState(3, { trained: 2, sum0: -1e308 })), /sums\[0\]/);
    // A count of 0 with 2 instances trained divided by zero.
    refused(() => KitNET.fromBytes(mappingState(3, { trained: 2, count: 0 })), /mapper counted/);
    // Past its mapping phase with no feature map: process() threw.
    refused(() => KitNET.fromBytes(mappingState(3, { trained: 11 })), /no feature map/);
    // n = 2^31 sized the mapper at 2^61 numbers before the bytes were checked.
    const huge = mappingState(3, { trained: 2 });
    const { payload } = unseal(huge, "KNET", [1]);
    new DataView(payload.buffer, payload.byteOffset).setUint32(0, 2 ** 31, true);
    refused(() => KitNET.fromBytes(seal("KNET", 1, payload)), /truncated/);
    // NaN in an executing model's first weight (after the header and the feature map).
    const executing = kitnetStates()[2];
    const view = new DataView(unseal(executing, "KNET", [1]).payload.slice().buffer);
    let weightAt = 4 * 4 + 8 * 2 + 1 + 8 * 2 + 1; // n, m, fm, ad, lr, ratio, given, counters, map?
    const clusters = view.getUint32(weightAt, true);
    weightAt += 4;
    for (let a = 0; a < clusters; a++) weightAt += 4 + 4 * view.getUint32(weightAt, true);
    weightAt += 4; // the weights' length
    refused(() => KitNET.fromBytes(withF64(executing, "KNET", weightAt, NaN)), /weights\[0\]/);
    // Deep AE: every refusal names the model file, whichever part it comes from.
    const file = deepAeFiles()[0];
    const { payload: ae } = unseal(file, "DAEM", [1]);
    const zeroInput = ae.slice();
    new DataView(zeroInput.buffer).setUint32(4, 0, true); // inputSize
    refused(
      () => DeepAutoencoder.fromBytes(seal("DAEM", 1, zeroInput)),
      /^deep autoencoder model/,
    );
    // A negative or infinite threshold was kept.
    const model = DeepAutoencoder.fromBytes(file);
    for (const threshold of [-1, Infinity]) {
      model.threshold = threshold;
      refused(() => DeepAutoencoder.fromBytes(model.toBytes()), /threshold/);
    }
    // Invalid UTF-8 in the metadata string threw a TypeError from TextDecoder.
    model.threshold = 0.5;
    model.metadata = "xx";
    const good = model.toBytes();
    const { payload: meta } = unseal(good, "DAEM", [1]);
    const bad = meta.slice();
    bad[bad.length - 1] = 0xff;
    refused(() => DeepAutoencoder.fromBytes(seal("DAEM", 1, bad)), /not UTF-8/);
    // Damped windows: 2^30 fields allocated 2^33 numbers before the bytes were checked.
    const damped = dampedStates()[1];
    const { payload: dp } = unseal(damped, "DAMP", [1]);
    const many = dp.slice();
    new DataView(many.buffer).setUint32(0, 2 ** 30, true);
    refused(() => DampedFeatures.fromBytes(seal("DAMP", 1, many)), /truncated/);
    // A finite but huge squared sum gave an infinite standard deviation.
    const stateAt = 4 + 4 + 2 * 8 + 8 + 4; // fields, λ list, last time, state length
    refused(
      () => DampedFeatures.fromBytes(withF64(damped, "DAMP", stateAt + 16, 1e306)),
      /out of range/,
    );
    // Gateway snapshot: a counter of NaN or a time no Date can show were restored as they were.
    const snapshot = snapshots()[3];
    const config = snapshotConfig();
    refused(
      () => new GatewayEngine(config).restore(withF64(snapshot, "GWAY", 0, Infinity)),
      /saved at/,
    );
    refused(() => new GatewayEngine(config).restore(withF64(snapshot, "GWAY", 8, NaN)), /messages/);
  });

  test("KitNET states: refused clearly or loaded finite", PROPERTY_TEST, () => {
    const states = kitnetStates();
    const input = fc.record({ base: fc.integer({ min: 0, max: states.length - 1 }), edits });
    checkProperty("models: KitNET states", input, ({ base, edits }) => {
      checkKitNET(applyEdits(states[base], "KNET", edits));
    }, 1000);
  });

  test("deep-autoencoder model files: refused clearly or loaded finite", PROPERTY_TEST, () => {
    const files = deepAeFiles();
    const input = fc.record({ base: fc.integer({ min: 0, max: files.length - 1 }), edits });
    checkProperty("models: deep-AE files", input, ({ base, edits }) => {
      checkDeepAe(applyEdits(files[base], "DAEM", edits));
    }, 1500);
  });

  test("damped-feature windows: refused clearly or loaded finite", PROPERTY_TEST, () => {
    const states = dampedStates();
    const input = fc.record({ base: fc.integer({ min: 0, max: states.length - 1 }), edits });
    checkProperty("models: damped windows", input, ({ base, edits }) => {
      checkDamped(applyEdits(states[base], "DAMP", edits));
    }, 1000);
  });

  test("gateway snapshots: refused untouched, or restored finite and safe", PROPERTY_TEST, () => {
    const config = snapshotConfig();
    const saved = snapshots();
    const input = fc.record({ base: fc.integer({ min: 0, max: saved.length - 1 }), edits });
    checkProperty("snapshots: gateway restore", input, ({ base, edits }) => {
      checkSnapshot(applyEdits(saved[base], "GWAY", edits), config);
    }, 250);
  });

  test(
    "the snapshot store passes over hostile files and loads the newest good one",
    PROPERTY_TEST,
    () => {
      const config = snapshotConfig();
      const saved = snapshots();
      const good = saved[saved.length - 1];
      const dir = mkdtempSync(join(tmpdir(), "foxtail-hostile-"));
      try {
        const input = fc.array(
          fc.record({ base: fc.integer({ min: 0, max: saved.length - 1 }), edits }),
          {
            minLength: 1,
            maxLength: 3,
          },
        );
        checkProperty("snapshots: store with hostile files", input, (files) => {
          rmSync(dir, { recursive: true, force: true });
          const store = new SnapshotStore(dir, 10);
          store.save(good); // the oldest, snapshot-1
          files.forEach((f, i) =>
            writeFileSync(store.pathOf(i + 2), applyEdits(saved[f.base], "GWAY", f.edits))
          );
          const engine = new GatewayEngine(config);
          const { loaded, passedOver } = store.loadNewest((bytes) => engine.restore(bytes));
          assert.ok(loaded !== undefined, "the good snapshot was not reached");
          for (const line of passedOver) assert.match(line, /snapshot-\d+\.bin: /);
          assert.equal(
            passedOver.length,
            store.sequences().indexOf(Number(/(\d+)\.bin$/.exec(loaded.path)![1])),
          );
        }, 30);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
