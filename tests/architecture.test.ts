/**
 * The layout's rules, checked on the source text (see the README's Architecture section):
 *
 * 1. `core/` (and the root `mod.ts`, the public API over it) is pure: it imports only relative
 *    `.ts` files inside `core/`, and its code uses no runtime API (`Deno`, `Bun`, `process`,
 *    `require`, `Buffer`, `import.meta`, …). Comments (JSDoc `@example` blocks too) and the
 *    contents of strings are not code.
 * 2. A folder is entered through its `mod.ts`: a file of one unit (a subsystem folder `core/X/` or
 *    `adapters/X/`, a file directly in `core/` or `adapters/`, `mod.ts`, `bench/`, `scripts/`)
 *    imports a file of another subsystem folder only as that folder's `mod.ts`. Files directly in
 *    `core/` (`core/detector.ts`, `core/registry.ts`) are entry points of their own. `tests/` may
 *    import internals.
 * 3. The units import each other without cycles. Every module reference counts: `import`,
 *    `import type` (a type-only cycle still ties the folders together: neither can be read,
 *    moved or reused without the other), `export … from`, and `import("…")`. The check itself
 *    is in `architecture_models.test.ts` (with the model-type check) while the adapters still
 *    have cycles; here the cycle finder is tested on a made-up graph.
 * 4. Every subsystem folder of `core/` and `adapters/` has a `mod.ts`.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { posix } from "node:path";
import {
  importCycles,
  type ImportRef,
  importsOf,
  isRelative,
  isSubsystem,
  lex,
  resolveRelative,
  ROOT,
  type SourceFile,
  sourceFiles,
  subfolders,
  type Token,
  unitOf,
} from "./support/source_scan.ts";

const exists = (path: string): boolean => existsSync(posix.join(ROOT, path));

/** The files the rules govern (everything but `tests/`). */
const GOVERNED: SourceFile[] = sourceFiles(
  ["mod.ts", "core", "adapters", "bench", "scripts"].filter(exists),
);
const CORE: SourceFile[] = GOVERNED.filter((f) =>
  f.path === "mod.ts" || f.path.startsWith("core/")
);

/** Fails listing `violations`, one a line, under `title`. */
function assertNone(violations: string[], title: string): void {
  assert.ok(
    violations.length === 0,
    `${title} (${violations.length}):\n  ${violations.join("\n  ")}`,
  );
}

/** What kind of module a non-relative specifier names, for the message. */
function describeSpecifier(specifier: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(specifier)?.[1];
  if (scheme !== undefined) return `a ${scheme}: module`;
  if (specifier.startsWith("/")) return "an absolute path";
  return "a package";
}

// --- Rule 1: core is pure --------------------------------------------------------------------

/** Globals of a runtime or host (not of the language): never named in core's code. */
const RUNTIME_GLOBALS = new Set([
  "Deno",
  "Bun",
  "process",
  "require",
  "module",
  "Buffer",
  "global",
  "__dirname",
  "__filename",
  "setImmediate",
]);

/** Globals that reach the world (network, storage, threads, the browser): core has no business. */
const WORLD_GLOBALS = new Set([
  "fetch",
  "WebSocket",
  "Worker",
  "XMLHttpRequest",
  "EventSource",
  "BroadcastChannel",
  "localStorage",
  "sessionStorage",
  "indexedDB",
  "navigator",
]);

/** Globals only flagged as `name.…`, `name[…]` or `typeof name` (common words as local names). */
const MEMBER_ONLY = new Set(["process", "global"]);

const isPunct = (t: Token | undefined, value: string): boolean =>
  t !== undefined && t.kind === "punct" && t.value === value;
const isMember = (t: Token | undefined): boolean => isPunct(t, ".") || isPunct(t, "?.");

