import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CLUSTER_DEFAULTS,
  clusterFingerprint,
  ClusterMismatchError,
  type ClusterSettings,
  type LeaseStore,
  memberKey,
  partitionKey,
  PartitionLeases,
  type TickReport,
} from "../core/cluster/mod.ts";
import { ManualClock, MemoryLeaseStore } from "./support/memory_lease_store.ts";

const P = 64;
const LEASE_MS = 10_000;
const RENEW_MS = 2_500;

const settingsOf = (partitions: number): ClusterSettings => ({
  ...CLUSTER_DEFAULTS,
  servers: ["nats://n:4222"],
  partitions,
  leaseSeconds: LEASE_MS / 1000,
  renewSeconds: RENEW_MS / 1000,
  snapshotSeconds: 30,
});

/** A cluster on one in-memory store, and its instances' runners. */
class Cluster {
  readonly clock = new ManualClock();
  readonly leases = new MemoryLeaseStore(this.clock, LEASE_MS);
  readonly settings = new MemoryLeaseStore(this.clock);
  /** The instances that still run, by id. */
  readonly running = new Map<string, PartitionLeases>();
  /** Hand-overs done, by instance. */
  readonly released = new Map<string, number[]>();

  make(id: string, partitions = P): PartitionLeases {
    return new PartitionLeases({
      leases: this.leases,
      settings: this.settings,
      instance: id,
      partitions,
      leaseMs: LEASE_MS,
      fingerprint: clusterFingerprint(settingsOf(partitions), "pipeline-1"),
      now: this.clock.now,
      info: `http://${id}:8080/`,
    });
  }

  async join(id: string): Promise<PartitionLeases> {
    const instance = this.make(id);
    await instance.join();
    this.running.set(id, instance);
    return instance;
  }

  /** One tick of `id`, handing over what it is asked to (the snapshot is assumed). */
  async step(id: string): Promise<TickReport> {
    const instance = this.running.get(id)!;
    const report = await instance.tick();
    for (const k of report.toHandOver) {
      assert.equal(await instance.release(k), true);
      this.released.set(id, [...(this.released.get(id) ?? []), k]);
    }
    this.check();
    return report;
  }

  /** Every running instance ticks once, in id order, then the clock moves a renewal on. */
  async round(): Promise<Map<string, TickReport>> {
    const reports = new Map<string, TickReport>();
    for (const id of [...this.running.keys()].sort()) reports.set(id, await this.step(id));
    this.clock.advance(RENEW_MS);
    this.check();
    return reports;
  }

  /** No partition held by two running instances; what one holds, the store says it owns. */
  check(): void {
    const holder = new Map<number, string>();
    const stored = this.leases.dump("partition.");
    for (const [id, instance] of this.running) {
      for (const k of instance.held()) {
        assert.equal(holder.get(k), undefined, `partition ${k} held by ${holder.get(k)} and ${id}`);
        holder.set(k, id);
        const value = stored.get(partitionKey(k));
        assert.ok(value !== undefined, `${id} holds ${k}, which has no lease`);
        assert.equal(JSON.parse(value).owner, id);
      }
    }
  }

  /** Partitions held, by running instance. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, instance] of this.running) out[id] = instance.held().length;
    return out;
  }

  /** Whether every partition is held by a running instance. */
  allHeld(): boolean {
    return [...this.running.values()].reduce((n, i) => n + i.held().length, 0) === P;
  }
}

async function threeInstances(): Promise<Cluster> {
  const cluster = new Cluster();
  for (const id of ["a", "b", "c"]) await cluster.join(id);
  for (let i = 0; i < 3; i++) await cluster.round();
  return cluster;
}

