/**
 * The connection of a foxtail instance to its NATS cluster (@nats-io/transport-node, which runs
 * on Deno, Bun and Node): a user and password or an NKey seed, from the options or the
 * environment, optional TLS, and reconnects without end once connected.
 *
 * At start, a cluster that does not answer is waited for (back-off with jitter, each attempt
 * logged with its delay) until it answers or the abort signal fires; credentials the server
 * refuses end it at once with a clear error. Neither the password nor the seed is ever logged or
 * put in an error.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import {
  AuthorizationError,
  connect,
  type NatsConnection,
  nkeyAuthenticator,
  nkeys,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import { formatDelay } from "./nats_lease_store.ts";

/** The environment variable naming the NATS user. */
export const NATS_USER_ENV = "FOXTAIL_NATS_USER";
/** The environment variable holding the NATS password. */
export const NATS_PASSWORD_ENV = "FOXTAIL_NATS_PASSWORD";
/** The environment variable naming a file that holds an NKey user seed. */
export const NATS_NKEY_SEED_FILE_ENV = "FOXTAIL_NATS_NKEY_SEED_FILE";

/** Options of {@linkcode connectCluster}. */
export interface ClusterConnectionOptions {
  /** The servers (`nats://host:port` or `host:port`); one is enough, the cluster gossips more. */
  servers: string | readonly string[];
  /** The user; else {@linkcode NATS_USER_ENV} of `env`. */
  user?: string;
  /** The password; else {@linkcode NATS_PASSWORD_ENV} of `env`. */
  password?: string;
  /**
   * A file holding an NKey user seed (`SU…`, as `nsc` or `nk -gen user` write it), instead of a
   * user and password; else {@linkcode NATS_NKEY_SEED_FILE_ENV} of `env`.
   */
  nkeySeedFile?: string;
  /** Where credentials not in the options are read (default: the process's environment). */
  env?: Readonly<Record<string, string | undefined>>;
  /** TLS: PEM files of the CA to trust, and of the client's certificate and key (both or none). */
  tls?: { ca?: string; cert?: string; key?: string };
  /** The connection's name, shown by the server's monitoring. */
  name?: string;
  /** Receives the log lines (connects, failed attempts, disconnects, reconnects). */
  log?: (line: string) => void;
  /** Stops waiting for the cluster at start (the promise then rejects). */
  signal?: AbortSignal;
  /** First delay between attempts at start, doubled per failure (default 1000 ms). */
  retryMinMs?: number;
  /** Longest delay between attempts at start (default 30 000 ms). */
  retryMaxMs?: number;
  /** Wait between reconnect attempts once connected (default 2000 ms). */
  reconnectWaitMs?: number;
  /** Most random time added to each wait (default 500 ms; 10 % of the delay at start). */
  jitterMs?: number;
  /** How long one attempt may take (default 5000 ms). */
  timeoutMs?: number;
  /** The random source of the jitter (tests pin it). */
  random?: () => number;
}

/** The servers as URLs, for messages. */
function serverUrls(servers: string | readonly string[]): string[] {
  const list = typeof servers === "string" ? servers.split(",") : [...servers];
  const urls = list.map((s) => s.trim()).filter((s) => s !== "");
  if (urls.length === 0) throw new RangeError("no NATS server given");
  return urls.map((s) => (/^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`));
}

/** Reads a TLS file, saying which one is missing. */
function readPem(role: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read the NATS TLS ${role} file ${path}: ${(error as Error).message}`);
  }
}

/**
 * The NKey user seed in `path`, and its public key (not secret: it names the key in messages).
 * The file's content is never put in an error.
 */
export function readNkeySeed(path: string): { seed: Uint8Array; publicKey: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read the NATS NKey seed file ${path}: ${(error as Error).message}`);
  }
  // A seed file may hold comments or a creds-style block: the one line that is a user seed.
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => /^SU[A-Z2-7]{50,}$/.test(l));
  if (line !== undefined) {
    const seed = new TextEncoder().encode(line);
    try {
      return { seed, publicKey: nkeys.fromSeed(seed).getPublicKey() };
    } catch {
      // not a valid seed (its checksum): the message below
    }
  }
  throw new Error(
    `the NATS NKey seed file ${path} holds no valid user seed (a line of "SU" and base32 ` +
      `characters, as nk -gen user writes it)`,
  );
}

/** The short reason of a failed attempt: the system's code (ECONNREFUSED) when there is one. */
function reason(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  const cause = e?.cause as { code?: unknown } | undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
  return typeof e?.message === "string" ? e.message : String(error);
}

/**
 * The reason when `error` is the server's certificate failing verification (an unknown CA, a
 * name that does not match, expired), else undefined.
 */
function untrustedCertificate(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code !== "string" || !/CERT|SIGNATURE|ALTNAME|ISSUER/.test(e.code)) {
    return undefined;
  }
  return `${e.code}: ${String(e.message).replace(/; if the root CA is installed locally.*$/, "")}`;
}

/** Waits `ms`, or rejects when `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function aborted(signal: AbortSignal): Error {
  return new Error("gave up connecting to NATS: aborted", { cause: signal.reason });
}

/** Logs the connection's status changes until it closes. */
async function logStatus(nc: NatsConnection, log: (line: string) => void): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case "disconnect":
        log(`NATS: disconnected from ${s.server}; reconnecting`);
        break;
      case "reconnect":
        log(`NATS: reconnected to ${s.server}`);
        break;
      case "ldm":
        log(`NATS: ${s.server} is shutting down (lame duck mode); moving to another server`);
        break;
      case "staleConnection":
        log("NATS: the connection went stale (no answer to pings); reconnecting");
        break;
      case "error":
        log(`NATS: ${s.error.message}`);
        break;
      case "close":
        log("NATS: connection closed");
        break;
    }
  }
}

