/**
 * The baseline: the design Google's Cloud Run WebSocket guide points to, as Socket.IO's whiteboard example
 * does it. Each instance relays every event to every other client through @socket.io/redis-adapter;
 * nothing is stored, validated or acknowledged. Same Socket.IO, adapter and redis versions as the service.
 *
 * Environment: PORT, REDIS_URL.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";

async function main(): Promise<void> {
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on("error", (error: Error) => console.error("redis:", error.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = createServer((_req, res) => res.end("ok\n"));
  const io = new Server(httpServer, { transports: ["websocket"], adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => {
    socket.on("drawing", (data: unknown) => socket.broadcast.emit("drawing", data));
  });
  httpServer.listen(Number(process.env.PORT ?? 8080), () => console.log("baseline listening"));
  process.on("SIGTERM", () => io.close(() => process.exit(0)));
}

void main();
