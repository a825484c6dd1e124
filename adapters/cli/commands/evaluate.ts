/**
 * `foxtail evaluate`: the deep-autoencoder protocol (`spec/deep-autoencoder.md`) on NSL-KDD or
 * KDD-99, end to end, with the deep autoencoder or KitNET; a table, and optionally one JSON line.
 *
 * @module
 */

import { formatThresholdRule, parseThresholdRule } from "../../../core/thresholds/mod.ts";
import { writeFileAtomic } from "../../files/mod.ts";
import {
  type Command,
  integerFlag,
  numberFlag,
  parseCommandArgs,
  stringFlag,
  UsageError,
} from "../command.ts";
import { type KddExperimentResult, runKddExperiment } from "../../kdd/mod.ts";
import { DETECTOR_TYPES } from "../../../core/registry.ts";
import { DEEP_AE_TYPE } from "../../../core/deep_ae/mod.ts";
import type { KddFormat } from "../../kdd/mod.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const HELP = `foxtail evaluate nsl-kdd|kdd99 --train FILE --test FILE [options]

Runs the lightweight deep autoencoder protocol (Dlamini et al.) on a KDD benchmark: binary labels,
(KDD-99) exact duplicates dropped, protocol/service/flag one-hot encoded with training categories,
every column standardised with training statistics, training on the normal training rows only,
threshold from their reconstruction errors, metrics on the test file. Prints a table; progress
per epoch goes to standard error when it is a terminal.

  --train FILE        training file (KDDTrain+…txt / kddcup.data_10_percent; plain or gzip)
  --test FILE         test file (KDDTest+.txt / corrected; plain or gzip)
  --model NAME        deep-ae (default), kitnet or hst (same preprocessed rows; KitNET maps on
                      one pass over the normal training rows and trains on --epochs more passes;
                      Half-Space Trees take the rows' ranges and learn them in order)
  --threshold RULE    paper (default: μ + 1.645·σ/√n of training errors), qNN (NN-th percentile
                      of training errors, e.g. q95, q99), meanK (μ + K·σ), lognormalP (tail P)
  --seed N            initialisation and shuffling seed (default 1)
  --epochs N          deep-ae epochs (default: the paper's, 95 NSL-KDD / 20 KDD-99);
                      kitnet training passes (default 1)
  --lr X              deep-ae Adam step (default: the paper's, 1e-4 NSL-KDD / 1e-3 KDD-99);
                      kitnet SGD step (default 0.1)
  --limit N           read only the first N records of each file (quick runs)
  --save-model FILE   save the trained model (deep-ae: with its preprocessing and threshold);
                      score --load-model reads it
  --json              end standard output with one JSON line of the results
  -h, --help          this help`;

const OPTIONS = {
  "train": { type: "string" },
  "test": { type: "string" },
  "model": { type: "string" },
  "threshold": { type: "string" },
  "seed": { type: "string" },
  "epochs": { type: "string" },
  "lr": { type: "string" },
  "limit": { type: "string" },
  "save-model": { type: "string" },
  "json": { type: "boolean" },
} as const;

const DATASETS: readonly KddFormat[] = ["nsl-kdd", "kdd99"];

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1 || !DATASETS.includes(positionals[0] as KddFormat)) {
    throw new UsageError(
      `evaluate takes one dataset, nsl-kdd or kdd99; got ${
        positionals.length === 0 ? "none" : positionals.map((p) => JSON.stringify(p)).join(" ")
      }`,
    );
  }
  const dataset = positionals[0] as KddFormat;
  const train = stringFlag(values, "train");
  const test = stringFlag(values, "test");
  if (train === undefined) throw new UsageError("--train FILE is required");
  if (test === undefined) throw new UsageError("--test FILE is required");
  // The protocol's own detector is the deep autoencoder; the registry lists the others.
  const protocols = DEEP_AE_TYPE;
  const model = stringFlag(values, "model") ?? protocols;
  if (!DETECTOR_TYPES.includes(model)) {
    const choices = [protocols, ...DETECTOR_TYPES.filter((t) => t !== protocols)];
    throw new UsageError(
      `--model must be one of ${choices.join(", ")}, got ${JSON.stringify(model)}`,
    );
  }
  let threshold;
  try {
    threshold = parseThresholdRule(stringFlag(values, "threshold") ?? "paper");
  } catch (error) {
    throw new UsageError(`--${(error as Error).message}`);
  }
  const seed = integerFlag(values, "seed", 1, 0);
  if (seed > 0xffffffff) throw new UsageError(`--seed must be < 2^32, got ${seed}`);
  const epochs = integerFlag(values, "epochs", undefined, 1);
  const lr = values.lr === undefined ? undefined : numberFlag(values, "lr", 0, 0);
  const limit = integerFlag(values, "limit", undefined, 1);
  const savePath = stringFlag(values, "save-model");

  let progress: ProgressLine | undefined;
  const label = `evaluating ${model} on ${dataset}`;
  const status = new ProgressLine(label, { unit: "stages" });
  const result = await runKddExperiment({
    dataset,
    train,
    test,
    model,
    threshold,
    seed,
    epochs,
    learningRate: lr,
    limit,
    onPhase: (phase) => {
      progress?.done();
      status.say(`${phase}…`);
    },
    onEpoch: (e) =>
      (progress ??= new ProgressLine(`${label}: training`, { unit: "epochs", total: e.epochs }))
        .update(
          e.epoch,
          `loss ${e.loss.toFixed(5)} val ${
            Number.isNaN(e.validationLoss) ? "-" : e.validationLoss.toFixed(5)
          }`,
        ),
  });
  progress?.done();
  status.done();
  if (savePath !== undefined) writeFileAtomic(savePath, result.detector.toBytes());
  console.log(formatTable(result, formatThresholdRule(threshold), train, test));
  if (savePath !== undefined) console.log(`model saved to ${savePath}`);
  if (values.json) console.log(JSON.stringify(jsonSummary(result, formatThresholdRule(threshold))));
  return 0;
}

/** The results as one flat JSON object (what `--json` prints). */
export function jsonSummary(r: KddExperimentResult, rule: string): Record<string, unknown> {
  const m = r.report;
  return {
    dataset: r.dataset,
    model: r.model,
    thresholdRule: rule,
    seed: r.seed,
    epochs: r.training.epochs,
    learningRate: r.training.learningRate,
    weightedF1: m.weightedF1,
    f1: m.f1,
    macroF1: m.macroF1,
    precision: m.precision,
    recall: m.recall,
    accuracy: m.accuracy,
    falsePositiveRate: m.falsePositiveRate,
    auc: r.auc,
    prAuc: r.prAuc,
    threshold: r.threshold,
    thresholdTrainingQuantile: r.thresholdTrainingQuantile,
    confusion: m.confusion,
    trainRows: r.trainRows,
    trainNormalRows: r.trainNormalRows,
    testRows: r.testRows,
    testAttacks: r.testAttacks,
    inputSize: r.inputSize,
    finalLoss: r.finalLoss ?? null,
    finalValidationLoss: r.finalValidationLoss ?? null,
    trainSeconds: r.trainSeconds,
    totalSeconds: r.totalSeconds,
  };
}

function formatTable(r: KddExperimentResult, rule: string, train: string, test: string): string {
  const m = r.report;
  const c = m.confusion;
  const n = (x: number) => x.toLocaleString("en-US");
  const f = (x: number) => x.toFixed(4);
  const trainingLine = r.trainingDescription + (r.finalLoss === undefined ? "" : (
    `; final loss ${r.finalLoss.toFixed(5)}, validation ${r.finalValidationLoss?.toFixed(5)}`
  ));
  const dedup = r.dataset === "kdd99"
    ? ` (${n(r.duplicatesDropped.train)} / ${n(r.duplicatesDropped.test)} duplicates dropped)`
    : "";
  const cw = Math.max(n(c.truePositives).length, n(c.falsePositives).length, 8);
  const cn = Math.max(n(c.falseNegatives).length, n(c.trueNegatives).length, 8);
  return [
    `foxtail evaluate ${r.dataset} · ${r.model} · threshold ${rule} · seed ${r.seed}`,
    `  train      ${train}: ${n(r.trainRows)} rows, ${n(r.trainNormalRows)} normal${dedup}`,
    `  test       ${test}: ${n(r.testRows)} rows, ${n(r.testAttacks)} attacks`,
    `  features   ${r.inputSize} after one-hot encoding`,
    `  training   ${trainingLine}`,
    `  threshold  ${r.threshold.toPrecision(6)} (${rule}; ` +
    `${(r.thresholdTrainingQuantile * 100).toFixed(1)} % of normal training rows below it)`,
    "",
    `  weighted F1   ${f(m.weightedF1)}   (the paper's F1)`,
    `  F1 (attack)   ${f(m.f1)}`,
    `  macro F1      ${f(m.macroF1)}`,
    `  precision     ${f(m.precision)}`,
    `  recall        ${f(m.recall)}`,
    `  accuracy      ${f(m.accuracy)}`,
    `  FP rate       ${f(m.falsePositiveRate)}`,
    `  ROC AUC       ${f(r.auc)}`,
    `  PR AUC        ${f(r.prAuc)}`,
    `  train time    ${formatSeconds(r.trainSeconds)} (total ${formatSeconds(r.totalSeconds)})`,
    "",
    `  confusion         ${"flagged".padStart(cw)}   ${"passed".padStart(cn)}`,
    `    attack          ${n(c.truePositives).padStart(cw)}   ${n(c.falseNegatives).padStart(cn)}`,
    `    normal          ${n(c.falsePositives).padStart(cw)}   ${n(c.trueNegatives).padStart(cn)}`,
  ].join("\n");
}

/** The `evaluate` command. */
export const evaluateCommand: Command = {
  name: "evaluate",
  summary: "run the deep-autoencoder protocol on NSL-KDD or KDD-99 (deep-ae or kitnet)",
  help: HELP,
  run,
};
