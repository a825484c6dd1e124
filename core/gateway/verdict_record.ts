/**
 * The one JSON form of a verdict, shared by everything that shows one: the MQTT score payload
 * (`{prefix}/{device}/score`), the dashboard's score events (with `type` and `device` added)
 * and the device score API. `verdictJson` writes the text by hand (one string per message, no
 * intermediate object, on the hot path); it equals `JSON.stringify(verdictRecord(…))`, which a
 * test checks.
 *
 * @module
 */

import type { DevicePhase, Verdict } from "./device_detector.ts";

/** A verdict as plain data: what a scored message looks like outside the engine. */
export interface VerdictRecord {
  /** When the message was received, in milliseconds since the epoch. */
  ts: number;
  /** The anomaly score (0 while learning). */
  score: number;
  /** The threshold in force, or null before there is one. */
  threshold: number | null;
  /** Whether the score is an anomaly. */
  anomaly: boolean;
  /** The phase it was scored in. */
  phase: DevicePhase;
}

/** `verdict` (received at `ts`) as plain data. */
export function verdictRecord(ts: number, verdict: Readonly<Verdict>): VerdictRecord {
  const { score, threshold, anomaly, phase } = verdict;
  return { ts, score, threshold: Number.isNaN(threshold) ? null : threshold, anomaly, phase };
}

/** `verdict` (received at `ts`) as JSON text: `JSON.stringify(verdictRecord(ts, verdict))`. */
export function verdictJson(ts: number, verdict: Readonly<Verdict>): string {
  const t = verdict.threshold;
  return `{"ts":${ts},"score":${verdict.score},"threshold":${Number.isNaN(t) ? "null" : t},` +
    `"anomaly":${verdict.anomaly},"phase":"${verdict.phase}"}`;
}
