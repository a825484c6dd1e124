/**
 * Hostile configurations, property-based: random JSON values and mutations of a valid gateway
 * configuration through `validateGatewayConfig`. Each ends as a valid configuration or a
 * `ConfigError` whose every problem names its key path, never another exception; and a
 * configuration that validates builds an engine that runs without throwing or leaving NaN or
 * Infinity in a model.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError } from "../core/gateway/mod.ts";
import { type GatewayConfig, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { checkProperty, PROPERTY_TEST } from "./support/hostile.ts";
import { smallConfig } from "./support/gateway_fixtures.ts";

const TOP_LEVEL = ["mqtt", "streams", "dashboard", "snapshots", "limits"];

/** A valid configuration with every optional key present. */
function fullConfig(): Record<string, unknown> {
  const config = smallConfig({
    dashboard: { enabled: true, host: "127.0.0.1", port: 8080, token: "0123456789abcdef" },
    limits: { maxDevices: 8, queueCapacity: 64, historyPoints: 32, maxPayloadBytes: 4096 },
  });
  Object.assign(config.mqtt as object, {
    username: "u",
    password: "p",
    clientId: "c",
    protocolVersion: 5,
    keepaliveSeconds: 30,
    reconnectMinMs: 100,
    reconnectMaxMs: 1000,
  });
  const stream = (config.streams as Record<string, unknown>[])[0];
  stream.qos = 1;
  Object.assign(stream.model as object, { learningRate: 0.1, hiddenRatio: 0.75 });
  return config;
}

type Key = string | number;

/** Every path (list of keys) into `value`, the root included. */
function pathsOf(value: unknown, prefix: Key[] = []): Key[][] {
  const out: Key[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  }
  return out;
}

/** One edit of a configuration. */
type Edit =
  | { kind: "set"; path: number; value: unknown; number?: number }
  | { kind: "delete"; path: number }
  | { kind: "unknown-key"; path: number; key: string; value: unknown }
  | { kind: "duplicate"; path: number };

/** Numbers at the edges: zero, tiny, huge, beyond JSON's range (`1e999` parses to Infinity). */
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 2, 3, 1e-300, 5e-324, 1e-17, 1e-12, 0.999999, 1e6, 1e9, 2 ** 31),
  fc.constantFrom(2 ** 32, 2 ** 53, 1e300, Number.MAX_VALUE, Infinity, -Infinity, 1.5, 100),
  fc.double({ noNaN: true }),
  fc.integer(),
);

