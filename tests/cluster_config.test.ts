// The cluster section of the gateway configuration, what cluster mode refuses before it connects,
// and the device-to-partition function (the servers' mapping is checked against it on a real
// cluster in nats_cluster.test.ts).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { devicePartition } from "../core/cluster/mod.ts";
import { ConfigError } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { ClusterGateway } from "../adapters/cluster/mod.ts";
import { smallConfig } from "./support/gateway_fixtures.ts";

const cluster = { servers: ["nats://127.0.0.1:4222"], partitions: 32, leaseSeconds: 4 };

describe("cluster mode's configuration", () => {
  test("a cluster section is read with its defaults; without one there is none", () => {
    const config = validateGatewayConfig(smallConfig({ cluster }));
    assert.equal(config.cluster?.partitions, 32);
    assert.equal(config.cluster?.leaseSeconds, 4);
    assert.ok(config.cluster!.renewSeconds < 2, "renewed within half the lease");
    assert.equal(config.cluster?.streamMaxAgeHours, 24);
    assert.equal(config.cluster?.streamMaxMegabytes, 256);
    assert.equal(validateGatewayConfig(smallConfig()).cluster, undefined);
  });

  test("a bad cluster section is refused naming the key and the value", () => {
    assert.throws(
      () => validateGatewayConfig(smallConfig({ cluster: { ...cluster, partitions: 0 } })),
      (error: Error) =>
        error instanceof ConfigError && /cluster\.partitions.*0/.test(error.message),
    );
    assert.throws(
      () => validateGatewayConfig(smallConfig({ cluster: { ...cluster, servers: [] } })),
      (error: Error) => error instanceof ConfigError && /cluster\.servers/.test(error.message),
    );
    assert.throws(
      () => validateGatewayConfig(smallConfig({ cluster: { ...cluster, streamMaxMegabytes: -1 } })),
      (error: Error) =>
        error instanceof ConfigError && /cluster\.streamMaxMegabytes.*-1/.test(error.message),
    );
    const discovery = { url: "mqtt://127.0.0.1:1883", homeAssistantDiscovery: "homeassistant" };
    assert.throws(
      () => validateGatewayConfig(smallConfig({ cluster, mqtt: discovery })),
      (error: Error) =>
        error instanceof ConfigError &&
        /mqtt\.homeAssistantDiscovery: not supported in cluster mode/.test(error.message),
    );
  });

  test("streams that never match the partitions' sensor topic are refused before connecting", () => {
    const config = smallConfig({ cluster });
    const streams = config.streams as Record<string, unknown>[];
    streams[0] = { ...streams[0], subscribe: "plant/+/data", device: "plant/{device}/data" };
    assert.throws(
      () => new ClusterGateway(validateGatewayConfig(config), { log: () => {} }),
      (error: Error) =>
        error instanceof ConfigError &&
        /sensors\/\{device\}\/telemetry.*"plant\/\{device\}\/data"/.test(error.message),
    );
  });
});

describe("devicePartition", () => {
  test("is FNV-1a (32 bits) of the id's UTF-8 bytes, modulo the partition count", () => {
    assert.equal(devicePartition("", 4096), 0x811c9dc5 % 4096);
    assert.equal(devicePartition("a", 4096), 0xe40c292c % 4096);
    assert.equal(devicePartition("foobar", 1000), 0xbf9cf968 % 1000);
    // "é" is two bytes (0xc3 0xa9), hashed as bytes, not as one UTF-16 unit.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    assert.equal(devicePartition("é", 4096), h % 4096);
  });

  test("spreads a fleet over the partitions", () => {
    const counts = new Array(16).fill(0);
    for (let d = 0; d < 16_000; d++) counts[devicePartition(`sensor-${d}`, 16)]++;
    assert.ok(Math.min(...counts) > 800 && Math.max(...counts) < 1200, counts.join(","));
  });
});
