#!/usr/bin/env -S deno run -A
/**
 * The `foxtail` command line: `foxtail <command> [options]`, `--help` on every command.
 *
 * Runs unchanged under Deno (`deno run -A adapters/cli/main.ts`), Bun and Node ≥ 22.18.
 * package.json's `bin` starts it through ./launcher.mjs, which first checks the Node version.
 *
 * @module
 */

import process from "node:process";
import { type Command, UsageError } from "./command.ts";
import { compareCommand } from "./commands/compare.ts";
import { demoCommand } from "./commands/demo.ts";
import { evaluateCommand } from "./commands/evaluate.ts";
import { pcapCommand } from "./commands/pcap.ts";
import { runCommand } from "./commands/run.ts";
import { sampleCommand } from "./commands/sample.ts";
import { trainCommand } from "./commands/train.ts";
import { scoreCommand } from "./commands/score.ts";
import { VERSION } from "../../core/version.ts";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Command[] = [
  demoCommand,
  scoreCommand,
  pcapCommand,
  runCommand,
  sampleCommand,
  evaluateCommand,
  compareCommand,
  trainCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `foxtail ${VERSION}: online anomaly detection for IoT gateways`,
    "",
    "Usage: foxtail <command> [options]   (foxtail <command> --help for details)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "  --version   print the version",
    "  --help      this overview",
  ].join("\n");
}

/** Runs the CLI on `args` (without the runtime and script); resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`foxtail: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`foxtail ${name}: ${error.message}\n(see foxtail ${name} --help)`);
      return 2;
    }
    console.error(`foxtail ${name}: ${(error as Error).message ?? error}`);
    return 1;
  }
}

if (import.meta.main ?? (process.argv[1] && import.meta.url.endsWith(process.argv[1]))) {
  process.exitCode = await main(process.argv.slice(2));
}
