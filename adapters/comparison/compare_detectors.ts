/**
 * Every detector type the registry has, on the same labelled stream, on equal terms: the same
 * first `learn` instances of each device to learn from, the same next `calibration` instances to
 * set a threshold on, and the same instances after them to be measured on.
 *
 * A type that learns online is made by `learningWithin(learn)` and processes every instance (it
 * keeps learning while it is measured, as on the gateway); its threshold is the gateway's
 * log-normal calibration on its first `calibration` scores. A type trained beforehand is fitted
 * on the learning instances, standardised with their mean and deviation as its published
 * protocol does, with a log-normal threshold rule at the same tail probability, and then scores.
 *
 * @module
 */

import type { Detector, DetectorType, StreamShape } from "../../core/detector.ts";
import { DETECTOR_TYPES, detectorType } from "../../core/registry.ts";
import { calibrationFor, exceeds } from "../../core/thresholds/mod.ts";
import { classificationReport, confusionMatrix, rocAuc } from "../../core/evaluation/mod.ts";
import type { LabelledStream } from "./labelled_stream.ts";

/** Options of {@linkcode compareDetectors}. */
export interface ComparisonOptions {
  /** Instances of each device to learn from. */
  learn: number;
  /** The instances after them whose scores set the threshold. */
  calibration: number;
  /** The threshold's tail probability. */
  tailProbability: number;
  /** Passes over the learning instances for a type trained beforehand (its default when absent). */
  epochs?: number;
  /** Told of each device done, per type. */
  onProgress?: (type: string, devicesDone: number, devices: number) => void;
}

/** One detector type's results. */
export interface ComparisonRow {
  /** The type, as a configuration names it. */
  detector: string;
  /** How it learned: `"online"` or `"trained beforehand"`. */
  learning: string;
  /** ROC AUC over every device's measured instances; NaN without labels or without both kinds. */
  rocAuc: number;
  /** F1 at its threshold (NaN without labels). */
  f1: number;
  /** Precision at its threshold. */
  precision: number;
  /** Recall at its threshold. */
  recall: number;
  /** Measured instances flagged. */
  flagged: number;
  /**
   * Instances per second of its step (process; scoring for a trained one), timed over the
   * comparison's loop.
   */
  instancesPerSecond: number;
  /** Bytes of one device's state (mean over devices; a trained model is shared by a stream). */
  stateBytes: number;
}

/** What a comparison measured. */
export interface Comparison {
  /** The stream's name. */
  stream: string;
  /** Devices. */
  devices: number;
  /** Instances each device learned from, calibrated on, and was measured on, summed. */
  instances: { learn: number; calibrate: number; measured: number };
  /** Measured instances labelled anomalous (NaN without labels). */
  anomalies: number;
  /** One row per detector type, in the registry's order. */
  rows: ComparisonRow[];
}

/** Runs every type on `stream` by `options`; see the module documentation. */
export function compareDetectors(stream: LabelledStream, options: ComparisonOptions): Comparison {
  const { learn, calibration } = options;
  const width = stream.inputs.length;
  const counts = stream.devices.map((d) => d.rows.length / width);
  const short = counts.findIndex((n) => n <= learn + calibration);
  if (short >= 0) {
    throw new RangeError(
      `device "${stream.devices[short].id}" has ${counts[short]} instances: fewer than ` +
        `learn + calibration + 1 (${learn + calibration + 1})`,
    );
  }
  const labelled = stream.devices.every((d) => d.labels !== undefined);
  const measuredLabels: number[] = [];
  if (labelled) {
    for (const d of stream.devices) {
      for (let i = learn + calibration; i < d.labels!.length; i++) {
        measuredLabels.push(d.labels![i]);
      }
    }
  }
  const rows = DETECTOR_TYPES.map(detectorType).map((type) =>
    rowOf(type, stream, options, labelled ? measuredLabels : undefined)
  );
  const measured = counts.reduce((sum, n) => sum + n - learn - calibration, 0);
  return {
    stream: stream.name,
    devices: stream.devices.length,
    instances: {
      learn: learn * counts.length,
      calibrate: calibration * counts.length,
      measured,
    },
    anomalies: labelled ? measuredLabels.reduce((sum, v) => sum + v, 0) : NaN,
    rows,
  };
}

