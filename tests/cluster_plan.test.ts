import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigProblems } from "../core/gateway/mod.ts";
import { ConfigError } from "../core/gateway/mod.ts";
import {
  CLUSTER_DEFAULTS,
  clusterFingerprint,
  type ClusterSettings,
  planPartitions,
  readClusterSettings,
} from "../core/cluster/mod.ts";

const free = (p: number): undefined[] => new Array(p).fill(undefined);

/** Partitions per member in `plan`. */
function counts(plan: readonly (string | undefined)[]): Map<string | undefined, number> {
  const out = new Map<string | undefined, number>();
  for (const owner of plan) out.set(owner, (out.get(owner) ?? 0) + 1);
  return out;
}

function moves(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): number {
  return a.filter((owner, k) => owner !== b[k]).length;
}

function assertBalanced(plan: readonly string[], members: readonly string[]): void {
  const p = plan.length;
  const c = counts(plan);
  for (const owner of c.keys()) assert.ok(members.includes(owner!), `${owner} is not a member`);
  for (const m of members) {
    const n = c.get(m) ?? 0;
    assert.ok(
      n === Math.floor(p / members.length) || n === Math.ceil(p / members.length),
      `${m} has ${n} of ${p}`,
    );
  }
}

describe("partition plan", () => {
  test("balanced from nothing, for many sizes", () => {
    for (const p of [1, 2, 7, 64, 100, 4096]) {
      for (const members of [["a"], ["a", "b"], ["c", "a", "b"], ["a", "b", "c", "d", "e"]]) {
        assertBalanced(planPartitions(p, members, free(p)), members);
      }
    }
  });

  test("more members than partitions: some get none", () => {
    const plan = planPartitions(2, ["a", "b", "c"], free(2));
    assert.deepEqual(plan, ["a", "b"]);
  });

  test("the extra partitions go by sorted id when nobody holds any", () => {
    const plan = planPartitions(5, ["c", "b", "a"], free(5));
    assert.deepEqual(counts(plan), new Map([["a", 2], ["b", 2], ["c", 1]]));
  });

  test("deterministic: the order of the members does not matter", () => {
    const owners = planPartitions(64, ["a", "b", "c"], free(64));
    const base = planPartitions(64, ["a", "b", "c", "d"], owners);
    for (const order of [["d", "c", "b", "a"], ["b", "d", "a", "c"], ["c", "a", "d", "b"]]) {
      assert.deepEqual(planPartitions(64, order, owners), base);
    }
    assert.deepEqual(planPartitions(64, ["a", "b", "c", "d"], owners), base);
  });

  test("a balanced cluster is left as it is", () => {
    const three = planPartitions(64, ["a", "b", "c"], free(64));
    assert.deepEqual(planPartitions(64, ["a", "b", "c"], three), three);
    // Even when the members holding the extra one are not the first by id.
    const owners = [...three];
    const fromA = owners.indexOf("a");
    owners[fromA] = "c"; // a: 21, b: 21, c: 22
    assert.deepEqual(planPartitions(64, ["a", "b", "c"], owners), owners);
  });

  test("sticky: a fourth member moves only its share", () => {
    for (const p of [64, 100, 4096]) {
      const three = planPartitions(p, ["a", "b", "c"], free(p));
      const four = planPartitions(p, ["a", "b", "c", "d"], three);
      assertBalanced(four, ["a", "b", "c", "d"]);
      const share = counts(four).get("d")!;
      assert.equal(moves(three, four), share);
      assert.ok(share <= Math.ceil(p / 4));
      // Nothing moves between the three that stay.
      four.forEach((owner, k) => assert.ok(owner === three[k] || owner === "d"));
    }
  });

  test("sticky: removing a member moves only its partitions", () => {
    for (const p of [64, 100, 4096]) {
      const four = planPartitions(p, ["a", "b", "c", "d"], free(p));
      const three = planPartitions(p, ["a", "c", "d"], four); // b is dead
      assertBalanced(three, ["a", "c", "d"]);
      assert.equal(moves(four, three), counts(four).get("b"));
      three.forEach((owner, k) => assert.ok(owner === four[k] || four[k] === "b"));
    }
  });

  test("free partitions and dead owners are given out", () => {
    const owners = ["x", undefined, "a", "x", undefined, "a"];
    const plan = planPartitions(6, ["a", "b"], owners);
    assertBalanced(plan, ["a", "b"]);
    assert.equal(plan[2], "a");
    assert.equal(plan[5], "a");
  });

  test("an over-full owner keeps its lowest partitions", () => {
    const plan = planPartitions(4, ["a", "b"], ["a", "a", "a", "a"]);
    assert.deepEqual(plan, ["a", "a", "b", "b"]);
  });

  test("bad input is refused naming the value", () => {
    for (const p of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(
        () => planPartitions(p, ["a"], []),
        (e: unknown) => e instanceof RangeError && e.message.includes(String(p)),
      );
    }
    assert.throws(
      () => planPartitions(3, ["a", "b", "a"], free(3)),
      (e: unknown) => e instanceof RangeError && e.message.includes('"a"'),
    );
    assert.throws(() => planPartitions(3, [], free(3)), RangeError);
    assert.throws(
      () => planPartitions(3, ["a"], free(2)),
      (e: unknown) => e instanceof RangeError && /3.*2/.test(e.message),
    );
  });
});

/** The settings read from `value`, and the problems. */
function read(value: unknown): { settings?: ClusterSettings; problems: readonly string[] } {
  const problems = new ConfigProblems();
  const settings = readClusterSettings(value, problems);
  try {
    problems.throwIfAny();
    return { settings, problems: [] };
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return { settings, problems: error.problems };
  }
}