describe("partition leases", () => {
  test("three instances: every partition owned by exactly one, balanced", async () => {
    const cluster = await threeInstances();
    assert.ok(cluster.allHeld());
    assert.deepEqual(cluster.counts(), { a: 22, b: 21, c: 21 });
    // Steady: nothing more changes.
    for (const report of (await cluster.round()).values()) {
      assert.deepEqual(
        [report.claimed, report.lost, report.toHandOver],
        [[], [], []],
      );
      assert.deepEqual(report.members, ["a", "b", "c"]);
      assert.equal(report.owners.length, P);
      assert.ok(report.owners.every((o) => o !== undefined));
    }
  });

  test("the member and partition entries", async () => {
    const cluster = await threeInstances();
    const a = cluster.running.get("a")!;
    const members = cluster.leases.dump("member.");
    assert.deepEqual([...members.keys()], ["member.a", "member.b", "member.c"]);
    const member = JSON.parse(members.get(memberKey("a"))!);
    assert.deepEqual(member, { id: "a", startedAt: 1_000_000, info: "http://a:8080/" });
    const k = a.held()[0];
    const lease = JSON.parse(cluster.leases.dump().get(partitionKey(k))!);
    assert.deepEqual(Object.keys(lease), ["owner", "since"]);
    assert.equal(lease.owner, "a");
    assert.equal(lease.since, 1_000_000); // claimed at the first tick, kept on renewal
    assert.ok(a.holds(k));
  });

  test("an instance that stops ticking loses its partitions after the lease", async () => {
    const cluster = await threeInstances();
    const before = { a: cluster.running.get("a")!.held(), b: cluster.running.get("b")!.held() };
    cluster.running.delete("c"); // dies: no more ticks, no release
    let rounds = 0;
    while (!cluster.allHeld()) {
      const reports = await cluster.round();
      rounds++;
      const elapsed = rounds * RENEW_MS;
      if (elapsed < LEASE_MS) {
        for (const r of reports.values()) assert.deepEqual(r.claimed, [], `at ${elapsed} ms`);
      }
      assert.ok(rounds < 10, "the dead instance's partitions were never taken");
    }
    assert.deepEqual(cluster.counts(), { a: 32, b: 32 });
    // The survivors kept what they had.
    for (const id of ["a", "b"] as const) {
      const held = cluster.running.get(id)!.held();
      assert.ok(before[id].every((k) => held.includes(k)));
    }
    assert.equal(cluster.released.size, 0, "nothing was handed over");
  });

  test("a fourth instance gets its share by hand-over, never two owners at once", async () => {
    const cluster = await threeInstances();
    await cluster.join("d");
    let claimedByD = 0;
    for (let i = 0; i < 4; i++) {
      const reports = await cluster.round(); // checks after every tick and release
      claimedByD += reports.get("d")!.claimed.length;
      for (const id of ["a", "b", "c"]) assert.deepEqual(reports.get(id)!.claimed, []);
    }
    assert.ok(cluster.allHeld());
    assert.deepEqual(cluster.counts(), { a: 16, b: 16, c: 16, d: 16 });
    assert.equal(claimedByD, 16);
    const handed = [...cluster.released.values()].flat().sort((x, y) => x - y);
    assert.deepEqual(handed, cluster.running.get("d")!.held(), "only d's share moved");
  });

  test("releaseAll on a graceful stop: the others take over at once", async () => {
    const cluster = await threeInstances();
    const c = cluster.running.get("c")!;
    const held = c.held();
    assert.deepEqual(await c.releaseAll(), held);
    cluster.running.delete("c");
    assert.deepEqual(c.held(), []);
    assert.equal(cluster.leases.dump().has(memberKey("c")), false);
    const reports = await cluster.round();
    assert.ok(cluster.allHeld(), "taken in one round, without waiting for the lease");
    assert.deepEqual(cluster.counts(), { a: 32, b: 32 });
    assert.deepEqual(reports.get("a")!.members, ["a", "b"]);
    await assert.rejects(c.tick(), /before join/);
  });

  test("a failed renewal reports the lease lost", async () => {
    const cluster = await threeInstances();
    const a = cluster.running.get("a")!;
    const k = a.held()[3];
    // a's lease expired (say, a long pause) and b's claim came first.
    cluster.leases.put(
      partitionKey(k),
      new TextEncoder().encode(JSON.stringify({ owner: "b", since: 0 })),
    );
    const report = await a.tick();
    assert.deepEqual(report.lost, [k]);
    assert.equal(a.held().includes(k), false);
    assert.equal(a.holds(k), false);
    assert.equal(report.owners[k], "b");
    assert.equal(await a.release(k), false, "nothing to release");
  });

  test("a lease not renewed within its time to live is not trusted", async () => {
    const cluster = await threeInstances();
    const a = cluster.running.get("a")!;
    const k = a.held()[0];
    assert.ok(a.holds(k));
    cluster.clock.advance(LEASE_MS);
    assert.equal(a.holds(k), false);
    const report = await a.tick(); // the store dropped it: lost, then claimed afresh
    assert.ok(report.lost.includes(k));
  });

  test("a store that is unreachable rejects; the next tick carries on", async () => {
    const cluster = await threeInstances();
    const a = cluster.running.get("a")!;
    const held = a.held();
    cluster.leases.unreachable = true;
    await assert.rejects(a.tick(), /unreachable/);
    await assert.rejects(a.release(held[0]), /unreachable/);
    assert.deepEqual(a.held(), held, "nothing dropped on a failed call");
    cluster.leases.unreachable = false;
    const report = await a.tick();
    assert.deepEqual([report.lost, report.claimed], [[], []]);
    assert.deepEqual(a.held(), held);
  });

  test("a renewal that fails halfway keeps the revisions that were written", async () => {
    const cluster = await threeInstances();
    const a = cluster.running.get("a")!;
    const held = a.held();
    let failing = "";
    const flaky: LeaseStore = {
      create: (key, value) => cluster.leases.create(key, value),
      update: (key, value, revision) =>
        key === failing
          ? Promise.reject(new Error("connection reset"))
          : cluster.leases.update(key, value, revision),
      get: (key) => cluster.leases.get(key),
      delete: (key, revision) => cluster.leases.delete(key, revision),
      list: (prefix) => cluster.leases.list(prefix),
    };
    const b = new PartitionLeases({
      leases: flaky,
      settings: cluster.settings,
      instance: "a",
      partitions: P,
      leaseMs: LEASE_MS,
      fingerprint: clusterFingerprint(settingsOf(P), "pipeline-1"),
      now: cluster.clock.now,
    });
    cluster.running.delete("a");
    await b.join();
    assert.deepEqual((await b.tick()).claimed, held, "a restart takes a's partitions back");
    failing = partitionKey(held[5]);
    await assert.rejects(b.tick(), /connection reset/);
    assert.deepEqual(b.held(), held);
    failing = "";
    const report = await b.tick();
    assert.deepEqual([report.lost, report.claimed, report.toHandOver], [[], [], []]);
  });

  test("instances racing for the same free partitions never throw nor share", async () => {
    const cluster = new Cluster();
    for (const id of ["a", "b", "c"]) await cluster.join(id);
    for (let i = 0; i < 3; i++) {
      await Promise.all(["a", "b", "c"].map((id) => cluster.running.get(id)!.tick()));
      cluster.check();
      cluster.clock.advance(RENEW_MS);
    }
    assert.ok(cluster.allHeld());
  });

  test("a restart with the same id within the lease takes its partitions back", async () => {
    const cluster = await threeInstances();
    const held = cluster.running.get("a")!.held();
    cluster.running.delete("a"); // dies
    const again = await cluster.join("a");
    const report = await cluster.step("a");
    assert.deepEqual(report.claimed, held);
    assert.deepEqual(again.held(), held);
  });

  test("a mismatched fingerprint is refused naming both", async () => {
    const cluster = await threeInstances();
    const other = cluster.make("e", 32);
    await assert.rejects(other.join(), (error: unknown) => {
      assert.ok(error instanceof ClusterMismatchError);
      const ours = clusterFingerprint(settingsOf(32), "pipeline-1");
      const theirs = clusterFingerprint(settingsOf(64), "pipeline-1");
      assert.ok(error.message.includes(ours), error.message);
      assert.ok(error.message.includes(theirs), error.message);
      assert.match(error.message, /this instance has 32 partitions, the cluster 64/);
      return true;
    });
    assert.equal(cluster.leases.dump().has(memberKey("e")), false, "it never joined");
  });

  test("bad options are refused", () => {
    const cluster = new Cluster();
    assert.throws(() => cluster.make("a.b"), /"a\.b"/);
    assert.throws(() => cluster.make("a", 0), /got 0/);
  });
});
