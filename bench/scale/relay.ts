/**
 * A TCP relay between one service instance and Redis that counts the bytes Redis sends that instance (TLS passes
 * through untouched: the instance still verifies Redis's certificate, issued for 127.0.0.1, which the relay is on).
 * Both of the instance's connections (commands, subscriber) go through it.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export class CountingRelay {
  /** Bytes Redis sent to the instance, and the instance to Redis. */
  readonly bytes = { fromRedis: 0, toRedis: 0 };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly redisPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(this.redisPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      upstream.on("data", (chunk: Buffer) => (this.bytes.fromRedis += chunk.length));
      client.on("data", (chunk: Buffer) => (this.bytes.toRedis += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
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
