/**
 * One partition held by this instance: its engine (every device of the partition), the ordered
 * consumer that feeds it from the stream, and the stream sequence consumed up to. Messages are
 * scored with their stream timestamp as arrival time, so a new owner replaying the stream from a
 * snapshot computes exactly the scores the old owner did.
 *
 * @module
 */

import type { JetStreamClient } from "@nats-io/jetstream";
import { DeliverPolicy } from "@nats-io/jetstream";
import { GatewayEngine, type GatewayOutput } from "../../core/gateway/mod.ts";
import { devicePartition } from "../../core/cluster/mod.ts";
import type { GatewayConfig } from "../gateway/mod.ts";

/** The stream holding the partitioned telemetry. */
export const TELEMETRY_STREAM = "FOXTAIL_TELEMETRY";

/** How long one pull waits for messages; the client's heartbeats come at half of it. */
const PULL_EXPIRES_MS = 4000;
/** Missed heartbeats after which a consumer is taken for dead and replaced. */
const MISSED_HEARTBEATS = 2;

/** Why a partition's models started afresh although a snapshot was there. */
export interface PartitionReset {
  /** The partition. */
  partition: number;
  /** Why. */
  reason: string;
  /** When (the clock's milliseconds). */
  at: number;
}

/** How to build a {@linkcode PartitionWorker}. */
export interface PartitionWorkerOptions {
  /** The partition. */
  partition: number;
  /** The partition count. */
  partitions: number;
  /** The configuration (its streams score the partition's devices). */
  config: GatewayConfig;
  /** Where the engine's verdicts go; `sequence()` is the input's stream sequence meanwhile. */
  output: GatewayOutput;
  /** Deep autoencoder model files, by path. */
  models: ReadonlyMap<string, Uint8Array>;
  /** Whether this instance still trusts its lease: checked before every message. */
  holds: () => boolean;
  /** Log lines. */
  log: (line: string) => void;
}

/** The sensors' MQTT topic of a device, as the configured streams match it. */
export function sensorTopic(device: string): string {
  return `sensors/${device}/telemetry`;
}

/** One held partition: restore, consume, snapshot, stop. */
export class PartitionWorker {
  /** The partition. */
  readonly partition: number;
  /** Its devices' engine. */
  readonly engine: GatewayEngine;
  /** The stream sequence scored up to (included); 0 before the first. */
  consumed = 0;
  /** The stream's last sequence in this partition as last seen, for the lag. */
  lastSeen = 0;
  /** The stream time of the last message scored (milliseconds since the epoch); 0 before. */
  lastAt = 0;
  /** Messages in this partition whose device belongs to another (written there directly). */
  misplaced = 0;
  /** Consumers replaced because they went silent. */
  restarts = 0;
  readonly #options: PartitionWorkerOptions;
  readonly #subject: string;
  #stop: (() => Promise<void>) | undefined;
  #replace: ((reason: string) => void) | undefined;
  #done: Promise<void> | undefined;
  #current = 0;
  #from = 1;

  constructor(options: PartitionWorkerOptions) {
    this.#options = options;
    this.partition = options.partition;
    this.#subject = `foxtail.telemetry.${options.partition}.*`;
    this.engine = new GatewayEngine(options.config, options.output, options.models);
  }

  /** The stream sequence of the message being scored (for the outputs). */
  get sequence(): number {
    return this.#current;
  }

  /**
   * Restores `state` (a snapshot taken at `sequence`), or starts afresh when it is null; returns
   * the reset's reason when the stream no longer holds the messages after the snapshot. Throws a
   * `RangeError` (the engine unchanged) when the snapshot's contents are corrupt.
   */
  restore(
    state: { bytes: Uint8Array; sequence: number } | null,
    firstSequence: number,
  ): string | undefined {
    this.#from = Math.max(firstSequence, 1);
    if (state === null) return undefined;
    if (state.sequence + 1 < firstSequence) {
      return `its snapshot ends at sequence ${state.sequence}, but the stream now starts at ` +
        `${firstSequence} (retention removed the messages between): its models start afresh`;
    }
    const report = this.engine.restore(state.bytes);
    for (const line of report.skipped) this.#options.log(`partition ${this.partition}: ${line}`);
    this.consumed = state.sequence;
    this.#from = state.sequence + 1;
    return undefined;
  }

