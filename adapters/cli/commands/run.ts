/**
 * `foxtail run --config foxtail.json`: the gateway, until SIGINT or SIGTERM.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { ConfigError } from "../../../core/gateway/mod.ts";
import { type Command, integerFlag, parseCommandArgs, stringFlag, UsageError } from "../command.ts";
import { type DashboardServer, startDashboard } from "../../dashboard/mod.ts";
import {
  type GatewayConfig,
  GatewayRunner,
  type GatewayView,
  validateGatewayConfig,
} from "../../gateway/mod.ts";
import { ClusterGateway } from "../../cluster/mod.ts";

const HELP = `foxtail run --config FILE [options]

Runs the gateway: subscribes to each stream's MQTT topics, learns every device's normal
telemetry (one detector per device, of the stream's model type: KitNET unless the
configuration names another), publishes {prefix}/{device}/score for every message and
{prefix}/{device}/alert (QoS 1) for anomalies, keeps {prefix}/status retained (online/offline),
and snapshots all detectors to the snapshot folder. Stops cleanly on SIGINT or SIGTERM (final
snapshot, status offline) within a few seconds, even with the broker away or hung: what cannot
be sent then is dropped and counted in the last line. After a crash it resumes from the newest
valid snapshot.

With a "cluster" section (NATS servers, partitions, lease and snapshot timing), the instance
shares the fleet with the others on a NATS cluster instead: it scores the partitions it holds by
lease from the replicated stream, snapshots them to the cluster's object store, publishes the
same topics through NATS with each input's stream sequence ("seq"), the devices' states
retained through mqtt.url (a node's MQTT listener), and on SIGINT or SIGTERM hands its
partitions over before it exits. See the README's "Scaling out".

Options (override the configuration file):
  --config FILE         the JSON configuration (required)
  --mqtt-url URL        mqtt.url
  --topic-prefix P      mqtt.topicPrefix
  --snapshot-dir DIR    snapshots.dir
  --dashboard-host H    dashboard.host (default 127.0.0.1: this machine only)
  --dashboard-port N    dashboard.port (default 8080; 0: a free port)
  --no-dashboard        dashboard.enabled = false

The dashboard (a live page, JSON under /api, /metrics for Prometheus, /healthz) is served
while the gateway runs; its URL is printed. Snapshot, reset and threshold changes need
Authorization: Bearer <dashboard.token> and are disabled when no token is configured.

  -h, --help            this help`;

const OPTIONS = {
  "config": { type: "string" },
  "mqtt-url": { type: "string" },
  "topic-prefix": { type: "string" },
  "snapshot-dir": { type: "string" },
  "dashboard-host": { type: "string" },
  "dashboard-port": { type: "string" },
  "no-dashboard": { type: "boolean" },
} as const;

/** The configuration key each overriding flag sets. */
const FLAG_KEYS = {
  "mqtt-url": "mqtt.url",
  "topic-prefix": "mqtt.topicPrefix",
  "snapshot-dir": "snapshots.dir",
  "dashboard-host": "dashboard.host",
  "dashboard-port": "dashboard.port",
} as const;

/**
 * The message of a configuration refused after the flags were merged into it. A problem with a
 * key that a flag set names the flag and its value, not the file (whose own value there was
 * overridden); the other problems name the file.
 */
function configProblems(
  error: ConfigError,
  path: string,
  values: Record<string, string | boolean | undefined>,
): string {
  let fromFlags = 0;
  const lines = error.problems.map((problem) => {
    for (const [flag, key] of Object.entries(FLAG_KEYS)) {
      const value = values[flag];
      if (typeof value === "string" && problem.startsWith(`${key}: `)) {
        fromFlags++;
        return `--${flag} ${JSON.stringify(value)}: ${problem.slice(key.length + 2)}`;
      }
    }
    return `${path}: ${problem}`;
  });
  if (fromFlags === 0) return `${path}: ${error.message}`;
  return lines.length === 1
    ? lines[0]
    : `invalid configuration (${lines.length} problems):\n  ${lines.join("\n  ")}`;
}

