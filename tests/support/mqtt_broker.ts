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

/** Starts aedes on 127.0.0.1 and a port the system picks. */
export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
