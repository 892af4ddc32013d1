/**
 * A TCP relay between one service instance and Redis that counts the bytes each connection carries (TLS passes
 * through untouched: the instance still verifies Redis's certificate, issued for 127.0.0.1, which the relay is on).
 * Every connection of the instance (commands, subscriber) goes through it.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface ConnectionBytes {
  /** Bytes Redis sent the instance, and the instance sent Redis. */
  fromRedis: number;
  toRedis: number;
}

/**
 * Bytes Redis sent on the instance's subscriber connection(s) between two readings of `connections`: a subscriber
 * receives and sends next to nothing (no keep-alive, no commands once subscribed), where a command connection sends
 * at least as much as its requests. The relay cannot read the TLS traffic, so it tells them apart by that.
 */
export function subscriberBytes(before: readonly ConnectionBytes[], after: readonly ConnectionBytes[]): number {
  let total = 0;
  after.forEach((now, index) => {
    const was = before[index] ?? { fromRedis: 0, toRedis: 0 };
    const received = now.fromRedis - was.fromRedis;
    const sent = now.toRedis - was.toRedis;
    if (sent <= 0.01 * received) total += received;
  });
  return total;
}

export class CountingRelay {
  /** Every connection made through the relay, in the order they were opened. */
  readonly connections: ConnectionBytes[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly redisPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(this.redisPort, "127.0.0.1");
      const bytes: ConnectionBytes = { fromRedis: 0, toRedis: 0 };
      this.connections.push(bytes);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      upstream.on("data", (chunk: Buffer) => (bytes.fromRedis += chunk.length));
      client.on("data", (chunk: Buffer) => (bytes.toRedis += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  /** The counts of every connection now (a copy). */
  reading(): ConnectionBytes[] {
    return this.connections.map((bytes) => ({ ...bytes }));
  }

  /** Bytes Redis sent on all connections. */
  get fromRedis(): number {
    return this.connections.reduce((sum, bytes) => sum + bytes.fromRedis, 0);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
