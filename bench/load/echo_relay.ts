/**
 * A stand-in for the gateway that does no work: it subscribes to the load benchmark's telemetry
 * and republishes every message at once, unchanged, as `{prefix}/{device}/score`. The broker-floor
 * benchmark runs it as a child process, where `foxtail run` would be, to measure what mosquitto
 * and the clients cost on their own.
 *
 *     <runtime> bench/load/echo_relay.ts MQTT_URL
 *
 * Prints `ready` once subscribed; exits on SIGTERM.
 *
 * @module
 */

import process from "node:process";
import mqtt from "mqtt";
import { LOAD_PREFIX, noDelay } from "./load_config.ts";

const client = await mqtt.connectAsync(process.argv[2], {
  clientId: `foxtail-echo-${Math.random().toString(16).slice(2, 8)}`,
  reconnectPeriod: 0,
});
noDelay(client);
await client.subscribeAsync("bench/+/telemetry", { qos: 0 });
const QOS0 = { qos: 0 } as const;
client.on("message", (topic, payload) => {
  // bench/{device}/telemetry → {prefix}/{device}/score
  client.publish(`${LOAD_PREFIX}/${topic.slice(6, -10)}/score`, payload, QOS0);
});
process.once("SIGTERM", () => void client.endAsync().then(() => process.exit(0)));
console.log("ready");