function rowOf(
  type: DetectorType,
  stream: LabelledStream,
  options: ComparisonOptions,
  labels: number[] | undefined,
): ComparisonRow {
  const { learn, calibration, tailProbability } = options;
  const width = stream.inputs.length;
  const shape: StreamShape = {
    stream: stream.name,
    fields: stream.inputs,
    features: stream.inputs,
    files: new Map(),
  };
  const scores: number[] = [];
  const flags: number[] = [];
  let seconds = 0, steps = 0, stateBytes = 0;
  const x = new Float64Array(width);
  stream.devices.forEach((device, d) => {
    const n = device.rows.length / width;
    const { detector, scale } = type.learningWithin !== undefined
      ? { detector: type.forStream(type.learningWithin(learn), shape).create(), scale: undefined }
      : fitted(type, device.rows, width, learn, tailProbability, options.epochs);
    const threshold = calibrationFor(detector.ownThreshold, {
      calibrationWindow: calibration,
      tailProbability,
    });
    const online = scale === undefined;
    // Timed over the whole loop (a clock read per instance would cost as much as the fastest
    // detectors' step): it includes copying the row and the threshold's bookkeeping.
    const started = performance.now();
    for (let i = online ? 0 : learn; i < n; i++) {
      for (let f = 0; f < width; f++) {
        const v = device.rows[i * width + f];
        x[f] = scale === undefined ? v : (v - scale.mean[f]) / scale.deviation[f];
      }
      const score = online ? detector.process(x) : detector.scoreOne(x);
      steps++;
      if (i < learn) continue;
      if (i < learn + calibration) threshold.observe(score);
      else {
        scores.push(score);
        flags.push(exceeds(score, threshold.threshold, threshold.inclusive) ? 1 : 0);
      }
    }
    seconds += (performance.now() - started) / 1000;
    stateBytes += detector.toBytes().length;
    options.onProgress?.(type.type, d + 1, stream.devices.length);
  });
  const report = labels === undefined
    ? undefined
    : classificationReport(confusionMatrix(labels, flags));
  const bothKinds = labels !== undefined && labels.includes(1) && labels.includes(0);
  return {
    detector: type.type,
    learning: type.learningWithin !== undefined ? "online" : "trained beforehand",
    rocAuc: bothKinds ? rocAuc(labels, scores) : NaN,
    f1: report?.f1 ?? NaN,
    precision: report?.precision ?? NaN,
    recall: report?.recall ?? NaN,
    flagged: flags.reduce((sum, v) => sum + v, 0),
    instancesPerSecond: steps / seconds,
    stateBytes: stateBytes / stream.devices.length,
  };
}

/** A type trained beforehand, fitted on a device's standardised first `learn` rows. */
function fitted(
  type: DetectorType,
  rows: Float64Array,
  width: number,
  learn: number,
  tailProbability: number,
  epochs: number | undefined,
): { detector: Detector; scale: { mean: Float64Array; deviation: Float64Array } } {
  const mean = new Float64Array(width), deviation = new Float64Array(width);
  for (let f = 0; f < width; f++) {
    let sum = 0, squares = 0;
    for (let i = 0; i < learn; i++) sum += rows[i * width + f];
    mean[f] = sum / learn;
    for (let i = 0; i < learn; i++) squares += (rows[i * width + f] - mean[f]) ** 2;
    // A constant input stays 0 rather than dividing by 0.
    deviation[f] = Math.sqrt(squares / learn) || 1;
  }
  const train = new Float64Array(learn * width);
  for (let i = 0; i < learn * width; i++) {
    train[i] = (rows[i] - mean[i % width]) / deviation[i % width];
  }
  const { detector } = type.fitRows(train, width, {
    seed: 1,
    epochs,
    thresholdRule: { kind: "lognormal", tailProbability },
  });
  return { detector, scale: { mean, deviation } };
}
