/**
 * `foxtail demo`: an embedded MQTT broker, simulated sensors with faults, the gateway and its
 * dashboard, in one process, until `--duration` runs out or SIGINT/SIGTERM.
 *
 * @module
 */

import process from "node:process";
import {
  type Command,
  integerFlag,
  numberFlag,
  parseCommandArgs,
  stringFlag,
  UsageError,
} from "../command.ts";
import { DEMO_LEARNING_STEPS, DEMO_SPEED, DEMO_STEP_SECONDS } from "../../demo/mod.ts";
import { startDemo } from "../../demo/mod.ts";
import { FAULT_KINDS } from "../../demo/mod.ts";
import { SENSOR_PROFILES } from "../../demo/mod.ts";
import { wallClock } from "../../demo/mod.ts";
import { type ClusterDemo, startClusterDemo } from "../../demo/mod.ts";

/** Most simulated nodes `--devices` accepts (the demo gateway holds 64 devices). */
const MOST_DEVICES = 64;

/** Seconds between two status lines. */
const STATUS_SECONDS = 5;

const learnSeconds = Math.round((DEMO_LEARNING_STEPS * DEMO_STEP_SECONDS) / DEMO_SPEED);
const stepMinutes = DEMO_STEP_SECONDS / 60;
const perSecond = DEMO_SPEED / DEMO_STEP_SECONDS;
const faults = FAULT_KINDS.join(", ");
const firstNodes = SENSOR_PROFILES.slice(0, 3).map((p) => p.name).join(", ");

const HELP = `foxtail demo [options]

Runs everything on this machine: an embedded MQTT broker; simulated sensor nodes publishing JSON
telemetry (temperature with a daily cycle, humidity, a motor's current and vibration, power) on
sensors/{device}/telemetry; the gateway, learning each node and scoring every reading; and its
dashboard, whose URL is printed.

Simulated time runs fast: a reading every ${stepMinutes} simulated minutes, ${perSecond} a second per node
by default. Each node's detector learns for ${DEMO_LEARNING_STEPS} readings (~${learnSeconds} s at the default speed);
then faults begin, one node at a time, each logged as it starts:
  ${faults}.
A status line goes to standard error every ${STATUS_SECONDS} s. The demo stops cleanly (final snapshot,
broker closed, exit 0) after --duration or on Ctrl-C/SIGTERM.

Options:
  --duration SECONDS    stop after this long (default: run until interrupted)
  --port N              dashboard port (default 8080, or a free one if 8080 is taken; 0: free)
  --devices N           simulated nodes, 1-${MOST_DEVICES} (default 5: ${firstNodes}, …)
  --seed N              seed of the simulation (default 1): the same seed, the same readings
  --speed X             simulated seconds per second (default ${DEMO_SPEED})
  --state DIR           snapshot folder (default: a new temporary one, removed on stop); a
                        later demo given the same folder resumes its detectors
  --cluster             the scale-out instead: three local NATS nodes (nats-server must be
                        installed) and three instances with a dashboard each (--port and the
                        next two; default 8081-8083) sharing 12 nodes (--devices); one instance
                        crashes after --crash-after SECONDS (default 60) and the others take
                        its partitions over from its snapshots and the stream

  -h, --help            this help`;

const OPTIONS = {
  "duration": { type: "string" },
  "port": { type: "string" },
  "devices": { type: "string" },
  "seed": { type: "string" },
  "speed": { type: "string" },
  "state": { type: "string" },
  "cluster": { type: "boolean" },
  "crash-after": { type: "string" },
} as const;

/** `1 node`, `2 nodes`. */
function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Resolves with the signal's name on SIGINT or SIGTERM, or "duration" after `seconds`. */
function whenToStop(seconds: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (reason: string) => {
      clearTimeout(timer);
      // Signal listeners left behind would keep some runtimes alive.
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(reason);
    };
    const onInt = () => finish("SIGINT");
    const onTerm = () => finish("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    if (seconds !== undefined) timer = setTimeout(() => finish("duration"), seconds * 1000);
  });
}

/** One line per instance: what it holds and its last handover. */
function clusterLines(demo: ClusterDemo): string[] {
  return demo.instances.map((instance) => {
    const s = instance.status();
    const c = s.cluster;
    const h = c.lastHandover;
    return `  ${c.instance}: ${
      c.held.length === 0 ? "no partitions" : `partitions ${c.held.join(",")}`
    }` +
      `, ${s.devices} devices, ${s.counters.accepted} scored` +
      (h ? `; last handover: partition ${h.partition} ${h.kind} in ${h.ms} ms` : "");
  });
}

