/**
 * The local stand-in for Memorystore for Redis as the stacks configure it (in-transit encryption and AUTH): a real
 * redis-server on 127.0.0.1 that listens for TLS only (no plain-text port) and requires a password, with a server
 * certificate shaped like Memorystore's: signed by a CA made for this server, subject CN = 127.0.0.1, no subject
 * alternative names. Instances get what Cloud Run gives them from the stacks ({@link RedisServer.serviceEnv}).
 *
 * It keeps an append-only file that a graceful stop flushes, and a restart keeps the data, port, certificates and
 * password, so a test can restart Redis and expect every acked stroke back. With `persistence: false` it keeps no
 * file at all, and a restart comes back empty, as a Basic-tier Memorystore may after maintenance. It can also be a
 * replica of another stand-in (`replicaOf`, same CA and password: a Standard-tier pair, see ./standard-tier.ts).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "node:tls";
import type { RedisConfig } from "../service/config";
import { createClient } from "redis";
import { checkRedisServerIdentity, redisTlsOptions } from "../service/redis-tls";
import { ManagedProcess } from "./managed-process";
import { freePort, waitFor } from "./ports";
import { CertificateAuthority, type CertificateFiles } from "./tls-certificates";

/** Memorystore's host is the instance's IP address, and so is this one's. */
const HOST = "127.0.0.1";

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** The redis-server binary. Default: `redis-server` on PATH. */
  binary?: string;
  onLine?: (line: string) => void;
  /** False: no append-only file and no RDB snapshot, so a restart comes back empty. Default true. */
  persistence?: boolean;
  /**
   * Another stand-in whose CA and password this one uses (a certificate of its own from that CA), as the nodes
   * of one Memorystore instance share its CA and AUTH string. It must have been started.
   */
  credentialsFrom?: RedisServer;
  /**
   * Replicate from this address (`REPLICAOF`), over TLS (`tls-replication`) with the shared password
   * (`masterauth`): give `credentialsFrom` the primary too.
   */
  replicaOf?: { host?: string; port: number };
}

interface Tls {
  authority: CertificateAuthority;
  server: CertificateFiles;
}

export class RedisServer {
  /** The AUTH password, random for each stand-in, as Memorystore's AUTH string is for each instance. */
  readonly password: string;
  readonly host = HOST;
  private process: ManagedProcess | undefined;
  private dir: string | undefined;
  private tls: Tls | undefined;
  private portNumber = 0;

  constructor(private readonly options: RedisServerOptions = {}) {
    this.password = options.credentialsFrom?.password ?? randomBytes(24).toString("base64url");
  }

  get port(): number {
    return this.started().port;
  }

  /** PEM file of the CA that signed the server's certificate (for `redis-cli --tls --cacert`). */
  get caCertFile(): string {
    return this.started().tls.authority.files.certFile;
  }

  /** Exactly the Redis variables the stacks give a Cloud Run instance, with this server's values. */
  get serviceEnv(): Record<string, string> {
    const { port, tls } = this.started();
    return {
      REDIS_HOST: HOST,
      REDIS_PORT: String(port),
      REDIS_TLS: "true",
      REDIS_CA_CERT: tls.authority.files.certPem,
      REDIS_PASSWORD: this.password,
    };
  }

