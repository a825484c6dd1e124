/**
 * Device ids from MQTT topics: a stream's `device` pattern (`sensors/{device}/telemetry`) names
 * the topic level that holds the id, and every id is checked before it is used as a table key,
 * an outgoing topic level or (later) a URL segment.
 *
 * @module
 */

/** Longest device id accepted, in UTF-16 code units. */
export const MAX_DEVICE_ID_LENGTH = 128;

/**
 * Why `id` is not an acceptable device id, or `undefined` when it is. Refused: empty or longer
 * than {@linkcode MAX_DEVICE_ID_LENGTH}, the MQTT wildcards `+` and `#`, the level separator `/`,
 * `..`, `.` alone, a backslash (a path separator on Windows), a leading `$` (MQTT reserves it), control
 * characters, and what is not valid in an MQTT topic: lone surrogates (no UTF-8 encoding) and
 * noncharacters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF; brokers such as mosquitto drop a client that
 * publishes them).
 */
export function deviceIdProblem(id: string): string | undefined {
  if (id.length === 0) return "empty";
  if (id.length > MAX_DEVICE_ID_LENGTH) return `longer than ${MAX_DEVICE_ID_LENGTH} characters`;
  if (id.charCodeAt(0) === 0x24) return "starts with $";
  if (id === ".") return "is .";
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) return "has a control character";
    if (c === 0x2b || c === 0x23) return "has an MQTT wildcard (+ or #)";
    if (c === 0x2f) return "has a /";
    if (c === 0x5c) return "has a \\";
    if (c === 0x2e && i + 1 < id.length && id.charCodeAt(i + 1) === 0x2e) return "has ..";
    let codePoint = c;
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = i + 1 < id.length ? id.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || low < 0xdc00 || low > 0xdfff) return "has a lone surrogate";
      codePoint = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      i++;
    }
    if ((codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe) {
      return "has a Unicode noncharacter";
    }
  }
  return undefined;
}

/** Why `filter` is not a valid MQTT subscription filter, or `undefined` when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "empty";
  if (filter.length > 65535) return "longer than 65535 characters";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return "# must be a whole level and the last one";
    }
    if (level.includes("+") && level !== "+") return "+ must be a whole level";
    if (level.includes("\u0000")) return "has a NUL character";
  }
  return undefined;
}

const DEVICE_LEVEL = "{device}";

/**
 * A compiled `device` pattern: topic levels separated by `/`, exactly one of them `{device}`,
 * others literal or `+` (any one level).
 */
export class DeviceTopicPattern {
  /** The pattern as written. */
  readonly source: string;
  readonly #levels: string[];
  readonly #deviceLevel: number;

  /** Throws a `RangeError` saying what is wrong with `pattern`. */
  constructor(pattern: string) {
    const problem = DeviceTopicPattern.problem(pattern);
    if (problem !== undefined) throw new RangeError(`device pattern "${pattern}": ${problem}`);
    this.source = pattern;
    this.#levels = pattern.split("/");
    this.#deviceLevel = this.#levels.indexOf(DEVICE_LEVEL);
  }

  /** Why `pattern` is not a valid device pattern, or `undefined` when it is. */
  static problem(pattern: string): string | undefined {
    if (pattern.length === 0) return "empty";
    const levels = pattern.split("/");
    const devices = levels.filter((level) => level === DEVICE_LEVEL).length;
    if (devices !== 1) return `needs exactly one whole level {device}, has ${devices}`;
    for (const level of levels) {
      if (level === DEVICE_LEVEL || level === "+") continue;
      if (level.includes("{") || level.includes("}")) return `unknown placeholder in "${level}"`;
      if (level.includes("+") || level.includes("#")) return `wildcard inside level "${level}"`;
    }
    return undefined;
  }

  /**
   * The `{device}` level of `topic` when the topic matches, else `undefined`. Does not check the
   * id (see {@linkcode deviceIdProblem}); walks the topic without splitting it.
   */
  match(topic: string): string | undefined {
    const levels = this.#levels;
    let start = 0;
    let device: string | undefined;
    for (let i = 0; i < levels.length; i++) {
      if (start > topic.length) return undefined;
      let end = topic.indexOf("/", start);
      if (end === -1) end = topic.length;
      else if (i === levels.length - 1) return undefined; // the topic has more levels
      const level = levels[i];
      if (i === this.#deviceLevel) {
        device = topic.slice(start, end);
      } else if (level !== "+") {
        if (end - start !== level.length || !topic.startsWith(level, start)) return undefined;
      }
      start = end + 1;
    }
    return start === topic.length + 1 ? device : undefined;
  }
}