/** Reads the configuration file and applies the flag overrides, before validation. */
function loadConfig(path: string, values: Record<string, string | boolean | undefined>) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`cannot read the configuration ${path}: ${(error as Error).message}`);
  }
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    const root = raw as Record<string, unknown>;
    const section = (key: string): Record<string, unknown> => {
      const value = root[key];
      const copy = value !== null && typeof value === "object" && !Array.isArray(value)
        ? { ...(value as Record<string, unknown>) }
        : {};
      root[key] = copy;
      return copy;
    };
    const url = stringFlag(values, "mqtt-url");
    if (url !== undefined) section("mqtt").url = url;
    const prefix = stringFlag(values, "topic-prefix");
    if (prefix !== undefined) section("mqtt").topicPrefix = prefix;
    const dir = stringFlag(values, "snapshot-dir");
    if (dir !== undefined) section("snapshots").dir = dir;
    const host = stringFlag(values, "dashboard-host");
    if (host !== undefined) section("dashboard").host = host;
    const port = integerFlag(values, "dashboard-port", undefined, 0);
    if (port !== undefined) section("dashboard").port = port;
    if (values["no-dashboard"] === true) section("dashboard").enabled = false;
  }
  try {
    return validateGatewayConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(configProblems(error, path, values));
    throw error;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Starts the dashboard when the configuration enables it. A dashboard that cannot listen (the
 * port is taken) is reported and left out: detection and MQTT go on without it.
 */
async function serveDashboard(
  gateway: GatewayView & { config: GatewayConfig },
): Promise<DashboardServer | undefined> {
  const { enabled, host, port, token, deviceMetrics } = gateway.config.dashboard;
  if (!enabled) return undefined;
  try {
    const server = await startDashboard(gateway, { host, port, token, deviceMetrics });
    const changes = token === undefined
      ? "read-only: no dashboard.token configured"
      : "changes need the bearer token";
    console.error(`foxtail run: dashboard at ${server.url} (${changes})`);
    if (!LOOPBACK.test(host)) {
      console.error(
        `foxtail run: the dashboard listens on ${host}: anyone who can reach it can read ` +
          `every device's scores`,
      );
    }
    return server;
  } catch (error) {
    console.error(
      `foxtail run: dashboard not started: ${(error as Error).message}; ` +
        `the gateway runs without it`,
    );
    return undefined;
  }
}

/** `foxtail run`. */
export const runCommand: Command = {
  name: "run",
  summary: "run the MQTT gateway (per-device detectors, scores, alerts, snapshots)",
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, OPTIONS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const path = stringFlag(values, "config");
    if (path === undefined) throw new UsageError("--config FILE is required");
    const config = loadConfig(path, values);
    const log = (line: string) => console.error(line);
    let gateway: GatewayRunner | ClusterGateway;
    if (config.cluster === undefined) {
      const single = new GatewayRunner(config, { log });
      single.start();
      gateway = single;
      console.error(
        `foxtail run: ${config.streams.length} stream(s), publishing under ` +
          `${config.mqtt.topicPrefix}/, snapshots in ${config.snapshots.dir} (Ctrl-C stops)`,
      );
    } else {
      const member = new ClusterGateway(config, { log });
      await member.start();
      gateway = member;
      console.error(
        `foxtail run: cluster instance ${member.instance}, ${config.streams.length} stream(s), ` +
          `publishing under ${config.mqtt.topicPrefix}/ through NATS (Ctrl-C hands over and stops)`,
      );
    }
    let onSignal: (signal: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => {
      onSignal = resolve;
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
    const dashboard = await serveDashboard(gateway);
    const signal = await stopped;
    // Signal listeners left behind would keep some runtimes alive.
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    console.error(`foxtail run: ${signal}: saving a final snapshot and going offline`);
    await dashboard?.close(); // ends the open event streams, so nothing holds the process
    const { unsent } = await gateway.stop();
    const c = gateway.status().counters;
    const rejected = Object.values(c.rejected).reduce((a, b) => a + b, 0);
    const left = unsent === 0
      ? "nothing was left unsent"
      : `${unsent} messages could not be sent and were dropped`;
    console.error(
      `foxtail run: stopped; ${c.messages} messages, ${c.accepted} scored, ${rejected} rejected, ` +
        `${c.dropped} dropped, ${c.anomalies} anomalies, ${c.evicted} devices evicted; ${left}`,
    );
    return 0;
  },
};
