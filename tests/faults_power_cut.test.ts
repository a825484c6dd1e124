// Fault: a power cut between any two system calls of a snapshot write.
//
// A power cut cannot be pulled inside a test, and a tmpfs (or any file system we could mount
// here) keeps nothing across one. So the test records, with strace, the system calls a child
// process makes while SnapshotStore writes snapshots under this very runtime, and replays them
// in a model of what a journaling file system keeps after a cut at each point
// (tests/support/power_cut_model.ts): at every point, every snapshot name must hold data already
// on disk, and there must always be one. It also checks the plain order: write, fsync, rename,
// folder fsync, and only then deleting older snapshots.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSystemPackages } from "../scripts/ensure_system_packages.mjs";
import { runtimeCommand } from "./support/run_cli.ts";
import { TEST_TIMEOUT_MS } from "./support/faults.ts";
import { ROOT } from "./support/shared.ts";
import { checkPowerCuts, type FileCall, parseTrace } from "./support/power_cut_model.ts";

const STRACE = "/usr/bin/strace";
const TRACED = [
  "open",
  "openat",
  "creat",
  "write",
  "pwrite64",
  "writev",
  "pwritev",
  "pwritev2",
  "fsync",
  "fdatasync",
  "rename",
  "renameat",
  "renameat2",
  "unlink",
  "unlinkat",
  "mkdir",
  "mkdirat",
].join(",");

/** Runs `command` under strace (one output file per thread); resolves with each thread's calls. */
async function traced(command: string, args: string[], traceDir: string): Promise<FileCall[][]> {
  mkdirSync(traceDir, { recursive: true });
  const prefix = join(traceDir, "trace");
  const child = spawn(
    STRACE,
    ["-ff", "-qq", "-y", "-e", `trace=${TRACED}`, "-o", prefix, command, ...args],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk) => stderr += chunk.toString());
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, `strace ${command} ${args.join(" ")}: ${stderr}`);
  return readdirSync(traceDir)
    .filter((name) => name.startsWith("trace."))
    .map((name) => parseTrace(readFileSync(join(traceDir, name), "utf8")));
}

describe("fault: a power cut at any point of a snapshot write", () => {
  test("the model catches a write renamed before its fsync, and old snapshots deleted too early", () => {
    const dir = "/state";
    const tmp = (n: number) => `${dir}/.snapshot-${n}.bin.1.a.tmp`;
    const good: FileCall[] = [
      { call: "create", path: tmp(1) },
      { call: "write", path: tmp(1) },
      { call: "fsync", path: tmp(1) },
      { call: "rename", from: tmp(1), to: `${dir}/snapshot-1.bin` },
      { call: "fsync", path: dir },
      { call: "create", path: tmp(2) },
      { call: "write", path: tmp(2) },
      { call: "fsync", path: tmp(2) },
      { call: "rename", from: tmp(2), to: `${dir}/snapshot-2.bin` },
      { call: "fsync", path: dir },
      { call: "unlink", path: `${dir}/snapshot-1.bin` },
    ];
    assert.deepEqual(checkPowerCuts(good, dir).violations, []);
    // Renamed before its data is on disk: a cut can leave snapshot-2.bin naming garbage.
    const early = good.filter((c) => !(c.call === "fsync" && c.path === tmp(2)));
    assert.match(checkPowerCuts(early, dir).violations.join("\n"), /snapshot-2\.bin may name data/);
    // The old one deleted before the new one exists: a cut can leave no snapshot.
    const deleted: FileCall[] = [...good.slice(0, 5), good[10], ...good.slice(5, 10)];
    assert.match(checkPowerCuts(deleted, dir).violations.join("\n"), /no snapshot at all/);
    // A new folder never made durable in its parent.
    const newFolder: FileCall[] = [{ call: "mkdir", path: dir }, ...good];
    assert.match(checkPowerCuts(newFolder, dir).violations.join("\n"), /not yet fsynced into/);
    assert.deepEqual(
      checkPowerCuts([{ call: "mkdir", path: dir }, { call: "fsync", path: "/" }, ...good], dir)
        .violations,
      [],
    );
  });

  test("SnapshotStore's writes under this runtime survive a cut after any system call", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    if (!existsSync(STRACE)) ensureSystemPackages(["strace"]);
    const work = mkdtempSync(join(tmpdir(), "foxtail-power-cut-"));
    try {
      // A folder that does not exist yet: its creation must be made durable too.
      const dir = join(work, "state", "gateway");
      const traces = join(work, "traces");
      const count = 5;
      const keep = 2;
      const [command, prefix] = runtimeCommand(
        join(ROOT, "tests", "support", "snapshot_writes.ts"),
      );
      const threads = await traced(
        command,
        [...prefix, dir, String(count), String(keep), String(1 << 20)],
        traces,
      );
      const touching = threads.filter((calls) =>
        calls.some((c) => "path" in c ? c.path.startsWith(dir) : c.to.startsWith(dir))
      );
      assert.equal(touching.length, 1, "one thread does all the file work");
      const calls = touching[0];
      const report = checkPowerCuts(calls, dir);
      t.diagnostic(`${report.cuts} cut points, ${report.states} folder states checked`);
      assert.deepEqual(report.violations, []);
      assert.ok(report.cuts >= count * 4, `only ${report.cuts} cut points`);

      // The plain order, snapshot by snapshot.
      const index = (match: (c: FileCall) => boolean, from = 0) => {
        const at = calls.findIndex((c, i) => i >= from && match(c));
        assert.ok(at >= 0, `missing call after #${from}`);
        return at;
      };
      for (let n = 1; n <= count; n++) {
        const target = join(dir, `snapshot-${n}.bin`);
        const renamed = index((c) => c.call === "rename" && c.to === target);
        const from = (calls[renamed] as { from: string }).from;
        const created = index((c) => c.call === "create" && c.path === from);
        const lastWrite = calls.findLastIndex((c, i) =>
          i < renamed && c.call === "write" && c.path === from
        );
        assert.ok(lastWrite > created, `snapshot ${n} was written`);
        const synced = index((c) => c.call === "fsync" && c.path === from, lastWrite);
        assert.ok(synced < renamed, `snapshot ${n}: fsync before rename`);
        const folderSynced = index((c) => c.call === "fsync" && c.path === dir, renamed);
        const pruned = n - keep;
        if (pruned >= 1) {
          const unlinked = index((c) =>
            c.call === "unlink" && c.path === join(dir, `snapshot-${pruned}.bin`)
          );
          assert.ok(unlinked > folderSynced, `snapshot ${pruned} deleted after ${n} is durable`);
        }
      }
      // The folder and its new parent were synced into their parents before the first rename
      // into it (a runtime may rename files of its own first, e.g. Deno filling a fresh cache).
      const firstRename = index((c) => c.call === "rename" && c.to.startsWith(dir));
      for (const folder of [join(work, "state"), work]) {
        assert.ok(index((c) => c.call === "fsync" && c.path === folder) < firstRename, folder);
      }
      assert.deepEqual(readdirSync(dir).sort(), ["snapshot-4.bin", "snapshot-5.bin"]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
