/**
 * The gateway's score messages, as a subscriber sees them: each `{prefix}/{device}/score` is
 * matched to the device's next published message (MQTT keeps one publisher's messages to one
 * subscriber in order, and so does the gateway's queue), and the publish-to-score latency goes
 * into a fixed histogram. Also follows mosquitto's count of dropped messages (`$SYS`).
 *
 * Matching by order is exact while nothing is dropped; when the gateway's queue drops a device's
 * message, that device's later scores are matched to earlier messages than their own, so the
 * latency read is an upper bound until {@linkcode ScoreWatcher.resync}.
 *
 * @module
 */

import mqtt from "mqtt";
import { LatencyHistogram } from "./latency_histogram.ts";
import type { SendLog } from "./send_log.ts";
import { noDelay } from "./load_config.ts";

/** mosquitto's running count of messages it dropped (published when it changes). */
const BROKER_DROPPED = "$SYS/broker/publish/messages/dropped";
/** mosquitto's uptime: published every `sys_interval`, after the counters of the same round. */
const BROKER_UPTIME = "$SYS/broker/uptime";

/** Scores received, matched to their messages. */
export class ScoreWatcher {
  /** Publish-to-score latencies since the last {@linkcode resync}. */
  readonly histogram: LatencyHistogram = new LatencyHistogram();
  /**
   * From the gateway receiving a message (the score's `ts`, whole milliseconds of the same
   * clock) to its score arriving here: exact even when the queue drops, since it needs no
   * matching.
   */
  readonly inGateway: LatencyHistogram = new LatencyHistogram();
  /** Scores received since the last {@linkcode resync}. */
  received = 0;
  /** Scores that matched no remembered message (beyond the send log's reach). */
  unmatched = 0;
  /** Scores received for topics of unknown devices. */
  strangers = 0;
  /** When the first and the last score since the last resync arrived (`performance.now()`). */
  firstAt = NaN;
  lastAt = NaN;
  /** mosquitto's dropped-message count, as last reported (NaN before its first report). */
  brokerDropped = NaN;
  /** `$SYS` rounds seen (uptime reports). */
  brokerRounds = 0;
  readonly #client: mqtt.MqttClient;
  readonly #log: SendLog;
  readonly #index: Map<string, number>;
  readonly #next: Float64Array; // per device: the sequence number its next score belongs to
  readonly #byDevice: Float64Array; // per device: scores since the last resync
  readonly #prefixLength: number;

  private constructor(
    client: mqtt.MqttClient,
    log: SendLog,
    ids: readonly string[],
    prefix: string,
  ) {
    this.#client = client;
    this.#log = log;
    this.#index = new Map(ids.map((id, i) => [id, i]));
    this.#next = new Float64Array(ids.length);
    this.#byDevice = new Float64Array(ids.length);
    this.#prefixLength = prefix.length + 1;
    client.on("message", (topic, payload) => this.#take(topic, payload));
  }

  /**
   * Subscribes to `{prefix}/+/score` and mosquitto's dropped count; `ids[i]` is the id of the
   * device the send log calls `i`.
   */
  static async connect(
    url: string,
    log: SendLog,
    ids: readonly string[],
    prefix: string,
  ): Promise<ScoreWatcher> {
    const client = await mqtt.connectAsync(url, {
      clientId: `foxtail-load-watch-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 0,
    });
    noDelay(client);
    const watcher = new ScoreWatcher(client, log, ids, prefix);
    await client.subscribeAsync([`${prefix}/+/score`, BROKER_DROPPED, BROKER_UPTIME], { qos: 0 });
    // The retained count follows the subscription's acknowledgement.
    const deadline = Date.now() + 10_000;
    while (Number.isNaN(watcher.brokerDropped) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return watcher;
  }

  /**
   * Starts a new measurement: every device's next score is taken to belong to its next message,
   * and the histogram and counts restart. Call it only once every score owed has arrived (or
   * its message is known dropped).
   */
  resync(): void {
    for (let d = 0; d < this.#next.length; d++) this.#next[d] = this.#log.sent(d);
    this.#byDevice.fill(0);
    this.histogram.reset();
    this.inGateway.reset();
    this.received = 0;
    this.unmatched = 0;
    this.firstAt = NaN;
    this.lastAt = NaN;
  }

  #take(topic: string, payload: Uint8Array): void {
    const now = performance.now();
    if (topic === BROKER_DROPPED) {
      this.brokerDropped = Number(new TextDecoder().decode(payload));
      return;
    }
    if (topic === BROKER_UPTIME) {
      this.brokerRounds++;
      return;
    }
    const device = this.#index.get(topic.slice(this.#prefixLength, -6)); // minus "/score"
    if (device === undefined) {
      this.strangers++;
      return;
    }
    this.received++;
    this.#byDevice[device]++;
    if (Number.isNaN(this.firstAt)) this.firstAt = now;
    this.lastAt = now;
    const receivedAt = scoreTime(payload);
    if (receivedAt > 0) this.inGateway.record(Date.now() - receivedAt);
    const sentAt = this.#log.timeOf(device, this.#next[device]++);
    if (Number.isNaN(sentAt)) this.unmatched++;
    else this.histogram.record(now - sentAt);
  }

  /** Scores received for device number `device` since the last {@linkcode resync}. */
  receivedBy(device: number): number {
    return this.#byDevice[device];
  }

  /**
   * Resolves after `rounds` more `$SYS` rounds (so {@linkcode brokerDropped} covers everything
   * before the call), or after `timeoutMs` when mosquitto stays silent.
   */
  async brokerCatchUp(rounds = 2, timeoutMs = 10_000): Promise<void> {
    const target = this.brokerRounds + rounds;
    const deadline = Date.now() + timeoutMs;
    while (this.brokerRounds < target && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Unsubscribes and disconnects. */
  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}

const OPEN = '{"ts":';

/** The `ts` a score payload starts with (`{"ts":1700000000000,…`), read in place; NaN if absent. */
function scoreTime(payload: Uint8Array): number {
  for (let i = 0; i < OPEN.length; i++) if (payload[i] !== OPEN.charCodeAt(i)) return NaN;
  let value = 0;
  let i = OPEN.length;
  for (; i < payload.length && payload[i] >= 48 && payload[i] <= 57; i++) {
    value = value * 10 + (payload[i] - 48);
  }
  return i === OPEN.length || payload[i] !== 44 ? NaN : value; // 44: ","
}
