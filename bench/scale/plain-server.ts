/**
 * The plain adapter for the scale-out benchmark: @socket.io/redis-adapter's classic `createAdapter` (PUBLISH on one
 * channel per namespace, PSUBSCRIBE by every instance), as bench/baseline/server.ts uses it, with one room per board
 * as the service has, and nothing stored. Every instance receives every board's messages and drops those for rooms it
 * has no socket in: the design the sharded adapter replaces.
 *
 * Events: `join` { board } (acked), `drawing` (relayed to the board's other clients). Environment: PORT, REDIS_HOST,
 * REDIS_PORT, REDIS_PASSWORD, REDIS_CA_CERT as the topology gives them.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { type DefaultEventsMap, Server } from "socket.io";
import { connectPlainRedis } from "../lib/plain-redis";

async function main(): Promise<void> {
  const { pub, sub } = await connectPlainRedis();

  const httpServer = createServer((_req, res) => res.end("ok\n"));
  const io = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, { board?: string }>(httpServer, {
    transports: ["websocket"],
    adapter: createAdapter(pub, sub),
  });
  io.on("connection", (socket) => {
    const join = async (request: { board: string }, ack: (answer: { ok: boolean }) => void) => {
      await socket.join(`b:{${request.board}}`.padEnd(21, ":"));
      socket.data.board = request.board;
      ack({ ok: true });
    };
    // Socket.IO ignores what a listener returns; a join that fails goes unanswered, which the worker's timeout reports.
    socket.on("join", (request: { board: string }, ack: (answer: { ok: boolean }) => void) => void join(request, ack));
    socket.on("drawing", (data: unknown) => {
      const board = socket.data.board;
      if (board) socket.to(`b:{${board}}`.padEnd(21, ":")).emit("drawing", data);
    });
  });
  httpServer.listen(Number(process.env.PORT ?? 8080), () => console.log("plain adapter listening"));
  // close() settles every adapter's closing (it never rejects), then calls back once the HTTP server is closed.
  process.on("SIGTERM", () => void io.close(() => process.exit(0)));
}

void main();
