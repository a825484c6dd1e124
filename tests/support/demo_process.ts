/**
 * `foxtail demo` as a child process of the runtime the tests run under: started, its dashboard
 * URL read from standard output, stopped by a signal or its `--duration`.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { CLI, runtimeCommand } from "./run_cli.ts";
import { ROOT } from "./shared.ts";

/** A running `foxtail demo`. */
export interface DemoProcess {
  /** The dashboard URL it printed (with a trailing slash). */
  url: string;
  /** The child process. */
  child: ChildProcess;
  /** Standard output so far. */
  stdout(): string;
  /** Standard error so far. */
  stderr(): string;
  /** Resolves with the exit code once the child has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) unless it has exited; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The line `foxtail demo` prints its dashboard URL on. */
const URL_LINE = /^foxtail demo: dashboard at (http:\/\/\S+)$/m;

/** Options of {@linkcode startDemoProcess}. */
export interface DemoProcessOptions {
  /** How long to wait for the URL (default 90 s). */
  timeoutMs?: number;
  /** Environment variables to set for the child, over the tests' own (e.g. TMPDIR). */
  env?: Record<string, string>;
}

/**
 * Starts `foxtail demo ...args` and resolves once it printed its URL; rejects (and kills it) if
 * it exits first or prints nothing within the timeout.
 */
export function startDemoProcess(
  args: string[],
  { timeoutMs = 90_000, env = {} }: DemoProcessOptions = {},
): Promise<DemoProcess> {
  const [command, prefix] = runtimeCommand(CLI);
  const child = spawn(command, [...prefix, "demo", ...args], {
    cwd: ROOT,
    stdio: "pipe",
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => out += chunk);
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => err += chunk);
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`foxtail demo printed no URL in ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    const onData = () => {
      const match = URL_LINE.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      resolve({
        url: match[1],
        child,
        stdout: () => out,
        stderr: () => err,
        exited,
        stop(signal: NodeJS.Signals = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) {
            // Not child.kill(): Deno's child_process then reports any exit as killed by the
            // signal (code null), hiding the exit code a clean shutdown must give.
            process.kill(child.pid!, signal);
          }
          return exited;
        },
      });
    };
    child.stdout!.on("data", onData);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`foxtail demo exited (${code}) before printing its URL; stderr:\n${err}`));
    });
  });
}
