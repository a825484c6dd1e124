/**
 * When the demo injects which fault into which node: nothing before `fromStep` (the models are
 * learning), then one fault every `everySteps`, on each node in turn, each lasting `lastingSteps`,
 * the kind rotating so that every node meets every kind.
 *
 * @module
 */

import { type ActiveFault, FAULT_KINDS, type FaultKind } from "./sensor_node.ts";

/** The schedule's settings, in steps (readings). */
export interface FaultScheduleOptions {
  /** Nodes faults rotate over. */
  nodes: number;
  /** The first step of the first fault. */
  fromStep: number;
  /** Steps from one fault's start to the next one's. */
  everySteps: number;
  /** Steps a fault lasts (≤ everySteps, so faults never overlap). */
  lastingSteps: number;
}

/** One fault of the schedule. */
export interface FaultWindow {
  /** The node's index. */
  node: number;
  /** What is wrong. */
  kind: FaultKind;
  /** Its first step. */
  fromStep: number;
  /** The step after its last one. */
  toStep: number;
}

function checkInteger(name: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`fault schedule: ${name} must be an integer ≥ ${least}, got ${value}`);
  }
}

/** A deterministic fault schedule. */
export class FaultSchedule {
  /** Its settings. */
  readonly options: Readonly<FaultScheduleOptions>;

  constructor(options: FaultScheduleOptions) {
    checkInteger("nodes", options.nodes, 1);
    checkInteger("fromStep", options.fromStep, 0);
    checkInteger("everySteps", options.everySteps, 1);
    checkInteger("lastingSteps", options.lastingSteps, 1);
    if (options.lastingSteps > options.everySteps) {
      throw new RangeError(
        `fault schedule: lastingSteps (${options.lastingSteps}) must be ≤ everySteps ` +
          `(${options.everySteps})`,
      );
    }
    this.options = Object.freeze({ ...options });
  }

  /** The `slot`-th fault (from 0). */
  window(slot: number): FaultWindow {
    const { nodes, fromStep, everySteps, lastingSteps } = this.options;
    const start = fromStep + slot * everySteps;
    const node = slot % nodes;
    const round = Math.floor(slot / nodes);
    // Each round shifts every node to the next kind: every node meets every kind.
    const kind = FAULT_KINDS[(node + round) % FAULT_KINDS.length];
    return { node, kind, fromStep: start, toStep: start + lastingSteps };
  }

  /** Every fault that begins before `step`. */
  windowsBefore(step: number): FaultWindow[] {
    const out: FaultWindow[] = [];
    for (let slot = 0; this.window(slot).fromStep < step; slot++) out.push(this.window(slot));
    return out;
  }

  /** The fault of `node` at `step` (with `stepSeconds` simulated seconds a step), if any. */
  faultAt(node: number, step: number, stepSeconds: number): ActiveFault | undefined {
    const { nodes, fromStep, everySteps, lastingSteps } = this.options;
    if (step < fromStep) return undefined;
    const slot = Math.floor((step - fromStep) / everySteps);
    if (slot % nodes !== node) return undefined;
    const offset = step - fromStep - slot * everySteps;
    if (offset >= lastingSteps) return undefined;
    return { kind: this.window(slot).kind, elapsedSeconds: offset * stepSeconds };
  }
}
