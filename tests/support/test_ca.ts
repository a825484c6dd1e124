/**
 * Certificates for the TLS tests, made with the `openssl` CLI (installed with apt-get when
 * missing) in a temporary folder: a self-signed CA, a server certificate it signed for
 * 127.0.0.1 and localhost, and a second, unrelated CA that a client may wrongly trust.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSystemPackages } from "../../scripts/ensure_system_packages.mjs";

/** Debian's openssl executable. */
export const OPENSSL = "/usr/bin/openssl";

/** PEM files of a test CA and the server certificate it signed; `remove()` deletes them. */
export interface TestCertificates {
  /** The folder holding every file. */
  readonly dir: string;
  /** The CA that signed the server certificate (PEM). */
  readonly caFile: string;
  /** The server's certificate (PEM), for IP:127.0.0.1 and DNS:localhost. */
  readonly certFile: string;
  /** The server's private key (PEM). */
  readonly keyFile: string;
  /** A CA that signed nothing here (PEM): trusting it must not make the server trusted. */
  readonly otherCaFile: string;
  /** Deletes the folder. */
  remove(): void;
}

/** EC P-256 keys: generated in milliseconds, where RSA keys take a noticeable while. */
const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Two days: long enough for any test run, short enough that a leftover file is worthless. */
const DAYS = "2";

function openssl(args: string[]): void {
  const r = spawnSync(OPENSSL, args, { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr?.trim() || r.error?.message}`);
  }
}

/** A self-signed CA certificate named `name`, its key beside it. */
function makeCa(dir: string, file: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${file}.pem`);
  const key = join(dir, `${file}.key`);
  // OpenSSL 3's `req -x509` marks it a CA (basicConstraints critical CA:TRUE) by default.
  openssl([
    "req",
    "-x509",
    ...NEW_KEY,
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    DAYS,
    "-subj",
    `/CN=${name}`,
  ]);
  return { cert, key };
}

/** Makes a fresh CA, a server certificate it signed, and an unrelated second CA. */
export function makeTestCertificates(): TestCertificates {
  ensureSystemPackages(["openssl"]);
  const dir = mkdtempSync(join(tmpdir(), "foxtail-ca-"));
  try {
    const ca = makeCa(dir, "ca", "foxtail test CA");
    // Same kind of CA, another key and name: what a client configured with the wrong CA trusts.
    const other = makeCa(dir, "other-ca", "foxtail unrelated CA");
    const keyFile = join(dir, "server.key");
    const request = join(dir, "server.csr");
    const certFile = join(dir, "server.pem");
    const extensions = join(dir, "server.ext");
    openssl([
      "req",
      "-new",
      ...NEW_KEY,
      "-keyout",
      keyFile,
      "-out",
      request,
      "-subj",
      "/CN=localhost",
    ]);
    // Clients check the address they dialled against subjectAltName (the CN is ignored), and
    // rustls (Deno) also wants a leaf that is no CA and is meant for servers.
    writeFileSync(
      extensions,
      [
        "subjectAltName = IP:127.0.0.1, DNS:localhost",
        "basicConstraints = critical, CA:FALSE",
        "keyUsage = critical, digitalSignature",
        "extendedKeyUsage = serverAuth",
        "",
      ].join("\n"),
    );
    openssl([
      "x509",
      "-req",
      "-in",
      request,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-set_serial",
      `0x${randomBytes(8).toString("hex")}`,
      "-days",
      DAYS,
      "-extfile",
      extensions,
      "-out",
      certFile,
    ]);
    return {
      dir,
      caFile: ca.cert,
      certFile,
      keyFile,
      otherCaFile: other.cert,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
