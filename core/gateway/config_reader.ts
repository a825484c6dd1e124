/**
 * Reads an untrusted JSON value as configuration, collecting every mistake with the key path and
 * the offending value (`streams[0].payload.fields[2]: expected a string, got 5`) instead of
 * stopping at the first.
 *
 * @module
 */

/** A configuration with one or more mistakes; `problems` lists each, path first. */
export class ConfigError extends Error {
  /** One line per mistake, each starting with its key path. */
  readonly problems: readonly string[];

  /** An error listing `problems` (each "key path: what is wrong"). */
  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration (${problems.length} problems):\n  ${problems.join("\n  ")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Renders a value briefly for an error message: JSON, cut at 60 characters. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Collects problems while walking a configuration value. */
export class ConfigProblems {
  readonly #problems: string[] = [];

  /** Records a problem at `path`. */
  add(path: string, message: string): void {
    this.#problems.push(path === "" ? message : `${path}: ${message}`);
  }

  /** Whether any problem was recorded. */
  get any(): boolean {
    return this.#problems.length > 0;
  }

  /** Throws a {@linkcode ConfigError} listing every problem, if there are any. */
  throwIfAny(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems.slice());
  }
}

/** `parent.key` or just `key` at the root. */
export function joinPath(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

/**
 * `parent.key`, or `parent["key"]` when the key is not a plain name (empty, spaces, dots,
 * control characters), so that every problem starts with a path that shows the key.
 */
export function keyPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return joinPath(parent, key);
  return `${parent === "" ? "(root)" : parent}[${describeValue(key)}]`;
}

/**
 * The value at `path` as a plain object whose keys are all in `allowed` (an unknown key is a
 * problem naming it); `undefined` (and a problem) when it is not an object. A missing value gives
 * an empty object when `optional`.
 */
export function readObject(
  value: unknown,
  path: string,
  allowed: readonly string[],
  problems: ConfigProblems,
  optional = true,
): Record<string, unknown> | undefined {
  if (value === undefined && optional) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.add(path || "(root)", `expected an object, got ${describeValue(value)}`);
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      problems.add(
        keyPath(path, key),
        `unknown key (allowed here: ${allowed.join(", ")})`,
      );
    }
  }
  return record;
}

/** A string at `path` (non-empty unless `allowEmpty`), or `fallback` when missing. */
export function readString(
  value: unknown,
  path: string,
  problems: ConfigProblems,
  fallback?: string,
): string | undefined {
  if (value === undefined) {
    if (fallback === undefined) problems.add(path, "is required (a string)");
    return fallback;
  }
  if (typeof value !== "string" || value.length === 0) {
    problems.add(path, `expected a non-empty string, got ${describeValue(value)}`);
    return fallback;
  }
  return value;
}

/** An optional string at `path`: undefined when missing. */
export function readOptionalString(
  value: unknown,
  path: string,
  problems: ConfigProblems,
): string | undefined {
  if (value === undefined) return undefined;
  return readString(value, path, problems);
}

/** An integer in [least, most] at `path`, or `fallback` when missing. */
export function readInteger(
  value: unknown,
  path: string,
  problems: ConfigProblems,
  fallback: number,
  least: number,
  most = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < least || value > most) {
    const range = most === Number.MAX_SAFE_INTEGER ? `≥ ${least}` : `in [${least}, ${most}]`;
    problems.add(path, `expected an integer ${range}, got ${describeValue(value)}`);
    return fallback;
  }
  return value;
}

/** A number strictly within (above, below) at `path`, or `fallback` when missing. */
export function readNumber(
  value: unknown,
  path: string,
  problems: ConfigProblems,
  fallback: number,
  above: number,
  below = Infinity,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > above && value < below)) {
    const range = below === Infinity ? `> ${above}` : `in (${above}, ${below})`;
    problems.add(path, `expected a number ${range}, got ${describeValue(value)}`);
    return fallback;
  }
  return value;
}

/** One of `choices` at `path`, or `fallback` when missing. */
export function readChoice<T extends string | number>(
  value: unknown,
  path: string,
  problems: ConfigProblems,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    const list = choices.map((c) => JSON.stringify(c)).join(", ");
    problems.add(path, `expected one of ${list}, got ${describeValue(value)}`);
    return fallback;
  }
  return value as T;
}

/** `true` or `false` at `path`, or `fallback` when missing. */
export function readBoolean(
  value: unknown,
  path: string,
  problems: ConfigProblems,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  problems.add(path, `expected true or false, got ${describeValue(value)}`);
  return fallback;
}

/** The `read*` functions bound to one object's keys, so each key is named once. */
export interface KeyReaders {
  /** {@linkcode readString} of `key`. */
  string(key: string, fallback?: string): string | undefined;
  /** {@linkcode readOptionalString} of `key`. */
  optionalString(key: string): string | undefined;
  /** {@linkcode readInteger} of `key`. */
  integer(key: string, fallback: number, least: number, most?: number): number;
  /** {@linkcode readNumber} of `key`. */
  number(key: string, fallback: number, above: number, below?: number): number;
  /** {@linkcode readChoice} of `key`. */
  choice<T extends string | number>(key: string, choices: readonly T[], fallback: T): T;
  /** {@linkcode readBoolean} of `key`. */
  boolean(key: string, fallback: boolean): boolean;
}

/** Readers of `object`'s keys, each reporting at `path.key`. */
export function keyReaders(
  object: Record<string, unknown>,
  path: string,
  problems: ConfigProblems,
): KeyReaders {
  const at = (key: string) => joinPath(path, key);
  return {
    string: (key, fallback) => readString(object[key], at(key), problems, fallback),
    optionalString: (key) => readOptionalString(object[key], at(key), problems),
    integer: (key, fallback, least, most) =>
      readInteger(object[key], at(key), problems, fallback, least, most),
    number: (key, fallback, above, below) =>
      readNumber(object[key], at(key), problems, fallback, above, below),
    choice: (key, choices, fallback) =>
      readChoice(object[key], at(key), problems, choices, fallback),
    boolean: (key, fallback) => readBoolean(object[key], at(key), problems, fallback),
  };
}
