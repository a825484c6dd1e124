/**
 * The gateway configuration's `cluster` section: where the NATS cluster is, how the fleet's
 * devices are partitioned, and the lease timing. Every mistake is named by key path and value,
 * like the rest of the configuration (see `core/gateway/config_reader.ts`).
 *
 * @module
 */

import {
  type ConfigProblems,
  describeValue,
  joinPath,
  keyReaders,
  readObject,
} from "../gateway/mod.ts";

/** Files for a TLS connection to NATS (paths, read by the adapter). */
export interface ClusterTlsSettings {
  /** The CA that signed the servers' certificates. */
  ca?: string;
  /** This instance's client certificate (with `key`). */
  cert?: string;
  /** The client certificate's private key (with `cert`). */
  key?: string;
}

/** The `cluster` section, validated, with every default filled in. */
export interface ClusterSettings {
  /** NATS server URLs (`nats://` or `tls://`), at least one. */
  servers: string[];
  /** Fixed partitions the devices are mapped to; every instance must agree. */
  partitions: number;
  /** A lease's time to live (the KV bucket's TTL); every instance must agree. */
  leaseSeconds: number;
  /** How often leases are rewritten: below half of `leaseSeconds`, so one late renewal is safe. */
  renewSeconds: number;
  /** How often an owned partition's detectors are snapshotted. */
  snapshotSeconds: number;
  /** How long the telemetry stream keeps a message (set when the stream is created). */
  streamMaxAgeHours: number;
  /** How much the telemetry stream keeps, the oldest going first (set when it is created). */
  streamMaxMegabytes: number;
  /** This instance's id (letters, digits, `_`, `-`); the adapter picks one when absent. */
  instance?: string;
  /** NATS user name. */
  user?: string;
  /** NATS password (never echoed in an error). */
  password?: string;
  /** A file holding this instance's NKey user seed (`SU…`), instead of a user and password. */
  nkeySeedFile?: string;
  /** TLS files, when the connection needs them. */
  tls?: ClusterTlsSettings;
}

/** Defaults of the section's optional keys (`renewSeconds` defaults to a quarter lease). */
export const CLUSTER_DEFAULTS = {
  partitions: 64,
  leaseSeconds: 10,
  snapshotSeconds: 30,
  streamMaxAgeHours: 24,
  streamMaxMegabytes: 256,
} as const;

/** Bounds of the section's numbers. */
export const CLUSTER_LIMITS = {
  maxPartitions: 4096,
  minLeaseSeconds: 1,
  maxLeaseSeconds: 3600,
  /** Exclusive. */
  maxSnapshotSeconds: 86400,
  /** Exclusive: a year. */
  maxStreamAgeHours: 8784,
  /** Exclusive: a terabyte. */
  maxStreamMegabytes: 1_048_576,
} as const;

/** The keys the `cluster` section may have. */
export const CLUSTER_KEYS: readonly string[] = [
  "servers",
  "partitions",
  "leaseSeconds",
  "renewSeconds",
  "snapshotSeconds",
  "streamMaxAgeHours",
  "streamMaxMegabytes",
  "instance",
  "user",
  "password",
  "nkeySeedFile",
  "tls",
];

/** A safe instance id: it becomes one token of a KV key (`member.<id>`). */
export const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The problem with a NATS server URL, or undefined when it is fine. */
function serverProblem(value: unknown): string | undefined {
  const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== "nats:" && url.protocol !== "tls:")) {
    return `expected a nats:// or tls:// URL, got ${describeValue(value)}`;
  }
  if (url.hostname === "") return `the URL has no host, got ${describeValue(value)}`;
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    return `a NATS URL has no path, query or fragment, got ${describeValue(value)}`;
  }
  return undefined;
}

/**
 * The `cluster` section at `path` (the whole section, as found in the file), or undefined when it
 * is absent (a gateway on its own). Problems go to `problems`; what is returned then has
 * defaults in place of the bad values.
 */
