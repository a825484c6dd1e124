import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type AlertEvent, GatewayEngine } from "../core/gateway/mod.ts";
import type { Incident } from "../core/incidents/mod.ts";
import {
  DEMO_INCIDENT_QUIET_STEPS,
  DEMO_LEARNING_STEPS,
  DEMO_STEP_SECONDS,
  demoFaultTiming,
  demoGatewayConfig,
  telemetryTopic,
} from "../adapters/demo/mod.ts";
import { FAULT_KINDS, type FaultKind } from "../adapters/demo/mod.ts";
import { type FaultEvent, SimulatedPlant } from "../adapters/demo/mod.ts";
import type { FaultWindow } from "../adapters/demo/mod.ts";

/** Alerts of one run of the plant through the gateway engine, keyed by the step they came at. */
interface EngineRun {
  plant: SimulatedPlant;
  alerts: (AlertEvent & { step: number })[];
  /** Every incident, as the engine keeps them. */
  incidents: Incident[];
  faultEvents: FaultEvent[];
  windows: FaultWindow[];
  /** The step at which each device's detector first executed. */
  executingFrom: Map<string, number>;
}

/** Runs `nodes` nodes through the demo's gateway configuration, with no I/O, for `steps` steps. */
function runEngine(nodes: number, seed: number, steps: number): EngineRun {
  const config = demoGatewayConfig({
    mqttUrl: "mqtt://127.0.0.1:1",
    dashboardPort: 0,
    stateDir: "unused",
    // A step is one millisecond of the engine's clock here.
    incidentQuietSeconds: DEMO_INCIDENT_QUIET_STEPS / 1000,
  });
  const plant = new SimulatedPlant({
    nodes,
    seed,
    stepSeconds: DEMO_STEP_SECONDS,
    faults: demoFaultTiming(),
  });
  const alerts: EngineRun["alerts"] = [];
  const executingFrom = new Map<string, number>();
  const engine = new GatewayEngine(config, {
    score(device, verdict, ts) {
      if (verdict.phase === "executing" && !executingFrom.has(device)) {
        executingFrom.set(device, ts);
      }
    },
    alert(alert) {
      alerts.push({ ...alert, step: alert.ts });
    },
  });
  const faultEvents: FaultEvent[] = [];
  const encoder = new TextEncoder();
  for (let step = 0; step < steps; step++) {
    plant.advance(
      (device, telemetry) =>
        engine.receive(telemetryTopic(device), encoder.encode(JSON.stringify(telemetry)), step),
      (event) => faultEvents.push(event),
    );
    engine.drain();
  }
  engine.sweep(steps + DEMO_INCIDENT_QUIET_STEPS);
  return {
    plant,
    alerts,
    incidents: engine.incidents(),
    faultEvents,
    windows: plant.schedule.windowsBefore(steps),
    executingFrom,
  };
}

/** The sensor each fault kind corrupts: an alert's attribution should name it. */
const CORRUPTED: Record<FaultKind, string> = {
  "stuck-sensor": "temperature",
  "vibration-spikes": "vibration",
  "temperature-drift": "temperature",
  "broken-correlation": "current",
};

