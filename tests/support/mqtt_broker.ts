/**
 * An embedded aedes MQTT broker on a free loopback port, for the gateway tests.
 *
 * @module
 */

import { type AddressInfo, createServer } from "node:net";
import { Aedes } from "aedes";

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
export async function startBroker(): Promise<EmbeddedBroker> {
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
