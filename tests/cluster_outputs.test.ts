// Cluster mode's outputs that a single gateway has too, against one real nats-server with MQTT:
// incident ids unique across the partitions one instance holds (each partition's engine numbers
// from 1), acknowledged by those ids, and the same after a handover; the devices' states
// retained on MQTT for a subscriber that comes later; a replay closing incidents by the stream's
// time, not the clock, so it closes what the old owner closed.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import mqtt from "mqtt";
import { devicePartition } from "../core/cluster/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { ClusterGateway } from "../adapters/cluster/mod.ts";
import { splitIncidentId } from "../adapters/cluster/incident_ids.ts";
import { type NatsServer, singleServerCluster, startNatsServer } from "./support/nats_single.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";
import { until } from "./support/dashboard_fixtures.ts";

const PARTITIONS = 4;
const WAIT_MS = 30_000;

/** Two devices in different partitions. */
function devicesApart(): [string, string] {
  const first = "pump-1";
  for (let i = 2;; i++) {
    const other = `pump-${i}`;
    if (devicePartition(other, PARTITIONS) !== devicePartition(first, PARTITIONS)) {
      return [first, other];
    }
  }
}

function instance(
  server: NatsServer,
  id: string,
  lines: string[],
  options: { quietSeconds?: number; now?: () => number } = {},
): ClusterGateway {
  const config = validateGatewayConfig(smallConfig({
    incidents: { quietSeconds: options.quietSeconds ?? 300 },
    dashboard: { enabled: false },
    mqtt: {
      url: server.mqttUrl,
      username: server.user,
      password: server.password,
      topicPrefix: "foxtail",
      reconnectMinMs: 50,
    },
    limits: { maxDevices: 8, queueCapacity: 1024, historyPoints: 32 },
    cluster: singleServerCluster(server, PARTITIONS, id),
  }));
  return new ClusterGateway(config, {
    log: (line) => lines.push(line),
    replicas: 1,
    now: options.now,
  });
}

function publish(nc: NatsConnection, device: string, payload: Uint8Array): void {
  nc.publish(`foxtail.telemetry.${devicePartition(device, PARTITIONS)}.${device}`, payload);
}

