/**
 * The dashboard as a Hono app over a {@linkcode GatewayView}: the page, JSON endpoints, a
 * server-sent-event stream, Prometheus metrics, and the token-guarded endpoints that change the
 * gateway. Runtime-neutral: {@link ./serve.ts} serves it on Deno, Bun or Node, and tests call
 * `app.request()` directly.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { describeValue } from "../../core/gateway/mod.ts";
import type { GatewayEvent, GatewayView } from "../gateway/mod.ts";
import { BearerToken } from "./bearer_token.ts";
import { EventStream } from "./event_stream.ts";
import { type DashboardCounters, gatewayMetrics } from "./gateway_metrics.ts";
import { dashboardPage } from "./page.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus_text.ts";
import { safeJson } from "./safe_json.ts";

/** Options of {@linkcode createDashboardApp}. */
export interface DashboardOptions {
  /** Bearer token of the mutating endpoints; without one they answer 403 (disabled). */
  token?: string;
  /** Largest request body accepted, in bytes (default 4096); larger ones get 413. */
  maxBodyBytes?: number;
  /** Event-stream clients served at once (default 16); more get 503. */
  maxEventClients?: number;
  /** Events that may wait for one slow client before it is cut off (default 1024). */
  eventBuffer?: number;
  /** Milliseconds between keep-alive comments on an event stream (default 15000). */
  keepAliveMs?: number;
  /** Milliseconds between `status` events on an event stream (default 2000). */
  statusIntervalMs?: number;
  /** When aborted, every open event stream ends and new ones are refused (server shutdown). */
  shutdown?: AbortSignal;
  /** The clock, in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** Defaults of {@linkcode DashboardOptions}. */
export const DASHBOARD_DEFAULTS = {
  maxBodyBytes: 4096,
  maxEventClients: 16,
  eventBuffer: 1024,
  keepAliveMs: 15_000,
  statusIntervalMs: 2_000,
} as const;

/** Most points or alerts one request may ask for. */
const MAX_LIMIT = 1_000_000;

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response whose text never contains markup characters (see {@link ./safe_json.ts}). */
function json(c: Context, value: unknown, status: 200 | 400 | 401 | 403 | 404 | 413 | 500 | 503) {
  return c.body(safeJson(value), status, { "Content-Type": JSON_TYPE });
}

/** An error response: `{ "error": message }`. */
function failure(c: Context, status: 400 | 401 | 403 | 404 | 413 | 500 | 503, message: string) {
  return json(c, { error: message }, status);
}

function positiveInteger(value: number | undefined, name: string, least: number): number {
  if (!Number.isInteger(value) || value! < least) {
    throw new RangeError(`${name} must be an integer ≥ ${least}, got ${value}`);
  }
  return value!;
}

/** A `?limit=` query value: undefined when absent, else an integer in [1, MAX_LIMIT]. */
function readLimit(c: Context): number | undefined | string {
  const raw = c.req.query("limit");
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > MAX_LIMIT) {
    return `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${describeValue(raw)}`;
  }
  return value;
}

/** The threshold of a `PUT /api/devices/:id/threshold` body, or the problem with the body. */
function readThresholdBody(text: string): { threshold: number | null } | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      problem: `body: expected JSON such as {"threshold": 0.5}, got ${describeValue(text)}`,
    };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { problem: `body: expected a JSON object, got ${describeValue(body)}` };
  }
  for (const key of Object.keys(body)) {
    if (key !== "threshold") return { problem: `body: unknown key ${describeValue(key)}` };
  }
  const threshold = (body as { threshold?: unknown }).threshold;
  if (threshold === null) return { threshold: null };
  if (typeof threshold !== "number" || !Number.isFinite(threshold) || threshold <= 0) {
    return {
      problem: `threshold: expected a positive finite number or null, got ${
        describeValue(threshold)
      }`,
    };
  }
  return { threshold };
}

/** A fresh nonce for the page's Content-Security-Policy. */
function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The dashboard over `view`. Reading endpoints are open; `POST /api/snapshot`,
 * `POST /api/devices/:id/reset` and `PUT /api/devices/:id/threshold` need
 * `Authorization: Bearer <token>` (401 without or with a wrong one) and are disabled (403) when
 * no token is configured.
 */
