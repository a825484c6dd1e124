/**
 * The demo's plant: a few sensor nodes read in lockstep, one reading each per simulated step,
 * with faults injected on a schedule. Pure and deterministic for a seed; the publisher paces it
 * in wall-clock time, tests run it as fast as they like.
 *
 * @module
 */

import { FaultSchedule, type FaultScheduleOptions } from "./fault_schedule.ts";
import { type FaultKind, SensorNode } from "./sensor_node.ts";
import { sensorProfile, type Telemetry } from "./sensor_profiles.ts";

/** Options of {@linkcode SimulatedPlant}. */
export interface SimulatedPlantOptions {
  /** Sensor nodes (default 5). */
  nodes?: number;
  /** Seed of every node's noise (default 1). */
  seed?: number;
  /** Simulated seconds between two readings of a node (default 60). */
  stepSeconds?: number;
  /** The fault schedule, in steps (`nodes` is filled in). */
  faults: Omit<FaultScheduleOptions, "nodes">;
}

/** A fault beginning or ending. */
export interface FaultEvent {
  /** Whether it begins or ends. */
  type: "start" | "end";
  /** The node's device id. */
  device: string;
  /** What is wrong. */
  kind: FaultKind;
  /** The step at which it happens. */
  step: number;
  /** The simulated time, seconds since midnight of day 0. */
  seconds: number;
}

/** Every node's seed: distinct for each node, the same for the same plant seed. */
function nodeSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + index) >>> 0;
}

/** Simulated sensor nodes with scheduled faults. */
export class SimulatedPlant {
  /** The nodes, in index order. */
  readonly nodes: readonly SensorNode[];
  /** When which fault happens. */
  readonly schedule: FaultSchedule;
  /** Simulated seconds between readings. */
  readonly stepSeconds: number;
  /** The seed. */
  readonly seed: number;
  #step = 0;
  readonly #faulty: (FaultKind | undefined)[];

  constructor(options: SimulatedPlantOptions) {
    const count = options.nodes ?? 5;
    const seed = options.seed ?? 1;
    const stepSeconds = options.stepSeconds ?? 60;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`nodes must be an integer ≥ 1, got ${count}`);
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    }
    if (!(stepSeconds > 0 && stepSeconds < Infinity)) {
      throw new RangeError(`stepSeconds must be a positive number, got ${stepSeconds}`);
    }
    this.seed = seed;
    this.stepSeconds = stepSeconds;
    this.schedule = new FaultSchedule({ ...options.faults, nodes: count });
    this.nodes = Array.from(
      { length: count },
      (_, i) => new SensorNode(sensorProfile(i), nodeSeed(seed, i)),
    );
    this.#faulty = new Array(count).fill(undefined);
  }

  /** The next step to be read (= steps read so far). */
  get step(): number {
    return this.#step;
  }

  /** The simulated time of the next step, in seconds since midnight of day 0. */
  get seconds(): number {
    return this.#step * this.stepSeconds;
  }

  /**
   * Reads every node once (the next step): `reading` gets each node's device id, its telemetry
   * (a reused object: use it during the call) and the simulated time in seconds; `fault` gets
   * every fault that begins or ends, before the reading it first (or no longer) affects.
   */
  advance(
    reading: (device: string, telemetry: Readonly<Telemetry>, seconds: number) => void,
    fault?: (event: FaultEvent) => void,
  ): void {
    const step = this.#step++;
    const seconds = step * this.stepSeconds;
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      const active = this.schedule.faultAt(i, step, this.stepSeconds);
      const was = this.#faulty[i];
      if (was !== active?.kind) {
        const device = node.profile.name;
        if (was !== undefined) fault?.({ type: "end", device, kind: was, step, seconds });
        if (active !== undefined) {
          fault?.({ type: "start", device, kind: active.kind, step, seconds });
        }
        this.#faulty[i] = active?.kind;
      }
      reading(node.profile.name, node.read(seconds, active), seconds);
    }
  }
}
