/**
 * The whiteboard's socket events: validate, rate-limit, store, then broadcast and acknowledge.
 *
 * Invariants this module keeps:
 * - nothing is broadcast before it is stored, so a client that was told about seq n can always read it back;
 * - every event gets exactly one ack, an error ack for anything malformed, and no event can throw out of its handler
 *   (a bad client never takes the instance, or anyone else's connection, down);
 * - who a client is comes from its key (./identity.ts), never from what it says: authors, cursors and clears carry
 *   the derived id; a socket joined without the board's edit key is refused every write;
 * - what one connection can make the instance do is bounded: events, write bytes (charged by what was stored and
 *   broadcast, not by what was sent) and catch-up bytes per second, one catch-up read at a time, a few boards per
 *   minute; a refused join changes nothing (it is checked before the socket leaves its board or subscribes another);
 * - every log line a client can cause is sampled (./sampled-log.ts).
 */
import type { IncomingMessage } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { Server, Socket } from "socket.io";
import {
  PROTOCOL_VERSION,
  type BoardOp,
  type ClientToServerEvents,
  type ElementTuple,
  type ErrorAck,
  type ErrorCode,
  type ServerToClientEvents,
  type SyncAck,
  type WriteAck,
  type You,
} from "../protocol/events";
import {
  appendSchema,
  clearSchema,
  cursorSchema,
  describeIssue,
  editSchema,
  elementSchema,
  joinSchema,
  readSchema,
  unclearSchema,
  visibilitySchema,
  type PayloadLimits,
} from "../protocol/schema";
import { roomSubscribed } from "./fanout/board-adapter";
import type { BoardWriter, DrawResult } from "./board-writer";
import type { Config } from "./config";
import type { AddressBudget } from "./connection-limits";
import type { CursorRelay } from "./cursors";
import { boardIdOf, userIdOf } from "./identity";
import type { Logger } from "./logger";
import type { SocketMetrics } from "./metrics";
import type { Presence } from "./presence";
import { RawJson } from "./raw-json";
import { SampledLog } from "./sampled-log";
import { StorageFullError, type BoardStore, type ReadResult } from "./store/board-store";
import { TokenBucket } from "./token-bucket";

interface InterServerEvents {
  presenceChanged: (board: string) => void;
}

/** Who a joined socket is, as derived on the server. */
interface SocketUser {
  id: string;
  name: string;
  color: string;
}

