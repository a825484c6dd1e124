/**
 * The gateway's MQTT connection (MQTT.js): connects with credentials and TLS, reconnects with
 * doubling back-off, subscribes to every stream on each (re)connect, keeps a retained
 * `{prefix}/status` (`online`, and `offline` as the last will), and publishes scores (QoS 0)
 * and alerts (QoS 1). Over TCP and TLS, the scores made in one turn of the event loop go out as
 * one write of ready-made packets (see {@link ./publish_packets.ts}).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import type { StreamConfig } from "../../core/gateway/mod.ts";
import type { MqttConfig } from "./mqtt_config.ts";
import { PublishPacketBatch } from "./publish_packets.ts";

const QOS0 = { qos: 0 } as const;
const QOS1 = { qos: 1 } as const;
const QOS1_RETAINED = { qos: 1, retain: true } as const;

/** Alerts held while disconnected; beyond it the oldest is dropped (and counted). */
export const PENDING_ALERTS = 256;

/**
 * Bytes waiting in the connection's send buffer beyond which the link is
 * {@linkcode MqttLink.congested}: about 2,000 scores. Without a limit, a broker that reads
 * slower than the gateway scores would grow the buffer (and the gateway's memory) without bound.
 */
export const SEND_BUFFER_LIMIT = 256 * 1024;

/** How often a paused producer checks the send buffer, besides waiting for its "drain" event. */
const SEND_POLL_MS = 25;

/**
 * How long {@linkcode MqttLink.stop} waits for the broker (the `offline` status acknowledged,
 * the alerts in flight acknowledged, the disconnect) before closing the connection forcibly: a
 * stop must end however the broker behaves.
 */
export const STOP_GRACE_MS = 2_000;

/** What {@linkcode MqttLink.stop} could not send. */
export interface MqttStopReport {
  /**
   * Publishes dropped: alerts held while disconnected, and QoS 1 publishes the broker had not
   * acknowledged when the connection closed (the `offline` status aside: the last will says it).
   */
  dropped: number;
  /** Whether the connection was closed forcibly (the broker was away or did not answer). */
  forced: boolean;
}

/** What the link tells its owner. */
export interface MqttLinkEvents {
  /** A telemetry message arrived. */
  message(topic: string, payload: Uint8Array): void;
  /** A line for the log. */
  log(line: string): void;
}

/** Connection counters. */
export interface MqttLinkStats {
  /** Whether connected now. */
  connected: boolean;
  /** Successful connects (the first one included). */
  connects: number;
  /** Reconnect attempts. */
  reconnects: number;
  /** Scores not published because the link was down. */
  scoresSkipped: number;
  /** Alerts dropped from a full pending list while the link was down. */
  alertsDropped: number;
  /**
   * Times scoring paused because the broker read scores slower than they were made (the send
   * buffer passed {@linkcode SEND_BUFFER_LIMIT}); meanwhile the bounded queue takes the load.
   */
  sendPauses: number;
}

