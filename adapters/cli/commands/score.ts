/**
 * `foxtail score`: streams a CSV of instances through KitNET and writes one score per row.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import {
  KitNET,
  KITNET_DEFAULTS,
  type KitNETOptions,
  type KitNETPhase,
} from "../../../core/kitnet/mod.ts";
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
import { LineWriter } from "../../files/mod.ts";
import {
  reportedPhase,
  THRESHOLD_HELP,
  THRESHOLD_OPTIONS,
  thresholdFromFlags,
  thresholdSummary,
} from "../threshold_flags.ts";
import { parseNumericRow, RowError } from "../../files/mod.ts";
import { isDeepAutoencoderFile, scoreWithDeepAutoencoder } from "./score_deep_ae.ts";
import { TimelineRecorder } from "../../plot/mod.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const HELP = `foxtail score FILE [options]

Streams FILE (CSV of numbers, one instance per row; plain or gzip; - for standard input)
through KitNET. Writes "index,score" rows, one per input row in order (0 while learning), to
--out or, without it, to standard output. Progress and a summary go to standard error.

Model (ignored with --load-model, which brings its own):
  --max-ae N            most features per autoencoder (default ${KITNET_DEFAULTS.maxAutoencoderSize})
  --fm-grace N          instances that learn the feature map (default: --ad-grace)
  --ad-grace N          instances that train the autoencoders (default ${KITNET_DEFAULTS.adGracePeriod})
  --lr X                learning rate (default ${KITNET_DEFAULTS.learningRate})
  --hidden-ratio X      hidden units per visible unit (default ${KITNET_DEFAULTS.hiddenRatio})
  --feature-map FILE    JSON list of feature index lists; skips the mapping phase

Input and output:
  --header              the first row holds column names
  --out FILE            write index,score here instead of standard output
  --save-model FILE     save the model after the last row (atomically)
  --load-model FILE     start from a saved model (KitNET, or a deep autoencoder from train)
  --plot FILE.svg       draw the score timeline (log axis, learning phases shaded)

${THRESHOLD_HELP}

  -h, --help            this help`;

const OPTIONS = {
  "max-ae": { type: "string" },
  "fm-grace": { type: "string" },
  "ad-grace": { type: "string" },
  "lr": { type: "string" },
  "hidden-ratio": { type: "string" },
  "feature-map": { type: "string" },
  "header": { type: "boolean" },
  "out": { type: "string" },
  "save-model": { type: "string" },
  "load-model": { type: "string" },
  "plot": { type: "string" },
  ...THRESHOLD_OPTIONS,
} as const;

const MODEL_FLAGS = ["max-ae", "fm-grace", "ad-grace", "lr", "hidden-ratio", "feature-map"];

function loadFeatureMap(path: string): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--feature-map ${path}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((c) => Array.isArray(c))) {
    throw new UsageError(`--feature-map ${path}: expected a JSON list of lists of feature indices`);
  }
  return parsed as number[][];
}

/** Model options from the flags, checked before any data is read. */
function modelOptions(
  values: Record<string, string | boolean | undefined>,
): Omit<KitNETOptions, "n"> {
  const path = stringFlag(values, "feature-map");
  return {
    maxAutoencoderSize: integerFlag(values, "max-ae", KITNET_DEFAULTS.maxAutoencoderSize),
    fmGracePeriod: integerFlag(values, "fm-grace", undefined, 0),
    adGracePeriod: integerFlag(values, "ad-grace", KITNET_DEFAULTS.adGracePeriod, 1),
    learningRate: numberFlag(values, "lr", KITNET_DEFAULTS.learningRate, 0),
    hiddenRatio: numberFlag(values, "hidden-ratio", KITNET_DEFAULTS.hiddenRatio, 0),
    featureMap: path === undefined ? undefined : loadFeatureMap(path),
  };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("score takes exactly one FILE (or -)");
  const file = positionals[0];
  const loadPath = stringFlag(values, "load-model");
  if (loadPath !== undefined) {
    const clash = MODEL_FLAGS.find((flag) => values[flag] !== undefined);
    if (clash) throw new UsageError(`--${clash} cannot be combined with --load-model`);
    if (isDeepAutoencoderFile(loadPath)) return scoreWithDeepAutoencoder(file, loadPath, values);
  }
  const options = loadPath === undefined ? modelOptions(values) : undefined;

  let model: KitNET | undefined = loadPath === undefined
    ? undefined
    : KitNET.fromBytes(new Uint8Array(readFileSync(loadPath)));
  const threshold = thresholdFromFlags(values);

  const out = new LineWriter(stringFlag(values, "out"));
  const plotPath = stringFlag(values, "plot");
  const timeline = plotPath === undefined ? undefined : new TimelineRecorder();
  const progress = new ProgressLine("score");

  let instance: Float64Array | undefined;
  let header = values.header === true;
  let index = 0;
  let failure: RowError | Error | undefined;
  const started = performance.now();
  await out.line("index,score");
  try {
    for await (const { line, fields } of readCsvRecords(file)) {
      if (header) {
        header = false;
        continue;
      }
      if (instance === undefined) {
        model ??= new KitNET({ ...options, n: fields.length });
        instance = new Float64Array(model.n);
      }
      parseNumericRow(fields, line, instance);
      const learning: KitNETPhase = model!.phase;
      const phase = reportedPhase(learning, threshold);
      const score = model!.process(instance);
      if (learning === "executing") threshold?.observe(score);
      timeline?.record(phase, score);
      await out.line(`${index},${score}`);
      index++;
      if ((index & 1023) === 0) progress.update(index, phase);
    }
  } catch (error) {
    failure = error as Error;
  }
  progress.done();
  await out.close();
  const seconds = (performance.now() - started) / 1000;

  if (model !== undefined) {
    const savePath = stringFlag(values, "save-model");
    if (savePath !== undefined) writeFileAtomic(savePath, model.toBytes());
  }
  if (timeline !== undefined && plotPath !== undefined) {
    const title = `foxtail · KitNET scores of ${file === "-" ? "standard input" : file}`;
    timeline.writeSvg(plotPath, title, threshold?.threshold);
  }

  const summary = [
    `scored ${index.toLocaleString("en-US")} rows in ${formatSeconds(seconds)} ` +
    `(${Math.round(index / Math.max(seconds, 1e-9)).toLocaleString("en-US")} rows/s)`,
  ];
  if (model !== undefined) {
    const map = model.featureMap;
    summary.push(
      `phase ${model.phase}` +
        (map
          ? `, ${map.length} autoencoder${map.length === 1 ? "" : "s"}`
          : `, ${model.remainingGrace} rows until scoring`),
    );
  }
  if (threshold !== undefined) summary.push(thresholdSummary(threshold));
  console.error(summary.join("; "));
  if (failure !== undefined) {
    const message = failure instanceof RowError || failure instanceof RangeError
      ? failure.message
      : String(failure);
    console.error(`foxtail score: ${message}; the ${index} rows before it were scored and written`);
    process.exitCode = 1;
    return 1;
  }
  return 0;
}

/** The `score` command. */
export const scoreCommand: Command = {
  name: "score",
  summary: "score a CSV stream with KitNET (index,score out; SVG timeline)",
  help: HELP,
  run,
};
