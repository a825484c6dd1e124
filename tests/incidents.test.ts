/**
 * Incidents: a device's consecutive alerts are one incident (opened by the first, closed by a
 * quiet period), with its peak and top features, kept in a bounded ring and in the snapshots;
 * the engine reports states and incident changes, and honours acknowledgements and mutes.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ByteReader, ByteWriter } from "../core/codec/mod.ts";
import { type IncidentChange, IncidentLog } from "../core/incidents/mod.ts";
import { type DeviceState, GatewayEngine } from "../core/gateway/mod.ts";
import { validateGatewayConfig } from "../adapters/gateway/mod.ts";
import {
  faultPayload,
  SensorSignal,
  SMALL_LEARNING,
  smallConfig,
} from "./support/gateway_fixtures.ts";

const QUIET = 10_000;

function log(keep = 10): IncidentLog {
  return new IncidentLog({ quietMs: QUIET, keep });
}

function roundTrip(from: IncidentLog, into: IncidentLog): void {
  const w = new ByteWriter();
  from.write(w);
  const r = new ByteReader(w.finish(), "incident log");
  into.read(r);
  assert.equal(r.remaining, 0);
}

describe("incident log", () => {
  test("consecutive alerts make one incident; a quiet period closes it at end + quiet", () => {
    const l = log();
    const opened = l.alert("pump", "plant", 1000, 5, 1, ["t", "v"]);
    assert.equal(opened?.change, "open");
    assert.equal(opened?.incident.id, 1);
    assert.equal(opened?.muted, false);
    assert.equal(l.alert("pump", "plant", 2000, 9, 1.5, ["v"]), undefined, "joins, no change");
    assert.equal(l.alert("pump", "plant", 3000, 7, 1, ["v", "h"]), undefined);
    assert.equal(l.calm("pump", 3000 + QUIET - 1), undefined, "not quiet long enough");
    assert.equal(l.openId("pump"), 1);
    const [open] = l.list({ state: "open" });
    assert.deepEqual(open, {
      id: 1,
      device: "pump",
      stream: "plant",
      start: 1000,
      end: 3000,
      closedAt: null,
      peakScore: 9,
      peakThreshold: 1.5,
      peakAt: 2000,
      alerts: 3,
      topFeatures: [
        { feature: "v", share: 1 },
        { feature: "t", share: 1 / 3 },
        { feature: "h", share: 1 / 3 },
      ],
      acknowledgedAt: null,
    });
    const closed = l.calm("pump", 3000 + QUIET + 500);
    assert.equal(closed?.change, "close");
    assert.equal(closed?.incident.closedAt, 3000 + QUIET, "closed at last alert + quiet");
    assert.equal(l.openId("pump"), 0);
    assert.deepEqual(l.counts(), { open: 0, opened: 1, overwritten: 0 });
    assert.equal(l.alert("pump", "plant", 20_000, 2, 1, [])?.incident.id, 2);
  });

  test("an alert after a quiet period with no message between opens a new incident", () => {
    const l = log();
    l.alert("a", "s", 0, 2, 1, ["x"]);
    const next = l.alert("a", "s", QUIET + 1, 3, 1, ["y"]);
    assert.equal(next?.change, "open");
    assert.equal(next?.incident.id, 2);
    const [open, closed] = l.list();
    assert.equal(open.id, 2);
    assert.equal(closed.id, 1);
    assert.equal(closed.closedAt, QUIET);
  });

  test("sweep closes the incidents of silent devices; forget closes at once", () => {
    const l = log();
    l.alert("a", "s", 0, 2, 1, []);
    l.alert("b", "s", 5000, 2, 1, []);
    l.alert("c", "s", 5000, 2, 1, []);
    const changes: IncidentChange[] = [];
    l.sweep(QUIET, (c) => changes.push(c));
    assert.deepEqual(changes.map((c) => [c.change, c.incident.device]), [["close", "a"]]);
    assert.equal(l.forget("b", 6000)?.incident.closedAt, 6000);
    assert.deepEqual(l.list().map((i) => [i.device, i.closedAt]), [
      ["c", null],
      ["b", 6000],
      ["a", QUIET],
    ]);
  });

  test("the closed ring keeps the newest and counts what it overwrote", () => {
    const l = log(2);
    for (let k = 0; k < 5; k++) {
      l.alert(`d${k}`, "s", k, 2, 1, []);
      l.forget(`d${k}`, k + 1);
    }
    assert.deepEqual(l.list().map((i) => i.id), [5, 4]);
    assert.deepEqual(l.counts(), { open: 0, opened: 5, overwritten: 3 });
    assert.deepEqual(l.list({ device: "d3" }).map((i) => i.id), [4]);
    assert.deepEqual(l.list({ limit: 1 }).map((i) => i.id), [5]);
    assert.deepEqual(l.list({ state: "open" }), []);
  });

  test("acknowledge and mute: kept, and a muted device's changes are marked", () => {
    const l = log();
    l.alert("a", "s", 0, 2, 1, []);
    assert.equal(l.acknowledge(1, 50)?.acknowledgedAt, 50);
    assert.equal(l.acknowledge(1, 90)?.acknowledgedAt, 50, "the first acknowledgement stays");
    assert.equal(l.acknowledge(7, 90), undefined);
    l.mute("b", 60_000);
    assert.equal(l.mutedUntil("b", 1000), 60_000);
    assert.equal(l.mutedUntil("b", 60_000), null, "a mute ends at its time");
    assert.equal(l.alert("b", "s", 1000, 2, 1, [])?.muted, true);
    assert.equal(l.unmute("b"), true);
    assert.equal(l.forget("b", 2000)?.muted, false);
  });

  test("written and read back: the same incidents, counters, mutes and tallies", () => {
    const l = log(3);
    for (let k = 0; k < 4; k++) {
      l.alert(`d${k}`, "s", k * 100, k + 2, 1, ["x"]);
      l.forget(`d${k}`, k * 100 + 50);
    }
    l.alert("open", "s", 1000, 4, 1, ["x", "y"]);
    l.alert("open", "s", 1100, 6, 1, ["y"]);
    l.acknowledge(3, 77);
    l.mute("open", 99_000);
    const copy = log(3);
    roundTrip(l, copy);
    assert.deepEqual(copy.list(), l.list());
    assert.deepEqual(copy.counts(), l.counts());
    assert.equal(copy.mutedUntil("open", 0), 99_000);
    // The tally goes on where it was: the next alert gives the same top features in both.
    l.alert("open", "s", 1200, 1, 1, ["x"]);
    copy.alert("open", "s", 1200, 1, 1, ["x"]);
    assert.deepEqual(copy.list({ state: "open" }), l.list({ state: "open" }));
    // Read into a smaller ring: the oldest closed ones are dropped and counted.
    const small = log(1);
    roundTrip(l, small);
    assert.deepEqual(small.list({ state: "closed" }).map((i) => i.id), [4]);
    assert.equal(small.counts().overwritten, l.counts().overwritten + 2);
  });

  test("hostile contents are refused by name, and the log is left as it was", () => {
    const good = log();
    good.alert("a", "s", 10, 2, 1, ["x"]);
    const w = new ByteWriter();
    good.write(w);
    const bytes = w.finish();
    // The first open incident's id (an f64 after nextId and overwritten, and the u32 count).
    const bad = bytes.slice();
    new DataView(bad.buffer).setFloat64(20, 5, true); // id 5, but the next id is 2
    const target = log();
    target.alert("kept", "s", 0, 2, 1, []);
    assert.throws(
      () => target.read(new ByteReader(bad, "incident log")),
      /incident 5: not below the next id 2/,
    );
    assert.deepEqual(target.list().map((i) => i.device), ["kept"]);
    assert.throws(() => new IncidentLog({ quietMs: -1, keep: 1 }), /quietMs/);
    assert.throws(() => new IncidentLog({ quietMs: 0, keep: 0 }), /keep/);
  });
});

describe("incidents in the gateway engine", () => {
  const topic = (device: string) => `sensors/${device}/telemetry`;
  const config = () =>
    validateGatewayConfig(smallConfig({ incidents: { quietSeconds: 5, keep: 20 } }));

  interface Recorded {
    states: [string, DeviceState, DeviceState | undefined][];
    changes: IncidentChange[];
    alerts: number;
  }

  function recording(): { engine: GatewayEngine; seen: Recorded } {
    const seen: Recorded = { states: [], changes: [], alerts: 0 };
    const engine = new GatewayEngine(config(), {
      score: () => {},
      alert: () => seen.alerts++,
      incident: (change) => seen.changes.push(change),
      state: (device, state, previous) => seen.states.push([device, state, previous]),
    });
    return { engine, seen };
  }

  /** Learns device `id` until it scores normally; returns the next time (ms). */
  function learn(engine: GatewayEngine, id: string, signal: SensorSignal): number {
    let t = 0;
    for (; t < (SMALL_LEARNING + 40) * 100; t += 100) {
      engine.receive(topic(id), signal.next(), t);
      engine.drain(); // the queue holds only 64
    }
    return t;
  }

  test("a fault is one incident; the device goes learning → … → alerting → normal", () => {
    const { engine, seen } = recording();
    const signal = new SensorSignal(3);
    let t = learn(engine, "pump", signal);
    assert.equal(engine.devices()[0].state, "normal");
    for (let k = 0; k < 8; k++, t += 100) engine.receive(topic("pump"), faultPayload(), t);
    engine.drain();
    const [summary] = engine.devices();
    assert.equal(summary.state, "alerting");
    assert.equal(summary.incident, 1);
    const open = engine.incidents({ state: "open" });
    assert.equal(open.length, 1);
    assert.equal(open[0].alerts, seen.alerts);
    assert.ok(open[0].alerts >= 1);
    assert.ok(open[0].topFeatures.length >= 1, "names a feature");
    for (const f of open[0].topFeatures) assert.ok(["t", "h", "power.v"].includes(f.feature));
    // Normal messages for longer than the quiet period close it.
    for (let k = 0; k < 80; k++, t += 100) engine.receive(topic("pump"), signal.next(), t);
    engine.drain();
    assert.deepEqual(seen.changes.map((c) => c.change), ["open", "close"]);
    const [closed] = engine.incidents();
    assert.equal(closed.closedAt, closed.end + 5000);
    assert.deepEqual(
      seen.states.map(([, state]) => state),
      ["learning", "calibrating", "normal", "alerting", "normal"],
    );
    assert.equal(seen.states[0][2], undefined, "the first report has no previous state");
    assert.equal(engine.incidentCounts().opened, 1);
  });

  test("sweep closes a silent device's incident; reset closes it too", () => {
    const { engine, seen } = recording();
    let t = learn(engine, "a", new SensorSignal(4));
    learn(engine, "b", new SensorSignal(5));
    for (const id of ["a", "b"]) engine.receive(topic(id), faultPayload(), t);
    engine.drain();
    t += 1000;
    assert.equal(engine.incidentCounts().open, 2);
    engine.sweep(t + 5000);
    assert.equal(engine.incidentCounts().open, 0);
    assert.equal(seen.states.at(-1)?.[1], "normal", "the swept device is normal again");
    engine.receive(topic("a"), faultPayload(), t + 6000);
    engine.drain();
    assert.equal(engine.resetDevice("a", t + 7000), true);
    assert.equal(seen.changes.at(-1)?.change, "close");
    assert.equal(seen.changes.at(-1)?.incident.closedAt, t + 7000);
  });

  test("a muted device's alerts are not announced; its incident is kept and marked", () => {
    const { engine, seen } = recording();
    const t = learn(engine, "m", new SensorSignal(6));
    assert.equal(engine.muteDevice("m", t + 60_000), true);
    assert.equal(engine.muteDevice("nobody", t + 60_000), false);
    assert.equal(engine.devices(t)[0].mutedUntil, t + 60_000);
    engine.receive(topic("m"), faultPayload(), t);
    engine.drain();
    assert.equal(seen.alerts, 0, "no alert announced");
    assert.equal(seen.changes.length, 1);
    assert.equal(seen.changes[0].muted, true);
    assert.equal(engine.incidents().length, 1);
    assert.equal(engine.muteDevice("m", null), true);
    assert.equal(engine.devices(t)[0].mutedUntil, null);
  });

  test("snapshots keep incidents, acknowledgements and mutes", () => {
    const { engine } = recording();
    const t = learn(engine, "s", new SensorSignal(8));
    engine.receive(topic("s"), faultPayload(), t);
    engine.drain();
    engine.acknowledgeIncident(1, t + 10);
    engine.muteDevice("s", t + 99_000);
    const resumed = recording();
    resumed.engine.restore(engine.toBytes(t + 20));
    assert.deepEqual(resumed.engine.incidents(), engine.incidents());
    assert.equal(resumed.engine.incidents()[0].acknowledgedAt, t + 10);
    assert.equal(resumed.engine.devices(t)[0].mutedUntil, t + 99_000);
    assert.equal(resumed.engine.devices(t)[0].state, "alerting");
    assert.deepEqual(resumed.engine.incidentCounts(), engine.incidentCounts());
  });
});
