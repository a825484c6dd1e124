/**
 * One simulated sensor node: deterministic readings (for a seed) of a room's climate and a
 * machine's motor and power, with the faults the demo injects.
 *
 * @module
 */

import { MersenneTwister } from "../../core/math/mod.ts";
import type { SensorProfile, Telemetry } from "./sensor_profiles.ts";

/** The faults the demo injects. */
export type FaultKind =
  | "stuck-sensor"
  | "vibration-spikes"
  | "temperature-drift"
  | "broken-correlation";

/** Every fault kind, in the order the demo cycles through them. */
export const FAULT_KINDS: readonly FaultKind[] = Object.freeze([
  "stuck-sensor",
  "vibration-spikes",
  "temperature-drift",
  "broken-correlation",
]);

/** What each fault does, in words (for logs). */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = Object.freeze({
  "stuck-sensor": "the temperature sensor is stuck at 85.00 °C (a 1-Wire sensor's power-on value)",
  "vibration-spikes": "bursts of vibration spikes (a failing bearing)",
  "temperature-drift": "the temperature sensor drifts upwards by its daily swing every 2 hours",
  "broken-correlation":
    "the current clamp reads the neighbouring motor: current no longer agrees with vibration and power",
});

/** A fault in progress on a node. */
export interface ActiveFault {
  /** What is wrong. */
  kind: FaultKind;
  /** Simulated seconds since it began. */
  elapsedSeconds: number;
}

const SECONDS_PER_DAY = 86_400;
/** Hour of the day at which the temperature peaks. */
const WARMEST_HOUR = 15;
const MAINS_VOLTS = 230;
const POWER_FACTOR = 0.85;
/** Hours a drifting temperature sensor takes to drift by the node's daily swing. */
const DRIFT_HOURS_PER_SWING = 2;
/** What a stuck 1-Wire temperature sensor (DS18B20) reports: its power-on reset value. */
const STUCK_TEMPERATURE = 85;
/** Share of readings that carry a spike during a spike burst. */
const SPIKE_SHARE = 0.35;
/** Day-to-day wander of the temperature: AR(1) coefficient and innovation (°C). */
const WANDER_KEEP = 0.995;
const WANDER_STEP = 0.03;

/** Rounds to the resolution a sensor reports (`digits` decimals). */
function quantize(x: number, digits: number): number {
  const scale = digits === 1 ? 10 : 100;
  return Math.round(x * scale) / scale;
}

/** A simulated node; call {@linkcode read} once per step, in order. */
export class SensorNode {
  /** What this node is. */
  readonly profile: SensorProfile;
  readonly #rng: MersenneTwister;
  /** Where in its duty cycle the motor starts, in minutes. */
  readonly #cycleOffset: number;
  #wander = 0;
  readonly #reading: Telemetry = {
    temperature: 0,
    humidity: 0,
    current: 0,
    vibration: 0,
    power: 0,
  };

  /** A node of `profile` whose noise comes from MT19937 seeded with `seed`. */
  constructor(profile: SensorProfile, seed: number) {
    this.profile = profile;
    this.#rng = new MersenneTwister(seed);
    this.#cycleOffset = this.#rng.uniform(0, profile.cycleMinutes);
  }

  /** Whether the motor runs `minutes` into the simulation (its cycle offset included). */
  #running(minutes: number): boolean {
    const p = this.profile;
    return minutes % p.cycleMinutes < p.dutyCycle * p.cycleMinutes;
  }

  /** The motor's current, A. */
  #current(running: boolean, noise: number): number {
    const p = this.profile;
    return running ? p.runningCurrent * (1 + 0.02 * noise) : p.idleCurrent + 0.02 * Math.abs(noise);
  }

  /** A standard normal draw (Box–Muller, two uniforms: the same count on every call). */
  #gaussian(): number {
    const u = 1 - this.#rng.nextDouble(); // (0, 1]: ln defined
    const v = this.#rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * The reading at simulated second `seconds` (since midnight of day 0), with `fault` applied.
   * Returns an object the node reuses: read it before the next call. Every call draws the same
   * number of random numbers, so a fault changes only the readings it touches.
   */
  read(seconds: number, fault?: ActiveFault): Readonly<Telemetry> {
    const p = this.profile;
    // Every draw, in a fixed order, whether or not it is used.
    const wanderNoise = this.#gaussian();
    const temperatureNoise = this.#gaussian();
    const humidityNoise = this.#gaussian();
    const currentNoise = this.#gaussian();
    const vibrationNoise = this.#gaussian();
    const powerNoise = this.#gaussian();
    const spikeDraw = this.#rng.nextDouble();
    const spikeSize = this.#rng.nextDouble();
    this.#wander = WANDER_KEEP * this.#wander + WANDER_STEP * wanderNoise;
    const hour = (seconds % SECONDS_PER_DAY) / 3600;
    const daily = Math.cos((2 * Math.PI * (hour - WARMEST_HOUR)) / 24);
    const air = p.temperature + p.dailySwing * daily + this.#wander;
    const humidity = Math.min(
      100,
      Math.max(0, p.humidity + p.humidityPerDegree * (air - p.temperature) + 0.6 * humidityNoise),
    );
    let temperature = air + 0.08 * temperatureNoise;
    if (fault?.kind === "temperature-drift") {
      temperature += p.dailySwing * (fault.elapsedSeconds / 3600 / DRIFT_HOURS_PER_SWING);
    } else if (fault?.kind === "stuck-sensor") {
      temperature = STUCK_TEMPERATURE;
    }

    const minutes = seconds / 60 + this.#cycleOffset;
    const running = this.#running(minutes);
    const current = this.#current(running, currentNoise);
    let vibration = running
      ? p.runningVibration * (1 + 0.05 * vibrationNoise)
      : 0.15 + 0.03 * Math.abs(vibrationNoise);
    if (fault?.kind === "vibration-spikes" && spikeDraw < SPIKE_SHARE) {
      vibration = p.runningVibration * (4 + 4 * spikeSize);
    }
    const power = p.baseLoad + MAINS_VOLTS * POWER_FACTOR * current + 3 * powerNoise;
    // The neighbouring motor: the same machine, half a cycle apart.
    const measuredCurrent = fault?.kind === "broken-correlation"
      ? this.#current(this.#running(minutes + p.cycleMinutes / 2), currentNoise)
      : current;

    const r = this.#reading;
    r.temperature = quantize(temperature, 2);
    r.humidity = quantize(humidity, 1);
    r.current = quantize(measuredCurrent, 2);
    r.vibration = quantize(vibration, 2);
    r.power = quantize(power, 1);
    return r;
  }
}
