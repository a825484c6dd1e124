/**
 * `foxtail pcap`: Kitsune on a packet capture — pcap or pcapng from a file or standard input,
 * per-packet AfterImage features and KitNET anomaly scores out.
 *
 * @module
 */

import { readCaptureBatches } from "../pcap/read_capture.ts";
import { kitsuneFeatureNames } from "../../core/afterimage.ts";
import { Kitsune, type KitsuneOptions } from "../../core/kitsune.ts";
import type { KitNETPhase } from "../../core/kitnet.ts";
import { type Command, integerFlag, parseCommandArgs, stringFlag, UsageError } from "../command.ts";
import type { ScoreThreshold } from "../../core/score_threshold.ts";
import { LineWriter } from "../line_writer.ts";
import {
  reportedPhase,
  THRESHOLD_HELP,
  THRESHOLD_OPTIONS,
  thresholdFromFlags,
  thresholdSummary,
} from "../threshold_flags.ts";
import { TimelineRecorder } from "../plot/timeline_recorder.ts";
import { formatSeconds, ProgressLine } from "../terminal_progress.ts";

const HELP = `foxtail pcap FILE|- [options]

Runs Kitsune on a packet capture: FILE is pcap or pcapng (- for standard input, e.g.
"tcpdump -w - | foxtail pcap -"), read chunk by chunk. Link types: Ethernet, Linux cooked
v1/v2, raw IPv4/IPv6. Each packet becomes 100 damped statistics (AfterImage), scored by KitNET.
Writes "index,score" rows, one per packet in order (0 while learning), to --out or, without it,
to standard output. Progress (on a terminal) and a summary go to standard error.

Model:
  --max-ae N            most features per autoencoder (default 10)
  --fm-grace N          packets that learn the feature map (default: --ad-grace)
  --ad-grace N          packets that train the autoencoders (default 10000)

Feature tables (least recently used streams are evicted beyond these, and counted):
  --max-streams N       streams per table (default 20000)
  --max-pairs N         stream pairs per table (default 40000)

Input and output:
  --out FILE            write index,score here instead of standard output
  --features-out FILE   write the 100 features of every packet as CSV (header of names)
  --plot FILE.svg       draw the score timeline (log axis, learning phases shaded)
  --limit N             stop after N packets

${THRESHOLD_HELP}

  -h, --help            this help`;

const OPTIONS = {
  "max-ae": { type: "string" },
  "fm-grace": { type: "string" },
  "ad-grace": { type: "string" },
  "max-streams": { type: "string" },
  "max-pairs": { type: "string" },
  "out": { type: "string" },
  "features-out": { type: "string" },
  "plot": { type: "string" },
  "limit": { type: "string" },
  ...THRESHOLD_OPTIONS,
} as const;

function kitsuneOptions(values: Record<string, string | boolean | undefined>): KitsuneOptions {
  return {
    maxAutoencoderSize: integerFlag(values, "max-ae", 10),
    fmGracePeriod: integerFlag(values, "fm-grace", undefined, 0),
    adGracePeriod: integerFlag(values, "ad-grace", 10000, 1),
    maxStreams: integerFlag(values, "max-streams", undefined, 2),
    maxPairs: integerFlag(values, "max-pairs", undefined, 1),
  };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("pcap takes exactly one FILE (or -)");
  const file = positionals[0];
  const kitsune = new Kitsune(kitsuneOptions(values));
  const limit = integerFlag(values, "limit", Infinity as number, 0);
  const threshold = thresholdFromFlags(values);

  const out = new LineWriter(stringFlag(values, "out"));
  const featuresPath = stringFlag(values, "features-out");
  const featuresOut = featuresPath === undefined ? undefined : new LineWriter(featuresPath);
  const plotPath = stringFlag(values, "plot");
  const timeline = plotPath === undefined ? undefined : new TimelineRecorder();
  const progress = new ProgressLine("pcap");

  let index = 0;
  let failure: Error | undefined;
  const started = performance.now();
  await out.line("index,score");
  await featuresOut?.line(kitsuneFeatureNames().join(","));
  try {
    // Lines go out once per batch (one per chunk read): far cheaper than one write per packet.
    const scoreLines: string[] = [];
    const featureLines: string[] = [];
    const flush = async () => {
      if (scoreLines.length > 0) await out.line(scoreLines.join("\n"));
      if (featureLines.length > 0) await featuresOut!.line(featureLines.join("\n"));
      scoreLines.length = featureLines.length = 0;
    };
    try {
      packets: for await (const batch of readCaptureBatches(file)) {
        for (const record of batch) {
          if (index >= limit) break packets;
          const learning: KitNETPhase = kitsune.kitnet.phase;
          const phase = reportedPhase(learning, threshold);
          let score: number;
          try {
            score = kitsune.process(
              record.data,
              record.linkType,
              record.timestamp,
              record.originalLength,
            );
          } catch (error) {
            throw new Error(
              `packet ${record.index} (byte offset ${record.offset}): ${(error as Error).message}`,
            );
          }
          if (learning === "executing") threshold?.observe(score);
          timeline?.record(phase, score);
          scoreLines.push(`${index},${score}`);
          if (featuresOut !== undefined) featureLines.push(kitsune.features.join(","));
          index++;
          if ((index & 1023) === 0) progress.update(index, phase);
        }
        await flush();
      }
    } finally {
      await flush();
    }
  } catch (error) {
    failure = error as Error;
  }
  progress.done();
  await out.close();
  await featuresOut?.close();
  const seconds = (performance.now() - started) / 1000;

  if (timeline !== undefined && plotPath !== undefined) {
    const title = `foxtail · Kitsune scores of ${file === "-" ? "standard input" : file}`;
    timeline.writeSvg(plotPath, title, threshold?.threshold);
  }

  console.error(summary(kitsune, index, seconds, threshold));
  if (failure !== undefined) {
    console.error(
      `foxtail pcap: ${failure.message}; the ${index} packets before it were scored and written`,
    );
    return 1;
  }
  return 0;
}

function summary(
  kitsune: Kitsune,
  packets: number,
  seconds: number,
  threshold: ScoreThreshold | undefined,
): string {
  const { afterImage, kitnet } = kitsune;
  const usage = afterImage.usage();
  const parts = [
    `${packets.toLocaleString("en-US")} packets in ${formatSeconds(seconds)} ` +
    `(${Math.round(packets / Math.max(seconds, 1e-9)).toLocaleString("en-US")} packets/s)`,
    `phase ${kitnet.phase}` +
    (kitnet.phase === "executing"
      ? `, ${kitnet.featureMap!.length} autoencoders`
      : `, ${kitnet.remainingGrace} packets until scoring`),
    `streams MI ${usage.MI.streams}, H ${usage.H.streams}, jit ${usage.jit.streams}, ` +
    `Hp ${usage.Hp.streams} (of ${afterImage.maxStreams} each); ` +
    `evictions: ${afterImage.streamEvictions} streams, ${afterImage.pairEvictions} pairs`,
  ];
  if (threshold !== undefined) parts.push(thresholdSummary(threshold));
  return parts.join("; ");
}

/** The `pcap` command. */
export const pcapCommand: Command = {
  name: "pcap",
  summary: "Kitsune on a pcap/pcapng capture (features + KitNET score per packet)",
  help: HELP,
  run,
};
