/**
 * What a newcomer meets before the first command runs (issue 13): the `foxtail` that
 * package.json's `bin` starts is a plain-JavaScript launcher, so that a Node too old for the
 * TypeScript sources says so in one line with the fix, and a recent one runs the CLI; and the
 * README's examples run as written, as `npx foxtail …` (nothing puts `foxtail` on PATH).
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runProgram, runtimeCommand } from "./support/run_cli.ts";
import { ROOT } from "./support/shared.ts";

const BIN: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).bin.foxtail;
const LAUNCHER = join(ROOT, BIN);

/** The distribution's own Node, which on this machine class is too old to strip types. */
const SYSTEM_NODE = "/usr/bin/node";

/** `20.20.2` for v20.20.2, or undefined when there is no such program. */
function versionOf(program: string): string | undefined {
  if (!existsSync(program)) return undefined;
  const result = spawnSync(program, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim().replace(/^v/, "") : undefined;
}

/** Why the old-Node check cannot run here, or false when it can. */
function noOldNode(version: string | undefined): string | false {
  if (version === undefined) return `no ${SYSTEM_NODE} to try`;
  const [major, minor] = version.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) {
    return `${SYSTEM_NODE} is Node ${version}, recent enough to run the sources`;
  }
  return false;
}

const systemVersion = versionOf(SYSTEM_NODE);

describe("the foxtail launcher (package.json's bin)", () => {
  test("bin is the plain-JavaScript launcher, starting with a node shebang", () => {
    assert.equal(BIN, "./adapters/cli/launcher.mjs");
    assert.equal(readFileSync(LAUNCHER, "utf8").split("\n")[0], "#!/usr/bin/env node");
  });

  test(
    "on a Node older than 22.18: one line with the version and the fix, exit 1",
    { skip: noOldNode(systemVersion) },
    async () => {
      const r = await runProgram(SYSTEM_NODE, [LAUNCHER, "--version"]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `foxtail needs Node 22.18 or later (this is Node ${systemVersion}): install it, or run ` +
          `"npx foxtail ..." inside the project after "npm ci" (it uses the project's Node 24)\n`,
      );
    },
  );

  test("on this runtime it runs the CLI: --version and a command's usage error", async () => {
    const [command, prefix] = runtimeCommand(LAUNCHER);
    const version = await runProgram(command, [...prefix, "--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    // The exit code of a command comes through the launcher too.
    const usage = await runProgram(command, [...prefix, "run"]);
    assert.equal(usage.code, 2, usage.stderr);
    assert.match(usage.stderr, /^foxtail run: --config FILE is required/);
  });

  test(
    "scripts/require_node.mjs, the test legs' check, says the same on that Node",
    { skip: noOldNode(systemVersion) },
    async () => {
      const r = await runProgram(SYSTEM_NODE, [join(ROOT, "scripts", "require_node.mjs")]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^the tests need Node 22\.18 or later \(this is Node [\d.]+\): /);
      assert.match(r.stderr, /"npm ci"/);
    },
  );
});

/** The command lines of the README's `sh` blocks. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  return blocks.flatMap((block) => block.split("\n")).filter((line) => !line.startsWith("#"));
}

/** Whether npm's `npx` is on PATH. */
const hasNpx = spawnSync("npx", ["--version"], { cwd: ROOT }).status === 0;

describe("the README's foxtail command", () => {
  test("every example runs foxtail as npx foxtail, which works inside the project", () => {
    const runs = readmeCommands().filter((line) => /(^|\| )(npx )?foxtail /.test(line));
    assert.ok(runs.length >= 5, `examples found: ${runs.join("\n")}`);
    for (const line of runs) assert.match(line, /(^|\| )npx foxtail /, line);
  });

  test("npx foxtail --help in the project: the overview, without asking the registry", {
    skip: hasNpx ? false : "no npx on PATH",
  }, async () => {
    // --no-install: were the project's own bin not found, fail rather than fetch a namesake.
    const r = await runProgram("npx", ["--offline", "--no-install", "foxtail", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: foxtail <command> \[options\]/m);
  });
});

/** Whether `git ls-files` can answer here (a checkout, not an unpacked archive). */
const inGit = spawnSync("git", ["ls-files", "--error-unmatch", "package.json"], { cwd: ROOT })
  .status === 0;

describe("the launcher as committed", () => {
  test("git records the bin target with mode 100755", {
    skip: inGit ? false : "not a git checkout",
  }, () => {
    const entry = spawnSync("git", ["ls-files", "-s", BIN], { cwd: ROOT, encoding: "utf8" });
    assert.match(entry.stdout, new RegExp(`^100755 [0-9a-f]+ 0\\t${BIN.slice(2)}\\n$`));
  });
});
