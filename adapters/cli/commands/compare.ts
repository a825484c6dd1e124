/**
 * `foxtail compare`: every detector type side by side on the same data — the demo's telemetry
 * with its labelled faults, a packet capture's Kitsune features, or the KDD files — with ROC
 * AUC, F1 at each one's calibrated threshold, instances/s and state bytes per device, as a table,
 * JSON and an SVG.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { DETECTOR_TYPES } from "../../../core/registry.ts";
import { PacketFeatures } from "../../../core/packets/mod.ts";
import {
  compareDetectors,
  type Comparison,
  type ComparisonRow,
  type LabelledStream,
  renderComparisonSvg,
  telemetryStream,
} from "../../comparison/mod.ts";
import { readCaptureBatches } from "../../files/mod.ts";
import { type KddFormat, runKddExperiment } from "../../kdd/mod.ts";
import {
  type Command,
  integerFlag,
  numberFlag,
  parseCommandArgs,
  stringFlag,
  UsageError,
} from "../command.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const TELEMETRY_LEARN = 2151; // the demo's: KitNET's 150 + 2,000 + 1
const TELEMETRY_CALIBRATION = 600; // the demo's calibration window
const TELEMETRY_STEPS = 2871 + 20 * 288; // learning, calibration, a quiet spell, 20 days of faults

const HELP = `foxtail compare [INPUT] [options]

Runs every detector foxtail has (${DETECTOR_TYPES.join(", ")}) on the same data and prints, per
detector, ROC AUC, precision, recall and F1 at its threshold, instances/s of its step and the
bytes of one device's state. Each detector learns on the same first instances of each device
(one that learns online keeps learning, as on the gateway; one trained beforehand is fitted on
them, standardised), sets its threshold on the same next ones (a log-normal fit at the tail
probability, as the gateway does; a trained model's own rule at the same tail), and is measured
on the rest.

INPUT:
  telemetry             the demo's five simulated nodes (the default), raw readings, faults
                        labelled while they last
  pcap FILE             a capture's packets as Kitsune's 100 features (no labels: AUC and F1
                        are not measured)
  kdd nsl-kdd|kdd99     the deep-autoencoder protocol (foxtail evaluate) for every detector:
                        trained on the normal training rows, measured on the test file

Options:
  --steps N             telemetry: readings per node (default ${TELEMETRY_STEPS})
  --limit N             pcap: packets read at most; kdd: records per file
  --learn N             instances each device learns on (telemetry ${TELEMETRY_LEARN}; pcap: 60%)
  --calibration N       instances after them that set the threshold (telemetry
                        ${TELEMETRY_CALIBRATION}; pcap: 15%)
  --tail-probability P  the thresholds' tail probability (default 1e-3; kdd: the protocol's
                        threshold rule unless given)
  --epochs N            passes of a detector trained beforehand (default: its own)
  --train FILE          kdd: the training file
  --test FILE           kdd: the test file
  --json FILE           write the results as JSON too
  --plot FILE.svg       draw them (ROC AUC, F1, instances/s, state bytes)
  -h, --help            this help`;

const OPTIONS = {
  "steps": { type: "string" },
  "limit": { type: "string" },
  "learn": { type: "string" },
  "calibration": { type: "string" },
  "tail-probability": { type: "string" },
  "epochs": { type: "string" },
  "train": { type: "string" },
  "test": { type: "string" },
  "json": { type: "string" },
  "plot": { type: "string" },
} as const;

type Values = Record<string, string | boolean | undefined>;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [input = "telemetry", ...rest] = positionals;
  const tailProbability = numberFlag(values, "tail-probability", 1e-3, 0, 1);
  const epochs = integerFlag(values, "epochs", undefined, 1);
  const started = performance.now();
  let comparison: Comparison;
  if (input === "telemetry") {
    if (rest.length > 0) throw new UsageError(`telemetry takes no file, got "${rest[0]}"`);
    const steps = integerFlag(values, "steps", TELEMETRY_STEPS, 2);
    const stream = telemetryStream(steps);
    comparison = compareWithProgress(stream, {
      learn: integerFlag(values, "learn", TELEMETRY_LEARN, 1),
      calibration: integerFlag(values, "calibration", TELEMETRY_CALIBRATION, 2),
      tailProbability,
      epochs,
    });
  } else if (input === "pcap") {
    if (rest.length !== 1) throw new UsageError("pcap takes exactly one FILE");
    const stream = await captureStream(
      rest[0],
      integerFlag(values, "limit", Infinity as number, 1),
    );
    const count = stream.devices[0].rows.length / stream.inputs.length;
    comparison = compareWithProgress(stream, {
      learn: integerFlag(values, "learn", Math.floor(count * 0.6), 1),
      calibration: integerFlag(values, "calibration", Math.floor(count * 0.15), 2),
      tailProbability,
      epochs,
    });
  } else if (input === "kdd") {
    const tail = values["tail-probability"] === undefined ? undefined : tailProbability;
    comparison = await compareOnKdd(rest, values, tail, epochs);
  } else {
    throw new UsageError(`INPUT must be telemetry, pcap FILE or kdd DATASET, got "${input}"`);
  }
  console.log(formatComparison(comparison));
  console.error(`compared in ${formatSeconds((performance.now() - started) / 1000)}`);
  const jsonPath = stringFlag(values, "json");
  if (jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify(comparison, finite, 2) + "\n");
  const plotPath = stringFlag(values, "plot");
  if (plotPath !== undefined) writeFileSync(plotPath, renderComparisonSvg(comparison));
  return 0;
}

/** NaN (not measured) as null in JSON. */
function finite(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}

