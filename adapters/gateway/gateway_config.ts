/**
 * The whole gateway configuration file (`foxtail run --config foxtail.json`): the pipeline's
 * `streams` and `limits` (read by core's {@linkcode readPipelineConfig}) and the adapters'
 * `mqtt`, `dashboard` and `snapshots`. {@linkcode validateGatewayConfig} names the key path and
 * bad value of every mistake.
 *
 * @module
 */

import {
  ConfigProblems,
  describeValue,
  keyReaders,
  PIPELINE_DEFAULTS,
  PIPELINE_KEYS,
  type PipelineConfig,
  readObject,
  readPipelineConfig,
  topicFilterProblem,
} from "../../core/gateway/mod.ts";
import type { MqttConfig } from "../mqtt/mod.ts";
import { type ClusterSettings, readClusterSettings } from "../../core/cluster/mod.ts";

/** The dashboard's HTTP server. */
export interface DashboardConfig {
  /** Whether to serve it. */
  enabled: boolean;
  /** Address to listen on. */
  host: string;
  /** Port to listen on (0: any free one). */
  port: number;
  /** Bearer token for mutating endpoints; without one they are disabled. */
  token?: string;
  /** Devices given per-device series in `/metrics` (alerting first; 0: none). */
  deviceMetrics: number;
}

/** Where and how often detector state is saved. */
export interface SnapshotsConfig {
  /** Folder of `snapshot-<seq>.bin` files. */
  dir: string;
  /** Seconds between snapshots (0: only on shutdown). */
  intervalSeconds: number;
  /** Snapshots kept. */
  keep: number;
}

/** The validated configuration file, with every default filled in. */
export interface GatewayConfig extends PipelineConfig {
  /** MQTT settings. */
  mqtt: MqttConfig;
  /** Dashboard settings. */
  dashboard: DashboardConfig;
  /** Snapshot settings. */
  snapshots: SnapshotsConfig;
  /** The NATS cluster to share the fleet's devices with; absent: this instance holds them all. */
  cluster?: ClusterSettings;
}

/** Defaults of the file's optional keys: the pipeline's and the adapters'. */
export const GATEWAY_DEFAULTS = {
  ...PIPELINE_DEFAULTS,
  url: "mqtt://127.0.0.1:1883",
  topicPrefix: "foxtail",
  protocolVersion: 4,
  keepaliveSeconds: 30,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30000,
  dashboardHost: "127.0.0.1",
  dashboardPort: 8080,
  deviceMetrics: 1000,
  snapshotDir: "./state",
  intervalSeconds: 60,
  keep: 3,
} as const;

/**
 * Checks an untrusted value (parsed JSON) as a gateway configuration and returns it with defaults
 * filled in. Throws a `ConfigError` listing every problem, each with its key path and the bad
 * value; unknown keys are problems too.
 */
export function validateGatewayConfig(value: unknown): GatewayConfig {
  const problems = new ConfigProblems();
  const keys = ["mqtt", ...PIPELINE_KEYS, "dashboard", "snapshots", "cluster"];
  const root = readObject(value, "", keys, problems, false) ?? {};
  const mqtt = readMqtt(root.mqtt, problems);
  const pipeline = readPipelineConfig(root, problems);
  const dashboard = readDashboard(root.dashboard, problems);
  const snapshots = readSnapshots(root.snapshots, problems);
  const cluster = readClusterSettings(root.cluster, problems);
  if (cluster !== undefined && mqtt.homeAssistantDiscovery !== undefined) {
    // Its availability topic is the single gateway's status; a cluster's instances each keep
    // their own.
    problems.add(
      "mqtt.homeAssistantDiscovery",
      "not supported in cluster mode (no one status topic says whether the fleet is scored)",
    );
  }
  problems.throwIfAny();
  return { mqtt, ...pipeline, dashboard, snapshots, ...(cluster ? { cluster } : {}) };
}

const MQTT_KEYS = [
  "url",
  "username",
  "password",
  "clientId",
  "ca",
  "topicPrefix",
  "homeAssistantDiscovery",
  "protocolVersion",
  "keepaliveSeconds",
  "reconnectMinMs",
  "reconnectMaxMs",
];

