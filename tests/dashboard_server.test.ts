import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { type DashboardServer, startDashboard } from "../adapters/dashboard/mod.ts";
import { startBroker } from "./support/mqtt_broker.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";
import { parsePrometheusText } from "./support/prometheus_text.ts";
import {
  CountingView,
  OfflineGateway,
  SseReader,
  until,
  XSS_DEVICE,
  XSS_MARKERS,
} from "./support/dashboard_fixtures.ts";

const TOKEN = "s3cret-token-0123456789";

async function metric(server: DashboardServer, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return parsePrometheusText(text).get(name)?.samples[0]?.value;
}

describe("dashboard server (the runtime's own HTTP server)", () => {
  test("port 0 picks a free loopback port; JSON, page and health answer over HTTP", async () => {
    const g = new OfflineGateway();
    let server: DashboardServer | undefined;
    try {
      g.feed(XSS_DEVICE, 3);
      server = await startDashboard(g.gateway, { port: 0 });
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/, "loopback by default");
      assert.ok(server.port > 0);
      assert.equal(new URL(server.url).port, String(server.port));
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { ok: true });
      const devices = await (await fetch(`${server.url}/api/devices`)).json();
      assert.equal(devices.devices[0].id, XSS_DEVICE);
      assert.equal(devices.devices[0].messages, 3);
      const page = await fetch(`${server.url}/`);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      const html = await page.text();
      for (const marker of XSS_MARKERS) assert.ok(!html.includes(marker));
      const missing = await fetch(`${server.url}/nope`);
      assert.equal(missing.status, 404);
      assert.match((await missing.json()).error, /no such endpoint/);

      // A second dashboard on the same port is refused with a clear error.
      await assert.rejects(
        startDashboard(g.gateway, { port: server.port }),
        new RegExp(`cannot serve the dashboard on 127\\.0\\.0\\.1:${server.port}`),
      );
    } finally {
      await server?.close();
      g.dispose();
    }
  });

  test("401, 403 and 413 over HTTP", async () => {
    const g = new OfflineGateway();
    const servers: DashboardServer[] = [];
    try {
      g.learn("boiler");
      const open = await startDashboard(g.gateway, { port: 0 });
      servers.push(open);
      const guarded = await startDashboard(g.gateway, { port: 0, token: TOKEN, maxBodyBytes: 64 });
      servers.push(guarded);
      const snapshot = (server: DashboardServer, headers: Record<string, string>) =>
        fetch(`${server.url}/api/snapshot`, { method: "POST", headers });
      const disabled = await snapshot(open, { Authorization: `Bearer ${TOKEN}` });
      assert.equal(disabled.status, 403);
      assert.match((await disabled.json()).error, /disabled/);
      const refusals: Record<string, string>[] = [{}, { Authorization: "Bearer not-the-token" }];
      for (const headers of refusals) {
        const refused = await snapshot(guarded, headers);
        assert.equal(refused.status, 401);
        assert.match((await refused.json()).error, /token/);
      }
      const ok = await snapshot(guarded, { Authorization: `Bearer ${TOKEN}` });
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).at, g.gateway.status().lastSnapshotAt);
      const big = await fetch(`${guarded.url}/api/devices/boiler/threshold`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ threshold: 1, pad: "x".repeat(100) }),
      });
      assert.equal(big.status, 413);
      assert.match((await big.json()).error, /larger than 64 bytes/);
    } finally {
      for (const server of servers) await server.close();
      g.dispose();
    }
  });

  test("MQTT telemetry in, a score event out; the subscription ends with the client", async () => {
    const broker = await startBroker();
    const dir = mkdtempSync(join(tmpdir(), "foxtail-dashboard-"));
    const config = validateGatewayConfig(smallConfig({
      mqtt: { url: broker.url, topicPrefix: "ft", reconnectMinMs: 50 },
      snapshots: { dir, intervalSeconds: 0, keep: 2 },
    }));
    const gateway = new GatewayRunner(config, { log: () => {} });
    const view = new CountingView(gateway);
    const sensor = await mqtt.connectAsync(broker.url);
    let server: DashboardServer | undefined;
    const client = new AbortController();
    try {
      gateway.start();
      await gateway.link.whenConnected();
      server = await startDashboard(view, { port: 0 });
      const response = await fetch(`${server.url}/api/events`, { signal: client.signal });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const sse = new SseReader(response.body!);
      await sse.until((r) => r.named("status").length > 0, "the first status event");
      assert.equal(view.subscribers, 1);

      // The gateway subscribes right after connecting: publish until a message gets through.
      const signal = new SensorSignal(5);
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          await sensor.publishAsync("sensors/kettle/telemetry", Buffer.from(signal.next()), {
            qos: 1,
          });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      try {
        await sse.until((r) => r.named("score").length > 0, "a score event");
      } finally {
        publishing = false;
        await publisher;
      }
      const score = sse.named("score")[0];
      assert.equal(score.device, "kettle");
      assert.equal(score.phase, "mapping");
      assert.equal(typeof score.ts, "number");
      assert.equal(await metric(server, "foxtail_dashboard_event_clients"), 1);

      client.abort();
      await until(() => view.subscribers === 0, "the unsubscription after the client left");
      assert.equal(await metric(server, "foxtail_dashboard_event_clients"), 0);
    } finally {
      client.abort();
      await server?.close();
      await gateway.stop();
      await sensor.endAsync();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("close() ends the open event streams and stops listening", async () => {
    const g = new OfflineGateway();
    const view = new CountingView(g.gateway);
    const server = await startDashboard(view, { port: 0 });
    try {
      const readers = await Promise.all([0, 1].map(async () => {
        const sse = new SseReader((await fetch(`${server.url}/api/events`)).body!);
        await sse.until((r) => r.named("status").length > 0, "the first status event");
        return sse;
      }));
      assert.equal(view.subscribers, 2);
      await server.close();
      await Promise.all(readers.map((r) => r.until((s) => s.done, "the end of the stream")));
      assert.equal(view.subscribers, 0);
      await assert.rejects(fetch(`${server.url}/healthz`));
      await server.close(); // a second close is harmless
    } finally {
      await server.close();
      g.dispose();
    }
  });

  test("a client that stops reading is cut off and counted; memory does not follow it", async () => {
    const g = new OfflineGateway();
    const view = new CountingView(g.gateway);
    const eventBuffer = 32;
    const server = await startDashboard(view, { port: 0, eventBuffer });
    const { port } = server;
    const socket = connect({ host: "127.0.0.1", port });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      socket.pause(); // never reads: the kernel buffers fill, then the server's write waits
      await until(() => view.subscribers === 1, "the stream to open");
      // A client that reads, fed the same events, for comparison.
      const reader = new SseReader((await fetch(`${server.url}/api/events`)).body!);
      await reader.until((r) => r.named("status").length > 0, "the reader's first status event");
      let sent = 0;
      let finished = false;
      const reading = reader.until(() => finished, "the end of the test", 120_000);
      // A few 16 KB events at a time, well within the buffer, so only a client that does not
      // read at all falls behind: the socket buffers fill after some MB, then its event buffer.
      const path = "x".repeat(16 * 1024);
      await until(
        async () => {
          for (let i = 0; i < 4; i++) view.emit({ type: "snapshot", path, at: sent++ });
          await new Promise((resolve) => setTimeout(resolve, 1));
          return view.subscribers === 1;
        },
        "the slow client to be dropped",
        60_000,
      );
      await until(() => reader.named("snapshot").length === sent, "every event at the reader");
      finished = true;
      await reading;
      assert.ok(sent * path.length > 1e6, `dropped after ${sent} events, not at once`);
      await reader.cancel();
      assert.equal(await metric(server, "foxtail_dashboard_event_clients_dropped_total"), 1);
      assert.equal(await metric(server, "foxtail_dashboard_event_clients"), 0);
      // The rest of the dashboard never noticed.
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      socket.destroy();
      await server.close();
      g.dispose();
    }
  });
});
