// A broker that stops reading the gateway's scores (a proxy between them stops reading one way)
// must not grow the gateway's memory: past SEND_BUFFER_LIMIT the gateway stops scoring, its
// bounded queue drops the oldest telemetry (counted), and once the broker reads again every
// accepted message's score arrives.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { PACKET_BATCH_BYTES } from "../adapters/mqtt/mod.ts";
import { SEND_BUFFER_LIMIT } from "../adapters/mqtt/mod.ts";
import { startMosquitto } from "./support/mosquitto.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";

const SLOW = { timeout: 180_000 };

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP proxy to `port` whose client-to-broker direction can stop being read. */
async function startProxy(port: number) {
  const clients: Socket[] = [];
  let reading = true;
  const server: Server = createServer((down) => {
    const up = connect(port, "127.0.0.1");
    clients.push(down);
    down.on("data", (chunk) => up.write(chunk));
    up.on("data", (chunk) => down.write(chunk));
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
    down.on("error", () => {});
    up.on("error", () => {});
    if (!reading) down.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no proxy port");
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    /** Stops (false) or resumes (true) reading what clients send. */
    read(on: boolean) {
      reading = on;
      for (const socket of clients) on ? socket.resume() : socket.pause();
    },
    close: () => {
      for (const socket of clients) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("gateway back-pressure from a slow broker", () => {
  test(
    "scoring pauses at the send-buffer limit, the queue drops and counts, nothing accepted is lost",
    SLOW,
    async () => {
      const broker = await startMosquitto({ extraConfig: ["max_queued_messages 1000000"] });
      const proxy = await startProxy(broker.port);
      const dir = mkdtempSync(join(tmpdir(), "foxtail-backpressure-"));
      const queueCapacity = 256;
      const config = validateGatewayConfig(smallConfig({
        mqtt: { url: proxy.url, topicPrefix: "foxtail" },
        snapshots: { dir: join(dir, "state"), intervalSeconds: 0, keep: 1 },
        limits: { maxDevices: 8, queueCapacity, historyPoints: 32 },
      }));
      const gateway = new GatewayRunner(config, { log: () => {} });
      const sensor = await mqtt.connectAsync(broker.url);
      const watcher = await mqtt.connectAsync(broker.url);
      let scores = 0;
      watcher.on("message", () => scores++);
      try {
        await watcher.subscribeAsync("foxtail/+/score");
        gateway.start();
        await until(() => gateway.link.stats().connected, "the gateway to connect");
        // Subscribed: a first message comes back scored.
        const signal = new SensorSignal(3);
        let warmUp = 0;
        await until(() => {
          sensor.publish("sensors/warmup/telemetry", Buffer.from(signal.next()));
          warmUp++;
          return scores > 0;
        }, "a first score");
        await until(() => gateway.engine.counters().accepted === warmUp, "the warm-up scored");
        await until(() => scores === warmUp, "the warm-up's scores");
        const before = gateway.engine.counters();
        const scoresBefore = scores;

        proxy.read(false); // the broker no longer reads the gateway
        let published = 0;
        let largestBuffer = 0;
        const batch = 500;
        // Publish until the gateway has paused for congestion and dropped telemetry, with a ceiling.
        while (
          (gateway.link.stats().sendPauses === 0 || gateway.engine.counters().dropped === 0) &&
          published < 400_000
        ) {
          for (let i = 0; i < batch; i++) {
            sensor.publish(`sensors/d${i % 4}/telemetry`, Buffer.from(signal.next()));
          }
          published += batch;
          await until(
            () => gateway.engine.counters().messages - before.messages === published,
            "the gateway to receive what was published",
          );
          largestBuffer = Math.max(largestBuffer, gateway.link.sendBufferBytes);
        }
        assert.ok(gateway.link.stats().sendPauses > 0, "scoring paused");
        assert.ok(gateway.link.congested);
        const during = gateway.engine.counters();
        assert.ok(during.dropped > 0, "the queue dropped the oldest telemetry");
        assert.ok(gateway.engine.queued <= queueCapacity);
        // The send buffer stayed bounded: at most one batch of scores past the limit.
        assert.ok(
          largestBuffer <= SEND_BUFFER_LIMIT + PACKET_BATCH_BYTES,
          `send buffer ${largestBuffer} bytes`,
        );

        proxy.read(true); // the broker reads again
        await until(() => gateway.engine.queued === 0, "the queue to empty");
        const after = gateway.engine.counters();
        const accepted = after.accepted - before.accepted;
        const dropped = after.dropped - before.dropped;
        assert.equal(accepted + dropped, published, "every message scored or dropped");
        await until(() => scores - scoresBefore === accepted, "every accepted message's score");
        assert.equal(gateway.link.stats().scoresSkipped, 0);
      } finally {
        await gateway.stop();
        await sensor.endAsync();
        await watcher.endAsync();
        await proxy.close();
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
