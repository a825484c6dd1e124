/**
 * The demo's embedded gateway configuration, and the timings that follow from it: how many
 * readings each node's detector needs before it scores, and when the faults begin.
 *
 * The settings were chosen by running the simulated plant through the gateway engine: with a
 * reading every 5 simulated minutes, 2,000 training readings hold about a week of daily cycles,
 * enough for KitNET to learn them evenly (with fewer days it mostly remembers the hours it saw
 * last, and its threshold lands far above every fault). A tail probability of 1e-3 then flags
 * every stuck, spiking and drifting sensor and most broken correlations, with no false alarm on
 * the healthy days of the seeds tried (tests/demo_faults.test.ts checks seed 1).
 *
 * @module
 */

import { type GatewayConfig, validateGatewayConfig } from "../gateway/mod.ts";
import type { FaultScheduleOptions } from "./fault_schedule.ts";
import { TELEMETRY_FIELDS } from "./sensor_profiles.ts";

/** Simulated seconds between two readings of a node. */
export const DEMO_STEP_SECONDS = 300;

/** Default simulated seconds per wall-clock second: 30 readings a second per node. */
export const DEMO_SPEED = 9000;

/** The topic filter the gateway subscribes to and the device pattern inside it. */
export const DEMO_SUBSCRIBE = "sensors/+/telemetry";

/** The topic a node publishes its telemetry on. */
export function telemetryTopic(device: string): string {
  return `sensors/${device}/telemetry`;
}

/** KitNET per node: 150 readings map features, 2,000 train, 600 calibrate the threshold. */
export const DEMO_MODEL = Object.freeze({
  type: "kitnet",
  maxAutoencoderSize: 3,
  fmGracePeriod: 150,
  adGracePeriod: 2000,
});

/** The per-node threshold. */
export const DEMO_THRESHOLD = Object.freeze({
  method: "lognormal",
  tailProbability: 1e-3,
  calibrationWindow: 600,
});

/** Readings between the end of calibration and the first fault (10 simulated hours). */
export const DEMO_QUIET_STEPS = 120;

/**
 * Readings without an alert that close an incident (3 simulated hours): a fault's alerts come
 * and go, and its gaps are shorter; faults are half a day apart.
 */
export const DEMO_INCIDENT_QUIET_STEPS = 36;

/** Where the demo's gateway connects, serves and saves. */
export interface DemoConfigOptions {
  /** The broker's URL. */
  mqttUrl: string;
  /** The broker's user (the cluster demo's instances sign in to nats-server's MQTT). */
  mqttUser?: { username: string; password: string };
  /** The dashboard's address (default 127.0.0.1). */
  dashboardHost?: string;
  /** The dashboard's port (0: a free one). */
  dashboardPort: number;
  /** The snapshot folder. */
  stateDir: string;
  /** Seconds between snapshots (default 30). */
  snapshotSeconds?: number;
  /**
   * Wall-clock seconds without an alert that close an incident: incidents are timed by
   * arrival, so this follows the demo's speed (default: {@linkcode DEMO_INCIDENT_QUIET_STEPS}
   * at {@linkcode DEMO_SPEED}).
   */
  incidentQuietSeconds?: number;
  /** A `cluster` section (as in a configuration file), for the cluster demo. */
  cluster?: Record<string, unknown>;
}

/** The demo's gateway configuration, validated like any `foxtail run` configuration. */
export function demoGatewayConfig(options: DemoConfigOptions): GatewayConfig {
  return validateGatewayConfig({
    mqtt: {
      url: options.mqttUrl,
      ...options.mqttUser,
      topicPrefix: "foxtail",
      clientId: "foxtail-demo-gateway",
    },
    streams: [{
      name: "plant",
      subscribe: DEMO_SUBSCRIBE,
      device: "sensors/{device}/telemetry",
      payload: { format: "json", fields: [...TELEMETRY_FIELDS] },
      features: "raw",
      model: { ...DEMO_MODEL },
      threshold: { ...DEMO_THRESHOLD },
    }],
    dashboard: { host: options.dashboardHost ?? "127.0.0.1", port: options.dashboardPort },
    snapshots: { dir: options.stateDir, intervalSeconds: options.snapshotSeconds ?? 30, keep: 3 },
    limits: { maxDevices: 64, queueCapacity: 4096, historyPoints: 1024 },
    incidents: {
      quietSeconds: options.incidentQuietSeconds ??
        DEMO_INCIDENT_QUIET_STEPS * DEMO_STEP_SECONDS / DEMO_SPEED,
    },
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
  });
}

/**
 * Readings a node's detector takes before it flags anomalies: KitNET scores from its
 * (fm + ad + 1)-th reading, and calibration takes the next window.
 */
export const DEMO_LEARNING_STEPS = DEMO_MODEL.fmGracePeriod + DEMO_MODEL.adGracePeriod + 1 +
  DEMO_THRESHOLD.calibrationWindow;

/**
 * The fault schedule: the first fault a little after every detector executes, then one every
 * simulated day (on each node in turn), each lasting half a day.
 */
export function demoFaultTiming(): Omit<FaultScheduleOptions, "nodes"> {
  const day = Math.round(86_400 / DEMO_STEP_SECONDS);
  return {
    fromStep: DEMO_LEARNING_STEPS + DEMO_QUIET_STEPS,
    everySteps: day,
    lastingSteps: Math.round(day / 2),
  };
}
