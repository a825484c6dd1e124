/**
 * Hostile MQTT payloads, property-based: random bytes and mutations of valid json, json-array,
 * csv and number payloads through the payload decoder and the gateway engine's ingest path.
 * Nothing throws, every message ends accepted or in a counted rejection with a reason, accepted
 * messages are all scored, and no model ever holds NaN or Infinity.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type GatewayCounters, GatewayEngine, type GatewayOutput } from "../core/gateway/mod.ts";
import { type GatewayConfig, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { DeepAutoencoder } from "../core/deep_ae/mod.ts";
import {
  MAX_FEATURE_MAGNITUDE,
  PayloadDecoder,
  REJECT_REASONS,
  type RejectReason,
} from "../core/gateway/mod.ts";
import { checkProperty, PROPERTY_TEST } from "./support/hostile.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const MAX_PAYLOAD = 1024;

type Format = "json" | "json-array" | "csv" | "number";
const FORMATS: readonly Format[] = ["json", "json-array", "csv", "number"];
const FIELDS: Record<Format, string[]> = {
  "json": ["t", "h", "power.v"],
  "json-array": ["a", "b", "c"],
  "csv": ["a", "b", "c"],
  "number": ["value"],
};

/**
 * The engine's streams: KitNET on raw values in each format, KitNET on damped features with
 * the payload's own (hostile) timestamps, and a trained deep autoencoder.
 */
type StreamName = Format | "damped" | "deep";
const STREAMS: readonly StreamName[] = [...FORMATS, "damped", "deep"];
const FORMAT_OF: Record<StreamName, Format> = {
  "json": "json",
  "json-array": "json-array",
  "csv": "csv",
  "number": "number",
  "damped": "json-array", // a, b, then the timestamp (ms)
  "deep": "csv",
};

/** A small deep autoencoder over 3 numbers, with a stored threshold. */
function deepModel(): Uint8Array {
  const model = DeepAutoencoder.create({
    inputSize: 3,
    hiddenLayers: [{ units: 2, activation: "tanh" }],
    seed: 1,
  });
  const rows = Float64Array.from({ length: 60 }, (_, i) => Math.sin(i) * (i % 3));
  model.calibrate(model.errors(rows), { kind: "quantile", q: 0.95 });
  return model.toBytes();
}

/** Model files of the deep-ae stream, by configured path. */
const MODELS: ReadonlyMap<string, Uint8Array> = new Map([["deep.bin", deepModel()]]);

/** One stream per kind, each on its own topic, learning in a few dozen messages. */
function hostileConfig(queueCapacity = 64): GatewayConfig {
  const kitnet = {
    model: { maxAutoencoderSize: 2, fmGracePeriod: 5, adGracePeriod: 20 },
    threshold: { tailProbability: 0.01, calibrationWindow: 5 },
  };
  const extra: Record<StreamName, Record<string, unknown>> = {
    "json": kitnet,
    "json-array": kitnet,
    "csv": kitnet,
    "number": kitnet,
    "damped": {
      ...kitnet,
      payload: { format: "json-array", fields: ["a", "b", "ts"], timestampField: "ts" },
      features: { type: "damped", lambdas: [1, 0.1] },
    },
    "deep": { model: { type: "deep-ae", path: "deep.bin" } },
  };
  return validateGatewayConfig({
    mqtt: { url: "mqtt://127.0.0.1:1883" },
    streams: STREAMS.map((name) => ({
      name,
      subscribe: `${name}/+/t`,
      device: `${name}/{device}/t`,
      payload: { format: FORMAT_OF[name], fields: FIELDS[FORMAT_OF[name]] },
      ...extra[name],
    })),
    limits: { maxDevices: 16, queueCapacity, historyPoints: 8, maxPayloadBytes: MAX_PAYLOAD },
  });
}

/** A valid payload of `format` carrying `values`. */
function render(format: Format, values: readonly number[]): string {
  switch (format) {
    case "json":
      return JSON.stringify({ t: values[0], h: values[1], power: { v: values[2] } });
    case "json-array":
      return JSON.stringify(values.slice(0, 3));
    case "csv":
      return values.slice(0, 3).join(",");
    case "number":
      return String(values[0]);
  }
}

// ---- arbitraries ---------------------------------------------------------------------------

