/**
 * Certificates for the local Memorystore stand-in and the TLS tests, made with Debian's `openssl` command:
 * a certificate authority of its own, and server certificates it signs.
 *
 * openssl rather than an npm X.509 library: it is the tool Redis's own TLS documentation uses, it is on every
 * machine that runs redis-server from Debian's packages (one `apt-get install openssl` otherwise, as `.ci/run` and
 * `make dev` do), it adds nothing to package-lock.json, and the commands below can be read and rerun by hand.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Longer than any `make dev` session; Memorystore's own are valid 10 years (CA) and 180 days (server). */
const VALID_DAYS = "30";

/**
 * Extensions by section, so the result does not depend on the machine's openssl.cnf. The server section carries
 * no subjectAltName: a Memorystore server certificate names its IP address in the subject CN only.
 */
const OPENSSL_CONFIG = `[req]
distinguished_name = subject
prompt = no
[subject]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
`;

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  /** The certificate as PEM text. */
  certPem: string;
}

export interface ServerCertificateOptions {
  /** Subject CN: Memorystore puts the instance's IP address there. */
  commonName: string;
  /** An openssl subjectAltName value such as `IP:127.0.0.1`; Memorystore's certificates have none. */
  subjectAltName?: string;
  /** Also usable as a client certificate (a Redis Cluster's nodes authenticate each other on the cluster bus). */
  clientAuth?: boolean;
}

export class CertificateAuthority {
  private constructor(
    private readonly dir: string,
    readonly files: CertificateFiles,
  ) {}

  /** A new CA (RSA 2048, self-signed) written to `dir` as `<name>.crt` and `<name>.key`. */
  static async create(dir: string, name = "ca"): Promise<CertificateAuthority> {
    const files = filesOf(dir, name);
    const configFile = writeOpensslConfig(dir, name);
    await openssl([
      "req",
      "-x509",
      "-new",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      VALID_DAYS,
      "-subj",
      `/O=Whiteboard local/CN=Local Memorystore stand-in CA ${randomBytes(4).toString("hex")}`,
      "-config",
      configFile,
      "-extensions",
      "ca",
      "-keyout",
      files.keyFile,
      "-out",
      files.certFile,
    ]);
    return new CertificateAuthority(dir, { ...files, certPem: readFileSync(files.certFile, "utf8") });
  }

  /** A server certificate signed by this CA, written to the CA's folder as `<name>.crt` and `<name>.key`. */
  async issue(name: string, options: ServerCertificateOptions): Promise<CertificateFiles> {
    const files = filesOf(this.dir, name);
    const configFile = writeOpensslConfig(this.dir, name, options.subjectAltName, options.clientAuth);
    const requestFile = path.join(this.dir, `${name}.csr`);
    await openssl([
      "req",
      "-new",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${options.commonName}`,
      "-config",
      configFile,
      "-keyout",
      files.keyFile,
      "-out",
      requestFile,
    ]);
    await openssl([
      "x509",
      "-req",
      "-in",
      requestFile,
      "-days",
      VALID_DAYS,
      "-CA",
      this.files.certFile,
      "-CAkey",
      this.files.keyFile,
      "-set_serial",
      `0x${randomBytes(8).toString("hex")}`,
      "-extfile",
      configFile,
      "-extensions",
      "server",
      "-out",
      files.certFile,
    ]);
    return { ...files, certPem: readFileSync(files.certFile, "utf8") };
  }
}

function filesOf(dir: string, name: string) {
  return { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) };
}

function writeOpensslConfig(dir: string, name: string, subjectAltName?: string, clientAuth = false): string {
  const file = path.join(dir, `${name}.cnf`);
  const config = clientAuth
    ? OPENSSL_CONFIG.replace("extendedKeyUsage = serverAuth", "extendedKeyUsage = serverAuth, clientAuth")
    : OPENSSL_CONFIG;
  writeFileSync(file, subjectAltName ? `${config}subjectAltName = ${subjectAltName}\n` : config);
  return file;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === "ENOENT")
      throw new Error("openssl is not installed (Debian: apt-get install openssl)", { cause: error });
    throw new Error(`openssl ${args[0]} failed: ${stderr?.trim() ?? String(error)}`, { cause: error });
  }
}