/** The runtime and world APIs the code of `file` uses, as `file:line: …` lines. */
function runtimeUses(file: SourceFile): string[] {
  const t = file.tokens;
  const found: string[] = [];
  const report = (k: number, what: string): void => {
    found.push(`${file.path}:${t[k].line}: ${what}`);
  };
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok.kind !== "id") continue;
    const name = tok.value;
    const prev = t[k - 1];
    const next = t[k + 1];
    // Property access: `.Deno`, `?.Bun` — e.g. `(globalThis as X).Deno` — wherever they appear.
    if (isMember(prev)) {
      if (name === "Deno" || name === "Bun") report(k, `reads .${name}, a runtime's global`);
      continue;
    }
    if (name === "import" && isPunct(next, ".") && t[k + 2]?.value === "meta") {
      report(k, "uses import.meta (its properties are the host's)");
      continue;
    }
    if (name === "globalThis") {
      // `globalThis.x`, `globalThis["x"]`, `(globalThis as T).x`
      let j = k + 1;
      if (isPunct(prev, "(") && t[j]?.value === "as") {
        let depth = 1;
        for (; j < t.length && depth > 0; j++) {
          if (isPunct(t[j], "(")) depth++;
          else if (isPunct(t[j], ")")) depth--;
        }
      }
      const member = isMember(t[j])
        ? t[j + 1]
        : isPunct(t[j], "[") && t[j + 1]?.kind === "str"
        ? t[j + 1]
        : undefined;
      // `.Deno` and `.Bun` are reported as property reads, below.
      const dotted = isMember(t[j]) && (member?.value === "Deno" || member?.value === "Bun");
      if (member !== undefined && RUNTIME_GLOBALS.has(member.value) && !dotted) {
        report(k, `reads globalThis.${member.value}, a runtime's global`);
      }
      continue;
    }
    // An object key or a parameter's, property's type annotation: `fetch: …`, `fetch?: …`.
    if (isPunct(next, ":") || (isPunct(next, "?") && isPunct(t[k + 2], ":"))) continue;
    const accessed = isMember(next) || isPunct(next, "[") ||
      (prev?.kind === "id" && prev.value === "typeof");
    if (RUNTIME_GLOBALS.has(name)) {
      if (name === "require") {
        if (isPunct(next, "(") || accessed) report(k, "calls require, Node's module loader");
      } else if (name === "module") {
        if (isMember(next) && /^(?:exports|require)$/.test(t[k + 2]?.value ?? "")) {
          report(k, `uses module.${t[k + 2].value}, CommonJS`);
        }
      } else if (!MEMBER_ONLY.has(name) || accessed) {
        report(k, `uses ${name}, a runtime's global`);
      }
    } else if (WORLD_GLOBALS.has(name)) {
      report(k, `uses ${name}, which reaches outside the process`);
    }
  }
  return found;
}

/** Why `ref`, in a file of core (or `mod.ts`), breaks core's purity; `undefined` if it does not. */
function impureImport(ref: ImportRef): string | undefined {
  const where = `${ref.file}:${ref.line}`;
  const how = ref.form === "dynamic"
    ? "import()s"
    : ref.form === "re-export"
    ? "re-exports"
    : "imports";
  if (ref.specifier === null) {
    return `${where}: import() of a computed specifier (core imports only relative .ts files inside core/)`;
  }
  const spec = JSON.stringify(ref.specifier);
  if (!isRelative(ref.specifier)) {
    return `${where}: ${how} ${spec}, ${
      describeSpecifier(ref.specifier)
    } (core imports only relative .ts files inside core/)`;
  }
  const target = resolveRelative(ref.file, ref.specifier);
  if (!target.startsWith("core/")) {
    return `${where}: ${how} ${spec} = ${target}, outside core/`;
  }
  if (!target.endsWith(".ts")) return `${where}: ${how} ${spec}, not a .ts file`;
  if (!exists(target)) return `${where}: ${how} ${spec} = ${target}, which does not exist`;
  return undefined;
}

