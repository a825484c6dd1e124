/**
 * Which runtime a benchmark runs under, with its version.
 *
 * @module
 */

import process from "node:process";

/** "deno 2.x", "bun 1.x" or "node 24.x". */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}
