import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { deviceIdProblem, DeviceTopicPattern } from "../core/gateway/mod.ts";
import { PayloadDecoder } from "../core/gateway/mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function decode(format: "json" | "json-array" | "csv" | "number", fields: string[], text: string) {
  const decoder = new PayloadDecoder({ format, fields }, 64);
  const out = new Float64Array(fields.length);
  const reason = decoder.decode(bytes(text), out);
  return { reason, values: Array.from(out), problem: decoder.lastProblem };
}

describe("payload decoding", () => {
  test("json: named fields and nested paths, in field order", () => {
    const r = decode("json", ["b", "a.x.y", "c"], '{"a":{"x":{"y":-2.5}},"b":1e3,"c":0,"d":"x"}');
    assert.equal(r.reason, undefined);
    assert.deepEqual(r.values, [1000, -2.5, 0]);
  });

  test("json-array, csv and number formats", () => {
    assert.deepEqual(decode("json-array", ["a", "b"], "[1.5, -3]").values, [1.5, -3]);
    assert.deepEqual(decode("csv", ["a", "b", "c"], " 1, 2.5 ,-3e-2\r\n").values, [1, 2.5, -0.03]);
    assert.deepEqual(decode("number", ["v"], " 42.25\n").values, [42.25]);
  });

  test("bad payloads are refused with a reason, never thrown", () => {
    const cases: [ReturnType<typeof decode>, string][] = [
      [decode("json", ["a"], "{not json"), "not-json"],
      [decode("json", ["a"], "[1]"), "not-json"],
      [decode("json", ["a.b"], '{"a":3}'), "missing-field"],
      [decode("json", ["a"], '{"b":3}'), "missing-field"],
      [decode("json", ["a"], '{"a":"3"}'), "not-a-number"],
      [decode("json", ["a"], '{"a":null}'), "not-a-number"],
      [decode("json", ["constructor"], "{}"), "missing-field"],
      [decode("json-array", ["a", "b"], "[1]"), "wrong-length"],
      [decode("json-array", ["a"], '["x"]'), "not-a-number"],
      [decode("csv", ["a", "b"], "1,2,3"), "wrong-length"],
      [decode("csv", ["a", "b"], "1"), "wrong-length"],
      [decode("csv", ["a", "b"], "1,"), "not-a-number"],
      [decode("csv", ["a", "b"], "1,0x10"), "not-a-number"],
      [decode("csv", ["a"], "1\n2"), "not-a-number"],
      [decode("number", ["v"], ""), "not-a-number"],
      [decode("number", ["v"], "Infinity"), "not-a-number"],
      [decode("number", ["v"], "1e999"), "not-a-number"],
      [decode("number", ["v"], "x".repeat(65)), "too-large"],
    ];
    for (const [result, reason] of cases) {
      assert.equal(result.reason, reason, result.problem);
      assert.ok(result.problem.length > 0);
    }
  });

  test("invalid UTF-8 is refused", () => {
    const decoder = new PayloadDecoder({ format: "number", fields: ["v"] }, 64);
    assert.equal(decoder.decode(new Uint8Array([0xff, 0xfe]), new Float64Array(1)), "not-utf8");
  });
});

describe("device ids from topics", () => {
  test("the {device} level is extracted; other levels must match", () => {
    const p = new DeviceTopicPattern("sensors/{device}/telemetry");
    assert.equal(p.match("sensors/boiler-1/telemetry"), "boiler-1");
    assert.equal(p.match("sensors/boiler-1/status"), undefined);
    assert.equal(p.match("sensors/boiler-1"), undefined);
    assert.equal(p.match("sensors/a/telemetry/x"), undefined);
    assert.equal(p.match("other/a/telemetry"), undefined);
    const q = new DeviceTopicPattern("+/x/{device}");
    assert.equal(q.match("site7/x/pump"), "pump");
    assert.equal(q.match("site7/y/pump"), undefined);
  });

  test("unsafe ids are refused with a reason; ordinary ones pass", () => {
    for (
      const id of [
        "a+b",
        "a#",
        "a/b",
        "..",
        "x..y",
        "$SYS",
        "a\u0000b",
        "a\nb",
        "",
        "x".repeat(129),
      ]
    ) {
      assert.notEqual(deviceIdProblem(id), undefined, JSON.stringify(id));
    }
    for (const id of ["boiler-1", "a.b", "sensor_7:eth0", "température", "x".repeat(128)]) {
      assert.equal(deviceIdProblem(id), undefined, id);
    }
  });

  test("patterns without exactly one {device} level are refused", () => {
    for (
      const bad of ["a/b", "a/{device}x", "{device}/{device}", "a/#/{device}", "a/{dev}/{device}"]
    ) {
      assert.throws(() => new DeviceTopicPattern(bad), RangeError, bad);
    }
  });
});
