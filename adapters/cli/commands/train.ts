/**
 * `foxtail train`: trains a deep autoencoder on normal records (KDD files or any CSV) and saves
 * it, with its preprocessing and threshold, as one model file for `foxtail score --load-model`.
 *
 * @module
 */

import { formatThresholdRule, parseThresholdRule } from "../../../core/thresholds/mod.ts";
import type { ScalingMethod } from "../../../core/deep_ae/mod.ts";
import {
  DeepAutoencoder,
  type DeepAutoencoderTrainingOptions,
  KDD99_TRAINING,
  NSL_KDD_TRAINING,
} from "../../../core/deep_ae/mod.ts";
import {
  type TabularColumn,
  TabularEncoder,
  type TabularValue,
} from "../../../core/deep_ae/mod.ts";
import { writeFileAtomic } from "../../files/mod.ts";
import {
  type Command,
  integerFlag,
  numberFlag,
  parseCommandArgs,
  stringFlag,
  UsageError,
} from "../command.ts";
import { readCsvRecords } from "../../files/mod.ts";
import { KDD_COLUMNS, loadKdd } from "../../kdd/mod.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const HELP = `foxtail train --data FILE --format kdd|csv --save-model FILE [options]

Trains the lightweight deep autoencoder (d → 100 → 50 → 25 → 12 → 25 → 50 → 100 → d) on the
normal rows of FILE (plain or gzip), learns one-hot categories and scaling from all rows, sets the
anomaly threshold from the normal rows' reconstruction errors, and saves everything in one model
file. Progress per epoch goes to standard error when it is a terminal.

Data:
  --data FILE            the training data
  --format kdd           KDD-99 or NSL-KDD records (41 features, label[, difficulty]; no
                         header); rows labelled "normal" train
  --format csv           CSV with a header row; columns are numeric unless --categorical
  --categorical A,B      (csv) columns to one-hot encode
  --label COLUMN         (csv) label column, not a feature; only rows labelled --normal train
  --normal VALUE         (csv) the label of normal rows (default "normal")
  --dedup                drop exact duplicate rows first (the paper does for KDD-99)
  --scaling S            standard (default) or minmax

Training (defaults: --preset kdd99):
  --preset NAME          the paper's settings: kdd99 (20 epochs, batch 100, lr 1e-3) or nsl-kdd
                         (95 epochs, batch 250, lr 1e-4, L2 0.01 on the 50-unit kernels)
  --epochs N  --batch N  --lr X
  --l2 X                 L2 penalty on the kernels of both 50-unit layers
  --validation-split F   last fraction of normal rows held out (default 0.2)
  --patience N           stop when the validation loss has not improved for N epochs
  --seed N               initialisation and shuffling seed (default 1)
  --threshold RULE       paper (default), qNN, meanK or lognormalP (see foxtail evaluate --help)

