/**
 * `foxtail pcap`: Kitsune's features of a packet capture — pcap or pcapng from a file or
 * standard input — scored by a detector of any type that learns online (KitNET by default).
 *
 * @module
 */

import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { assertReadableFile, countCapturePackets, readCaptureBatches } from "../../files/mod.ts";
import { kitsuneFeatureNames, PacketFeatures } from "../../../core/packets/mod.ts";
import type { Detector, DetectorPhase, ModelOptions } from "../../../core/detector.ts";
import { type Command, integerFlag, parseCommandArgs, stringFlag, UsageError } from "../command.ts";
import { MODEL_OPTIONS, modelFromFlags, modelHelp, newDetectorFromFlags } from "../model_flags.ts";
import type { ScoreThreshold } from "../../../core/thresholds/mod.ts";
import { LineWriter } from "../../files/mod.ts";
import { PipelineRowError, ScoringPipeline } from "../../pipeline/mod.ts";
import type { ModelSummary } from "../../pipeline/mod.ts";
import { PHASES } from "../../pipeline/mod.ts";
import {
  reportedPhase,
  THRESHOLD_HELP,
  THRESHOLD_OPTIONS,
  thresholdFromFlags,
  thresholdSummary,
} from "../threshold_flags.ts";
import { TimelineRecorder } from "../../plot/mod.ts";
import { fitLearning, nothingScoredNote } from "../learning_budget.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const HELP = `foxtail pcap FILE|- [options]

Runs Kitsune on a packet capture: FILE is pcap or pcapng (- for standard input, e.g.
"tcpdump -w - | foxtail pcap -"), read chunk by chunk. Link types: Ethernet, Linux cooked
v1/v2, BSD loopback (NULL, LOOP), raw IPv4/IPv6. Each packet becomes 100 damped statistics
(AfterImage), scored by the detector --model names (KitNET, as Kitsune does, by default).
Writes "index,score" rows, one per packet in order (0 while learning), to --out or, without it,
to standard output. Progress (on a terminal) and a summary go to standard error.

Model:
${modelHelp("packets")}
  A capture FILE that ends within the detector's learning (KitNET's: both grace periods) would
  score nothing. Then, unless its learning flags are given (--fm-grace, --ad-grace; HST:
  --warm-up, --window), the detector learns from the first half of the capture instead
  (KitNET: a tenth of that half maps the features, the rest trains) and says so on standard
  error. Learning flags given are kept, and the end of a run that scored nothing (standard
  input too) says why.

Feature tables (least recently used streams are evicted beyond these, and counted):
  --max-streams N       streams per table (default 20000)
  --max-pairs N         stream pairs per table (default 40000)

Input and output:
  --out FILE            write index,score here instead of standard output
  --features-out FILE   write the 100 features of every packet as CSV (header of names)
  --plot FILE.svg       draw the score timeline (log axis, learning phases shaded)
  --limit N             stop after N packets

Speed:
  --threads 1|2         2: the detector scores on a second thread while the next packets' features
                        are computed (the same scores, faster on two cores or more); default 2
                        when more than one CPU is available, else 1

