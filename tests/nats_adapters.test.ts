import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import {
  connectCluster,
  encodeSnapshot,
  openLeaseBucket,
  openSnapshotStore,
  PartitionSnapshots,
  SEQUENCE_METADATA,
  snapshotName,
} from "../adapters/cluster/mod.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { type NatsServer, prepareNatsServer, startNatsServer } from "./support/nats_single.ts";
import { ensureSystemPackages } from "../scripts/ensure_system_packages.mjs";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

/** Waits until `check` holds, polling; fails after `ms` (generous: the machine may be loaded). */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs `body` with a started server and a connection to it; both ended afterwards. */
async function withServer(
  body: (server: NatsServer, nc: NatsConnection, logs: string[]) => Promise<void>,
): Promise<void> {
  ensureSystemPackages(["nats-server"]);
  const server = await startNatsServer();
  const logs: string[] = [];
  let nc: NatsConnection | undefined;
  try {
    nc = await connectCluster({
      servers: server.url,
      user: server.user,
      password: server.password,
      env: {},
      log: (line) => logs.push(line),
      reconnectWaitMs: 100,
      jitterMs: 50,
    });
    await body(server, nc, logs);
  } finally {
    if (nc !== undefined && !nc.isClosed()) await nc.close();
    await server.stop();
  }
}

describe("NatsLeaseStore (JetStream KV)", () => {
  test("create, get, update and delete by revision: a lost race is null/false, not an error", async () => {
    await withServer(async (_server, nc) => {
      const store = await openLeaseBucket(nc, { name: "leases", ttlMs: 60_000 });
      const r1 = await store.create("lease.p1", bytes("a"));
      assert.equal(typeof r1, "number");
      assert.equal(await store.create("lease.p1", bytes("b")), null, "the key exists");
      assert.deepEqual(await store.get("lease.p1"), { value: bytes("a"), revision: r1 });
      assert.equal(await store.get("lease.none"), null);

      assert.equal(await store.update("lease.p1", bytes("x"), r1! + 100), null, "wrong revision");
      const r2 = await store.update("lease.p1", bytes("c"), r1!);
      assert.ok(r2 !== null && r2 > r1!);
      assert.equal(await store.update("lease.p1", bytes("d"), r1!), null, "stale revision");
      assert.equal(text((await store.get("lease.p1"))!.value), "c");
      assert.equal(await store.update("lease.none", bytes("e"), r2), null, "absent key");

      assert.equal(await store.delete("lease.p1", r1!), false, "stale revision");
      assert.equal(await store.get("lease.p1") !== null, true);
      assert.equal(await store.delete("lease.p1", r2), true);
      assert.equal(await store.get("lease.p1"), null, "deleted");
      assert.equal(await store.delete("lease.p1", r2), false, "deleted already");
      assert.equal(await store.update("lease.p1", bytes("f"), r2), null, "deleted");

      const r3 = await store.create("lease.p1", bytes("g"));
      assert.ok(r3 !== null && r3 > r2, "create after delete");
      assert.equal(text((await store.get("lease.p1"))!.value), "g");
      assert.equal(await store.create("lease.p1", bytes("h")), null);
    });
  });

  test("list(prefix) lists live keys only, with their entries", async () => {
    await withServer(async (_server, nc) => {
      const store = await openLeaseBucket(nc, { name: "leases", ttlMs: 60_000 });
      assert.equal((await store.list("lease.")).size, 0, "an empty bucket");
      const revisions = new Map<string, number>();
      for (const key of ["lease.p1", "lease.p2", "lease.p3", "leasex.p1", "owner.i1"]) {
        revisions.set(key, (await store.create(key, bytes(key)))!);
      }
      assert.equal(await store.delete("lease.p2", revisions.get("lease.p2")!), true);
      const leases = await store.list("lease.");
      assert.deepEqual([...leases.keys()], ["lease.p1", "lease.p3"]);
      assert.deepEqual(leases.get("lease.p3"), {
        value: bytes("lease.p3"),
        revision: revisions.get("lease.p3"),
      });
      assert.deepEqual([...(await store.list("lease")).keys()], [
        "lease.p1",
        "lease.p3",
        "leasex.p1",
      ]);
      assert.deepEqual([...(await store.list("")).keys()], [
        "lease.p1",
        "lease.p3",
        "leasex.p1",
        "owner.i1",
      ]);
      assert.equal((await store.list("nothing.")).size, 0);
    });
  });

  test("an entry not rewritten within the TTL expires: gone from get and list, and create works again", async () => {
    await withServer(async (_server, nc) => {
      const store = await openLeaseBucket(nc, { name: "short", ttlMs: 1500 });
      const r1 = await store.create("lease.p1", bytes("a"));
      assert.ok(r1 !== null);
      await until(async () => (await store.get("lease.p1")) === null, "the entry to expire");
      assert.equal((await store.list("lease.")).size, 0);
      assert.equal(await store.update("lease.p1", bytes("b"), r1), null, "expired");
      const r2 = await store.create("lease.p1", bytes("c"));
      assert.ok(r2 !== null, "create after expiry");
      assert.equal(text((await store.get("lease.p1"))!.value), "c");
    });
  });

  test("openLeaseBucket opens an existing bucket of the same TTL and refuses another TTL", async () => {
    await withServer(async (_server, nc) => {
      const first = await openLeaseBucket(nc, { name: "leases", ttlMs: 10_000 });
      const revision = await first.create("lease.p1", bytes("a"));
      const again = await openLeaseBucket(nc, { name: "leases", ttlMs: 10_000 });
      assert.equal((await again.get("lease.p1"))?.revision, revision);
      await assert.rejects(
        openLeaseBucket(nc, { name: "leases", ttlMs: 30_000 }),
        (error: Error) => {
          assert.equal(
            error.message,
            'lease bucket "leases" exists with a TTL of 10 s, not the 30 s asked for: every ' +
              "instance must use the same TTL (remove the bucket or change the setting)",
          );
          return true;
        },
      );
    });
  });

  test("connection errors reject (they are not a lost race)", async () => {
    await withServer(async (_server, nc) => {
      const store = await openLeaseBucket(nc, { name: "leases", ttlMs: 60_000 });
      const revision = (await store.create("lease.p1", bytes("a")))!;
      await nc.close();
      await assert.rejects(store.create("lease.p2", bytes("b")));
      await assert.rejects(store.update("lease.p1", bytes("b"), revision));
      await assert.rejects(store.delete("lease.p1", revision));
      await assert.rejects(store.get("lease.p1"));
      await assert.rejects(store.list("lease."));
    });
  });
});

