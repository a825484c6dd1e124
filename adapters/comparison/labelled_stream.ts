/**
 * The input of a comparison: each device's instances (rows of the same width) and, when known,
 * which are anomalies; and the demo plant's telemetry as one such input, its faults labelled.
 *
 * @module
 */

import {
  DEMO_STEP_SECONDS,
  demoFaultTiming,
  SimulatedPlant,
  TELEMETRY_FIELDS,
} from "../demo/mod.ts";

/** One device's instances. */
export interface LabelledDevice {
  /** The device's id. */
  id: string;
  /** Its instances, row-major (`rows.length / inputs` of them). */
  rows: Float64Array;
  /** 1 where the instance is an anomaly, 0 where it is normal; undefined when unknown. */
  labels?: Uint8Array;
}

/** Instances of one width from one or more devices. */
export interface LabelledStream {
  /** What the stream is, for reports. */
  name: string;
  /** Names of the inputs. */
  inputs: readonly string[];
  /** The devices (each gets its own detector, as on the gateway). */
  devices: LabelledDevice[];
}

/**
 * `steps` readings of each of the demo's five nodes (`foxtail demo`'s plant, seed 1, its fault
 * schedule), raw field values as the gateway's `raw` features, each reading labelled 1 while a
 * fault is active on its node.
 */
export function telemetryStream(steps: number, nodes = 5): LabelledStream {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be an integer ≥ 1, got ${steps}`);
  }
  const plant = new SimulatedPlant({
    nodes,
    seed: 1,
    stepSeconds: DEMO_STEP_SECONDS,
    faults: demoFaultTiming(),
  });
  const width = TELEMETRY_FIELDS.length;
  const devices = plant.nodes.map((node) => ({
    id: node.profile.name,
    rows: new Float64Array(steps * width),
    labels: new Uint8Array(steps),
  }));
  const index = new Map(devices.map((d, i) => [d.id, i]));
  const faulty = new Set<string>();
  for (let step = 0; step < steps; step++) {
    plant.advance(
      (device, telemetry) => {
        const d = devices[index.get(device)!];
        for (let f = 0; f < width; f++) d.rows[step * width + f] = telemetry[TELEMETRY_FIELDS[f]];
        d.labels[step] = faulty.has(device) ? 1 : 0;
      },
      (event) => event.type === "start" ? faulty.add(event.device) : faulty.delete(event.device),
    );
  }
  return {
    name: `the demo's telemetry (${nodes} nodes × ${steps} readings)`,
    inputs: TELEMETRY_FIELDS,
    devices,
  };
}
