import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./support/run_cli.ts";
import { type DemoProcess, startDemoProcess } from "./support/demo_process.ts";

/** Polls `read` until it returns a value `ok` accepts; fails after `ms` with the last value. */
async function until<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let failure: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (error) {
      failure = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)} ${failure ?? ""}`);
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

interface Counters {
  messages: number;
  accepted: number;
}

/** The snapshot folder the demo named on standard error, which it then holds snapshots in. */
function snapshotDir(demo: DemoProcess): string {
  const match = /snapshots in (\S+?)(?:;|\s|$)/.exec(demo.stderr());
  assert.ok(match, `no snapshot folder named in:\n${demo.stderr()}`);
  return match[1];
}

/** Per test: the runtimes' defaults (Bun's is 5 s) are too short for a child running a demo. */
const SLOW = { timeout: 180_000 };

describe("foxtail demo (child process)", () => {
  test(
    "--duration: serves /healthz, scores readings, then exits 0 with a final snapshot",
    SLOW,
    async () => {
      const devices = 3;
      // A folder of its own: the demo's default temporary one is removed when it stops.
      const state = mkdtempSync(join(tmpdir(), "foxtail-demo-cli-"));
      const demo = await startDemoProcess([
        "--duration",
        "12",
        "--port",
        "0",
        "--devices",
        `${devices}`,
        "--state",
        state,
      ]);
      try {
        assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
        const health = await until(
          () => getJson(`${demo.url}healthz`),
          (r) => r.status === 200,
          "/healthz",
        );
        assert.deepEqual(health.body, { ok: true });
        const status = await until(
          () => getJson(`${demo.url}api/status`),
          (r) => (r.body.counters as Counters).accepted > 0 && r.body.devices === devices,
          "scored readings from every node",
        );
        assert.equal(status.status, 200);
        const listed = await getJson(`${demo.url}api/devices`);
        const ids = (listed.body.devices as { id: string }[]).map((d) => d.id).sort();
        assert.equal(ids.length, devices);
      } finally {
        assert.equal(await demo.exited, 0, demo.stderr());
      }
      const stderr = demo.stderr();
      assert.match(
        stderr,
        /^demo \d+:\d\d \| sim day \d+ \d\d:\d\d \| [\d,]+ msgs, [\d,]+ scored \|/m,
      );
      assert.match(stderr, /foxtail demo: duration: stopping/);
      const summary =
        /stopped after \d+:\d\d; (\d+) readings published, (\d+) messages, (\d+) scored/
          .exec(stderr);
      assert.ok(summary, stderr);
      const [published, messages, scored] = summary.slice(1).map(Number);
      assert.ok(scored > 0 && scored <= messages && messages <= published, summary[0]);
      const dir = snapshotDir(demo);
      assert.equal(dir, state);
      try {
        assert.ok(
          readdirSync(dir).some((f) => /^snapshot-\d+\.bin$/.test(f)),
          `no snapshot in ${dir}`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("SIGINT stops it cleanly with exit 0", SLOW, async () => {
    const demo = await startDemoProcess(["--port", "0", "--devices", "1"]);
    let code: number | null;
    try {
      await until(
        () => getJson(`${demo.url}api/status`),
        (r) => (r.body.counters as Counters).accepted > 0,
        "a scored reading",
      );
    } finally {
      code = await demo.stop("SIGINT");
    }
    assert.equal(code, 0, demo.stderr());
    assert.match(demo.stderr(), /foxtail demo: SIGINT: stopping/);
    assert.match(demo.stderr(), /stopped after/);
  });

  test("bad flags are usage errors naming the flag and value", SLOW, async () => {
    for (
      const [args, message] of [
        [["--devices", "0"], /--devices must be an integer ≥ 1, got "0"/],
        [["--devices", "65"], /--devices must be an integer from 1 to 64, got "65"/],
        [["--speed=-3"], /--speed must be a number > 0, got "-3"/],
        [["--speed", "0"], /--speed must be a number > 0, got "0"/],
        [["--port", "70000"], /--port must be an integer from 0 to 65535, got "70000"/],
        [["--duration", "soon"], /--duration must be a number in \(0, 2147483\), got "soon"/],
        [["extra"], /unexpected argument "extra"/],
      ] as const
    ) {
      const result = await runCli(["demo", ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
