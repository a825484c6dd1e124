/**
 * The shape of a CLI command, and option parsing shared by all commands.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A subcommand of `foxtail`. */
export interface Command {
  /** The word after `foxtail`. */
  name: string;
  /** One line for `foxtail --help`. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** A usage mistake: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `parseArgs` in strict mode, with `--help`/`-h` added and errors turned into UsageErrors. */
export function parseCommandArgs(args: string[], options: Options): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A flag's value as an integer ≥ `least`, or `fallback` when absent. */
export function integerFlag(
  values: ParsedArgs["values"],
  name: string,
  fallback: number,
  least?: number,
): number;
export function integerFlag(
  values: ParsedArgs["values"],
  name: string,
  fallback: undefined,
  least?: number,
): number | undefined;
export function integerFlag(
  values: ParsedArgs["values"],
  name: string,
  fallback: number | undefined,
  least = Number.MIN_SAFE_INTEGER,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !/^[-+]?\d+$/.test(raw) || value < least) {
    throw new UsageError(`--${name} must be an integer ≥ ${least}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A flag's value as a finite number within (above, below), or `fallback` when absent. */
export function numberFlag(
  values: ParsedArgs["values"],
  name: string,
  fallback: number,
  above = -Infinity,
  below = Infinity,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !(value > above && value < below)) {
    const range = below === Infinity ? `> ${above}` : `in (${above}, ${below})`;
    throw new UsageError(`--${name} must be a number ${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A flag's string value, or undefined. */
export function stringFlag(values: ParsedArgs["values"], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === "string" ? raw : undefined;
}
