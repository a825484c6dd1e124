/**
 * What the detection pipeline reads from the gateway's configuration: the `streams` (which
 * topics, how their payloads decode, what the model sees, the model, the threshold) and the
 * `limits`. Transport, dashboard and snapshot settings are the adapters' (see
 * `adapters/gateway/gateway_config.ts`). Every mistake is named by key path and bad value.
 *
 * @module
 */

import type { ModelOptions } from "../detector.ts";
import { HST_DEFAULTS, HST_LIMITS, HST_OPTION_KEYS } from "../hst/mod.ts";
import { KITNET_DEFAULTS, KITNET_KERNELS, type KitNETKernelChoice } from "../kitnet/mod.ts";
import {
  ConfigProblems,
  describeValue,
  joinPath,
  keyPath,
  type KeyReaders,
  keyReaders,
  readChoice,
  readNumber,
  readObject,
  readOptionalString,
  readString,
} from "./config_reader.ts";
import { DeviceTopicPattern, topicFilterProblem } from "./device_topic.ts";
import { SENSOR_LAMBDAS } from "./damped_features.ts";

/** How a stream's payload is written. */
export type PayloadFormat = "json" | "json-array" | "csv" | "number";

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

/** KitNET's options for every device of a stream (as read: every key present). */
export interface KitNETModelConfig extends ModelOptions {
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
  /** Which arithmetic runs the autoencoders (`KitNETOptions.kernel`); every one gives the same bits. */
  kernel: KitNETKernelChoice;
}

/** A trained deep autoencoder (from `foxtail train`) shared by every device of a stream. */
export interface DeepAeModelConfig extends ModelOptions {
  /** The model kind. */
  type: "deep-ae";
  /** The model file, read by the adapter at start. */
  path: string;
}

/** Half-Space Trees learned per device (as read: every key present; `ranges` may be empty). */
export interface HSTModelConfig extends ModelOptions {
  /** The model kind. */
  type: "hst";
  /** Number of trees. */
  trees: number;
  /** Splits from root to leaf. */
  height: number;
  /** Instances per window. */
  window: number;
  /** Instances that learn the ranges not given. */
  warmUp: number;
  /** Seed of the splits. */
  seed: number;
  /** Known [min, max] ranges by model input name. */
  ranges: Record<string, [number, number]>;
}

/** A stream's model: KitNET or Half-Space Trees learned per device, or a trained deep autoencoder. */
export type ModelConfig = KitNETModelConfig | DeepAeModelConfig | HSTModelConfig;

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

/** How alerts become incidents. */
export interface IncidentsConfig {
  /** Seconds without an alert that close a device's incident (above 0, at most a week). */
  quietSeconds: number;
  /** Closed incidents kept (the oldest is overwritten beyond it). */
  keep: number;
}

/** The pipeline's part of the configuration, validated, with every default filled in. */
export interface PipelineConfig {
  /** At least one stream. */
  streams: StreamConfig[];
  /** Capacities. */
  limits: LimitsConfig;
  /** Incidents. */
  incidents: IncidentsConfig;
}

/** Defaults of the pipeline's optional keys. */
export const PIPELINE_DEFAULTS = {
  maxAutoencoderSize: KITNET_DEFAULTS.maxAutoencoderSize,
  // Shorter than KitNET's own grace periods: a sensor should be watched within minutes.
  fmGracePeriod: 500,
  adGracePeriod: 5000,
  learningRate: KITNET_DEFAULTS.learningRate,
  hiddenRatio: KITNET_DEFAULTS.hiddenRatio,
  tailProbability: 1e-4,
  calibrationWindow: 1000,
  maxDevices: 256,
  queueCapacity: 4096,
  // The live chart's reach (older scores are in the downsampled hour and day); a point costs
  // 25 bytes per device, and a device's whole budget is 16 KB.
  historyPoints: 120,
  maxPayloadBytes: 65536,
  // Long enough that a fault's alerts, which come and go, make one incident.
  incidentQuietSeconds: 30,
  incidentsKept: 500,
} as const;

/** The top-level keys {@linkcode readPipelineConfig} reads. */
export const PIPELINE_KEYS: readonly string[] = ["streams", "limits", "incidents"];

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Most damped windows per stream. */
const MAX_LAMBDAS = 16;
/** Largest decay rate: a half-life of 1 ms. */
const MAX_LAMBDA = 1000;
const FIELD_PATH = /^[^.]+(\.[^.]+)*$/;