export function readClusterSettings(
  value: unknown,
  problems: ConfigProblems,
  path = "cluster",
): ClusterSettings | undefined {
  if (value === undefined) return undefined;
  const section = readObject(value, path, CLUSTER_KEYS, problems, false);
  if (section === undefined) return undefined;
  const read = keyReaders(section, path, problems);

  const servers: string[] = [];
  const serversPath = joinPath(path, "servers");
  if (!Array.isArray(section.servers) || section.servers.length === 0) {
    problems.add(
      serversPath,
      section.servers === undefined
        ? "is required (a non-empty array of nats:// or tls:// URLs)"
        : `expected a non-empty array of nats:// or tls:// URLs, got ${
          describeValue(section.servers)
        }`,
    );
  } else {
    section.servers.forEach((server: unknown, i: number) => {
      const problem = serverProblem(server);
      if (problem === undefined) servers.push(server as string);
      else problems.add(`${serversPath}[${i}]`, problem);
    });
  }

  const partitions = read.integer(
    "partitions",
    CLUSTER_DEFAULTS.partitions,
    1,
    CLUSTER_LIMITS.maxPartitions,
  );

  let leaseSeconds: number = CLUSTER_DEFAULTS.leaseSeconds;
  const lease = section.leaseSeconds;
  if (lease !== undefined) {
    if (
      typeof lease !== "number" || !(lease >= CLUSTER_LIMITS.minLeaseSeconds) ||
      !(lease <= CLUSTER_LIMITS.maxLeaseSeconds)
    ) {
      problems.add(
        joinPath(path, "leaseSeconds"),
        `expected a number in [${CLUSTER_LIMITS.minLeaseSeconds}, ${CLUSTER_LIMITS.maxLeaseSeconds}], got ${
          describeValue(lease)
        }`,
      );
    } else {
      leaseSeconds = lease;
    }
  }

  // Below half a lease: a renewal can be late once without the lease expiring.
  let renewSeconds = leaseSeconds / 4;
  const renew = section.renewSeconds;
  if (renew !== undefined) {
    if (typeof renew !== "number" || !(renew > 0) || !(renew < leaseSeconds / 2)) {
      problems.add(
        joinPath(path, "renewSeconds"),
        `expected a number above 0 and below half of leaseSeconds (${leaseSeconds}), so that one late renewal does not lose the leases, got ${
          describeValue(renew)
        }`,
      );
    } else {
      renewSeconds = renew;
    }
  }

  const snapshotSeconds = read.number(
    "snapshotSeconds",
    CLUSTER_DEFAULTS.snapshotSeconds,
    0,
    CLUSTER_LIMITS.maxSnapshotSeconds,
  );

  const streamMaxAgeHours = read.number(
    "streamMaxAgeHours",
    CLUSTER_DEFAULTS.streamMaxAgeHours,
    0,
    CLUSTER_LIMITS.maxStreamAgeHours,
  );
  const streamMaxMegabytes = read.number(
    "streamMaxMegabytes",
    CLUSTER_DEFAULTS.streamMaxMegabytes,
    0,
    CLUSTER_LIMITS.maxStreamMegabytes,
  );

  const settings: ClusterSettings = {
    servers,
    partitions,
    leaseSeconds,
    renewSeconds,
    snapshotSeconds,
    streamMaxAgeHours,
    streamMaxMegabytes,
  };

  const instance = section.instance;
  if (instance !== undefined) {
    if (typeof instance !== "string" || !INSTANCE_ID.test(instance)) {
      problems.add(
        joinPath(path, "instance"),
        `expected 1 to 64 letters, digits, "_" or "-", got ${describeValue(instance)}`,
      );
    } else {
      settings.instance = instance;
    }
  }

  const user = read.optionalString("user");
  if (user !== undefined) settings.user = user;
  const password = section.password;
  if (password !== undefined) {
    if (typeof password !== "string" || password.length === 0) {
      // The value is not shown: it may be a real password with a typo.
      problems.add(
        joinPath(path, "password"),
        `expected a non-empty string, got ${
          password === "" ? "an empty string" : `a ${typeof password} (not shown)`
        }`,
      );
    } else if (user === undefined && section.user === undefined) {
      problems.add(joinPath(path, "password"), "is given without a user");
    } else {
      settings.password = password;
    }
  }

  const nkeySeedFile = read.optionalString("nkeySeedFile");
  if (nkeySeedFile !== undefined) {
    if (user !== undefined) {
      problems.add(
        joinPath(path, "nkeySeedFile"),
        "is given with a user: NATS authenticates by one or the other, not both",
      );
    } else {
      settings.nkeySeedFile = nkeySeedFile;
    }
  }

  if (section.tls !== undefined) {
    const tlsPath = joinPath(path, "tls");
    const tls = readObject(section.tls, tlsPath, ["ca", "cert", "key"], problems, false);
    if (tls !== undefined) {
      const readTls = keyReaders(tls, tlsPath, problems);
      const files: ClusterTlsSettings = {};
      for (const key of ["ca", "cert", "key"] as const) {
        const file = readTls.optionalString(key);
        if (file !== undefined) files[key] = file;
      }
      if ((tls.cert === undefined) !== (tls.key === undefined)) {
        const missing = tls.cert === undefined ? "cert" : "key";
        problems.add(
          joinPath(tlsPath, missing),
          `is required with ${
            missing === "cert" ? "key" : "cert"
          } (a client certificate needs both)`,
        );
      }
      settings.tls = files;
    }
  }
  return settings;
}

/**
 * What every instance of a cluster must agree on, as one stable string: the partition count, the
 * lease time to live, and `pipeline` (the caller's rendering of the stream settings, so that two
 * instances never score one partition's devices differently). `renewSeconds` and
 * `snapshotSeconds` are each instance's own business and are left out.
 */
export function clusterFingerprint(settings: ClusterSettings, pipeline: string): string {
  return JSON.stringify({
    partitions: settings.partitions,
    leaseSeconds: settings.leaseSeconds,
    pipeline,
  });
}
