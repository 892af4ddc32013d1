/**
 * The baseline: the design Google's Cloud Run WebSocket guide points to, as Socket.IO's whiteboard example
 * does it. Each instance relays every event to every other client through @socket.io/redis-adapter;
 * nothing is stored, validated or acknowledged. Same Socket.IO, adapter and redis versions as the service, and the
 * same Redis: the Memorystore stand-in over TLS with AUTH, reached as the service reaches it.
 *
 * Environment: PORT, and REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_CA_CERT as the topology gives them.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Server } from "socket.io";
import { connectPlainRedis } from "../lib/plain-redis";

async function main(): Promise<void> {
  const { pub, sub } = await connectPlainRedis();

  const httpServer = createServer((_req, res) => res.end("ok\n"));
  const io = new Server(httpServer, { transports: ["websocket"], adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => {
    socket.on("drawing", (data: unknown) => socket.broadcast.emit("drawing", data));
  });
  httpServer.listen(Number(process.env.PORT ?? 8080), () => console.log("baseline listening"));
  // close() settles every adapter's closing (it never rejects), then calls back once the HTTP server is closed.
  process.on("SIGTERM", () => void io.close(() => process.exit(0)));
}

void main();
