/**
 * The gateway configuration of the load benchmark and its smoke test: one stream of JSON
 * telemetry, KitNET with short grace periods (so most of a run is spent executing), and the
 * queue capacity under test.
 *
 * @module
 */

/** Topic prefix the load gateway publishes under. */
export const LOAD_PREFIX = "load";

/** What a load configuration is made of. */
export interface LoadConfigOptions {
  /** The broker's URL. */
  brokerUrl: string;
  /** Devices expected (the device table holds twice as many). */
  devices: number;
  /** `limits.queueCapacity`. */
  queueCapacity: number;
  /** The snapshot folder. */
  snapshotDir: string;
  /** KitNET's feature-mapping grace period. */
  fmGracePeriod: number;
  /** KitNET's training grace period. */
  adGracePeriod: number;
  /** Scores that calibrate the threshold. */
  calibrationWindow: number;
  /** Seconds between snapshots (0: only the final one). */
  snapshotSeconds: number;
}

/** The fields of a load message, as the stream reads them (the payload also carries `seq`). */
export const LOAD_FIELDS = ["t", "h", "power.v", "power.a"] as const;

/** Messages one device needs before it executes. */
export function learningMessages(o: LoadConfigOptions): number {
  return o.fmGracePeriod + o.adGracePeriod + 1 + o.calibrationWindow;
}

/** The configuration (JSON, as `foxtail run --config` reads it). */
export function loadConfig(o: LoadConfigOptions): Record<string, unknown> {
  return {
    mqtt: {
      url: o.brokerUrl,
      topicPrefix: LOAD_PREFIX,
      clientId: `foxtail-load-${Math.random().toString(16).slice(2, 10)}`,
    },
    streams: [{
      name: "telemetry",
      subscribe: "bench/+/telemetry",
      device: "bench/{device}/telemetry",
      payload: { format: "json", fields: [...LOAD_FIELDS] },
      features: "raw",
      model: {
        type: "kitnet",
        maxAutoencoderSize: 2,
        fmGracePeriod: o.fmGracePeriod,
        adGracePeriod: o.adGracePeriod,
      },
      threshold: {
        method: "lognormal",
        tailProbability: 0.0001,
        calibrationWindow: o.calibrationWindow,
      },
    }],
    snapshots: { dir: o.snapshotDir, intervalSeconds: o.snapshotSeconds, keep: 2 },
    limits: {
      maxDevices: Math.max(2 * o.devices, 8),
      queueCapacity: o.queueCapacity,
      historyPoints: 2048,
      maxPayloadBytes: 4096,
    },
  };
}

/** The topic device `id` publishes on. */
export function telemetryTopic(id: string): string {
  return `bench/${id}/telemetry`;
}

/** The id of device number `i`: `dev000`, `dev001`, … */
export function deviceId(i: number): string {
  return `dev${String(i).padStart(3, "0")}`;
}

/**
 * Mosquitto settings for load: room for bursts before it drops QoS 0 messages to a slow
 * subscriber (the default is 1,000), its `$SYS` counters every second, and, unless `nagle`,
 * `set_tcp_nodelay true`: with mosquitto's default (Nagle's algorithm on), a small message can
 * wait up to 40 ms for a delayed acknowledgement, which alone puts p99 near 50 ms.
 */
export function loadMosquittoConfig(nagle = false): string[] {
  return [
    "max_queued_messages 100000",
    "sys_interval 1",
    ...(nagle ? [] : ["set_tcp_nodelay true"]),
  ];
}

/**
 * Turns Nagle's algorithm off on an MQTT.js client's socket: the benchmark's own clients must
 * not hold messages back waiting for acknowledgements (the gateway does the same).
 */
export function noDelay(client: { stream: unknown }): void {
  (client.stream as { setNoDelay?: (on: boolean) => unknown }).setNoDelay?.(true);
}
