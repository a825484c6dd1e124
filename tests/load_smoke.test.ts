// The load path, CI-sized and untimed: telemetry from 20 devices through a real mosquitto into
// `foxtail run` (a child of this runtime), with the load benchmark's own rig. Every message is
// accounted for: published = scored + dropped + rejected, and each accepted message's score
// reaches a subscriber.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { LoadRig, type StepResult } from "../bench/load/load_rig.ts";
import { reading } from "../bench/load/telemetry_publisher.ts";

/** Generous: the machine may be loaded (Bun's default is 5 s). */
const SLOW = { timeout: 300_000 };
const DEVICES = 20;
const MESSAGES = 20_000;
/** Every this-many-th message of a device is bad, in one of the ways below. */
const BAD_EVERY = 100;
const BAD_PAYLOADS = [
  '{"t": 21.5, "h"',
  '{"t": 21.5, "h": 40, "power": {"v": 3.3}}',
  "[1, 2, 3, 4]",
];

/** Readings with a bad payload every BAD_EVERY-th message of each device. */
function mixed(device: number, seq: number): string {
  if (seq % BAD_EVERY === BAD_EVERY - 1) return BAD_PAYLOADS[(seq / BAD_EVERY | 0) % 3];
  return reading(device, seq);
}

/** Bad messages among each device's first `perDevice` messages. */
function badCount(perDevice: number): number {
  return Math.floor(perDevice / BAD_EVERY);
}

async function withRig(queueCapacity: number, run: (rig: LoadRig) => Promise<void>) {
  const rig = await LoadRig.start({
    devices: DEVICES,
    publishers: 2,
    queueCapacity,
    fmGracePeriod: 20,
    adGracePeriod: 200,
    calibrationWindow: 100,
  });
  let log = "";
  try {
    await run(rig);
  } finally {
    log = await rig.close();
  }
  // The gateway's own summary, at SIGTERM, agrees with what the dashboard reported.
  assert.match(log, /stopped; \d+ messages, \d+ scored/);
}

/** The books of a step balance, and every score a subscriber saw is one the gateway made. */
function assertBalanced(step: StepResult) {
  assert.ok(step.settled, "every message was accounted for before the time-out");
  assert.equal(step.published, MESSAGES);
  assert.equal(step.brokerDropped, 0, "mosquitto dropped nothing");
  assert.equal(step.received, step.published, "the gateway received every published message");
  assert.equal(step.accepted + step.dropped + step.rejected, step.received);
  assert.equal(step.scored, step.accepted, "every accepted message's score reached the subscriber");
  assert.equal(step.published, step.scored + step.dropped + step.rejected);
}

describe("load path (mosquitto → foxtail run → scores), not timed", () => {
  test(
    `${MESSAGES} messages from ${DEVICES} devices: each one scored or rejected, in order`,
    SLOW,
    async () => {
      // A queue longer than the run: nothing may be dropped, so every count is exact.
      await withRig(32_768, async (rig) => {
        const step = await rig.step(10_000, MESSAGES, { payload: mixed });
        assertBalanced(step);
        const perDevice = MESSAGES / DEVICES;
        assert.equal(step.dropped, 0);
        assert.equal(step.rejected, DEVICES * badCount(perDevice));
        assert.equal(step.accepted, MESSAGES - step.rejected);
        for (let d = 0; d < DEVICES; d++) {
          assert.equal(rig.watcher.receivedBy(d), perDevice - badCount(perDevice), `device ${d}`);
        }
        // Every score was matched to a published message: none arrived unannounced or out of reach.
        assert.equal(rig.watcher.unmatched, 0);
        assert.equal(rig.watcher.strangers, 0);
        assert.equal(rig.watcher.histogram.count, step.accepted);
        const status = await rig.gateway.status();
        assert.equal(status.devices, DEVICES);
        assert.equal(status.queued, 0);
        assert.ok(status.mqtt.connected);
        assert.equal(status.mqtt.scoresSkipped, 0);
        const rejected = status.counters.rejected;
        assert.equal(rejected["not-json"] + rejected["missing-field"], step.rejected);
      });
    },
  );

  test(
    "a burst larger than the queue while the gateway is paused: dropped and counted",
    SLOW,
    async () => {
      const capacity = 64;
      await withRig(capacity, async (rig) => {
        // Paused (SIGSTOP), the gateway reads nothing; resumed, it finds thousands of messages in
        // its socket, far more than the queue holds before the first drain.
        const step = await rig.step(20_000, MESSAGES, {
          payload: mixed,
          beforePublish: () => process.kill(rig.gateway.pid, "SIGSTOP"),
          afterPublish: () => process.kill(rig.gateway.pid, "SIGCONT"),
        });
        assertBalanced(step);
        assert.ok(
          step.dropped > 0,
          `the queue of ${capacity} overflowed (dropped ${step.dropped})`,
        );
        assert.ok(step.rejected <= DEVICES * badCount(MESSAGES / DEVICES));
        const status = await rig.gateway.status();
        assert.equal(status.queued, 0);
        assert.equal(status.counters.dropped, step.dropped);
        // The gateway still scores: one more message per device comes back as a score.
        const after = await rig.step(1_000, DEVICES);
        assert.ok(after.settled);
        assert.equal(after.scored, DEVICES);
      });
    },
  );
});
