/**
 * The dashboard as a Hono app over a {@linkcode GatewayView}: the page, JSON endpoints, a
 * server-sent-event stream, Prometheus metrics, and the token-guarded endpoints that change the
 * gateway, each group of routes in its own file under routes/. Runtime-neutral:
 * {@link ./serve.ts} serves it on Deno, Bun or Node, and tests call `app.request()` directly.
 *
 * @module
 */

import { Hono } from "hono";
import type { GatewayView } from "../gateway/mod.ts";
import { BearerToken } from "./bearer_token.ts";
import type { DashboardCounters } from "./gateway_metrics.ts";
import { failure } from "./responses.ts";
import { controlRoutes } from "./routes/control_routes.ts";
import { eventRoutes } from "./routes/event_routes.ts";
import { pageRoute } from "./routes/page_route.ts";
import { readRoutes } from "./routes/read_routes.ts";

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
  /**
   * Devices given per-device series in `/metrics`, alerting ones first (default 1000; 0: none).
   * The fleet's totals are always there, and the devices left out are counted.
   */
  deviceMetrics?: number;
}

/** Defaults of {@linkcode DashboardOptions}. */
export const DASHBOARD_DEFAULTS = {
  maxBodyBytes: 4096,
  maxEventClients: 16,
  eventBuffer: 1024,
  keepAliveMs: 15_000,
  statusIntervalMs: 2_000,
  deviceMetrics: 1000,
} as const;

function positiveInteger(value: number | undefined, name: string, least: number): number {
  if (!Number.isInteger(value) || value! < least) {
    throw new RangeError(`${name} must be an integer ≥ ${least}, got ${value}`);
  }
  return value!;
}

/**
 * The dashboard over `view`. Reading endpoints are open; `POST /api/snapshot`,
 * `POST /api/devices/:id/reset` and `PUT /api/devices/:id/threshold` need
 * `Authorization: Bearer <token>` (401 without or with a wrong one) and are disabled (403) when
 * no token is configured.
 */
export function createDashboardApp(view: GatewayView, options: DashboardOptions = {}): Hono {
  const d = DASHBOARD_DEFAULTS;
  const setting = (name: keyof typeof d, least: number) =>
    positiveInteger(options[name] ?? d[name], name, least);
  const maxBodyBytes = setting("maxBodyBytes", 1);
  const events = {
    maxEventClients: setting("maxEventClients", 1),
    eventBuffer: setting("eventBuffer", 4), // room for the greeting and a status event at least
    keepAliveMs: setting("keepAliveMs", 1),
    statusIntervalMs: setting("statusIntervalMs", 1),
    shutdown: options.shutdown,
  };
  const token = options.token === undefined ? undefined : new BearerToken(options.token);
  const counters: DashboardCounters = {
    eventClients: 0,
    eventClientsRefused: 0,
    eventClientsDropped: 0,
    scoreEventsHeldBack: 0,
  };
  const shared = {
    view,
    counters,
    now: options.now ?? Date.now,
    deviceMetrics: setting("deviceMetrics", 0),
  };

  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  app.route("/", pageRoute());
  app.route("/", readRoutes(shared));
  app.route("/", eventRoutes(shared, events));
  app.route("/", controlRoutes(shared, token, maxBodyBytes));
  app.notFound((c) => failure(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => failure(c, 500, `internal error: ${error.message}`));
  return app;
}