describe("PartitionSnapshots (JetStream object store)", () => {
  test("put then latest: two slots per partition, the oldest overwritten, other partitions untouched", async () => {
    await withServer(async (_server, nc) => {
      let clock = 1_700_000_000_000;
      const snapshots = await openSnapshotStore(nc, { name: "snapshots", now: () => clock++ });
      assert.deepEqual(await snapshots.latest(1), { snapshot: null, refused: [] });
      await snapshots.put(2, 5, bytes("other"));
      assert.deepEqual(await snapshots.put(1, 10, bytes("s10")), { name: "p1.0", replaced: null });
      assert.deepEqual(await snapshots.put(1, 20, bytes("s20")), { name: "p1.1", replaced: null });
      assert.deepEqual(await snapshots.put(1, 100, bytes("s100")), {
        name: "p1.0",
        replaced: { name: "p1.0", slot: 0, sequence: 10 },
      });
      assert.deepEqual(await snapshots.stored(1), [
        { name: "p1.0", slot: 0, sequence: 100 },
        { name: "p1.1", slot: 1, sequence: 20 },
      ]);
      assert.deepEqual(await snapshots.stored(2), [{ name: "p2.0", slot: 0, sequence: 5 }]);
      const { snapshot, refused } = await snapshots.latest(1);
      assert.deepEqual(refused, []);
      assert.deepEqual(snapshot, {
        name: "p1.0",
        partition: 1,
        sequence: 100,
        takenAt: 1_700_000_000_003,
        state: bytes("s100"),
      });
      assert.equal(text((await snapshots.latest(2)).snapshot!.state), "other");
      // A state of several chunks (the store's are 128 KiB) comes back whole.
      const big = new Uint8Array(300_000).map((_, i) => (i * 7919) & 0xff);
      await snapshots.put(1, 200, big);
      assert.deepEqual((await snapshots.latest(1)).snapshot!.state, big);
      // Only slot names were ever written: the store does not grow with the snapshots taken.
      const names = (await snapshots.store.list()).map((info) => info.name).sort();
      assert.deepEqual(names, ["p1.0", "p1.1", "p2.0"]);
    });
  });

  test("a corrupted newest snapshot is refused with its reason; the previous one is used, and the refused one overwritten first", async () => {
    await withServer(async (_server, nc) => {
      const snapshots = await openSnapshotStore(nc, { name: "snapshots" });
      await snapshots.put(3, 10, bytes("older state"));
      const { name } = await snapshots.put(3, 20, bytes("newer state"));
      // Overwrite the object through the object store with one byte of its state flipped.
      const store = await new Objm(nc).open("snapshots");
      const good = (await store.getBlob(name))!;
      const bad = good.slice();
      bad[good.length - 8] ^= 0x01;
      const metadata = { [SEQUENCE_METADATA]: "20" };
      await store.putBlob({ name, metadata }, bad);
      const { snapshot, refused } = await snapshots.latest(3);
      assert.equal(snapshot?.sequence, 10);
      assert.equal(text(snapshot!.state), "older state");
      assert.equal(refused.length, 1);
      assert.equal(refused[0].name, name);
      assert.equal(refused[0].sequence, 20);
      assert.match(
        refused[0].reason,
        /^partition snapshot p3\.1 is corrupt: checksum [0-9a-f]{8} does not match the stored [0-9a-f]{8}$/,
      );
      // The next snapshot goes over the refused one, not over the sound older one.
      assert.equal((await snapshots.put(3, 30, bytes("newest state"))).replaced?.sequence, 20);
      assert.deepEqual((await snapshots.stored(3)).map((s) => s.sequence), [30, 10]);
      // A truncated one is refused too.
      await store.putBlob({ name, metadata: { [SEQUENCE_METADATA]: "30" } }, good.subarray(0, 12));
      assert.match((await snapshots.latest(3)).refused[0].reason, /is truncated/);
      // And one whose chunks are gone.
      const info = (await store.info(name))!;
      const jsm = await jetstreamManager(nc);
      await jsm.streams.purge("OBJ_snapshots", { filter: `$O.snapshots.C.${info.nuid}` });
      assert.deepEqual((await snapshots.latest(3)).refused[0], {
        name,
        sequence: 30,
        reason: `cannot read it: 0 of its 1 chunks are there (0 of ${info.size} bytes)`,
      });
    });
  });

  test("a snapshot naming another partition or sequence than its slot's is refused", async () => {
    await withServer(async (_server, nc) => {
      const snapshots = await openSnapshotStore(nc, { name: "snapshots" });
      await snapshots.put(4, 7, bytes("partition 4"));
      const misplaced = snapshotName(4, 1);
      const metadata = { [SEQUENCE_METADATA]: "9" };
      await snapshots.store.putBlob(
        { name: misplaced, metadata },
        encodeSnapshot(5, 9, 0, bytes("")),
      );
      const { snapshot, refused } = await snapshots.latest(4);
      assert.equal(snapshot?.sequence, 7);
      assert.deepEqual(refused, [{
        name: misplaced,
        sequence: 9,
        reason: "holds partition 5, not partition 4",
      }]);
      // Alone, it leaves nothing usable; a sequence other than the metadata's is refused too.
      const alone = new PartitionSnapshots(
        snapshots.store,
        "snapshots",
        await jetstreamManager(nc),
      );
      await alone.store.putBlob(
        { name: snapshotName(6, 0), metadata },
        encodeSnapshot(5, 1, 0, bytes("")),
      );
      assert.equal((await alone.latest(6)).snapshot, null);
      await alone.store.putBlob(
        { name: snapshotName(7, 0), metadata },
        encodeSnapshot(7, 1, 0, bytes("")),
      );
      assert.deepEqual((await alone.latest(7)).refused.map((r) => r.reason), [
        "holds sequence 1, its metadata says 9",
      ]);
      // One with no sequence in its metadata is read last.
      await alone.store.putBlob({ name: snapshotName(7, 1) }, encodeSnapshot(7, 2, 0, bytes("")));
      assert.deepEqual((await alone.stored(7)).map((s) => s.slot), [0, 1]);
    });
  });
});

