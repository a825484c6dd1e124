/**
 * The gateway's configuration (`foxtail run --config foxtail.json`): its shape, its defaults,
 * and {@linkcode validateGatewayConfig}, which names the key path and bad value of every mistake.
 *
 * @module
 */

import { KITNET_DEFAULTS } from "../kitnet/mod.ts";
import {
  ConfigProblems,
  describeValue,
  joinPath,
  readChoice,
  readInteger,
  readNumber,
  readObject,
  readOptionalString,
  readString,
} from "./config_reader.ts";
import { DeviceTopicPattern, topicFilterProblem } from "./device_topic.ts";
import { SENSOR_LAMBDAS } from "./damped_features.ts";

/** How a stream's payload is written. */
export type PayloadFormat = "json" | "json-array" | "csv" | "number";

/** MQTT connection settings. */
export interface MqttConfig {
  /** Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`. */
  url: string;
  /** User name, if the broker wants credentials. */
  username?: string;
  /** Password, if the broker wants credentials. */
  password?: string;
  /** Client id; the adapter makes one up when absent. */
  clientId?: string;
  /** Path of a PEM file of CA certificates to trust for TLS. */
  ca?: string;
  /** First level of every topic the gateway publishes. */
  topicPrefix: string;
  /** 4 (MQTT 3.1.1) or 5. */
  protocolVersion: 4 | 5;
  /** Keep-alive interval. */
  keepaliveSeconds: number;
  /** First reconnect delay; doubles per failed attempt up to `reconnectMaxMs`. */
  reconnectMinMs: number;
  /** Longest reconnect delay. */
  reconnectMaxMs: number;
}

/** How one stream's payloads are decoded. */
export interface PayloadConfig {
  /** The payload format. */
  format: PayloadFormat;
  /**
   * Field names, in vector order. For `json` each is a (possibly dotted, `a.b.c`) path into the
   * object; for `json-array` and `csv` they name the positions; for `number`, one name.
   */
  fields: string[];
  /**
   * The message's own time, for damped features (else the arrival time is used): for `json` a
   * path (not among `fields`); for `json-array` and `csv` the name of one of the `fields`, which
   * is then a time rather than a value.
   */
  timestampField?: string;
  /** Unit of `timestampField`'s numbers: milliseconds (the default) or seconds. */
  timestampUnit?: "ms" | "s";
}

/** What the model reads: the values themselves, or their damped statistics. */
export type FeaturesConfig =
  | {
    /** The field values as they are. */
    type: "raw";
  }
  | {
    /** Per field: the value, and per λ its damped mean and std; per λ the damped weight. */
    type: "damped";
    /** Decay rates λ per second (a window's half-life is 1/λ seconds). */
    lambdas: number[];
  };

/** KitNET's options for every device of a stream. */
export interface KitNETModelConfig {
  /** The model kind. */
  type: "kitnet";
  /** Most features per ensemble autoencoder. */
  maxAutoencoderSize: number;
  /** Messages that learn the feature map. */
  fmGracePeriod: number;
  /** Messages that train the autoencoders. */
  adGracePeriod: number;
  /** SGD step. */
  learningRate: number;
  /** Hidden units per visible unit. */
  hiddenRatio: number;
}

/** A trained deep autoencoder (from `foxtail train`) shared by every device of a stream. */
export interface DeepAeModelConfig {
  /** The model kind. */
  type: "deep-ae";
  /** The model file, read by the adapter at start. */
  path: string;
}

/** A stream's model: KitNET learned per device, or a trained deep autoencoder. */
export type ModelConfig = KitNETModelConfig | DeepAeModelConfig;

/** The per-device anomaly threshold. */
export interface ThresholdConfig {
  /** Log-normal fit of the first scores after training. */
  method: "lognormal";
  /** Scores whose tail probability under the fit is below this are anomalies. */
  tailProbability: number;
  /** Scores the fit is made from. */
  calibrationWindow: number;
}