/** The imports of `file` that reach into another subsystem folder past its `mod.ts`. */
function pastEntry(file: SourceFile): string[] {
  const from = unitOf(file.path);
  const violations: string[] = [];
  for (const ref of importsOf(file)) {
    if (ref.specifier === null || !isRelative(ref.specifier)) continue;
    const target = resolveRelative(file.path, ref.specifier);
    const to = unitOf(target);
    if (!isSubsystem(to) || to === from || target === `${to}/mod.ts`) continue;
    violations.push(
      `${file.path}:${ref.line}: imports ${JSON.stringify(ref.specifier)} = ${target}, ` +
        `inside ${to}/; import ${to}/mod.ts (export it there if it is missing)`,
    );
  }
  return violations;
}

describe("architecture", () => {
  test("the scanner drops comments and string contents, and finds every form of import", () => {
    const file: SourceFile = {
      path: "core/x/a.ts",
      text: "",
      tokens: lex(
        [
          "/**",
          " * @example",
          " * ```ts",
          ' * import { no } from "node:fs";',
          " * Deno.exit(process.exitCode);",
          " * ```",
          " */",
          'import { a } from "../math/mod.ts"; // import "node:os"',
          'import type { B } from "../../adapters/cli/mod.ts";',
          'import * as c from "npm:c";',
          'import "./side.ts";',
          'export { d } from "./d.ts";',
          'export type * from "./e.ts";',
          "export { local };",
          'const f = await import("jsr:@x/f");',
          "const g = import(name);",
          'type H = typeof import("./h.ts");',
          'const s = "Deno.exit() process.env require(\\"x\\")" + `${`Bun`}.${1}` + /\\/\\/"/.source;',
          "const half = 1 / 2 / 3; const t = `a${{ k: '}' }.k}b`;",
          "Deno.exit(0);",
          "globalThis.process?.exit();",
          "(globalThis as { Bun?: unknown }).Bun;",
          "this.process(x); function process(y: number) {}",
        ].join("\n"),
      ),
    };
    assert.deepEqual(
      importsOf(file).map((r) => [r.line, r.specifier, r.form, r.typeOnly]),
      [
        [8, "../math/mod.ts", "import", false],
        [9, "../../adapters/cli/mod.ts", "import", true],
        [10, "npm:c", "import", false],
        [11, "./side.ts", "side-effect", false],
        [12, "./d.ts", "re-export", false],
        [13, "./e.ts", "re-export", true],
        [15, "jsr:@x/f", "dynamic", false],
        [16, null, "dynamic", false],
        [17, "./h.ts", "type-query", true],
      ],
    );
    assert.deepEqual(importsOf(file).map(impureImport), [
      undefined,
      'core/x/a.ts:9: imports "../../adapters/cli/mod.ts" = adapters/cli/mod.ts, outside core/',
      'core/x/a.ts:10: imports "npm:c", a npm: module (core imports only relative .ts files inside core/)',
      'core/x/a.ts:11: imports "./side.ts" = core/x/side.ts, which does not exist',
      'core/x/a.ts:12: re-exports "./d.ts" = core/x/d.ts, which does not exist',
      'core/x/a.ts:13: re-exports "./e.ts" = core/x/e.ts, which does not exist',
      'core/x/a.ts:15: import()s "jsr:@x/f", a jsr: module (core imports only relative .ts files inside core/)',
      "core/x/a.ts:16: import() of a computed specifier (core imports only relative .ts files inside core/)",
      'core/x/a.ts:17: imports "./h.ts" = core/x/h.ts, which does not exist',
    ]);
    assert.deepEqual(runtimeUses(file), [
      "core/x/a.ts:20: uses Deno, a runtime's global",
      "core/x/a.ts:21: reads globalThis.process, a runtime's global",
      "core/x/a.ts:22: reads .Bun, a runtime's global",
    ]);
  });

  test("the entry rule: another folder's files only through its mod.ts, core/*.ts directly", () => {
    const file = (path: string, text: string): SourceFile => ({ path, text, tokens: lex(text) });
    assert.deepEqual(
      pastEntry(file(
        "adapters/cli/commands/run.ts",
        [
          'import { a } from "../../../core/math/mod.ts";',
          'import type { B } from "../../../core/math/validate.ts";',
          'import { c } from "../../../core/detector.ts";',
          'import { d } from "../terminal_progress.ts";',
          'export * from "../../files/csv_records.ts";',
          'import { e } from "../../../adapters/../core/x.ts";',
        ].join("\n"),
      )),
      [
        'adapters/cli/commands/run.ts:2: imports "../../../core/math/validate.ts" = core/math/validate.ts, inside core/math/; import core/math/mod.ts (export it there if it is missing)',
        'adapters/cli/commands/run.ts:5: imports "../../files/csv_records.ts" = adapters/files/csv_records.ts, inside adapters/files/; import adapters/files/mod.ts (export it there if it is missing)',
      ],
    );
    assert.deepEqual(
      pastEntry(file("bench/load/x.ts", 'import { f } from "../../core/kitnet/kitnet.ts";')),
      [
        'bench/load/x.ts:1: imports "../../core/kitnet/kitnet.ts" = core/kitnet/kitnet.ts, inside core/kitnet/; import core/kitnet/mod.ts (export it there if it is missing)',
      ],
    );
  });

  test("it reads the project: core has files and imports", () => {
    assert.ok(CORE.length > 10, `only ${CORE.length} files found under core/ (root ${ROOT})`);
    assert.ok(importsOf(CORE.find((f) => f.path === "mod.ts")!).length > 0, "mod.ts imports none");
  });

  test("1. core/ and mod.ts import only relative .ts files inside core/", () => {
    const violations = CORE.flatMap((f) => importsOf(f).map(impureImport)).filter(
      (v): v is string => v !== undefined,
    );
    assertNone(violations, "core/ (or mod.ts) imports from outside core/");
  });

  test("1. core/ and mod.ts use no runtime API in code", () => {
    assertNone(CORE.flatMap(runtimeUses), "core/ (or mod.ts) uses a runtime's API");
  });

  test("2. a file enters another subsystem folder only through its mod.ts", () => {
    const violations = GOVERNED.flatMap(pastEntry);
    assertNone(violations, "imports that reach past a folder's mod.ts");
  });

  test("3. the cycle finder reports each cycle with the imports that make it", () => {
    const graph = (spec: Record<string, string[]>) =>
      new Map(
        Object.entries(spec).map(([from, tos]) => [
          from,
          new Map(tos.map((to) => [to, [`${from}/x.ts:1 ../${to}/mod.ts`]])),
        ]),
      );
    assert.deepEqual(importCycles(graph({ a: ["b"], b: ["c"], c: [], d: ["a"] })), []);
    assert.deepEqual(importCycles(graph({ a: ["b"], b: ["a", "c"], c: ["a"], d: ["a"] })), [
      [
        "a, b, c import each other:",
        "  a → b → a",
        "      a → b: a/x.ts:1 ../b/mod.ts",
        "      b → a: b/x.ts:1 ../a/mod.ts",
        "  b → c → a → b",
        "      b → c: b/x.ts:1 ../c/mod.ts",
        "      c → a: c/x.ts:1 ../a/mod.ts",
        "      a → b: a/x.ts:1 ../b/mod.ts",
      ].join("\n"),
    ]);
  });

  test("4. every subsystem folder of core/ and adapters/ has a mod.ts", () => {
    const folders = [...subfolders("core"), ...subfolders("adapters")];
    assert.ok(folders.length > 0, "no subsystem folders found");
    assertNone(
      folders.filter((d) => !exists(`${d}/mod.ts`)).map((d) =>
        `${d}/ has no mod.ts (a subsystem folder is entered through its mod.ts)`
      ),
      "subsystem folders without a mod.ts",
    );
  });
});
