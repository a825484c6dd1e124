import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createDashboardApp } from "../adapters/dashboard/mod.ts";
import { BearerToken } from "../adapters/dashboard/mod.ts";
import { checkHistogram, parsePrometheusText } from "./support/prometheus_text.ts";
import {
  CountingView,
  OfflineGateway,
  SseReader,
  XSS_DEVICE,
  XSS_FIELD,
  XSS_MARKERS,
} from "./support/dashboard_fixtures.ts";

const TOKEN = "s3cret-token-0123456789";

/** A learned device "boiler" that has raised one alert, and a second device still learning. */
function busyGateway(): OfflineGateway {
  const g = new OfflineGateway();
  g.learn("boiler");
  assert.ok(g.fault("boiler"), "the fault raises an alert");
  g.feed("pump", 5);
  return g;
}

async function body(response: Response) {
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return await response.json();
}

describe("dashboard app: reading endpoints", () => {
  test("status, devices, scores, alerts, health and unknown routes as JSON", async () => {
    const g = busyGateway();
    try {
      const app = createDashboardApp(g.gateway);
      const status = await body(await app.request("/api/status"));
      const counters = g.gateway.status().counters;
      assert.equal(status.counters.messages, counters.messages);
      assert.equal(status.counters.accepted, counters.accepted);
      assert.equal(status.counters.anomalies, 1);
      assert.equal(status.devices, 2);
      assert.equal(status.lastSnapshotError, null);
      assert.equal(typeof status.now, "number");
      assert.equal(status.dashboard.eventClients, 0);

      const { devices } = await body(await app.request("/api/devices"));
      assert.deepEqual(devices.map((d: { id: string }) => d.id).sort(), ["boiler", "pump"]);
      const boiler = devices.find((d: { id: string }) => d.id === "boiler");
      for (const key of ["id", "phase", "score", "threshold", "progress", "messages"]) {
        assert.ok(key in boiler, `devices[] has ${key}`);
      }
      assert.equal(boiler.phase, "executing");
      assert.equal(boiler.progress, 1);
      assert.ok(boiler.threshold > 0);
      const pump = devices.find((d: { id: string }) => d.id === "pump");
      assert.equal(pump.phase, "mapping");
      assert.equal(pump.threshold, null);

      const history = g.gateway.config.limits.historyPoints;
      const all = await body(await app.request("/api/devices/boiler/scores"));
      assert.equal(all.device, "boiler");
      assert.equal(all.points.length, history);
      const last3 = await body(await app.request("/api/devices/boiler/scores?limit=3"));
      assert.deepEqual(last3.points, all.points.slice(-3));
      assert.equal(last3.points[2].anomaly, true);
      assert.ok(last3.points[2].score > last3.points[2].threshold);

      const unknown = await app.request("/api/devices/nobody/scores");
      assert.equal(unknown.status, 404);
      assert.match((await body(unknown)).error, /unknown device "nobody"/);
      for (const bad of ["abc", "0", "-2", "1.5"]) {
        const r = await app.request(`/api/devices/boiler/scores?limit=${bad}`);
        assert.equal(r.status, 400);
        const { error } = await body(r);
        assert.match(error, /^limit: /);
        assert.ok(error.includes(JSON.stringify(bad)), error);
      }

      const { alerts } = await body(await app.request("/api/alerts"));
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0].device, "boiler");
      assert.equal(alerts[0].score, last3.points[2].score);
      assert.ok(alerts[0].attribution.features.length > 0);
      assert.ok(alerts[0].attribution.features.every((f: string) => ["t", "h", "v"].includes(f)));

      assert.deepEqual(await body(await app.request("/healthz")), { ok: true });
      const missing = await app.request("/api/nothing");
      assert.equal(missing.status, 404);
      assert.match((await body(missing)).error, /GET \/api\/nothing/);
      const wrongMethod = await app.request("/api/devices", { method: "DELETE" });
      assert.equal(wrongMethod.status, 404);
      assert.equal(wrongMethod.headers.get("x-content-type-options"), "nosniff");
    } finally {
      g.dispose();
    }
  });

  test("the page is self-contained and locked down by a per-response CSP nonce", async () => {
    const g = busyGateway();
    try {
      const app = createDashboardApp(g.gateway);
      const first = await app.request("/");
      assert.equal(first.status, 200);
      assert.match(first.headers.get("content-type") ?? "", /^text\/html/);
      const html = await first.text();
      const csp = first.headers.get("content-security-policy") ?? "";
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce, csp);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(html.match(/<script\b/g)?.length, 1, "one inline script");
      assert.ok(html.includes(`<script nonce="${nonce}">`));
      assert.ok(html.includes(`<style nonce="${nonce}">`));
      assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//, "nothing from another origin");
      for (const hook of ['data-counter="messages"', 'data-counter="dropped"', 'id="devices"']) {
        assert.ok(html.includes(hook), hook);
      }
      for (const endpoint of ["/api/status", "/api/devices", "/api/events", "/api/alerts"]) {
        assert.ok(html.includes(`"${endpoint}`), `the script uses ${endpoint}`);
      }
      const second = await app.request("/");
      assert.notEqual(second.headers.get("content-security-policy"), csp, "a fresh nonce");
    } finally {
      g.dispose();
    }
  });
});

