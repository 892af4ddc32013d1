/**
 * The whiteboard's socket events: validate, rate-limit, store, then broadcast and acknowledge.
 *
 * Invariants this module keeps:
 * - nothing is broadcast before it is stored, so a client that was told about seq n can always read it back;
 * - every event gets exactly one ack, an error ack for anything malformed, and no event can throw out of
 *   its handler (a bad client never takes the instance, or anyone else's connection, down);
 * - what one connection can make the instance do is bounded: events, stroke bytes and catch-up bytes per
 *   second, one catch-up read at a time, a few boards per minute.
 */
import type { IncomingMessage } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { Server, Socket } from "socket.io";
import type {
  BoardOp,
  ClientToServerEvents,
  ErrorAck,
  ErrorCode,
  ServerToClientEvents,
  StrokeTuple,
  SyncAck,
  UserInfo,
} from "../protocol/events";
import {
  clearSchema,
  cursorSchema,
  describeIssue,
  joinSchema,
  readSchema,
  strokeSchema,
  unclearSchema,
  visibilitySchema,
} from "../protocol/schema";
import { roomSubscribed } from "./fanout/board-adapter";
import type { BoardWriter, WriteJob, WriteResult } from "./board-writer";
import type { Config } from "./config";
import type { AddressBudget } from "./connection-limits";
import type { CursorRelay } from "./cursors";
import type { Logger } from "./logger";
import type { SocketMetrics } from "./metrics";
import type { Presence } from "./presence";
import { RawJson } from "./raw-json";
import { StorageFullError, type BoardStore, type ReadResult } from "./store/board-store";
import { TokenBucket } from "./token-bucket";

export interface InterServerEvents {
  presenceChanged: (board: string) => void;
}

export interface SocketData {
  board: string | undefined;
  user: UserInfo | undefined;
}

export type WhiteboardServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type WhiteboardSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * A board's Socket.IO room. The prefix keeps board names apart from socket ids, which are rooms too (board ids
 * have no colon); the padding keeps every room longer than 20 characters, the length the sharded adapter takes
 * for a socket id (it would send such a room through the channel every instance receives). The braces are the
 * board's hash tag, as in its keys: in a Redis Cluster the board's channel lives on the shard that holds its data.
 */
export const boardRoom = (board: string) => `b:{${board}}`.padEnd(21, ":");

export interface SocketDeps {
  config: Config;
  store: BoardStore;
  writer: BoardWriter;
  cursors: CursorRelay;
  presence: Presence;
  logger: Logger;
  /** False while the instance drains for shutdown or Redis is unreachable. */
  canWrite(): boolean;
  /** Counts refusals and rotations (./metrics.ts). */
  metrics?: SocketMetrics;
  /** The client's address, for security logs (./client-address.ts); default: the TCP peer's. */
  clientAddress?(req: IncomingMessage): string;
  /** Byte budgets shared by every socket of the client's address (./connection-limits.ts); none by default. */
  addressBudget?(req: IncomingMessage): AddressBudget | undefined;
}

const fail = (code: ErrorCode, error: string): ErrorAck => ({ ok: false, code, error });
const UNAVAILABLE = fail("unavailable", "the board store is unreachable; retry shortly");
const STORAGE_FULL = fail(
  "storage_full",
  "the whiteboard's storage is full; nothing can be added until space is freed",
);
const MINUTE_MS = 60_000;
/** Longest a join waits for its board's channel subscription before it reads. */
const SUBSCRIBE_WAIT_MS = 2_000;

