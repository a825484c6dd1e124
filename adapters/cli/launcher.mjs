#!/usr/bin/env node
/**
 * The `foxtail` command as package.json's `bin` starts it. Plain JavaScript, so that a Node too
 * old to run the TypeScript sources (type stripping is on by default from Node 22.18) says so in
 * one line with the fix, instead of failing with ERR_UNKNOWN_FILE_EXTENSION. Otherwise, and on
 * Deno and Bun, it runs the CLI of ./main.ts.
 *
 * @module
 */

import process from "node:process";

/** The oldest Node that runs .ts files without a flag. */
const NODE_MAJOR = 22, NODE_MINOR = 18;

const { node, deno, bun } = process.versions;
const [major, minor] = node.split(".").map(Number);
const isNode = deno === undefined && bun === undefined; // both report a recent `node` anyway
if (isNode && (major < NODE_MAJOR || (major === NODE_MAJOR && minor < NODE_MINOR))) {
  // Inside the project, npm puts node_modules/.bin first on PATH, so `npx foxtail` finds the
  // node devDependency (Node 24) through this file's `#!/usr/bin/env node`.
  console.error(
    `foxtail needs Node ${NODE_MAJOR}.${NODE_MINOR} or later (this is Node ${node}): install ` +
      `it, or run "npx foxtail ..." inside the project after "npm ci" (it uses the project's ` +
      `Node 24)`,
  );
  process.exit(1);
}
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
