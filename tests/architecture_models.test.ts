/**
 * The architecture rules about folders and models (`architecture.test.ts` holds the rest):
 *
 * 3. The units (subsystem folders `core/X/`, `adapters/X/`; files directly in `core/`; `mod.ts`;
 *    `bench/`; `scripts/`) import each other without cycles. Every module reference counts:
 *    `import`, `import type` (a type-only cycle still ties the folders together: neither can be
 *    read, moved or reused without the other), `export … from` and `import("…")`.
 * 5. Which model: only the detector folders (`core/kitnet/`, `core/deep_ae/`, `core/hst/`), the
 *    registry (`core/registry.ts`), the detector interface (`core/detector.ts`) and the
 *    configuration schema (`core/gateway/pipeline_config.ts`) name a model type. Elsewhere in
 *    `core/` and `adapters/`, code has no string literal `"kitnet"`, `"deep-ae"`, `"hst"` (the
 *    configuration's type names), `"DAEM"`, `"KNET"` or `"HSTS"` (the model files' kinds), and
 *    does not reach for a type's name constant (`KITNET_TYPE`, `DEEP_AE_TYPE`, `HST_TYPE`) or its
 *    `DetectorType` (`kitnetType`, `deepAeType`, `hstType`) either: code that works with any
 *    detector asks the registry. Comments (so JSDoc and help texts' prose) do not count, nor do
 *    longer strings that mention a type (a command's help text).
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { posix } from "node:path";
import {
  importCycles,
  ROOT,
  type SourceFile,
  sourceFiles,
  unitGraph,
} from "./support/source_scan.ts";

const exists = (path: string): boolean => existsSync(posix.join(ROOT, path));

/** Fails listing `violations`, one a line, under `title`. */
function assertNone(violations: string[], title: string): void {
  assert.ok(
    violations.length === 0,
    `${title} (${violations.length}):\n  ${violations.join("\n  ")}`,
  );
}

/** The files the rules govern (everything but `tests/`). */
const GOVERNED: SourceFile[] = sourceFiles(
  ["mod.ts", "core", "adapters", "bench", "scripts"].filter(exists),
);

/** Where model types may be named: the detectors, the registry, the interface, the schema. */
const MODEL_HOMES = [
  "core/kitnet/",
  "core/deep_ae/",
  "core/hst/",
  "core/registry.ts",
  "core/detector.ts",
  "core/gateway/pipeline_config.ts",
];

/** The string literals that name a model type or a model file's kind. */
const MODEL_LITERALS = new Set(["kitnet", "deep-ae", "hst", "DAEM", "KNET", "HSTS"]);

/** The exported names that stand for one model type. */
const MODEL_NAMES = new Set([
  "KITNET_TYPE",
  "DEEP_AE_TYPE",
  "HST_TYPE",
  "kitnetType",
  "deepAeType",
  "hstType",
]);

/** A use outside {@linkcode MODEL_HOMES} that is all right, and why. */
interface Allowed {
  /** Root-relative path of the file. */
  file: string;
  /** The literal or name it may use. */
  use: string;
  /** Why, in a line. */
  reason: string;
}

/** Each entry is a model type named outside its homes, on purpose. */
const ALLOWED: readonly Allowed[] = [
  {
    file: "adapters/demo/demo_config.ts",
    use: "kitnet",
    reason: "the demo runs KitNET with KitNET's own options, sized for its simulated plant",
  },
  {
    file: "adapters/cli/commands/evaluate.ts",
    use: "DEEP_AE_TYPE",
    reason: "evaluate runs the deep autoencoder paper's protocol: its detector is the default",
  },
  {
    file: "adapters/kdd/kdd_experiment.ts",
    use: "DEEP_AE_TYPE",
    reason: "the paper's protocol defaults to the paper's detector",
  },
];

/** The files of core/ and adapters/ outside the model types' homes. */
const OUTSIDE_HOMES: SourceFile[] = GOVERNED.filter((f) =>
  (f.path.startsWith("core/") || f.path.startsWith("adapters/")) &&
  !MODEL_HOMES.some((home) => home.endsWith("/") ? f.path.startsWith(home) : f.path === home)
);

/** The uses in `files` that `found` picks out, as `file:line: …`, less the allowed ones. */
function uses(
  files: SourceFile[],
  found: (file: SourceFile) => { line: number; use: string; what: string }[],
): { violations: string[]; used: Set<Allowed> } {
  const violations: string[] = [];
  const used = new Set<Allowed>();
  for (const file of files) {
    for (const { line, use, what } of found(file)) {
      const allowed = ALLOWED.find((a) => a.file === file.path && a.use === use);
      if (allowed !== undefined) used.add(allowed);
      else violations.push(`${file.path}:${line}: ${what}`);
    }
  }
  return { violations, used };
}

/** The allowlist entries for `kinds` of use that matched nothing. */
function stale(used: Set<Allowed>, kinds: Set<string>): string[] {
  return ALLOWED.filter((a) => kinds.has(a.use) && !used.has(a)).map((a) =>
    `allowlist entry ${a.file} ${JSON.stringify(a.use)} matches nothing any more: remove it`
  );
}

describe("architecture: cycles and model types", () => {
  test("3. the folders import each other without cycles (type-only imports count)", () => {
    assertNone(importCycles(unitGraph(GOVERNED)), "import cycles between folders");
  });

  test("5. no model-type literal outside the detector folders, the registry and the schema", () => {
    const { violations, used } = uses(OUTSIDE_HOMES, (file) =>
      file.tokens
        .filter((t) =>
          (t.kind === "str" || (t.kind === "tpl" && t.whole === true)) &&
          MODEL_LITERALS.has(t.value)
        )
        .map((t) => ({
          line: t.line,
          use: t.value,
          what: `${JSON.stringify(t.value)}: a model type named outside ${MODEL_HOMES.join(", ")}`,
        })));
    assertNone(
      [...violations, ...stale(used, MODEL_LITERALS)],
      "model-type literals outside their homes (ask the registry, or allowlist with a reason)",
    );
  });

  test("5. no one model type's name constant or DetectorType outside those homes either", () => {
    const { violations, used } = uses(OUTSIDE_HOMES, (file) =>
      file.tokens
        .filter((t) => t.kind === "id" && MODEL_NAMES.has(t.value))
        .map((t) => ({
          line: t.line,
          use: t.value,
          what: `${t.value}: one model type picked outside ${MODEL_HOMES.join(", ")}`,
        })));
    assertNone(
      [...violations, ...stale(used, MODEL_NAMES)],
      "model-type constants outside their homes (ask the registry, or allowlist with a reason)",
    );
  });
});
