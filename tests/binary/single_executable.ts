/**
 * The single executables, as CI builds and runs them (`npm run test:binary`, part of `npm test`):
 * `bun build --compile` for x86-64 and for arm64 (run under `qemu-aarch64-static`), checked with
 * `--version` and a `score` run whose scores must equal, bit for bit, those of the other
 * executable and of the source under Node; the x86-64 one also runs `demo --duration 5`.
 *
 * Run once, by Node only (`node --test tests/binary/single_executable.ts`): the name keeps it out
 * of the three runtimes' test globs, since it builds two ~110 MB executables.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";
import { VERSION } from "../../mod.ts";
import { CLI, parseScoreCsv, runtimeCommand } from "../support/run_cli.ts";
import { ROOT } from "../support/shared.ts";

/** The executables `npm run compile:bun` and `npm run compile:bun-arm64` write. */
const X64 = join(ROOT, "dist", "foxtail");
const ARM64 = join(ROOT, "dist", "foxtail-arm64");

/** qemu user-mode emulation with Debian's arm64 C library as the root for the dynamic loader. */
const QEMU = ["/usr/bin/qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];

/** ELF `e_machine` values. */
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

/** The score run both executables make: small grace periods so that it executes and calibrates. */
const SAMPLE_ROWS = 5000;
const SCORE_FLAGS = [
  "--header",
  "--max-ae",
  "3",
  "--fm-grace",
  "500",
  "--ad-grace",
  "2500",
  "--calibration",
  "1000",
];

/** What a child process did. */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs `command` in the project root; a child still running after `timeoutMs` is killed. */
function run(command: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk.toString());
    child.stderr.on("data", (chunk) => stderr += chunk.toString());
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Fails with everything the child said unless it exited 0. */
function assertSucceeded(result: Run, what: string): void {
  assert.equal(
    result.code,
    0,
    `${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  );
}

/** The ELF machine of an executable (and that it is a 64-bit little-endian ELF at all). */
function elfMachine(path: string): number {
  const header = new Uint8Array(20);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  const magic = String.fromCharCode(...header.subarray(1, 4));
  assert.ok(header[0] === 0x7f && magic === "ELF", `${path} is not an ELF file`);
  assert.equal(header[4], 2, `${path} is not a 64-bit ELF`);
  assert.equal(header[5], 1, `${path} is not little-endian`);
  return header[18] | (header[19] << 8);
}

/** Megabytes, for the log. */
function megabytes(path: string): string {
  return `${(statSync(path).size / 1e6).toFixed(1)} MB`;
}

describe("single executables (bun build --compile, x86-64 and arm64 under qemu)", () => {
  let work = "";
  let sample = "";
  let x64Scores = "";

  before(() => {
    ensureSystemPackages(["qemu"]);
    work = mkdtempSync(join(tmpdir(), "foxtail-binary-"));
    sample = join(work, "sample.csv");
  });

  after(() => {
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  test("npm run compile:bun and compile:bun-arm64 build an x86-64 and an arm64 executable", async (t) => {
    // The arm64 build needs Bun's arm64 runtime: fetched once from the npm registry (the
    // @oven/bun-linux-aarch64 package) into ~/.bun/install/cache, then reused.
    for (
      const [script, path, machine] of [
        ["compile:bun", X64, EM_X86_64],
        ["compile:bun-arm64", ARM64, EM_AARCH64],
      ] as const
    ) {
      const built = await run("npm", ["run", "-s", script], 600_000);
      assertSucceeded(built, `npm run ${script}`);
      assert.equal(elfMachine(path), machine, `${path}: ELF machine`);
      assert.ok((statSync(path).mode & 0o111) !== 0, `${path} is not executable`);
      t.diagnostic(`${script}: ${path} ${megabytes(path)}, built in ${built.seconds.toFixed(1)} s`);
    }
  });

  test("x86-64: --version, and sample then score give the source's scores", async (t) => {
    const version = await run(X64, ["--version"]);
    assertSucceeded(version, "foxtail --version");
    assert.equal(version.stdout.trim(), VERSION);

    const made = await run(X64, [
      "sample",
      "--rows",
      String(SAMPLE_ROWS),
      "--header",
      "--out",
      sample,
    ]);
    assertSucceeded(made, "foxtail sample");
    assert.equal(readFileSync(sample, "utf8").trim().split("\n").length, SAMPLE_ROWS + 1);

    const out = join(work, "x64.csv");
    const scored = await run(X64, ["score", sample, ...SCORE_FLAGS, "--out", out]);
    assertSucceeded(scored, "foxtail score");
    x64Scores = readFileSync(out, "utf8");
    const scores = parseScoreCsv(x64Scores);
    assert.equal(scores.length, SAMPLE_ROWS);
    assert.ok(scores.some((s) => s > 0), "no row was scored after learning");
    assert.match(scored.stderr, /phase executing/);

    // The executable runs the same code as the sources: the same scores to the last bit.
    const [command, prefix] = runtimeCommand(CLI);
    const sourceOut = join(work, "source.csv");
    const source = await run(command, [
      ...prefix,
      "score",
      sample,
      ...SCORE_FLAGS,
      "--out",
      sourceOut,
    ]);
    assertSucceeded(source, "adapters/cli/main.ts score");
    assert.equal(x64Scores, readFileSync(sourceOut, "utf8"));
    t.diagnostic(`x86-64 score of ${SAMPLE_ROWS} rows: ${scored.seconds.toFixed(1)} s`);
  });

  test("x86-64: demo --duration 5 serves its dashboard, scores readings, snapshots and exits 0", async (t) => {
    const state = join(work, "demo-state");
    const started = performance.now();
    const child = spawn(X64, ["demo", "--duration", "5", "--port", "0", "--state", state], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk.toString());
    child.stderr.on("data", (chunk) => stderr += chunk.toString());
    let running = true;
    const exited = new Promise<number | null>((resolve) => {
      child.on("close", (code) => {
        running = false;
        resolve(code);
      });
    });
    // It stops by itself after 5 s; a generous bound for a loaded machine, then it is killed.
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    try {
      let url = "";
      while (url === "") {
        assert.ok(running, `demo exited before printing its URL:\n${stdout}\n${stderr}`);
        url = /^foxtail demo: dashboard at (http:\/\/\S+)$/m.exec(stdout)?.[1] ?? "";
        if (url === "") await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // The dashboard runs inside the executable (Bun.serve) while the demo lasts.
      const health = await fetch(`${url}healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { ok: true });
      let accepted = 0;
      while (accepted === 0) {
        assert.ok(running, `demo ended before a reading was scored:\n${stderr}`);
        const status = await (await fetch(`${url}api/status`)).json();
        accepted = status.counters.accepted;
        if (accepted === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      const code = await exited;
      clearTimeout(killer);
      assert.equal(code, 0, `demo exited ${code}\n--- stderr\n${stderr}`);
    }
    assert.match(stderr, /foxtail demo: duration: stopping/);
    const summary = /stopped after \d+:\d\d; (\d+) readings published, (\d+) messages, (\d+) scored/
      .exec(stderr);
    assert.ok(summary, stderr);
    const [published, messages, scored] = summary.slice(1).map(Number);
    assert.ok(scored > 0 && scored <= messages && messages <= published, summary[0]);
    assert.ok(
      readdirSync(state).some((name) => /^snapshot-\d+\.bin$/.test(name)),
      `no snapshot in ${state}`,
    );
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`x86-64 demo --duration 5: ${scored} readings scored, ${seconds.toFixed(1)} s`);
  });

  test("arm64 under qemu-aarch64-static: --version, and the same scores as x86-64", async (t) => {
    assert.notEqual(x64Scores, "", "the x86-64 score run must have passed first");
    const version = await run(QEMU[0], [...QEMU.slice(1), ARM64, "--version"]);
    assertSucceeded(version, "qemu foxtail-arm64 --version");
    assert.equal(version.stdout.trim(), VERSION);

    const out = join(work, "arm64.csv");
    const scored = await run(
      QEMU[0],
      [...QEMU.slice(1), ARM64, "score", sample, ...SCORE_FLAGS, "--out", out],
      300_000,
    );
    assertSucceeded(scored, "qemu foxtail-arm64 score");
    const arm64Scores = readFileSync(out, "utf8");
    // Exactly equal: KitNET's arithmetic is plain IEEE 754 double operations (its exp is written
    // out rather than left to the engine's Math.exp), which give the same bits on both CPUs.
    assert.deepEqual(parseScoreCsv(arm64Scores), parseScoreCsv(x64Scores));
    assert.equal(arm64Scores, x64Scores);
    t.diagnostic(`arm64 (qemu) score of ${SAMPLE_ROWS} rows: ${scored.seconds.toFixed(1)} s`);
  });
});
