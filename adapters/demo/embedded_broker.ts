/**
 * An MQTT broker inside the process (aedes over `node:net`), for `foxtail demo` and the tests:
 * nothing to install, on a loopback port the system picks unless one is asked for.
 *
 * @module
 */

import { type AddressInfo, createServer } from "node:net";
import { Aedes } from "aedes";

/** Where the broker listens. */
export interface EmbeddedBrokerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: a free one). */
  port?: number;
}

/** A running broker. */
export interface EmbeddedBroker {
  /** `mqtt://<host>:<port>`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Resolves once some client has subscribed to exactly `filter` (at once if one has). */
  whenSubscribed(filter: string): Promise<void>;
  /** Disconnects every client and stops listening; later calls return the same promise. */
  close(): Promise<void>;
}

/** Starts aedes on `host:port` (127.0.0.1 and a free port by default). */
export async function startEmbeddedBroker(
  options: EmbeddedBrokerOptions = {},
): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const requested = options.port ?? 0;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65535) {
    throw new RangeError(`broker port must be an integer from 0 to 65535, got ${requested}`);
  }
  const broker = await Aedes.createBroker();
  const subscribed = new Set<string>();
  const waiting = new Map<string, (() => void)[]>();
  broker.on("subscribe", (subscriptions) => {
    for (const { topic } of subscriptions) {
      subscribed.add(topic);
      for (const resolve of waiting.get(topic) ?? []) resolve();
      waiting.delete(topic);
    }
  });
  const server = createServer(broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(requested, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw new Error(
      `cannot start the MQTT broker on ${host}:${requested}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    whenSubscribed(filter) {
      if (subscribed.has(filter)) return Promise.resolve();
      return new Promise((resolve) => {
        const list = waiting.get(filter) ?? [];
        list.push(resolve);
        waiting.set(filter, list);
      });
    },
    close() {
      closing ??= (async () => {
        // Clients first: the server's close() waits for every connection to end.
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
