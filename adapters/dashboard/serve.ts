/**
 * Serves the dashboard with the runtime's own HTTP server: `Deno.serve` under Deno, `Bun.serve`
 * under Bun, `@hono/node-server` under Node. The only runtime-specific file of the dashboard.
 *
 * @module
 */

import { GATEWAY_DEFAULTS, type GatewayView } from "../gateway/mod.ts";
import { createDashboardApp, type DashboardOptions } from "./app.ts";

/** Where and how to serve the dashboard. */
export interface DashboardServerOptions extends Omit<DashboardOptions, "shutdown"> {
  /** Address to listen on (default 127.0.0.1: loopback only). */
  host?: string;
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number;
}

/** A running dashboard. */
export interface DashboardServer {
  /** Its address, such as `http://127.0.0.1:8080` (no trailing slash; loopback for 0.0.0.0). */
  url: string;
  /** The port it listens on (the one picked when 0 was asked). */
  port: number;
  /** Ends the open event streams and stops listening; resolves once the server is closed. */
  close(): Promise<void>;
}

type Fetch = (request: Request) => Response | Promise<Response>;

/** The parts of `Deno.serve` used here. */
interface DenoLike {
  serve(
    options: { hostname: string; port: number; onListen: () => void },
    handler: Fetch,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

/** The parts of `Bun.serve` used here. */
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch: Fetch;
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> | void };
}

/** A listener plus how to stop it. */
interface Listening {
  port: number;
  stop(): Promise<void>;
}

/** Seconds Bun lets a connection idle: above the event stream's keep-alive interval. */
const BUN_IDLE_TIMEOUT_SECONDS = 60;

/** Milliseconds open responses get to finish at close before their connections are cut. */
const CLOSE_GRACE_MS = 1000;

/** Waits for `closed`; if it takes longer than {@linkcode CLOSE_GRACE_MS}, calls `force`. */
async function graceful(closed: Promise<unknown>, force: () => unknown): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      force();
      resolve();
    }, CLOSE_GRACE_MS);
  });
  try {
    await Promise.race([closed, late]);
    await closed;
  } finally {
    clearTimeout(timer);
  }
}

async function listen(fetch: Fetch, hostname: string, port: number): Promise<Listening> {
  const runtime = globalThis as { Deno?: DenoLike; Bun?: BunLike };
  if (runtime.Deno !== undefined) {
    const server = runtime.Deno.serve({ hostname, port, onListen: () => {} }, fetch);
    return { port: server.addr.port, stop: () => server.shutdown() };
  }
  if (runtime.Bun !== undefined) {
    const server = runtime.Bun.serve({
      hostname,
      port,
      idleTimeout: BUN_IDLE_TIMEOUT_SECONDS,
      fetch,
    });
    return {
      port: server.port,
      stop: () => graceful(Promise.resolve(server.stop(false)), () => server.stop(true)),
    };
  }
  const { serve } = await import("@hono/node-server");
  return await new Promise<Listening>((resolve, reject) => {
    // Keep Node's own Request and Response: the adapter's faster ones would replace the globals
    // for the whole process.
    const server = serve({ fetch, hostname, port, overrideGlobalObjects: false }, (info) => {
      server.off("error", reject);
      resolve({
        port: info.port,
        stop: () => {
          const closed = new Promise<void>((done) => server.close(() => done()));
          const connections = server as {
            closeIdleConnections?: () => void;
            closeAllConnections?: () => void;
          };
          // Event streams end just after close() began; their connections then turn idle.
          const sweep = setInterval(() => connections.closeIdleConnections?.(), 20);
          connections.closeIdleConnections?.();
          return graceful(closed, () => connections.closeAllConnections?.())
            .finally(() => clearInterval(sweep));
        },
      });
    });
    server.once("error", reject);
  });
}

/** The URL a browser on this machine opens for `host`. */
function urlFor(host: string, port: number): string {
  const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
}

/**
 * Starts the dashboard of `view` on `host:port` (loopback and 8080 by default; port 0 picks a
 * free one) with the runtime's HTTP server.
 */
export async function startDashboard(
  view: GatewayView,
  options: DashboardServerOptions = {},
): Promise<DashboardServer> {
  const host = options.host ?? GATEWAY_DEFAULTS.dashboardHost;
  const requested = options.port ?? GATEWAY_DEFAULTS.dashboardPort;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${requested}`);
  }
  const shutdown = new AbortController();
  const app = createDashboardApp(view, { ...options, shutdown: shutdown.signal });
  let listening: Listening;
  try {
    listening = await listen((request) => app.fetch(request), host, requested);
  } catch (error) {
    throw new Error(
      `cannot serve the dashboard on ${host}:${requested}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url: urlFor(host, listening.port),
    port: listening.port,
    close() {
      // End the event streams first: a server waits for open responses before it closes.
      closing ??= (shutdown.abort(), listening.stop());
      return closing;
    },
  };
}
