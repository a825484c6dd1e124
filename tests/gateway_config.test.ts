import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, PIPELINE_DEFAULTS, validatePipelineConfig } from "../core/gateway/mod.ts";
import { SENSOR_LAMBDAS } from "../core/gateway/mod.ts";
import { GATEWAY_DEFAULTS, validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { smallConfig } from "./support/gateway_fixtures.ts";

/** The problems a configuration is refused with. */
function problemsOf(value: unknown): readonly string[] {
  try {
    validateGatewayConfig(value);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail("the configuration was accepted");
}

function withStream(change: Record<string, unknown>): Record<string, unknown> {
  const config = smallConfig();
  const stream = (config.streams as Record<string, unknown>[])[0];
  return { ...config, streams: [{ ...stream, ...change }] };
}

describe("gateway configuration", () => {
  test("a minimal configuration gets every default", () => {
    const config = validateGatewayConfig({
      streams: [{
        name: "s",
        subscribe: "a/+",
        device: "a/{device}",
        payload: { format: "number" },
      }],
    });
    assert.equal(config.mqtt.url, GATEWAY_DEFAULTS.url);
    assert.equal(config.mqtt.topicPrefix, GATEWAY_DEFAULTS.topicPrefix);
    assert.equal(config.mqtt.protocolVersion, GATEWAY_DEFAULTS.protocolVersion);
    assert.deepEqual(config.streams[0].payload.fields, ["value"]);
    const model = config.streams[0].model;
    assert.equal(model.type === "kitnet" && model.adGracePeriod, GATEWAY_DEFAULTS.adGracePeriod);
    assert.deepEqual(config.streams[0].features, { type: "raw" });
    assert.equal(config.streams[0].threshold.calibrationWindow, GATEWAY_DEFAULTS.calibrationWindow);
    assert.equal(config.dashboard.host, "127.0.0.1");
    assert.equal(config.snapshots.keep, GATEWAY_DEFAULTS.keep);
    assert.equal(config.limits.maxDevices, GATEWAY_DEFAULTS.maxDevices);
    assert.equal(config.limits.maxPayloadBytes, GATEWAY_DEFAULTS.maxPayloadBytes);
  });

  test("the issue's example configuration is accepted as written", () => {
    const config = validateGatewayConfig({
      mqtt: {
        url: "mqtt://127.0.0.1:1883",
        username: "u",
        password: "p",
        clientId: "gw-1",
        ca: "ca.pem",
        topicPrefix: "foxtail",
      },
      streams: [{
        name: "env",
        subscribe: "sensors/+/telemetry",
        device: "sensors/{device}/telemetry",
        payload: { format: "json", fields: ["t", "h", "v"] },
        features: "raw",
        model: { type: "kitnet", maxAutoencoderSize: 10, fmGracePeriod: 500, adGracePeriod: 5000 },
        threshold: { method: "lognormal", tailProbability: 0.0001, calibrationWindow: 1000 },
      }],
      dashboard: { host: "127.0.0.1", port: 8080, token: "0123456789abcdef" },
      snapshots: { dir: "./state", intervalSeconds: 60, keep: 3 },
      limits: { maxDevices: 256, queueCapacity: 4096, historyPoints: 2048 },
    });
    assert.equal(config.mqtt.ca, "ca.pem");
    assert.deepEqual(config.streams[0].payload.fields, ["t", "h", "v"]);
  });

  test("a wrong field type names its full path and value", () => {
    const bad = withStream({ payload: { format: "json", fields: ["t", "h", 5] } });
    assert.deepEqual(problemsOf(bad), ["streams[0].payload.fields[2]: expected a string, got 5"]);
  });

  test("unknown keys are named, at every level", () => {
    const config = smallConfig({ extra: 1, limits: { maxDevices: 2, queueSize: 10 } });
    const problems = problemsOf(config);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^extra: unknown key/);
    assert.match(problems[1], /^limits\.queueSize: unknown key \(allowed here: .*queueCapacity/);
  });

  test("every problem is reported at once, each with path and value", () => {
    const config = smallConfig({
      mqtt: { url: "http://x", protocolVersion: 3 },
      limits: { maxDevices: 0, queueCapacity: 1.5 },
      snapshots: { keep: "3" },
    });
    const problems = problemsOf(config);
    const expected: [string, string][] = [
      ["mqtt.url", '"http://x"'],
      ["mqtt.protocolVersion", "3"],
      ["snapshots.keep", '"3"'],
      ["limits.maxDevices", "0"],
      ["limits.queueCapacity", "1.5"],
    ];
    assert.equal(problems.length, expected.length, problems.join("\n"));
    for (const [path, value] of expected) {
      const line = problems.find((p) => p.startsWith(`${path}:`));
      assert.ok(line !== undefined, `no problem for ${path} in:\n${problems.join("\n")}`);
      assert.ok(line.endsWith(`got ${value}`), line);
    }
  });

  test("bad topics, patterns, formats and ranges are refused with their paths", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ subscribe: "sensors/#/x" }, "streams[0].subscribe"],
      [{ device: "sensors/+/telemetry" }, "streams[0].device"],
      [{ device: "{device}/{device}" }, "streams[0].device"],
      [{ payload: { format: "xml", fields: ["a"] } }, "streams[0].payload.format"],
      [{ payload: { format: "number", fields: ["a", "b"] } }, "streams[0].payload.fields"],
      [{ payload: { format: "json", fields: ["a..b"] } }, "streams[0].payload.fields[0]"],
      [{ payload: { format: "csv" } }, "streams[0].payload.fields"],
      [{ threshold: { tailProbability: 1 } }, "streams[0].threshold.tailProbability"],
      [{ model: { adGracePeriod: 0 } }, "streams[0].model.adGracePeriod"],
      [{ name: "a b" }, "streams[0].name"],
    ];
    for (const [change, path] of cases) {
      const problems = problemsOf(withStream(change));
      assert.ok(problems.some((p) => p.startsWith(`${path}:`)), `${path}: ${problems.join("; ")}`);
    }
  });

  test('"damped" features get the sensor λs; an object sets its own', () => {
    const short = validateGatewayConfig(withStream({ features: "damped" })).streams[0];
    assert.deepEqual(short.features, { type: "damped", lambdas: SENSOR_LAMBDAS });
    assert.equal(short.payload.timestampField, undefined);
    const own = validateGatewayConfig(withStream({
      features: { type: "damped", lambdas: [2, 0.05] },
      payload: {
        format: "json",
        fields: ["t", "h"],
        timestampField: "meta.ts",
        timestampUnit: "s",
      },
    })).streams[0];
    assert.deepEqual(own.features, { type: "damped", lambdas: [2, 0.05] });
    assert.equal(own.payload.timestampField, "meta.ts");
    assert.equal(own.payload.timestampUnit, "s");
    const csv = validateGatewayConfig(withStream({
      features: "damped",
      payload: { format: "csv", fields: ["time", "t"], timestampField: "time" },
    })).streams[0];
    assert.equal(csv.payload.timestampUnit, "ms");
  });

  test("bad damped features and timestamps are refused with their paths and values", () => {
    const json = (extra: Record<string, unknown>) => ({
      payload: { format: "json", fields: ["t", "h"], ...extra },
      features: "damped",
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ features: "smoothed" }, 'streams[0].features: expected "raw", "damped" or'],
      [{ features: 3 }, "streams[0].features: expected"],
      [{ features: { lambdas: [1] } }, "streams[0].features.type: is required"],
      [
        { features: { type: "damped", lambdas: [] } },
        "streams[0].features.lambdas: expected a list",
      ],
      [
        { features: { type: "damped", lambdas: [1, -0.5] } },
        "streams[0].features.lambdas[1]: expected a number in (0, 1000), got -0.5",
      ],
      [
        { features: { type: "damped", lambdas: [1, 1] } },
        "streams[0].features.lambdas[1]: duplicate decay rate 1",
      ],
      [
        { features: { type: "raw", lambdas: [1] } },
        'streams[0].features.lambdas: only "damped" features have lambdas',
      ],
      [
        { features: { type: "damped", window: 3 } },
        "streams[0].features.window: unknown key",
      ],
      [
        json({ timestampField: "t" }),
        "streams[0].payload.timestampField: is also one of the fields",
      ],
      [
        json({ timestampField: "a..b" }),
        "streams[0].payload.timestampField: expected a field path",
      ],
      [
        json({ timestampUnit: "s" }),
        'streams[0].payload.timestampUnit: needs a timestampField, got "s"',
      ],
      [
        json({ timestampField: "ts", timestampUnit: "us" }),
        'streams[0].payload.timestampUnit: expected one of "ms", "s", got "us"',
      ],
      [
        {
          payload: { format: "csv", fields: ["t", "h"], timestampField: "ts" },
          features: "damped",
        },
        'streams[0].payload.timestampField: expected one of the fields (the timestamp\'s position), got "ts"',
      ],
      [
        { payload: { format: "number", timestampField: "ts" }, features: "damped" },
        'streams[0].payload.timestampField: a "number" payload has no room for a timestamp',
      ],
      [
        { payload: { format: "csv", fields: ["ts"], timestampField: "ts" }, features: "damped" },
        "streams[0].payload.timestampField: the fields need a value besides the timestamp",
      ],
      [
        { payload: { format: "json", fields: ["t"], timestampField: "ts" }, features: "raw" },
        'streams[0].payload.timestampField: only "damped" features use a timestamp',
      ],
    ];
    for (const [change, expected] of cases) {
      const problems = problemsOf(withStream(change));
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `expected "${expected}" in:\n${problems.join("\n")}`,
      );
    }
  });

  test("a deep-ae model needs a path and takes no KitNET options or threshold", () => {
    const stream = validateGatewayConfig(withStream({
      model: { type: "deep-ae", path: "models/env.daem" },
      threshold: undefined,
    })).streams[0];
    assert.deepEqual(stream.model, { type: "deep-ae", path: "models/env.daem" });
    const cases: [Record<string, unknown>, string][] = [
      [{ model: { type: "deep-ae" } }, "streams[0].model.path: is required (a string)"],
      [
        { model: { type: "deep-ae", path: "" } },
        'streams[0].model.path: expected a non-empty string, got ""',
      ],
      [
        { model: { type: "deep-ae", path: "m", fmGracePeriod: 5 } },
        'streams[0].model.fmGracePeriod: only a "kitnet" model has fmGracePeriod',
      ],
      [
        { model: { type: "kitnet", path: "m" } },
        'streams[0].model.path: only a "deep-ae" model has path (this one is "kitnet"), got "m"',
      ],
      [
        { model: { type: "deep-ae", path: "m" }, threshold: { tailProbability: 0.01 } },
        'streams[0].threshold: a "deep-ae" model uses the threshold stored with it',
      ],
      [
        { model: { type: "autoencoder" } },
        'streams[0].model.type: expected one of "kitnet", "deep-ae", "hst"',
      ],
    ];
    for (const [change, expected] of cases) {
      const problems = problemsOf(withStream(change));
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `expected "${expected}" in:\n${problems.join("\n")}`,
      );
    }
  });

  test("an hst model takes its own options, defaults filled in, and ranges by input name", () => {
    const stream = validateGatewayConfig(withStream({
      model: { type: "hst", window: 100, ranges: { t: [-20, 60] } },
    })).streams[0];
    assert.deepEqual(stream.model, {
      type: "hst",
      trees: 10,
      height: 8,
      window: 100,
      warmUp: 1000,
      seed: 1,
      ranges: { t: [-20, 60] },
    });
    assert.equal(stream.threshold.method, "lognormal", "calibrated like KitNET");
    const cases: [Record<string, unknown>, string][] = [
      [
        { model: { type: "hst", trees: 0 } },
        "streams[0].model.trees: expected an integer in [1, 1024], got 0",
      ],
      [
        { model: { type: "hst", window: 70000 } },
        "streams[0].model.window: expected an integer in [1, 65535]",
      ],
      [
        { model: { type: "hst", fmGracePeriod: 5 } },
        'streams[0].model.fmGracePeriod: only a "kitnet" model has fmGracePeriod (this one is "hst")',
      ],
      [
        { model: { type: "kitnet", window: 5 } },
        'streams[0].model.window: only a "hst" model has window (this one is "kitnet")',
      ],
      [{ model: { type: "hst", ranges: [1, 2] } }, "streams[0].model.ranges: expected an object"],
      [
        { model: { type: "hst", ranges: { t: [5, 1] } } },
        "streams[0].model.ranges.t: expected [min, max], two finite numbers with min < max, got [5,1]",
      ],
    ];
    for (const [change, expected] of cases) {
      const problems = problemsOf(withStream(change));
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `expected "${expected}" in:\n${problems.join("\n")}`,
      );
    }
  });

  test("no streams, duplicate stream names and a non-object root are refused", () => {
    assert.match(problemsOf({ streams: [] })[0], /^streams: expected a non-empty list/);
    const config = smallConfig();
    const stream = (config.streams as unknown[])[0];
    assert.match(
      problemsOf({ ...config, streams: [stream, stream] })[0],
      /^streams\[1\]\.name: duplicate/,
    );
    assert.match(problemsOf([1])[0], /^\(root\): expected an object, got \[1\]/);
  });

  test("the pipeline's part reads alone, and knows nothing of the adapters' sections", () => {
    const { streams, limits, snapshots } = smallConfig();
    const pipeline = validatePipelineConfig({ streams, limits });
    const whole = validateGatewayConfig(smallConfig());
    const { incidents } = whole;
    assert.deepEqual(pipeline, { streams: whole.streams, limits: whole.limits, incidents });
    assert.equal(pipeline.limits.maxPayloadBytes, PIPELINE_DEFAULTS.maxPayloadBytes);
    try {
      validatePipelineConfig({ streams, limits, snapshots });
      assert.fail("the snapshots section was accepted");
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.problems[0],
        /^snapshots: unknown key \(allowed here: streams, limits, incidents\)/,
      );
    }
  });
});
