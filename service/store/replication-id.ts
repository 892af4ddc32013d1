/**
 * The replication id of the server behind one Redis connection, read once per connection instead of in every script.
 *
 * A board whose store generation differs from the server's replication id may have lost its last writes and takes a
 * new epoch (./redis-scripts.ts). Redis changes the id on every restart and on every promotion of a replica, and a
 * promotion is the only way the id changes under an open connection. Memorystore for Redis drops every connection
 * to the primary endpoint at a failover, and a restart drops them all, so within one connection the id is constant;
 * docs/store.md ("The replication id, once per connection") has the argument, and why a Redis Cluster keeps the
 * check in the script.
 *
 * The cached id belongs to the connection that answered INFO: node-redis emits `ready` for each new connection
 * before any command can be sent on it (the offline queue is off, so nothing queued for an old connection reaches a
 * new one), which forgets the id. The caller sends its script right after `current()` resolves, with no I/O in
 * between, so the script goes out on the connection the id was read from.
 */
export interface ReplicationIdClient {
  info(section: string): Promise<string>;
  on(event: "ready", listener: () => void): unknown;
}

export class ConnectionReplicationId {
  /** Counts connections: bumped by each `ready`. */
  private connection = 0;
  private known: { connection: number; id: string } | undefined;

  constructor(private readonly client: ReplicationIdClient) {
    client.on("ready", () => {
      this.connection += 1;
      this.known = undefined;
    });
  }

  async current(): Promise<string> {
    for (;;) {
      if (this.known?.connection === this.connection) return this.known.id;
      const connection = this.connection;
      const info = await this.client.info("replication");
      // Read on the connection that is still the current one: keep it. Else another came up meanwhile: read again.
      if (connection !== this.connection) continue;
      this.known = { connection, id: /^master_replid:(\w+)/m.exec(info)?.[1] ?? "-" };
    }
  }
}
