/**
 * Home Assistant's MQTT discovery: per device, one binary sensor (anomaly: on while the device
 * is alerting, from its retained state topic) and one sensor (its score), both under one Home
 * Assistant device, available while the gateway's status is `online`.
 *
 * @module
 */

/** One retained discovery message. */
export interface DiscoveryMessage {
  /** `<discovery prefix>/<component>/<object id>/config`. */
  topic: string;
  /** The component's configuration, as JSON. */
  body: string;
}

/**
 * Home Assistant's object ids allow only letters, digits, `_` and `-`: any other character of a
 * device id becomes `_`, and a short hash of the whole id keeps two such ids apart.
 */
export function discoveryObjectId(device: string): string {
  const safe = device.replace(/[^A-Za-z0-9_-]/g, "_");
  if (safe === device) return `foxtail_${device}`;
  let hash = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < device.length; i++) {
    hash = Math.imul(hash ^ device.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `foxtail_${safe}_${hash.toString(16).padStart(8, "0")}`;
}

/**
 * The discovery messages of `device` (of `stream`), for a gateway publishing under
 * `topicPrefix` and Home Assistant listening under `discoveryPrefix`.
 *
 * @example
 * ```ts
 * import { discoveryMessages } from "./home_assistant.ts";
 * const [anomaly, score] = discoveryMessages("homeassistant", "foxtail", "pump-1", "plant");
 * console.log(anomaly.topic); // homeassistant/binary_sensor/foxtail_pump-1/anomaly/config
 * ```
 */
export function discoveryMessages(
  discoveryPrefix: string,
  topicPrefix: string,
  device: string,
  stream: string,
): DiscoveryMessage[] {
  const objectId = discoveryObjectId(device);
  const common = {
    availability_topic: `${topicPrefix}/status`,
    payload_available: "online",
    payload_not_available: "offline",
    device: {
      identifiers: [objectId],
      name: device,
      manufacturer: "foxtail",
      model: `stream ${stream}`,
    },
  };
  const anomaly = {
    name: "Anomaly",
    unique_id: `${objectId}_anomaly`,
    device_class: "problem",
    state_topic: `${topicPrefix}/${device}/state`,
    value_template: "{{ 'ON' if value_json.state == 'alerting' else 'OFF' }}",
    ...common,
  };
  const score = {
    name: "Anomaly score",
    unique_id: `${objectId}_score`,
    state_topic: `${topicPrefix}/${device}/score`,
    value_template: "{{ value_json.score }}",
    state_class: "measurement",
    ...common,
  };
  return [
    {
      topic: `${discoveryPrefix}/binary_sensor/${objectId}/anomaly/config`,
      body: JSON.stringify(anomaly),
    },
    { topic: `${discoveryPrefix}/sensor/${objectId}/score/config`, body: JSON.stringify(score) },
  ];
}