  /**
   * Starts consuming the partition from the sequence after the restored state; resolves once
   * the first consumer is created.
   *
   * A consumer that goes silent (its heartbeats missed: it was on a node that died) is replaced
   * by a new one from the sequence after the last scored. The client's ordered consumer does not
   * do this by itself, and nats-server 2.9 keeps such a consumer assigned to the dead node.
   */
  async consume(js: JetStreamClient): Promise<void> {
    let messages = await this.#open(js);
    let stopping = false;
    // Why the current consumer is being replaced, once it is.
    let replacing: string | undefined;
    this.#replace = (reason) => {
      if (stopping || replacing !== undefined) return;
      replacing = reason;
      messages.close().catch(() => {});
    };
    this.#stop = async () => {
      stopping = true;
      await messages.close();
      await this.#done;
    };
    this.#done = (async () => {
      for (;;) {
        replacing = undefined;
        (async () => {
          for await (const status of messages.status()) {
            if (status.type === "heartbeats_missed" && status.count >= MISSED_HEARTBEATS) {
              this.#replace?.(`${MISSED_HEARTBEATS} heartbeats missed`);
              break;
            }
          }
        })().catch(() => {});
        for await (const m of messages) {
          if (stopping) return;
          if (!this.#options.holds()) {
            this.#options.log(
              `partition ${this.partition}: lease no longer trusted; stops scoring`,
            );
            return;
          }
          this.#take(m.subject, m.data, m.seq, m.time.getTime(), m.info.pending);
        }
        if (stopping || replacing === undefined) return;
        this.restarts++;
        this.#options.log(
          `partition ${this.partition}: consumer replaced (${replacing}); a new one from ` +
            `sequence ${this.consumed + 1}`,
        );
        for (let attempt = 1; !stopping; attempt++) {
          try {
            messages = await this.#open(js);
            break;
          } catch (error) {
            const delay = Math.min(5000, 250 * 2 ** attempt);
            this.#options.log(
              `partition ${this.partition}: a new consumer failed (${(error as Error).message}); ` +
                `retrying in ${delay} ms`,
            );
            await new Promise((resolve) => setTimeout(resolve, delay));
          }
        }
      }
    })().catch((error) => {
      this.#options.log(
        `partition ${this.partition}: consumer failed: ${(error as Error).message}`,
      );
    });
  }

  /**
   * Replaces the consumer by a new one from the sequence after the last scored, as after missed
   * heartbeats: after a reconnect, a consumer may go quiet without missing any (nats-server 2.9).
   */
  replaceConsumer(reason: string): void {
    this.#replace?.(reason);
  }

  /** An ordered consumer of the partition from the sequence after the last scored. */
  async #open(js: JetStreamClient) {
    const consumer = await js.consumers.get(TELEMETRY_STREAM, {
      filter_subjects: this.#subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(this.#from, this.consumed + 1),
    });
    // Pulls that expire every few seconds: the heartbeats (half of that) notice a dead node.
    return await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
  }

  /**
   * The time to close quiet incidents at: while behind the stream (a new owner replaying), the
   * last scored message's stream time, so the replay closes exactly what the old owner closed
   * (an incident closed by the clock mid-replay would be split by the alerts replayed after it);
   * once caught up, `now`.
   */
  sweepTime(now: number): number {
    return this.lastSeen > this.consumed ? this.lastAt : now;
  }

  #take(subject: string, data: Uint8Array, seq: number, at: number, pending: number): void {
    this.lastSeen = seq + pending;
    if (seq <= this.consumed) return; // already scored before a consumer restart
    this.lastAt = at;
    const dot = subject.lastIndexOf(".");
    const device = subject.slice(dot + 1);
    this.#current = seq;
    if (devicePartition(device, this.#options.partitions) !== this.partition) {
      this.misplaced++;
    } else {
      this.engine.receive(sensorTopic(device), data, at);
      this.engine.drain();
    }
    this.consumed = seq;
  }

  /** Stops consuming; resolves once no message is being scored. */
  async stop(): Promise<void> {
    await this.#stop?.();
    this.#stop = undefined;
    this.#replace = undefined;
  }
}