describe("connectCluster", () => {
  test("a wrong password ends at once with a clear error; the password is in no message or log", async () => {
    ensureSystemPackages(["nats-server"]);
    const server = await startNatsServer({ user: "gw", password: "right-password-1" });
    const logs: string[] = [];
    const wrong = "wrong-password-zq7";
    try {
      const started = Date.now();
      await assert.rejects(
        connectCluster({
          servers: server.url,
          env: { FOXTAIL_NATS_USER: "gw", FOXTAIL_NATS_PASSWORD: wrong },
          log: (line) => logs.push(line),
          retryMinMs: 50,
        }),
        (error: Error) => {
          assert.equal(error.message, 'NATS refused the credentials of user "gw"');
          const all = `${error.message} ${error.stack} ${String(error.cause)} ${
            (error.cause as Error)?.stack
          }`;
          assert.ok(!all.includes(wrong), "the password is not in the error");
          return true;
        },
      );
      assert.ok(Date.now() - started < 10_000, "not retried");
      assert.ok(!logs.join("\n").includes(wrong), "the password is not in the logs");
      assert.ok(!logs.some((line) => line.includes("retrying")), logs.join("\n"));
      // The right one from the environment connects.
      const nc = await connectCluster({
        servers: server.url,
        env: { FOXTAIL_NATS_USER: "gw", FOXTAIL_NATS_PASSWORD: "right-password-1" },
      });
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  test("no server answering at start: each retry is logged with its delay; connects once it starts", async () => {
    ensureSystemPackages(["nats-server"]);
    const server = await prepareNatsServer();
    const logs: string[] = [];
    let nc: NatsConnection | undefined;
    try {
      const connecting = connectCluster({
        servers: `127.0.0.1:${server.port}`,
        user: server.user,
        password: server.password,
        env: {},
        log: (line) => logs.push(line),
        retryMinMs: 100,
        retryMaxMs: 400,
        random: () => 0,
      });
      let settled = false;
      connecting.then(() => settled = true, () => settled = true);
      await until(() => logs.length >= 2, "two retries logged");
      assert.equal(settled, false);
      await server.start();
      nc = await connecting;
      const retries = logs.filter((line) => line.includes("unreachable"));
      const url = `nats://127.0.0.1:${server.port}`;
      assert.deepEqual(
        retries.slice(0, 3),
        [
          `NATS at ${url} unreachable (ECONNREFUSED); retrying in 100 ms`,
          `NATS at ${url} unreachable (ECONNREFUSED); retrying in 200 ms`,
          `NATS at ${url} unreachable (ECONNREFUSED); retrying in 400 ms`,
        ].slice(0, Math.min(3, retries.length)),
      );
      assert.ok(retries.length >= 2);
      assert.ok(!logs.join("\n").includes(server.password));
      assert.match(logs.at(-1)!, /^NATS: connected to /);
      const store = await openLeaseBucket(nc, { name: "leases", ttlMs: 60_000 });
      assert.equal(typeof await store.create("lease.p1", bytes("a")), "number");
    } finally {
      if (nc !== undefined) await nc.close();
      await server.stop();
    }
  });

  test("an abort signal ends the wait for an unreachable cluster", async () => {
    ensureSystemPackages(["nats-server"]);
    const server = await prepareNatsServer();
    try {
      const controller = new AbortController();
      const logs: string[] = [];
      const connecting = connectCluster({
        servers: server.url,
        env: {},
        log: (line) => {
          logs.push(line);
          controller.abort();
        },
        retryMinMs: 60_000,
        signal: controller.signal,
      });
      await assert.rejects(connecting, /^Error: gave up connecting to NATS: aborted$/);
      assert.equal(logs.length, 1);
    } finally {
      await server.stop();
    }
  });

  test("a server restart: the disconnect and the reconnect are logged, and the KV works after", async () => {
    await withServer(async (server, nc, logs) => {
      const store = await openLeaseBucket(nc, { name: "leases", ttlMs: 60_000 });
      const revision = (await store.create("lease.p1", bytes("before")))!;
      await server.kill();
      await until(() => logs.some((l) => l.startsWith("NATS: disconnected from")), "disconnect");
      await server.start();
      await until(() => logs.some((l) => l.startsWith("NATS: reconnected to")), "reconnect");
      const url = new RegExp(`127\\.0\\.0\\.1:${server.port}`);
      assert.match(logs.find((l) => l.startsWith("NATS: disconnected from"))!, url);
      assert.match(logs.find((l) => l.startsWith("NATS: reconnected to"))!, url);
      assert.deepEqual(await store.get("lease.p1"), { value: bytes("before"), revision });
      const next = await store.update("lease.p1", bytes("after"), revision);
      assert.ok(next !== null && next > revision);
      assert.equal(await store.create("lease.p1", bytes("again")), null);
    });
  });
});
