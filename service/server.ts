/**
 * Composes one whiteboard instance: HTTP server, Socket.IO with the Redis adapter, the board store and
 * presence, and the drain that runs on SIGTERM.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { getHeapStatistics } from "node:v8";
import { Server } from "socket.io";
import type { BoardOp } from "../protocol/events";
import { forwardedScheme, requestOrigin } from "./client-address";
import type { Config } from "./config";
import { ConnectionLimits } from "./connection-limits";
import { createHttpHandler } from "./http";
import type { Logger } from "./logger";
import { Presence } from "./presence";
import { RawJson, rawJsonParser } from "./raw-json";
import { BoardWriter } from "./board-writer";
import { CursorRelay } from "./cursors";
import { ServiceMetrics } from "./metrics";
import { MetricsServer } from "./metrics-server";
import type { ShardedReplicaWait } from "./replica-wait";
import { BoardAdapter } from "./fanout/board-adapter";
import { BoardFanout } from "./fanout/board-fanout";
import { SelfCheck } from "./self-check";
import { attachWhiteboard, boardRoom, type WhiteboardServer } from "./sockets";
import { createStorage } from "./storage";

/** Most adds and appends in one store call: bounds one Lua script's run (and so every other board's wait). */
const WRITE_BATCH = 64;

export interface WhiteboardService {
  /** Starts listening; storage connects in the background, and /readyz says when it is up. */
  listen(): Promise<AddressInfo>;
  /** Drains: refuses writes, closes every socket (clients reconnect elsewhere), closes Redis. */
  shutdown(): Promise<void>;
}