/** One kind of telemetry: which topics, how to read them, how to model them. */
export interface StreamConfig {
  /** A short name (letters, digits, `_`, `-`). */
  name: string;
  /** The MQTT subscription filter. */
  subscribe: string;
  /** The topic pattern with one `{device}` level. */
  device: string;
  /** Subscription QoS. */
  qos: 0 | 1;
  /** Payload decoding. */
  payload: PayloadConfig;
  /** What the model reads (`"raw"` or `"damped"` in the file). */
  features: FeaturesConfig;
  /** The per-device model. */
  model: ModelConfig;
  /** The per-device threshold (KitNET's; a deep autoencoder brings its own). */
  threshold: ThresholdConfig;
}

/** The dashboard (served by a later part of the gateway). */
export interface DashboardConfig {
  /** Whether to serve it. */
  enabled: boolean;
  /** Address to listen on. */
  host: string;
  /** Port to listen on (0: any free one). */
  port: number;
  /** Bearer token for mutating endpoints; without one they are disabled. */
  token?: string;
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

/** Every capacity, so memory stays flat. */
export interface LimitsConfig {
  /** Devices (detectors) held; the least recently seen is evicted beyond it. */
  maxDevices: number;
  /** Messages waiting between MQTT and the detectors; the oldest is dropped beyond it. */
  queueCapacity: number;
  /** Scores kept per device for the dashboard. */
  historyPoints: number;
  /** Largest payload accepted, in bytes. */
  maxPayloadBytes: number;
}

/** The validated configuration, with every default filled in. */
export interface GatewayConfig {
  /** MQTT settings. */
  mqtt: MqttConfig;
  /** At least one stream. */
  streams: StreamConfig[];
  /** Dashboard settings. */
  dashboard: DashboardConfig;
  /** Snapshot settings. */
  snapshots: SnapshotsConfig;
  /** Capacities. */
  limits: LimitsConfig;
}

/** Defaults of the optional keys. */
export const GATEWAY_DEFAULTS = {
  url: "mqtt://127.0.0.1:1883",
  topicPrefix: "foxtail",
  protocolVersion: 4,
  keepaliveSeconds: 30,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30000,
  maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
  fmGracePeriod: 500,
  adGracePeriod: 5000,
  learningRate: KITNET_DEFAULTS.learningRate,
  hiddenRatio: KITNET_DEFAULTS.hiddenRatio,
  tailProbability: 1e-4,
  calibrationWindow: 1000,
  dashboardHost: "127.0.0.1",
  dashboardPort: 8080,
  snapshotDir: "./state",
  intervalSeconds: 60,
  keep: 3,
  maxDevices: 256,
  queueCapacity: 4096,
  historyPoints: 2048,
  maxPayloadBytes: 65536,
} as const;

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Most damped windows per stream. */
const MAX_LAMBDAS = 16;
/** Largest decay rate: a half-life of 1 ms. */
const MAX_LAMBDA = 1000;
const FIELD_PATH = /^[^.]+(\.[^.]+)*$/;

/**
 * Checks an untrusted value (parsed JSON) as a gateway configuration and returns it with defaults
 * filled in. Throws a {@linkcode ConfigError} listing every problem, each with its key path and
 * the bad value; unknown keys are problems too.
 */
export function validateGatewayConfig(value: unknown): GatewayConfig {
  const problems = new ConfigProblems();
  const root = readObject(
    value,
    "",
    ["mqtt", "streams", "dashboard", "snapshots", "limits"],
    problems,
    false,
  ) ?? {};
  const mqtt = readMqtt(root.mqtt, problems);
  const streams = readStreams(root.streams, problems);
  const dashboard = readDashboard(root.dashboard, problems);
  const snapshots = readSnapshots(root.snapshots, problems);
  const limits = readLimits(root.limits, problems);
  problems.throwIfAny();
  return { mqtt, streams, dashboard, snapshots, limits };
}

function readMqtt(value: unknown, problems: ConfigProblems): MqttConfig {
  const p = "mqtt";
  const o = readObject(value, p, [
    "url",
    "username",
    "password",
    "clientId",
    "ca",
    "topicPrefix",
    "protocolVersion",
    "keepaliveSeconds",
    "reconnectMinMs",
    "reconnectMaxMs",
  ], problems) ?? {};
  const d = GATEWAY_DEFAULTS;
  const url = readString(o.url, `${p}.url`, problems, d.url)!;
  if (!/^(mqtts?|wss?):\/\/[^/]/.test(url)) {
    problems.add(
      `${p}.url`,
      `expected mqtt://, mqtts://, ws:// or wss:// URL, got ${describeValue(url)}`,
    );
  }
  const topicPrefix = readString(o.topicPrefix, `${p}.topicPrefix`, problems, d.topicPrefix)!;
  if (topicFilterProblem(topicPrefix) !== undefined || /[+#]/.test(topicPrefix)) {
    problems.add(
      `${p}.topicPrefix`,
      `expected topic levels without wildcards, got ${describeValue(topicPrefix)}`,
    );
  }
  const reconnectMinMs = readInteger(
    o.reconnectMinMs,
    `${p}.reconnectMinMs`,
    problems,
    d.reconnectMinMs,
    10,
  );
  const reconnectMaxMs = readInteger(
    o.reconnectMaxMs,
    `${p}.reconnectMaxMs`,
    problems,
    Math.max(d.reconnectMaxMs, reconnectMinMs),
    10,
  );
  if (reconnectMaxMs < reconnectMinMs) {
    problems.add(
      `${p}.reconnectMaxMs`,
      `must be ≥ reconnectMinMs (${reconnectMinMs}), got ${reconnectMaxMs}`,
    );
  }
  return {
    url,
    username: readOptionalString(o.username, `${p}.username`, problems),
    password: readOptionalString(o.password, `${p}.password`, problems),
    clientId: readOptionalString(o.clientId, `${p}.clientId`, problems),
    ca: readOptionalString(o.ca, `${p}.ca`, problems),
    topicPrefix,
    protocolVersion: readChoice(
      o.protocolVersion,
      `${p}.protocolVersion`,
      problems,
      [4, 5] as const,
      d.protocolVersion,
    ),
    keepaliveSeconds: readInteger(
      o.keepaliveSeconds,
      `${p}.keepaliveSeconds`,
      problems,
      d.keepaliveSeconds,
      0,
      65535,
    ),
    reconnectMinMs,
    reconnectMaxMs,
  };
}

function readStreams(value: unknown, problems: ConfigProblems): StreamConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add("streams", `expected a non-empty list of streams, got ${describeValue(value)}`);
    return [];
  }
  const streams = value.map((stream, i) => readStream(stream, `streams[${i}]`, problems));
  const seen = new Set<string>();
  streams.forEach((stream, i) => {
    if (seen.has(stream.name)) {
      problems.add(`streams[${i}].name`, `duplicate stream name ${describeValue(stream.name)}`);
    }
    seen.add(stream.name);
  });
  return streams;
}

