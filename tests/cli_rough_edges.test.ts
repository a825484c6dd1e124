/**
 * The command-line defects a new user hit (issue 13's list), each as it behaves now: clean errors
 * naming the file, no summary before an error on the first row, plurals, help that matches the
 * command, a physical sample stream, a `bin` that is executable as committed, a demo that takes
 * its temporary folder with it, a bad flag of `run` named as the flag, a refused connection that
 * says when it retries, and a progress line that says what is in progress.
 */

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SAMPLE_COLUMNS, sampleRows } from "../adapters/cli/commands/sample.ts";
import { renderProgress } from "../adapters/cli/terminal_progress.ts";
import { startDemoProcess } from "./support/demo_process.ts";
import { smallConfig } from "./support/gateway_fixtures.ts";
import { CLI, runCli, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";

describe("command-line rough edges", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-edges-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("score and pcap name a missing file or a directory, write nothing, and exit 1", async () => {
    const missing = join(dir, "missing.csv");
    for (const args of [["score", missing], ["pcap", missing], ["score", dir]]) {
      const r = await runCli(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "", "nothing on standard output");
      const reason = args[1] === dir ? "it is a directory" : "no such file";
      assert.equal(r.stderr.trim(), `foxtail ${args[0]}: cannot read ${args[1]}: ${reason}`);
    }
    const model = await runCli(["score", join(ROOT, "README.md"), "--load-model", missing]);
    assert.equal(model.code, 1);
    assert.match(model.stderr, /cannot read .*missing\.csv: no such file/);
  });

  test("pcap on a file that is not a capture: the error alone, no summary", async () => {
    const r = await runCli(["pcap", join(ROOT, "README.md"), "--threads", "1"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      "foxtail pcap: not a pcap or pcapng capture: it starts with bytes 23 20 66 6f (at byte offset 0)",
    );
  });

  test("a bad first row: the error alone; one row is '1 row'", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "1,x\n");
    const first = await runCli(["score", bad]);
    assert.equal(first.code, 1);
    assert.doesNotMatch(first.stderr, /scored|before it/);
    assert.match(first.stderr, /line 1, column 2/);
    const one = join(dir, "one.csv");
    writeFileSync(one, "1,2\n3,x\n");
    const r = await runCli(["score", one]);
    assert.match(r.stderr, /^scored 1 row in /);
    assert.match(r.stderr, /the 1 row before it were scored and written/);
  });

  test("run --help says what run does: one detector per device, of the stream's type", async () => {
    const r = await runCli(["run", "--help"]);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout, /one KitNET per device/);
    assert.match(r.stdout, /one detector per device/);
  });

  test("sample's occupancy stays a share of the room, in [0, 1]", () => {
    const column = SAMPLE_COLUMNS.indexOf("occupancy");
    let low = Infinity, high = -Infinity;
    for (const row of sampleRows(20_000, [])) {
      low = Math.min(low, row[column]);
      high = Math.max(high, row[column]);
    }
    assert.ok(low >= 0 && high <= 1, `occupancy in [${low}, ${high}]`);
    assert.ok(low === 0 && high > 0.9, "it still spans empty to full");
  });

  test("the bin target is executable as committed, so first use changes no file mode", () => {
    const bin = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).bin.foxtail;
    assert.ok((statSync(join(ROOT, bin)).mode & 0o111) !== 0, `${bin} is not executable`);
  });
});

/** Per test: the runtimes' defaults (Bun's is 5 s) are too short for a child running a demo. */
const SLOW = { timeout: 180_000 };

describe("the demo's temporary snapshot folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-edges-demo-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The `foxtail-demo-*` folders a demo made in `tmp`. */
  const demoFolders = (tmp: string) =>
    readdirSync(tmp).filter((f) => f.startsWith("foxtail-demo-"));

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`is removed, final snapshot and all, when ${signal} stops the demo`, SLOW, async () => {
      // The child's own temporary directory: nothing else writes there.
      const tmp = mkdtempSync(join(dir, `${signal}-`));
      const demo = await startDemoProcess(["--port", "0", "--devices", "1"], {
        env: { TMPDIR: tmp },
      });
      let code: number | null;
      try {
        assert.equal(demoFolders(tmp).length, 1, `while it runs: ${readdirSync(tmp)}`);
        // Answered once its event loop turns after printing the URL: its signal handlers are in.
        assert.deepEqual(await (await fetch(`${demo.url}healthz`)).json(), { ok: true });
      } finally {
        code = await demo.stop(signal);
      }
      assert.equal(code, 0, demo.stderr());
      assert.deepEqual(demoFolders(tmp), []);
      assert.match(demo.stderr(), /the temporary snapshot folder \S+ removed$/m);
    });
  }

  test(
    "is removed when the start fails half-way (the dashboard's port is taken)",
    SLOW,
    async () => {
      const tmp = mkdtempSync(join(dir, "taken-"));
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      try {
        const port = (taken.address() as { port: number }).port;
        await assert.rejects(
          startDemoProcess(["--port", `${port}`, "--devices", "1"], { env: { TMPDIR: tmp } }),
          /foxtail demo exited \(1\) before printing its URL/,
        );
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
      assert.deepEqual(demoFolders(tmp), []);
    },
  );
});

