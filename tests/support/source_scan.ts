/**
 * Reads the project's own source files for the architecture tests: a small TypeScript/JavaScript
 * lexer (comments dropped, JSDoc `@example` blocks included; strings, template chunks and regular
 * expressions kept as single tokens, so their contents never look like code), the imports and
 * re-exports of a file with their line, and which folder ("unit") a file belongs to.
 *
 * The lexer is deliberately small: it knows enough of the grammar to tell a regular expression
 * from a division (by the token before the `/`) and to follow `${…}` inside template literals.
 *
 * @module
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root, as a path (this file is `tests/support/source_scan.ts`). */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** One token of a source file. */
export interface Token {
  /** `id` also holds keywords and `#private` names; `tpl` is one static chunk of a template. */
  kind: "id" | "num" | "str" | "tpl" | "regex" | "punct";
  /** The identifier or punctuator; a string's or template chunk's (raw) contents. */
  value: string;
  /** 1-based line of the token's first character. */
  line: number;
  /** For `tpl`: whether this chunk is the whole template (no `${…}` in it). */
  whole?: boolean;
  /** For `tpl`: whether this chunk ends the template (at its closing `` ` ``). */
  closes?: boolean;
}

/** A source file: its path from the root (`core/math/mod.ts`), its text and tokens. */
export interface SourceFile {
  path: string;
  text: string;
  tokens: Token[];
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

const PUNCTUATORS = ["...", "?.", "=>"];
const IDENT = /[\p{ID_Start}$_#][\p{ID_Continue}$\u200c\u200d]*/uy;
const NUMBER = /(?:0[xXoObB][\da-fA-F_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?)/y;

/** The tokens of `text`; throws on an unterminated string, template, comment or regex. */
export function lex(text: string, name = "<source>"): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  // One entry per open `${`: the brace depth inside it, so its closing `}` resumes the template.
  const templateDepths: number[] = [];
  const fail = (what: string): never => {
    throw new SyntaxError(`${name}:${line}: ${what}`);
  };
  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (prev === undefined) return true;
    switch (prev.kind) {
      case "num":
      case "str":
      case "regex":
        return false;
      case "tpl":
        return prev.closes !== true;
      case "id":
        return REGEX_AFTER_KEYWORD.has(prev.value);
      case "punct":
        return !(prev.value === ")" || prev.value === "]" || prev.value === "}");
    }
  };
  /** Reads a template chunk from after its opening `` ` `` or `}` up to its `${` or `` ` ``. */
  const templateChunk = (first: boolean): void => {
    const start = line;
    let value = "";
    while (i < text.length) {
      const c = text[i];
      if (c === "\\") {
        value += text.slice(i, i + 2);
        if (text[i + 1] === "\n") line++;
        i += 2;
        continue;
      }
      if (c === "`") {
        i++;
        tokens.push({ kind: "tpl", value, line: start, whole: first, closes: true });
        return;
      }
      if (c === "$" && text[i + 1] === "{") {
        i += 2;
        tokens.push({ kind: "tpl", value, line: start, whole: false, closes: false });
        templateDepths.push(0);
        return;
      }
      if (c === "\n") line++;
      value += c;
      i++;
    }
    fail("unterminated template literal");
  };

  if (text.startsWith("#!")) {
    while (i < text.length && text[i] !== "\n") i++;
  }
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\uFEFF" || /\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) fail("unterminated block comment");
      for (let k = i; k < end; k++) if (text[k] === "\n") line++;
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = line;
      let value = "";
      i++;
      while (true) {
        if (i >= text.length || text[i] === "\n") fail("unterminated string literal");
        const d = text[i];
        if (d === c) break;
        if (d === "\\") {
          const e = text[i + 1];
          if (e === "\n") line++;
          else if (e === "\r" && text[i + 2] === "\n") line++, i++;
          value += e === "n" ? "\n" : e === "t" ? "\t" : e;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: "str", value, line: start });
      continue;
    }
    if (c === "`") {
      i++;
      templateChunk(true);
      continue;
    }
    if (c === "}" && templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === 0) {
      templateDepths.pop();
      i++;
      templateChunk(false);
      continue;
    }
    if (c === "/" && regexAllowed()) {
      const start = line;
      let j = i + 1;
      let inClass = false;
      while (true) {
        if (j >= text.length || text[j] === "\n") fail("unterminated regular expression");
        const d = text[j];
        if (d === "\\") j += 2;
        else {
          if (d === "[") inClass = true;
          else if (d === "]") inClass = false;
          else if (d === "/" && !inClass) break;
          j++;
        }
      }
      j++;
      while (j < text.length && /[a-z]/i.test(text[j])) j++;
      tokens.push({ kind: "regex", value: text.slice(i, j), line: start });
      i = j;
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id !== null) {
      tokens.push({ kind: "id", value: id[0], line });
      i += id[0].length;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = /[\d.]/.test(c) ? NUMBER.exec(text) : null;
    if (num !== null && num[0] !== ".") {
      tokens.push({ kind: "num", value: num[0], line });
      i += num[0].length;
      continue;
    }
    const multi = PUNCTUATORS.find((p) => text.startsWith(p, i));
    // `a?.5:b` is a conditional, not an optional chain.
    const p = multi === "?." && /\d/.test(text[i + 2] ?? "") ? undefined : multi;
    if (p !== undefined) {
      tokens.push({ kind: "punct", value: p, line });
      i += p.length;
      continue;
    }
    if (templateDepths.length > 0) {
      if (c === "{") templateDepths[templateDepths.length - 1]++;
      else if (c === "}") templateDepths[templateDepths.length - 1]--;
    }
    tokens.push({ kind: "punct", value: c, line });
    i++;
  }
  if (templateDepths.length > 0) fail("unterminated template substitution");
  return tokens;
}

