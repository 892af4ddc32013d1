/**
 * The local stand-in for Memorystore for Redis Cluster as the stacks configure it (in-transit encryption, IAM
 * authentication): a real Redis Cluster of Debian's redis-server on 127.0.0.1, three primaries each with one replica,
 * every port TLS only (clients, the cluster bus and replication: `--tls-cluster yes --tls-replication yes`), server
 * certificates shaped like the single-instance stand-in's (a CA of its own, CN = 127.0.0.1, no SAN).
 *
 * Authentication, in one of two modes:
 * - `iam` (as the stacks deploy it): a local metadata server (./metadata-server.ts) issues access tokens, and each
 *   token becomes a password of Redis's `default` user on every node until it expires (`ACL SETUSER default >token`,
 *   then `<token`): a connection authenticated with a token stays authenticated after it expires, as Memorystore
 *   documents, and a new connection needs a valid one. Instances get `REDIS_AUTH=iam` and `GCE_METADATA_HOST`.
 * - `password`: one AUTH password, as with the single-instance stand-in.
 * Either way an `admin` user (random password) serves replication, redis-cli and the tests' own operations.
 *
 * The discovery endpoint the instances get (REDIS_HOST, REDIS_PORT) is the first node: Memorystore's is an address
 * of its own in front of the nodes. Failover is Redis's own (`cluster-node-timeout` 1.5 s), and a slot can be moved
 * by hand ({@link RedisCluster.migrateSlot}), key by key, as `redis-cli --cluster reshard` does.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "redis";
import type { RedisConfig } from "../service/config";
import { keySlot } from "../service/redis-slot";
import { checkRedisServerIdentity } from "../service/redis-tls";
import { ManagedProcess } from "./managed-process";
import { MetadataServer } from "./metadata-server";
import { waitFor } from "./ports";
import { CertificateAuthority, type CertificateFiles } from "./tls-certificates";

const run = promisify(execFile);
const adminClient = (options: Parameters<typeof createClient>[0]) => createClient(options);
type AdminClient = ReturnType<typeof adminClient>;
const HOST = "127.0.0.1";

export interface RedisClusterOptions {
  /** Primaries (each gets `replicasPerPrimary` replicas). @default 3 */
  primaries?: number;
  /** @default 1 */
  replicasPerPrimary?: number;
  /** @default "iam" */
  auth?: "iam" | "password";
  /** Lifetime of the metadata server's tokens, with `auth: "iam"`. @default 3600 */
  tokenLifetimeSeconds?: number;
  onLine?: (line: string) => void;
  /** redis-server's log level. @default "warning" */
  logLevel?: "warning" | "notice" | "verbose";
}

export interface ClusterNode {
  index: number;
  port: number;
  busPort: number;
  process: ManagedProcess | undefined;
}

export class RedisCluster {
  readonly host = HOST;
  /** The `admin` user's password: replication, redis-cli, the tests' own operations. */
  readonly adminPassword = randomBytes(24).toString("base64url");
  /** The AUTH password in `password` mode. */
  readonly password = randomBytes(24).toString("base64url");
  readonly nodes: ClusterNode[] = [];
  readonly metadata: MetadataServer | undefined;
  private dir: string | undefined;
  private authority: CertificateAuthority | undefined;
  private server: CertificateFiles | undefined;
  /** Tokens valid now (iam mode), with their expiry timers. */
  private readonly tokens = new Map<string, NodeJS.Timeout>();
  /** The admin connection to each node. */
  private readonly admins = new Map<number, { port: number; client: AdminClient }>();

  constructor(private readonly options: RedisClusterOptions = {}) {
    if ((options.auth ?? "iam") === "iam") {
      this.metadata = new MetadataServer({
        tokenLifetimeSeconds: options.tokenLifetimeSeconds,
        onIssue: (token, expiresAt) => this.addToken(token, expiresAt),
      });
    }
  }

  get auth(): "iam" | "password" {
    return this.options.auth ?? "iam";
  }

  /** The discovery endpoint's port (the first node). */
  get port(): number {
    return this.started().nodes[0]!.port;
  }

  get caCertFile(): string {
    return this.started().authority.files.certFile;
  }

  get caCertPem(): string {
    return this.started().authority.files.certPem;
  }

