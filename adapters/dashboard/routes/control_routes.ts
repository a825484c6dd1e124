/**
 * The endpoints that change the gateway: `POST /api/snapshot`, `POST /api/devices/:id/reset`,
 * `PUT /api/devices/:id/threshold`, `PUT /api/devices/:id/mute` and
 * `POST /api/incidents/:id/acknowledge`. Each needs `Authorization: Bearer <token>` (401 without
 * or with a wrong one), is disabled (403) when no token is configured, and takes a bounded body.
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { describeValue } from "../../../core/gateway/mod.ts";
import type { BearerToken } from "../bearer_token.ts";
import { failure, json } from "../responses.ts";
import type { DashboardShared } from "./shared.ts";

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

/** Longest mute: a week. */
const MAX_MUTE_MINUTES = 7 * 24 * 60;

/** The minutes of a `PUT /api/devices/:id/mute` body (null: unmute), or the problem with it. */
function readMuteBody(text: string): { minutes: number | null } | { problem: string } {
  const example = `{"minutes": 30} or {"minutes": null}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { problem: `body: expected JSON such as ${example}, got ${describeValue(text)}` };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return {
      problem: `body: expected a JSON object such as ${example}, got ${describeValue(body)}`,
    };
  }
  for (const key of Object.keys(body)) {
    if (key !== "minutes") return { problem: `body: unknown key ${describeValue(key)}` };
  }
  const minutes = (body as { minutes?: unknown }).minutes;
  if (minutes === null) return { minutes: null };
  if (typeof minutes !== "number" || !(minutes > 0 && minutes <= MAX_MUTE_MINUTES)) {
    return {
      problem: `minutes: expected a number above 0 and at most ${MAX_MUTE_MINUTES}, or null, ` +
        `got ${describeValue(minutes)}`,
    };
  }
  return { minutes };
}

/** The changing routes over `shared`, guarded by `token` (none: disabled). */
export function controlRoutes(
  shared: DashboardShared,
  token: BearerToken | undefined,
  maxBodyBytes: number,
): Hono {
  const { view } = shared;
  const app = new Hono();

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

  app.put("/api/devices/:id/mute", limitBody, requireToken, async (c) => {
    const id = c.req.param("id");
    const read = readMuteBody(await c.req.text());
    if ("problem" in read) return failure(c, 400, read.problem);
    const muted = view.muteDevice(id, read.minutes);
    if (muted === undefined) return failure(c, 404, `unknown device ${describeValue(id)}`);
    return json(c, { device: id, ...muted }, 200);
  });

  app.post("/api/incidents/:id/acknowledge", limitBody, requireToken, (c) => {
    const raw = c.req.param("id");
    const id = Number(raw);
    if (!/^[1-9]\d{0,15}$/.test(raw)) {
      return failure(c, 400, `incident id: expected a whole number, got ${describeValue(raw)}`);
    }
    const incident = view.acknowledgeIncident(id);
    if (incident === undefined) return failure(c, 404, `no incident ${id} is kept`);
    return json(c, { incident }, 200);
  });

  return app;
}
