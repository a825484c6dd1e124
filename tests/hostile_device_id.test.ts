/**
 * Hostile device ids, property-based: arbitrary topic strings through the `{device}` pattern,
 * the id check and the gateway engine. An id that gets through is safe as an outgoing topic
 * level, a file name and a URL path segment; a topic the pattern does not match never makes a
 * device.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { posix, win32 } from "node:path";
import fc from "fast-check";
import { deviceIdProblem, DeviceTopicPattern, MAX_DEVICE_ID_LENGTH } from "../core/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { checkProperty, PROPERTY_TEST } from "./support/hostile.ts";
import { smallConfig } from "./support/gateway_fixtures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Characters that have a meaning somewhere an id goes. */
const TRICKY = [
  "+",
  "#",
  "/",
  ".",
  "..",
  "$",
  "\\",
  "\u0000",
  "\n",
  "\r",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009f",
  "\u2028",
  "\u202e",
  "\ufeff",
  "\ufffe",
  "\uffff",
  "\ufdd0",
  "\ud800",
  "\udc00",
  "\ud83d\ude00",
  "\udbff\udfff",
  "<",
  ">",
  "&",
  '"',
  "'",
  "%2e",
  "%2F",
  "?",
  ":",
  " ",
  "é",
  "a",
  "Z",
  "0",
  "-",
  "_",
];

/** Strings built mostly of tricky pieces. */
const trickyString = fc.array(
  fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: "binary", maxLength: 3 })),
  { maxLength: 12 },
).map((parts) => parts.join(""));

/** Ids a real fleet uses: letters, digits and a few separators. */
const ordinaryId = fc.string({
  unit: fc.constantFrom(..."abcXYZ0189-_:.é".split("")),
  minLength: 1,
  maxLength: MAX_DEVICE_ID_LENGTH,
}).filter((id) => !id.includes("..") && id !== ".");

/** Whether `s` is well-formed UTF-16 (no lone surrogates). */
function wellFormed(s: string): boolean {
  return decoder.decode(encoder.encode(s)) === s;
}