  /** The same connection, for a Redis client in this process (tests, benchmarks). */
  get clientConfig(): RedisConfig {
    const { port, tls } = this.started();
    return { url: `rediss://${HOST}:${port}`, password: this.password, tls: true, caCert: tls.authority.files.certPem };
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<this> {
    this.portNumber ||= this.options.port ?? (await freePort());
    this.dir ??= mkdtempSync(path.join(tmpdir(), "whiteboard-redis-"));
    this.tls ??= await createCertificates(path.join(this.dir, "tls"), this.options.credentialsFrom);
    const { replicaOf, persistence = true } = this.options;
    // The password goes in a file readable by this user only, not on the command line that `ps` shows.
    const configFile = path.join(this.dir, "redis.conf");
    writeFileSync(configFile, `requirepass ${this.password}\n${replicaOf ? `masterauth ${this.password}\n` : ""}`, {
      mode: 0o600,
    });
    this.process = new ManagedProcess({
      name: `redis-server :${this.portNumber} (TLS)`,
      command: this.options.binary ?? "redis-server",
      args: [
        configFile,
        "--port",
        "0",
        "--tls-port",
        String(this.portNumber),
        "--tls-cert-file",
        this.tls.server.certFile,
        "--tls-key-file",
        this.tls.server.keyFile,
        "--tls-ca-cert-file",
        this.tls.authority.files.certFile,
        // Memorystore asks clients for no certificate: the CA authenticates the server, AUTH the client.
        "--tls-auth-clients",
        "no",
        "--bind",
        HOST,
        "--dir",
        this.dir,
        "--save",
        "",
        ...(persistence ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"]),
        // Replication over TLS, as Memorystore's in-transit encryption covers it; a full sync starts at once.
        "--tls-replication",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        ...(replicaOf ? ["--replicaof", replicaOf.host ?? HOST, String(replicaOf.port)] : []),
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
      ],
      onLine: this.options.onLine,
    });
    this.process.start();
    const exited = this.process.exited().then((exit) => {
      throw new Error(`redis-server exited at start (${exit.code ?? exit.signal})`);
    });
    const { port, tls } = this.started();
    await Promise.race([
      waitFor(`redis-server on TLS port ${port}`, () => ping(port, tls.authority.files.certPem, this.password)),
      exited,
    ]);
    return this;
  }

  /** Graceful stop (SIGTERM): Redis flushes its data and exits. The data stays for the next start (with persistence). */
  async stop(): Promise<void> {
    await this.process?.stop("SIGTERM");
  }

  /** SIGKILL, as when the machine under a primary dies: nothing is flushed. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  /** Runs one command over TLS with AUTH, as any client would (REPLICAOF, INFO, HKEYS...). */
  async command(args: readonly string[]): Promise<unknown> {
    const { url, password, caCert } = this.clientConfig;
    const client = createClient({ url, password, socket: { ...redisTlsOptions(caCert), reconnectStrategy: false } });
    client.on("error", () => undefined);
    await client.connect();
    try {
      return await client.sendCommand([...args]);
    } finally {
      client.destroy();
    }
  }

  /** `INFO replication`, as fields. */
  async replicationInfo(): Promise<Record<string, string>> {
    const text = String(await this.command(["INFO", "replication"]));
    return Object.fromEntries(
      text
        .split("\r\n")
        .filter((line) => line.includes(":"))
        .map((line) => line.split(":", 2) as [string, string]),
    );
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  /**
   * Memorystore's server certificate rotation (every 180 days): a new certificate from the same CA, and connections
   * dropped meanwhile. Clients that trust the CA, not the certificate, reconnect.
   */
  async rotateServerCertificate(): Promise<void> {
    const { tls } = this.started();
    tls.server = await tls.authority.issue(`server-${Date.now()}`, { commonName: HOST });
    await this.restart();
  }

  /** Stops and deletes the data and the certificates. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.tls = undefined;
  }

  /** @internal Also read by a stand-in that shares this one's credentials. */
  started(): { port: number; tls: Tls } {
    if (!this.tls) throw new Error("the Redis stand-in has not been started");
    return { port: this.portNumber, tls: this.tls };
  }
}

async function createCertificates(dir: string, from: RedisServer | undefined): Promise<Tls> {
  mkdirSync(dir, { recursive: true });
  const authority = from ? from.started().tls.authority : await CertificateAuthority.create(dir);
  // In the CA's folder, under a name of its own when the CA is shared.
  return {
    authority,
    server: await authority.issue(from ? `server-${randomBytes(4).toString("hex")}` : "server", { commonName: HOST }),
  };
}

/** True once the server answers AUTH and PING over TLS, verified as the service verifies it. */
function ping(port: number, caCert: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, ca: caCert, checkServerIdentity: checkRedisServerIdentity }, () =>
      socket.write(`AUTH ${password}\r\nPING\r\n`),
    );
    let replies = "";
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500);
    socket.on("data", (data: Buffer) => {
      replies += data.toString();
      if (replies.split("\r\n").length > 2) finish(replies === "+OK\r\n+PONG\r\n");
    });
    socket.once("error", () => finish(false));
    socket.once("timeout", () => finish(false));
  });
}