  /** Exactly the Redis variables the stacks give a Cloud Run instance for a Redis Cluster, with this cluster's values. */
  get serviceEnv(): Record<string, string> {
    return {
      REDIS_HOST: HOST,
      REDIS_PORT: String(this.port),
      REDIS_TLS: "true",
      REDIS_CA_CERT: this.caCertPem,
      REDIS_CLUSTER: "true",
      ...(this.metadata
        ? { REDIS_AUTH: "iam", GCE_METADATA_HOST: this.metadata.host }
        : { REDIS_PASSWORD: this.password }),
    };
  }

  /** The same connection for a client in this process (tests, benchmarks). */
  get clientConfig(): RedisConfig {
    return {
      url: `rediss://${HOST}:${this.port}`,
      tls: true,
      caCert: this.caCertPem,
      cluster: true,
      ...(this.metadata
        ? { password: undefined, iam: { metadataHost: this.metadata.host } }
        : { password: this.password }),
    };
  }

  get running(): boolean {
    return this.nodes.some((node) => node.process?.running);
  }

  async start(): Promise<this> {
    if (this.nodes.length > 0) {
      // A restart of a stopped cluster: every node comes back with its data and its view of the cluster.
      await Promise.all(this.nodes.map((node) => this.startNode(node.index)));
      await this.waitHealthy();
      return this;
    }
    this.dir = mkdtempSync(path.join(tmpdir(), "whiteboard-redis-cluster-"));
    const tlsDir = path.join(this.dir, "tls");
    mkdirSync(tlsDir, { recursive: true });
    this.authority = await CertificateAuthority.create(tlsDir);
    // The nodes also present it to each other as clients (the cluster bus and replication verify both ends).
    this.server = await this.authority.issue("server", { commonName: HOST, clientAuth: true });
    await this.metadata?.start();
    const count = (this.options.primaries ?? 3) * (1 + (this.options.replicasPerPrimary ?? 1));
    for (let index = 0; index < count; index += 1) {
      // The cluster bus listens on port + 10000 (redis-cli's CLUSTER MEET assumes it), so both must be free.
      let port = 0;
      while (
        port === 0 ||
        this.nodes.some((node) => Math.abs(node.port - port) === 10_000 || node.port === port) ||
        !(await portsFree(port, port + 10_000))
      ) {
        port = 20_000 + Math.floor(Math.random() * 25_000);
      }
      this.nodes.push({ index, port, busPort: port + 10_000, process: undefined });
    }
    await Promise.all(this.nodes.map((node) => this.startNode(node.index)));
    await this.redisCli([
      "--cluster",
      "create",
      ...this.nodes.map((node) => `${HOST}:${node.port}`),
      "--cluster-replicas",
      String(this.options.replicasPerPrimary ?? 1),
      "--cluster-yes",
    ]);
    await this.waitHealthy();
    return this;
  }