const SOURCE_EXTENSIONS = /\.(?:ts|mts|cts|tsx|js|mjs|cjs|jsx)$/;

/** Every source file under the root-relative paths `roots` (folders walked, files as they are). */
export function sourceFiles(roots: readonly string[]): SourceFile[] {
  const paths: string[] = [];
  const walk = (rel: string): void => {
    const abs = posix.join(ROOT, rel);
    if (statSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs).sort()) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        walk(posix.join(rel, entry));
      }
    } else if (SOURCE_EXTENSIONS.test(rel)) paths.push(rel);
  };
  for (const root of roots) walk(root);
  return paths.map((path) => {
    const text = readFileSync(posix.join(ROOT, path), "utf8");
    return { path, text, tokens: lex(text, path) };
  });
}

/** The folders directly inside the root-relative folder `dir`. */
export function subfolders(dir: string): string[] {
  return readdirSync(posix.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => posix.join(dir, e.name))
    .sort();
}

/** Words that start the next statement: an import or re-export scan stops at them. */
const STATEMENT_START = new Set(["import", "export", "const", "let", "var", "function", "class"]);

/** One module reference in a source file. */
export interface ImportRef {
  /** The importing file, root-relative. */
  file: string;
  line: number;
  /** The specifier as written; `null` for `import(expr)` with a computed argument. */
  specifier: string | null;
  /** `import … from`, `import "…"`, `export … from`, `import(…)` or `typeof import(…)`. */
  form: "import" | "side-effect" | "re-export" | "dynamic" | "type-query";
  /** `import type …`, `export type … from` or `typeof import(…)`: erased when compiled. */
  typeOnly: boolean;
}

/** The module references of `file`: static imports, re-exports and dynamic `import(…)`. */
export function importsOf(file: SourceFile): ImportRef[] {
  const t = file.tokens;
  const refs: ImportRef[] = [];
  const is = (k: number, value: string): boolean =>
    t[k] !== undefined && (t[k].kind === "id" || t[k].kind === "punct") && t[k].value === value;
  const afterDot = (k: number): boolean => k > 0 && (is(k - 1, ".") || is(k - 1, "?."));
  /** Index of the `from "…"` string of the declaration starting at `k`, or -1. */
  const fromString = (k: number): number => {
    let depth = 0;
    for (let j = k; j < t.length; j++) {
      if (is(j, "{")) depth++;
      else if (is(j, "}")) {
        if (--depth === 0 && !is(j + 1, "from")) return -1; // `export { a };`
      } else if (depth === 0 && is(j, "from") && t[j + 1]?.kind === "str") return j + 1;
      else if (
        depth === 0 && (is(j, ";") || (t[j].kind === "id" && STATEMENT_START.has(t[j].value)))
      ) return -1;
    }
    return -1;
  };
  for (let k = 0; k < t.length; k++) {
    if (t[k].kind !== "id" || afterDot(k) || is(k + 1, ":")) continue;
    const { line } = t[k];
    if (t[k].value === "import") {
      if (is(k + 1, "(")) {
        const arg = t[k + 2];
        const literal = (arg?.kind === "str" || (arg?.kind === "tpl" && arg.whole === true)) &&
          (is(k + 3, ")") || is(k + 3, ","));
        const typeQuery = is(k - 1, "typeof");
        refs.push({
          file: file.path,
          line,
          specifier: literal ? arg.value : null,
          form: typeQuery ? "type-query" : "dynamic",
          typeOnly: typeQuery,
        });
      } else if (t[k + 1]?.kind === "str") {
        refs.push({
          file: file.path,
          line,
          specifier: t[k + 1].value,
          form: "side-effect",
          typeOnly: false,
        });
      } else if (!is(k + 1, ".")) {
        const s = fromString(k + 1);
        if (s < 0) continue; // `import x = require(…)` and the like: the runtime checks see those
        const typeOnly = is(k + 1, "type") && !is(k + 2, "from") && !is(k + 2, ",") &&
          !is(k + 2, "=");
        refs.push({ file: file.path, line, specifier: t[s].value, form: "import", typeOnly });
      }
    } else if (t[k].value === "export") {
      const typeOnly = is(k + 1, "type") && (is(k + 2, "{") || is(k + 2, "*"));
      const at = typeOnly ? k + 2 : k + 1;
      if (!is(at, "*") && !is(at, "{")) continue;
      const s = fromString(at);
      if (s >= 0) {
        refs.push({ file: file.path, line, specifier: t[s].value, form: "re-export", typeOnly });
      }
    }
  }
  return refs;
}

