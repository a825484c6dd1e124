// A three-node NATS cluster with authentication, as the cluster mode uses it: MQTT telemetry
// partitioned by the server's mapping into a replicated stream,
// access refused without the right user, and the partition leases over a real KV bucket.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import mqtt from "mqtt";
import {
  type NatsLeaseStore,
  openLeaseBucket,
  PARTITIONED_PREFIX,
} from "../adapters/cluster/mod.ts";
import {
  CLUSTER_DEFAULTS,
  clusterFingerprint,
  devicePartition,
  PartitionLeases,
} from "../core/cluster/mod.ts";
import { type NatsCluster, startNatsCluster } from "./support/nats_cluster.ts";

const PARTITIONS = 16;
const STREAM = "FOXTAIL_TELEMETRY";
const DEVICES = 40;
const WAIT_MS = 30_000;

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Publishes `count` QoS 1 readings per device through `url`; resolves once each is acknowledged. */
async function publishReadings(
  cluster: NatsCluster,
  url: string,
  round: number,
  count: number,
): Promise<number> {
  const client = await mqtt.connectAsync(url, {
    username: cluster.publisher.user,
    password: cluster.publisher.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    clientId: `sensor-${round}`,
  });
  try {
    let sent = 0;
    for (let k = 0; k < count; k++) {
      await Promise.all(Array.from({ length: DEVICES }, (_, d) =>
        client.publishAsync(
          `sensors/dev${d}/telemetry`,
          JSON.stringify({ round, k, t: 20 + d }),
          { qos: 1 },
        )));
      sent += DEVICES;
    }
    return sent;
  } finally {
    await client.endAsync();
  }
}

/** Every message of the stream read through `nc`: its subject and body, in order. */
async function readStream(nc: NatsConnection): Promise<{ subject: string; body: string }[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(STREAM);
  const info = await (await jetstreamManager(nc)).streams.info(STREAM);
  const out: { subject: string; body: string }[] = [];
  while (out.length < info.state.messages) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    for await (const m of batch) out.push({ subject: m.subject, body: m.string() });
  }
  return out;
}