function readStream(value: unknown, p: string, problems: ConfigProblems): StreamConfig {
  const o = readObject(
    value,
    p,
    [
      "name",
      "subscribe",
      "device",
      "qos",
      "payload",
      "features",
      "model",
      "threshold",
    ],
    problems,
    false,
  ) ?? {};
  const name = readString(o.name, `${p}.name`, problems, "") ?? "";
  if (o.name !== undefined && typeof o.name === "string" && !STREAM_NAME.test(name)) {
    problems.add(`${p}.name`, `expected 1-64 letters, digits, _ or -, got ${describeValue(name)}`);
  }
  const subscribe = readString(o.subscribe, `${p}.subscribe`, problems) ?? "";
  if (typeof o.subscribe === "string" && o.subscribe !== "") {
    const problem = topicFilterProblem(subscribe);
    if (problem !== undefined) {
      problems.add(
        `${p}.subscribe`,
        `not an MQTT topic filter (${problem}): ${describeValue(subscribe)}`,
      );
    }
  }
  const device = readString(o.device, `${p}.device`, problems) ?? "";
  if (typeof o.device === "string" && o.device !== "") {
    const problem = DeviceTopicPattern.problem(device);
    if (problem !== undefined) problems.add(`${p}.device`, `${problem}: ${describeValue(device)}`);
  }
  const payload = readPayload(o.payload, `${p}.payload`, problems);
  const features = readFeatures(o.features, `${p}.features`, problems);
  if (payload.timestampField !== undefined && features.type === "raw") {
    problems.add(
      `${p}.payload.timestampField`,
      `only "damped" features use a timestamp (features is "raw"), got ` +
        describeValue(payload.timestampField),
    );
  }
  const model = readModel(o.model, `${p}.model`, problems);
  if (model.type === "deep-ae" && o.threshold !== undefined) {
    problems.add(
      `${p}.threshold`,
      `a "deep-ae" model uses the threshold stored with it, got ${describeValue(o.threshold)}`,
    );
  }
  return {
    name,
    subscribe,
    device,
    qos: readChoice(o.qos, `${p}.qos`, problems, [0, 1] as const, 0),
    payload,
    features,
    model,
    threshold: readThreshold(
      model.type === "kitnet" ? o.threshold : {},
      `${p}.threshold`,
      problems,
    ),
  };
}