function problemsOf(value: unknown): readonly string[] {
  const { problems } = read(value);
  assert.ok(problems.length > 0, "the section was accepted");
  return problems;
}

function assertProblem(value: unknown, ...parts: string[]): void {
  const problems = problemsOf(value);
  assert.ok(
    problems.some((line) => parts.every((part) => line.includes(part))),
    `no problem with ${parts.join(" and ")} among:\n  ${problems.join("\n  ")}`,
  );
}

describe("cluster settings", () => {
  const servers = ["nats://n1:4222"];

  test("absent: no cluster", () => {
    assert.equal(read(undefined).settings, undefined);
  });

  test("the defaults", () => {
    assert.deepEqual(read({ servers }).settings, {
      servers,
      partitions: CLUSTER_DEFAULTS.partitions,
      leaseSeconds: 10,
      renewSeconds: 2.5,
      snapshotSeconds: 30,
      streamMaxAgeHours: 24,
      streamMaxMegabytes: 256,
    });
    assert.equal(read({ servers, leaseSeconds: 20 }).settings?.renewSeconds, 5);
  });

  test("everything given", () => {
    const section = {
      servers: ["nats://a:4222", "tls://b.example:4443/"],
      partitions: 128,
      leaseSeconds: 6,
      renewSeconds: 1,
      snapshotSeconds: 15,
      streamMaxAgeHours: 2,
      streamMaxMegabytes: 4096,
      instance: "gw-7_a",
      user: "foxtail",
      password: "s3cret",
      tls: { ca: "ca.pem", cert: "c.pem", key: "k.pem" },
    };
    const { settings, problems } = read(section);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, section);
  });

  test("servers", () => {
    assertProblem({}, "cluster.servers", "is required");
    assertProblem({ servers: [] }, "cluster.servers", "got []");
    assertProblem({ servers: "nats://a" }, "cluster.servers", '"nats://a"');
    assertProblem({ servers: ["nats://a", "mqtt://b"] }, "cluster.servers[1]", '"mqtt://b"');
    assertProblem({ servers: [5] }, "cluster.servers[0]", "got 5");
    assertProblem({ servers: ["not a url"] }, "cluster.servers[0]", '"not a url"');
    assertProblem({ servers: ["nats://a/x"] }, "cluster.servers[0]", '"nats://a/x"');
  });

  test("numbers", () => {
    assertProblem({ servers, partitions: 0 }, "cluster.partitions", "got 0");
    assertProblem({ servers, partitions: 4097 }, "cluster.partitions", "4096", "got 4097");
    assertProblem({ servers, partitions: 2.5 }, "cluster.partitions", "got 2.5");
    assertProblem({ servers, leaseSeconds: 0 }, "cluster.leaseSeconds", "got 0");
    assertProblem({ servers, leaseSeconds: "10" }, "cluster.leaseSeconds", 'got "10"');
    assertProblem({ servers, renewSeconds: 5 }, "cluster.renewSeconds", "half", "(10)", "got 5");
    assertProblem(
      { servers, leaseSeconds: 4, renewSeconds: 3 },
      "cluster.renewSeconds",
      "(4)",
      "got 3",
    );
    assertProblem({ servers, renewSeconds: -1 }, "cluster.renewSeconds", "got -1");
    assertProblem({ servers, snapshotSeconds: 0 }, "cluster.snapshotSeconds", "got 0");
  });

  test("instance, credentials, tls, unknown keys", () => {
    assertProblem({ servers, instance: "a.b" }, "cluster.instance", '"a.b"');
    assertProblem({ servers, instance: "" }, "cluster.instance", 'got ""');
    assertProblem({ servers, instance: "x".repeat(65) }, "cluster.instance");
    assertProblem({ servers, user: 3 }, "cluster.user", "got 3");
    assertProblem({ servers, user: "u", password: 12345 }, "cluster.password", "a number");
    assert.ok(!problemsOf({ servers, user: "u", password: 12345 }).join().includes("12345"));
    assertProblem({ servers, password: "pw" }, "cluster.password", "without a user");
    assertProblem({ servers, tls: "yes" }, "cluster.tls", '"yes"');
    assertProblem({ servers, tls: { cert: "c.pem" } }, "cluster.tls.key", "cert");
    assertProblem({ servers, tls: { ca: 1 } }, "cluster.tls.ca", "got 1");
    assertProblem({ servers, tls: { crt: "c" } }, "cluster.tls.crt", "unknown key");
    assertProblem({ servers, partitons: 8 }, "cluster.partitons", "unknown key");
    assertProblem([servers], "cluster", "expected an object");
  });

  test("every problem is collected", () => {
    assert.equal(problemsOf({ servers: [], partitions: 0, leaseSeconds: -1 }).length, 3);
  });

  test("the fingerprint holds what instances must agree on, stably", () => {
    const a = read({ servers, partitions: 64 }).settings!;
    const b = read({ servers: ["nats://other:4222"], partitions: 64, snapshotSeconds: 5 })
      .settings!;
    assert.equal(clusterFingerprint(a, "p1"), clusterFingerprint(b, "p1"));
    assert.notEqual(clusterFingerprint(a, "p1"), clusterFingerprint(a, "p2"));
    const c = read({ servers, partitions: 32 }).settings!;
    assert.notEqual(clusterFingerprint(a, "p1"), clusterFingerprint(c, "p1"));
    const d = read({ servers, leaseSeconds: 20 }).settings!;
    assert.notEqual(clusterFingerprint(a, "p1"), clusterFingerprint(d, "p1"));
    assert.equal(
      clusterFingerprint(a, "p1"),
      '{"partitions":64,"leaseSeconds":10,"pipeline":"p1"}',
    );
  });
});
