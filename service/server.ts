/**
 * Composes one whiteboard instance: HTTP server, Socket.IO with the Redis adapter, the board store and
 * presence, and the drain that runs on SIGTERM.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-adapter";
import { Server } from "socket.io";
import { BoardStore } from "./board-store";
import type { Config } from "./config";
import { createHttpHandler } from "./http";
import type { Logger } from "./logger";
import { Presence } from "./presence";
import { createRedisConnections, type CommandClient } from "./redis";
import { attachWhiteboard, type WhiteboardServer } from "./sockets";

export interface WhiteboardService {
  /** Starts listening; Redis connects in the background, and /readyz says when it is up. */
  listen(): Promise<AddressInfo>;
  /** Drains: refuses writes, closes every socket (clients reconnect elsewhere), closes Redis. */
  shutdown(): Promise<void>;
}

export function createWhiteboardService(config: Config, logger: Logger, clientDir: string): WhiteboardService {
  const redis = createRedisConnections(config.redis, logger);
  const store = new BoardStore(redis.commands, config.board);
  let draining = false;
  const isReady = () => !draining && redis.isReady();

  const httpServer = createServer(createHttpHandler({ clientDir, isReady }));
  const io: WhiteboardServer = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    maxHttpBufferSize: config.maxMessageBytes,
    allowRequest: (req, callback) => callback(null, originAllowed(req, config.allowedOrigins)),
    adapter: createAdapter(guardedPublisher(redis.commands, logger), redis.subscriber),
  });

  const namespace = io.of("/");
  const presence = new Presence(
    store,
    config.instanceId,
    {
      localCount: (board) => namespace.adapter.rooms.get(board)?.size ?? 0,
      localBoards: () => new Set([...namespace.sockets.values()].flatMap((socket) => socket.data.board ?? [])),
      emitPresence: (board, count) => io.local.to(board).emit("presence", { count }),
      emitHead: (board, seq) => io.local.to(board).emit("head", { seq }),
      notifyOthers: (board) => io.serverSideEmit("presenceChanged", board),
    },
    logger,
  );
  io.on("presenceChanged", (board) => presence.remoteChanged(board));
  attachWhiteboard(io, { config, store, presence, logger, canWrite: isReady });

  return {
    async listen() {
      redis.connect().catch((error: Error) => logger.error({ error: error.message }, "redis connect failed"));
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, resolve);
      });
      const address = httpServer.address() as AddressInfo;
      logger.info({ port: address.port, redis: config.redis.url, tls: config.redis.tls }, "listening");
      return address;
    },

    async shutdown() {
      draining = true;
      const boards = new Set([...namespace.sockets.values()].flatMap((socket) => socket.data.board ?? []));
      logger.info({ sockets: namespace.sockets.size, boards: boards.size }, "draining");
      // Clients see "transport close" and reconnect by themselves, through the front, to another instance.
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await presence.withdraw(boards);
      await redis.close();
      logger.info("drained");
    },
  };
}

/** Browsers always send Origin on a WebSocket handshake; a request without one is not from a browser page. */
function originAllowed(req: IncomingMessage, allowed: Config["allowedOrigins"]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || allowed === "*") return true;
  if (allowed === "same-origin") {
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }
  return allowed.includes(origin);
}

/**
 * The adapter publishes without handling a rejection, and a publish fails whenever Redis is unreachable;
 * unhandled, that would end the process. The stroke is already stored by then, and clients recover it from
 * `head`, so a failed broadcast is logged (once per outage) and otherwise ignored.
 */
function guardedPublisher(commands: CommandClient, logger: Logger): CommandClient {
  let failing = false;
  const publish = async (...args: Parameters<CommandClient["publish"]>) => {
    try {
      const receivers = await commands.publish(...args);
      failing = false;
      return receivers;
    } catch (error) {
      if (!failing) logger.warn({ error: (error as Error).message }, "broadcast through redis failed");
      failing = true;
      return 0;
    }
  };
  return Object.create(commands, { publish: { value: publish } }) as CommandClient;
}