describe("cluster mode's incidents and states", () => {
  test("incident ids unique across partitions, acknowledged by them; states retained", {
    timeout: 90_000,
  }, async () => {
    const server = await startNatsServer({ mqtt: true });
    const nc = await connect({ servers: server.url, user: server.user, pass: server.password });
    const announced: { device: string; id: number; change: string }[] = [];
    const sub = nc.subscribe("foxtail.*.incident");
    (async () => {
      for await (const m of sub) announced.push(m.json());
    })();
    const devices = devicesApart();
    const lines: string[] = [];
    let a: ClusterGateway | undefined = instance(server, "gw-a", lines);
    let b: ClusterGateway | undefined;
    try {
      await a.start();
      await until(() => a!.status().cluster.held.length === PARTITIONS, "gw-a holds all");
      const signals = devices.map((_, i) => new SensorSignal(40 + i));
      const normal = SMALL_LEARNING + 30;
      for (let k = 0; k < normal; k++) {
        devices.forEach((device, i) => publish(nc, device, signals[i].next()));
      }
      for (let k = 0; k < 5; k++) for (const device of devices) publish(nc, device, faultPayload());
      await nc.flush();
      await until(() => a!.status().counters.accepted === 2 * (normal + 5), "all scored", WAIT_MS);
      await until(() => announced.length === 2, "two incidents announced", WAIT_MS);

      // Each partition's engine opened its incident 1; the ids shown differ and name the
      // partition, in the API and in the announcements alike.
      const shown = a.incidents();
      assert.equal(shown.length, 2);
      const ids = new Set(shown.map((i) => i.id));
      assert.equal(ids.size, 2, `ids ${[...ids]}`);
      for (const incident of shown) {
        assert.deepEqual(splitIncidentId(incident.id, PARTITIONS), {
          partition: devicePartition(incident.device, PARTITIONS),
          partitionId: 1,
        });
        const message = announced.find((m) => m.device === incident.device);
        assert.equal(message?.id, incident.id);
        assert.equal(message?.change, "open");
      }

      // Acknowledging the second device's incident acknowledges that one only.
      const second = shown.find((i) => i.device === devices[1])!;
      const acknowledged = a.acknowledgeIncident(second.id);
      assert.equal(acknowledged?.id, second.id);
      assert.equal(acknowledged?.device, devices[1]);
      const after = new Map(a.incidents().map((i) => [i.device, i.acknowledgedAt]));
      assert.notEqual(after.get(devices[1]), null);
      assert.equal(after.get(devices[0]), null);
      // Numbers no incident has: below the partition count, unheld, not whole.
      for (const id of [0, 3, second.id + 1000 * PARTITIONS, 5.5]) {
        assert.equal(a.acknowledgeIncident(id), undefined, `id ${id}`);
      }

      // A subscriber that connects now finds every device alerting, retained (nats-server keeps
      // a retained message only from an MQTT publisher: the instance's state connection).
      assert.equal(a.status().mqtt.connected, true);
      assert.equal(a.status().cluster.nats.connected, true);
      const late = await mqtt.connectAsync(server.mqttUrl!, {
        username: server.user,
        password: server.password,
      });
      const states = new Map<string, { state: string; retain: boolean }>();
      late.on("message", (topic, payload, packet) => {
        const device = topic.split("/")[1];
        states.set(device, { state: JSON.parse(payload.toString()).state, retain: packet.retain });
      });
      await late.subscribeAsync("foxtail/+/state", { qos: 1 });
      await until(() => states.size === 2, "the retained states", WAIT_MS);
      await late.endAsync();
      for (const device of devices) {
        assert.deepEqual(states.get(device), { state: "alerting", retain: true }, device);
      }

      // A new owner continues each partition's numbering: the same ids, acknowledged or not.
      await a.stop();
      a = undefined;
      b = instance(server, "gw-b", lines);
      await b.start();
      await until(() => b!.incidents().length === 2, "gw-b's incidents", WAIT_MS);
      assert.deepEqual(
        b.incidents().map((i) => [i.id, i.device, i.acknowledgedAt !== null]).sort(),
        shown.map((i) => [i.id, i.device, i.device === devices[1]]).sort(),
      );
    } finally {
      await a?.stop();
      await b?.stop();
      await nc.close();
      await server.stop();
    }
  });

  test("a replay closes quiet incidents by the stream's time, as the old owner did", {
    timeout: 120_000,
  }, async () => {
    const server = await startNatsServer({ mqtt: true });
    const nc = await connect({ servers: server.url, user: server.user, pass: server.password });
    const device = "pump-1";
    const lines: string[] = [];
    let a: ClusterGateway | undefined = instance(server, "gw-a", lines, { quietSeconds: 2 });
    let b: ClusterGateway | undefined;
    try {
      await a.start();
      const signal = new SensorSignal(7);
      for (let k = 0; k < SMALL_LEARNING + 30; k++) publish(nc, device, signal.next());
      await nc.flush();
      await until(() => a!.status().counters.accepted === SMALL_LEARNING + 30, "learnt", WAIT_MS);
      await a.stop(); // hands over: a snapshot
      a = undefined;
      // With no owner, within a second of stream time: a burst of faults, many normal readings,
      // another burst. An owner scoring them as they came sees one incident (the bursts are
      // closer than the quiet period).
      const between = 20_000;
      for (let k = 0; k < 5; k++) publish(nc, device, faultPayload());
      for (let k = 0; k < between; k++) publish(nc, device, signal.next());
      for (let k = 0; k < 5; k++) publish(nc, device, faultPayload());
      await nc.flush();
      // The new owner's clock is an hour on: by the clock, every incident is long quiet. Its
      // sweeps (every second) run while it replays; by the stream's time they close nothing.
      b = instance(server, "gw-b", lines, { quietSeconds: 2, now: () => Date.now() + 3_600_000 });
      await b.start();
      const total = SMALL_LEARNING + 30 + between + 10;
      await until(() => b!.status().counters.accepted === total, "the replay", WAIT_MS);
      const anomalies = b.status().counters.anomalies;
      assert.ok(anomalies >= 2, `both bursts alert (${anomalies} alerts)`);
      const incidents = b.incidents();
      assert.equal(incidents.length, 1, JSON.stringify(incidents));
      assert.equal(incidents[0].alerts, anomalies);
    } finally {
      await a?.stop();
      await b?.stop();
      await nc.close();
      await server.stop();
    }
  });
});
