/**
 * One page of the fleet: devices filtered by state and by a search text, alerting ones first,
 * then by id, with the counts per state of the whole fleet. What the dashboard and
 * `/api/devices` page through, so neither ever moves every device of a large fleet.
 *
 * @module
 */

import type { DeviceState } from "./device_detector.ts";
import type { DeviceSummary } from "./gateway_engine.ts";

/** Every state, in the order the counts list them. */
export const DEVICE_STATES: readonly DeviceState[] = [
  "alerting",
  "calibrating",
  "learning",
  "normal",
];

/** Which devices, and which page of them. */
export interface DeviceQuery {
  /** Only devices in this state. */
  state?: DeviceState;
  /** Only devices whose id holds this text (case-insensitive). */
  search?: string;
  /** Devices skipped from the start of the sorted list (default 0). */
  offset?: number;
  /** Devices returned at most (default all). */
  limit?: number;
}

/** A page of devices. */
export interface DevicePage {
  /** The devices of the page, alerting first, then by id. */
  devices: DeviceSummary[];
  /** Devices that match the query, on every page. */
  total: number;
  /** The page's offset. */
  offset: number;
  /** Devices per state in the whole fleet (the query's filters aside). */
  states: Record<DeviceState, number>;
}

/**
 * The page of `all` that `query` asks for.
 *
 * @example
 * ```ts
 * import { queryDevices } from "./device_query.ts";
 * const page = queryDevices([], { state: "alerting", limit: 20 });
 * console.log(page.total, page.states.alerting); // 0 0
 * ```
 */
export function queryDevices(all: readonly DeviceSummary[], query: DeviceQuery = {}): DevicePage {
  const states = { alerting: 0, calibrating: 0, learning: 0, normal: 0 };
  const search = query.search?.toLowerCase();
  const matching: DeviceSummary[] = [];
  for (const device of all) {
    states[device.state]++;
    if (query.state !== undefined && device.state !== query.state) continue;
    if (search !== undefined && !device.id.toLowerCase().includes(search)) continue;
    matching.push(device);
  }
  matching.sort((a, b) =>
    Number(b.state === "alerting") - Number(a.state === "alerting") ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
  const offset = query.offset ?? 0;
  const end = query.limit === undefined ? matching.length : offset + query.limit;
  return { devices: matching.slice(offset, end), total: matching.length, offset, states };
}