const FEATURES_HINT = `"raw", "damped" or {"type": "damped", "lambdas": [1, 0.1, 0.01]}`;

function readFeatures(value: unknown, p: string, problems: ConfigProblems): FeaturesConfig {
  if (value === undefined || value === "raw") return { type: "raw" };
  if (value === "damped") return { type: "damped", lambdas: SENSOR_LAMBDAS.slice() };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.add(p, `expected ${FEATURES_HINT}, got ${describeValue(value)}`);
    return { type: "raw" };
  }
  const o = readObject(value, p, ["type", "lambdas"], problems) ?? {};
  if (o.type === undefined) {
    problems.add(`${p}.type`, `is required ("raw" or "damped")`);
    return { type: "raw" };
  }
  const type = readChoice(o.type, `${p}.type`, problems, ["raw", "damped"] as const, "raw");
  if (type === "raw") {
    if (o.lambdas !== undefined) {
      problems.add(
        `${p}.lambdas`,
        `only "damped" features have lambdas, got ${describeValue(o.lambdas)}`,
      );
    }
    return { type: "raw" };
  }
  if (o.lambdas === undefined) return { type: "damped", lambdas: SENSOR_LAMBDAS.slice() };
  if (!Array.isArray(o.lambdas) || o.lambdas.length === 0 || o.lambdas.length > MAX_LAMBDAS) {
    problems.add(
      `${p}.lambdas`,
      `expected a list of 1 to ${MAX_LAMBDAS} decay rates (per second), got ` +
        describeValue(o.lambdas),
    );
    return { type: "damped", lambdas: SENSOR_LAMBDAS.slice() };
  }
  const lambdas = o.lambdas.map((lambda, i) =>
    readNumber(lambda, `${p}.lambdas[${i}]`, problems, 1, 0, MAX_LAMBDA)
  );
  lambdas.forEach((lambda, i) => {
    if (lambdas.indexOf(lambda) !== i) {
      problems.add(`${p}.lambdas[${i}]`, `duplicate decay rate ${describeValue(lambda)}`);
    }
  });
  return { type: "damped", lambdas };
}