  /** Starts (or restarts) one node with its data; a killed primary comes back as a replica of its successor. */
  async startNode(index: number): Promise<void> {
    const node = this.node(index);
    const { dir, authority, server } = this.started();
    const nodeDir = path.join(dir, `node-${index}`);
    mkdirSync(nodeDir, { recursive: true });
    const configFile = path.join(nodeDir, "redis.conf");
    // Passwords go in a file readable by this user only, not on the command line that `ps` shows.
    const passwords = this.metadata ? [...this.tokens.keys()] : [this.password];
    writeFileSync(
      configFile,
      [
        `user default on ${passwords.map((password) => `>${password}`).join(" ")} ~* &* +@all`,
        `user admin on >${this.adminPassword} ~* &* +@all`,
        "masteruser admin",
        `masterauth ${this.adminPassword}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const child = new ManagedProcess({
      name: `redis-server cluster node ${index} :${node.port} (TLS)`,
      command: "redis-server",
      args: [
        configFile,
        "--port",
        "0",
        "--tls-port",
        String(node.port),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        path.join(nodeDir, "nodes.conf"),
        "--cluster-node-timeout",
        "1500",
        // A replica promoted must not wait for a long data-age check: Memorystore promotes within seconds too.
        "--cluster-replica-validity-factor",
        "0",
        "--tls-cluster",
        "yes",
        "--tls-replication",
        "yes",
        "--tls-cert-file",
        server.certFile,
        "--tls-key-file",
        server.keyFile,
        "--tls-ca-cert-file",
        authority.files.certFile,
        "--tls-auth-clients",
        "no",
        "--bind",
        HOST,
        "--dir",
        nodeDir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--daemonize",
        "no",
        "--loglevel",
        this.options.logLevel ?? "warning",
      ],
      onLine: this.options.onLine,
    });
    node.process = child;
    child.start();
    const exited = child.exited().then((exit) => {
      throw new Error(`redis-server cluster node ${index} exited at start (${exit.code ?? exit.signal})`);
    });
    await Promise.race([
      waitFor(`cluster node ${index} on TLS port ${node.port}`, () =>
        this.command(index, ["PING"]).then((reply) => reply === "PONG"),
      ),
      exited,
    ]);
  }

  /** SIGKILL: the node's machine dies. Its replica is promoted after the node timeout. */
  async killNode(index: number): Promise<void> {
    this.dropAdmin(index);
    await this.node(index).process?.kill();
  }

  async stopNode(index: number): Promise<void> {
    this.dropAdmin(index);
    await this.node(index).process?.stop("SIGTERM");
  }

  /** Graceful stop of every node; data and cluster state stay for the next start. */
  async stop(): Promise<void> {
    for (const node of this.nodes) this.dropAdmin(node.index);
    const running = this.nodes.map((node) => node.process).filter((process) => process !== undefined);
    await Promise.all(running.map((process) => process.stop("SIGTERM")));
  }

  private dropAdmin(index: number): void {
    this.admins.get(index)?.client.destroy();
    this.admins.delete(index);
  }

  async destroy(): Promise<void> {
    for (const timer of this.tokens.values()) clearTimeout(timer);
    this.tokens.clear();
    await this.stop();
    await this.metadata?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** A command on one node, as the admin user (over a connection kept per node, opened again after a failure). */
  async command(index: number, args: string[]): Promise<unknown> {
    const node = this.node(index);
    let client = this.admins.get(index);
    if (!client || client.port !== node.port || !client.client.isReady) {
      client?.client.destroy();
      const fresh = adminClient({
        socket: {
          host: HOST,
          port: node.port,
          tls: true,
          ca: this.caCertPem,
          checkServerIdentity: checkRedisServerIdentity,
          connectTimeout: 1_000,
          reconnectStrategy: false,
        },
        username: "admin",
        password: this.adminPassword,
        disableOfflineQueue: true,
      });
      fresh.on("error", () => undefined);
      client = { port: node.port, client: fresh };
      this.admins.set(index, client);
      try {
        await fresh.connect();
      } catch (error) {
        this.admins.delete(index);
        fresh.destroy();
        throw error;
      }
    }
    try {
      return await client.client.sendCommand(args);
    } catch (error) {
      if (!client.client.isReady) this.admins.delete(index);
      throw error;
    }
  }

  /** Each live node's id, role and, for a primary, its slot ranges (CLUSTER NODES, as a running node sees it). */
  async topology(): Promise<
    { index: number; id: string; primary: boolean; primaryId: string; slots: [number, number][] }[]
  > {
    const live = this.nodes.filter((node) => node.process?.running);
    for (const node of live) {
      const text = await this.command(node.index, ["CLUSTER", "NODES"]).catch(() => undefined);
      if (typeof text !== "string") continue;
      return text
        .trim()
        .split("\n")
        .flatMap((line) => {
          const [id = "", address = "", flags = "", primaryId = "", , , , , ...slots] = line.split(" ");
          const port = Number(address.split("@")[0]?.split(":")[1]);
          const found = this.nodes.find((candidate) => candidate.port === port);
          if (!found || flags.includes("fail") || flags.includes("noaddr")) return [];
          return [
            {
              index: found.index,
              id,
              primary: flags.includes("master"),
              primaryId,
              slots: slots
                .filter((slot) => !slot.startsWith("["))
                .map((slot) => {
                  const [from, to] = slot.split("-").map(Number);
                  return [from!, to ?? from!] as [number, number];
                }),
            },
          ];
        });
    }
    throw new Error("no cluster node answers");
  }

  /** The node that holds `key`'s slot as primary. */
  async primaryOf(key: string): Promise<number> {
    const slot = keySlot(key);
    const owner = (await this.topology()).find(
      (node) => node.primary && node.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!owner) throw new Error(`no primary holds slot ${slot}`);
    return owner.index;
  }

  /** A replica of the primary at `index`. */
  async replicaOf(index: number): Promise<number> {
    const nodes = await this.topology();
    const primary = nodes.find((node) => node.index === index);
    const replica = nodes.find((node) => !node.primary && node.primaryId === primary?.id);
    if (!replica) throw new Error(`node ${index} has no live replica`);
    return replica.index;
  }

  /**
   * Moves `key`'s slot to another primary, as `redis-cli --cluster reshard` moves each slot: IMPORTING on the target,
   * MIGRATING on the source, the keys one MIGRATE at a time (`pauseMs` apart, so clients meet the half-moved slot),
   * then the slot assigned to the target on every primary. Returns the source and target node indexes.
   */
  async migrateSlot(key: string, pauseMs = 0): Promise<{ from: number; to: number }> {
    const slot = keySlot(key);
    const nodes = await this.topology();
    const source = nodes.find((node) => node.primary && node.slots.some(([from, to]) => slot >= from && slot <= to));
    const target = nodes.find((node) => node.primary && node !== source);
    if (!source || !target) throw new Error(`cannot find a source and a target for slot ${slot}`);
    const targetPort = this.node(target.index).port;
    await this.command(target.index, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id]);
    await this.command(source.index, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id]);
    for (;;) {
      const keys = (await this.command(source.index, ["CLUSTER", "GETKEYSINSLOT", String(slot), "1"])) as string[];
      if (keys.length === 0) break;
      await this.command(source.index, [
        "MIGRATE",
        HOST,
        String(targetPort),
        "",
        "0",
        "5000",
        "AUTH2",
        "admin",
        this.adminPassword,
        "KEYS",
        ...keys,
      ]);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    for (const node of nodes.filter((candidate) => candidate.primary)) {
      await this.command(node.index, ["CLUSTER", "SETSLOT", String(slot), "NODE", target.id]);
    }
    return { from: source.index, to: target.index };
  }

  /** Waits until every live node says the cluster is ok and every slot is served. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      "the Redis Cluster to be healthy",
      async () => {
        const live = this.nodes.filter((node) => node.process?.running);
        const infos = await Promise.all(
          live.map((node) => this.command(node.index, ["CLUSTER", "INFO"]).catch(() => "")),
        );
        if (
          !infos.every(
            (info) => String(info).includes("cluster_state:ok") && String(info).includes("cluster_slots_ok:16384"),
          )
        )
          return false;
        // And every primary's replicas are attached and streaming, so that WAIT can count them.
        const replication = await Promise.all(
          live.map((node) => this.command(node.index, ["INFO", "replication"]).catch(() => "")),
        );
        return replication.every((info) => {
          const text = String(info);
          if (!text.includes("role:master")) return text.includes("master_link_status:up");
          const expected =
            this.nodes.filter((node) => node.process?.running).length > this.nodes.length - 1
              ? (this.options.replicasPerPrimary ?? 1)
              : 0;
          return Number(/connected_slaves:(\d+)/.exec(text)?.[1] ?? 0) >= expected;
        });
      },
      timeoutMs,
      100,
    );
  }

  /** Runs redis-cli as the admin user against the first live node. */
  async redisCli(args: string[]): Promise<string> {
    const { stdout } = await run(
      "redis-cli",
      [
        "--tls",
        "--cacert",
        this.caCertFile,
        "--user",
        "admin",
        "--pass",
        this.adminPassword,
        "--no-auth-warning",
        ...args,
      ],
      {
        timeout: 60_000,
      },
    );
    return stdout;
  }

  private async addToken(token: string, expiresAt: number): Promise<void> {
    const apply = (args: string[]) =>
      Promise.allSettled(
        this.nodes
          .filter((node) => node.process?.running)
          .map((node) => this.command(node.index, ["ACL", "SETUSER", "default", ...args])),
      );
    await apply([`>${token}`]);
    const timer = setTimeout(
      () => {
        this.tokens.delete(token);
        void apply([`<${token}`]);
      },
      Math.max(0, expiresAt - Date.now()),
    );
    timer.unref();
    this.tokens.set(token, timer);
  }

  private node(index: number): ClusterNode {
    const node = this.nodes[index];
    if (!node) throw new Error(`no cluster node ${index}`);
    return node;
  }

  private started(): { dir: string; authority: CertificateAuthority; server: CertificateFiles; nodes: ClusterNode[] } {
    if (!this.dir || !this.authority || !this.server)
      throw new Error("the Redis Cluster stand-in has not been started");
    return { dir: this.dir, authority: this.authority, server: this.server, nodes: this.nodes };
  }
}

/** Whether every port can be listened on at 127.0.0.1 right now. */
async function portsFree(...ports: number[]): Promise<boolean> {
  const { createServer } = await import("node:net");
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, HOST, () => server.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}
