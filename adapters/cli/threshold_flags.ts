/**
 * The `--calibration` / `--tail-probability` flags that `score` and `pcap` share: parsing them
 * into a {@linkcode ScoreThreshold}, the phase to report, and the summary line.
 *
 * @module
 */

import type { DetectorPhase } from "../../core/detector.ts";
import { hasThreshold } from "../../core/thresholds/mod.ts";
import { ScoreThreshold } from "../../core/thresholds/mod.ts";
import { integerFlag, numberFlag, type ParsedArgs, UsageError } from "./command.ts";

/** The flags' `--help` lines. */
export const THRESHOLD_HELP = `Threshold (log-normal fit of the first scores after learning):
  --calibration N       scores to calibrate on (default 0: no threshold)
  --tail-probability P  flag scores whose tail probability is below P (default 1e-4)`;

/** The flags' `parseArgs` options. */
export const THRESHOLD_OPTIONS = {
  "calibration": { type: "string" },
  "tail-probability": { type: "string" },
} as const;

/** The threshold the flags ask for, or undefined without `--calibration`. */
export function thresholdFromFlags(values: ParsedArgs["values"]): ScoreThreshold | undefined {
  const calibration = integerFlag(values, "calibration", 0, 0);
  const tailProbability = numberFlag(values, "tail-probability", 1e-4, 0, 1);
  if (calibration === 1) throw new UsageError("--calibration needs at least 2 scores");
  return calibration > 0 ? new ScoreThreshold({ calibration, tailProbability }) : undefined;
}

/** The detector's phase, with "calibrating" while executing scores still fill the window. */
export function reportedPhase(
  phase: DetectorPhase,
  threshold: ScoreThreshold | undefined,
): DetectorPhase | "calibrating" {
  return phase === "executing" && threshold !== undefined && !hasThreshold(threshold.threshold)
    ? "calibrating"
    : phase;
}

/** "threshold … (tail probability …), N anomalies over it", or how far calibration got. */
export function thresholdSummary(threshold: ScoreThreshold): string {
  if (!hasThreshold(threshold.threshold)) {
    return `threshold not set: calibration has ${threshold.calibrated}/${threshold.calibration} ` +
      `scores`;
  }
  return `threshold ${threshold.threshold.toPrecision(6)} (tail probability ` +
    `${threshold.tailProbability}), ${threshold.flagged} anomalies over it`;
}
