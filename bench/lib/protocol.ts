/**
 * Everything the benchmarks say in the whiteboard protocol, in one place: joining a board, sending a piece of a
 * line, what the service broadcasts for it (which the baseline relays as it is, so that both systems' receivers
 * decode the same frames), decoding a received frame into samples, the browser client's own session, reading what
 * the store holds. This is protocol version 1: a line goes out as `stroke` chunks `<line key>-<n>`, numbered from 1
 * as the browser client's outbox numbers them, and chunk n > 1 starts with the last point of chunk n - 1. Porting the benchmarks to another version changes this file only
 * (bench/README.md, "Protocol", says what version 2 needs).
 *
 * A line's key names the step, the sender and the line: `<tag>_<sender>_<line>` (base 36), so a receiver knows
 * whose sample it holds without any field outside the protocol.
 */
import { io, type Socket } from "socket.io-client";
import { WhiteboardSession } from "../../client/core/session";
import type {
  BoardOp,
  ClientToServerEvents,
  CursorUpdate,
  ServerToClientEvents,
  StrokeInput,
  StrokeTuple,
  UserInfo,
} from "../../protocol/events";
import { decodePoints, encodePoints } from "../../protocol/points";
import { readBoard } from "../../local/read-board";
import { waitFor } from "../../local/ports";
import type { Point, Style } from "./drawing";

export const PROTOCOL_VERSION = 1;

export type WireSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** What a receiver gets in FRAME_EVENT. */
export type Frame = Parameters<ServerToClientEvents["ops"]>[0];

/** The event every receiver of ours gets its board's changes in; the baseline relays the same frames. */
export const FRAME_EVENT = "ops";
export const CURSORS_EVENT = "cursors";

const ACK_TIMEOUT_MS = 30_000;
const JOIN_TIMEOUT_MS = 120_000;

const user = (client: number): UserInfo => ({ id: `load-user-${client}`, name: `load ${client}`, color: "#1a73e8" });

/** A step's tag: letters and digits only, different for every step of a run. */
export function lineKey(tag: string, sender: number, line: number): string {
  return `${tag}_${sender.toString(36)}_${line.toString(36)}`;
}

/**
 * A piece of a line as one message carries it: `points`, new samples in drawing order; `n`, the piece's number in
 * the line (0 first); `from`, the last point of the piece before (absent for piece 0).
 */
export interface Piece {
  key: string;
  n: number;
  points: readonly Point[];
  from?: Point;
}

/** What became of a piece sent to ours: stored, or refused with the service's code (`no_answer` on a timeout). */
export type Outcome = { stored: true } | { stored: false; code: string };

function strokeInput(piece: Piece, style: Style): StrokeInput {
  const points = piece.from ? [piece.from, ...piece.points] : piece.points;
  return { id: `${piece.key}-${piece.n + 1}`, p: encodePoints(points), c: style.color, w: style.width };
}

/** Whether a chunk's first point repeats the last of the chunk before: every chunk's but the first (number 1). */
const repeatsFirst = (chunk: number) => chunk > 1;

// --- Ours: plain sockets ------------------------------------------------------------------------------------------

export function openSocket(url: string): WireSocket {
  return io(url, { transports: ["websocket"], reconnectionDelay: 500, forceNew: true });
}

/** Joins `board` as load client `client`; resolves once joined, rejects on a refusal. */
export async function join(socket: WireSocket, board: string, client: number): Promise<void> {
  const ack = await socket.timeout(JOIN_TIMEOUT_MS).emitWithAck("join", { board, user: user(client) });
  if (!ack.ok) throw new Error(`join of ${board} refused: ${ack.code} ${ack.error}`);
}

/** Sends a piece to ours without waiting; `done` gets its outcome. */
export function sendPiece(socket: WireSocket, piece: Piece, style: Style, done: (outcome: Outcome) => void): void {
  socket
    .timeout(ACK_TIMEOUT_MS)
    .emit("stroke", strokeInput(piece, style), (error, ack) =>
      done(
        error ? { stored: false, code: "no_answer" } : ack.ok ? { stored: true } : { stored: false, code: ack.code },
      ),
    );
}

/** Empties the board for the next step (a refusal changes no figure, so it is not reported). */
export async function clearBoard(socket: WireSocket): Promise<void> {
  await socket
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck("clear", {})
    .catch(() => undefined);
}

export function sendCursor(socket: WireSocket, [x, y]: Point): void {
  socket.volatile.emit("cursor", { x, y });
}

/** Positions in a `cursors` frame. */
export function cursorCount(frame: readonly CursorUpdate[]): number {
  return frame.length;
}

// --- Receiving ----------------------------------------------------------------------------------------------------

/** Where decoded samples go (./ledger.ts checks them). */
export interface SampleSink {
  /** A point of a benchmark line; `repeat` when it repeats the last point of the piece before. */
  sample(
    tag: string,
    sender: number,
    line: number,
    x: number,
    y: number,
    color: string,
    width: number,
    repeat: boolean,
  ): void;
  /** A stroke whose id or points are not a benchmark line's. */
  undecodable(): void;
}

