/**
 * `GET /api/events`: server-sent events (a status every few seconds, every score, state,
 * alert, incident and snapshot; `?devices=a,b` limits scores, states and the status's devices
 * to those devices), to a bounded number of clients, each with a bounded buffer: a client too slow to
 * keep up is cut off and counted, never buffered without end.
 *
 * @module
 */

import { Hono } from "hono";
import type { GatewayEvent } from "../../gateway/mod.ts";
import { EventStream } from "../event_stream.ts";
import { DeviceEventRate } from "../device_event_rate.ts";
import { failure } from "../responses.ts";
import { safeJson } from "../safe_json.ts";
import { type DashboardShared, readFollowedDevices, statusBody } from "./shared.ts";
import { queryDevices } from "../../../core/gateway/mod.ts";

/** Devices a `status` event carries for a client that follows no list of its own. */
export const STATUS_DEVICES = 100;

/** How the event streams are bounded and paced. */
export interface EventRouteOptions {
  /** Clients served at once; more get 503. */
  maxEventClients: number;
  /** Events that may wait for one slow client before it is cut off. */
  eventBuffer: number;
  /** Milliseconds between keep-alive comments. */
  keepAliveMs: number;
  /** Milliseconds between `status` events. */
  statusIntervalMs: number;
  /** When aborted, every open stream ends and new ones are refused. */
  shutdown?: AbortSignal;
}

/** The event-stream route over `shared`. */
export function eventRoutes(shared: DashboardShared, options: EventRouteOptions): Hono {
  const { view, counters } = shared;
  const { maxEventClients, eventBuffer, keepAliveMs, statusIntervalMs, shutdown } = options;
  const streams = new Set<EventStream>();
  shutdown?.addEventListener("abort", () => {
    for (const stream of Array.from(streams)) stream.end("shutdown");
  }, { once: true });
  const app = new Hono();

  app.get("/api/events", (c) => {
    if (shutdown?.aborted) return failure(c, 503, "the dashboard is shutting down");
    if (streams.size >= maxEventClients) {
      counters.eventClientsRefused++;
      return failure(c, 503, `too many event-stream clients (at most ${maxEventClients})`);
    }
    const followed = readFollowedDevices(c);
    if (typeof followed === "string") return failure(c, 400, followed);
    let unsubscribe = () => {};
    const timers: ReturnType<typeof setInterval>[] = [];
    const stream = new EventStream({
      capacity: eventBuffer,
      onEnd: (why) => {
        // Everything tied to this client goes with it: the subscription, timers, the slot.
        unsubscribe();
        for (const timer of timers) clearInterval(timer);
        streams.delete(stream);
        counters.eventClients = streams.size;
        if (why === "slow") counters.eventClientsDropped++;
      },
    });
    streams.add(stream);
    counters.eventClients = streams.size;
    // The followed devices (a page of cards), or the first page of the fleet: never every
    // device of a large one, every few seconds.
    const sendStatus = () => {
      const all = view.devices();
      const devices = followed === undefined
        ? queryDevices(all, { limit: STATUS_DEVICES }).devices
        : all.filter((d) => followed.has(d.id));
      stream.send("status", safeJson({ status: statusBody(shared), devices }));
    };
    stream.raw("retry: 3000\n: foxtail events\n\n");
    sendStatus();
    // A client that follows devices gets their scores at a bounded rate each, anomalies always.
    const rate = followed === undefined ? undefined : new DeviceEventRate(followed, shared.now);
    unsubscribe = view.subscribe((event: GatewayEvent) => {
      // A device's scores and states reach only a client that follows it (or follows all).
      if (followed !== undefined && (event.type === "score" || event.type === "state")) {
        if (!followed.has(event.device)) return;
        if (event.type === "score" && !rate!.take(event.device, event.anomaly)) {
          counters.scoreEventsHeldBack++;
          return;
        }
      }
      stream.send(event.type, safeJson(event));
    });
    timers.push(
      setInterval(() => stream.comment("keep-alive"), keepAliveMs),
      setInterval(sendStatus, statusIntervalMs),
    );
    return new Response(stream.body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-store",
        "X-Accel-Buffering": "no",
      },
    });
  });

  return app;
}
