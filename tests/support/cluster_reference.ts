/**
 * What the cluster tests compare with: the scores one uninterrupted engine (the tests' small
 * configuration) gives every message of the telemetry stream, by stream sequence, with the
 * stream's timestamps as arrival times, as a cluster instance scores them.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { GatewayEngine } from "../../core/gateway/mod.ts";
import { validateGatewayConfig } from "../../adapters/gateway/mod.ts";
import { sensorTopic, TELEMETRY_STREAM } from "../../adapters/cluster/mod.ts";
import { smallConfig } from "./gateway_fixtures.ts";

/** A message of the stream as the reference read it. */
export interface StreamMessage {
  /** Its body. */
  body: string;
  /** When the stream stored it (milliseconds since the epoch). */
  at: number;
}

/**
 * The scores one uninterrupted engine gives every message of the stream, by sequence; each
 * message goes into `messages` when it is given.
 */
export async function referenceScores(
  nc: NatsConnection,
  messages?: Map<number, StreamMessage>,
): Promise<Map<number, number>> {
  const engine = new GatewayEngine(validateGatewayConfig(smallConfig()));
  const out = new Map<number, number>();
  let seq = 0;
  engine.output = { score: (_device, v) => out.set(seq, v.score), alert: () => {} };
  const info = await (await jetstreamManager(nc)).streams.info(TELEMETRY_STREAM);
  const consumer = await jetstream(nc).consumers.get(TELEMETRY_STREAM);
  while (seq < info.state.last_seq) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    for await (const m of batch) {
      seq = m.seq;
      messages?.set(seq, { body: m.string(), at: m.time.getTime() });
      const device = m.subject.slice(m.subject.lastIndexOf(".") + 1);
      engine.receive(sensorTopic(device), m.data, m.time.getTime());
      engine.drain();
    }
  }
  return out;
}
