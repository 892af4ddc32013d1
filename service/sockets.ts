/**
 * The whiteboard's socket events: validate, rate-limit, store, then broadcast and acknowledge.
 *
 * Invariants this module keeps:
 * - nothing is broadcast before it is stored, so a client that was told about seq n can always read it back;
 * - every event gets exactly one ack, an error ack for anything malformed, and no event can throw out of
 *   its handler (a bad client never takes the instance, or anyone else's connection, down).
 */
import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ErrorAck, ErrorCode, ServerToClientEvents, Stroke } from "../protocol/events";
import { clearSchema, describeIssue, joinSchema, strokeSchema } from "../protocol/schema";
import type { BoardStore } from "./store/board-store";
import type { Config } from "./config";
import type { Logger } from "./logger";
import type { Presence } from "./presence";
import { RawJson } from "./raw-json";
import { TokenBucket } from "./token-bucket";

export interface InterServerEvents {
  presenceChanged: (board: string) => void;
}

export interface SocketData {
  board: string | undefined;
}

export type WhiteboardServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type WhiteboardSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface SocketDeps {
  config: Config;
  store: BoardStore;
  presence: Presence;
  logger: Logger;
  /** False while the instance drains for shutdown or Redis is unreachable. */
  canWrite(): boolean;
}

const fail = (code: ErrorCode, error: string): ErrorAck => ({ ok: false, code, error });
const UNAVAILABLE = fail("unavailable", "the board store is unreachable; retry shortly");

export function attachWhiteboard(io: WhiteboardServer, deps: SocketDeps): void {
  const { config, store, presence, logger } = deps;
  const validateStroke = strokeSchema(config.board);

  io.on("connection", (socket) => {
    const log = logger.child({ socket: socket.id });
    const bucket = new TokenBucket(config.rateLimit.perSecond, config.rateLimit.burst);
    socket.data.board = undefined;
    log.info({ origin: socket.handshake.headers.origin, address: socket.handshake.address }, "client connected");

    const rotation = scheduleRotation(socket, config.requestTimeoutMs);
    socket.on("disconnect", (reason) => {
      clearTimeout(rotation);
      if (socket.data.board !== undefined) presence.localChanged(socket.data.board);
      log.info({ reason, board: socket.data.board }, "client disconnected");
    });

    /**
     * Registers a handler that gets one `respond` it must call once. Rate limiting, a missing ack and
     * exceptions are handled here, once for every event.
     */
    const handle = <A>(event: keyof ClientToServerEvents, handler: (payload: unknown) => Promise<A | ErrorAck>) => {
      socket.on(event, (payload: unknown, ack: unknown) => {
        const respond = typeof ack === "function" ? (ack as (response: A | ErrorAck) => void) : () => undefined;
        if (!bucket.take()) {
          respond(fail("rate_limited", `more than ${config.rateLimit.perSecond} events per second; slow down`));
          return;
        }
        handler(payload).then(respond, (error: unknown) => {
          log.warn({ event, board: socket.data.board, error: (error as Error).message }, "event failed");
          respond(UNAVAILABLE);
        });
      });
    };

    handle("join", async (payload) => {
      const request = joinSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const { board, after = 0 } = request.data;
      const previous = socket.data.board;
      if (previous !== undefined && previous !== board) {
        await socket.leave(previous);
        presence.localChanged(previous);
      }
      // Join the room before reading, so every stroke stored after the read is also broadcast to us.
      await socket.join(board);
      socket.data.board = board;
      presence.localChanged(board);
      const { seq, reset, count, json } = await store.read(board, after);
      log.debug({ board, after, seq, strokes: count }, "joined");
      // Spliced into the packet as stored (see raw-json.ts); on the wire it is the Stroke[] of the protocol.
      const strokes = new RawJson(json) as unknown as Stroke[];
      return { ok: true as const, board, seq, reset, strokes };
    });

    handle("stroke", async (payload) => {
      const board = socket.data.board;
      if (board === undefined) return fail("not_joined", "join a board before drawing");
      const input = validateStroke.safeParse(payload);
      if (!input.success) return fail("invalid", describeIssue(input.error));
      if (!deps.canWrite()) return UNAVAILABLE;
      const result = await store.addStroke(board, input.data);
      switch (result.kind) {
        case "full":
          return fail("board_full", `board full: it holds its maximum of ${config.board.maxStrokes} strokes`);
        case "duplicate":
          return { ok: true as const, seq: result.seq };
        case "stored":
          socket.to(board).emit("stroke", result.stroke);
          return { ok: true as const, seq: result.stroke.seq };
      }
    });

    handle("clear", async (payload) => {
      const board = socket.data.board;
      if (board === undefined) return fail("not_joined", "join a board before clearing it");
      const request = clearSchema.safeParse(payload ?? {});
      if (!request.success) return fail("invalid", describeIssue(request.error));
      if (!deps.canWrite()) return UNAVAILABLE;
      const seq = await store.clear(board);
      socket.to(board).emit("cleared", { seq });
      log.info({ board, seq }, "board cleared");
      return { ok: true as const, seq };
    });
  });
}

/**
 * Asks the client to reconnect shortly before the platform's request timeout cuts the connection, at a
 * random moment in a window so that clients connected together do not all reconnect together. The window
 * is the last quarter of the timeout, capped at two minutes, ending at least 10% (or 30 s) before the cut.
 */
function scheduleRotation(socket: WhiteboardSocket, requestTimeoutMs: number): NodeJS.Timeout {
  const earliest = requestTimeoutMs - Math.min(requestTimeoutMs * 0.25, 120_000);
  const latest = requestTimeoutMs - Math.min(requestTimeoutMs * 0.1, 30_000);
  const at = earliest + Math.random() * (latest - earliest);
  const timer = setTimeout(() => socket.emit("rotate", { inMs: Math.round(requestTimeoutMs - at) }), at);
  timer.unref();
  return timer;
}