describe("dashboard app: any detector type", () => {
  test("a Half-Space Trees stream: devices, scores, alerts and metrics as for KitNET", async () => {
    // Learning as long as the fixtures' KitNET: a 40-reading warm-up and a window of 200.
    const g = new OfflineGateway(["t", "h", "v"], { type: "hst", warmUp: 40, window: 200 });
    try {
      g.learn("boiler");
      assert.ok(g.fault("boiler"), "the fault raises an alert");
      g.feed("pump", 5);
      const app = createDashboardApp(g.gateway);
      const { devices } = await body(await app.request("/api/devices"));
      const boiler = devices.find((d: { id: string }) => d.id === "boiler");
      assert.equal(boiler.phase, "executing");
      assert.equal(boiler.progress, 1);
      assert.ok(boiler.threshold > 1, "a calibrated threshold (scores are at least 1)");
      assert.equal(devices.find((d: { id: string }) => d.id === "pump").phase, "mapping");
      const { points } = await body(await app.request("/api/devices/boiler/scores?limit=1"));
      assert.equal(points[0].anomaly, true, JSON.stringify(points[0]));
      assert.ok(points[0].score > points[0].threshold);
      const { alerts } = await body(await app.request("/api/alerts"));
      assert.equal(alerts.length, 1);
      assert.deepEqual(
        alerts[0].attribution.errors.map((e: { feature: string }) => e.feature).sort(),
        ["h", "t", "v"],
      );
      const metrics = await (await app.request("/metrics")).text();
      assert.match(metrics, /foxtail_anomalies_total 1\b/);
    } finally {
      g.dispose();
    }
  });
});