/**
 * Connects to the cluster; waits for it at start (see the module), then keeps reconnecting
 * forever. Rejects when the server refuses the credentials, or when `signal` fires first.
 */
export async function connectCluster(options: ClusterConnectionOptions): Promise<NatsConnection> {
  const urls = serverUrls(options.servers);
  const env = options.env ?? process.env;
  const user = options.user ?? env[NATS_USER_ENV];
  const password = options.password ?? env[NATS_PASSWORD_ENV];
  if (password !== undefined && user === undefined) {
    throw new Error(`a NATS password is given but no user (set ${NATS_USER_ENV})`);
  }
  const seedFile = options.nkeySeedFile ?? env[NATS_NKEY_SEED_FILE_ENV];
  if (seedFile !== undefined && user !== undefined) {
    throw new Error(
      `both a NATS user ("${user}") and an NKey seed file (${seedFile}) are given: NATS ` +
        "authenticates by one or the other",
    );
  }
  const nkey = seedFile === undefined ? undefined : readNkeySeed(seedFile);
  const log = options.log ?? (() => {});
  const random = options.random ?? Math.random;
  const retryMinMs = options.retryMinMs ?? 1000;
  const retryMaxMs = Math.max(options.retryMaxMs ?? 30_000, retryMinMs);
  const jitterMs = options.jitterMs ?? 500;

  const connectOptions: NodeConnectionOptions = {
    servers: urls,
    name: options.name ?? "foxtail",
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectWaitMs ?? 2000,
    reconnectJitter: jitterMs,
    reconnectJitterTLS: jitterMs,
    timeout: options.timeoutMs ?? 5000,
  };
  if (user !== undefined) {
    connectOptions.user = user;
    connectOptions.pass = password ?? "";
  }
  if (nkey !== undefined) connectOptions.authenticator = nkeyAuthenticator(nkey.seed);
  const tls = options.tls;
  if (tls !== undefined) {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new Error("NATS TLS needs both a certificate and its key, or neither");
    }
    connectOptions.tls = {
      ...(tls.ca === undefined ? {} : { ca: readPem("CA", tls.ca) }),
      ...(tls.cert === undefined ? {} : { cert: readPem("certificate", tls.cert) }),
      ...(tls.key === undefined ? {} : { key: readPem("key", tls.key) }),
    };
  }

  const where = urls.join(", ");
  let delay = retryMinMs;
  for (;;) {
    if (options.signal?.aborted) throw aborted(options.signal);
    let nc: NatsConnection;
    try {
      nc = await connect(connectOptions);
    } catch (error) {
      if (error instanceof AuthorizationError) {
        // The server's text alone ("Authorization Violation"): never the options, which hold
        // the password.
        throw new Error(
          nkey !== undefined
            ? `NATS refused the NKey ${nkey.publicKey} (from ${seedFile})`
            : user === undefined
            ? `NATS at ${where} requires credentials (set ${NATS_USER_ENV} and ${NATS_PASSWORD_ENV}, or ${NATS_NKEY_SEED_FILE_ENV})`
            : `NATS refused the credentials of user "${user}"`,
          { cause: new Error(error.message) },
        );
      }
      const untrusted = untrustedCertificate(error);
      if (untrusted !== undefined) {
        // A configuration mistake, not an outage: waiting would only hide it.
        throw new Error(
          `NATS at ${where}: the server's TLS certificate is not trusted (${untrusted}); give ` +
            "the CA that signed it (cluster.tls.ca)",
        );
      }
      const wait = Math.round(delay + random() * delay * 0.1);
      log(`NATS at ${where} unreachable (${reason(error)}); retrying in ${formatDelay(wait)}`);
      await sleep(wait, options.signal);
      delay = Math.min(delay * 2, retryMaxMs);
      continue;
    }
    log(`NATS: connected to ${nc.getServer()}`);
    logStatus(nc, log).catch((error) => log(`NATS: status: ${(error as Error).message}`));
    return nc;
  }
}
