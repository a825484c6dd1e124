/**
 * nats-server configurations for a foxtail cluster: JetStream, MQTT for the sensors, the subject
 * mapping that puts each device in one of P partitions, and two users (no anonymous access).
 * Written for nats-server 2.9 (Debian's), whose `partition()` mapping and MQTT layer are enough.
 *
 * @module
 */

/** The subject a sensor's MQTT telemetry arrives on (`sensors/<id>/telemetry`). */
export const SENSOR_SUBJECT = "sensors.*.telemetry";

/** Where the mapping puts it: `foxtail.telemetry.<partition>.<device>`. */
export const PARTITIONED_PREFIX = "foxtail.telemetry";
/**
 * The inbox prefix of NATS sensors (a client's `inboxPrefix`): the only subjects the sensors'
 * user may subscribe to, so a sensor publishing through JetStream gets the stream's
 * acknowledgement and nothing else (the instances' inboxes are `_INBOX.…`).
 */
export const SENSOR_INBOX_PREFIX = "_INBOX_SENSORS";

/** The subject mapping of `partitions` partitions, by the device token. */
export function partitionMapping(partitions: number): string {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions: expected a positive integer, got ${partitions}`);
  }
  return `${PARTITIONED_PREFIX}.{{partition(${partitions},1)}}.{{wildcard(1)}}`;
}

/** A user name and password. */
export interface NatsCredentials {
  user: string;
  password: string;
}

/** One node of the cluster. */
export interface NatsNodeOptions {
  /** The node's name (unique in the cluster; JetStream and MQTT need one). */
  serverName: string;
  /** Interface it listens on (default 127.0.0.1). */
  host?: string;
  /** Client port. */
  port: number;
  /** Route port, for the other nodes. */
  clusterPort: number;
  /** The other nodes' route URLs (`nats-route://host:port`). */
  routes: readonly string[];
  /** The cluster's name (default "foxtail"). */
  clusterName?: string;
  /** MQTT port. */
  mqttPort: number;
  /**
   * Copies of MQTT's own streams (sessions, retained messages), default 3: with fewer, one dead
   * node can leave them without a quorum, and new MQTT connections then wait forever.
   */
  mqttReplicas?: number;
  /** Monitoring port (/healthz, /jsz, /routez). */
  httpPort: number;
  /** JetStream's store. */
  storeDir: string;
  /** Partitions of the mapping. */
  partitions: number;
  /** The instances' user: the partitions, the stream, the leases and the snapshots. */
  gateway: NatsCredentials;
  /** The sensors' user: publishes telemetry, reads nothing. */
  publisher: NatsCredentials;
  /** NKey public keys (`U…`) with the gateway user's rights: instances that sign in by seed. */
  gatewayNkeys?: readonly string[];
  /** TLS for clients (PEM paths). */
  tls?: { cert: string; key: string; ca?: string };
}

/** A string in the configuration's syntax: quoted, with quotes and backslashes escaped. */
function quote(value: string): string {
  // The value is not echoed: it may be a password.
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) < 0x20) {
      throw new RangeError(`nats-server config: a value with a control character at index ${i}`);
    }
  }
  return JSON.stringify(value);
}

/** `key` when it is an NKey user's public key; a clear error otherwise. */
function nkeyPublicKey(key: string): string {
  if (!/^U[A-Z2-7]{55}$/.test(key)) {
    // Not echoed: a seed (`SU…`) given by mistake is a secret.
    throw new RangeError(
      `nats-server config: expected an NKey user public key ("U" and 55 base32 characters), ` +
        `got ${key.length} characters starting with ${JSON.stringify(key.slice(0, 1))}` +
        (key.startsWith("S") ? " (a seed: give its public key, never the seed)" : ""),
    );
  }
  return key;
}

function list(values: readonly string[]): string {
  return `[${values.map(quote).join(", ")}]`;
}