describe("dashboard app: changing the gateway", () => {
  test("disabled (403) without a configured token; nothing changes", async () => {
    const g = busyGateway();
    try {
      const app = createDashboardApp(g.gateway);
      const auth = { Authorization: `Bearer ${TOKEN}` };
      const calls: [string, string, string?][] = [
        ["POST", "/api/snapshot"],
        ["POST", "/api/devices/boiler/reset"],
        ["PUT", "/api/devices/boiler/threshold", '{"threshold":1}'],
      ];
      const threshold = g.gateway.devices().find((d) => d.id === "boiler")!.threshold;
      for (const [method, path, text] of calls) {
        const r = await app.request(path, { method, headers: auth, body: text });
        assert.equal(r.status, 403, path);
        assert.match((await body(r)).error, /disabled.*dashboard\.token/);
      }
      assert.equal(g.gateway.store.sequences().length, 0, "no snapshot written");
      assert.equal(g.gateway.devices().find((d) => d.id === "boiler")!.threshold, threshold);
    } finally {
      g.dispose();
    }
  });

  test("401 without or with a wrong token; snapshot, threshold and reset with it", async () => {
    const g = busyGateway();
    try {
      const app = createDashboardApp(g.gateway, { token: TOKEN });
      const wrong = [
        undefined,
        "",
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.toUpperCase()}`,
        `Basic ${TOKEN}`,
        TOKEN,
        "Bearer",
      ];
      for (const header of wrong) {
        const headers: Record<string, string> = header === undefined
          ? {}
          : { Authorization: header };
        const r = await app.request("/api/snapshot", { method: "POST", headers });
        assert.equal(r.status, 401, `Authorization: ${header}`);
        assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
        assert.match((await body(r)).error, /token/);
      }
      assert.equal(g.gateway.store.sequences().length, 0);

      const auth = { Authorization: `Bearer ${TOKEN}` };
      const snap = await body(
        await app.request("/api/snapshot", { method: "POST", headers: auth }),
      );
      assert.ok(existsSync(snap.path));
      assert.equal(g.gateway.store.sequences().length, 1);
      assert.equal(snap.at, g.gateway.status().lastSnapshotAt);

      const put = (id: string, text: string) =>
        app.request(`/api/devices/${encodeURIComponent(id)}/threshold`, {
          method: "PUT",
          headers: { ...auth, "Content-Type": "application/json" },
          body: text,
        });
      const calibrated = g.gateway.devices().find((d) => d.id === "boiler")!.threshold!;
      const set = await put("boiler", JSON.stringify({ threshold: calibrated * 10 }));
      assert.deepEqual(await body(set), { device: "boiler", threshold: calibrated * 10 });
      const boiler = () => g.gateway.devices().find((d) => d.id === "boiler");
      assert.equal(boiler()!.threshold, calibrated * 10);
      await put("boiler", '{"threshold":null}');
      assert.equal(boiler()!.threshold, calibrated, "null goes back to the calibrated one");

      const refusals: [string, RegExp][] = [
        ['{"threshold":"abc"}', /^threshold: .*got "abc"$/],
        ['{"threshold":-1}', /^threshold: .*got -1$/],
        ['{"threshold":0}', /^threshold: .*got 0$/],
        ["{}", /^threshold: .*got nothing$/],
        ['{"threshold":1,"extra":2}', /^body: unknown key "extra"$/],
        ["[1]", /^body: expected a JSON object, got \[1\]$/],
        ["not json", /^body: expected JSON .*got "not json"$/],
      ];
      for (const [text, error] of refusals) {
        const r = await put("boiler", text);
        assert.equal(r.status, 400, text);
        assert.match((await body(r)).error, error);
      }
      assert.equal(boiler()!.threshold, calibrated, "refused bodies change nothing");
      const ghost = await put("ghost", '{"threshold":1}');
      assert.equal(ghost.status, 404);
      assert.match((await body(ghost)).error, /"ghost"/);

      const reset = await app.request("/api/devices/boiler/reset", {
        method: "POST",
        headers: auth,
      });
      assert.deepEqual(await body(reset), { device: "boiler", reset: true });
      assert.equal(boiler(), undefined);
      const again = await app.request("/api/devices/boiler/reset", {
        method: "POST",
        headers: auth,
      });
      assert.equal(again.status, 404);
    } finally {
      g.dispose();
    }
  });

  test("bodies above the limit get 413, with or without a Content-Length", async () => {
    const g = busyGateway();
    try {
      const maxBodyBytes = 256;
      const app = createDashboardApp(g.gateway, { token: TOKEN, maxBodyBytes });
      const headers = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };
      const path = "/api/devices/boiler/threshold";
      const fits = JSON.stringify({ threshold: 1 }).padEnd(maxBodyBytes, " ");
      assert.equal((await app.request(path, { method: "PUT", headers, body: fits })).status, 200);
      const big = fits + " ";
      const sized = await app.request(path, { method: "PUT", headers, body: big });
      assert.equal(sized.status, 413);
      assert.match((await body(sized)).error, new RegExp(`larger than ${maxBodyBytes} bytes`));

      // Chunked: no Content-Length, so the limit is enforced while reading.
      const chunks = [big.slice(0, 100), big.slice(100)].map((s) => new TextEncoder().encode(s));
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(next);
        },
      });
      const chunked = await app.request(path, {
        method: "PUT",
        headers,
        body: stream,
        duplex: "half",
      } as RequestInit);
      assert.equal(chunked.status, 413);
      assert.equal(g.gateway.devices().find((d) => d.id === "boiler")!.threshold, 1);
    } finally {
      g.dispose();
    }
  });

  test("the token check accepts exactly the token", () => {
    const token = new BearerToken(TOKEN);
    assert.equal(token.accepts(`Bearer ${TOKEN}`), true);
    assert.equal(token.accepts(`bearer   ${TOKEN}`), true, "the scheme is case-insensitive");
    for (const header of [undefined, null, "", TOKEN, `Bearer ${TOKEN} x`, `Bearer ${TOKEN}\n`]) {
      assert.equal(token.accepts(header), false, String(header));
    }
    assert.throws(() => new BearerToken(""), /must not be empty/);
  });
});

describe("dashboard app: event stream", () => {
  test("score, alert and snapshot events; unsubscribes when the client goes away", async () => {
    const shutdown = new AbortController(); // ends open streams and their timers
    const g = new OfflineGateway();
    try {
      const view = new CountingView(g.gateway);
      const app = createDashboardApp(view, { token: TOKEN, shutdown: shutdown.signal });
      const response = await app.request("/api/events");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const sse = new SseReader(response.body!);
      await sse.until((r) => r.named("status").length > 0, "the first status event");
      assert.match(sse.text, /^retry: \d+\n/);
      assert.equal(sse.named("status")[0].status.devices, 0);
      assert.equal(view.subscribers, 1);

      g.learn("boiler");
      assert.ok(g.fault("boiler"));
      const scored = g.gateway.status().counters.accepted;
      await sse.until((r) => r.named("score").length === scored, "every score event");
      const scores = sse.named("score");
      assert.deepEqual(Object.keys(scores[0]).sort(), [
        "anomaly",
        "device",
        "phase",
        "score",
        "threshold",
        "ts",
        "type",
      ]);
      assert.equal(scores[0].phase, "mapping");
      assert.equal(scores.at(-1).anomaly, true);
      await sse.until((r) => r.named("alert").length === 1, "the alert event");
      assert.deepEqual(sse.named("alert")[0].alert, g.gateway.recentAlerts()[0]);
      await app.request("/api/snapshot", {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      await sse.until((r) => r.named("snapshot").length === 1, "the snapshot event");
      assert.equal(sse.named("snapshot")[0].at, g.gateway.status().lastSnapshotAt);

      await sse.cancel();
      assert.equal(view.subscribers, 0, "unsubscribed");
      const metrics = parsePrometheusText(await (await app.request("/metrics")).text());
      assert.equal(metrics.get("foxtail_dashboard_event_clients")!.samples[0].value, 0);
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });

  test("status events on a timer, keep-alive comments", async () => {
    const shutdown = new AbortController(); // ends open streams and their timers
    const g = new OfflineGateway();
    try {
      const app = createDashboardApp(g.gateway, {
        keepAliveMs: 20,
        statusIntervalMs: 30,
        shutdown: shutdown.signal,
      });
      const sse = new SseReader((await app.request("/api/events")).body!);
      await sse.until((r) => r.named("status").length >= 1, "a status event");
      g.feed("boiler", 3);
      await sse.until(
        (r) =>
          r.named("status").some((s) => s.devices.some((d: { id: string }) => d.id === "boiler")),
        "a status event listing the new device",
      );
      await sse.until((r) => r.comments.includes("keep-alive"), "a keep-alive comment");
      await sse.cancel();
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });

  test("a client that does not read is cut off at its buffer, counted, and unsubscribed", async () => {
    const shutdown = new AbortController(); // ends open streams and their timers
    const g = new OfflineGateway();
    try {
      const view = new CountingView(g.gateway);
      const eventBuffer = 8;
      const app = createDashboardApp(view, { eventBuffer, shutdown: shutdown.signal });
      const response = await app.request("/api/events"); // never read
      assert.equal(view.subscribers, 1);
      for (let i = 0; i < eventBuffer * 4 && view.subscribers > 0; i++) g.feed("boiler");
      assert.equal(view.subscribers, 0, "dropped after at most a buffer's worth of events");
      const metrics = parsePrometheusText(await (await app.request("/metrics")).text());
      assert.equal(
        metrics.get("foxtail_dashboard_event_clients_dropped_total")!.samples[0].value,
        1,
      );
      assert.equal(metrics.get("foxtail_dashboard_event_clients")!.samples[0].value, 0);
      // What the client still gets is bounded, then the stream ends.
      const sse = new SseReader(response.body!);
      await sse.until((r) => r.done, "the end of the dropped stream");
      assert.ok(sse.events.length <= eventBuffer, `${sse.events.length} events`);
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });

  test("at most maxEventClients streams; shutdown ends them and refuses new ones", async () => {
    const shutdown = new AbortController(); // ends open streams and their timers
    const g = new OfflineGateway();
    try {
      const app = createDashboardApp(g.gateway, { maxEventClients: 2, shutdown: shutdown.signal });
      const open = [await app.request("/api/events"), await app.request("/api/events")];
      const refused = await app.request("/api/events");
      assert.equal(refused.status, 503);
      assert.match((await body(refused)).error, /at most 2/);
      const metrics = parsePrometheusText(await (await app.request("/metrics")).text());
      assert.equal(metrics.get("foxtail_dashboard_event_clients")!.samples[0].value, 2);
      assert.equal(
        metrics.get("foxtail_dashboard_event_clients_refused_total")!.samples[0].value,
        1,
      );

      const readers = open.map((r) => new SseReader(r.body!));
      await Promise.all(readers.map((r) => r.until((s) => s.named("status").length > 0, "status")));
      shutdown.abort();
      await Promise.all(readers.map((r) => r.until((s) => s.done, "the end at shutdown")));
      assert.equal((await app.request("/api/events")).status, 503);
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });
});

describe("dashboard app: /metrics", () => {
  test("Prometheus text: HELP and TYPE for every family, values of the gateway", async () => {
    const g = busyGateway();
    try {
      g.gateway.engine.receive("sensors/pump/telemetry", new TextEncoder().encode("{"), 0);
      g.gateway.engine.drain();
      const app = createDashboardApp(g.gateway);
      const response = await app.request("/metrics");
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const families = parsePrometheusText(await response.text());
      for (const family of families.values()) {
        assert.ok(family.help.length > 0, `${family.name} has HELP`);
        if (family.type === "counter") assert.match(family.name, /_total$/);
      }
      const value = (name: string, labels: Record<string, string> = {}) =>
        families.get(name)?.samples.find((s) =>
          Object.entries(labels).every(([k, v]) => s.labels[k] === v)
        )?.value;
      const c = g.gateway.status().counters;
      assert.equal(value("foxtail_messages_total"), c.messages);
      assert.equal(value("foxtail_accepted_total"), c.accepted);
      assert.equal(value("foxtail_rejected_total", { reason: "not-json" }), 1);
      assert.equal(value("foxtail_anomalies_total"), 1);
      assert.equal(value("foxtail_devices"), 2);
      assert.equal(families.get("foxtail_devices")!.type, "gauge");
      assert.equal(families.get("foxtail_messages_total")!.type, "counter");
      const boiler = g.gateway.devices().find((d) => d.id === "boiler")!;
      assert.equal(value("foxtail_device_score", { device: "boiler" }), boiler.score);
      assert.equal(value("foxtail_device_threshold", { device: "boiler" }), boiler.threshold);
      assert.equal(value("foxtail_device_threshold", { device: "pump" }), undefined);
      assert.equal(value("foxtail_device_phase", { device: "boiler", phase: "executing" }), 1);
      assert.equal(value("foxtail_device_phase", { device: "pump", phase: "executing" }), 0);
      assert.equal(value("foxtail_last_snapshot_timestamp_seconds"), undefined);
      // Every scored message's time in the gateway, as a histogram a scraper can read.
      const latency = families.get("foxtail_score_latency_seconds")!;
      assert.equal(latency.type, "histogram");
      checkHistogram(latency);
      assert.equal(value("foxtail_score_latency_seconds_count"), undefined); // a sample, not a family
      const count = latency.samples.find((s) => s.name === "foxtail_score_latency_seconds_count");
      assert.equal(count?.value, c.accepted);
      assert.equal(g.gateway.status().scoreLatency.count, c.accepted);
    } finally {
      g.dispose();
    }
  });

  test("device labels are escaped, so a hostile id cannot forge a sample", async () => {
    const g = new OfflineGateway();
    try {
      const hostile = 'evil"} 1 x';
      g.feed(hostile, 2);
      g.feed(XSS_DEVICE, 2);
      const text = await (await createDashboardApp(g.gateway).request("/metrics")).text();
      const scores = parsePrometheusText(text).get("foxtail_device_messages_total")!.samples;
      assert.deepEqual(scores.map((s) => s.labels.device).sort(), [XSS_DEVICE, hostile].sort());
      assert.ok(scores.every((s) => s.value === 2));
    } finally {
      g.dispose();
    }
  });
});

describe("dashboard app: hostile device ids and field names", () => {
  test("never served as markup: page, JSON, events and errors", async () => {
    const shutdown = new AbortController(); // ends open streams and their timers
    const g = new OfflineGateway(["t", XSS_FIELD, "v"]);
    try {
      const app = createDashboardApp(g.gateway, { token: TOKEN, shutdown: shutdown.signal });
      const sse = new SseReader((await app.request("/api/events")).body!);
      g.learn(XSS_DEVICE);
      assert.ok(g.fault(XSS_DEVICE), "an alert whose attribution may name the hostile field");
      const alert = g.gateway.recentAlerts()[0];
      assert.equal(alert.device, XSS_DEVICE);
      await sse.until((r) => r.named("alert").length === 1, "the alert event");

      const id = encodeURIComponent(XSS_DEVICE);
      const texts: [string, string][] = [["events", sse.text]];
      for (
        const path of [
          "/",
          "/api/status",
          "/api/devices",
          `/api/devices/${id}/scores`,
          "/api/alerts",
          `/api/devices/${id}/scores?limit=${encodeURIComponent(XSS_FIELD)}`,
          `/api/${encodeURIComponent(XSS_FIELD)}`,
        ]
      ) {
        texts.push([path, await (await app.request(path)).text()]);
      }
      const put = await app.request(`/api/devices/${id}/threshold`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ threshold: XSS_FIELD }),
      });
      texts.push(["threshold error", await put.text()]);
      for (const [where, text] of texts) {
        for (const marker of XSS_MARKERS) {
          assert.ok(!text.includes(marker), `${where} contains ${marker}`);
        }
      }
      // Escaped, not mangled: the values come back intact.
      const devices = JSON.parse(texts.find(([p]) => p === "/api/devices")![1]).devices;
      assert.equal(devices[0].id, XSS_DEVICE);
      const alerts = JSON.parse(texts.find(([p]) => p === "/api/alerts")![1]).alerts;
      assert.deepEqual(alerts[0].attribution, alert.attribution);
      assert.ok(
        alert.attribution.autoencoders.some((ae) => ae.features.includes(XSS_FIELD)),
        "the hostile field is among the attributed features",
      );
      await sse.cancel();
    } finally {
      shutdown.abort();
      g.dispose();
    }
  });

  test("the page's script inserts text with textContent, never as HTML", async () => {
    const g = new OfflineGateway();
    try {
      const html = await (await createDashboardApp(g.gateway).request("/")).text();
      const script = html.slice(html.indexOf("<script"), html.indexOf("</script>"));
      assert.ok(script.includes(".textContent ="));
      for (
        const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]
      ) {
        assert.ok(!script.includes(sink), `the script uses ${sink}`);
      }
      assert.ok(!/new Function|setTimeout\(\s*["']/.test(script), "no code built from strings");
    } finally {
      g.dispose();
    }
  });
});