function readPayload(value: unknown, p: string, problems: ConfigProblems): PayloadConfig {
  const o = readObject(
    value,
    p,
    ["format", "fields", "timestampField", "timestampUnit"],
    problems,
    false,
  ) ?? {};
  const formats = ["json", "json-array", "csv", "number"] as const;
  let format: PayloadFormat = "json";
  if (o.format === undefined) {
    problems.add(
      `${p}.format`,
      `is required (one of ${formats.map((f) => JSON.stringify(f)).join(", ")})`,
    );
  } else format = readChoice(o.format, `${p}.format`, problems, formats, "json");
  let fields: string[] = [];
  if (o.fields === undefined && format === "number") {
    fields = ["value"];
  } else if (!Array.isArray(o.fields) || o.fields.length === 0) {
    problems.add(
      `${p}.fields`,
      `expected a non-empty list of field names, got ${describeValue(o.fields)}`,
    );
  } else {
    fields = o.fields.map((field, i) => {
      if (typeof field !== "string" || field.length === 0) {
        problems.add(`${p}.fields[${i}]`, `expected a string, got ${describeValue(field)}`);
        return "";
      }
      if (format === "json" && !FIELD_PATH.test(field)) {
        problems.add(
          `${p}.fields[${i}]`,
          `expected a field path like a.b.c, got ${describeValue(field)}`,
        );
      }
      return field;
    });
    if (format === "number" && fields.length !== 1) {
      problems.add(`${p}.fields`, `a "number" payload has one field, got ${fields.length}`);
    }
    const seen = new Set<string>();
    fields.forEach((field, i) => {
      if (field !== "" && seen.has(field)) {
        problems.add(`${p}.fields[${i}]`, `duplicate field ${describeValue(field)}`);
      }
      seen.add(field);
    });
  }
  const timestampField = readOptionalString(o.timestampField, `${p}.timestampField`, problems);
  if (timestampField !== undefined) {
    const where = `${p}.timestampField`;
    if (format === "number") {
      problems.add(
        where,
        `a "number" payload has no room for a timestamp, got ${describeValue(timestampField)}`,
      );
    } else if (format === "json") {
      if (!FIELD_PATH.test(timestampField)) {
        problems.add(
          where,
          `expected a field path like a.b.c, got ${describeValue(timestampField)}`,
        );
      } else if (fields.includes(timestampField)) {
        problems.add(
          where,
          `is also one of the fields; a time is not a value: ${describeValue(timestampField)}`,
        );
      }
    } else if (!fields.includes(timestampField)) {
      problems.add(
        where,
        `expected one of the fields (the timestamp's position), got ${
          describeValue(timestampField)
        }`,
      );
    } else if (fields.length < 2) {
      problems.add(
        where,
        `the fields need a value besides the timestamp ${describeValue(timestampField)}`,
      );
    }
  }
  if (o.timestampUnit !== undefined && timestampField === undefined) {
    problems.add(
      `${p}.timestampUnit`,
      `needs a timestampField, got ${describeValue(o.timestampUnit)}`,
    );
  }
  const timestampUnit = readChoice(
    o.timestampUnit,
    `${p}.timestampUnit`,
    problems,
    ["ms", "s"] as const,
    "ms",
  );
  return timestampField === undefined
    ? { format, fields, timestampUnit }
    : { format, fields, timestampField, timestampUnit };
}

const KITNET_KEYS = [
  "maxAutoencoderSize",
  "fmGracePeriod",
  "adGracePeriod",
  "learningRate",
  "hiddenRatio",
] as const;

function readModel(value: unknown, p: string, problems: ConfigProblems): ModelConfig {
  const o = readObject(value, p, [
    "type",
    "path",
    "maxAutoencoderSize",
    "fmGracePeriod",
    "adGracePeriod",
    "learningRate",
    "hiddenRatio",
  ], problems) ?? {};
  const type = readChoice(
    o.type,
    joinPath(p, "type"),
    problems,
    ["kitnet", "deep-ae"] as const,
    "kitnet",
  );
  if (type === "deep-ae") {
    for (const key of KITNET_KEYS) {
      if (o[key] !== undefined) {
        problems.add(
          `${p}.${key}`,
          `only a "kitnet" model has ${key} (a "deep-ae" model is trained already), got ` +
            describeValue(o[key]),
        );
      }
    }
    const path = readString(o.path, `${p}.path`, problems) ?? "";
    return { type: "deep-ae", path };
  }
  if (o.path !== undefined) {
    problems.add(`${p}.path`, `only a "deep-ae" model has a path, got ${describeValue(o.path)}`);
  }
  const d = GATEWAY_DEFAULTS;
  return {
    type: "kitnet",
    maxAutoencoderSize: readInteger(
      o.maxAutoencoderSize,
      `${p}.maxAutoencoderSize`,
      problems,
      d.maxAutoencoderSize,
      1,
    ),
    fmGracePeriod: readInteger(
      o.fmGracePeriod,
      `${p}.fmGracePeriod`,
      problems,
      d.fmGracePeriod,
      0,
      0xffffffff,
    ),
    adGracePeriod: readInteger(
      o.adGracePeriod,
      `${p}.adGracePeriod`,
      problems,
      d.adGracePeriod,
      1,
      0xffffffff,
    ),
    learningRate: readNumber(o.learningRate, `${p}.learningRate`, problems, d.learningRate, 0),
    hiddenRatio: readHiddenRatio(o.hiddenRatio, `${p}.hiddenRatio`, problems),
  };
}