interface SocketData {
  board: string | undefined;
  user: SocketUser | undefined;
  /** Joined with the board's edit key. */
  edit: boolean;
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
const NOT_JOINED = fail("not_joined", "join a board first");
const VIEW_ONLY = fail("forbidden", "this link is view-only: drawing needs the board's edit link");
const MINUTE_MS = 60_000;
/** Longest a join waits for its board's channel subscription before it reads. */
const SUBSCRIBE_WAIT_MS = 2_000;

type Ack<A> = A | ErrorAck;
type Joined = { board: string; user: SocketUser };

export function attachWhiteboard(io: WhiteboardServer, deps: SocketDeps): void {
  const { config, store, writer, cursors, presence, logger } = deps;
  const { rateLimit, board: limits } = config;
  const payloadLimits: PayloadLimits = limits;
  const validateElement = elementSchema(payloadLimits);
  const validateAppend = appendSchema(payloadLimits);
  const validateVisibility = visibilitySchema(payloadLimits);
  const validateEdit = editSchema(payloadLimits);
  const bucket = (rate: { perSecond: number; burst: number }) => new TokenBucket(rate.perSecond, rate.burst);
  // Every line below that a client can cause goes through here: at most 10 of a kind per 10 s.
  const sampled = new SampledLog(logger);
  const boardFull = fail(
    "board_full",
    `this board is full (${limits.maxElements} elements or ${limits.maxBytes} bytes; what a clear hid is kept ` +
      `${Math.round(limits.undoClearMs / 60_000)} min for its undo): start a new board`,
  );

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
    /** Write bytes: `upfront` (what was sent) before the write, the rest of what was stored and broadcast after it. */
    const writeBudget = {
      take: (upfront: number) => takeBoth(writeBytes, shared?.writeBytes, upfront),
      settle(upfront: number, used: number) {
        writeBytes.charge(used - upfront);
        shared?.writeBytes.charge(used - upfront);
      },
    };
    const boardsJoined: { board: string; at: number }[] = [];
    let reading = false;
    let lastCursorAt = 0;
    socket.data.board = undefined;
    socket.data.user = undefined;
    socket.data.edit = false;
    log.debug({ origin: socket.handshake.headers.origin }, "client connected");

    const rotation = scheduleRotation(socket, config.requestTimeoutMs, () => deps.metrics?.rotationAsked());
    socket.on("disconnect", (reason) => {
      clearTimeout(rotation);
      if (socket.data.board !== undefined) presence.localChanged(socket.data.board);
      log.debug({ reason, board: socket.data.board }, "client disconnected");
    });

    /**
     * Registers a handler that gets one `respond` it must call once. Rate limiting, a missing ack and exceptions are
     * handled here, once for every event.
     */
    const handle = <A>(event: keyof ClientToServerEvents, handler: (payload: unknown) => Promise<Ack<A>>) => {
      socket.on(event, (payload: unknown, ack: unknown) => {
        const reply = typeof ack === "function" ? (ack as (response: Ack<A>) => void) : () => undefined;
        const respond = (response: Ack<A>) => {
          if (isError(response)) deps.metrics?.refused(event, response.code);
          reply(response);
        };
        if (!events.take()) {
          respond(fail("rate_limited", `more than ${rateLimit.events.perSecond} events per second; slow down`));
          return;
        }
        handler(payload).then(respond, (error: unknown) => {
          if (error instanceof StorageFullError) {
            sampled.warn("store_full", { event, board: socket.data.board, address }, "store full: write refused");
            return respond(STORAGE_FULL);
          }
          sampled.warn(
            "event_failed",
            { event, board: socket.data.board, address, error: (error as Error).message },
            "event failed",
          );
          respond(UNAVAILABLE);
        });
      });
    };

    /** One catch-up read at a time per connection, paid for in bytes. */
    const read = async (run: () => Promise<ReadResult>, you?: You): Promise<SyncAck> => {
      if (!takeBoth(readBytes, shared?.readBytes, 1))
        return fail("rate_limited", "too much catch-up read recently; retry in a few seconds");
      reading = true;
      try {
        const result = await run();
        const board = socket.data.board as string;
        const head = {
          ok: true as const,
          board,
          e: result.e,
          s: result.s,
          ...(result.base !== undefined ? { base: result.base } : {}),
          ...(you ? { you } : {}),
        };
        const sent = "ops" in result ? result.ops.length : result.snapshot.records.length;
        readBytes.charge(sent);
        shared?.readBytes.charge(sent);
        // Spliced into the packet as read (see raw-json.ts); on the wire it is the BoardOp[] of the protocol.
        if ("ops" in result) return { ...head, ops: new RawJson(result.ops) as unknown as BoardOp[] };
        const { k, records, next } = result.snapshot;
        const snapshot = {
          k,
          // Spliced likewise: on the wire, the ElementTuple[] of the protocol.
          records: new RawJson(records) as unknown as ElementTuple[],
          ...(next !== undefined ? { next } : {}),
        };
        return { ...head, snapshot };
      } finally {
        reading = false;
      }
    };

    const joined = (): Joined | ErrorAck => {
      const { board, user } = socket.data;
      return board === undefined || user === undefined ? NOT_JOINED : { board, user };
    };
    /** Joined with the edit key: what every write needs. */
    const editor = (): Joined | ErrorAck => {
      const who = joined();
      return isError(who) || socket.data.edit ? who : VIEW_ONLY;
    };

    /** False while the store is away or the instance drains: writes are refused. */
    const writable = () => deps.canWrite();

    handle<SyncAck>("join", async (payload) => {
      if (typeof payload !== "object" || payload === null || Array.isArray(payload))
        return fail("invalid", "payload: must be an object");
      // An older page sends another version (or none): it must reload, whatever else it sent.
      if ((payload as { pv?: unknown }).pv !== PROTOCOL_VERSION)
        return fail(
          "outdated",
          `this page speaks another protocol version (${PROTOCOL_VERSION} is current): reload it`,
        );
      const request = joinSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const { board, edit, user, e, after } = request.data;
      // Everything that can refuse the join is checked before the socket leaves its board or hears another.
      if (reading) return fail("rate_limited", "one catch-up read at a time: wait for the answer to the last one");
      if (edit !== undefined && boardIdOf(edit) !== board)
        return fail("forbidden", "this edit key is not the key of this board");
      if (!joins.take()) return fail("rate_limited", "too many joins; wait a few seconds");
      const now = Date.now();
      while (boardsJoined.length > 0 && (boardsJoined[0] as { at: number }).at < now - MINUTE_MS) boardsJoined.shift();
      const known = boardsJoined.some((entry) => entry.board === board);
      if (!known && boardsJoined.length >= rateLimit.boardsPerMinute) {
        sampled.warn("boards_per_minute", { board, address }, "too many boards joined");
        return fail("rate_limited", `more than ${rateLimit.boardsPerMinute} boards in a minute`);
      }
      if (!known) boardsJoined.push({ board, at: now });
      reading = true;
      try {
        const previous = socket.data.board;
        if (previous !== undefined && previous !== board) {
          await socket.leave(boardRoom(previous));
          presence.localChanged(previous);
        }
        // Join the room, and hear its channel, before reading, so that every operation stored after the read reaches
        // us too. A subscription Redis does not answer soon (it is away) does not hold the join: the read would fail.
        await socket.join(boardRoom(board));
        await Promise.race([
          roomSubscribed(socket.nsp.adapter, boardRoom(board)),
          delay(SUBSCRIBE_WAIT_MS, undefined, { ref: false }),
        ]);
      } finally {
        reading = false;
      }
      const you: You = { id: userIdOf(user.key), name: user.name, edit: edit !== undefined };
      socket.data.board = board;
      socket.data.user = { id: you.id, name: you.name, color: user.color };
      socket.data.edit = you.edit;
      presence.localChanged(board);
      log.debug({ board, after, edit: you.edit }, "joined");
      return read(
        () => store.read(board, { ...(e !== undefined ? { e } : {}), ...(after !== undefined ? { after } : {}) }),
        you,
      );
    });

    handle<SyncAck>("read", async (payload) => {
      const who = joined();
      if (isError(who)) return who;
      const request = readSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      if (reading) return fail("rate_limited", "one catch-up read at a time: wait for the answer to the last one");
      const { data } = request;
      return read(() =>
        store.read(
          who.board,
          "after" in data ? { e: data.e, after: data.after } : { e: data.e, at: data.at, cursor: data.cursor },
        ),
      );
    });

    /** Adds and appends: paid for up front by what was sent, then by the operation stored. */
    const drawAck = (result: DrawResult, upfront: number): WriteAck => {
      const { outcome } = result;
      writeBudget.settle(upfront, outcome.kind === "stored" ? outcome.bytes : upfront);
      switch (outcome.kind) {
        case "stored":
        case "duplicate":
          return { ok: true, s: outcome.s, e: result.e };
        case "full":
          return boardFull;
        case "too_large":
          return fail("too_large", `a line holds at most ${limits.maxLineBytes} bytes of points: start a new line`);
        case "out_of_order":
          return {
            ...fail("out_of_order", "this line, or its previous points, has not arrived yet: send them in order"),
            e: result.e,
          };
        case "forbidden":
          return fail("forbidden", "only the line's author can add to it");
        case "invalid":
          return fail("invalid", "points can only be added to a freehand line");
      }
    };

    handle<WriteAck>("add", async (payload) => {
      const who = editor();
      if (isError(who)) return who;
      const input = validateElement.safeParse(payload);
      if (!input.success) return fail("invalid", describeIssue(input.error));
      const upfront = input.data.d.length;
      if (!writable()) return UNAVAILABLE;
      if (!writeBudget.take(upfront)) return fail("rate_limited", "drawing faster than the service accepts; slow down");
      return drawAck(await writer.write(who.board, { kind: "add", user: who.user.id, element: input.data }), upfront);
    });

    handle<WriteAck>("append", async (payload) => {
      const who = editor();
      if (isError(who)) return who;
      const input = validateAppend.safeParse(payload);
      if (!input.success) return fail("invalid", describeIssue(input.error));
      const upfront = input.data.d.length;
      if (!writable()) return UNAVAILABLE;
      if (!writeBudget.take(upfront)) return fail("rate_limited", "drawing faster than the service accepts; slow down");
      return drawAck(await writer.write(who.board, { kind: "append", user: who.user.id, points: input.data }), upfront);
    });

    for (const [event, show] of [
      ["erase", false],
      ["restore", true],
    ] as const) {
      handle<WriteAck>(event, async (payload) => {
        const who = editor();
        if (isError(who)) return who;
        const request = validateVisibility.safeParse(payload);
        if (!request.success) return fail("invalid", describeIssue(request.error));
        const { ids } = request.data;
        const upfront = ids.length;
        if (!writable()) return UNAVAILABLE;
        if (!writeBudget.take(upfront))
          return fail("rate_limited", "changing faster than the service accepts; slow down");
        const result = await writer.write(who.board, { kind: "visibility", user: who.user.id, ids, show });
        // A restore of what a clear hid carries whole records to every listener: it costs what it sent them.
        writeBudget.settle(upfront, result.bytes);
        if (!show && ids.length > 10)
          sampled.info("erased", { board: who.board, address, elements: ids.length }, "elements erased");
        return { ok: true, s: result.s, e: result.e };
      });
    }

    handle<WriteAck>("edit", async (payload) => {
      const who = editor();
      if (isError(who)) return who;
      const request = validateEdit.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      const upfront = JSON.stringify(request.data.x).length;
      if (!writable()) return UNAVAILABLE;
      if (!writeBudget.take(upfront)) return fail("rate_limited", "editing faster than the service accepts; slow down");
      const result = await writer.write(who.board, { kind: "edit", user: who.user.id, items: request.data.x });
      writeBudget.settle(upfront, result.bytes);
      switch (result.outcome.kind) {
        case "full":
          return boardFull;
        case "invalid":
          return fail("invalid", `x.${result.outcome.index}.1.${result.outcome.reason}`);
        default:
          return { ok: true, s: result.s, e: result.e };
      }
    });

    handle<WriteAck>("clear", async (payload) => {
      const who = editor();
      if (isError(who)) return who;
      const request = clearSchema.safeParse(payload ?? {});
      if (!request.success) return fail("invalid", describeIssue(request.error));
      if (!writable()) return UNAVAILABLE;
      const { outcome, s, e } = await writer.write(who.board, { kind: "clear", user: who.user.id });
      if (outcome === "rate_limited")
        return fail("rate_limited", `this board was cleared less than ${limits.clearIntervalMs / 1000} s ago`);
      if (outcome === "stored")
        sampled.info("cleared", { board: who.board, user: who.user.id, address, s }, "board cleared");
      return { ok: true, s, e };
    });

    handle<WriteAck>("unclear", async (payload) => {
      const who = editor();
      if (isError(who)) return who;
      const request = unclearSchema.safeParse(payload);
      if (!request.success) return fail("invalid", describeIssue(request.error));
      if (!writable()) return UNAVAILABLE;
      const { outcome, s, e } = await writer.write(who.board, {
        kind: "unclear",
        user: who.user.id,
        of: request.data.of,
      });
      if (outcome === "rate_limited")
        return fail(
          "rate_limited",
          `this board was cleared or restored less than ${limits.clearIntervalMs / 1000} s ago`,
        );
      if (outcome === "gone") return fail("gone", "that clear can no longer be undone: its elements were deleted");
      sampled.info("uncleared", { board: who.board, user: who.user.id, address, of: request.data.of }, "clear undone");
      return { ok: true, s, e };
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

function isError<A>(response: A | ErrorAck): response is ErrorAck {
  return typeof response === "object" && response !== null && (response as { ok?: unknown }).ok === false;
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