/** Values a careless or hostile author writes. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    1,
    2,
    1e-300,
    5e-324,
    1e-17,
    1e9,
    2 ** 32,
    2 ** 53,
    1e300,
    Infinity, // JSON.parse("1e999")
    -Infinity,
    "",
    " ",
    "x",
    "#",
    "+",
    "a/+/b",
    "{device}",
    "sensors/{device}/telemetry",
    "mqtt://h",
    "deep-ae",
    "damped",
    "csv",
    "number",
    "__proto__",
    "constructor",
    null,
    true,
    false,
    [],
    {},
    [""],
    ["a", "a"],
    ["a..b"],
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const edit: fc.Arbitrary<Edit> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      path: fc.nat(),
      value: hostileValue,
      number: fc.option(hostileNumber, { freq: 4, nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), path: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("unknown-key" as const),
      path: fc.nat(),
      key: fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.constantFrom("__proto__", "constructor", "toString"),
      ),
      value: hostileValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), path: fc.nat() }) },
);

/** `config` with `edits` applied (a deep copy); returns it and the first key of each edit. */
function applyEdits(edits: readonly Edit[]): { config: unknown; touched: Key[][] } {
  let config: unknown = structuredClone(fullConfig());
  const touched: Key[][] = [];
  for (const e of edits) {
    const paths = pathsOf(config);
    const path = paths[e.path % paths.length];
    touched.push(path);
    if (path.length === 0) {
      if (e.kind === "set") config = e.value;
      continue;
    }
    // deno-lint-ignore no-explicit-any
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], config);
    const key = path[path.length - 1];
    switch (e.kind) {
      case "set":
        // A number is mostly replaced by another number: that is where the subtle mistakes are.
        parent[key] = typeof parent[key] === "number" && e.number !== undefined
          ? e.number
          : e.value;
        break;
      case "delete":
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case "unknown-key": {
        const target = parent[key];
        if (target !== null && typeof target === "object" && !Array.isArray(target)) {
          Object.defineProperty(target, e.key, {
            value: e.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        break;
      }
      case "duplicate":
        if (Array.isArray(parent)) parent.push(structuredClone(parent[key as number]));
        break;
    }
  }
  return { config, touched };
}

/** Checks the outcome of validating `value`: a config, or a ConfigError naming key paths. */
function validateOrExplain(value: unknown): GatewayConfig | ConfigError {
  try {
    return validateGatewayConfig(value);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${(error as Error)?.stack}`);
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) {
      const named = problem.startsWith("(root)") ||
        TOP_LEVEL.some((key) => problem.startsWith(key)) ||
        /: unknown key \(allowed here/.test(problem);
      assert.ok(named, `a problem without its key path: ${problem}`);
    }
    assert.ok(error.message.length > 0);
    return error;
  }
}

const encoder = new TextEncoder();

/** A payload of `config`'s stream `s` carrying `x` (json paths become nested objects). */
function payloadOf(config: GatewayConfig, s: number, x: readonly number[]): Uint8Array {
  const { format, fields } = config.streams[s].payload;
  if (format === "json") {
    const root: Record<string, unknown> = {};
    fields.forEach((field, i) => {
      const keys = field.split(".");
      let node = root;
      for (const key of keys.slice(0, -1)) {
        if (node[key] === null || typeof node[key] !== "object") node[key] = {};
        node = node[key] as Record<string, unknown>;
      }
      node[keys[keys.length - 1]] = x[i % x.length];
    });
    return encoder.encode(JSON.stringify(root));
  }
  if (format === "json-array") {
    return encoder.encode(JSON.stringify(fields.map((_, i) => x[i % x.length])));
  }
  return encoder.encode(fields.map((_, i) => x[i % x.length]).join(","));
}

/** The topic of device `id` in stream `s` (every `+` level filled in). */
function topicOf(config: GatewayConfig, s: number, id: string): string {
  return config.streams[s].device.split("/").map((level) =>
    level === "{device}" ? id : level === "+" ? "x" : level
  ).join("/");
}

/**
 * Runs every stream of a validated `config` through learning, calibration and scoring: the
 * same model settings with short grace periods, so the property stays fast.
 */
function runValidated(config: GatewayConfig): void {
  const quick: GatewayConfig = {
    ...config,
    streams: config.streams.map((stream) => ({
      ...stream,
      model: { ...stream.model, fmGracePeriod: 3, adGracePeriod: 6 },
      threshold: { ...stream.threshold, calibrationWindow: 4 },
    })),
    limits: { ...config.limits, queueCapacity: 64, maxDevices: 8, historyPoints: 4 },
  };
  let engine: GatewayEngine;
  try {
    engine = new GatewayEngine(quick);
  } catch (error) {
    // A configuration may still need something from outside (a model file): that is named too.
    assert.ok(error instanceof ConfigError, `engine: ${(error as Error)?.stack}`);
    return;
  }
  const scores: number[] = [];
  const thresholds: number[] = [];
  engine.output = {
    score: (_d, v) => {
      scores.push(v.score);
      thresholds.push(v.threshold);
    },
    alert: () => {},
  };
  for (let i = 0; i < 20; i++) {
    const x = [Math.sin(i) * 1e3, (i % 4) * 1e-3, i === 15 ? 1e100 : -i * 7, 42];
    quick.streams.forEach((_, s) =>
      engine.receive(topicOf(quick, s, `dev${s}`), payloadOf(quick, s, x), i)
    );
    engine.drain();
  }
  for (const v of scores) assert.ok(Number.isFinite(v), `score ${v}`);
  for (const v of thresholds) assert.ok(Number.isNaN(v) || Number.isFinite(v), `threshold ${v}`);
  const copy = new GatewayEngine(quick);
  assert.deepEqual(
    copy.restore(engine.toBytes(1)).skipped,
    [],
    "a model did not survive its snapshot",
  );
}

describe("hostile configurations", () => {
  test(
    "random JSON values: a valid configuration or a ConfigError naming key paths",
    PROPERTY_TEST,
    () => {
      const value = fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.dictionary(fc.constantFrom(...TOP_LEVEL, "x"), fc.jsonValue({ maxDepth: 3 })),
        fc.record({
          streams: fc.array(fc.dictionary(fc.string({ maxLength: 10 }), hostileValue), {
            maxLength: 3,
          }),
        }),
      );
      checkProperty("configs: random JSON values", value, (v) => {
        const result = validateOrExplain(v);
        if (!(result instanceof ConfigError)) runValidated(result);
      }, 1500);
    },
  );

  test(
    "mutated valid configurations: valid and runnable, or a ConfigError naming key paths",
    PROPERTY_TEST,
    () => {
      checkProperty(
        "configs: mutations of a valid configuration",
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (edits) => {
          const { config, touched } = applyEdits(edits);
          const result = validateOrExplain(config);
          if (result instanceof ConfigError) {
            // Some problem is about a part that was edited.
            const heads = touched.map((path) => String(path[0] ?? "(root)"));
            const rootEdited = touched.some((path) => path.length === 0);
            assert.ok(
              rootEdited ||
                result.problems.some((p) =>
                  heads.some((h) => p.startsWith(h)) || /unknown key/.test(p)
                ),
              `${result.problems.join("; ")} — edited ${JSON.stringify(touched)}`,
            );
            return;
          }
          runValidated(result);
        },
        1000,
      );
    },
  );

  test("the valid configuration itself runs", PROPERTY_TEST, () => {
    runValidated(validateGatewayConfig(fullConfig()));
  });

  test("regressions found by the properties", PROPERTY_TEST, () => {
    const withModel = (key: string, value: unknown, where = "model") => {
      const config = fullConfig();
      const stream = (config.streams as Record<string, Record<string, unknown>>[])[0];
      stream[where] = { ...stream[where], [key]: value };
      return config;
    };
    // A hidden ratio of 1e8 validated, then allocated gigabytes once the feature map was learned.
    const big = validateOrExplain(withModel("hiddenRatio", 1e8));
    assert.ok(big instanceof ConfigError);
    assert.match(big.problems.join("\n"), /^streams\[0\]\.model\.hiddenRatio: .*\(0, 1\]/m);
    runValidated(validateGatewayConfig(withModel("hiddenRatio", 1)));
    // Tail probabilities below 1.1e-16 made 1 − p round to 1: the threshold fit threw out of
    // the engine when calibration ended; subnormal ones made it NaN.
    for (const p of [1e-17, 1e-300, 5e-324]) {
      runValidated(validateGatewayConfig(withModel("tailProbability", p, "threshold")));
    }
    // An unknown key with no name of its own was reported without a path.
    const unnamed = validateOrExplain({ ...fullConfig(), "": 1 });
    assert.ok(unnamed instanceof ConfigError);
    assert.deepEqual(unnamed.problems.map((p) => p.split(":")[0]), ['(root)[""]']);
  });
});