describe("a three-node NATS cluster for the cluster mode", () => {
  // Started by the first test that needs it, not in before(): Bun's node:test gives hooks 5 s
  // whatever the configuration, and three nodes with JetStream can take longer on a loaded machine.
  let started: Promise<{ cluster: NatsCluster; gw: NatsConnection }> | undefined;
  const shared = () =>
    started ??= (async () => {
      const cluster = await startNatsCluster({ nodes: 3, partitions: PARTITIONS });
      const gw = await connect({
        servers: cluster.clientUrls.slice(0, 2),
        user: cluster.gateway.user,
        pass: cluster.gateway.password,
      });
      return { cluster, gw };
    })();
  after(async () => {
    if (!started) return;
    const { cluster, gw } = await started;
    await gw.close();
    await cluster.stop();
  });

  test("MQTT telemetry through any node lands once per reading in its device's partition", {
    timeout: 120_000,
  }, async () => {
    const { cluster, gw } = await shared();
    const jsm = await jetstreamManager(gw);
    await jsm.streams.add({
      name: STREAM,
      subjects: [`${PARTITIONED_PREFIX}.>`],
      num_replicas: 3,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: 3600 * 1e9, // nanoseconds
      max_bytes: 64 * 1024 * 1024,
    });
    let sent = await publishReadings(cluster, cluster.mqttUrls[0], 1, 3);
    await until(async () => (await jsm.streams.info(STREAM)).state.messages === sent, "round 1");
    // Through another node's MQTT port: the same device lands in the same partition.
    sent += await publishReadings(cluster, cluster.mqttUrls[1], 2, 3);
    await until(async () => (await jsm.streams.info(STREAM)).state.messages === sent, "round 2");
    const messages = await readStream(gw);
    assert.equal(messages.length, DEVICES * 6);
    const partitionOf = new Map<string, string>();
    const seen = new Set<string>();
    for (const { subject, body } of messages) {
      const [a, b, partition, device, ...rest] = subject.split(".");
      assert.equal(`${a}.${b}`, PARTITIONED_PREFIX, subject);
      assert.deepEqual(rest, [], subject);
      const k = Number(partition);
      assert.ok(Number.isInteger(k) && k >= 0 && k < PARTITIONS, subject);
      assert.equal(k, devicePartition(device, PARTITIONS), `the server's partition of ${device}`);
      assert.equal(
        partitionOf.get(device) ?? partition,
        partition,
        `${device} stays in one partition`,
      );
      partitionOf.set(device, partition);
      const { round, k: reading } = JSON.parse(body);
      const id = `${device}/${round}/${reading}`;
      assert.ok(!seen.has(id), `${id} stored once`);
      seen.add(id);
    }
    assert.equal(partitionOf.size, DEVICES);
    assert.ok(new Set(partitionOf.values()).size >= 8, "the devices spread over the partitions");
  });

  test("no credentials, or the sensors' user, reach neither the partitions nor the state", {
    timeout: 120_000,
  }, async () => {
    const { cluster, gw } = await shared();
    await assert.rejects(
      connect({ servers: cluster.clientUrls[0], reconnect: false }),
      /authorization/i,
    );
    await assert.rejects(
      connect({
        servers: cluster.clientUrls[0],
        user: cluster.gateway.user,
        pass: "wrong",
        reconnect: false,
      }),
      /authorization/i,
    );
    const sensor = await connect({
      servers: cluster.clientUrls[0],
      user: cluster.publisher.user,
      pass: cluster.publisher.password,
    });
    try {
      const violations: string[] = [];
      (async () => {
        for await (const s of sensor.status()) {
          if (s.type === "error") violations.push(String((s as { error?: Error }).error?.message));
        }
      })();
      // Writing a lease straight into the KV bucket's subjects is refused by the server.
      sensor.publish("$KV.foxtail-leases.partition.0", "x");
      await until(() => violations.some((v) => /permissions violation/i.test(v)), "the refusal");
      // The JetStream API (streams, KV, object store) is not the sensors' to call.
      await assert.rejects(jetstreamManager(sensor).then((m) => m.streams.info(STREAM)));
      const before = (await (await jetstreamManager(gw)).streams.info(STREAM)).state.messages;
      await sensor.flush();
      assert.equal(
        (await (await jetstreamManager(gw)).streams.info(STREAM)).state.messages,
        before,
      );
    } finally {
      await sensor.close();
    }
  });

  test("leases in a replicated KV bucket: one owner per partition, a dead instance's taken over", {
    timeout: 120_000,
  }, async () => {
    const { cluster } = await shared();
    const LEASE_MS = 2000;
    const fingerprint = clusterFingerprint(
      {
        ...CLUSTER_DEFAULTS,
        servers: ["nats://x"],
        partitions: PARTITIONS,
        leaseSeconds: LEASE_MS / 1000,
        renewSeconds: 0.5,
        snapshotSeconds: 30,
      },
      "test",
    );
    const connections = await Promise.all(
      cluster.clientUrls.map((url) =>
        connect({ servers: url, user: cluster.gateway.user, pass: cluster.gateway.password })
      ),
    );
    try {
      const stores: { leases: NatsLeaseStore; settings: NatsLeaseStore }[] = [];
      for (const nc of connections) {
        stores.push({
          leases: await openLeaseBucket(nc, {
            name: "foxtail-leases",
            ttlMs: LEASE_MS,
            replicas: 3,
          }),
          settings: await openLeaseBucket(nc, { name: "foxtail-settings", ttlMs: 0, replicas: 3 }),
        });
      }
      // The store's own semantics, on the real bucket.
      const { leases } = stores[0];
      const r1 = await leases.create("probe", new TextEncoder().encode("a"));
      assert.ok(r1 !== null);
      assert.equal(await stores[1].leases.create("probe", new Uint8Array([1])), null);
      const r2 = await leases.update("probe", new Uint8Array([2]), r1!);
      assert.ok(r2 !== null);
      assert.equal(
        await leases.update("probe", new Uint8Array([3]), r1!),
        null,
        "a stale revision",
      );
      assert.equal(await leases.delete("probe", r1!), false);
      assert.equal(await leases.delete("probe", r2!), true);
      assert.equal(await leases.get("probe"), null);
      assert.ok((await leases.create("probe", new Uint8Array([4]))) !== null, "created again");
      await until(async () => (await leases.get("probe")) === null, "the probe's expiry");

      const instances = stores.map((s, i) =>
        new PartitionLeases({
          ...s,
          instance: `gw${i + 1}`,
          partitions: PARTITIONS,
          leaseMs: LEASE_MS,
          fingerprint,
          now: Date.now,
        })
      );
      for (const instance of instances) await instance.join();
      const owners = () => {
        // What each trusts it holds (a stopped instance's leases run out on its own clock).
        const all = instances.flatMap((inst, i) =>
          inst.held().filter((k) => inst.holds(k)).map((k) => [k, i] as const)
        );
        const ks = all.map(([k]) => k);
        assert.equal(new Set(ks).size, ks.length, `a partition held twice: ${JSON.stringify(all)}`);
        return all;
      };
      const round = async (which: PartitionLeases[]) => {
        for (const inst of which) {
          const report = await inst.tick();
          for (const k of report.toHandOver) await inst.release(k);
          owners();
        }
      };
      await until(async () => {
        await round(instances);
        const counts = instances.map((inst) => inst.held().length);
        return counts.reduce((a, b) => a + b) === PARTITIONS &&
          Math.max(...counts) - Math.min(...counts) <= 1;
      }, "every partition owned once, evenly");

      // gw3 stops renewing (as after kill -9): the others take its partitions once they expire.
      const survivors = instances.slice(0, 2);
      await until(async () => {
        await round(survivors);
        return survivors.reduce((n, inst) => n + inst.held().length, 0) === PARTITIONS;
      }, "the survivors to hold every partition");
      assert.deepEqual(survivors.map((s) => s.held().length), [PARTITIONS / 2, PARTITIONS / 2]);
      for (const inst of survivors) await inst.releaseAll();
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
    }
  });
});