export function createDashboardApp(view: GatewayView, options: DashboardOptions = {}): Hono {
  const d = DASHBOARD_DEFAULTS;
  const maxBodyBytes = positiveInteger(options.maxBodyBytes ?? d.maxBodyBytes, "maxBodyBytes", 1);
  const maxEventClients = positiveInteger(
    options.maxEventClients ?? d.maxEventClients,
    "maxEventClients",
    1,
  );
  // Room for the greeting and a status event at least.
  const eventBuffer = positiveInteger(options.eventBuffer ?? d.eventBuffer, "eventBuffer", 4);
  const keepAliveMs = positiveInteger(options.keepAliveMs ?? d.keepAliveMs, "keepAliveMs", 1);
  const statusIntervalMs = positiveInteger(
    options.statusIntervalMs ?? d.statusIntervalMs,
    "statusIntervalMs",
    1,
  );
  const now = options.now ?? Date.now;
  const token = options.token === undefined ? undefined : new BearerToken(options.token);
  const shutdown = options.shutdown;

  const streams = new Set<EventStream>();
  const counters: DashboardCounters = {
    eventClients: 0,
    eventClientsRefused: 0,
    eventClientsDropped: 0,
  };
  shutdown?.addEventListener("abort", () => {
    for (const stream of Array.from(streams)) stream.end("shutdown");
  }, { once: true });

  const statusBody = () => ({ ...view.status(), now: now(), dashboard: { ...counters } });

  const app = new Hono();

  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => failure(c, 413, `request body larger than ${maxBodyBytes} bytes`),
  });

  const requireToken: MiddlewareHandler = async (c, next) => {
    if (token === undefined) {
      return failure(
        c,
        403,
        "changing the gateway is disabled: configure dashboard.token to enable it",
      );
    }
    if (!token.accepts(c.req.header("Authorization"))) {
      c.header("WWW-Authenticate", 'Bearer realm="foxtail"');
      return failure(c, 401, "missing or wrong token: send Authorization: Bearer <token>");
    }
    await next();
  };

  app.get("/", (c) => {
    const n = nonce();
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${n}'; style-src 'nonce-${n}'; ` +
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; " +
        "frame-ancestors 'none'",
    );
    return c.html(dashboardPage(n));
  });

  app.get("/healthz", (c) => json(c, { ok: true }, 200));

  app.get("/api/status", (c) => json(c, statusBody(), 200));

  app.get("/api/devices", (c) => json(c, { devices: view.devices() }, 200));

  app.get("/api/devices/:id/scores", (c) => {
    const id = c.req.param("id");
    const limit = readLimit(c);
    if (typeof limit === "string") return failure(c, 400, limit);
    const points = view.deviceScores(id, limit);
    if (points === undefined) return failure(c, 404, `unknown device ${describeValue(id)}`);
    return json(c, { device: id, points }, 200);
  });

  app.get("/api/alerts", (c) => {
    const limit = readLimit(c);
    if (typeof limit === "string") return failure(c, 400, limit);
    const alerts = view.recentAlerts();
    return json(c, { alerts: limit === undefined ? alerts : alerts.slice(0, limit) }, 200);
  });

  app.get("/metrics", (c) => {
    return c.body(gatewayMetrics(view, counters, now()), 200, {
      "Content-Type": PROMETHEUS_CONTENT_TYPE,
    });
  });

  app.get("/api/events", (c) => {
    if (shutdown?.aborted) return failure(c, 503, "the dashboard is shutting down");
    if (streams.size >= maxEventClients) {
      counters.eventClientsRefused++;
      return failure(c, 503, `too many event-stream clients (at most ${maxEventClients})`);
    }
    let unsubscribe = () => {};
    const timers: ReturnType<typeof setInterval>[] = [];
    const stream = new EventStream({
      capacity: eventBuffer,
      onEnd: (why) => {
        // Everything tied to this client goes with it: the subscription, timers, the slot.
        unsubscribe();
        for (const timer of timers) clearInterval(timer);
        streams.delete(stream);
        counters.eventClients = streams.size;
        if (why === "slow") counters.eventClientsDropped++;
      },
    });
    streams.add(stream);
    counters.eventClients = streams.size;
    const sendStatus = () => {
      stream.send("status", safeJson({ status: statusBody(), devices: view.devices() }));
    };
    stream.raw("retry: 3000\n: foxtail events\n\n");
    sendStatus();
    unsubscribe = view.subscribe((event: GatewayEvent) => {
      stream.send(event.type, safeJson(event));
    });
    timers.push(
      setInterval(() => stream.comment("keep-alive"), keepAliveMs),
      setInterval(sendStatus, statusIntervalMs),
    );
    return new Response(stream.body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-store",
        "X-Accel-Buffering": "no",
      },
    });
  });

  app.post("/api/snapshot", limitBody, requireToken, (c) => {
    try {
      const path = view.snapshotNow();
      return json(c, { path, at: view.status().lastSnapshotAt }, 200);
    } catch (error) {
      return failure(c, 500, `snapshot failed: ${(error as Error).message}`);
    }
  });

  app.post("/api/devices/:id/reset", limitBody, requireToken, (c) => {
    const id = c.req.param("id");
    if (!view.resetDevice(id)) return failure(c, 404, `unknown device ${describeValue(id)}`);
    return json(c, { device: id, reset: true }, 200);
  });

  app.put("/api/devices/:id/threshold", limitBody, requireToken, async (c) => {
    const id = c.req.param("id");
    const read = readThresholdBody(await c.req.text());
    if ("problem" in read) return failure(c, 400, read.problem);
    if (!view.setThreshold(id, read.threshold)) {
      return failure(c, 404, `unknown device ${describeValue(id)}`);
    }
    return json(c, { device: id, threshold: read.threshold }, 200);
  });

  app.notFound((c) => failure(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`));

  app.onError((error, c) => failure(c, 500, `internal error: ${error.message}`));

  return app;
}