function compareWithProgress(
  stream: LabelledStream,
  options: { learn: number; calibration: number; tailProbability: number; epochs?: number },
): Comparison {
  const progress = new ProgressLine(`comparing detectors on ${stream.name}`, {
    unit: "device runs",
  });
  let typesDone = 0;
  try {
    return compareDetectors(stream, {
      ...options,
      onProgress: (type, done, devices) => {
        progress.update(typesDone * devices + done, type);
        if (done === devices) typesDone++;
      },
    });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new UsageError(`${error.message} (--learn, --calibration)`);
    }
    throw error;
  } finally {
    progress.done();
  }
}

/** A capture's packets as one device's rows of Kitsune features, unlabelled. */
async function captureStream(file: string, limit: number): Promise<LabelledStream> {
  const extractor = new PacketFeatures();
  const width = extractor.featureCount;
  const rows: number[] = [];
  let packets = 0;
  read: for await (const batch of readCaptureBatches(file)) {
    for (const record of batch) {
      if (packets >= limit) break read;
      const features = extractor.extract(
        record.data,
        record.linkType,
        record.timestamp,
        record.originalLength,
      );
      for (let f = 0; f < width; f++) rows.push(features[f]);
      packets++;
    }
  }
  const names = Array.from({ length: width }, (_, i) => `feature ${i}`);
  return {
    name: `${file} (${packets.toLocaleString("en-US")} packets)`,
    inputs: names,
    devices: [{ id: "capture", rows: Float64Array.from(rows) }],
  };
}

/** The KDD protocol once per detector type, as one comparison. */
async function compareOnKdd(
  rest: string[],
  values: Values,
  tailProbability: number | undefined,
  epochs: number | undefined,
): Promise<Comparison> {
  const dataset = rest[0] as KddFormat;
  if (rest.length !== 1 || (dataset !== "nsl-kdd" && dataset !== "kdd99")) {
    throw new UsageError(
      `kdd takes one dataset, nsl-kdd or kdd99; got ${rest.join(" ") || "none"}`,
    );
  }
  const train = stringFlag(values, "train"), test = stringFlag(values, "test");
  if (train === undefined || test === undefined) {
    throw new UsageError("kdd needs --train FILE and --test FILE");
  }
  const limit = integerFlag(values, "limit", undefined, 1);
  const rows: ComparisonRow[] = [];
  let testRows = 0, attacks = 0, trainRows = 0;
  for (const model of DETECTOR_TYPES) {
    let progress: ProgressLine | undefined;
    const result = await runKddExperiment({
      dataset,
      train,
      test,
      model,
      limit,
      epochs,
      threshold: tailProbability === undefined ? undefined : { kind: "lognormal", tailProbability },
      onEpoch: (e) =>
        (progress ??= new ProgressLine(`comparing ${model} on ${dataset}: training`, {
          unit: "epochs",
          total: e.epochs,
        })).update(e.epoch),
    });
    progress?.done();
    testRows = result.testRows;
    attacks = result.testAttacks;
    trainRows = result.trainNormalRows;
    rows.push({
      detector: model,
      learning: "trained beforehand (the dataset's protocol)",
      rocAuc: result.auc,
      f1: result.report.f1,
      precision: result.report.precision,
      recall: result.report.recall,
      flagged: result.report.confusion.truePositives + result.report.confusion.falsePositives,
      instancesPerSecond: scoringSpeed(
        result.detector.inputs,
        result.detector.scoreMany.bind(
          result.detector,
        ),
      ),
      stateBytes: result.detector.toBytes().length,
    });
  }
  return {
    stream: `${dataset} (${test})`,
    devices: 1,
    instances: { learn: trainRows, calibrate: 0, measured: testRows },
    anomalies: attacks,
    rows,
  };
}

/** Instances/s of scoring 20,000 rows of `inputs` standard-normal-like values in one batch. */
function scoringSpeed(inputs: number, scoreMany: (rows: Float64Array, out: Float64Array) => void) {
  const count = 20_000;
  const rows = new Float64Array(count * inputs);
  let state = 12345;
  for (let i = 0; i < rows.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    rows[i] = (state / 2 ** 32 - 0.5) * 3;
  }
  const out = new Float64Array(count);
  const started = performance.now();
  scoreMany(rows, out);
  return count / ((performance.now() - started) / 1000);
}

/** The table people read. */
function formatComparison(c: Comparison): string {
  const lines = [
    `${c.stream}: ${c.devices} device${c.devices === 1 ? "" : "s"}; ` +
    `${c.instances.learn.toLocaleString("en-US")} instances learned on, ` +
    `${c.instances.calibrate.toLocaleString("en-US")} calibrated on, ` +
    `${c.instances.measured.toLocaleString("en-US")} measured` +
    (Number.isNaN(c.anomalies)
      ? " (no labels: ROC AUC and F1 not measured)"
      : ` (${c.anomalies.toLocaleString("en-US")} anomalies)`),
    "",
    "| detector | learns | ROC AUC | F1 | precision | recall | instances/s | state bytes/device |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const fixed = (v: number) => Number.isFinite(v) ? v.toFixed(3) : "—";
  for (const r of c.rows) {
    lines.push(
      `| ${r.detector} | ${r.learning} | ${fixed(r.rocAuc)} | ${fixed(r.f1)} | ` +
        `${fixed(r.precision)} | ${fixed(r.recall)} | ` +
        `${Math.round(r.instancesPerSecond).toLocaleString("en-US")} | ` +
        `${Math.round(r.stateBytes).toLocaleString("en-US")} |`,
    );
  }
  return lines.join("\n");
}

/** The `compare` command. */
export const compareCommand: Command = {
  name: "compare",
  summary: "every detector side by side: ROC AUC, F1, instances/s, state bytes (table, SVG)",
  help: HELP,
  run,
};