/** Every way an accepted id could still be unsafe; an empty list when it is safe. */
function unsafety(id: string, prefix: string): string[] {
  const found: string[] = [];
  if (id.length === 0 || id.length > MAX_DEVICE_ID_LENGTH) found.push("length");
  if (/[+#/\\]/.test(id)) found.push("wildcard or separator");
  if (id.includes("..") || id === ".") found.push("dot segment");
  if (id.startsWith("$")) found.push("leading $");
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) found.push("control character");
  if (!wellFormed(id)) found.push("lone surrogate");
  if (/[\ufdd0-\ufdef\ufffe\uffff]/.test(id)) found.push("noncharacter");
  // As an outgoing topic level: exactly one level, the same after UTF-8 encoding.
  const topic = `${prefix}/${id}/score`;
  if (topic.split("/").length !== prefix.split("/").length + 2) found.push("topic levels");
  if (decoder.decode(encoder.encode(topic)) !== topic) found.push("topic encoding");
  // As a file name: one path component on POSIX and Windows, never a dot segment. (":" stays
  // allowed, MAC addresses have it; "a:b" is a drive-relative path only to Windows' basename.)
  const drive = /^[A-Za-z]:/.test(id);
  if (posix.basename(id) !== id || (!drive && win32.basename(id) !== id)) found.push("file name");
  if (posix.join("state", id) !== `state/${id}`) found.push("file path");
  // As a URL path segment: it stays one segment once encoded.
  const url = new URL(`http://gateway.local/devices/${encodeURIComponent(id)}/scores`);
  if (decodeURIComponent(url.pathname.split("/")[2] ?? "") !== id) found.push("URL segment");
  return found;
}

/** A topic that splits into the pattern's levels differently: the reference matcher. */
function referenceMatch(pattern: string, topic: string): string | undefined {
  const want = pattern.split("/");
  const got = topic.split("/");
  if (want.length !== got.length) return undefined;
  let device: string | undefined;
  for (let i = 0; i < want.length; i++) {
    if (want[i] === "{device}") device = got[i];
    else if (want[i] !== "+" && want[i] !== got[i]) return undefined;
  }
  return device;
}

describe("hostile device ids", () => {
  test(
    "every id deviceIdProblem accepts is safe in topics, file names and URLs",
    PROPERTY_TEST,
    () => {
      const id = fc.oneof(trickyString, fc.string({ unit: "binary", maxLength: 140 }), ordinaryId);
      checkProperty("device ids: id check", id, (id) => {
        const problem = deviceIdProblem(id);
        if (problem !== undefined) {
          assert.ok(problem.length > 0);
          return;
        }
        assert.deepEqual(unsafety(id, "foxtail"), [], JSON.stringify(id));
      }, 4000);
    },
  );

  test("ordinary ids are accepted", PROPERTY_TEST, () => {
    checkProperty("device ids: ordinary ids", ordinaryId, (id) => {
      assert.equal(deviceIdProblem(id), undefined, JSON.stringify(id));
    }, 1000);
  });

  test("the pattern extracts exactly the {device} level, like a split would", PROPERTY_TEST, () => {
    const level = fc.oneof(
      fc.constantFrom("sensors", "telemetry", "+", "{device}", "site", ""),
      fc.string({ unit: fc.constantFrom("a", "b", "/", "+", "#", "{", "}"), maxLength: 4 }),
    );
    const pattern = fc.array(level, { minLength: 1, maxLength: 4 })
      .map((levels) => levels.join("/"))
      .filter((p) => DeviceTopicPattern.problem(p) === undefined);
    const topicFor = (p: string) =>
      fc.oneof(
        fc.array(fc.oneof(trickyString, fc.constantFrom(...p.split("/"))), { maxLength: 5 })
          .map((levels) => levels.join("/")),
        fc.string({ unit: "binary", maxLength: 40 }),
        trickyString.map((id) => p.replace("{device}", id).replaceAll("+", "x")),
      );
    const run = pattern.chain((p) => fc.tuple(fc.constant(p), topicFor(p)));
    checkProperty("device ids: pattern matching", run, ([p, topic]) => {
      assert.equal(new DeviceTopicPattern(p).match(topic), referenceMatch(p, topic));
    }, 3000);
  });

  test(
    "through the engine, only safe ids become devices and name outgoing topics",
    PROPERTY_TEST,
    () => {
      const topic = fc.oneof(
        trickyString.map((id) => `sensors/${id}/telemetry`),
        fc.string({ unit: "binary", maxLength: 60 }).map((id) => `sensors/${id}/telemetry`),
        fc.string({ unit: "binary", maxLength: 60 }),
        ordinaryId.map((id) => `sensors/${id}/telemetry`),
      );
      const payload = encoder.encode('{"t":21,"h":40,"power":{"v":3.3}}');
      checkProperty(
        "device ids: through the engine",
        fc.array(topic, { minLength: 1, maxLength: 20 }),
        (topics) => {
          const ids: string[] = [];
          const config = validateGatewayConfig(smallConfig({ limits: { maxDevices: 64 } }));
          const engine = new GatewayEngine(config, {
            score: (device) => ids.push(device),
            alert: () => {},
          });
          for (const t of topics) {
            engine.receive(t, payload, 1);
            engine.drain();
            const c = engine.counters();
            assert.equal(
              c.accepted + c.rejected["unmatched-topic"] + c.rejected["bad-device-id"],
              c.messages,
            );
          }
          for (const id of ids) {
            assert.deepEqual(unsafety(id, config.mqtt.topicPrefix), [], JSON.stringify(id));
          }
          for (const d of engine.devices()) {
            assert.equal(deviceIdProblem(d.id), undefined);
            assert.equal(
              referenceMatch("sensors/{device}/telemetry", `sensors/${d.id}/telemetry`),
              d.id,
            );
          }
        },
        600,
      );
    },
  );

  test("regressions found by the properties", PROPERTY_TEST, () => {
    for (
      const [id, why] of [
        [".", "a dot segment as a file name or URL segment"],
        ["a\\..\\b", "a Windows path"],
        ["a\\b", "a Windows path separator"],
        ["\ud800", "a lone surrogate: no UTF-8 form, MQTT.js would publish U+FFFD instead"],
        ["x\udc00y", "a lone low surrogate"],
        ["\ufffe", "a noncharacter that mosquitto refuses in a topic"],
        ["\ufdd0", "a noncharacter that mosquitto refuses in a topic"],
        ["\udbff\udfff", "U+10FFFF, a noncharacter"],
      ]
    ) {
      assert.notEqual(deviceIdProblem(id), undefined, `${JSON.stringify(id)}: ${why}`);
    }
    // Surrogate pairs are fine: they are ordinary characters beyond the BMP.
    assert.equal(deviceIdProblem("pump-\ud83d\ude00"), undefined);
  });
});
