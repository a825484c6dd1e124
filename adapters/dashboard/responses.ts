/**
 * The dashboard's JSON responses and query reading, shared by its routes: every body goes
 * through {@link ./safe_json.ts}, every error is `{ "error": message }`.
 *
 * @module
 */

import type { Context } from "hono";
import { describeValue } from "../../core/gateway/mod.ts";
import { safeJson } from "./safe_json.ts";

/** Most points or alerts one request may ask for. */
export const MAX_LIMIT = 1_000_000;

const JSON_TYPE = "application/json; charset=utf-8";

/** The statuses the dashboard answers with. */
export type DashboardStatus = 200 | 400 | 401 | 403 | 404 | 413 | 500 | 503;

/** A JSON response whose text never contains markup characters. */
export function json(c: Context, value: unknown, status: DashboardStatus): Response {
  return c.body(safeJson(value), status, { "Content-Type": JSON_TYPE });
}

/** An error response: `{ "error": message }`. */
export function failure(
  c: Context,
  status: Exclude<DashboardStatus, 200>,
  message: string,
): Response {
  return json(c, { error: message }, status);
}

/** A `?limit=` query value: undefined when absent, else an integer in [1, MAX_LIMIT]. */
export function readLimit(c: Context): number | undefined | string {
  const raw = c.req.query("limit");
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > MAX_LIMIT) {
    return `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${describeValue(raw)}`;
  }
  return value;
}
