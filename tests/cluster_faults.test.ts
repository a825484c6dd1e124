// Cluster mode's faults against one real nats-server, with instances in this process: a snapshot
// older than what the stream still holds resets the partition's models, logged, counted and
// shown; a corrupt newest snapshot is refused and the older one plus a longer replay used, giving
// the very scores an uninterrupted instance gives.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { devicePartition } from "../core/cluster/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import {
  ClusterGateway,
  SEQUENCE_METADATA,
  SNAPSHOT_BUCKET,
  snapshotName,
  TELEMETRY_STREAM,
  TELEMETRY_SUBJECTS,
} from "../adapters/cluster/mod.ts";
import { type NatsServer, singleServerCluster, startNatsServer } from "./support/nats_single.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";
import { referenceScores } from "./support/cluster_reference.ts";
import { until } from "./support/dashboard_fixtures.ts";

const PARTITIONS = 4;
const DEVICE = "boiler-1";
const K = devicePartition(DEVICE, PARTITIONS);
const WAIT_MS = 30_000;

function instance(server: NatsServer, id: string, lines: string[]): ClusterGateway {
  const config = validateGatewayConfig(smallConfig({
    dashboard: { enabled: false },
    cluster: singleServerCluster(server, PARTITIONS, id),
  }));
  return new ClusterGateway(config, { log: (line) => lines.push(line), replicas: 1 });
}

async function publish(nc: NatsConnection, signal: SensorSignal, count: number): Promise<void> {
  for (let i = 0; i < count; i++) nc.publish(`foxtail.telemetry.${K}.${DEVICE}`, signal.next());
  await nc.flush();
}

const scored = (gw: ClusterGateway) => gw.status().counters.accepted;

describe("cluster mode's faults (one nats-server)", () => {
  test("a snapshot older than the stream's first message resets the partition, said so", {
    timeout: 60_000,
  }, async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url, user: server.user, pass: server.password });
    try {
      // A stream that keeps only the newest 50 messages, so retention overtakes the snapshot.
      await (await jetstreamManager(nc)).streams.add({
        name: TELEMETRY_STREAM,
        subjects: [TELEMETRY_SUBJECTS],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        max_msgs: 50,
      });
      const signal = new SensorSignal(7);
      const linesA: string[] = [];
      const a = instance(server, "gw-a", linesA);
      await a.start();
      await publish(nc, signal, 30);
      await until(() => scored(a) === 30, "30 scored by gw-a", WAIT_MS);
      await a.stop(); // hands over: a snapshot at sequence 30
      await publish(nc, signal, 100); // the stream now starts at 81

      const linesB: string[] = [];
      const b = instance(server, "gw-b", linesB);
      await b.start();
      try {
        // Its counters start afresh too: only the 50 messages kept are scored.
        await until(() => scored(b) === 50, "the 50 kept messages scored by gw-b", WAIT_MS);
        const { cluster } = b.status();
        assert.equal(cluster.resets, 1);
        assert.equal(cluster.lastReset?.partition, K);
        assert.match(cluster.lastReset!.reason, /sequence 30.*starts at 81.*afresh/);
        assert.ok(linesB.some((l) => l.startsWith(`partition ${K}: reset: `)), linesB.join("\n"));
      } finally {
        await b.stop();
      }
    } finally {
      await nc.close();
      await server.stop();
    }
  });

  test(
    "a corrupt newest snapshot is refused; the older one and a longer replay give the same scores",
    {
      timeout: 60_000,
    },
    async () => {
      const server = await startNatsServer();
      const nc = await connect({ servers: server.url, user: server.user, pass: server.password });
      try {
        const scores = new Map<number, number[]>();
        const sub = nc.subscribe(`foxtail.${DEVICE}.score`);
        (async () => {
          for await (const m of sub) {
            const { seq, score } = m.json<{ seq: number; score: number }>();
            scores.set(seq, [...(scores.get(seq) ?? []), score]);
          }
        })();
        const signal = new SensorSignal(9);
        const a = instance(server, "gw-a", []);
        await a.start();
        await publish(nc, signal, 200);
        await until(() => scored(a) === 200, "200 scored by gw-a", WAIT_MS);
        await a.stop(); // a snapshot at sequence 200
        // A newer snapshot that is garbage: its checksum fails.
        const store = await new Objm(nc).open(SNAPSHOT_BUCKET);
        await store.putBlob(
          { name: snapshotName(K, 1), metadata: { [SEQUENCE_METADATA]: "250" } },
          new Uint8Array(64).fill(7),
        );
        await publish(nc, signal, 300);

        const lines: string[] = [];
        const b = instance(server, "gw-b", lines);
        await b.start();
        try {
          // The counters come back with the snapshot: 200 restored, 300 replayed.
          await until(() => scored(b) === 500, "gw-b replaying from sequence 201", WAIT_MS).catch(
            (e) => {
              throw new Error(`${e.message}; scored ${scored(b)}:\n${lines.join("\n")}`);
            },
          );
          assert.ok(
            lines.some((l) => l.includes(`refused snapshot ${snapshotName(K, 1)} (sequence 250)`)),
            lines.join("\n"),
          );
          assert.equal(b.status().cluster.resets, 0);
          await until(() => scores.size === 500, "every score received", WAIT_MS);
          // The same scores as one engine that never stopped, each sequence scored once (the
          // handover's snapshot was at the last sequence scored).
          const reference = await referenceScores(nc);
          for (const [seq, list] of scores) {
            assert.deepEqual(list, [reference.get(seq)], `sequence ${seq}`);
          }
        } finally {
          await b.stop();
        }
      } finally {
        await nc.close();
        await server.stop();
      }
    },
  );
});