/** Whether `specifier` is relative (`./…`, `../…`). */
export function isRelative(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../");
}

/** The root-relative path a relative specifier of `from` names (may start with `../`). */
export function resolveRelative(from: string, specifier: string): string {
  return posix.normalize(posix.join(posix.dirname(from), specifier));
}

/**
 * The unit a root-relative path belongs to: a subsystem folder (`core/math`, `adapters/cli`,
 * with everything below it), a file directly in `core/` or `adapters/` (its own entry point),
 * `mod.ts`, or the top folder (`bench`, `tests`, `scripts`).
 */
export function unitOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "core" || parts[0] === "adapters") {
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : path;
  }
  return parts.length > 1 ? parts[0] : path;
}

/** Whether `unit` is a subsystem folder (`core/X` or `adapters/X`). */
export function isSubsystem(unit: string): boolean {
  return /^(?:core|adapters)\/[^/]+$/.test(unit) && !SOURCE_EXTENSIONS.test(unit);
}

/**
 * The import graph between units (see {@linkcode unitOf}) of `files`: unit → imported unit → the
 * references that make the edge (`file:line specifier`). Every relative module reference counts,
 * `import type` and `typeof import(…)` included; references into `tests/` and out of the root are
 * left out.
 */
export function unitGraph(files: readonly SourceFile[]): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of files) {
    const from = unitOf(file.path);
    if (!edges.has(from)) edges.set(from, new Map());
    for (const ref of importsOf(file)) {
      if (ref.specifier === null || !isRelative(ref.specifier)) continue;
      const target = resolveRelative(file.path, ref.specifier);
      const to = unitOf(target);
      if (target.startsWith("../") || to === "tests" || to === from) continue;
      const out = edges.get(from)!;
      if (!out.has(to)) out.set(to, []);
      out.get(to)!.push(
        `${file.path}:${ref.line} ${ref.typeOnly ? "import type " : ""}${ref.specifier}`,
      );
    }
  }
  return edges;
}

/**
 * The cycles of `edges`, one text per set of units that import each other (a strongly connected
 * component): the units, then the shortest cycle through each of its edges, every step with the
 * import that makes it.
 */
export function importCycles(edges: Map<string, Map<string, string[]>>): string[] {
  const reports: string[] = [];
  for (const component of stronglyConnected(edges).filter((c) => c.length > 1)) {
    const inside = new Set(component);
    const seen = new Set<string>();
    const lines = [`${component.join(", ")} import each other:`];
    for (const from of component) {
      for (const to of [...edges.get(from)!.keys()].sort()) {
        if (!inside.has(to)) continue;
        const cycle = [from, ...shortestPath(edges, inside, to, from)];
        const key = rotated(cycle.slice(0, -1)).join(" ");
        if (seen.has(key)) continue;
        seen.add(key);
        lines.push(`  ${cycle.join(" → ")}`);
        cycle.slice(1).forEach((b, i) => {
          const refs = edges.get(cycle[i])!.get(b)!;
          const more = refs.length > 1 ? ` (and ${refs.length - 1} more)` : "";
          lines.push(`      ${cycle[i]} → ${b}: ${refs[0]}${more}`);
        });
      }
    }
    reports.push(lines.join("\n"));
  }
  return reports;
}

/** Tarjan's strongly connected components of `edges`, each sorted, in a stable order. */
function stronglyConnected(edges: Map<string, Map<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The shortest path [from, …, to] inside `inside` (a strongly connected component). */
function shortestPath(
  edges: Map<string, Map<string, unknown>>,
  inside: Set<string>,
  from: string,
  to: string,
): string[] {
  const parent = new Map<string, string>([[from, from]]);
  const queue = [from];
  while (queue.length > 0 && !parent.has(to)) {
    const v = queue.shift()!;
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (!inside.has(w) || parent.has(w)) continue;
      parent.set(w, v);
      queue.push(w);
    }
  }
  const path = [to];
  while (path[0] !== from) path.unshift(parent.get(path[0])!);
  return path;
}

/** `cycle` (without its repeated end) rotated to start at its least unit. */
function rotated(cycle: string[]): string[] {
  const least = cycle.indexOf([...cycle].sort()[0]);
  return [...cycle.slice(least), ...cycle.slice(0, least)];
}
