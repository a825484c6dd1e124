/**
 * Fixtures of the dashboard tests: a real gateway (engine, snapshot store) fed directly rather
 * than over MQTT, hostile device ids and field names, a recording view, and an event-stream
 * reader.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { validateGatewayConfig } from "../../adapters/gateway/mod.ts";
import { type GatewayEvent, GatewayRunner, type GatewayView } from "../../adapters/gateway/mod.ts";
import { SensorSignal, SMALL_LEARNING, smallConfig } from "./gateway_fixtures.ts";

/** A device id that is markup; valid as an MQTT topic level (no `/`, `+`, `#`). */
export const XSS_DEVICE = `<img src=x onerror="window['__xss']='device'">`;

/** A field name that closes the page's script and opens another (no dot: dots make a path). */
export const XSS_FIELD = `</script><script>window['__xss']='field'</script>`;

/** Fragments that must never appear raw in anything the dashboard serves. */
export const XSS_MARKERS = ["<img", "</script><script>", 'onerror="window'];

/** A gateway that is not connected to any broker, fed through {@linkcode OfflineGateway.feed}. */
export class OfflineGateway {
  /** The gateway (a {@linkcode GatewayView}). */
  readonly gateway: GatewayRunner;
  /** Its snapshot folder (a fresh temporary one). */
  readonly dir: string;
  readonly #fields: string[];
  readonly #signals = new Map<string, SensorSignal>();
  #ts = Date.UTC(2024, 0, 1);

  /**
   * A gateway of one stream of `fields`, with `model` (the fixtures' small KitNET when absent),
   * holding at most `maxDevices` devices (8 when absent).
   */
  constructor(
    fields: string[] = ["t", "h", "v"],
    model?: Record<string, unknown>,
    maxDevices?: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "foxtail-dashboard-"));
    const raw = smallConfig({ snapshots: { dir: this.dir, intervalSeconds: 0, keep: 2 } });
    if (maxDevices !== undefined) (raw.limits as Record<string, unknown>).maxDevices = maxDevices;
    const stream = (raw.streams as { payload: { fields: string[] }; model: unknown }[])[0];
    stream.payload.fields = fields;
    if (model !== undefined) stream.model = model;
    this.#fields = fields;
    this.gateway = new GatewayRunner(validateGatewayConfig(raw), { log: () => {} });
  }

  /** Scores `count` normal readings of `device` (created on its first one). */
  feed(device: string, count = 1): void {
    let signal = this.#signals.get(device);
    if (signal === undefined) {
      signal = new SensorSignal(this.#signals.size + 7);
      this.#signals.set(device, signal);
    }
    for (let i = 0; i < count; i++) this.#send(device, signal.values());
  }

  /** Teaches `device` its normal telemetry until it executes (flags anomalies). */
  learn(device: string): void {
    this.feed(device, SMALL_LEARNING + 10);
    assert.equal(this.gateway.engine.device(device)?.phase, "executing");
  }

  /** Scores one reading far outside the normal; returns whether it raised an alert. */
  fault(device: string): boolean {
    const before = this.gateway.recentAlerts().length;
    this.#send(device, [80, 45, 0.4]);
    return this.gateway.recentAlerts().length > before;
  }

  #send(device: string, values: number[]): void {
    const body: Record<string, number> = {};
    this.#fields.forEach((field, i) => body[field] = values[i]);
    const payload = new TextEncoder().encode(JSON.stringify(body));
    this.gateway.engine.receive(`sensors/${device}/telemetry`, payload, this.#ts += 1000);
    this.gateway.engine.drain();
  }

  /** Removes the snapshot folder. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A view over another that counts its live subscriptions and can emit events itself. */
export class CountingView implements GatewayView {
  readonly #inner: GatewayView;
  readonly #listeners = new Set<(event: GatewayEvent) => void>();

  constructor(inner: GatewayView) {
    this.#inner = inner;
  }

  /** Subscriptions open now (the inner view's included). */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Sends `event` to this view's subscribers. */
  emit(event: GatewayEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  status: GatewayView["status"] = () => this.#inner.status();
  devices: GatewayView["devices"] = () => this.#inner.devices();
  deviceScores: GatewayView["deviceScores"] = (id, limit) => this.#inner.deviceScores(id, limit);
  recentAlerts: GatewayView["recentAlerts"] = () => this.#inner.recentAlerts();
  deviceHistory: GatewayView["deviceHistory"] = (id, range) => this.#inner.deviceHistory(id, range);
  incidents: GatewayView["incidents"] = (query) => this.#inner.incidents(query);
  acknowledgeIncident: GatewayView["acknowledgeIncident"] = (id) =>
    this.#inner.acknowledgeIncident(id);
  muteDevice: GatewayView["muteDevice"] = (id, minutes) => this.#inner.muteDevice(id, minutes);
  rejectSources: GatewayView["rejectSources"] = (limit) => this.#inner.rejectSources(limit);
  snapshotNow: GatewayView["snapshotNow"] = () => this.#inner.snapshotNow();
  resetDevice: GatewayView["resetDevice"] = (id) => this.#inner.resetDevice(id);
  setThreshold: GatewayView["setThreshold"] = (id, v) => this.#inner.setThreshold(id, v);
  subscribe: GatewayView["subscribe"] = (listener) => {
    this.#listeners.add(listener);
    const off = this.#inner.subscribe(listener);
    return () => {
      this.#listeners.delete(listener);
      off();
    };
  };
}

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
}

/** Reads a `text/event-stream` body: events (and comments) as they arrive. */
export class SseReader {
  /** Every comment line seen (without the leading colon and space). */
  readonly comments: string[] = [];
  /** Every event seen, in order. */
  readonly events: SseEvent[] = [];
  /** Whether the stream has ended. */
  done = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #text = "";
  #pending = "";

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** Reads until `check` holds or the stream ends; fails after `ms`. */
  async until(check: (r: SseReader) => boolean, what: string, ms = 15000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    });
    try {
      while (!check(this)) {
        if (this.done) assert.fail(`the stream ended before ${what}`);
        await Promise.race([this.#readOnce(), late]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Events named `name`, with their data parsed as JSON. */
  // deno-lint-ignore no-explicit-any
  named(name: string): any[] {
    return this.events.filter((e) => e.event === name).map((e) => JSON.parse(e.data));
  }

  /** Everything read so far, as text. */
  get text(): string {
    return this.#text;
  }

  /** Stops reading (the client goes away). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  async #readOnce(): Promise<void> {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await this.#reader.read();
    } catch {
      this.done = true; // a connection cut at shutdown ends the stream too
      return;
    }
    if (chunk.done) {
      this.done = true;
      return;
    }
    const text = this.#decoder.decode(chunk.value, { stream: true });
    this.#text += text;
    const blocks = (this.#pending + text).split("\n\n");
    this.#pending = blocks.pop()!; // an unfinished block waits for the next chunk
    for (const block of blocks) {
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(": ")) this.comments.push(line.slice(2));
        else if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: data.join("\n") });
    }
  }
}

/** Waits until `check` holds, polling; fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
