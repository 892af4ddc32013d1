/**
 * Memorystore for Redis Standard Tier on one machine, for fault tests and benchmarks: a primary and a replica
 * (both the TLS and AUTH stand-in of ./redis-server.ts, one CA and one password), replicating over TLS through a
 * relay that can be partitioned, and the instance's one address, a relay that a failover moves from the primary to
 * the replica (./tcp-relay.ts).
 *
 *   service instances ──> address (fixed port) ──> primary ──replication relay──> replica
 *
 * Replication is asynchronous, as Memorystore's is: a primary acknowledges a write before its replica has it. A
 * partition of the replication link lets the primary acknowledge writes that never reach the replica; a failover
 * then (the primary killed, the replica promoted with `REPLICAOF NO ONE`, the address moved, open connections cut)
 * loses them, as a Memorystore failover may. What Memorystore does on its own (deciding to fail over, how long it
 * takes, the old primary coming back as a replica) is played here by the test, step by step.
 */
import type { RedisConfig } from "../service/config";
import { waitFor } from "./ports";
import { RedisServer } from "./redis-server";
import { TcpRelay } from "./tcp-relay";

export interface StandardTierOptions {
  /** Receives every output line of both servers, with `primary` or `replica`. */
  onLine?: (source: string, line: string) => void;
}

export class StandardTierRedis {
  private constructor(
    private readonly options: StandardTierOptions,
    private primaryServer: RedisServer,
    private replicaServer: RedisServer | undefined,
    private readonly replication: TcpRelay,
    private readonly address: TcpRelay,
    private readonly retired: RedisServer[] = [],
  ) {}

  static async start(options: StandardTierOptions = {}): Promise<StandardTierRedis> {
    // No persistence: Memorystore's Standard Tier keeps the data in the replica, not on disk.
    const primary = await new RedisServer({
      persistence: false,
      onLine: (line) => options.onLine?.("primary", line),
    }).start();
    const replication = await TcpRelay.listen({ port: primary.port });
    const replica = new RedisServer({
      persistence: false,
      credentialsFrom: primary,
      replicaOf: { port: replication.port },
      onLine: (line) => options.onLine?.("replica", line),
    });
    await replica.start();
    const address = await TcpRelay.listen({ port: primary.port });
    const tier = new StandardTierRedis(options, primary, replica, replication, address);
    await waitFor(
      "the replica to finish its first sync",
      async () => (await replica.replicationInfo()).master_link_status === "up",
      10_000,
      50,
    );
    return tier;
  }

  /** The server behind the address now. */
  get primary(): RedisServer {
    return this.primaryServer;
  }

  /** The replica, until a failover promotes it. */
  get replica(): RedisServer | undefined {
    return this.replicaServer;
  }

  /** The Redis variables of a Cloud Run instance: the address, which stays the same across a failover. */
  get serviceEnv(): Record<string, string> {
    return { ...this.primaryServer.serviceEnv, REDIS_PORT: String(this.address.port) };
  }

  /** The same, for a Redis client in this process. */
  get clientConfig(): RedisConfig {
    return { ...this.primaryServer.clientConfig, url: `rediss://127.0.0.1:${this.address.port}` };
  }

  /** Connections open to the address now. */
  get openConnections(): number {
    return this.address.open;
  }

  /** Drops the replication stream silently: what the primary acknowledges from now on stays on the primary. */
  partitionReplication(): void {
    this.replication.partition();
  }

  /** Ends the partition: the replica reconnects and catches up (a partial resync from the primary's backlog). */
  healReplication(): void {
    this.replication.heal();
  }

  /**
   * Delays the replication stream by `ms` each way from now on, as for a replica in another zone. The stream is cut
   * so that all of it is delayed alike; resolves once the replica has caught up again.
   */
  async setReplicationLatency(ms: number): Promise<void> {
    this.replication.latencyMs = ms;
    this.replication.cutAll();
    const replica = this.replicaServer;
    if (replica)
      await waitFor(
        "the replica to reconnect",
        async () => (await replica.replicationInfo()).master_link_status === "up",
        15_000,
        50,
      );
  }

  /** How many replication bytes the replica lacks (the primary's offset minus the replica's). */
  async replicationLag(): Promise<number> {
    if (!this.replicaServer) return 0;
    const [primary, replica] = await Promise.all([
      this.primaryServer.replicationInfo(),
      this.replicaServer.replicationInfo(),
    ]);
    return Number(primary.master_repl_offset) - Number(replica.slave_repl_offset ?? replica.master_repl_offset);
  }

  /** Step 1 of a failover: the primary dies (SIGKILL). The address now leads nowhere: connections are refused. */
  async killPrimary(): Promise<void> {
    await this.primaryServer.kill();
  }

  /** Step 2: the replica becomes a primary, with what it had (`REPLICAOF NO ONE`; its replication id changes). */
  async promoteReplica(): Promise<RedisServer> {
    const replica = this.replicaServer;
    if (!replica) throw new Error("no replica to promote: it was promoted already");
    await replica.command(["REPLICAOF", "NO", "ONE"]);
    return replica;
  }

  /** Step 3: the address moves to the promoted replica, and every connection still open to it is cut. */
  moveAddress(): void {
    const replica = this.replicaServer;
    if (!replica) throw new Error("no replica to move the address to");
    this.address.moveTo({ port: replica.port });
    this.retired.push(this.primaryServer);
    this.primaryServer = replica;
    this.replicaServer = undefined;
  }

  /**
   * After a failover, Memorystore gives the new primary a replica again: here a fresh stand-in that replicates from
   * it (a full sync) through the replication relay. Resolves once it is in sync.
   */
  async addReplica(): Promise<RedisServer> {
    if (this.replicaServer) throw new Error("the primary has a replica already");
    this.replication.moveTo({ port: this.primaryServer.port });
    const replica = new RedisServer({
      persistence: false,
      credentialsFrom: this.primaryServer,
      replicaOf: { port: this.replication.port },
      onLine: (line) => this.options.onLine?.("replica", line),
    });
    this.replicaServer = replica;
    await replica.start();
    await waitFor(
      "the new replica to finish its first sync",
      async () => (await replica.replicationInfo()).master_link_status === "up",
      10_000,
      50,
    );
    return replica;
  }

  /** A whole failover: the primary killed, the replica promoted `downMs` later, the address moved. */
  async failover(downMs = 500): Promise<void> {
    await this.killPrimary();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.promoteReplica();
    this.moveAddress();
  }

  async stop(): Promise<void> {
    await Promise.all([this.address.close(), this.replication.close()]);
    const servers = [this.replicaServer, this.primaryServer, ...this.retired].filter((server) => server !== undefined);
    await Promise.all(servers.map((server) => server.destroy()));
  }
}
