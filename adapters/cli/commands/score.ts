/**
 * `foxtail score`: streams a CSV of instances through a detector (a new one of any type that
 * learns online, or any saved model, read through the registry) and writes one score per row.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import process from "node:process";
import type { Detector, ModelOptions } from "../../../core/detector.ts";
import { DEFAULT_DETECTOR_TYPE, readDetector } from "../../../core/registry.ts";
import { hasThreshold } from "../../../core/thresholds/mod.ts";
import { writeFileAtomic } from "../../files/mod.ts";
import { type Command, parseCommandArgs, stringFlag, UsageError } from "../command.ts";
import {
  givenModelFlag,
  MODEL_OPTIONS,
  modelFromFlags,
  modelHelp,
  newDetectorFromFlags,
} from "../model_flags.ts";
import { readCsvRecords } from "../../files/mod.ts";
import { LineWriter } from "../../files/mod.ts";
import {
  reportedPhase,
  THRESHOLD_HELP,
  THRESHOLD_OPTIONS,
  thresholdFromFlags,
  thresholdSummary,
} from "../threshold_flags.ts";
import { assertReadableFile, parseNumericRow, RowError } from "../../files/mod.ts";
import { TimelineRecorder } from "../../plot/mod.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const HELP = `foxtail score FILE [options]

Streams FILE (CSV of numbers, one instance per row; plain or gzip; - for standard input)
through a new detector (--model), or through the model --load-model reads (one saved by score,
or a deep autoencoder saved by train, which reads its own records, categories included). Writes
"index,score" rows, one per input row in order (0 while learning), to --out or, without it,
to standard output; a model that brings its own threshold writes "index,score,anomaly".
Progress and a summary go to standard error.

Model (not with --load-model, which brings its own):
${modelHelp()}

Input and output:
  --header              the first row holds column names
  --out FILE            write index,score here instead of standard output
  --save-model FILE     save the model after the last row (atomically)
  --load-model FILE     start from a saved model (any type: its file says which)
  --plot FILE.svg       draw the score timeline (log axis, learning phases shaded)

${THRESHOLD_HELP}

  -h, --help            this help`;

const OPTIONS = {
  ...MODEL_OPTIONS,
  "header": { type: "boolean" },
  "out": { type: "string" },
  "save-model": { type: "string" },
  "load-model": { type: "string" },
  "plot": { type: "string" },
  ...THRESHOLD_OPTIONS,
} as const;

/** Flags that choose a threshold, which a model bringing its own does not take. */
const CALIBRATION_FLAGS = ["calibration", "tail-probability"];

/** A new detector for `inputs` columns, from the model flags. */
function newDetector(options: ModelOptions, inputs: number): Detector {
  const names = Array.from({ length: inputs }, (_, i) => `column ${i}`);
  return newDetectorFromFlags(options, names, "score");
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
  let detector: Detector | undefined;
  if (loadPath !== undefined) {
    const clash = givenModelFlag(values);
    if (clash) throw new UsageError(`--${clash} cannot be combined with --load-model`);
    assertReadableFile(loadPath);
    detector = readDetector(new Uint8Array(readFileSync(loadPath)), loadPath);
  }
  const options = loadPath === undefined ? modelFromFlags(values) : undefined;
  // A model with its own threshold flags its anomalies itself: one more column.
  const own = detector !== undefined && hasThreshold(detector.ownThreshold);
  if (own) {
    const clash = CALIBRATION_FLAGS.find((flag) => values[flag] !== undefined);
    if (clash) {
      throw new UsageError(`--${clash} does not apply to ${loadPath}: it brings its own threshold`);
    }
  }
  const threshold = own ? undefined : thresholdFromFlags(values);

  // After every flag is checked (a usage error comes first), before anything is written.
  assertReadableFile(file);
  const out = new LineWriter(stringFlag(values, "out"));
  const plotPath = stringFlag(values, "plot");
  const timeline = plotPath === undefined ? undefined : new TimelineRecorder();
  const progress = new ProgressLine(
    `scoring ${file === "-" ? "standard input" : basename(file)}`,
    { unit: "rows" },
  );

  let instance: Float64Array | undefined;
  let header = values.header === true;
  let index = 0;
  let anomalies = 0;
  let failure: RowError | Error | undefined;
  const started = performance.now();
  await out.line(own ? "index,score,anomaly" : "index,score");
  try {
    for await (const { line, fields } of readCsvRecords(file)) {
      if (header) {
        header = false;
        continue;
      }
      if (instance === undefined) {
        detector ??= newDetector(options!, fields.length);
        instance = new Float64Array(detector.inputs);
      }
      const d = detector!;
      if (d.readRecord !== undefined && d.recordColumns !== undefined) {
        if (fields.length !== d.recordColumns) {
          throw new RangeError(
            `line ${line}: ${fields.length} columns, the model reads ${d.recordColumns}`,
          );
        }
        try {
          d.readRecord(fields, instance);
        } catch (error) {
          throw new RangeError(`line ${line}: ${(error as Error).message}`);
        }
      } else {
        parseNumericRow(fields, line, instance);
      }
      const learning = d.phase;
      const phase = reportedPhase(learning, threshold);
      const score = d.process(instance);
      if (learning === "executing") threshold?.observe(score);
      timeline?.record(phase, score);
      if (own) {
        const anomaly = score >= d.ownThreshold;
        if (anomaly) anomalies++;
        await out.line(`${index},${score},${anomaly ? 1 : 0}`);
      } else {
        await out.line(`${index},${score}`);
      }
      index++;
      if ((index & 1023) === 0) progress.update(index, phase);
    }
  } catch (error) {
    failure = error as Error;
  }
  progress.done();
  await out.close();
  const seconds = (performance.now() - started) / 1000;

  if (detector !== undefined) {
    const savePath = stringFlag(values, "save-model");
    if (savePath !== undefined) writeFileAtomic(savePath, detector.toBytes());
  }
  if (timeline !== undefined && plotPath !== undefined) {
    const title = `foxtail · ${detector?.type ?? DEFAULT_DETECTOR_TYPE} scores of ${
      file === "-" ? "standard input" : file
    }`;
    timeline.writeSvg(plotPath, title, own ? detector!.ownThreshold : threshold?.threshold);
  }

  const summary = [
    `scored ${rowCount(index)} in ${formatSeconds(seconds)} ` +
    `(${Math.round(index / Math.max(seconds, 1e-9)).toLocaleString("en-US")} rows/s)`,
  ];
  if (detector !== undefined) summary.push(detector.summary());
  if (own) summary.push(`${anomalies} anomalies at or above the model's threshold`);
  if (threshold !== undefined) summary.push(thresholdSummary(threshold));
  // Nothing to sum up when the first row already failed: the error alone says it.
  if (failure === undefined || index > 0) console.error(summary.join("; "));
  if (failure !== undefined) {
    const message = failure instanceof RowError || failure instanceof RangeError
      ? failure.message
      : String(failure);
    const kept = index > 0 ? `; the ${rowCount(index)} before it were scored and written` : "";
    console.error(`foxtail score: ${message}${kept}`);
    process.exitCode = 1;
    return 1;
  }
  return 0;
}

/** "1 row", "2,000 rows". */
function rowCount(rows: number): string {
  return `${rows.toLocaleString("en-US")} row${rows === 1 ? "" : "s"}`;
}

/** The `score` command. */
export const scoreCommand: Command = {
  name: "score",
  summary:
    "score a CSV stream with a new detector or a saved model (index,score out; SVG timeline)",
  help: HELP,
  run,
};