${THRESHOLD_HELP}

  -h, --help            this help`;

const OPTIONS = {
  ...MODEL_OPTIONS,
  "max-streams": { type: "string" },
  "max-pairs": { type: "string" },
  "out": { type: "string" },
  "features-out": { type: "string" },
  "plot": { type: "string" },
  "limit": { type: "string" },
  "threads": { type: "string" },
  ...THRESHOLD_OPTIONS,
} as const;

/** The detector's model section, from the flags (KitNET's kernel: the fastest, by default). */
function modelOptions(values: Record<string, string | boolean | undefined>): ModelOptions {
  return modelFromFlags(values);
}

/** `--threads`: 1 or 2, and whether it was asked for (rather than chosen from the CPU count). */
function threadsFlag(values: Record<string, string | boolean | undefined>) {
  const raw = values.threads;
  if (raw === undefined) return { threads: availableParallelism() > 1 ? 2 : 1, asked: false };
  if (raw !== "1" && raw !== "2") {
    throw new UsageError(`--threads must be 1 or 2, got ${JSON.stringify(raw)}`);
  }
  return { threads: Number(raw), asked: true };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("pcap takes exactly one FILE (or -)");
  const file = positionals[0];
  let model = modelOptions(values);
  const extractor = new PacketFeatures({
    maxStreams: integerFlag(values, "max-streams", undefined, 2),
    maxPairs: integerFlag(values, "max-pairs", undefined, 1),
  });
  const inputs = extractor.featureCount;
  // Made here even when a worker scores (it makes its own from `model`): bad options are
  // reported here, naming the flag, before any thread starts.
  const names = kitsuneFeatureNames().slice(0, inputs);
  let detector: Detector = newDetectorFromFlags(model, names, "pcap");
  const limit = integerFlag(values, "limit", Infinity as number, 0);
  const threshold = thresholdFromFlags(values);
  const { threads, asked } = threadsFlag(values);
  // After every flag is checked (a usage error comes first), before a thread starts.
  assertReadableFile(file);
  if (file !== "-") {
    // Counted no further than the learning: a long capture costs a glance at its start.
    const learningTotal = detector.learningTotal;
    const held = await countCapturePackets(file, learningTotal + 1);
    const packets = Math.min(held, limit);
    const input = packets === limit
      ? `--limit ${limit} stops after ${packetCount(packets)}`
      : `the capture holds ${packetCount(packets)}`;
    const fit = fitLearning(model, packets, learningTotal, input, "packets");
    if (fit.note !== undefined) {
      model = fit.model;
      detector = newDetectorFromFlags(model, names, "pcap");
      console.error(`foxtail pcap: ${fit.note}`);
    }
  }
  const started = performance.now();

  // Every score, in packet order, whichever thread computed it.
  const progress = new ProgressLine(
    `scoring ${file === "-" ? "standard input" : basename(file)}`,
    { unit: "packets" },
  );
  const plotPath = stringFlag(values, "plot");
  const timeline = plotPath === undefined ? undefined : new TimelineRecorder();
  const scoreLines: string[] = [];
  let scored = 0;
  let executed = 0;
  const take = (phase: DetectorPhase, score: number) => {
    if (phase === "executing") executed++;
    const reported = reportedPhase(phase, threshold);
    if (phase === "executing") threshold?.observe(score);
    timeline?.record(reported, score);
    scoreLines.push(`${scored},${score}`);
    scored++;
    if ((scored & 1023) === 0) progress.update(scored, reported);
  };

  let pipeline: ScoringPipeline | undefined;
  if (threads === 2) {
    try {
      pipeline = await ScoringPipeline.start({
        model,
        inputs,
        onScores(_first, batch, rows) {
          for (let i = 0; i < rows; i++) take(PHASES[batch.phases[i]], batch.scores[i]);
        },
      });
    } catch (error) {
      if (asked) throw new Error(`--threads 2: ${(error as Error).message}`);
      console.error(`foxtail pcap: scoring on one thread (${(error as Error).message})`);
    }
  }

  const out = new LineWriter(stringFlag(values, "out"));
  const featuresPath = stringFlag(values, "features-out");
  const featuresOut = featuresPath === undefined ? undefined : new LineWriter(featuresPath);
  let index = 0;
  let failure: Error | undefined;
  let summaryOfModel: ModelSummary | undefined;
  await out.line("index,score");
  await featuresOut?.line(kitsuneFeatureNames().join(","));
  // Lines go out once per batch (one per chunk read): far cheaper than one write per packet.
  const featureLines: string[] = [];
  const flush = async () => {
    // Taken first: scores from the worker may arrive while these are written.
    const scores = scoreLines.splice(0), features = featureLines.splice(0);
    if (scores.length > 0) await out.line(scores.join("\n"));
    if (features.length > 0) await featuresOut!.line(features.join("\n"));
  };
  try {
    packets: for await (const batch of readCaptureBatches(file)) {
      for (const record of batch) {
        if (index >= limit) break packets;
        try {
          if (pipeline === undefined) {
            const features = extractor.extract(
              record.data,
              record.linkType,
              record.timestamp,
              record.originalLength,
            );
            const phase = detector.phase;
            take(phase, detector.process(features));
          } else {
            extractor.extract(
              record.data,
              record.linkType,
              record.timestamp,
              record.originalLength,
            );
          }
        } catch (error) {
          throw new Error(
            `packet ${record.index} (byte offset ${record.offset}): ${(error as Error).message}`,
          );
        }
        if (pipeline !== undefined && !pipeline.tryPush(extractor.features, record.offset)) {
          await flush(); // while the detector catches up
          await pipeline.room();
          pipeline.tryPush(extractor.features, record.offset);
        }
        if (featuresOut !== undefined) featureLines.push(extractor.features.join(","));
        index++;
      }
      pipeline?.flush();
      await flush();
    }
  } catch (error) {
    failure = describeFailure(error as Error);
  }
  // Scores of every packet read (before a fault too) are still to come from the worker.
  if (pipeline === undefined) summaryOfModel = modelSummary(detector);
  else {
    try {
      summaryOfModel = await pipeline.close();
    } catch (error) {
      failure ??= describeFailure(error as Error);
    }
  }
  try {
    await flush();
  } catch (error) {
    failure ??= error as Error;
  }
  progress.done();
  await out.close();
  await featuresOut?.close();
  const seconds = (performance.now() - started) / 1000;

  if (timeline !== undefined && plotPath !== undefined) {
    const title = `foxtail · ${model.type} scores of Kitsune's features of ${
      file === "-" ? "standard input" : file
    }`;
    timeline.writeSvg(plotPath, title, threshold?.threshold);
  }

  // Nothing to sum up when the first packet already failed (not a capture): the error says it.
  if (failure === undefined || scored > 0) {
    console.error(
      summary(extractor, summaryOfModel, scored, seconds, threshold, pipeline !== undefined),
    );
  }
  if (failure === undefined && scored > 0 && executed === 0) {
    console.error(
      `foxtail pcap: ${nothingScoredNote(model, scored, detector.learningTotal, "packets")}`,
    );
  }
  if (failure !== undefined) {
    const kept = scored > 0 ? `; the ${packetCount(scored)} before it were scored and written` : "";
    console.error(`foxtail pcap: ${failure.message}${kept}`);
    return 1;
  }
  return 0;
}

/** A detector's failure on the worker, worded as on one thread. */
function describeFailure(error: Error): Error {
  if (!(error instanceof PipelineRowError)) return error;
  return new Error(`packet ${error.index} (byte offset ${error.tag}): ${error.message}`);
}

function modelSummary(detector: Detector): ModelSummary {
  return {
    phase: detector.phase,
    summary: detector.summary(),
    learningLeft: detector.learningTotal - detector.learningDone,
  };
}

function summary(
  extractor: PacketFeatures,
  model: ModelSummary | undefined,
  packets: number,
  seconds: number,
  threshold: ScoreThreshold | undefined,
  pipelined: boolean,
): string {
  const { afterImage } = extractor;
  const usage = afterImage.usage();
  const parts = [
    `${packetCount(packets)} in ${formatSeconds(seconds)} ` +
    `(${Math.round(packets / Math.max(seconds, 1e-9)).toLocaleString("en-US")} packets/s)`,
  ];
  if (model !== undefined) {
    parts.push(model.summary + (pipelined ? " (scored on a second thread)" : ""));
  }
  parts.push(
    `streams MI ${usage.MI.streams}, H ${usage.H.streams}, jit ${usage.jit.streams}, ` +
      `Hp ${usage.Hp.streams} (of ${afterImage.maxStreams} each); ` +
      `evictions: ${afterImage.streamEvictions} streams, ${afterImage.pairEvictions} pairs`,
  );
  if (threshold !== undefined) parts.push(thresholdSummary(threshold));
  return parts.join("; ");
}

/** "1 packet", "6,000 packets". */
function packetCount(packets: number): string {
  return `${packets.toLocaleString("en-US")} packet${packets === 1 ? "" : "s"}`;
}

/** The `pcap` command. */
export const pcapCommand: Command = {
  name: "pcap",
  summary: "Kitsune on a pcap/pcapng capture (features + a detector's score per packet)",
  help: HELP,
  run,
};
