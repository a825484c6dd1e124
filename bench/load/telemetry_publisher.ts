/**
 * Sensor telemetry at a controlled rate: devices take turns, each publishing a small JSON
 * reading (QoS 0) through one of a few MQTT.js clients; on every timer tick the publisher sends
 * the batch that keeps it on the target rate, and logs each message's publish time.
 *
 * @module
 */

import mqtt from "mqtt";
import { deviceId, noDelay, telemetryTopic } from "./load_config.ts";
import type { SendLog } from "./send_log.ts";

/** Milliseconds between pacing ticks. */
const TICK_MS = 4;
/** Most a tick catches up after a stall, in seconds of messages at the target rate. */
const MAX_CATCH_UP_SECONDS = 0.05;

/** What publishing a batch did. */
export interface PublishResult {
  /** Messages published. */
  published: number;
  /** Seconds from the first to the last publish. */
  seconds: number;
  /** When publishing started and ended (`performance.now()`). */
  startedAt: number;
  endedAt: number;
}

/** Paced telemetry for `log.devices` devices over `clients` connections. */
export class TelemetryPublisher {
  readonly #clients: mqtt.MqttClient[];
  readonly #log: SendLog;
  readonly #topics: string[];
  #next = 0; // the device whose turn it is

  private constructor(clients: mqtt.MqttClient[], log: SendLog) {
    this.#clients = clients;
    this.#log = log;
    this.#topics = Array.from({ length: log.devices }, (_, i) => telemetryTopic(deviceId(i)));
  }

  /** Connects `clients` publishers to `url`. */
  static async connect(url: string, log: SendLog, clients: number): Promise<TelemetryPublisher> {
    const connected = await Promise.all(
      Array.from({ length: clients }, (_, i) =>
        mqtt.connectAsync(url, {
          clientId: `foxtail-load-pub-${i}-${Math.random().toString(16).slice(2, 8)}`,
          reconnectPeriod: 0,
        })),
    );
    for (const client of connected) noDelay(client);
    return new TelemetryPublisher(connected, log);
  }

  /**
   * Publishes `messages` readings at `rate` per second, devices in turn; `payload(device, seq)`
   * overrides a reading's bytes (the smoke test mixes in bad ones). Resolves when the last one
   * is handed to the sockets.
   */
  run(
    rate: number,
    messages: number,
    payload: (device: number, seq: number) => string = reading,
  ): Promise<PublishResult> {
    const log = this.#log;
    const clients = this.#clients;
    const devices = log.devices;
    const maxBatch = Math.max(1, Math.ceil(rate * MAX_CATCH_UP_SECONDS));
    const startedAt = performance.now();
    let published = 0;
    // Slots a stall left behind beyond one catch-up batch: the schedule moves on rather than burst.
    let offset = 0;
    return new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(messages, Math.floor(((now - startedAt) / 1000) * rate) - offset);
        let batch = due - published;
        if (batch > maxBatch) {
          offset += batch - maxBatch;
          batch = maxBatch;
        }
        for (let k = 0; k < batch; k++) {
          const device = this.#next;
          this.#next = device + 1 === devices ? 0 : device + 1;
          const seq = log.record(device, performance.now());
          clients[device % clients.length].publish(
            this.#topics[device],
            payload(device, seq),
            QOS0,
          );
        }
        published += Math.max(0, batch);
        if (published >= messages) {
          clearInterval(timer);
          const endedAt = performance.now();
          resolve({ published, seconds: (endedAt - startedAt) / 1000, startedAt, endedAt });
        }
      };
      const timer = setInterval(tick, TICK_MS);
    });
  }

  /** Closes every connection (after what was published has been written). */
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.endAsync()));
  }
}

const QOS0 = { qos: 0 } as const;

/**
 * A plausible reading for `device` as message `seq`: temperature, humidity, voltage and current
 * following slow cycles with a little deterministic jitter.
 */
export function reading(device: number, seq: number): string {
  const phase = seq / 40 + device;
  const jitter = ((seq * 7919 + device * 104729) % 1000) / 1000 - 0.5;
  const t = 21 + Math.sin(phase) + 0.05 * jitter;
  const h = 45 + 3 * Math.cos(phase / 2) + 0.1 * jitter;
  const v = 3.3 + 0.01 * jitter;
  const a = 0.5 + 0.2 * Math.sin(phase * 3) + 0.01 * jitter;
  return `{"seq":${seq},"t":${t.toFixed(3)},"h":${h.toFixed(2)},"power":{"v":${v.toFixed(4)},"a":${
    a.toFixed(4)
  }}}`;
}