describe("demo faults, through the gateway engine", () => {
  const nodes = 5;
  const timing = demoFaultTiming();
  // Every node meets every kind once.
  const steps = timing.fromStep + nodes * FAULT_KINDS.length * timing.everySteps;
  const run = runEngine(nodes, 1, steps);
  const names = run.plant.nodes.map((n) => n.profile.name);
  const during = (w: FaultWindow) =>
    run.alerts.filter((a) =>
      a.device === names[w.node] && a.step >= w.fromStep && a.step < w.toStep
    );

  test("every detector has learned before the first fault, and none alerts before it", () => {
    assert.equal(run.executingFrom.size, nodes);
    for (const [device, step] of run.executingFrom) {
      assert.ok(
        step < timing.fromStep,
        `${device} executes from step ${step}, after the first fault`,
      );
    }
    const early = run.alerts.filter((a) => a.step < timing.fromStep);
    assert.deepEqual(early.map((a) => `${a.device}@${a.step}`), []);
  });

  test("stuck, spiking and drifting sensors raise alerts every time; a broken correlation mostly", () => {
    const missed: string[] = [];
    let correlations = 0, caught = 0;
    for (const w of run.windows) {
      const hits = during(w).length;
      if (w.kind === "broken-correlation") {
        correlations++;
        if (hits > 0) caught++;
      } else if (hits === 0) missed.push(`${names[w.node]} ${w.kind} at step ${w.fromStep}`);
    }
    assert.deepEqual(missed, []);
    assert.ok(correlations >= nodes, `only ${correlations} broken correlations were injected`);
    assert.ok(
      caught * 2 > correlations,
      `broken correlations caught: ${caught} of ${correlations}`,
    );
  });

  test("each fault caught is one incident, over its window, naming the corrupted sensor", () => {
    const problems: string[] = [];
    let matched = 0;
    for (const w of run.windows) {
      const caught = during(w).length;
      const overlapping = run.incidents.filter((i) =>
        i.device === names[w.node] && i.end >= w.fromStep && i.start < w.toStep
      );
      const what = `${names[w.node]} ${w.kind} at step ${w.fromStep}`;
      if (caught === 0) {
        if (overlapping.length > 0) problems.push(`${what}: an incident without alerts`);
        continue;
      }
      if (overlapping.length !== 1) {
        problems.push(`${what}: ${overlapping.length} incidents`);
        continue;
      }
      const [incident] = overlapping;
      matched++;
      assert.equal(incident.alerts, caught, what);
      assert.ok(incident.start >= w.fromStep && incident.end < w.toStep, what);
      assert.equal(incident.closedAt, incident.end + DEMO_INCIDENT_QUIET_STEPS, what);
      const top = incident.topFeatures.map((f) => f.feature);
      assert.ok(top.includes(CORRUPTED[w.kind]), `${what}: top features ${top.join(", ")}`);
    }
    assert.deepEqual(problems, []);
    assert.ok(matched >= run.windows.length / 2, `${matched} of ${run.windows.length} matched`);
  });

  test("alerts name the sensor the fault corrupts", () => {
    for (const w of run.windows) {
      for (const alert of during(w)) {
        assert.ok(
          alert.attribution.features.includes(CORRUPTED[w.kind]),
          `${w.kind} on ${alert.device}: attribution ${alert.attribution.features.join(",")}`,
        );
      }
    }
  });

  test("a healthy node seldom alerts (under 1 in 1,000 scored readings)", () => {
    const outside = run.alerts.filter((a) =>
      !run.windows.some((w) =>
        names[w.node] === a.device && a.step >= w.fromStep && a.step < w.toStep
      )
    );
    const executing = [...run.executingFrom.values()].reduce((sum, from) => sum + steps - from, 0);
    assert.ok(outside.length * 1000 < executing, `${outside.length} alerts outside faults`);
  });

  test("each fault is announced when it begins and when it ends", () => {
    const expected = run.windows.flatMap((w) => [
      { type: "start", device: names[w.node], kind: w.kind, step: w.fromStep },
      ...(w.toStep < steps
        ? [{ type: "end", device: names[w.node], kind: w.kind, step: w.toStep }]
        : []),
    ]);
    assert.deepEqual(
      run.faultEvents.map(({ type, device, kind, step }) => ({ type, device, kind, step })),
      expected,
    );
    for (const event of run.faultEvents) {
      assert.equal(event.seconds, event.step * DEMO_STEP_SECONDS);
    }
  });

  test("the first fault comes once every detector has learned", () => {
    assert.ok(timing.fromStep > DEMO_LEARNING_STEPS);
  });
});

describe("simulated plant", () => {
  const readings = (seed: number, steps: number) => {
    const plant = new SimulatedPlant({
      nodes: 3,
      seed,
      faults: { fromStep: 5, everySteps: 4, lastingSteps: 2 },
    });
    const out: string[] = [];
    for (let i = 0; i < steps; i++) {
      plant.advance((device, t, seconds) => out.push(`${device} ${seconds} ${JSON.stringify(t)}`));
    }
    return out;
  };

  test("is deterministic for a seed, and another seed gives other readings", () => {
    const a = readings(7, 50), b = readings(7, 50), c = readings(8, 50);
    assert.deepEqual(a, b);
    assert.equal(a.length, 150);
    assert.notDeepEqual(a, c);
  });

  test("refuses nonsense options, naming the value", () => {
    const faults = { fromStep: 0, everySteps: 2, lastingSteps: 1 };
    assert.throws(
      () => new SimulatedPlant({ nodes: 0, faults }),
      /nodes must be an integer ≥ 1, got 0/,
    );
    assert.throws(
      () => new SimulatedPlant({ seed: -1, faults }),
      /seed must be an integer in \[0, 2\^32\), got -1/,
    );
    assert.throws(
      () => new SimulatedPlant({ faults: { fromStep: 0, everySteps: 2, lastingSteps: 3 } }),
      /lastingSteps \(3\) must be ≤ everySteps \(2\)/,
    );
  });
});