export function attachWhiteboard(io: WhiteboardServer, deps: SocketDeps): void {
  const { config, store, writer, cursors, presence, logger } = deps;
  const { rateLimit, board: limits } = config;
  const validateStroke = strokeSchema(limits);
  const validateErase = visibilitySchema(limits, "odd");
  const validateRestore = visibilitySchema(limits, "even");
  const bucket = (rate: { perSecond: number; burst: number }) => new TokenBucket(rate.perSecond, rate.burst);

  io.on("connection", (socket) => {
    const address = deps.clientAddress?.(socket.request) ?? socket.handshake.address;
    const log = logger.child({ socket: socket.id, address });
    const events = bucket(rateLimit.events);
    const writeBytes = bucket(rateLimit.writeBytes);
    const readBytes = bucket(rateLimit.readBytes);
    const joins = bucket(rateLimit.joins);
    const shared = deps.addressBudget?.(socket.request);
    /** Takes from the socket's bucket and the address's; neither when either is short. */
    const takeBoth = (own: TokenBucket, address: TokenBucket | undefined, cost: number) => {
      if (!own.take(cost)) return false;
      if (!address || address.take(cost)) return true;
      own.charge(-cost);
      return false;
    };
    const boardsJoined: { board: string; at: number }[] = [];
    let reading = false;
    let lastCursorAt = 0;
    socket.data.board = undefined;
    socket.data.user = undefined;
    log.debug({ origin: socket.handshake.headers.origin }, "client connected");

    const rotation = scheduleRotation(socket, config.requestTimeoutMs, () => deps.metrics?.rotationAsked());
    socket.on("disconnect", (reason) => {
      clearTimeout(rotation);
      if (socket.data.board !== undefined) presence.localChanged(socket.data.board);
      log.debug({ reason, board: socket.data.board }, "client disconnected");
    });

    /**
     * Registers a handler that gets one `respond` it must call once. Rate limiting, a missing ack and
     * exceptions are handled here, once for every event.
     */
    const handle = <A>(event: keyof ClientToServerEvents, handler: (payload: unknown) => Promise<A | ErrorAck>) => {
      socket.on(event, (payload: unknown, ack: unknown) => {
        const reply = typeof ack === "function" ? (ack as (response: A | ErrorAck) => void) : () => undefined;
        const respond = (response: A | ErrorAck) => {
          if ((response as ErrorAck).ok === false) deps.metrics?.refused(event, (response as ErrorAck).code);
          reply(response);
        };
        if (!events.take()) {
          respond(fail("rate_limited", `more than ${rateLimit.events.perSecond} events per second; slow down`));
          return;
        }
        handler(payload).then(respond, (error: unknown) => {
          if (error instanceof StorageFullError) {
            log.warn({ event, board: socket.data.board }, "store full: write refused");
            return respond(STORAGE_FULL);
          }
          log.warn({ event, board: socket.data.board, error: (error as Error).message }, "event failed");
          respond(UNAVAILABLE);
        });
      });
    };

    /** One catch-up read at a time per connection, paid for in bytes. */
    const read = async (run: () => Promise<ReadResult>): Promise<SyncAck> => {
      if (reading) return fail("rate_limited", "one catch-up read at a time: wait for the answer to the last one");
      if (!takeBoth(readBytes, shared?.readBytes, 1))
        return fail("rate_limited", "too much catch-up read recently; retry in a few seconds");
      reading = true;
      try {
        const result = await run();
        const board = socket.data.board as string;
        if ("ops" in result) {
          readBytes.charge(result.ops.length);
          shared?.readBytes.charge(result.ops.length);
          // Spliced into the packet as read (see raw-json.ts); on the wire it is the BoardOp[] of the protocol.
          return { ok: true, board, e: result.e, s: result.s, ops: new RawJson(result.ops) as unknown as BoardOp[] };
        }
        const { k, records, next } = result.snapshot;
        readBytes.charge(records.length);
        shared?.readBytes.charge(records.length);
        // Spliced into the packet as read (see raw-json.ts); on the wire it is the StrokeRecord[] of the protocol.
        const snapshot = {
          k,
          records: new RawJson(records) as unknown as StrokeTuple[],
          ...(next !== undefined ? { next } : {}),
        };
        return { ok: true, board, e: result.e, s: result.s, snapshot };
      } finally {
        reading = false;
      }
    };

    const joined = (): { board: string; user: UserInfo } | ErrorAck => {
      const { board, user } = socket.data;
      return board === undefined || user === undefined ? fail("not_joined", "join a board first") : { board, user };
    };

    /** Queues a write to the board's writer; refuses it while the store is away or the instance drains. */
    const write = async (board: string, job: WriteJob): Promise<WriteResult | ErrorAck> => {
      if (!deps.canWrite()) return UNAVAILABLE;
      return writer.write(board, job);
    };

    handle("join", async (payload) => {
      const request = joinSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const { board, user, e, after } = request.data;
      if (!joins.take()) return fail("rate_limited", "too many joins; wait a few seconds");
      const now = Date.now();
      while (boardsJoined.length > 0 && (boardsJoined[0] as { at: number }).at < now - MINUTE_MS) boardsJoined.shift();
      if (!boardsJoined.some((entry) => entry.board === board)) {
        if (boardsJoined.length >= rateLimit.boardsPerMinute) {
          log.warn({ board }, "too many boards joined");
          return fail("rate_limited", `more than ${rateLimit.boardsPerMinute} boards in a minute`);
        }
        boardsJoined.push({ board, at: now });
      }
      const previous = socket.data.board;
      if (previous !== undefined && previous !== board) {
        await socket.leave(boardRoom(previous));
        presence.localChanged(previous);
      }
      // Join the room, and hear its channel, before reading, so that every operation stored after the read reaches us
      // too. A subscription Redis does not answer soon (it is away) does not hold the join: the read would fail anyway.
      await socket.join(boardRoom(board));
      await Promise.race([
        roomSubscribed(socket.nsp.adapter, boardRoom(board)),
        delay(SUBSCRIBE_WAIT_MS, undefined, { ref: false }),
      ]);
      socket.data.board = board;
      socket.data.user = user;
      presence.localChanged(board);
      log.debug({ board, after }, "joined");
      return read(() =>
        store.read(board, { ...(e !== undefined ? { e } : {}), ...(after !== undefined ? { after } : {}) }),
      );
    });

    handle("read", async (payload) => {
      const who = joined();
      if ("ok" in who) return who;
      const request = readSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const { e } = request.data;
      const { data } = request;
      return read(() =>
        store.read(who.board, "after" in data ? { e, after: data.after } : { e, at: data.at, cursor: data.cursor }),
      );
    });

    handle("stroke", async (payload) => {
      const who = joined();
      if ("ok" in who) return who;
      const input = validateStroke.safeParse(payload);
      if (!input.success) return fail("invalid", describeIssue(input.error));
      if (!takeBoth(writeBytes, shared?.writeBytes, input.data.p.length))
        return fail("rate_limited", "drawing faster than the service accepts; slow down");
      const result = await write(who.board, { kind: "stroke", user: who.user.id, input: input.data });
      if ("ok" in result) return result;
      const outcome = (result as Extract<WriteResult, { kind: "stroke" }>).outcome;
      if (outcome.kind === "full") {
        return fail(
          "board_full",
          `the board holds its maximum of ${limits.maxStrokes} strokes or ${limits.maxBytes} bytes: clear it or start a new one`,
        );
      }
      return { ok: true as const, s: outcome.s };
    });

    for (const [event, schema] of [
      ["erase", validateErase],
      ["restore", validateRestore],
    ] as const) {
      handle(event, async (payload) => {
        const who = joined();
        if ("ok" in who) return who;
        const request = schema.safeParse(payload);
        if (!request.success) return fail("invalid", describeIssue(request.error));
        const result = await write(who.board, { kind: "visibility", user: who.user.id, changes: request.data.x });
        if ("ok" in result) return result;
        if (event === "erase" && request.data.x.length > 10)
          log.info({ board: who.board, strokes: request.data.x.length }, "strokes erased");
        return { ok: true as const, s: (result as Extract<WriteResult, { kind: "visibility" }>).s };
      });
    }

    handle("clear", async (payload) => {
      const who = joined();
      if ("ok" in who) return who;
      const request = clearSchema.safeParse(payload ?? {});
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const result = await write(who.board, { kind: "clear", user: who.user.id });
      if ("ok" in result) return result;
      const { outcome, s } = result as Extract<WriteResult, { kind: "clear" }>;
      if (outcome === "rate_limited")
        return fail("rate_limited", `this board was cleared less than ${limits.clearIntervalMs / 1000} s ago`);
      log.info({ board: who.board, user: who.user.id, s, outcome }, "board cleared");
      return { ok: true as const, s };
    });

    handle("unclear", async (payload) => {
      const who = joined();
      if ("ok" in who) return who;
      const request = unclearSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const result = await write(who.board, { kind: "unclear", user: who.user.id, of: request.data.of });
      if ("ok" in result) return result;
      const { outcome, s } = result as Extract<WriteResult, { kind: "unclear" }>;
      if (outcome === "rate_limited")
        return fail(
          "rate_limited",
          `this board was cleared or restored less than ${limits.clearIntervalMs / 1000} s ago`,
        );
      if (outcome === "gone") return fail("gone", "that clear can no longer be undone: its strokes were deleted");
      log.info({ board: who.board, user: who.user.id, of: request.data.of }, "clear undone");
      return { ok: true as const, s };
    });

    // Cursors are best effort: no ack, and whatever is malformed or too frequent is dropped without a word.
    socket.on("cursor", (payload: unknown) => {
      const { board, user } = socket.data;
      const now = performance.now();
      if (board === undefined || user === undefined || now - lastCursorAt < config.cursorIntervalMs / 2) return;
      const position = cursorSchema.safeParse(payload);
      if (!position.success) return;
      lastCursorAt = now;
      cursors.moved(boardRoom(board), {
        u: user.id,
        n: user.name,
        c: user.color,
        x: position.data.x,
        y: position.data.y,
      });
    });
  });
}

/**
 * Asks the client to reconnect shortly before the platform's request timeout cuts the connection, at a
 * random moment in a window so that clients connected together do not all reconnect together. The window
 * is the last quarter of the timeout, capped at two minutes, ending at least 10% (or 30 s) before the cut.
 */
function scheduleRotation(socket: WhiteboardSocket, requestTimeoutMs: number, asked: () => void): NodeJS.Timeout {
  const earliest = requestTimeoutMs - Math.min(requestTimeoutMs * 0.25, 120_000);
  const latest = requestTimeoutMs - Math.min(requestTimeoutMs * 0.1, 30_000);
  const at = earliest + Math.random() * (latest - earliest);
  const timer = setTimeout(() => {
    socket.emit("rotate", { inMs: Math.round(requestTimeoutMs - at) });
    asked();
  }, at);
  timer.unref();
  return timer;
}