export function createWhiteboardService(config: Config, logger: Logger, clientDir: string): WhiteboardService {
  const storage = createStorage(config, logger);
  const metrics = new ServiceMetrics();
  const metricsServer = new MetricsServer(metrics);
  const store = metrics.instrumentStore(storage.store);
  let draining = false;
  // Ready only once the real Redis has shown every capability the service uses (./self-check.ts).
  const selfCheck =
    config.store.kind === "redis" && storage.redis
      ? new SelfCheck({
          redis: storage.redis,
          config: config.store.redis,
          waitReplicas: config.store.replication.replicas,
          waitTimeoutMs: config.store.replication.timeoutMs,
          instanceId: config.instanceId,
          logger,
        })
      : undefined;
  const isReady = () => !draining && storage.isReady() && (selfCheck?.passed ?? true);

  const httpServer = createServer(createHttpHandler({ clientDir, isReady, sourceMaps: config.sourceMaps }));
  const fanout = new BoardFanout({
    frameIntervalMs: config.frameIntervalMs,
    ...(storage.redis ? { redis: storage.redis } : {}),
    logger,
    // Spliced into the packet as stored (see raw-json.ts); on the wire it is the BoardOp[] of the protocol.
    emit: (room, e, ops) => io.local.to(room).emit("ops", { e, ops: new RawJson(ops) as unknown as BoardOp[] }),
    onRemoteCursors: (room, positions) => cursors.received(room, positions),
  });
  const limits = new ConnectionLimits(config.connections, logger, metrics.registry, {
    writeBytes: config.rateLimit.writeBytesPerAddress,
    readBytes: config.rateLimit.readBytesPerAddress,
  });
  const io: WhiteboardServer = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    maxHttpBufferSize: config.maxMessageBytes,
    parser: rawJsonParser,
    // Sockets per instance and per client address, before the WebSocket is accepted (./connection-limits.ts).
    allowRequest: (req, callback) => {
      const refusal = limits.admit(req, originAllowed(req, config.allowedOrigins));
      callback(refusal ?? null, refusal === undefined);
    },
    // A connection that opens no socket within the join timeout is closed (a socket that joins no board, below).
    connectTimeout: config.connections.joinTimeoutMs,
    ...(fanout.adapterClass ? { adapter: fanout.adapterClass } : {}),
  });
  io.engine.on("connection", (conn: Parameters<ConnectionLimits["watchConnection"]>[0]) =>
    limits.watchConnection(conn),
  );
  io.on("connection", (socket) => limits.watchSocket(socket));

  const namespace = io.of("/");
  metrics.instrumentFanout(namespace.adapter);
  const presence = new Presence(
    store,
    config.instanceId,
    {
      localCount: (board) => namespace.adapter.rooms.get(boardRoom(board))?.size ?? 0,
      localBoards: () => new Set([...namespace.sockets.values()].flatMap((socket) => socket.data.board ?? [])),
      emitPresence: (board, count) => io.local.to(boardRoom(board)).emit("presence", { count }),
      emitHead: (board, e, s) => io.local.to(boardRoom(board)).emit("head", { e, s }),
      notifyOthers: (board) => storage.shared && io.serverSideEmit("presenceChanged", board),
    },
    logger,
  );
  io.on("presenceChanged", (board) => presence.remoteChanged(board));
  const writer = new BoardWriter({
    store,
    maxBatch: WRITE_BATCH,
    intervalMs: config.writePacing.intervalMs,
    burst: config.writePacing.burst,
    broadcast: (board, e, ops, published) => fanout.send(namespace.adapter, boardRoom(board), e, ops, published),
    ...(storage.storePublishes
      ? { announcement: (board: string) => fanout.announcement(namespace.adapter, boardRoom(board)) }
      : {}),
    onRotated: (board, e) => logger.info({ board, e }, "board has a new epoch"),
    clearsDelete: (board) => storage.clearsDelete(board),
    ...(storage.replicas ? { replicated: (board) => (storage.replicas as ShardedReplicaWait).replicated(board) } : {}),
  });
  const cursors = new CursorRelay({
    intervalMs: config.cursorIntervalMs,
    maxPerMessage: config.cursorsPerMessage,
    emit: (room, positions) => io.local.to(room).volatile.emit("cursors", positions),
    publish: (room, positions) => fanout.publishCursors(namespace.adapter, room, positions),
  });
  attachWhiteboard(io, {
    config,
    store,
    writer,
    cursors,
    presence,
    logger,
    canWrite: () => !draining && storage.isWritable(),
    metrics,
    clientAddress: (req) => limits.addressOf(req),
    addressBudget: (req) => limits.budgetOf(req),
  });
  const redis = storage.redis;
  metrics.watch({
    sockets: () => namespace.sockets.size,
    boards: () => [...namespace.adapter.rooms.keys()].filter((room) => room.startsWith("b:")).length,
    cursorsSent: () => cursors.sent,
    ...(redis ? { redis: { roles: redis.roles, ping: () => redis.ping() } } : {}),
    redisMemoryRatio: async () => {
      await storage.memory?.poll();
      return storage.memory?.ratio;
    },
    replicaShortfalls: () => storage.replicas?.shortfalls ?? 0,
    pubsubReceivedBytes: () => (namespace.adapter instanceof BoardAdapter ? namespace.adapter.received : undefined),
  });

  return {
    async listen() {
      storage
        .connect()
        .then(() => selfCheck?.run())
        .catch((error: Error) => logger.error({ error: error.message }, "storage connect failed"));
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, resolve);
      });
      const address = httpServer.address() as AddressInfo;
      const metricsAddress = await metricsServer.listen(config.metricsPort);
      const where = config.store.kind === "redis" ? { redis: config.store.redis.url, tls: config.store.redis.tls } : {};
      logger.info(
        {
          port: address.port,
          metricsPort: metricsAddress.port,
          store: config.store.kind,
          ...where,
          // What NODE_OPTIONS (set by the stacks from the container's memory) gave V8, to compare with the limit.
          heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
        },
        "listening",
      );
      return address;
    },

    async shutdown() {
      const started = performance.now();
      draining = true;
      selfCheck?.stop();
      metrics.drainStarted();
      const boards = new Set([...namespace.sockets.values()].flatMap((socket) => socket.data.board ?? []));
      logger.info({ sockets: namespace.sockets.size, boards: boards.size }, "draining");
      // Clients see "transport close" and reconnect by themselves, through the front, to another instance.
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        httpServer.closeAllConnections();
      });
      cursors.close();
      fanout.close();
      limits.close();
      await presence.withdraw(boards);
      await storage.close();
      metrics.close();
      logger.info("drained");
      // The sidecar scrapes once more when it is stopped: stay until then, within the drain's time (see config).
      const left = config.shutdownTimeoutMs - (performance.now() - started) - 500;
      if (config.metricsFinalScrapeMs > 0) await metricsServer.nextScrape(Math.min(config.metricsFinalScrapeMs, left));
      await metricsServer.close();
    },
  };
}

/**
 * Browsers always send Origin on a WebSocket handshake; a request without one is not from a browser page. Same-origin
 * compares the whole origin, scheme included (an http page may not open a socket to the https site): the scheme is
 * the one the platform in front saw (X-Forwarded-Proto, which Cloud Run and the load balancer set and a page cannot).
 * With nothing in front to say it (a plain connection straight to the service), either scheme of the host passes.
 */
function originAllowed(req: IncomingMessage, allowed: Config["allowedOrigins"]): boolean {
  const origin = req.headers.origin?.toLowerCase();
  if (origin === undefined || allowed === "*") return true;
  if (allowed === "same-origin") {
    const scheme = forwardedScheme(req);
    const schemes = scheme ? [scheme] : (["http", "https"] as const);
    return schemes.some((candidate) => origin === requestOrigin(req, candidate));
  }
  return allowed.includes(origin);
}