Output:
  --save-model FILE      where to write the model (written atomically)
  -h, --help             this help`;

const OPTIONS = {
  "data": { type: "string" },
  "format": { type: "string" },
  "categorical": { type: "string" },
  "label": { type: "string" },
  "normal": { type: "string" },
  "dedup": { type: "boolean" },
  "scaling": { type: "string" },
  "preset": { type: "string" },
  "epochs": { type: "string" },
  "batch": { type: "string" },
  "lr": { type: "string" },
  "l2": { type: "string" },
  "validation-split": { type: "string" },
  "patience": { type: "string" },
  "seed": { type: "string" },
  "threshold": { type: "string" },
  "save-model": { type: "string" },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** Records, the normal flag of each, and the columns, from the --format's reader. */
interface TrainingData {
  columns: readonly TabularColumn[];
  records: TabularValue[][];
  normal: boolean[];
  duplicates: number;
}

async function readKdd(path: string, dedup: boolean): Promise<TrainingData> {
  const data = await loadKdd(path, "auto", { dropDuplicates: dedup });
  return {
    columns: KDD_COLUMNS,
    records: data.records,
    normal: Array.from(data.attack, (a) => a === 0),
    duplicates: data.duplicates,
  };
}

async function readCsv(path: string, values: Values, dedup: boolean): Promise<TrainingData> {
  const categorical = new Set(
    (stringFlag(values, "categorical") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  );
  const labelName = stringFlag(values, "label");
  const normalValue = stringFlag(values, "normal") ?? "normal";
  let header: string[] | undefined;
  let labelIndex = -1;
  let columns: TabularColumn[] = [];
  const records: TabularValue[][] = [];
  const normal: boolean[] = [];
  const seen = dedup ? new Set<string>() : undefined;
  let duplicates = 0;
  for await (const { line, fields } of readCsvRecords(path)) {
    if (header === undefined) {
      header = fields;
      for (const name of categorical) {
        if (!header.includes(name)) {
          throw new UsageError(`--categorical names "${name}", which is not a column of ${path}`);
        }
      }
      if (labelName !== undefined) {
        labelIndex = header.indexOf(labelName);
        if (labelIndex < 0) {
          throw new UsageError(`--label names "${labelName}", which is not a column of ${path}`);
        }
      }
      columns = header.filter((_, i) => i !== labelIndex).map((name) => ({
        name,
        kind: categorical.has(name) ? "categorical" : "numeric",
      }));
      if (columns.length === 0) throw new UsageError(`${path} has no feature columns`);
      continue;
    }
    if (fields.length !== header.length) {
      throw new RangeError(
        `${path}:${line}: ${fields.length} fields, the header has ${header.length}`,
      );
    }
    if (seen !== undefined) {
      const key = fields.join(",");
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
    }
    const record: TabularValue[] = [];
    fields.forEach((field, i) => {
      if (i === labelIndex) return;
      if (columns[record.length].kind === "categorical") {
        record.push(field);
        return;
      }
      const value = field.trim() === "" ? NaN : Number(field);
      if (!Number.isFinite(value)) {
        throw new RangeError(
          `${path}:${line}: column "${header![i]}" must be a number, got ${JSON.stringify(field)}`,
        );
      }
      record.push(value);
    });
    records.push(record);
    normal.push(labelIndex < 0 || fields[labelIndex] === normalValue);
  }
  if (header === undefined) throw new UsageError(`${path} is empty`);
  return { columns, records, normal, duplicates };
}

function trainingOptions(values: Values): DeepAutoencoderTrainingOptions {
  const preset = stringFlag(values, "preset") ?? "kdd99";
  if (preset !== "kdd99" && preset !== "nsl-kdd") {
    throw new UsageError(`--preset must be kdd99 or nsl-kdd, got ${JSON.stringify(preset)}`);
  }
  const base = preset === "kdd99" ? KDD99_TRAINING : NSL_KDD_TRAINING;
  const options: DeepAutoencoderTrainingOptions = { ...base };
  options.epochs = integerFlag(values, "epochs", base.epochs, 1);
  options.batchSize = integerFlag(values, "batch", base.batchSize, 1);
  options.learningRate = numberFlag(values, "lr", base.learningRate!, 0);
  options.validationSplit = values["validation-split"] === undefined
    ? base.validationSplit
    : numberFlag(values, "validation-split", 0.2, -1e-300, 1);
  if (values.l2 !== undefined) {
    const lambda = numberFlag(values, "l2", 0, -1e-300);
    options.penalties = [{ layer: 1, lambda }, { layer: 5, lambda }];
  }
  const patience = integerFlag(values, "patience", undefined, 1);
  if (patience !== undefined) options.earlyStopping = { patience };
  return options;
}

async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const path = stringFlag(values, "data");
  if (path === undefined) throw new UsageError("--data FILE is required");
  const savePath = stringFlag(values, "save-model");
  if (savePath === undefined) throw new UsageError("--save-model FILE is required");
  const format = stringFlag(values, "format");
  if (format !== "kdd" && format !== "csv") {
    throw new UsageError(`--format must be kdd or csv, got ${JSON.stringify(format)}`);
  }
  if (format === "kdd") {
    const clash = ["categorical", "label", "normal"].find((flag) => values[flag] !== undefined);
    if (clash) throw new UsageError(`--${clash} is for --format csv`);
  }
  const scaling = (stringFlag(values, "scaling") ?? "standard") as ScalingMethod;
  if (scaling !== "standard" && scaling !== "minmax") {
    throw new UsageError(`--scaling must be standard or minmax, got ${JSON.stringify(scaling)}`);
  }
  let rule;
  try {
    rule = parseThresholdRule(stringFlag(values, "threshold") ?? "paper");
  } catch (error) {
    throw new UsageError(`--${(error as Error).message}`);
  }
  const seed = integerFlag(values, "seed", 1, 0);
  if (seed > 0xffffffff) throw new UsageError(`--seed must be < 2^32, got ${seed}`);
  const options = trainingOptions(values);
  const dedup = values.dedup === true;

  const data = format === "kdd" ? await readKdd(path, dedup) : await readCsv(path, values, dedup);
  const encoder = TabularEncoder.fit(data.columns, data.records, scaling);
  const normalRecords = data.records.filter((_, i) => data.normal[i]);
  if (normalRecords.length < 2) {
    throw new RangeError(`${path} has ${normalRecords.length} normal rows; training needs ≥ 2`);
  }
  const rows = encoder.encode(normalRecords);
  const model = DeepAutoencoder.create({ inputSize: encoder.outputSize, seed, encoder });
  const progress = new ProgressLine("training", { unit: "epochs", total: options.epochs });
  options.onEpoch = (e) =>
    progress.update(
      e.epoch,
      `loss ${e.loss.toFixed(5)} val ${
        Number.isNaN(e.validationLoss) ? "-" : e.validationLoss.toFixed(5)
      }`,
    );
  const history = model.train(rows, options);
  progress.done();
  const threshold = model.calibrate(model.errors(rows), rule);
  model.metadata = JSON.stringify({
    data: path,
    format,
    rows: data.records.length,
    normalRows: normalRecords.length,
    epochs: history.finalEpoch,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    l2: options.penalties?.[0]?.lambda ?? 0,
    seed,
    finalLoss: history.loss.at(-1),
    finalValidationLoss: history.validationLoss.at(-1),
  });
  writeFileAtomic(savePath, model.toBytes());
  const n = (x: number) => x.toLocaleString("en-US");
  console.log(
    [
      `trained on ${n(history.trainingRows)} of ${n(normalRecords.length)} normal rows ` +
      `(${n(data.records.length)} rows read${
        dedup ? `, ${n(data.duplicates)} duplicates dropped` : ""
      }; ${n(history.validationRows)} held out), ${encoder.outputSize} features`,
      `${history.loss.length} epochs${history.stoppedEarly ? " (stopped early)" : ""} in ` +
      `${formatSeconds(history.seconds)}; final loss ${history.loss.at(-1)!.toFixed(5)}, ` +
      `validation ${history.validationLoss.at(-1)!.toFixed(5)}`,
      `threshold ${threshold.toPrecision(6)} (${formatThresholdRule(rule)})`,
      `model saved to ${savePath}`,
    ].join("\n"),
  );
  return 0;
}

/** The `train` command. */
export const trainCommand: Command = {
  name: "train",
  summary: "train a deep autoencoder on normal records and save it with its threshold",
  help: HELP,
  run,
};