/**
 * The gateway user may do everything in the account (its streams, KV and object store are all
 * JetStream API and inboxes); the publisher only publishes telemetry, and receives the stream's
 * acknowledgements on its own inboxes (a NATS sensor that must know a reading was stored: MQTT
 * QoS 1 does not tell, see the README's "Scaling out"). MQTT's own bookkeeping
 * runs on internal subscriptions, not the user's permissions. nats-server checks a publish
 * against the subject after the mapping, so the publisher is allowed the partitioned subjects
 * too: a sensor could name a wrong partition for itself (the instances must check the device's
 * partition), but it can never write a lease, a snapshot or another account's subjects.
 */
export function natsNodeConfig(o: NatsNodeOptions): string {
  const host = o.host ?? "127.0.0.1";
  const lines = [
    `server_name: ${quote(o.serverName)}`,
    `host: ${quote(host)}`,
    `port: ${o.port}`,
    `http: ${quote(`${host}:${o.httpPort}`)}`,
    `jetstream {`,
    `  store_dir: ${quote(o.storeDir)}`,
    `  max_memory_store: 64MB`,
    `  max_file_store: 1GB`,
    `}`,
    `cluster {`,
    `  name: ${quote(o.clusterName ?? "foxtail")}`,
    `  listen: ${quote(`${host}:${o.clusterPort}`)}`,
    `  routes: ${list(o.routes)}`,
    `}`,
    `mqtt {`,
    `  host: ${quote(host)}`,
    `  port: ${o.mqttPort}`,
    `  stream_replicas: ${o.mqttReplicas ?? 3}`,
    `}`,
  ];
  if (o.tls !== undefined) {
    lines.push(`tls {`, `  cert_file: ${quote(o.tls.cert)}`, `  key_file: ${quote(o.tls.key)}`);
    if (o.tls.ca !== undefined) lines.push(`  ca_file: ${quote(o.tls.ca)}`);
    lines.push(`}`);
  }
  lines.push(
    `accounts {`,
    `  FOXTAIL {`,
    `    jetstream: enabled`,
    `    users: [`,
    `      { user: ${quote(o.gateway.user)}, password: ${quote(o.gateway.password)} }`,
    ...(o.gatewayNkeys ?? []).map((key) => `      { nkey: ${quote(nkeyPublicKey(key))} }`),
    `      { user: ${quote(o.publisher.user)}, password: ${quote(o.publisher.password)},`,
    `        permissions: { publish: { allow: ${
      list([SENSOR_SUBJECT, `${PARTITIONED_PREFIX}.*.*`])
    } },` +
      ` subscribe: { allow: ${list([`${SENSOR_INBOX_PREFIX}.>`])} } } }`,
    `    ]`,
    `    mappings: { ${quote(SENSOR_SUBJECT)}: ${quote(partitionMapping(o.partitions))} }`,
    `  }`,
    `}`,
    "",
  );
  return lines.join("\n");
}

/** Base options of a loopback cluster; ports are given per node. */
export interface LoopbackClusterOptions extends
  Omit<
    NatsNodeOptions,
    "serverName" | "port" | "clusterPort" | "routes" | "mqttPort" | "httpPort" | "storeDir"
  > {
  /** Per node: its ports. */
  nodes: readonly { port: number; clusterPort: number; mqttPort: number; httpPort: number }[];
  /** Each node's store is `<storeRoot>/<name>`. */
  storeRoot: string;
}

/** The configurations of an N-node loopback cluster, named n1…nN, each routed to the others. */
export function loopbackClusterConfigs(
  o: LoopbackClusterOptions,
): { name: string; config: string }[] {
  const host = o.host ?? "127.0.0.1";
  return o.nodes.map((node, i) => {
    const name = `n${i + 1}`;
    const routes = o.nodes
      .filter((_, j) => j !== i)
      .map((other) => `nats-route://${host}:${other.clusterPort}`);
    const { nodes: _nodes, storeRoot, ...base } = o;
    return {
      name,
      config: natsNodeConfig({
        ...base,
        ...node,
        serverName: name,
        routes,
        mqttReplicas: o.mqttReplicas ?? Math.min(3, o.nodes.length),
        storeDir: `${storeRoot}/${name}`,
      }),
    };
  });
}