const reading = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const readings = fc.array(reading, { minLength: 3, maxLength: 3 });

/** Tokens a hostile sensor puts where a number belongs. */
const hostileToken = fc.oneof(
  fc.constantFrom(
    "1e308",
    "-1.7976931348623157e308",
    "1e309",
    "1e999",
    "-1e999",
    "1e-400",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "1_000",
    "",
    " ",
    '"3"',
    "null",
    "true",
    "[]",
    "{}",
    "1e101",
    "-1e100",
    "1e100",
    "9".repeat(400),
    "0." + "0".repeat(400) + "1",
    "\uFEFF1",
    "1\u00002",
  ),
  fc.double().map(String),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ""),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)),
  fc.integer({ min: 1, max: 20_000 }).map((depth) =>
    '{"a":'.repeat(depth) + "1" + "}".repeat(depth)
  ),
  fc.integer({ min: 1, max: 5000 }).map((n) => '"' + "x".repeat(n) + '"'),
);

/** Byte sequences that are not UTF-8. */
const invalidUtf8: fc.Arbitrary<number[]> = fc.constantFrom<number[]>(
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // a surrogate
  [0xe2, 0x82], // cut short
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
);

/** How a valid payload is spoiled. */
type Spoil =
  | { kind: "none" }
  | { kind: "token"; index: number; token: string }
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "bom" }
  | { kind: "pad"; extra: number }
  | { kind: "whole"; text: string };

const spoil: fc.Arbitrary<Spoil> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Spoil>({ kind: "none" }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("token" as const),
      index: fc.integer({ min: 0, max: 2 }),
      token: hostileToken,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("flip" as const),
      at: fc.nat(),
      value: fc.nat({ max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: invalidUtf8,
    }),
  },
  { weight: 1, arbitrary: fc.constant<Spoil>({ kind: "bom" }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("pad" as const),
      extra: fc.integer({ min: -2, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("whole" as const),
      text: fc.oneof(fc.string({ maxLength: 40 }), hostileToken),
    }),
  },
);

/** The payload `format` of `values`, spoiled by `how`. */
function spoiled(format: Format, values: readonly number[], how: Spoil): Uint8Array {
  switch (how.kind) {
    case "none":
      return bytes(render(format, values));
    case "token": {
      // Render with a placeholder number, then put the hostile token in its place.
      const marked = values.slice();
      marked[how.index % (format === "number" ? 1 : 3)] = 123456.789;
      return bytes(render(format, marked).replace("123456.789", how.token));
    }
    case "flip": {
      const out = bytes(render(format, values));
      if (out.length > 0) out[how.at % out.length] = how.value;
      return out;
    }
    case "truncate": {
      const out = bytes(render(format, values));
      return out.subarray(0, how.at % (out.length + 1));
    }
    case "insert": {
      const text = bytes(render(format, values));
      const at = how.at % (text.length + 1);
      return new Uint8Array([...text.subarray(0, at), ...how.bytes, ...text.subarray(at)]);
    }
    case "bom":
      return bytes("\uFEFF" + render(format, values));
    case "pad": {
      // Whitespace up to the size limit (+ extra bytes): valid JSON/CSV either side of the cap.
      const text = render(format, values);
      const room = Math.max(0, MAX_PAYLOAD - bytes(text).length + how.extra);
      return bytes(
        format === "csv" || format === "number" ? " ".repeat(room) + text : text + " ".repeat(room),
      );
    }
    case "whole":
      return bytes(how.text);
  }
}

interface Message {
  stream: StreamName;
  device: number;
  values: number[];
  how: Spoil;
}

const message: fc.Arbitrary<Message> = fc.record({
  stream: fc.constantFrom(...STREAMS),
  device: fc.integer({ min: 0, max: 2 }),
  values: readings,
  how: spoil,
});

/** Output that checks every verdict it is given and counts them. */
class CheckingOutput implements GatewayOutput {
  scores = 0;
  alerts = 0;
  score(_device: unknown, verdict: { score: number; threshold: number }): void {
    this.scores++;
    assert.ok(Number.isFinite(verdict.score) && verdict.score >= 0, `score ${verdict.score}`);
    assert.ok(
      Number.isNaN(verdict.threshold) || (verdict.threshold > 0 && verdict.threshold < Infinity),
      `threshold ${verdict.threshold}`,
    );
  }
  alert(alert: { score: number; threshold: number }): void {
    this.alerts++;
    assert.ok(alert.score > alert.threshold);
  }
}

