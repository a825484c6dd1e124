/**
 * `foxtail demo --cluster`: the scale-out, watchable on one machine. A local three-node NATS
 * cluster, three cluster instances with a dashboard each, the simulated plant publishing MQTT
 * telemetry to a NATS node; after a while one instance crashes (no handover, as after `kill -9`)
 * and the survivors' dashboards show its partitions taken over from the snapshots and the stream.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterGateway, type LocalCluster, startLocalCluster } from "../cluster/mod.ts";
import { type DashboardServer, startDashboard } from "../dashboard/mod.ts";
import { DEMO_INCIDENT_QUIET_STEPS, DEMO_SPEED, DEMO_STEP_SECONDS } from "./demo_config.ts";
import { demoFaultTiming, demoGatewayConfig } from "./demo_config.ts";
import { SimulatedPlant } from "./simulated_plant.ts";
import { TelemetryPublisher } from "./telemetry_publisher.ts";

/** Partitions of the demo's cluster. */
export const CLUSTER_DEMO_PARTITIONS = 16;

/** Options of {@linkcode startClusterDemo}. */
export interface ClusterDemoOptions {
  /** Simulated nodes (default 12, so every instance has several). */
  nodes?: number;
  /** Seed of the simulation (default 1). */
  seed?: number;
  /** Simulated seconds per second (default the demo's). */
  speed?: number;
  /** The first dashboard's port; the others follow (default 8081; 0: free ports). */
  port?: number;
  /** Where log lines go. */
  log?: (line: string) => void;
}

/** A running cluster demo. */
export interface ClusterDemo {
  /** The instances' dashboards, by instance id. */
  dashboards: { instance: string; url: string }[];
  /** The instances. */
  instances: ClusterGateway[];
  /** The NATS cluster. */
  cluster: LocalCluster;
  /** Crashes instance `i` (no handover) and closes its dashboard. */
  crash(i: number): Promise<void>;
  /** Stops everything (the instances hand over, then the cluster goes). */
  stop(): Promise<void>;
}

/** Starts the cluster demo. */
export async function startClusterDemo(options: ClusterDemoOptions = {}): Promise<ClusterDemo> {
  const log = options.log ?? ((line: string) => console.error(line));
  const speed = options.speed ?? DEMO_SPEED;
  const firstPort = options.port ?? 8081;
  const stateDir = mkdtempSync(join(tmpdir(), "foxtail-cluster-demo-"));
  const cleanups: (() => Promise<unknown>)[] = [];
  const undo = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    log("cluster demo: starting three NATS nodes on loopback …");
    const cluster = await startLocalCluster({ nodes: 3, partitions: CLUSTER_DEMO_PARTITIONS });
    cleanups.push(() => cluster.stop());
    const instances: ClusterGateway[] = [];
    const dashboards: (DashboardServer | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const id = `demo-${i + 1}`;
      const config = demoGatewayConfig({
        mqttUrl: cluster.mqttUrls[i],
        mqttUser: { username: cluster.gateway.user, password: cluster.gateway.password },
        dashboardPort: firstPort === 0 ? 0 : firstPort + i,
        stateDir,
        incidentQuietSeconds: DEMO_INCIDENT_QUIET_STEPS * DEMO_STEP_SECONDS / speed,
        cluster: {
          servers: [...cluster.clientUrls],
          partitions: CLUSTER_DEMO_PARTITIONS,
          leaseSeconds: 3,
          renewSeconds: 1,
          snapshotSeconds: 5,
          instance: id,
          user: cluster.gateway.user,
          password: cluster.gateway.password,
        },
      });
      const instance = new ClusterGateway(config, { log: (line) => log(`${id}: ${line}`) });
      await instance.start();
      instances.push(instance);
      cleanups.push(() => instance.stop());
      const { host, port } = config.dashboard;
      const dashboard = await startDashboard(instance, { host, port });
      dashboards.push(dashboard);
      cleanups.push(() => dashboard.close());
    }
    const plant = new SimulatedPlant({
      nodes: options.nodes ?? 12,
      seed: options.seed ?? 1,
      stepSeconds: DEMO_STEP_SECONDS,
      faults: demoFaultTiming(),
    });
    const { user, password } = cluster.publisher;
    const url = cluster.mqttUrls[0].replace("mqtt://", `mqtt://${user}:${password}@`);
    const sensors = new TelemetryPublisher({ url, plant, speed, log });
    await sensors.start();
    cleanups.push(() => sensors.stop());

    let stopping: Promise<void> | undefined;
    return {
      dashboards: dashboards.map((d, i) => ({
        instance: instances[i].instance,
        url: `${d!.url}/`,
      })),
      instances,
      cluster,
      async crash(i) {
        await instances[i].crash();
        await dashboards[i]?.close();
        dashboards[i] = undefined;
      },
      stop() {
        stopping ??= undo();
        return stopping;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
