/**
 * The demo's one-line status: wall and simulated time, messages, each device's phase (and the
 * fault it has now, if any), anomalies.
 *
 * @module
 */

import type { DeviceSummary } from "../../core/gateway/mod.ts";
import type { GatewayStatus } from "../gateway/mod.ts";
import type { FaultKind } from "./sensor_node.ts";

/** What the demo adds to the gateway's own status. */
export interface DemoProgress {
  /** Wall-clock milliseconds since the demo started. */
  elapsedMs: number;
  /** Simulated seconds since midnight of day 0. */
  simulatedSeconds: number;
  /** The fault each faulty device has now. */
  faults: ReadonlyMap<string, FaultKind>;
}

const count = new Intl.NumberFormat("en-US");

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** `m:ss` of a duration in milliseconds. */
export function wallClock(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${two(seconds % 60)}`;
}

/** `day D hh:mm` of a simulated time in seconds since midnight of day 0. */
export function simulatedClock(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const day = Math.floor(minutes / 1440);
  return `day ${day} ${two(Math.floor((minutes % 1440) / 60))}:${two(minutes % 60)}`;
}

/** A device's phase, the share learned while it learns, and its fault. */
function stateText(device: DeviceSummary, fault: FaultKind | undefined): string {
  const phase = device.phase === "executing"
    ? "executing"
    : `${device.phase} ${Math.floor(device.progress * 100)}%`;
  return fault === undefined ? phase : `${phase} [${fault}]`;
}

/** Devices grouped by state, e.g. `cold-store, greenhouse: training 40%; pump-house: …`. */
function devicesText(
  devices: readonly DeviceSummary[],
  faults: ReadonlyMap<string, FaultKind>,
): string {
  if (devices.length === 0) return "no device yet";
  const groups = new Map<string, string[]>();
  const sorted = devices.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const device of sorted) {
    const state = stateText(device, faults.get(device.id));
    const names = groups.get(state);
    if (names === undefined) groups.set(state, [device.id]);
    else names.push(device.id);
  }
  return Array.from(groups, ([state, names]) => `${names.join(", ")} ${state}`).join("; ");
}

/** The status line (no newline). */
export function demoStatusLine(
  status: GatewayStatus,
  devices: readonly DeviceSummary[],
  progress: DemoProgress,
): string {
  const c = status.counters;
  const parts = [
    `demo ${wallClock(progress.elapsedMs)}`,
    `sim ${simulatedClock(progress.simulatedSeconds)}`,
    `${count.format(c.messages)} msgs, ${count.format(c.accepted)} scored` +
    (c.dropped > 0 ? `, ${count.format(c.dropped)} dropped` : ""),
    devicesText(devices, progress.faults),
    `${count.format(c.anomalies)} anomalies`,
  ];
  return parts.join(" | ");
}
