/**
 * The reading endpoints, open to anyone who can reach the dashboard: `/healthz`,
 * `/api/status`, `/api/devices`, `/api/devices/:id/scores`, `/api/devices/:id/history`,
 * `/api/alerts`, `/api/incidents`,
 * `/api/rejections` and `/metrics`.
 *
 * @module
 */

import { Hono } from "hono";
import { describeValue, DIGEST_RANGES, queryDevices } from "../../../core/gateway/mod.ts";
import { gatewayMetrics } from "../gateway_metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../prometheus_text.ts";
import { failure, json, readLimit } from "../responses.ts";
import { type DashboardShared, readDeviceQuery, statusBody } from "./shared.ts";

/** Senders of refused messages `/api/rejections` lists when no `?limit=` is given. */
export const DEFAULT_REJECT_SOURCES = 50;

/** The reading routes over `shared`. */
export function readRoutes(shared: DashboardShared): Hono {
  const { view, counters, now, deviceMetrics } = shared;
  const app = new Hono();

  app.get("/healthz", (c) => json(c, { ok: true }, 200));

  app.get("/api/status", (c) => json(c, statusBody(shared), 200));

  app.get("/api/devices", (c) => {
    const query = readDeviceQuery(c);
    if (typeof query === "string") return failure(c, 400, query);
    return json(c, queryDevices(view.devices(), query), 200);
  });

  app.get("/api/devices/:id/scores", (c) => {
    const id = c.req.param("id");
    const limit = readLimit(c);
    if (typeof limit === "string") return failure(c, 400, limit);
    const points = view.deviceScores(id, limit);
    if (points === undefined) return failure(c, 404, `unknown device ${describeValue(id)}`);
    return json(c, { device: id, points }, 200);
  });

  app.get("/api/devices/:id/history", (c) => {
    const id = c.req.param("id");
    const range = c.req.query("range") ?? "hour";
    if (range !== "hour" && range !== "day") {
      return failure(c, 400, `range: expected hour or day, got ${describeValue(range)}`);
    }
    const points = view.deviceHistory(id, range);
    if (points === undefined) return failure(c, 404, `unknown device ${describeValue(id)}`);
    const { bucketMs } = DIGEST_RANGES[range];
    return json(c, { device: id, range, bucketMs, points }, 200);
  });

  app.get("/api/alerts", (c) => {
    const limit = readLimit(c);
    if (typeof limit === "string") return failure(c, 400, limit);
    const alerts = view.recentAlerts();
    return json(c, { alerts: limit === undefined ? alerts : alerts.slice(0, limit) }, 200);
  });

  app.get("/api/incidents", (c) => {
    const limit = readLimit(c);
    if (typeof limit === "string") return failure(c, 400, limit);
    const state = c.req.query("state");
    if (state !== undefined && state !== "open" && state !== "closed") {
      return failure(c, 400, `state: expected open or closed, got ${describeValue(state)}`);
    }
    const device = c.req.query("device");
    return json(c, { incidents: view.incidents({ state, device, limit }) }, 200);
  });

  app.get("/api/rejections", (c) => {
    const limit = readLimit(c);
    if (typeof limit === "string") return failure(c, 400, limit);
    return json(c, view.rejectSources(limit ?? DEFAULT_REJECT_SOURCES), 200);
  });

  app.get("/metrics", (c) => {
    return c.body(gatewayMetrics(view, counters, now(), deviceMetrics), 200, {
      "Content-Type": PROMETHEUS_CONTENT_TYPE,
    });
  });

  return app;
}