/** The MQTT side of the gateway. */
export class MqttLink {
  readonly #config: MqttConfig;
  readonly #streams: readonly StreamConfig[];
  readonly #events: MqttLinkEvents;
  readonly #statusTopic: string;
  #client: mqtt.MqttClient | undefined;
  #pending: [topic: string, body: string, retain: boolean][] = [];
  /** Scores waiting for the end of this turn; undefined over WebSocket (MQTT.js publishes). */
  readonly #batch: PublishPacketBatch | undefined;
  #flushScheduled = false;
  readonly #flushSoon = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };
  readonly #stats: MqttLinkStats = {
    connected: false,
    connects: 0,
    reconnects: 0,
    scoresSkipped: 0,
    alertsDropped: 0,
    sendPauses: 0,
  };

  /**
   * `statusTopic` is where `online` and `offline` are kept (default `{prefix}/status`; a
   * cluster's instances each keep their own).
   */
  constructor(
    config: MqttConfig,
    streams: readonly StreamConfig[],
    events: MqttLinkEvents,
    statusTopic = `${config.topicPrefix}/status`,
  ) {
    this.#config = config;
    this.#streams = streams;
    this.#events = events;
    this.#statusTopic = statusTopic;
    this.#batch = /^mqtts?:/.test(config.url)
      ? new PublishPacketBatch(config.protocolVersion)
      : undefined;
  }

  /** A copy of the connection counters. */
  stats(): MqttLinkStats {
    return { ...this.#stats };
  }

  /**
   * Starts connecting and returns at once: a gateway keeps running and retrying (with back-off)
   * while its broker is away; {@linkcode whenConnected} waits for the connection.
   */
  start(): void {
    const c = this.#config;
    const options: mqtt.IClientOptions = {
      protocolVersion: c.protocolVersion,
      clientId: c.clientId ?? `foxtail-${Math.random().toString(16).slice(2, 10)}`,
      username: c.username,
      password: c.password,
      keepalive: c.keepaliveSeconds,
      reconnectPeriod: c.reconnectMinMs,
      // A refused login (bad credentials, "server unavailable") is retried with back-off like a
      // lost connection: MQTT.js would otherwise stop for good after one attempt, leaving the
      // gateway running but deaf until restarted, even once the broker accepts it again.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      clean: true,
      resubscribe: false, // subscribed on every connect instead, clean session or not
      queueQoSZero: false, // scores while offline are skipped, not queued without bound
      will: { topic: this.#statusTopic, payload: "offline", qos: 1, retain: true },
    };
    if (c.ca !== undefined) options.ca = readFileSync(c.ca);
    const client = mqtt.connect(c.url, options);
    this.#client = client;
    client.on("connect", () => this.#onConnect(client));
    client.on("reconnect", () => {
      this.#stats.reconnects++;
      // Back-off: MQTT.js reads reconnectPeriod anew before each attempt.
      client.options.reconnectPeriod = Math.min(
        (client.options.reconnectPeriod ?? c.reconnectMinMs) * 2,
        c.reconnectMaxMs,
      );
    });
    client.on("close", () => {
      if (this.#stats.connected) this.#events.log(`mqtt: disconnected from ${c.url}`);
      this.#stats.connected = false;
    });
    client.on("error", (error) => this.#events.log(this.#errorLine(client, error)));
    client.on("message", (topic, payload) => this.#events.message(topic, payload));
  }

  /**
   * The log line of a client error. One while not connected is a failed attempt to connect
   * (refused, unreachable, turned away at the login or the TLS handshake): it says when the next
   * attempt comes, the delay MQTT.js waits after the close that follows it.
   */
  #errorLine(client: mqtt.MqttClient, error: Error): string {
    if (this.#stats.connected || client.disconnecting) return `mqtt: ${error.message}`;
    const delay = client.options.reconnectPeriod ?? 0;
    const next = delay > 0 ? `retrying in ${formatDelay(delay)}` : "not retrying";
    return `mqtt: cannot connect to ${this.#config.url} (${error.message}); ${next}`;
  }

  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return Promise.reject(new Error("the MQTT link is not started"));
    if (this.#stats.connected) return Promise.resolve();
    return new Promise((resolve) => client.once("connect", () => resolve()));
  }

  #onConnect(client: mqtt.MqttClient): void {
    const c = this.#config;
    this.#stats.connected = true;
    this.#stats.connects++;
    client.options.reconnectPeriod = c.reconnectMinMs;
    // Scores already leave in one write per turn: Nagle's algorithm would only hold them back
    // (up to 40 ms, waiting on a delayed acknowledgement).
    (client.stream as { setNoDelay?: (on: boolean) => unknown }).setNoDelay?.(true);
    this.#events.log(`mqtt: connected to ${c.url}`);
    client.publish(this.#statusTopic, "online", { qos: 1, retain: true });
    for (const stream of this.#streams) {
      client.subscribe(stream.subscribe, { qos: stream.qos }, (error) => {
        this.#events.log(
          error
            ? `mqtt: cannot subscribe to ${stream.subscribe}: ${error.message}`
            : `mqtt: subscribed to ${stream.subscribe}`,
        );
      });
    }
    const pending = this.#pending;
    this.#pending = [];
    for (const [topic, body, retain] of pending) {
      client.publish(topic, body, retain ? QOS1_RETAINED : QOS1);
    }
  }

  /** Bytes waiting in the connection's send buffer (0 while disconnected). */
  get sendBufferBytes(): number {
    return this.#stats.connected ? this.#client?.stream?.writableLength ?? 0 : 0;
  }

  /**
   * Whether more than {@linkcode SEND_BUFFER_LIMIT} bytes wait to be sent: the owner should stop
   * producing until {@linkcode whenSendable} calls back. False while disconnected (scores are
   * then skipped, not buffered).
   */
  get congested(): boolean {
    return this.sendBufferBytes > SEND_BUFFER_LIMIT;
  }

  /**
   * Calls `resume` once, when the send buffer has drained or the connection has closed (or at
   * once when not {@linkcode congested}); counts a pause.
   */
  whenSendable(resume: () => void): void {
    const client = this.#client;
    const stream = client?.stream;
    if (client === undefined || stream === undefined || !this.congested) {
      resume();
      return;
    }
    this.#stats.sendPauses++;
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      clearInterval(poll);
      stream.off("drain", once);
      stream.off("close", once);
      resume();
    };
    stream.once("drain", once);
    stream.once("close", once);
    // "drain" only follows a write that returned false; a runtime whose socket took the bytes
    // with a larger high-water mark (Bun's) never emits it, so the buffer's level is watched too.
    const poll = setInterval(() => {
      if (!this.congested) once();
    }, SEND_POLL_MS);
  }

  /**
   * Publishes a score (QoS 0) at the end of this turn of the event loop, with the others made
   * in it; skipped (and counted) while disconnected.
   */
  publishScore(topic: string, body: string): void {
    const client = this.#client;
    if (client === undefined || !this.#stats.connected) {
      this.#stats.scoresSkipped++;
      return;
    }
    const batch = this.#batch;
    if (batch === undefined) {
      client.publish(topic, body, QOS0);
      return;
    }
    if (!batch.append(topic, body)) {
      this.#flush();
      if (!batch.append(topic, body)) {
        client.publish(topic, body, QOS0); // larger than a whole batch
        return;
      }
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushSoon);
    }
  }

  /** Writes the batched scores to the socket (or counts them skipped if the link went down). */
  #flush(): void {
    const batch = this.#batch;
    if (batch === undefined || batch.packets === 0) return;
    const stream = this.#client?.stream;
    if (stream === undefined || !this.#stats.connected) {
      this.#stats.scoresSkipped += batch.packets;
      batch.clear();
      return;
    }
    stream.write(batch.take());
  }

  /**
   * Publishes an alert, an incident or a state (QoS 1; `retain` for a state a later subscriber
   * must find); held (up to {@linkcode PENDING_ALERTS}, counted in `alertsDropped` beyond it)
   * while disconnected.
   */
  publishAlert(topic: string, body: string, retain = false): void {
    this.#flush(); // the scores before it go first
    const client = this.#client;
    if (client !== undefined && this.#stats.connected) {
      client.publish(topic, body, retain ? QOS1_RETAINED : QOS1);
      return;
    }
    if (this.#pending.length === PENDING_ALERTS) {
      this.#pending.shift();
      this.#stats.alertsDropped++;
    }
    this.#pending.push([topic, body, retain]);
  }

  /**
   * Publishes the retained `offline` status (when connected) and closes the connection, within
   * `graceMs` (default {@linkcode STOP_GRACE_MS}): a broker that is away or does not answer gets
   * its connection closed forcibly, and what could not be sent is dropped and counted.
   */
  async stop(graceMs: number = STOP_GRACE_MS): Promise<MqttStopReport> {
    const client = this.#client;
    if (client === undefined) return { dropped: 0, forced: false };
    this.#flush();
    this.#client = undefined;
    const held = this.#pending.length;
    this.#pending = [];
    let statusInFlight = false;
    let graceful = false;
    if (this.#stats.connected) {
      statusInFlight = true;
      client.publish(this.#statusTopic, "offline", { qos: 1, retain: true }, (error) => {
        if (!error) statusInFlight = false;
      });
      // MQTT.js ends gracefully only once every QoS 1 publish is acknowledged: a broker that
      // went away or hung would keep it (and its reconnect timer) waiting for ever.
      graceful = await settlesWithin(client.endAsync(), graceMs);
    }
    const inFlight = Object.keys(client.outgoing).length - (statusInFlight ? 1 : 0);
    if (!graceful) {
      if (this.#stats.connected) {
        this.#events.log(
          `mqtt: the broker did not answer within ${graceMs} ms; closing the connection`,
        );
      }
      // A second end() is ignored while the first waits, so the socket is destroyed directly.
      if (client.disconnecting) client.stream.destroy();
      else await settlesWithin(client.endAsync(true), graceMs);
    }
    this.#stats.connected = false;
    return { dropped: held + Math.max(0, inFlight), forced: !graceful };
  }
}

/** Whether `promise` settles within `ms` (a rejection counts as settled). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** 2000 → "2 s", 1500 → "1.5 s", 50 → "50 ms". */
function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