async function runClusterDemo(o: {
  nodes: number;
  seed: number;
  speed: number;
  port: number | undefined;
  duration: number | undefined;
  crashAfter: number;
  log: (line: string) => void;
}): Promise<number> {
  const { log } = o;
  const demo = await startClusterDemo({
    nodes: o.nodes,
    seed: o.seed,
    speed: o.speed,
    port: o.port,
    log,
  });
  for (const d of demo.dashboards) {
    console.log(`foxtail demo: ${d.instance}'s dashboard at ${d.url}`);
  }
  log(
    `foxtail demo: ${plural(o.nodes, "node")} publishing to a three-node NATS cluster; ` +
      `${demo.dashboards[2].instance} crashes in ${o.crashAfter} s` +
      (o.duration === undefined ? " (Ctrl-C stops)" : ""),
  );
  const status = setInterval(() => {
    for (const line of clusterLines(demo)) log(line);
  }, STATUS_SECONDS * 1000);
  const crash = setTimeout(() => {
    log(
      `foxtail demo: ${demo.dashboards[2].instance} crashes now (no handover): the others take ` +
        `its partitions once its leases run out, from its snapshots and the stream`,
    );
    demo.crash(2).catch((error) => log(`foxtail demo: crash: ${(error as Error).message}`));
  }, o.crashAfter * 1000);
  const reason = await whenToStop(o.duration);
  clearInterval(status);
  clearTimeout(crash);
  for (const line of clusterLines(demo)) log(line);
  log(`foxtail demo: ${reason}: stopping (the instances hand over, then NATS stops)`);
  await demo.stop();
  log("foxtail demo: stopped");
  return 0;
}

/** `foxtail demo`. */
export const demoCommand: Command = {
  name: "demo",
  summary: "simulated sensors with faults, the gateway and its dashboard, all in one process",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    }
    const duration = values.duration === undefined
      ? undefined
      : numberFlag(values, "duration", 0, 0, 2_147_483);
    const port = integerFlag(values, "port", undefined, 0);
    if (port !== undefined && port > 65535) {
      throw new UsageError(`--port must be an integer from 0 to 65535, got "${port}"`);
    }
    const nodes = integerFlag(values, "devices", 5, 1);
    if (nodes > MOST_DEVICES) {
      throw new UsageError(
        `--devices must be an integer from 1 to ${MOST_DEVICES}, got "${nodes}"`,
      );
    }
    const seed = integerFlag(values, "seed", 1, 0);
    if (seed > 0xffffffff) {
      throw new UsageError(`--seed must be an integer from 0 to 4294967295, got "${seed}"`);
    }
    const speed = numberFlag(values, "speed", DEMO_SPEED, 0);
    const stateDir = stringFlag(values, "state");

    const log = (line: string) => console.error(line);
    if (values.cluster) {
      const crashAfter = numberFlag(values, "crash-after", 60, 0, 2_147_483);
      const devices = values.devices === undefined ? 12 : nodes;
      return await runClusterDemo({ nodes: devices, seed, speed, port, duration, crashAfter, log });
    }
    const startedAt = Date.now();
    const demo = await startDemo({ nodes, seed, speed, port, stateDir, log });
    console.log(`foxtail demo: dashboard at ${demo.url}`);
    log(
      `foxtail demo: ${
        plural(nodes, "node")
      } publishing on sensors/{device}/telemetry to ${demo.broker.url}; ` +
        `faults begin once the detectors have learned (${DEMO_LEARNING_STEPS} readings each); ` +
        `snapshots in ${demo.stateDir}` +
        (demo.temporaryStateDir ? " (temporary: removed on stop; --state DIR keeps them)" : "") +
        (duration === undefined ? " (Ctrl-C stops)" : ""),
    );
    let statusAt = Date.now();
    const status = setInterval(() => {
      statusAt = Date.now();
      log(demo.statusLine());
    }, STATUS_SECONDS * 1000);
    const reason = await whenToStop(duration);
    clearInterval(status);
    if (Date.now() - statusAt > 1000) log(demo.statusLine()); // where it ended, unless just said
    log(`foxtail demo: ${reason}: stopping (final snapshot, broker closed)`);
    await demo.stop();
    const s = demo.gateway.status();
    const c = s.counters;
    log(
      `foxtail demo: stopped after ${wallClock(Date.now() - startedAt)}; ` +
        `${demo.publisher.published} readings published, ${c.messages} messages, ` +
        `${c.accepted} scored, ${plural(c.anomalies, "anomaly", "anomalies")}, ${
          plural(s.devices, "device")
        }; ` +
        (demo.temporaryStateDir
          ? `the temporary snapshot folder ${demo.stateDir} removed`
          : `snapshots in ${demo.stateDir}`),
    );
    return 0;
  },
};
