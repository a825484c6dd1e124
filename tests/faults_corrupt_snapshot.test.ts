// Fault: a snapshot file truncated or altered on disk (a bad card, a half-copied backup): it is
// refused with a reason and the gateway resumes from the previous one.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import { GatewayEngine } from "../core/gateway/mod.ts";
import { GatewayRunner } from "../adapters/gateway/mod.ts";
import { SnapshotStore } from "../adapters/files/mod.ts";
import { SensorSignal, SMALL_LEARNING, smallConfig } from "./support/gateway_fixtures.ts";

const TOPIC = "sensors/pump/telemetry";

/** An engine whose device "pump" has scored `count` messages (learned, then executing). */
function engineAfter(count: number, dir = "unused"): GatewayEngine {
  const engine = new GatewayEngine(
    validateGatewayConfig(smallConfig({ snapshots: { dir, intervalSeconds: 0, keep: 3 } })),
  );
  const signal = new SensorSignal(3);
  for (let k = 0; k < count; k++) {
    engine.receive(TOPIC, signal.next(), 1.7e12 + k * 1000);
    engine.drain();
  }
  return engine;
}

describe("fault: a snapshot truncated or flipped by one bit", () => {
  test("every truncation and every single-bit flip of a real snapshot is refused, changing nothing", (t) => {
    const good = engineAfter(SMALL_LEARNING + 10).toBytes(1.7e12);
    const target = engineAfter(5);
    const before = JSON.stringify([target.counters(), target.devices()]);
    const reasons = new Map<string, number>();
    /** Restores `bytes`, which must be refused with a RangeError saying why; counts the reason. */
    const refuse = (bytes: Uint8Array, what: string) => {
      try {
        target.restore(bytes);
      } catch (error) {
        assert.ok(error instanceof RangeError, `${what}: ${error}`);
        const reason = /truncated|corrupt|bad magic|holds|too long/.exec(error.message)?.[0];
        assert.ok(reason !== undefined, `${what}: ${error.message}`);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        return;
      }
      assert.fail(`${what}: accepted`);
    };
    for (let length = 0; length < good.length; length++) {
      refuse(good.subarray(0, length), `cut to ${length} of ${good.length} bytes`);
    }
    const flipped = good.slice();
    for (let bit = 0; bit < good.length * 8; bit++) {
      flipped[bit >> 3] ^= 1 << (bit & 7);
      refuse(flipped, `bit ${bit} flipped`);
      flipped[bit >> 3] ^= 1 << (bit & 7);
    }
    const tried = [...reasons.values()].reduce((a, b) => a + b, 0);
    assert.equal(tried, good.length * 9);
    t.diagnostic(
      `${tried} damaged copies of a ${good.length}-byte snapshot refused: ` +
        [...reasons].map(([reason, count]) => `${count} ${reason}`).join(", "),
    );
    assert.equal(JSON.stringify([target.counters(), target.devices()]), before);
    assert.equal(target.restore(good).devices, 1, "the intact snapshot still restores");
  });

  for (
    const [what, damage] of [
      ["truncated", (path: string) => truncateSync(path, readFileSync(path).length - 100)],
      ["flipped by one bit", (path: string) => {
        const bytes = readFileSync(path);
        bytes[bytes.length >> 1] ^= 0x04;
        writeFileSync(path, bytes);
      }],
    ] as const
  ) {
    test(`a newest snapshot ${what}: the gateway says why, resumes from the previous one, and writes after it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "foxtail-corrupt-"));
      try {
        const store = new SnapshotStore(dir, 3);
        const counts = [SMALL_LEARNING + 10, SMALL_LEARNING + 20, SMALL_LEARNING + 30];
        for (const count of counts) store.save(engineAfter(count).toBytes(1.7e12 + count));
        const newest = store.pathOf(3);
        damage(newest);
        const logs: string[] = [];
        // No broker: the gateway keeps retrying in the background; restoring comes first.
        const config = validateGatewayConfig(smallConfig({
          mqtt: { url: "mqtt://127.0.0.1:1", topicPrefix: "ft", reconnectMinMs: 1000 },
          snapshots: { dir, intervalSeconds: 0, keep: 3 },
        }));
        const gateway = new GatewayRunner(config, { log: (line) => logs.push(line) });
        gateway.start();
        try {
          const passed = logs.filter((l) => l.startsWith("snapshot: passed over"));
          assert.equal(passed.length, 1, logs.join("\n"));
          assert.match(passed[0], new RegExp(`${newest}: gateway snapshot is (truncated|corrupt)`));
          assert.ok(
            logs.some((l) => l.startsWith(`snapshot: resumed 1 device(s) from ${store.pathOf(2)}`)),
            logs.join("\n"),
          );
          assert.equal(gateway.engine.device("pump")!.messages, counts[1]);
          assert.equal(gateway.engine.device("pump")!.phase, "executing");
          // The next snapshot gets a new number: the damaged file is kept for inspection until
          // pruned, never overwritten or read again as the newest.
          const path = gateway.snapshotNow();
          assert.equal(path, store.pathOf(4));
          assert.equal(new GatewayEngine(config).restore(readFileSync(path)).devices, 1);
        } finally {
          await gateway.stop();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("with every snapshot damaged the gateway says so and starts learning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foxtail-corrupt-all-"));
    try {
      const store = new SnapshotStore(dir, 2);
      store.save(engineAfter(50).toBytes(1));
      store.save(engineAfter(60).toBytes(2));
      for (const seq of store.sequences()) truncateSync(store.pathOf(seq), 10);
      const logs: string[] = [];
      const config = validateGatewayConfig(smallConfig({
        mqtt: { url: "mqtt://127.0.0.1:1", topicPrefix: "ft", reconnectMinMs: 1000 },
        snapshots: { dir, intervalSeconds: 0, keep: 2 },
      }));
      const gateway = new GatewayRunner(config, { log: (line) => logs.push(line) });
      gateway.start();
      try {
        assert.equal(logs.filter((l) => l.startsWith("snapshot: passed over")).length, 2);
        assert.ok(
          logs.some((l) => l.startsWith(`snapshot: none usable in ${dir}`)),
          logs.join("\n"),
        );
        assert.equal(gateway.engine.deviceCount, 0);
      } finally {
        await gateway.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
