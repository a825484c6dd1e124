/**
 * Every online detector type on the same stream, through the detector interface: instances per
 * second of `process()` (score, then learn) once each has learned, and the state bytes of one
 * device's model. The stream is a sensor's (`--fields` values, default 3: slow cycles with
 * noise), the gateway's commonest; `--fields 115` gives Kitsune's width.
 *
 * Run: `deno run -A bench/detectors.ts`, `bun bench/detectors.ts`, `node bench/detectors.ts`
 * (or `npm run bench -- detectors` for all three). Flags: --fields N --instances N --repeat N.
 * Issue 14's target for Half-Space Trees: 10 × River's 85,000 instances/s (score and learn).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { type Detector, DETECTOR_TYPES, detectorType } from "../mod.ts";
import { MersenneTwister } from "../core/math/mod.ts";
import { runtimeName } from "./runtime_name.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    fields: { type: "string", default: "3" },
    instances: { type: "string", default: "500000" },
    learning: { type: "string", default: "6000" },
    repeat: { type: "string", default: "3" },
  },
});
const fields = Number(values.fields), instances = Number(values.instances);
const learning = Number(values.learning), repeat = Number(values.repeat);

/** A sensor's readings: each field a slow cycle of its own period, plus noise. */
function makeStream(rows: number): Float64Array {
  const rng = new MersenneTwister(7);
  const out = new Float64Array(rows * fields);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < fields; f++) {
      out[r * fields + f] = 10 * (f + 1) + Math.sin(r / (200 * (f + 1))) + 0.1 * rng.nextDouble();
    }
  }
  return out;
}

const rows = makeStream(learning + instances);
const names = Array.from({ length: fields }, (_, i) => `f${i}`);
const shape = { stream: "bench", fields: names, features: names, files: new Map() };

/** Instances/s of `process` over the rows after the learning ones; the best of `repeat`. */
function measure(detector: Detector): number {
  const row = new Float64Array(fields);
  for (let r = 0; r < learning; r++) {
    row.set(rows.subarray(r * fields, (r + 1) * fields));
    detector.process(row);
  }
  if (detector.phase !== "executing") throw new Error(`${detector.type} still ${detector.phase}`);
  let best = 0, sink = 0;
  for (let pass = 0; pass < repeat; pass++) {
    const started = performance.now();
    for (let r = learning; r < learning + instances; r++) {
      for (let f = 0; f < fields; f++) row[f] = rows[r * fields + f];
      sink += detector.process(row);
    }
    best = Math.max(best, instances / ((performance.now() - started) / 1000));
  }
  if (!Number.isFinite(sink)) throw new Error("a score was not finite");
  return best;
}

console.log(
  `${runtimeName()}: ${fields} fields, ${learning} instances to learn, then ` +
    `${instances.toLocaleString("en-US")} scored and learned, best of ${repeat}`,
);
for (const name of DETECTOR_TYPES) {
  const type = detectorType(name);
  if (type.learningWithin === undefined) continue; // trained beforehand: not an online learner
  const detector = type.forStream(type.learningWithin(learning), shape).create();
  const perSecond = measure(detector);
  console.log(
    `  ${name.padEnd(8)} ${Math.round(perSecond).toLocaleString("en-US").padStart(11)} ` +
      `instances/s (process: score and learn)   state ${
        detector.toBytes().length.toLocaleString("en-US")
      } bytes`,
  );
}