const total = (c: GatewayCounters) =>
  c.accepted + REJECT_REASONS.reduce((sum, r) => sum + c.rejected[r], 0);

/** Every detector survives a snapshot round trip: models finite, nothing skipped. */
function assertModelsFinite(engine: GatewayEngine): void {
  const copy = new GatewayEngine(engine.config, undefined, MODELS);
  const report = copy.restore(engine.toBytes(1));
  assert.deepEqual(report.skipped, [], "a detector did not survive its own snapshot");
  assert.equal(report.devices, engine.deviceCount);
  for (const d of engine.devices()) {
    assert.ok(Number.isFinite(d.score), `device ${d.id}: score ${d.score}`);
    assert.ok(d.threshold === null || Number.isFinite(d.threshold), `threshold ${d.threshold}`);
  }
}

/** Device `n` of a stream; device 2 is one id shared by every stream (a stream conflict). */
const deviceId = (stream: StreamName, n: number) => n === 2 ? "shared" : `${stream}-${n}`;

/** Sends `count` valid messages per device of each stream, so models reach every phase. */
function warmUp(engine: GatewayEngine, count: number): void {
  for (let i = 0; i < count; i++) {
    for (const stream of STREAMS) {
      const v = [20 + Math.sin(i), 40 + Math.cos(i / 3), 1000 * i];
      const payload = bytes(render(FORMAT_OF[stream], v));
      engine.receive(`${stream}/${deviceId(stream, 0)}/t`, payload, i);
    }
    engine.drain();
  }
}

