// Access to the cluster beyond a user and password: an instance that signs in with an NKey seed
// over TLS (the servers' certificate checked against the configured CA) takes the partitions and
// scores; a wrong seed, an untrusted server and a seed given with a user each end the start at
// once with a clear error that holds no secret.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, nkeys } from "@nats-io/transport-node";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { ClusterGateway, connectCluster, readNkeySeed } from "../adapters/cluster/mod.ts";
import { devicePartition, readClusterSettings } from "../core/cluster/mod.ts";
import { ConfigProblems } from "../core/gateway/mod.ts";
import { startNatsCluster } from "./support/nats_cluster.ts";
import { makeTestCertificates } from "./support/test_ca.ts";
import { SensorSignal, smallConfig } from "./support/gateway_fixtures.ts";
import { until } from "./support/dashboard_fixtures.ts";

const PARTITIONS = 4;
const DEVICE = "boiler-7";

/** A fresh NKey user: its seed written to a file in `dir`, and its public key. */
function newUser(dir: string, name: string): { file: string; seed: string; publicKey: string } {
  const user = nkeys.createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  const file = join(dir, `${name}.nk`);
  writeFileSync(file, `# ${name}\n${seed}\n`, { mode: 0o600 });
  return { file, seed, publicKey: user.getPublicKey() };
}

describe("cluster access: NKeys and TLS", () => {
  test("readNkeySeed: a user seed and its public key; a file without one is refused unshown", () => {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-nkey-"));
    try {
      const user = newUser(dir, "gw");
      assert.equal(readNkeySeed(user.file).publicKey, user.publicKey);
      const broken = join(dir, "broken.nk");
      // A seed with one character changed: its checksum fails.
      const flipped = user.seed.slice(0, 10) + (user.seed[10] === "A" ? "B" : "A") +
        user.seed.slice(11);
      writeFileSync(broken, flipped);
      assert.throws(() => readNkeySeed(broken), (error: Error) => {
        assert.match(error.message, /broken\.nk holds no valid user seed/);
        assert.ok(!error.message.includes(flipped.slice(2, 20)), "the content is not shown");
        return true;
      });
      assert.throws(
        () => readNkeySeed(join(dir, "absent.nk")),
        /cannot read the NATS NKey seed file .*absent\.nk/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the config refuses an NKey seed file given with a user, naming the key", () => {
    const problems = new ConfigProblems();
    readClusterSettings(
      { servers: ["tls://127.0.0.1:4222"], user: "gw", nkeySeedFile: "/etc/foxtail/gw.nk" },
      problems,
    );
    assert.throws(
      () => problems.throwIfAny(),
      /cluster\.nkeySeedFile: is given with a user: NATS authenticates by one or the other/,
    );
  });

  test(
    "an instance signed in by NKey over TLS takes every partition and scores; a wrong seed and an untrusted server are refused at once",
    { timeout: 120_000 },
    async () => {
      const certificates = makeTestCertificates();
      const dir = mkdtempSync(join(tmpdir(), "foxtail-nkey-"));
      const gw = newUser(dir, "gw");
      const stranger = newUser(dir, "stranger");
      const cluster = await startNatsCluster({
        nodes: 3,
        partitions: PARTITIONS,
        gatewayNkeys: [gw.publicKey],
        tls: { cert: certificates.certFile, key: certificates.keyFile },
      });
      const url = cluster.clientUrls[0];
      assert.match(url, /^tls:\/\//);
      const lines: string[] = [];
      let instance: ClusterGateway | undefined;
      try {
        // A seed the servers do not know: refused at once, naming its public key only.
        const logs: string[] = [];
        await assert.rejects(
          connectCluster({
            servers: url,
            nkeySeedFile: stranger.file,
            tls: { ca: certificates.caFile },
            env: {},
            log: (line) => logs.push(line),
            retryMinMs: 50,
          }),
          (error: Error) => {
            assert.equal(
              error.message,
              `NATS refused the NKey ${stranger.publicKey} (from ${stranger.file})`,
            );
            assert.ok(!`${error.stack} ${logs.join("\n")}`.includes(stranger.seed));
            return true;
          },
        );
        assert.ok(!logs.some((line) => line.includes("retrying")), logs.join("\n"));
        // The right seed, but a CA that did not sign the servers' certificate: refused at once.
        await assert.rejects(
          connectCluster({
            servers: url,
            nkeySeedFile: gw.file,
            tls: { ca: certificates.otherCaFile },
            env: {},
            retryMinMs: 50,
          }),
          /NATS at tls:\/\/127\.0\.0\.1:\d+: the server's TLS certificate is not trusted/,
        );
        // Both a user and a seed: refused before any connection.
        await assert.rejects(
          connectCluster({
            servers: url,
            nkeySeedFile: gw.file,
            env: { FOXTAIL_NATS_USER: "gw" },
          }),
          /both a NATS user \("gw"\) and an NKey seed file/,
        );
        // Without TLS, the server does not talk at all.
        await assert.rejects(
          connect({
            servers: url.replace("tls://", "nats://"),
            user: "x",
            pass: "y",
            timeout: 3000,
          }),
        );

        // The instance: its seed file from the environment, the CA from its config.
        const config = validateGatewayConfig(smallConfig({
          dashboard: { enabled: false },
          cluster: {
            servers: [url],
            partitions: PARTITIONS,
            leaseSeconds: 2,
            renewSeconds: 0.5,
            snapshotSeconds: 3600,
            instance: "gw-tls",
            tls: { ca: certificates.caFile },
          },
        }));
        instance = new ClusterGateway(config, {
          log: (line) => lines.push(line),
          env: { FOXTAIL_NATS_NKEY_SEED_FILE: gw.file },
        });
        await instance.start();
        await until(
          () => instance!.status().cluster.held.length === PARTITIONS,
          "every partition held",
          30_000,
        );
        // Readings published by the sensors' user (password, over TLS) are scored.
        const sensors = await connectCluster({
          servers: url,
          user: cluster.publisher.user,
          password: cluster.publisher.password,
          tls: { ca: certificates.caFile },
          env: {},
        });
        const signal = new SensorSignal(3);
        for (let i = 0; i < 50; i++) sensors.publish(`sensors.${DEVICE}.telemetry`, signal.next());
        await sensors.flush();
        await sensors.close();
        await until(
          () => instance!.status().counters.accepted === 50,
          "50 readings scored",
          30_000,
        );
        const held = instance.status().cluster.partitions.find((p) =>
          p.partition === devicePartition(DEVICE, PARTITIONS)
        );
        assert.equal(held?.owner, "gw-tls");
        assert.ok(!lines.join("\n").includes(gw.seed), "the seed is in no log line");
      } catch (error) {
        console.error(lines.join("\n"));
        throw error;
      } finally {
        await instance?.stop();
        await cluster.stop();
        certificates.remove();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
