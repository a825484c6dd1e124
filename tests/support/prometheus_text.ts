/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for the dashboard tests: it
 * refuses anything a scraper could misread (a sample before its TYPE, a repeated TYPE, a bad
 * name, a bad escape, a stray character) and returns the families with their samples.
 *
 * @module
 */

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family. */
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Reads `{a="x",b="y"}` at the start of `rest`; returns the labels and what follows. */
function parseLabels(rest: string, where: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1; // after "{"
  while (rest[i] !== "}") {
    const name = LABEL_NAME.exec(rest.slice(i))?.[0];
    if (name === undefined) throw new Error(`${where}: bad label name at ${rest.slice(i)}`);
    if (name in labels) throw new Error(`${where}: label ${name} repeated`);
    i += name.length;
    if (rest.slice(i, i + 2) !== '="') throw new Error(`${where}: expected =" after ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = rest[i++];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const e = rest[i++];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`${where}: bad escape \\${e} in a label value`);
      } else {
        value += c;
      }
    }
    labels[name] = value;
    if (rest[i] === ",") i++;
    else if (rest[i] !== "}") throw new Error(`${where}: expected , or } after a label`);
  }
  return [labels, rest.slice(i + 1)];
}

/** The histogram family whose `_bucket`, `_sum` or `_count` sample `name` is, if any. */
function histogramOf(families: Map<string, PromFamily>, name: string): PromFamily | undefined {
  const base = /^(.+)_(bucket|sum|count)$/.exec(name)?.[1];
  const family = base === undefined ? undefined : families.get(base);
  return family?.type === "histogram" ? family : undefined;
}

/**
 * Checks a histogram's samples as a scraper relies on them: buckets with ascending `le` bounds,
 * cumulative (never decreasing) counts, a last `+Inf` bucket equal to `_count`, and one `_sum`.
 */
export function checkHistogram(family: PromFamily): void {
  const name = family.name;
  const buckets = family.samples.filter((s) => s.name === `${name}_bucket`);
  const sums = family.samples.filter((s) => s.name === `${name}_sum`);
  const counts = family.samples.filter((s) => s.name === `${name}_count`);
  if (buckets.length === 0 || sums.length !== 1 || counts.length !== 1) {
    throw new Error(`${name}: expected buckets, one _sum and one _count`);
  }
  let bound = -Infinity, cumulative = 0;
  for (const b of buckets) {
    const le = b.labels.le === "+Inf" ? Infinity : Number(b.labels.le);
    if (!(le > bound)) throw new Error(`${name}: bucket le="${b.labels.le}" out of order`);
    if (b.value < cumulative) throw new Error(`${name}: bucket le="${b.labels.le}" decreases`);
    bound = le;
    cumulative = b.value;
  }
  if (bound !== Infinity) throw new Error(`${name}: no +Inf bucket`);
  if (cumulative !== counts[0].value) throw new Error(`${name}: +Inf bucket ≠ _count`);
}

/** The families of an exposition, by name; throws on the first malformed line. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, PromFamily>();
  const helps = new Map<string, string>();
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+) (.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) {
        throw new Error(`${where}: bad metric name ${name}`);
      }
      if (kind === "HELP") {
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${where}: bad escape`);
        helps.set(name, rest.replace(/\\(\\|n)/g, (_, e) => e === "n" ? "\n" : "\\"));
      } else {
        if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${where}: bad type ${rest}`);
        families.set(name, { name, type: rest, help: helps.get(name) ?? "", samples: [] });
      }
      return;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new Error(`${where}: bad sample ${JSON.stringify(line)}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, where);
    const fields = rest.split(" ");
    if (fields[0] !== "" || fields.length < 2 || fields.length > 3) {
      throw new Error(`${where}: expected one space, a value and maybe a timestamp: ${line}`);
    }
    const value = parseValue(fields[1], where);
    const family = families.get(name) ?? histogramOf(families, name);
    if (family === undefined) throw new Error(`${where}: sample ${name} before its TYPE line`);
    if (family.help === "" && helps.has(name)) family.help = helps.get(name)!;
    family.samples.push({ name, labels, value });
  });
  return families;
}
