/**
 * `foxtail sample`: a synthetic smart-building telemetry stream with faults injected at the end,
 * for trying foxtail without data of your own.
 *
 * @module
 */

import { MersenneTwister } from "../../../core/math/mod.ts";
import { type Command, integerFlag, parseCommandArgs, stringFlag, UsageError } from "../command.ts";
import { LineWriter } from "../../files/mod.ts";

const HELP = `foxtail sample [options]

Writes a synthetic sensor stream as CSV: one row per minute of a building's telemetry
(temperature, humidity, heater power, occupancy, light, CO2, vibration, mains voltage), with daily
cycles, correlations and noise. From --faults-from on, faults are injected (a stuck heater, a CO2
leak, a failing bearing, voltage sags); the episodes are listed on standard error.

  --rows N          rows to write (default 30000)
  --faults-from N   first row that may hold a fault (default: 90 % of --rows)
  --seed N          random seed (default 7)
  --header          write a header row of column names
  --out FILE        write here instead of standard output
  -h, --help        this help`;

/** The sample's columns. */
export const SAMPLE_COLUMNS = [
  "temperature_c",
  "humidity_pct",
  "heater_w",
  "occupancy",
  "light_lux",
  "co2_ppm",
  "vibration_g",
  "mains_v",
] as const;

/** A fault episode in the sample. */
export interface FaultEpisode {
  kind: "stuck-heater" | "co2-leak" | "bearing" | "voltage-sag";
  start: number;
  end: number;
}

/** Gaussian noise from a Mersenne Twister (Box–Muller). */
function gaussian(rng: MersenneTwister): number {
  const u = 1 - rng.nextDouble();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
}

/** Plans fault episodes between `from` and `rows`. */
export function planFaults(rows: number, from: number): FaultEpisode[] {
  const kinds: FaultEpisode["kind"][] = ["stuck-heater", "co2-leak", "bearing", "voltage-sag"];
  const span = rows - from;
  if (span < 40) return [];
  const slot = Math.floor(span / kinds.length);
  return kinds.map((kind, i) => {
    const start = from + i * slot + Math.floor(slot / 4);
    return { kind, start, end: Math.min(rows, start + Math.max(10, Math.floor(slot / 3))) };
  });
}

/** Generates the rows (as numbers) of the sample stream. */
export function* sampleRows(rows: number, faults: FaultEpisode[], seed = 7): Generator<number[]> {
  const rng = new MersenneTwister(seed);
  const day = 1440;
  let occupancy = 0;
  for (let t = 0; t < rows; t++) {
    const phase = (2 * Math.PI * (t % day)) / day;
    const active = faults.find((f) => t >= f.start && t < f.end)?.kind;
    const workday = Math.floor(t / day) % 7 < 5;
    const hour = (t % day) / 60;
    const target = workday && hour >= 8 && hour < 18 ? 1 : 0;
    occupancy += 0.05 * (target - occupancy);
    const outdoor = 12 - 6 * Math.cos(phase);
    let heater = Math.max(0, 900 - 45 * outdoor + 200 * occupancy + 25 * gaussian(rng));
    if (active === "stuck-heater") heater = 1800 + 10 * gaussian(rng);
    const temperature = 20.5 + 0.6 * occupancy + 0.0012 * (heater - 500) + 0.15 * gaussian(rng);
    const humidity = 48 - 0.9 * (temperature - 21) + 2 * Math.sin(phase) + 0.6 * gaussian(rng);
    const light = Math.max(
      0,
      40 + 420 * occupancy + 120 * Math.max(0, -Math.cos(phase)) +
        8 * gaussian(rng),
    );
    let co2 = 430 + 520 * occupancy + 6 * gaussian(rng);
    if (active === "co2-leak") co2 += 900 + 30 * gaussian(rng);
    let vibration = 0.018 + 0.004 * occupancy + 0.0015 * gaussian(rng);
    if (active === "bearing") vibration += 0.05 + 0.02 * Math.abs(gaussian(rng));
    let mains = 230 - 3 * occupancy + 0.6 * gaussian(rng);
    if (active === "voltage-sag") mains -= 25 + 3 * gaussian(rng);
    yield [
      temperature,
      humidity,
      heater,
      // A share of the room: the sensor's noise never takes it below empty or above full.
      Math.min(1, Math.max(0, occupancy + 0.01 * gaussian(rng))),
      light,
      co2,
      vibration,
      mains,
    ];
  }
}

async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    "rows": { type: "string" },
    "faults-from": { type: "string" },
    "seed": { type: "string" },
    "header": { type: "boolean" },
    "out": { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const rows = integerFlag(values, "rows", 30000, 1);
  const from = integerFlag(values, "faults-from", Math.floor(rows * 0.9), 0);
  if (from > rows) throw new UsageError(`--faults-from ${from} is beyond --rows ${rows}`);
  const seed = integerFlag(values, "seed", 7, 0);
  const faults = planFaults(rows, from);
  const out = new LineWriter(stringFlag(values, "out"));
  if (values.header) await out.line(SAMPLE_COLUMNS.join(","));
  for (const row of sampleRows(rows, faults, seed)) {
    await out.line(row.map((v) => Number(v.toPrecision(7))).join(","));
  }
  await out.close();
  console.error(
    `sample: ${rows} rows` +
      (faults.length
        ? `; faults: ${faults.map((f) => `${f.kind} rows ${f.start}-${f.end - 1}`).join(", ")}`
        : "; no faults"),
  );
  return 0;
}

/** The `sample` command. */
export const sampleCommand: Command = {
  name: "sample",
  summary: "write a synthetic sensor stream with injected faults (CSV)",
  help: HELP,
  run,
};
