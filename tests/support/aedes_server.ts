/**
 * aedes on a free loopback port, with a switch that makes it hang for one client: the broker
 * of the gateway tests, run in the test's own process or, by `aedes_process.ts`, in a Node child.
 *
 * @module
 */

import { type AddressInfo, createServer } from "node:net";
import { Aedes } from "aedes";

/** A running aedes. */
export interface AedesServer {
  /** `mqtt://127.0.0.1:<port>`. */
  url: string;
  /** From now on, publishes from `clientId` are neither delivered nor acknowledged. */
  stall(clientId: string): void;
  /** Stops the broker and its server. */
  close(): Promise<void>;
}

/** Starts aedes on 127.0.0.1 and a port the system picks. */
export async function startAedes(): Promise<AedesServer> {
  const broker = await Aedes.createBroker();
  const stalled = new Set<string>();
  broker.authorizePublish = (client, _packet, callback) => {
    // Never calling back holds the publish, and the client's later packets, for ever.
    if (client === null || !stalled.has(client.id)) callback(null);
  };
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stall: (clientId) => stalled.add(clientId),
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
