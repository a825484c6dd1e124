/**
 * Runs the foxtail CLI in a child process of the same runtime the tests run under.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { ROOT } from "./shared.ts";

/** The CLI's entry file. */
export const CLI = join(ROOT, "adapters", "cli", "main.ts");

/** The runtime executable and the arguments that run a TypeScript file with it. */
export function runtimeCommand(script: string): [string, string[]] {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return [process.execPath, ["run", "-A", "--quiet", script]];
  return [process.execPath, [script]];
}

/** What a CLI run produced. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `foxtail ...args`, feeding `stdin` when given. */
export function runCli(args: string[], stdin?: string | Uint8Array): Promise<CliResult> {
  const [command, prefix] = runtimeCommand(CLI);
  return runProgram(command, [...prefix, ...args], stdin);
}

/** Runs `command ...args` in the project root, feeding `stdin` when given. */
export function runProgram(
  command: string,
  args: string[],
  stdin?: string | Uint8Array,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: "pipe" });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout.on("data", (chunk) => out.push(chunk));
    child.stderr.on("data", (chunk) => err.push(chunk));
    child.on("error", reject);
    // A child that exits before reading all its input (e.g. --limit) must not fail the test.
    child.stdin.on("error", () => {});
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }));
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

/** The scores of an `index,score` CSV, checking the header and that indices run 0, 1, 2, … */
export function parseScoreCsv(csv: string): number[] {
  const lines = csv.trim().split("\n");
  if (lines[0] !== "index,score") throw new Error(`expected an index,score header: ${lines[0]}`);
  return lines.slice(1).map((line, i) => {
    const [index, score] = line.split(",");
    if (Number(index) !== i) throw new Error(`row ${i} is out of order: ${line}`);
    return Number(score);
  });
}
