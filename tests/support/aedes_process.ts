/**
 * aedes in a child process (run by Node): prints its URL on a line of its own, then takes
 * commands on standard input, one a line: `stall <client id>`, and `close` (it closes, prints
 * `closed` and exits). Standard input ending closes it too, so it never outlives the test.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { startAedes } from "./aedes_server.ts";

const aedes = await startAedes();
process.stdout.write(`${aedes.url}\n`);
let closing: Promise<void> | undefined;
const close = () => {
  closing ??= aedes.close().then(() => {
    process.stdout.write("closed\n", () => process.exit(0));
  });
};
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const [command, argument] = line.split(" ", 2);
  if (command === "stall" && argument !== undefined) aedes.stall(argument);
  else if (command === "close") close();
  else process.stderr.write(`aedes process: unknown command ${JSON.stringify(line)}\n`);
});
lines.on("close", close);
