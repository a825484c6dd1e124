/**
 * The deep-autoencoder protocol of `spec/deep-autoencoder.md` on KDD-99 or NSL-KDD, end to end:
 * load, binarise labels, (KDD-99) drop duplicates, one-hot and standardise with training
 * statistics, keep normal training rows, train, set the threshold from the training errors, and
 * measure the test set. The same preprocessed rows can go through KitNET instead, so the two
 * detectors are compared on equal terms.
 *
 * @module
 */

import { thresholdFor, type ThresholdRule } from "../../core/thresholds/mod.ts";
import {
  DeepAutoencoder,
  type DeepAutoencoderTrainingOptions,
  KDD99_TRAINING,
  NSL_KDD_TRAINING,
} from "../../core/deep_ae/mod.ts";
import type { EpochReport } from "../../core/deep_ae/mod.ts";
import { KitNET, KITNET_DEFAULTS } from "../../core/kitnet/mod.ts";
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

/** The detectors `evaluate` compares. */
export type DetectorName = "deep-ae" | "kitnet";

/** What to run. */
export interface KddExperimentOptions {
  /** Which benchmark the files are. */
  dataset: KddFormat;
  /** Training file (plain or gzip). */
  train: string;
  /** Test file (plain or gzip). */
  test: string;
  /** Detector. Default "deep-ae". */
  model?: DetectorName;
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
  /** Called after every deep-AE epoch. */
  onEpoch?: (report: EpochReport) => void;
  /** Called when a phase starts ("loading", "training", …). */
  onPhase?: (phase: string) => void;
}

/** What an experiment measured. */
export interface KddExperimentResult {
  /** The benchmark. */
  dataset: KddFormat;
  /** The detector. */
  model: DetectorName;
  /** Seed used. */
  seed: number;
  /** Training parameters used. */
  training: { epochs: number; learningRate: number; batchSize?: number; l2?: number };
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
  /** The trained deep autoencoder (calibrated), for saving. */
  deepAutoencoder?: DeepAutoencoder;
}

/** The paper's training settings for a benchmark. */
export function paperTraining(dataset: KddFormat): DeepAutoencoderTrainingOptions {
  return dataset === "nsl-kdd" ? { ...NSL_KDD_TRAINING } : { ...KDD99_TRAINING };
}

/** Runs the protocol and measures the test set. */
export async function runKddExperiment(
  options: KddExperimentOptions,
): Promise<KddExperimentResult> {
  const started = Date.now();
  const model = options.model ?? "deep-ae";
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

  let trainingErrors: Float64Array;
  let testScores: Float64Array;
  let trainSeconds: number;
  let training: KddExperimentResult["training"];
  let deepAutoencoder: DeepAutoencoder | undefined;
  let finalLoss: number | undefined;
  let finalValidationLoss: number | undefined;
  options.onPhase?.("training");
  if (model === "deep-ae") {
    const settings = paperTraining(options.dataset);
    if (options.epochs !== undefined) settings.epochs = options.epochs;
    if (options.learningRate !== undefined) settings.learningRate = options.learningRate;
    settings.onEpoch = options.onEpoch;
    const ae = DeepAutoencoder.create({ inputSize: d, seed, encoder });
    const history = ae.train(normalRows, settings);
    trainSeconds = history.seconds;
    finalLoss = history.loss.at(-1);
    finalValidationLoss = history.validationLoss.at(-1);
    options.onPhase?.("scoring");
    trainingErrors = ae.errors(normalRows);
    ae.calibrate(trainingErrors, rule);
    testScores = ae.errors(testRows);
    ae.metadata = JSON.stringify({
      dataset: options.dataset,
      trainFile: options.train,
      epochs: settings.epochs,
      learningRate: settings.learningRate,
      batchSize: settings.batchSize,
      seed,
    });
    deepAutoencoder = ae;
    training = {
      epochs: settings.epochs,
      learningRate: settings.learningRate!,
      batchSize: settings.batchSize,
      l2: settings.penalties?.[0]?.lambda,
    };
  } else {
    const passes = options.epochs ?? 1;
    const learningRate = options.learningRate ?? KITNET_DEFAULTS.learningRate;
    const t0 = Date.now();
    const scores = kitnetScores(normalRows, testRows, d, passes, learningRate);
    trainSeconds = (Date.now() - t0) / 1000;
    trainingErrors = scores.training;
    testScores = scores.test;
    training = { epochs: passes, learningRate };
  }
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
    training,
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
    finalLoss,
    finalValidationLoss,
    trainSeconds,
    totalSeconds: (Date.now() - started) / 1000,
    deepAutoencoder,
  };
}

/**
 * KitNET on the same rows: one pass over the normal training rows learns the feature map (the
 * grace period is exactly those rows), `passes` more train the autoencoders; then the training
 * rows (for the threshold) and the test rows are scored without learning.
 */
function kitnetScores(
  normalRows: Float64Array,
  testRows: Float64Array,
  d: number,
  passes: number,
  learningRate: number,
): { training: Float64Array; test: Float64Array } {
  const n = normalRows.length / d;
  const k = new KitNET({
    n: d,
    maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
    fmGracePeriod: n - 1, // KitNET maps on instances 0 … fmGracePeriod inclusive
    adGracePeriod: n * passes,
    learningRate,
  });
  for (let pass = 0; pass <= passes; pass++) {
    for (let r = 0; r < n; r++) k.train(normalRows.subarray(r * d, (r + 1) * d));
  }
  const score = (rows: Float64Array) => {
    const out = new Float64Array(rows.length / d);
    for (let r = 0; r < out.length; r++) out[r] = k.execute(rows.subarray(r * d, (r + 1) * d));
    return out;
  };
  return { training: score(normalRows), test: score(testRows) };
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