describe("hostile MQTT payloads", () => {
  test(
    "the decoder refuses with a reason, never throws, and accepts only finite, bounded values",
    PROPERTY_TEST,
    () => {
      const decoders = new Map(
        FORMATS.map((f) => [f, new PayloadDecoder({ format: f, fields: FIELDS[f] }, MAX_PAYLOAD)]),
      );
      const payload = fc.oneof(
        message.map((m) => {
          const format = FORMAT_OF[m.stream];
          return { format, payload: spoiled(format, m.values, m.how) };
        }),
        fc.record({
          format: fc.constantFrom(...FORMATS),
          payload: fc.uint8Array({ maxLength: 2 * MAX_PAYLOAD }),
        }),
        fc.record({
          format: fc.constantFrom(...FORMATS),
          payload: fc.string({ unit: "binary", maxLength: 200 }).map(bytes),
        }),
      );
      checkProperty("decoder: random and mutated payloads", payload, ({ format, payload }) => {
        const decoder = decoders.get(format)!;
        const out = new Float64Array(3).fill(NaN);
        const reason = decoder.decode(payload, out);
        if (reason !== undefined) {
          assert.ok(REJECT_REASONS.includes(reason), reason);
          assert.ok(decoder.lastProblem.length > 0, "a rejection says why");
          if (payload.length > MAX_PAYLOAD) assert.equal(reason, "too-large");
          return;
        }
        assert.ok(payload.length <= MAX_PAYLOAD, "over the size limit, accepted");
        for (let i = 0; i < decoder.size; i++) {
          assert.ok(
            Number.isFinite(out[i]) && Math.abs(out[i]) <= MAX_FEATURE_MAGNITUDE,
            `value ${i} is ${out[i]}`,
          );
        }
      }, 3000);
    },
  );

  test("valid payloads are accepted with their values (nothing lost)", PROPERTY_TEST, () => {
    const valid = fc.record({ format: fc.constantFrom(...FORMATS), values: readings });
    checkProperty("decoder: valid payloads", valid, ({ format, values }) => {
      const decoder = new PayloadDecoder({ format, fields: FIELDS[format] }, MAX_PAYLOAD);
      const out = new Float64Array(3);
      assert.equal(decoder.decode(bytes(render(format, values)), out), undefined);
      // -0 is written "0".
      const expected = values.slice(0, decoder.size).map((v) => v + 0);
      assert.deepEqual(Array.from(out.subarray(0, decoder.size)), expected);
    }, 500);
  });

  test(
    "the engine: every message accepted or rejected with a counted reason; models stay finite",
    PROPERTY_TEST,
    () => {
      const run = fc.record({
        queueCapacity: fc.constantFrom(4, 64),
        warm: fc.constantFrom(0, 12, 32),
        batch: fc.integer({ min: 1, max: 8 }),
        messages: fc.array(message, { minLength: 1, maxLength: 60 }),
      });
      checkProperty("engine: hostile message sequences", run, (r) => {
        const output = new CheckingOutput();
        const engine = new GatewayEngine(hostileConfig(r.queueCapacity), output, MODELS);
        warmUp(engine, r.warm);
        const before = engine.counters();
        let sent = 0;
        for (let i = 0; i < r.messages.length; i++) {
          const m = r.messages[i];
          const payload = spoiled(FORMAT_OF[m.stream], m.values, m.how);
          engine.receive(`${m.stream}/${deviceId(m.stream, m.device)}/t`, payload, 1000 + i);
          sent++;
          // Oversized payloads are refused on arrival: they never take a place in the queue.
          if (payload.length > MAX_PAYLOAD) {
            assert.equal(engine.lastRejection?.reason, "too-large");
          }
          if (sent % r.batch === 0) engine.drain();
        }
        engine.drain();
        const after = engine.counters();
        assert.equal(engine.queued, 0);
        assert.equal(after.messages - before.messages, sent);
        // Nothing vanishes: each message was scored, refused with a reason, or dropped (counted).
        assert.equal(total(after) - total(before) + after.dropped - before.dropped, sent);
        assert.equal(output.scores, after.accepted, "every accepted message was scored");
        if (r.queueCapacity >= r.messages.length) assert.equal(after.dropped, before.dropped);
        if (engine.lastRejection !== undefined) {
          assert.ok(engine.lastRejection.problem.length > 0);
        }
        assertModelsFinite(engine);
      }, 60);
    },
  );

  test("unspoiled messages are all accepted", PROPERTY_TEST, () => {
    const clean = fc.array(
      fc.record({
        stream: fc.constantFrom(...STREAMS),
        device: fc.integer({ min: 0, max: 1 }),
        values: readings,
      }),
      { minLength: 1, maxLength: 60 },
    );
    checkProperty("engine: valid message sequences", clean, (messages) => {
      const output = new CheckingOutput();
      const engine = new GatewayEngine(hostileConfig(), output, MODELS);
      messages.forEach((m, i) => {
        const topic = `${m.stream}/${deviceId(m.stream, m.device)}/t`;
        engine.receive(topic, bytes(render(FORMAT_OF[m.stream], m.values)), i);
        engine.drain();
      });
      const c = engine.counters();
      assert.equal(c.accepted, messages.length);
      assert.equal(output.scores, messages.length);
      assertModelsFinite(engine);
    }, 150);
  });

  test("regressions found by the properties", PROPERTY_TEST, () => {
    const output = new CheckingOutput();
    const engine = new GatewayEngine(hostileConfig(), output, MODELS);
    warmUp(engine, 40);
    const reasons: (RejectReason | undefined)[] = [];
    const send = (topic: string, text: string | Uint8Array) => {
      const before = total(engine.counters());
      engine.receive(topic, typeof text === "string" ? bytes(text) : text, 5000);
      engine.drain();
      assert.equal(total(engine.counters()), before + 1);
      reasons.push(engine.lastRejection?.reason);
    };
    // Finite but huge values overflowed KitNET's sums into Infinity and then NaN.
    send("json/json-0/t", '{"t":1e308,"h":-1e308,"power":{"v":1}}');
    assert.equal(engine.lastRejection?.reason, "out-of-range");
    send("csv/csv-0/t", "1e101,2,3");
    assert.equal(engine.lastRejection?.reason, "out-of-range");
    // At the bound is fine.
    const accepted = engine.counters().accepted;
    send("number/number-0/t", String(MAX_FEATURE_MAGNITUDE));
    assert.equal(engine.counters().accepted, accepted + 1);
    // Oversized payloads are refused before they are queued.
    const queuedBefore = engine.queued;
    engine.receive("json/json-0/t", new Uint8Array(MAX_PAYLOAD + 1), 5001);
    assert.equal(engine.queued, queuedBefore);
    assert.equal(engine.lastRejection?.reason, "too-large");
    assert.equal(engine.counters().rejected["too-large"], 1);
    assertModelsFinite(engine);
  });
});
