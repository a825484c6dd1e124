/**
 * `--model TYPE` and each model type's own flags, as `score` and `pcap` share them: every flag
 * comes from the registry (`DetectorType.flags`), so a new model type brings its flags with it
 * and no command names a type.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import {
  type Detector,
  type DetectorType,
  type ModelFlag,
  type ModelOptions,
  ModelProblem,
} from "../../core/detector.ts";
import { DEFAULT_DETECTOR_TYPE, DETECTOR_TYPES, detectorType } from "../../core/registry.ts";
import { integerFlag, numberFlag, type ParsedArgs, stringFlag, UsageError } from "./command.ts";

/** The types that learn online, so a command can start one from nothing. */
const ONLINE_TYPES: readonly DetectorType[] = DETECTOR_TYPES.map(detectorType).filter((t) =>
  t.learningWithin !== undefined
);

/** Every type's flags, once each (two types may share a flag with the same meaning). */
const ALL_FLAGS: readonly ModelFlag[] = ONLINE_TYPES.flatMap((t) => t.flags).filter((f, i, all) =>
  all.findIndex((g) => g.flag === f.flag) === i
);

/** The flags' `parseArgs` options: `--model` and every type's own. */
export const MODEL_OPTIONS: Record<string, { type: "string" }> = Object.fromEntries([
  ["model", { type: "string" }],
  ...ALL_FLAGS.map((f) => [f.flag, { type: "string" }]),
]);

/** The flags' `--help` lines: `--model`, then each type's flags under its name. */
export function modelHelp(unit = "instances"): string {
  const names = ONLINE_TYPES.map((t) => t.type).join(", ");
  const lines = [
    `  --model TYPE          the detector: ${names} (default ${DEFAULT_DETECTOR_TYPE})`,
  ];
  for (const type of ONLINE_TYPES) {
    lines.push(`  ${type.type}:`);
    for (const f of type.flags) {
      const value = { "json-file": "FILE", "integer": "N", "number": "X", "choice": "NAME" };
      const name = `--${f.flag} ${value[f.kind]}`;
      lines.push(`    ${name.padEnd(20)}${f.help.replaceAll("instances", unit)}`);
    }
  }
  return lines.join("\n");
}

/** The first model flag given (`--model` included), for a command that refuses them. */
export function givenModelFlag(values: ParsedArgs["values"]): string | undefined {
  return Object.keys(MODEL_OPTIONS).find((flag) => values[flag] !== undefined);
}

/**
 * The model section the flags ask for: `--model` (default the registry's default type) and its
 * flags. Throws a `UsageError` naming the flag for a type that does not learn online, a flag of
 * another type, or a bad value.
 */
export function modelFromFlags(values: ParsedArgs["values"]): ModelOptions {
  const name = stringFlag(values, "model") ?? DEFAULT_DETECTOR_TYPE;
  const type = ONLINE_TYPES.find((t) => t.type === name);
  if (type === undefined) {
    const known = DETECTOR_TYPES.includes(name);
    throw new UsageError(
      known
        ? `--model ${name} is trained beforehand (foxtail train), not learned here: give its ` +
          `file to --load-model instead`
        : `--model must be one of ${ONLINE_TYPES.map((t) => t.type).join(", ")}, got ` +
          JSON.stringify(name),
    );
  }
  const options: ModelOptions = { type: type.type };
  for (const f of ALL_FLAGS) {
    if (values[f.flag] === undefined) continue;
    const own = type.flags.find((g) => g.flag === f.flag);
    if (own === undefined) {
      const owners = ONLINE_TYPES.filter((t) => t.flags.some((g) => g.flag === f.flag));
      throw new UsageError(
        `--${f.flag} is an option of ${owners.map((t) => t.type).join(", ")}, not of ${type.type}`,
      );
    }
    options[own.key] = flagValue(values, own);
  }
  return options;
}

function flagValue(values: ParsedArgs["values"], f: ModelFlag): unknown {
  if (f.kind === "integer") return integerFlag(values, f.flag, undefined, f.least);
  if (f.kind === "number") return numberFlag(values, f.flag, NaN, f.least);
  if (f.kind === "choice") {
    const value = stringFlag(values, f.flag)!;
    if (!f.choices!.includes(value)) {
      throw new UsageError(
        `--${f.flag} must be one of ${f.choices!.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }
  const path = stringFlag(values, f.flag)!;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--${f.flag} ${path}: ${(error as Error).message}`);
  }
}

/**
 * A new detector of `model` (from {@linkcode modelFromFlags}) for rows of `names`; throws a
 * `RangeError` naming the flag when the options cannot make one.
 */
export function newDetectorFromFlags(
  model: ModelOptions,
  names: readonly string[],
  stream: string,
): Detector {
  const type = detectorType(model.type);
  try {
    return type.forStream(model, { stream, fields: names, features: names, files: new Map() })
      .create();
  } catch (error) {
    if (!(error instanceof ModelProblem)) throw error;
    const flag = type.flags.find((f) => f.key === error.key)?.flag;
    throw new RangeError(flag === undefined ? error.message : `--${flag}: ${error.message}`);
  }
}
