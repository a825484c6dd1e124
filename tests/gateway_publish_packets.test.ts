// The gateway's ready-made QoS 0 PUBLISH packets: byte lengths as TextEncoder writes them, and
// batches written straight to a client's socket that mosquitto and aedes parse into exactly the
// messages meant (MQTT 3.1.1 and 5; one-, two- and three-byte remaining lengths; UTF-8 topics).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import mqtt from "mqtt";
import { PACKET_BATCH_BYTES, PublishPacketBatch, utf8Length } from "../adapters/mqtt/mod.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { startMosquitto } from "./support/mosquitto.ts";

const SLOW = { timeout: 120_000 };

describe("utf8Length", () => {
  test("equals TextEncoder's byte count for any string, lone surrogates included", () => {
    const encoder = new TextEncoder();
    fc.assert(
      // Whole code points, and raw UTF-16 units (which make lone surrogates).
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.array(fc.integer({ min: 0, max: 0xffff })).map((units) =>
            String.fromCharCode(...units)
          ),
        ),
        (text) => {
          assert.equal(utf8Length(text), encoder.encode(text).length);
        },
      ),
      { numRuns: 2000 },
    );
    for (const text of ["", "a", "é", "€", "😀", "\ud800", "\udc00x", "a\ud83d"]) {
      assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
    }
  });
});

describe("PublishPacketBatch", () => {
  test("refuses what does not fit, appends nothing then, and starts afresh after take()", () => {
    const batch = new PublishPacketBatch(4);
    assert.equal(batch.append("t", "x".repeat(PACKET_BATCH_BYTES)), false);
    assert.equal(batch.packets, 0);
    assert.equal(batch.length, 0);
    assert.equal(batch.append("t".repeat(0x10000), "x"), false, "a topic over 65,535 bytes");
    const body = "y".repeat(1000);
    let appended = 0;
    while (batch.append("a/b", body)) appended++;
    assert.equal(appended, Math.floor(PACKET_BATCH_BYTES / batch.packetSize(3, 1000)));
    assert.equal(batch.length, appended * batch.packetSize(3, 1000));
    const bytes = batch.take();
    assert.equal(bytes.length, appended * batch.packetSize(3, 1000));
    assert.deepEqual([...bytes.subarray(0, 7)], [0x30, 0xed, 0x07, 0, 3, 0x61, 0x2f]);
    assert.equal(batch.packets, 0);
    assert.ok(batch.append("a/b", body));
  });

  // Each message: topic, body. Sizes chosen for 1-, 2- and 3-byte remaining lengths.
  const messages: [string, string][] = [
    ["foxtail/pump-1/score", '{"ts":1,"score":0.5,"threshold":null,"anomaly":false}'],
    ["foxtail/капля/score", "température 21 °C, 😀"],
    ["foxtail/x/score", ""],
    ["foxtail/long/score", "z".repeat(200)],
    ["foxtail/longer/score", "w".repeat(20_000)],
  ];
  const brokers = [
    { name: "mosquitto, MQTT 3.1.1", start: startMosquitto, protocolVersion: 4 as const },
    { name: "mosquitto, MQTT 5", start: startMosquitto, protocolVersion: 5 as const },
    { name: "aedes, MQTT 3.1.1", start: startBroker, protocolVersion: 4 as const },
  ];
  for (const { name, start, protocolVersion } of brokers) {
    test(
      `a batch written to the socket arrives as its messages, in order (${name})`,
      SLOW,
      async () => {
        const broker = await start();
        const publisher = await mqtt.connectAsync(broker.url, { protocolVersion });
        const subscriber = await mqtt.connectAsync(broker.url, { protocolVersion });
        try {
          const received: [string, string][] = [];
          const all = new Promise<void>((resolve) => {
            subscriber.on("message", (topic, payload) => {
              received.push([topic, new TextDecoder().decode(payload)]);
              if (received.length === 2 * messages.length) resolve();
            });
          });
          await subscriber.subscribeAsync("foxtail/#");
          const batch = new PublishPacketBatch(protocolVersion);
          // Two batches: the second after the first left, to see packets split across writes.
          for (const [topic, body] of messages) assert.ok(batch.append(topic, body));
          publisher.stream.write(batch.take());
          for (const [topic, body] of messages) assert.ok(batch.append(topic, body));
          publisher.stream.write(batch.take());
          await all;
          assert.deepEqual(received, [...messages, ...messages]);
          // The publisher's connection is still good: MQTT.js publishes on it as before.
          const more = new Promise<string>((resolve) =>
            subscriber.once("message", (topic) => resolve(topic))
          );
          await publisher.publishAsync("foxtail/after/score", "1", { qos: 1 });
          assert.equal(await more, "foxtail/after/score");
        } finally {
          await publisher.endAsync();
          await subscriber.endAsync();
          await broker.close();
        }
      },
    );
  }
});
