/**
 * Publishes the simulated plant's telemetry over MQTT (MQTT.js), paced in wall-clock time: at
 * `speed` simulated seconds per second, each node's readings go to `sensors/{device}/telemetry`
 * as JSON (`{"ts": …, "temperature": …, …}`, `ts` in simulated milliseconds since the epoch).
 *
 * @module
 */

import mqtt from "mqtt";
import { telemetryTopic } from "./demo_config.ts";
import type { Telemetry } from "./sensor_profiles.ts";
import type { FaultEvent, SimulatedPlant } from "./simulated_plant.ts";

/** Midnight of the simulation's day 0: 2025-01-01T00:00:00Z (any fixed day would do). */
export const SIMULATION_EPOCH_MS = Date.UTC(2025, 0, 1);

/** Options of {@linkcode TelemetryPublisher}. */
export interface TelemetryPublisherOptions {
  /** The broker's URL. */
  url: string;
  /** What to publish. */
  plant: SimulatedPlant;
  /** Simulated seconds per wall-clock second. */
  speed: number;
  /** Called when a fault begins or ends (as its first affected reading is published). */
  onFault?: (event: FaultEvent) => void;
  /** Where connection problems are reported. */
  log?: (line: string) => void;
  /** Milliseconds between two publishing rounds (default 50). */
  tickMs?: number;
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Publishing rounds' worth of readings one round may catch up on when the machine lags. */
const CATCH_UP_ROUNDS = 4;

/** The simulated sensors' MQTT client. */
export class TelemetryPublisher {
  readonly #options: TelemetryPublisherOptions;
  readonly #now: () => number;
  readonly #tickMs: number;
  /** Wall-clock time at which simulated time 0 would have been, in milliseconds. */
  #origin = 0;
  #client: mqtt.MqttClient | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #published = 0;
  #skipped = 0;
  readonly #publishReading = (
    device: string,
    telemetry: Readonly<Telemetry>,
    seconds: number,
  ): void => {
    const client = this.#client;
    if (client === undefined || !client.connected) {
      this.#skipped++;
      return;
    }
    const ts = SIMULATION_EPOCH_MS + seconds * 1000;
    client.publish(telemetryTopic(device), JSON.stringify({ ts, ...telemetry }), { qos: 0 });
    this.#published++;
  };

  constructor(options: TelemetryPublisherOptions) {
    if (!(options.speed > 0 && options.speed < Infinity)) {
      throw new RangeError(`speed must be a positive number, got ${options.speed}`);
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#tickMs = options.tickMs ?? 50;
  }

  /** Readings published. */
  get published(): number {
    return this.#published;
  }

  /** Readings not published because the broker was unreachable at the time. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Connects to the broker, then publishes until {@linkcode stop}. */
  async start(): Promise<void> {
    if (this.#client !== undefined) throw new Error("the telemetry publisher is already running");
    const log = this.#options.log ?? (() => {});
    const client = await mqtt.connectAsync(this.#options.url, {
      clientId: `foxtail-demo-sensors-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      queueQoSZero: false, // readings while offline are skipped, not queued without bound
    });
    client.on("error", (error) => log(`sensors: ${error.message}`));
    this.#client = client;
    const { plant, speed } = this.#options;
    this.#origin = this.#now() - (plant.seconds / speed) * 1000;
    this.#timer = setInterval(() => this.#publishDue(), this.#tickMs);
  }

  /** Publishes every reading whose simulated time has come. */
  #publishDue(): void {
    const { plant, speed, onFault } = this.#options;
    const stepsPerSecond = speed / plant.stepSeconds;
    const due = Math.floor(((this.#now() - this.#origin) / 1000) * stepsPerSecond);
    const most = Math.max(1, Math.ceil((CATCH_UP_ROUNDS * this.#tickMs * stepsPerSecond) / 1000));
    let behind = due - plant.step;
    if (behind > most) {
      // Too far behind (a busy machine): let simulated time slip rather than burst.
      this.#origin += ((behind - most) / stepsPerSecond) * 1000;
      behind = most;
    }
    for (let i = 0; i < behind; i++) plant.advance(this.#publishReading, onFault);
  }

  /** Stops publishing and disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) await client.endAsync();
  }
}