/** A loopback port nothing listens on: one the system gave out and that was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("foxtail run with a bad overriding flag", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-edges-flags-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A configuration file of `smallConfig(overrides)`, its snapshots under `dir`. */
  const configFile = (name: string, overrides: Record<string, unknown> = {}): string => {
    const path = join(dir, name);
    const snapshots = { dir: join(dir, "state"), intervalSeconds: 0, keep: 1 };
    writeFileSync(path, JSON.stringify(smallConfig({ snapshots, ...overrides })));
    return path;
  };

  test("--mqtt-url nonsense: the flag and its value are named, not the file", async () => {
    const path = configFile("valid.json");
    const r = await runCli(["run", "--config", path, "--mqtt-url", "nonsense"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr.split("\n")[0],
      'foxtail run: --mqtt-url "nonsense": expected mqtt://, mqtts://, ws:// or wss:// URL, ' +
        'got "nonsense"',
    );
    assert.ok(!r.stderr.includes(path), r.stderr);
  });

  test("every merged flag is named; a problem of the file's own still names the file", async () => {
    const path = configFile("bad-limits.json", { limits: { maxDevices: -1 } });
    const r = await runCli([
      ...["run", "--config", path, "--mqtt-url", "foo://x", "--topic-prefix", "a/+"],
      ...["--snapshot-dir", "", "--dashboard-host", "", "--dashboard-port", "70000"],
    ]);
    assert.equal(r.code, 2, r.stderr);
    const [first, ...problems] = r.stderr.split("\n").slice(0, 7);
    assert.equal(first, "foxtail run: invalid configuration (6 problems):");
    const fromFile = problems.filter((line) => line.startsWith(`  ${path}: `));
    assert.equal(fromFile.length, 1, r.stderr);
    assert.match(fromFile[0], /: limits\.maxDevices: expected an integer in \[1, \d+\], got -1$/);
    assert.deepEqual(problems.filter((line) => !fromFile.includes(line)).sort(), [
      '  --dashboard-host "": expected a non-empty string, got ""',
      '  --dashboard-port "70000": expected an integer in [0, 65535], got 70000',
      '  --mqtt-url "foo://x": expected mqtt://, mqtts://, ws:// or wss:// URL, got "foo://x"',
      '  --snapshot-dir "": expected a non-empty string, got ""',
      '  --topic-prefix "a/+": expected topic levels without wildcards, got "a/+"',
    ]);
  });
});

describe("foxtail run against a broker that is not there", () => {
  const dir = mkdtempSync(join(tmpdir(), "foxtail-edges-run-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("each refused connection says when it retries, and the delays grow", SLOW, async () => {
    const url = `mqtt://127.0.0.1:${await closedPort()}`;
    const configPath = join(dir, "refused.json");
    writeFileSync(
      configPath,
      JSON.stringify(smallConfig({
        mqtt: { url, topicPrefix: "edges", reconnectMinMs: 200, reconnectMaxMs: 5000 },
        snapshots: { dir: join(dir, "state"), intervalSeconds: 0, keep: 1 },
        dashboard: { enabled: false },
      })),
    );
    const [command, prefix] = runtimeCommand(CLI);
    const child = spawn(command, [...prefix, "run", "--config", configPath], {
      cwd: ROOT,
      stdio: "pipe",
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const retry = /^mqtt: cannot connect to (\S+) \((.+)\); retrying in (\d+(?:\.\d+)?) (ms|s)$/gm;
    const retries = () => [...stderr.matchAll(retry)];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no two retries:\n${stderr}`)), 60_000);
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
          stderr += chunk;
          if (retries().length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        });
        exited.then((code) => reject(new Error(`exited (${code}) before retrying:\n${stderr}`)));
      });
    } finally {
      // Not child.kill(): Deno's child_process would then report the exit as killed.
      process.kill(child.pid!, "SIGTERM");
    }
    const [first, second] = retries();
    assert.equal(first[1], url);
    assert.match(first[2], /ECONNREFUSED/);
    const ms = (m: RegExpMatchArray) => Number(m[3]) * (m[4] === "s" ? 1000 : 1);
    assert.equal(ms(first), 200, first[0]);
    assert.equal(ms(second), 400, second[0]);
    assert.equal(await exited, 0, stderr);
  });
});

describe("the terminal progress line", () => {
  test("starts with what is in progress, then the count in its unit", () => {
    assert.equal(
      renderProgress({
        label: "scoring sample.csv",
        unit: "rows",
        done: 12_288,
        seconds: 1.2,
        detail: "training",
      }),
      "scoring sample.csv: 12,288 rows, 1.2s, 10,240 rows/s, training",
    );
  });

  test("with a total: the share done and the time left", () => {
    assert.equal(
      renderProgress({ label: "training", unit: "epochs", done: 3, total: 10, seconds: 4.2 }),
      "training: 3/10 epochs 30.0%, 4.2s elapsed, 9.8s left",
    );
  });
});
