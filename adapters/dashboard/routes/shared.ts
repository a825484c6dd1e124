/**
 * What the dashboard's routes share: the gateway's view, the dashboard's own counters, the
 * clock, and the status body every status answer and event carries.
 *
 * @module
 */

import type { GatewayView } from "../../gateway/mod.ts";
import type { DashboardCounters } from "../gateway_metrics.ts";

/** The state the routes of one dashboard app share. */
export interface DashboardShared {
  /** The gateway, as the dashboard sees it. */
  view: GatewayView;
  /** Event-stream clients served, refused and dropped. */
  counters: DashboardCounters;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

/** The gateway's status with the server's clock and the dashboard's counters. */
export function statusBody(shared: DashboardShared): Record<string, unknown> {
  return { ...shared.view.status(), now: shared.now(), dashboard: { ...shared.counters } };
}