/**
 * Checks an untrusted value (parsed JSON) holding only {@linkcode PIPELINE_KEYS} and returns it
 * with defaults filled in. Throws a {@linkcode ConfigError} listing every problem, each with its
 * key path and the bad value; unknown keys are problems too.
 */
export function validatePipelineConfig(value: unknown): PipelineConfig {
  const problems = new ConfigProblems();
  const root = readObject(value, "", PIPELINE_KEYS, problems, false) ?? {};
  const config = readPipelineConfig(root, problems);
  problems.throwIfAny();
  return config;
}

/**
 * Reads `root.streams`, `root.limits` and `root.incidents` into `problems`, for a caller that reads the rest of
 * the same file (and has checked `root`'s own keys).
 */
export function readPipelineConfig(
  root: Record<string, unknown>,
  problems: ConfigProblems,
): PipelineConfig {
  return {
    streams: readStreams(root.streams, problems),
    limits: readLimits(root.limits, problems),
    incidents: readIncidents(root.incidents, problems),
  };
}

function readIncidents(value: unknown, problems: ConfigProblems): IncidentsConfig {
  const keys = ["quietSeconds", "keep"];
  const section = readObject(value, "incidents", keys, problems) ?? {};
  const read = keyReaders(section, "incidents", problems);
  const d = PIPELINE_DEFAULTS;
  return {
    quietSeconds: read.number("quietSeconds", d.incidentQuietSeconds, 0, 7 * 86_400),
    keep: read.integer("keep", d.incidentsKept, 1, 100_000),
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

const STREAM_KEYS = [
  "name",
  "subscribe",
  "device",
  "qos",
  "payload",
  "features",
  "model",
  "threshold",
];

function readStream(value: unknown, p: string, problems: ConfigProblems): StreamConfig {
  const o = readObject(value, p, STREAM_KEYS, problems, false) ?? {};
  const name = readString(o.name, `${p}.name`, problems, "") ?? "";
  if (typeof o.name === "string" && !STREAM_NAME.test(name)) {
    problems.add(`${p}.name`, `expected 1-64 letters, digits, _ or -, got ${describeValue(name)}`);
  }
  const subscribe = readString(o.subscribe, `${p}.subscribe`, problems) ?? "";
  const filterProblem = subscribe === "" ? undefined : topicFilterProblem(subscribe);
  if (filterProblem !== undefined) {
    problems.add(
      `${p}.subscribe`,
      `not an MQTT topic filter (${filterProblem}): ${describeValue(subscribe)}`,
    );
  }
  const device = readString(o.device, `${p}.device`, problems) ?? "";
  const patternProblem = device === "" ? undefined : DeviceTopicPattern.problem(device);
  if (patternProblem !== undefined) {
    problems.add(`${p}.device`, `${patternProblem}: ${describeValue(device)}`);
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
    // A deep autoencoder brings its own threshold (one given here is refused above).
    threshold: readThreshold(model.type !== "deep-ae" ? o.threshold : {}, `${p}.threshold`),
  };

  function readThreshold(value: unknown, p: string): ThresholdConfig {
    const keys = ["method", "tailProbability", "calibrationWindow"];
    const read = keyReaders(readObject(value, p, keys, problems) ?? {}, p, problems);
    const d = PIPELINE_DEFAULTS;
    return {
      method: read.choice("method", ["lognormal"] as const, "lognormal"),
      tailProbability: read.number("tailProbability", d.tailProbability, 0, 1),
      calibrationWindow: read.integer("calibrationWindow", d.calibrationWindow, 2, 0xffffffff),
    };
  }
}

const FEATURES_HINT = `"raw", "damped" or {"type": "damped", "lambdas": [1, 0.1, 0.01]}`;

function readFeatures(value: unknown, p: string, problems: ConfigProblems): FeaturesConfig {
  const raw: FeaturesConfig = { type: "raw" };
  const damped = (): FeaturesConfig => ({ type: "damped", lambdas: SENSOR_LAMBDAS.slice() });
  if (value === undefined || value === "raw") return raw;
  if (value === "damped") return damped();
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.add(p, `expected ${FEATURES_HINT}, got ${describeValue(value)}`);
    return raw;
  }
  const o = readObject(value, p, ["type", "lambdas"], problems) ?? {};
  if (o.type === undefined) {
    problems.add(`${p}.type`, `is required ("raw" or "damped")`);
    return raw;
  }
  if (readChoice(o.type, `${p}.type`, problems, ["raw", "damped"] as const, "raw") === "raw") {
    if (o.lambdas !== undefined) {
      problems.add(
        `${p}.lambdas`,
        `only "damped" features have lambdas, got ${describeValue(o.lambdas)}`,
      );
    }
    return raw;
  }
  if (o.lambdas === undefined) return damped();
  if (!Array.isArray(o.lambdas) || o.lambdas.length === 0 || o.lambdas.length > MAX_LAMBDAS) {
    problems.add(
      `${p}.lambdas`,
      `expected a list of 1 to ${MAX_LAMBDAS} decay rates (per second), got ` +
        describeValue(o.lambdas),
    );
    return damped();
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

const PAYLOAD_FORMATS = ["json", "json-array", "csv", "number"] as const;

function readPayload(value: unknown, p: string, problems: ConfigProblems): PayloadConfig {
  const keys = ["format", "fields", "timestampField", "timestampUnit"];
  const o = readObject(value, p, keys, problems, false) ?? {};
  let format: PayloadFormat = "json";
  if (o.format === undefined) {
    const list = PAYLOAD_FORMATS.map((f) => JSON.stringify(f)).join(", ");
    problems.add(`${p}.format`, `is required (one of ${list})`);
  } else format = readChoice(o.format, `${p}.format`, problems, PAYLOAD_FORMATS, "json");
  const fields = readFields(o.fields, format, `${p}.fields`, problems);
  const timestampField = readOptionalString(o.timestampField, `${p}.timestampField`, problems);
  if (timestampField !== undefined) {
    const problem = timestampProblem(timestampField, format, fields);
    if (problem !== undefined) problems.add(`${p}.timestampField`, problem);
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

function readFields(
  value: unknown,
  format: PayloadFormat,
  p: string,
  problems: ConfigProblems,
): string[] {
  if (value === undefined && format === "number") return ["value"];
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(p, `expected a non-empty list of field names, got ${describeValue(value)}`);
    return [];
  }
  const fields = value.map((field, i) => {
    if (typeof field !== "string" || field.length === 0) {
      problems.add(`${p}[${i}]`, `expected a string, got ${describeValue(field)}`);
      return "";
    }
    if (format === "json" && !FIELD_PATH.test(field)) {
      problems.add(`${p}[${i}]`, `expected a field path like a.b.c, got ${describeValue(field)}`);
    }
    return field;
  });
  if (format === "number" && fields.length !== 1) {
    problems.add(p, `a "number" payload has one field, got ${fields.length}`);
  }
  fields.forEach((field, i) => {
    if (field !== "" && fields.indexOf(field) !== i) {
      problems.add(`${p}[${i}]`, `duplicate field ${describeValue(field)}`);
    }
  });
  return fields;
}

/** Why `field` cannot be the timestamp of a `format` payload with these `fields`, if it cannot. */
function timestampProblem(
  field: string,
  format: PayloadFormat,
  fields: readonly string[],
): string | undefined {
  const got = describeValue(field);
  if (format === "number") return `a "number" payload has no room for a timestamp, got ${got}`;
  if (format === "json") {
    if (!FIELD_PATH.test(field)) return `expected a field path like a.b.c, got ${got}`;
    if (fields.includes(field)) return `is also one of the fields; a time is not a value: ${got}`;
    return undefined;
  }
  // json-array and csv: the timestamp is one of the positions, and a value must remain.
  if (!fields.includes(field)) {
    return `expected one of the fields (the timestamp's position), got ${got}`;
  }
  if (fields.length < 2) return `the fields need a value besides the timestamp ${got}`;
  return undefined;
}

function readLimits(value: unknown, problems: ConfigProblems): LimitsConfig {
  const keys = ["maxDevices", "queueCapacity", "historyPoints", "maxPayloadBytes"];
  const read = keyReaders(readObject(value, "limits", keys, problems) ?? {}, "limits", problems);
  const d = PIPELINE_DEFAULTS;
  return {
    maxDevices: read.integer("maxDevices", d.maxDevices, 1, 1_000_000),
    queueCapacity: read.integer("queueCapacity", d.queueCapacity, 1, 10_000_000),
    historyPoints: read.integer("historyPoints", d.historyPoints, 1, 10_000_000),
    maxPayloadBytes: read.integer("maxPayloadBytes", d.maxPayloadBytes, 1, 256 * 1024 * 1024),
  };
}

// ---------------------------------------------------------------------------------------------
// The model section: KitNET's options or a trained deep autoencoder's file. Kept apart so that
// it can move behind a registry of detector kinds without touching the rest of the reader.

const KITNET_KEYS = [
  "maxAutoencoderSize",
  "fmGracePeriod",
  "adGracePeriod",
  "learningRate",
  "hiddenRatio",
  "kernel",
] as const;

/** Each model type's keys besides `type`, for the messages about a key of another type. */
const MODEL_KEYS: Record<ModelConfig["type"], readonly string[]> = {
  "kitnet": KITNET_KEYS,
  "deep-ae": ["path"],
  "hst": HST_OPTION_KEYS,
};

function readModel(value: unknown, p: string, problems: ConfigProblems): ModelConfig {
  const allKeys = [...new Set(Object.values(MODEL_KEYS).flat())];
  const o = readObject(value, p, ["type", ...allKeys], problems) ?? {};
  const types = ["kitnet", "deep-ae", "hst"] as const;
  const type = readChoice(o.type, joinPath(p, "type"), problems, types, "kitnet");
  for (const key of allKeys) {
    if (o[key] === undefined || MODEL_KEYS[type].includes(key)) continue;
    const owners = types.filter((t) => MODEL_KEYS[t].includes(key)).map((t) => `"${t}"`);
    problems.add(
      `${p}.${key}`,
      `only a ${owners.join(" or ")} model has ${key} (this one is "${type}"), got ` +
        describeValue(o[key]),
    );
  }
  if (type === "deep-ae") {
    return { type: "deep-ae", path: readString(o.path, `${p}.path`, problems) ?? "" };
  }
  const read = keyReaders(o, p, problems);
  if (type === "hst") return readHstModel(o, read, p, problems);
  const d = PIPELINE_DEFAULTS;
  return {
    type: "kitnet",
    maxAutoencoderSize: read.integer("maxAutoencoderSize", d.maxAutoencoderSize, 1),
    fmGracePeriod: read.integer("fmGracePeriod", d.fmGracePeriod, 0, 0xffffffff),
    adGracePeriod: read.integer("adGracePeriod", d.adGracePeriod, 1, 0xffffffff),
    learningRate: read.number("learningRate", d.learningRate, 0),
    hiddenRatio: hiddenRatio(),
    kernel: read.choice("kernel", KITNET_KERNELS, "auto"),
  };

  // More hidden than visible units only learns the identity, and a large ratio allocated
  // gigabytes per device (1e8 made 16 GB) once the feature map was learned.
  function hiddenRatio(): number {
    const ratio = read.number("hiddenRatio", d.hiddenRatio, 0);
    if (ratio <= 1) return ratio;
    problems.add(`${p}.hiddenRatio`, `expected a number in (0, 1], got ${describeValue(ratio)}`);
    return d.hiddenRatio;
  }
}

/** Half-Space Trees' section: the options, defaults filled in; ranges checked for shape here. */
function readHstModel(
  o: Record<string, unknown>,
  read: KeyReaders,
  p: string,
  problems: ConfigProblems,
): HSTModelConfig {
  const d = HST_DEFAULTS;
  const L = HST_LIMITS;
  const ranges: Record<string, [number, number]> = {};
  const given = o.ranges ?? {};
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    problems.add(
      `${p}.ranges`,
      `expected an object of [min, max] by input name, got ${describeValue(given)}`,
    );
  }
  const entries = typeof given === "object" && given !== null && !Array.isArray(given)
    ? Object.entries(given)
    : [];
  for (const [name, range] of entries) {
    const ok = Array.isArray(range) && range.length === 2 &&
      range.every((v) => typeof v === "number" && Number.isFinite(v)) && range[0] < range[1];
    if (ok) ranges[name] = [range[0], range[1]];
    else {
      problems.add(
        keyPath(`${p}.ranges`, name),
        `expected [min, max], two finite numbers with min < max, got ${describeValue(range)}`,
      );
    }
  }
  return {
    type: "hst",
    trees: read.integer("trees", d.trees, 1, L.trees),
    height: read.integer("height", d.height, 1, L.height),
    window: read.integer("window", d.window, 1, L.window),
    warmUp: read.integer("warmUp", d.warmUp, 0, L.warmUp),
    seed: read.integer("seed", d.seed, 0, 0xffffffff),
    ranges,
  };
}