// More hidden than visible units only learns the identity, and a large ratio allocated
// gigabytes per device (1e8 made 16 GB) once the feature map was learned.
function readHiddenRatio(value: unknown, path: string, problems: ConfigProblems): number {
  const ratio = readNumber(value, path, problems, GATEWAY_DEFAULTS.hiddenRatio, 0);
  if (ratio > 1) {
    problems.add(path, `expected a number in (0, 1], got ${describeValue(ratio)}`);
    return GATEWAY_DEFAULTS.hiddenRatio;
  }
  return ratio;
}

function readThreshold(value: unknown, p: string, problems: ConfigProblems): ThresholdConfig {
  const o = readObject(value, p, ["method", "tailProbability", "calibrationWindow"], problems) ??
    {};
  const d = GATEWAY_DEFAULTS;
  return {
    method: readChoice(o.method, `${p}.method`, problems, ["lognormal"] as const, "lognormal"),
    tailProbability: readNumber(
      o.tailProbability,
      `${p}.tailProbability`,
      problems,
      d.tailProbability,
      0,
      1,
    ),
    calibrationWindow: readInteger(
      o.calibrationWindow,
      `${p}.calibrationWindow`,
      problems,
      d.calibrationWindow,
      2,
      0xffffffff,
    ),
  };
}

function readDashboard(value: unknown, problems: ConfigProblems): DashboardConfig {
  const p = "dashboard";
  const o = readObject(value, p, ["enabled", "host", "port", "token"], problems) ?? {};
  let enabled = true;
  if (o.enabled !== undefined) {
    if (typeof o.enabled === "boolean") enabled = o.enabled;
    else problems.add(`${p}.enabled`, `expected true or false, got ${describeValue(o.enabled)}`);
  }
  const token = readOptionalString(o.token, `${p}.token`, problems);
  if (token !== undefined && token.length < 16) {
    problems.add(`${p}.token`, `expected at least 16 characters, got ${token.length}`);
  }
  return {
    enabled,
    host: readString(o.host, `${p}.host`, problems, GATEWAY_DEFAULTS.dashboardHost)!,
    port: readInteger(o.port, `${p}.port`, problems, GATEWAY_DEFAULTS.dashboardPort, 0, 65535),
    token,
  };
}

function readSnapshots(value: unknown, problems: ConfigProblems): SnapshotsConfig {
  const p = "snapshots";
  const o = readObject(value, p, ["dir", "intervalSeconds", "keep"], problems) ?? {};
  const d = GATEWAY_DEFAULTS;
  return {
    dir: readString(o.dir, `${p}.dir`, problems, d.snapshotDir)!,
    // 0 is allowed: snapshots only on shutdown.
    intervalSeconds: o.intervalSeconds === 0
      ? 0
      : readNumber(o.intervalSeconds, `${p}.intervalSeconds`, problems, d.intervalSeconds, 0),
    keep: readInteger(o.keep, `${p}.keep`, problems, d.keep, 1, 1000),
  };
}

function readLimits(value: unknown, problems: ConfigProblems): LimitsConfig {
  const p = "limits";
  const o = readObject(
    value,
    p,
    ["maxDevices", "queueCapacity", "historyPoints", "maxPayloadBytes"],
    problems,
  ) ?? {};
  const d = GATEWAY_DEFAULTS;
  return {
    maxDevices: readInteger(o.maxDevices, `${p}.maxDevices`, problems, d.maxDevices, 1, 1_000_000),
    queueCapacity: readInteger(
      o.queueCapacity,
      `${p}.queueCapacity`,
      problems,
      d.queueCapacity,
      1,
      10_000_000,
    ),
    historyPoints: readInteger(
      o.historyPoints,
      `${p}.historyPoints`,
      problems,
      d.historyPoints,
      1,
      10_000_000,
    ),
    maxPayloadBytes: readInteger(
      o.maxPayloadBytes,
      `${p}.maxPayloadBytes`,
      problems,
      d.maxPayloadBytes,
      1,
      256 * 1024 * 1024,
    ),
  };
}
