/**
 * A whole demo in one process: the embedded broker, the simulated sensors publishing to it, the
 * gateway learning and scoring them, and the dashboard showing it. `foxtail demo` runs one; the
 * tests start and stop them in-process.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DashboardServer, startDashboard } from "../dashboard/mod.ts";
import { GATEWAY_DEFAULTS, GatewayRunner } from "../gateway/mod.ts";
import {
  DEMO_INCIDENT_QUIET_STEPS,
  DEMO_SPEED,
  DEMO_STEP_SECONDS,
  DEMO_SUBSCRIBE,
  demoFaultTiming,
  demoGatewayConfig,
} from "./demo_config.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "./embedded_broker.ts";
import { FAULT_DESCRIPTIONS, type FaultKind } from "./sensor_node.ts";
import { type FaultEvent, SimulatedPlant } from "./simulated_plant.ts";
import { demoStatusLine, simulatedClock } from "./status_line.ts";
import { TelemetryPublisher } from "./telemetry_publisher.ts";

/** Options of {@linkcode startDemo}. */
export interface DemoOptions {
  /** Simulated sensor nodes (default 5). */
  nodes?: number;
  /** Seed of the simulation (default 1). */
  seed?: number;
  /** Simulated seconds per wall-clock second (default {@linkcode DEMO_SPEED}). */
  speed?: number;
  /** The dashboard's address (default 127.0.0.1). */
  host?: string;
  /**
   * The dashboard's port; 0 picks a free one. By default 8080, or a free port when 8080 is
   * taken.
   */
  port?: number;
  /** The snapshot folder (default: a new temporary folder, removed when the demo stops). */
  stateDir?: string;
  /** Where log lines go (default: standard error). */
  log?: (line: string) => void;
  /** The clock, in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** A running demo. */
export interface DemoSession {
  /** The dashboard's URL. */
  url: string;
  /** The snapshot folder. */
  stateDir: string;
  /** Whether the session made {@linkcode stateDir} (none was given) and removes it on stop. */
  temporaryStateDir: boolean;
  /** The simulation (read-only use: the publisher advances it). */
  plant: SimulatedPlant;
  /** The gateway. */
  gateway: GatewayRunner;
  /** The broker. */
  broker: EmbeddedBroker;
  /** The sensors' client. */
  publisher: TelemetryPublisher;
  /** The fault each device has now. */
  faults: ReadonlyMap<string, FaultKind>;
  /** The one-line status. */
  statusLine(): string;
  /**
   * Stops the sensors, then the gateway (final snapshot), the dashboard and the broker, and
   * removes a temporary snapshot folder.
   */
  stop(): Promise<void>;
}

/** Starts the dashboard on `port`, or (when no port was asked for) on a free one if it is taken. */
async function serveDashboard(
  gateway: GatewayRunner,
  host: string,
  port: number | undefined,
  log: (line: string) => void,
): Promise<DashboardServer> {
  if (port !== undefined) return await startDashboard(gateway, { host, port });
  try {
    return await startDashboard(gateway, { host, port: GATEWAY_DEFAULTS.dashboardPort });
  } catch (error) {
    log(`dashboard: ${(error as Error).message}; using a free port instead`);
    return await startDashboard(gateway, { host, port: 0 });
  }
}

/** Starts a demo; stop it with {@linkcode DemoSession.stop}. */
export async function startDemo(options: DemoOptions = {}): Promise<DemoSession> {
  const log = options.log ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const speed = options.speed ?? DEMO_SPEED;
  if (!(speed > 0 && speed < Infinity)) {
    throw new RangeError(`speed must be a positive number, got ${speed}`);
  }
  const plant = new SimulatedPlant({
    nodes: options.nodes ?? 5,
    seed: options.seed ?? 1,
    stepSeconds: DEMO_STEP_SECONDS,
    faults: demoFaultTiming(),
  });
  const temporaryStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "foxtail-demo-"));
  // Nobody asked to keep a folder made here: it goes with the session, however that ends.
  const removeStateDir = () => {
    if (temporaryStateDir) rmSync(stateDir, { recursive: true, force: true });
  };
  const host = options.host ?? GATEWAY_DEFAULTS.dashboardHost;

  const cleanups: (() => Promise<unknown>)[] = [];
  const undo = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    removeStateDir();
  };
  try {
    const broker = await startEmbeddedBroker();
    cleanups.push(() => broker.close());
    const config = demoGatewayConfig({
      mqttUrl: broker.url,
      dashboardHost: host,
      dashboardPort: options.port ?? GATEWAY_DEFAULTS.dashboardPort,
      stateDir,
      incidentQuietSeconds: DEMO_INCIDENT_QUIET_STEPS * DEMO_STEP_SECONDS / speed,
    });
    const gateway = new GatewayRunner(config, { log, now });
    gateway.start();
    cleanups.push(() => gateway.stop());
    // Readings sent before the gateway subscribed would be lost.
    await Promise.all([gateway.link.whenConnected(), broker.whenSubscribed(DEMO_SUBSCRIBE)]);
    const dashboard = await serveDashboard(gateway, host, options.port, log);
    cleanups.push(() => dashboard.close());

    const faults = new Map<string, FaultKind>();
    const onFault = (event: FaultEvent) => {
      const when = simulatedClock(event.seconds);
      if (event.type === "start") {
        faults.set(event.device, event.kind);
        log(
          `fault: ${event.device}: ${event.kind} at sim ${when}: ${FAULT_DESCRIPTIONS[event.kind]}`,
        );
      } else {
        faults.delete(event.device);
        log(`fault: ${event.device}: ${event.kind} cleared at sim ${when}`);
      }
    };
    const sensors = new TelemetryPublisher({ url: broker.url, plant, speed, onFault, log, now });
    await sensors.start();
    cleanups.push(() => sensors.stop());
    const startedAt = now();

    let stopping: Promise<void> | undefined;
    return {
      url: `${dashboard.url}/`,
      stateDir,
      temporaryStateDir,
      plant,
      gateway,
      broker,
      publisher: sensors,
      faults,
      statusLine: () =>
        demoStatusLine(gateway.status(), gateway.devices(), {
          elapsedMs: now() - startedAt,
          simulatedSeconds: plant.seconds,
          faults,
        }),
      stop() {
        stopping ??= (async () => {
          try {
            await sensors.stop();
            await gateway.stop();
            await dashboard.close();
            await broker.close();
          } finally {
            removeStateDir();
          }
        })();
        return stopping;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
