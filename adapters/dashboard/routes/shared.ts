/**
 * What the dashboard's routes share: the gateway's view, the dashboard's own counters, the
 * clock, and the status body every status answer and event carries.
 *
 * @module
 */

import type { Context } from "hono";
import {
  describeValue,
  DEVICE_STATES,
  type DeviceQuery,
  type DeviceState,
} from "../../../core/gateway/mod.ts";
import type { GatewayView } from "../../gateway/mod.ts";
import type { DashboardCounters } from "../gateway_metrics.ts";
import { readLimit } from "../responses.ts";

/** Device ids an event stream can follow (`?devices=`): a page of cards, and then some. */
export const MAX_FOLLOWED_DEVICES = 200;

/** The longest search text. */
const MAX_SEARCH = 256;

/** The state the routes of one dashboard app share. */
export interface DashboardShared {
  /** The gateway, as the dashboard sees it. */
  view: GatewayView;
  /** Event-stream clients served, refused and dropped. */
  counters: DashboardCounters;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
  /** Devices given per-device series in `/metrics`. */
  deviceMetrics: number;
}

/** The gateway's status with the server's clock and the dashboard's counters. */
export function statusBody(shared: DashboardShared): Record<string, unknown> {
  return { ...shared.view.status(), now: shared.now(), dashboard: { ...shared.counters } };
}

/**
 * The device query of `?limit=`, `?offset=`, `?state=` and `?q=` (a search in the ids), or the
 * problem with it, naming the parameter and its value.
 */
export function readDeviceQuery(c: Context): DeviceQuery | string {
  const limit = readLimit(c);
  if (typeof limit === "string") return limit;
  const query: DeviceQuery = { limit };
  const offset = c.req.query("offset");
  if (offset !== undefined) {
    if (!/^\d{1,9}$/.test(offset)) {
      return `offset: expected a whole number, got ${describeValue(offset)}`;
    }
    query.offset = Number(offset);
  }
  const state = c.req.query("state");
  if (state !== undefined) {
    if (!(DEVICE_STATES as readonly string[]).includes(state)) {
      return `state: expected one of ${DEVICE_STATES.join(", ")}, got ${describeValue(state)}`;
    }
    query.state = state as DeviceState;
  }
  const search = c.req.query("q");
  if (search !== undefined && search !== "") {
    if (search.length > MAX_SEARCH) {
      return `q: expected at most ${MAX_SEARCH} characters, got ${search.length}`;
    }
    query.search = search;
  }
  return query;
}

/**
 * The device ids of `?devices=` (comma-separated), undefined when absent (every device), or
 * the problem with it.
 */
export function readFollowedDevices(c: Context): Set<string> | undefined | string {
  const raw = c.req.query("devices");
  if (raw === undefined) return undefined;
  const ids = raw === "" ? [] : raw.split(",");
  if (ids.length > MAX_FOLLOWED_DEVICES) {
    return `devices: expected at most ${MAX_FOLLOWED_DEVICES} ids, got ${ids.length}`;
  }
  return new Set(ids);
}