/** Decodes a frame of ours (or the baseline's relay of one) into samples; changes other than strokes are skipped. */
export function decodeFrame(frame: Frame, sink: SampleSink): void {
  for (const op of frame.ops) {
    if (op.t !== "s") continue;
    const [, , , id, , color, width, p] = op.r;
    const dash = id.lastIndexOf("-");
    const first = id.indexOf("_");
    const second = id.indexOf("_", first + 1);
    const chunk = Number(id.slice(dash + 1));
    const sender = parseInt(id.slice(first + 1, second), 36);
    const line = parseInt(id.slice(second + 1, dash), 36);
    const flat = decodePoints(p);
    if (first < 1 || second < 0 || dash < second || !Number.isInteger(chunk) || typeof flat === "string") {
      sink.undecodable();
      continue;
    }
    const tag = id.slice(0, first);
    for (let k = 0; k < flat.length; k += 2) {
      sink.sample(
        tag,
        sender,
        line,
        flat[k] as number,
        flat[k + 1] as number,
        color,
        width,
        k === 0 && repeatsFirst(chunk),
      );
    }
  }
}

// --- The baseline -------------------------------------------------------------------------------------------------

/**
 * The frame ours broadcasts for `piece`, as the baseline's sender sends it for the baseline to relay unchanged:
 * its receivers then decode exactly what ours' do.
 */
export function baselineFrame(piece: Piece, style: Style, seq: number): Frame {
  const input = strokeInput(piece, style);
  return { e: "baseline", ops: [{ t: "s", s: seq, r: [seq, 0, 0, input.id, "baseline", input.c, input.w, input.p] }] };
}

// --- The browser client's own session -----------------------------------------------------------------------------

export interface SessionEvents {
  /** These new points of line `key` were stored. */
  stored(key: string, points: readonly Point[]): void;
  /** The service refused these for good. */
  refused(key: string, points: readonly Point[], code: string): void;
  disconnected(): void;
  cursors(positions: number): void;
}

/** A drawer that sends what it draws through the browser client's session (its outbox, chunks and window). */
export class SessionDrawer {
  private readonly session: WhiteboardSession;
  private nextKey = "";

  constructor(url: string, board: string, client: number, events: SessionEvents) {
    const newPoints = (stroke: StrokeInput): [string, Point[]] => {
      const dash = stroke.id.lastIndexOf("-");
      const flat = decodePoints(stroke.p);
      const points: Point[] = [];
      if (typeof flat !== "string")
        for (let k = repeatsFirst(Number(stroke.id.slice(dash + 1))) ? 2 : 0; k < flat.length; k += 2)
          points.push([flat[k] as number, flat[k + 1] as number]);
      return [stroke.id.slice(0, dash), points];
    };
    this.session = new WhiteboardSession(
      { url, board, user: user(client), newId: () => this.nextKey },
      {
        onAcked: (stroke) => events.stored(...newPoints(stroke)),
        onRefused: (stroke, ack) => events.refused(...newPoints(stroke), ack.code),
        onState: (state) => state === "reconnecting" && events.disconnected(),
        onCursors: (cursors) => events.cursors(cursors.length),
      },
    );
  }

  ready(): Promise<void> {
    return waitFor("the session to join", () => this.session.connection === "connected", JOIN_TIMEOUT_MS);
  }

  begin(point: Point, key: string, style: Style): void {
    this.nextKey = key;
    this.session.begin(point, style);
  }

  extend(point: Point): void {
    this.session.extend(point);
  }

  end(): void {
    this.session.end();
  }

  async clear(): Promise<void> {
    await this.session.clear();
  }

  cursor(point: Point): void {
    this.session.cursor(point);
  }

  /** Pieces not yet acknowledged. */
  get awaiting(): number {
    return this.session.outbox.size;
  }

  close(): void {
    this.session.close();
  }
}

// --- The store ----------------------------------------------------------------------------------------------------

/**
 * What the store holds of `board`, read through an instance: visible records, their bytes as sent, and the distinct
 * samples in them (a repeated joining point counted once).
 */
export async function storedContent(
  url: string,
  board: string,
): Promise<{ records: number; bytes: number; samples: number }> {
  const { records } = await readBoard(url, board);
  let bytes = 0;
  let samples = 0;
  const ops: BoardOp[] = records.map(({ s, g, v, i, u, c, w, p }) => {
    const r: StrokeTuple = [s, g, v, i, u, c, w, p];
    bytes += JSON.stringify(r).length;
    return { t: "s", s, r };
  });
  decodeFrame(
    { e: "", ops },
    {
      sample: (_tag, _sender, _line, _x, _y, _color, _width, repeat) => (samples += repeat ? 0 : 1),
      undecodable: () => undefined,
    },
  );
  return { records: records.length, bytes, samples };
}
