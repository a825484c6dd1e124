/**
 * Shared fixtures of the gateway tests: a small configuration that learns quickly, and
 * deterministic sensor telemetry with an optional fault.
 *
 * @module
 */

import { MersenneTwister } from "../../core/math/mod.ts";

/** A one-stream configuration (JSON, before validation) whose devices learn in ~300 messages. */
export function smallConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mqtt: { url: "mqtt://127.0.0.1:1883", topicPrefix: "foxtail" },
    streams: [{
      name: "env",
      subscribe: "sensors/+/telemetry",
      device: "sensors/{device}/telemetry",
      payload: { format: "json", fields: ["t", "h", "power.v"] },
      features: "raw",
      model: { type: "kitnet", maxAutoencoderSize: 2, fmGracePeriod: 40, adGracePeriod: 200 },
      threshold: { method: "lognormal", tailProbability: 0.001, calibrationWindow: 60 },
    }],
    snapshots: { dir: "./state", intervalSeconds: 0, keep: 3 },
    limits: { maxDevices: 8, queueCapacity: 64, historyPoints: 32 },
    ...overrides,
  };
}

/** Messages a device of {@linkcode smallConfig} needs before it flags anomalies. */
export const SMALL_LEARNING = 40 + 200 + 1 + 60;

/** Deterministic readings of one sensor: temperature, humidity, voltage with noise. */
export class SensorSignal {
  readonly #rng: MersenneTwister;
  #step = 0;

  constructor(seed: number) {
    this.#rng = new MersenneTwister(seed);
  }

  /** The next normal reading as a JSON payload (bytes). */
  next(): Uint8Array {
    const [t, h, v] = this.values();
    return new TextEncoder().encode(JSON.stringify({ t, h, power: { v } }));
  }

  /** The next normal reading as numbers. */
  values(): [number, number, number] {
    const k = this.#step++;
    const noise = () => this.#rng.uniform(-0.05, 0.05);
    return [
      21 + Math.sin(k / 20) + noise(),
      45 + 3 * Math.cos(k / 30) + noise(),
      3.3 + noise() / 10,
    ];
  }
}

/** A reading far outside anything normal: the voltage collapses and temperature jumps. */
export function faultPayload(): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ t: 80, h: 45, power: { v: 0.4 } }));
}
