/**
 * The deep-autoencoder protocol of `spec/deep-autoencoder.md` on KDD-99 or NSL-KDD, end to end:
 * load, binarise labels, (KDD-99) drop duplicates, one-hot and standardise with training
 * statistics, keep normal training rows, train, set the threshold from the training errors, and
 * measure the test set. The same preprocessed rows can go through any detector type instead (KitNET),
 * through the detector interface, so the detectors are compared on equal terms.
 *
 * @module
 */

import { thresholdFor, type ThresholdRule } from "../../core/thresholds/mod.ts";
import { DEEP_AE_TYPE } from "../../core/deep_ae/mod.ts";
import type { Detector, EpochProgress } from "../../core/detector.ts";
import { detectorType } from "../../core/registry.ts";
import {
  type ClassificationReport,
  classificationReport,
  confusionMatrix,
  prAuc,
  predictAtThreshold,
  rocAuc,
} from "../../core/evaluation/mod.ts";
import { TabularEncoder } from "../../core/deep_ae/mod.ts";
import { KDD_COLUMNS, type KddDataset, type KddFormat, loadKdd } from "./kdd_records.ts";

/** What to run. */
export interface KddExperimentOptions {
  /** Which benchmark the files are. */
  dataset: KddFormat;
  /** Training file (plain or gzip). */
  train: string;
  /** Test file (plain or gzip). */
  test: string;
  /** The detector type (as a configuration names it). Default the protocol's, `"deep-ae"`. */
  model?: string;
  /** Threshold rule. Default the paper's. */
  threshold?: ThresholdRule;
  /** Seed of initialisation and shuffling. Default 1. */
  seed?: number;
  /** Deep AE: epochs (default the paper's); KitNET: training passes (default 1). */
  epochs?: number;
  /** Deep AE: Adam's step (default the paper's); KitNET: SGD step (default 0.1). */
  learningRate?: number;
  /** Read at most this many records of each file (for quick runs and tests). */
  limit?: number;
  /** Called after every epoch of a type that trains in epochs. */
  onEpoch?: (report: EpochProgress) => void;
  /** Called when a phase starts ("loading", "training", …). */
  onPhase?: (phase: string) => void;
}

/** What an experiment measured. */
export interface KddExperimentResult {
  /** The benchmark. */
  dataset: KddFormat;
  /** The detector type. */
  model: string;
  /** Seed used. */
  seed: number;
  /** Training parameters used. */
  training: { epochs: number; learningRate: number; batchSize?: number; l2?: number };
  /** How the detector was trained, in a line. */
  trainingDescription: string;
  /** Training records kept (after de-duplication) and how many of them are normal. */
  trainRows: number;
  /** Normal training rows (the only ones trained on). */
  trainNormalRows: number;
  /** Test records kept. */
  testRows: number;
  /** Attacks among them. */
  testAttacks: number;
  /** Duplicates dropped from train and test. */
  duplicatesDropped: { train: number; test: number };
  /** Features after one-hot encoding. */
  inputSize: number;
  /** The threshold. */
  threshold: number;
  /** The share of normal training rows scoring below the threshold. */
  thresholdTrainingQuantile: number;
  /** Test metrics at the threshold. */
  report: ClassificationReport;
  /** ROC AUC of the test scores. */
  auc: number;
  /** Average precision of the test scores. */
  prAuc: number;
  /** Final training and validation loss (deep AE only). */
  finalLoss?: number;
  /** Final validation loss (deep AE only). */
  finalValidationLoss?: number;
  /** Seconds spent training (excluding loading and scoring). */
  trainSeconds: number;
  /** Seconds for the whole experiment. */
  totalSeconds: number;
  /** The trained detector (with its threshold, for a type that keeps one), for saving. */
  detector: Detector;
}

/** Runs the protocol and measures the test set. */
export async function runKddExperiment(
  options: KddExperimentOptions,
): Promise<KddExperimentResult> {
  const started = Date.now();
  const model = options.model ?? DEEP_AE_TYPE;
  const rule = options.threshold ?? { kind: "paper" };
  const seed = options.seed ?? 1;
  const dedup = options.dataset === "kdd99";
  options.onPhase?.("loading");
  const train = await loadKdd(options.train, options.dataset, {
    dropDuplicates: dedup,
    limit: options.limit,
  });
  const test = await loadKdd(options.test, options.dataset, {
    dropDuplicates: dedup,
    limit: options.limit,
  });
  checkClasses(train, options.train, false);
  checkClasses(test, options.test, true);

  options.onPhase?.("encoding");
  const encoder = TabularEncoder.fit(KDD_COLUMNS, train.records, "standard");
  const d = encoder.outputSize;
  const normal = train.records.filter((_, i) => train.attack[i] === 0);
  const normalRows = encoder.encode(normal);
  const testRows = encoder.encode(test.records);

  options.onPhase?.("training");
  // The dataset names the paper's settings for it (a type without presets ignores them).
  const fit = detectorType(model).fitRows(normalRows, d, {
    epochs: options.epochs,
    learningRate: options.learningRate,
    seed,
    preset: options.dataset,
    encoder,
    thresholdRule: rule,
    onEpoch: options.onEpoch,
    metadata: (t) =>
      JSON.stringify({
        dataset: options.dataset,
        trainFile: options.train,
        epochs: t.epochs,
        learningRate: t.learningRate,
        batchSize: t.batchSize,
        seed,
      }),
  });
  options.onPhase?.("scoring");
  const trainingErrors = new Float64Array(normalRows.length / d);
  fit.detector.scoreMany(normalRows, trainingErrors);
  const testScores = new Float64Array(testRows.length / d);
  fit.detector.scoreMany(testRows, testScores);
  const threshold = thresholdFor(rule, trainingErrors);
  let below = 0;
  for (const e of trainingErrors) if (e < threshold) below++;
  const report = classificationReport(
    confusionMatrix(test.attack, predictAtThreshold(testScores, threshold)),
  );
  return {
    dataset: options.dataset,
    model,
    seed,
    training: fit.training,
    trainingDescription: fit.description,
    trainRows: train.records.length,
    trainNormalRows: normal.length,
    testRows: test.records.length,
    testAttacks: test.attack.reduce((a, b) => a + b, 0),
    duplicatesDropped: { train: train.duplicates, test: test.duplicates },
    inputSize: d,
    threshold,
    thresholdTrainingQuantile: below / trainingErrors.length,
    report,
    auc: rocAuc(test.attack, testScores),
    prAuc: prAuc(test.attack, testScores),
    finalLoss: fit.finalLoss,
    finalValidationLoss: fit.finalValidationLoss,
    trainSeconds: fit.seconds,
    totalSeconds: (Date.now() - started) / 1000,
    detector: fit.detector,
  };
}

function checkClasses(data: KddDataset, path: string, needAttacks: boolean): void {
  const attacks = data.attack.reduce((a, b) => a + b, 0);
  const normal = data.records.length - attacks;
  if (normal === 0 || (needAttacks && attacks === 0)) {
    throw new RangeError(
      `${path} has ${normal} normal and ${attacks} attack records; ` +
        (needAttacks ? "measuring needs both" : "training needs normal records"),
    );
  }
}
