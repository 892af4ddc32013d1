/**
 * A TCP relay on 127.0.0.1 that plays the network between two parties, for fault tests and benchmarks. Bytes pass
 * through untouched (TLS included: the certificate still names 127.0.0.1), and the relay can do two things a real
 * network does to Redis:
 *
 * - **move** (`moveTo`): the address stays, the server behind it changes, and every open connection is cut, as
 *   Memorystore keeps its IP across a failover and drops the connections to the old primary;
 * - **partition** (`partition`): bytes stop flowing both ways, silently, on open connections and on new ones,
 *   as when packets are dropped between a primary and its replica; nothing is closed, so neither side knows
 *   until its own timeouts. `heal` resets the connections the partition held, and the parties reconnect.
 *
 * It can also delay every byte by `latencyMs` each way (a replica in another zone), set before traffic flows, and
 * counts the bytes it passes each way (what a client behind it read from the server: on the wire, framing included).
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface RelayTarget {
  host?: string;
  port: number;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Opened or held while partitioned: its byte stream is broken, so healing resets it. */
  broken: boolean;
}

export class TcpRelay {
  private readonly pairs = new Set<Pair>();
  private partitioned = false;
  /** One-way delay added to every chunk of bytes, in ms (0: none). */
  latencyMs = 0;
  /**
   * Connections accepted, connections the relay cut (moves and heals), bytes dropped by a partition, and bytes passed
   * from the server to the client (`bytesDown`) and from the client to the server (`bytesUp`).
   */
  readonly stats = { accepted: 0, cut: 0, bytesDropped: 0, bytesDown: 0, bytesUp: 0 };

  private constructor(
    private readonly server: Server,
    private target: RelayTarget,
  ) {}

  /** Listens on `port` (default: a free one) and relays every connection to `target`. */
  static async listen(target: RelayTarget, port = 0): Promise<TcpRelay> {
    const server = createServer();
    const relay = new TcpRelay(server, target);
    server.on("connection", (client) => relay.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Connections open through the relay now. */
  get open(): number {
    return this.pairs.size;
  }

  get isPartitioned(): boolean {
    return this.partitioned;
  }

  /** New connections go to `target`; every open one is cut. */
  moveTo(target: RelayTarget): void {
    this.target = target;
    this.cutAll();
  }

  /** Drops every byte both ways from now on, on open connections and new ones, closing nothing. */
  partition(): void {
    this.partitioned = true;
    for (const pair of this.pairs) pair.broken = true;
  }

  /** Ends the partition: the connections it held are reset (their streams lost bytes), new ones flow. */
  heal(): void {
    this.partitioned = false;
    for (const pair of [...this.pairs]) if (pair.broken) this.cut(pair);
  }

  /** Cuts every open connection (both sides see it closed). */
  cutAll(): void {
    for (const pair of [...this.pairs]) this.cut(pair);
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.accepted += 1;
    const upstream = connect({ host: this.target.host ?? "127.0.0.1", port: this.target.port });
    const pair: Pair = { client, upstream, broken: this.partitioned };
    this.pairs.add(pair);
    const forward = (to: Socket, counter: "bytesUp" | "bytesDown") => (data: Buffer) => {
      if (this.partitioned || pair.broken) this.stats.bytesDropped += data.length;
      else {
        this.stats[counter] += data.length;
        if (this.latencyMs > 0) setTimeout(() => to.write(data), this.latencyMs);
        else to.write(data);
      }
    };
    client.on("data", forward(upstream, "bytesUp"));
    upstream.on("data", forward(client, "bytesDown"));
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      socket.setNoDelay(true);
      // Either side closing or failing (the server is dead: connection refused) closes the other.
      socket.on("error", () => other.destroy());
      socket.on("close", () => {
        other.destroy();
        this.pairs.delete(pair);
      });
    }
  }

  private cut(pair: Pair): void {
    this.stats.cut += 1;
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
