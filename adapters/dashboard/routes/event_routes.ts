/**
 * `GET /api/events`: server-sent events (a status every few seconds, every score, alert and
 * snapshot), to a bounded number of clients, each with a bounded buffer: a client too slow to
 * keep up is cut off and counted, never buffered without end.
 *
 * @module
 */

import { Hono } from "hono";
import type { GatewayEvent } from "../../gateway/mod.ts";
import { EventStream } from "../event_stream.ts";
import { failure } from "../responses.ts";
import { safeJson } from "../safe_json.ts";
import { type DashboardShared, statusBody } from "./shared.ts";

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
    const sendStatus = () => {
      stream.send("status", safeJson({ status: statusBody(shared), devices: view.devices() }));
    };
    stream.raw("retry: 3000\n: foxtail events\n\n");
    sendStatus();
    unsubscribe = view.subscribe((event: GatewayEvent) => {
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
