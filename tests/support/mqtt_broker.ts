/**
 * An embedded aedes MQTT broker on a free loopback port, for the gateway tests.
 *
 * Under Deno it runs in a Node child process: a server Deno hosts has been seen to hand one
 * connection bytes of another when several send at once (aedes then refuses the mixed-up
 * packets, e.g. "Invalid header flag bits", and drops the client), which would fail tests for
 * a fault that is neither foxtail's nor aedes'. Clients under Deno are not affected.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startAedes } from "./aedes_server.ts";
import { ROOT } from "./shared.ts";

/** A running broker; `close()` stops it and every connection. */
export interface TestBroker {
  /** `mqtt://127.0.0.1:<port>`. */
  url: string;
  /** Stops the broker and its server. */
  close(): Promise<void>;
}

/** The embedded broker, which a test can also make hang. */
export interface EmbeddedBroker extends TestBroker {
  /**
   * From now on, publishes from the client `clientId` are neither delivered nor acknowledged,
   * as by a broker that hangs (aedes then reads nothing more from that client).
   */
  stall(clientId: string): void;
}

/** Starts aedes on 127.0.0.1 and a port the system picks. */
export function startBroker(): Promise<EmbeddedBroker> {
  return "Deno" in globalThis ? startBrokerProcess() : startAedes();
}

/** aedes in a child process of the project's Node, driven through its standard input. */
function startBrokerProcess(): Promise<EmbeddedBroker> {
  const node = join(ROOT, "node_modules", ".bin", "node");
  const child = spawn(node, [join(ROOT, "tests", "support", "aedes_process.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    exited.then(() => reject(new Error("the aedes process exited before it listened")));
    lines.once("line", (url) => {
      resolve({
        url,
        stall: (clientId) => child.stdin!.write(`stall ${clientId}\n`),
        close: async () => {
          if (child.exitCode === null) child.stdin!.end("close\n");
          await exited;
        },
      });
    });
  });
}