function readMqtt(value: unknown, problems: ConfigProblems): MqttConfig {
  const read = keyReaders(readObject(value, "mqtt", MQTT_KEYS, problems) ?? {}, "mqtt", problems);
  const d = GATEWAY_DEFAULTS;
  const url = read.string("url", d.url)!;
  if (!/^(mqtts?|wss?):\/\/[^/]/.test(url)) {
    problems.add(
      "mqtt.url",
      `expected mqtt://, mqtts://, ws:// or wss:// URL, got ${describeValue(url)}`,
    );
  }
  const topicPrefix = read.string("topicPrefix", d.topicPrefix)!;
  if (topicLevelsProblem(topicPrefix)) {
    problems.add(
      "mqtt.topicPrefix",
      `expected topic levels without wildcards, got ${describeValue(topicPrefix)}`,
    );
  }
  const homeAssistantDiscovery = read.optionalString("homeAssistantDiscovery");
  if (homeAssistantDiscovery !== undefined && topicLevelsProblem(homeAssistantDiscovery)) {
    problems.add(
      "mqtt.homeAssistantDiscovery",
      `expected topic levels without wildcards (Home Assistant's default is "homeassistant"), ` +
        `got ${describeValue(homeAssistantDiscovery)}`,
    );
  }
  const reconnectMinMs = read.integer("reconnectMinMs", d.reconnectMinMs, 10);
  // The default yields to a larger minimum, so setting only the minimum is never a mistake.
  const maxFallback = Math.max(d.reconnectMaxMs, reconnectMinMs);
  const reconnectMaxMs = read.integer("reconnectMaxMs", maxFallback, 10);
  if (reconnectMaxMs < reconnectMinMs) {
    problems.add(
      "mqtt.reconnectMaxMs",
      `must be ≥ reconnectMinMs (${reconnectMinMs}), got ${reconnectMaxMs}`,
    );
  }
  return {
    url,
    username: read.optionalString("username"),
    password: read.optionalString("password"),
    clientId: read.optionalString("clientId"),
    ca: read.optionalString("ca"),
    topicPrefix,
    homeAssistantDiscovery,
    protocolVersion: read.choice("protocolVersion", [4, 5] as const, d.protocolVersion),
    keepaliveSeconds: read.integer("keepaliveSeconds", d.keepaliveSeconds, 0, 65535),
    reconnectMinMs,
    reconnectMaxMs,
  };
}

/** Whether `topic` is not a valid topic of plain levels (no wildcards). */
function topicLevelsProblem(topic: string): boolean {
  return topicFilterProblem(topic) !== undefined || /[+#]/.test(topic);
}

function readDashboard(value: unknown, problems: ConfigProblems): DashboardConfig {
  const p = "dashboard";
  const read = keyReaders(
    readObject(value, p, ["enabled", "host", "port", "token", "deviceMetrics"], problems) ?? {},
    p,
    problems,
  );
  const enabled = read.boolean("enabled", true);
  const token = read.optionalString("token");
  if (token !== undefined && token.length < 16) {
    problems.add(`${p}.token`, `expected at least 16 characters, got ${token.length}`);
  }
  return {
    enabled,
    host: read.string("host", GATEWAY_DEFAULTS.dashboardHost)!,
    port: read.integer("port", GATEWAY_DEFAULTS.dashboardPort, 0, 65535),
    token,
    deviceMetrics: read.integer("deviceMetrics", GATEWAY_DEFAULTS.deviceMetrics, 0, 1_000_000),
  };
}

function readSnapshots(value: unknown, problems: ConfigProblems): SnapshotsConfig {
  const p = "snapshots";
  const o = readObject(value, p, ["dir", "intervalSeconds", "keep"], problems) ?? {};
  const read = keyReaders(o, p, problems);
  const d = GATEWAY_DEFAULTS;
  return {
    dir: read.string("dir", d.snapshotDir)!,
    // 0 is allowed: snapshots only on shutdown.
    intervalSeconds: o.intervalSeconds === 0
      ? 0
      : read.number("intervalSeconds", d.intervalSeconds, 0),
    keep: read.integer("keep", d.keep, 1, 1000),
  };
}
