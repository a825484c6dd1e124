/**
 * JSON text that is safe wherever it lands: `<`, `>`, `&` and the two JavaScript line separators
 * are written as `\u` escapes, so a device id such as `<img onerror=…>` never appears as markup
 * in any response, even one a browser might sniff or a page might embed.
 *
 * @module
 */

const UNSAFE = /[<>&\u2028\u2029]/g;

const ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** `JSON.stringify(value)` with markup characters escaped (still valid JSON, same value). */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => ESCAPES[c]);
}
