/**
 * Everything the benchmarks say in the whiteboard protocol, in one place: joining a board, sending a piece of a
 * line, what the service broadcasts for it (which the baseline relays as it is, so that both systems' receivers
 * decode the same frames), decoding a received frame into samples, the browser client's own session, reading what
 * the store holds. This is protocol version 2: a line is one freehand element, its first piece an `add` and every
 * later piece an `append` (its n-th, points continuing from the line's last one, with the line's new box). Porting
 * the benchmarks to another version changes this file only (bench/README.md, "The protocol module").
 *
 * A line's id names the step, the sender and the line: `<tag>_<sender>_<line>` (base 36), padded with `-` to the 16
 * characters element ids need, so a receiver knows whose sample it holds without any field outside the protocol.
 * Boards are named by the benchmarks; each name gets an edit key of its own, and the board's id is derived from it
 * as the service derives it (service/identity.ts), so every load client may draw.
 */
import { io, type Socket } from "socket.io-client";
import { acknowledged } from "../../local/acknowledgement";
import { WhiteboardSession } from "../../client/core/session";
import { SocketTransport } from "../../client/core/socket-transport";
import {
  PROTOCOL_VERSION,
  toTuple,
  type AppendInput,
  type ClientToServerEvents,
  type CursorUpdate,
  type ElementInput,
  type ServerToClientEvents,
  type SyncAck,
  type UserInput,
  type WriteAck,
} from "../../protocol/events";
import { decodeSamples, encodeSamples, type Sample } from "../../protocol/points";
import { boardIdOf } from "../../service/identity";
import { waitFor } from "../../local/ports";
import { indexOfX, lineBox, samplePoint, styleOf, type Point, type Style } from "./drawing";

export { PROTOCOL_VERSION };

export type WireSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** What a receiver gets in FRAME_EVENT. */
export type Frame = Parameters<ServerToClientEvents["ops"]>[0];

/** The event every receiver of ours gets its board's changes in; the baseline relays the same frames. */
export const FRAME_EVENT = "ops";
export const CURSORS_EVENT = "cursors";

const ACK_TIMEOUT_MS = 30_000;
const JOIN_TIMEOUT_MS = 120_000;
/** Element ids are 16 to 64 characters; a line's id is padded to that with this (absent from the id's parts). */
const ID_PAD = "-";
const MIN_ID_LENGTH = 16;
/** The baseline's frames name an epoch and an author as long as those ours names (12 and 16 characters). */
const BASELINE_EPOCH = "baselineEpch";
const BASELINE_AUTHOR = "baseline-author-";

/** Load client `client`'s secret user key (22 to 64 characters). */
const userKey = (client: number) => `load-user-key-${client}`.padEnd(22, ID_PAD);
const user = (client: number): UserInput => ({ key: userKey(client), name: `load ${client}`, color: "#1a73e8" });
/** The edit key of the board the benchmarks call `name` (names are short and URL-safe). */
const editKeyOf = (name: string) => `bench-edit-key-${name}`.padEnd(22, ID_PAD);

/** The id of the board the benchmarks call `name`: what the service keys it by (and its room, and its channel). */
export const boardId = (name: string): string => boardIdOf(editKeyOf(name));

/** A step's tag: letters and digits only, different for every step of a run. */
export function lineKey(tag: string, sender: number, line: number): string {
  return `${tag}_${sender.toString(36)}_${line.toString(36)}`.padEnd(MIN_ID_LENGTH, ID_PAD);
}

/** A line's identity, parsed back from its id; undefined when the id is not a benchmark line's. */
function parseKey(id: string): { tag: string; sender: number; line: number } | undefined {
  const first = id.indexOf("_");
  const second = id.indexOf("_", first + 1);
  const pad = id.indexOf(ID_PAD, second + 1);
  const sender = Number.parseInt(id.slice(first + 1, second), 36);
  const line = Number.parseInt(id.slice(second + 1, pad < 0 ? id.length : pad), 36);
  if (first < 1 || second < 0 || !Number.isInteger(sender) || !Number.isInteger(line)) return undefined;
  return { tag: id.slice(0, first), sender, line };
}

/**
 * A piece of a line as one message carries it: samples `first` .. `first + count - 1` of line `line` of sender
 * `sender` in step `tag` (their content is a function of that identity: ./drawing.ts), the piece's number `n` in
 * the line (0 first).
 */
export interface Piece {
  tag: string;
  sender: number;
  line: number;
  n: number;
  first: number;
  count: number;
}

/** What became of a piece sent to ours: stored, or refused with the service's code (`no_answer` on a timeout). */
export type Outcome = { stored: true } | { stored: false; code: string };

/** The piece's samples (no pressure, as a mouse draws), encoded as its message carries them. */
function pointsOf({ sender, line, first, count }: Piece): string {
  const samples: Sample[] = [];
  for (let index = first; index < first + count; index += 1) samples.push([...samplePoint(sender, line, index), 0]);
  return encodeSamples(samples, first > 0 ? samplePoint(sender, line, first - 1) : undefined);
}

/** Piece 0 is the line's `add`; every later one an `append` continuing from the sample before it. */
function pieceInput(piece: Piece): { event: "add"; input: ElementInput } | { event: "append"; input: AppendInput } {
  const id = lineKey(piece.tag, piece.sender, piece.line);
  const d = pointsOf(piece);
  const b = lineBox(piece.sender, piece.line, piece.first + piece.count - 1);
  if (piece.n > 0) return { event: "append", input: { i: id, n: piece.n, d, b } };
  const { color, width } = styleOf(piece.sender);
  return { event: "add", input: { id, t: "f", b, c: color, sw: width, f: "", d } };
}

// --- Ours: plain sockets ------------------------------------------------------------------------------------------

export function openSocket(url: string): WireSocket {
  return io(url, { transports: ["websocket"], reconnectionDelay: 500, forceNew: true });
}

/** Joins board `name` as load client `client`, allowed to draw; resolves once joined, rejects on a refusal. */
export async function join(socket: WireSocket, name: string, client: number): Promise<void> {
  const request = { pv: PROTOCOL_VERSION, board: boardId(name), edit: editKeyOf(name), user: user(client) };
  const ack = await acknowledged<SyncAck>((callback) =>
    socket.timeout(JOIN_TIMEOUT_MS).emit("join", request, callback),
  );
  if (!ack.ok) throw new Error(`join of ${name} refused: ${ack.code} ${ack.error}`);
}

/** Sends a piece to ours without waiting; `done` gets its outcome. */
export function sendPiece(socket: WireSocket, piece: Piece, done: (outcome: Outcome) => void): void {
  const answer = (error: Error | null, ack: WriteAck) =>
    done(error ? { stored: false, code: "no_answer" } : ack.ok ? { stored: true } : { stored: false, code: ack.code });
  const message = pieceInput(piece);
  const timed = socket.timeout(ACK_TIMEOUT_MS);
  if (message.event === "add") timed.emit("add", message.input, answer);
  else timed.emit("append", message.input, answer);
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
  /** A sample of a benchmark line, with the colour and width its line has. */
  sample(tag: string, sender: number, line: number, x: number, y: number, color: string, width: number): void;
  /** An element or append that is not a benchmark line's, or whose box or points are not what was drawn. */
  undecodable(): void;
}

type Box = readonly [x: number, y: number, w: number, h: number];
type LineIdentity = NonNullable<ReturnType<typeof parseKey>>;

/**
 * Hands the samples of one add (`append` false: its points start from (0, 0) and are the line's first) or append
 * (they continue from the sample drawn before its first) to `sink`. The box must be that of the line's samples up to
 * the last one here (its x + w tells which that is), and every sample drawn without pressure.
 */
function emit(
  sink: SampleSink,
  { tag, sender, line }: LineIdentity,
  d: string,
  box: Box,
  color: string,
  width: number,
  append: boolean,
): void {
  const flat = decodeSamples(d);
  const last = indexOfX(box[0] + box[2]);
  if (typeof flat === "string" || last < 0) return sink.undecodable();
  const first = last + 1 - flat.length / 3;
  const expected = lineBox(sender, line, last);
  if (box.some((value, k) => value !== expected[k]) || (append ? first < 1 : first !== 0)) return sink.undecodable();
  const [dx, dy] = append ? samplePoint(sender, line, first - 1) : [0, 0];
  for (let k = 0; k < flat.length; k += 3) {
    if (flat[k + 2] !== 0) sink.undecodable();
    else sink.sample(tag, sender, line, (flat[k] as number) + dx, (flat[k + 1] as number) + dy, color, width);
  }
}

/**
 * Decodes a frame of ours (or the baseline's relay of one) into samples. Adds are checked whole (kind, box, colour,
 * width, points); appends carry no colour or width, so their samples are handed on with their sender's, which the
 * add was checked against. Operations that add no points (clears, erasures) are skipped.
 */
export function decodeFrame(frame: Frame, sink: SampleSink): void {
  for (const op of frame.ops) {
    if (op.t === "a") {
      const [, , , , id, , t, , x, y, w, h, color, width, , , d] = op.r;
      const identity = parseKey(id);
      if (t !== "f" || !identity) sink.undecodable();
      else emit(sink, identity, d, [x, y, w, h], color, width, false);
    } else if (op.t === "p") {
      const identity = parseKey(op.i);
      if (!identity) sink.undecodable();
      else {
        const { color, width } = styleOf(identity.sender);
        emit(sink, identity, op.d, op.b, color, width, true);
      }
    }
  }
}

// --- The baseline -------------------------------------------------------------------------------------------------

/**
 * The frame ours broadcasts for `piece` (its add or append as the store records it, at seq `seq`), as the
 * baseline's sender sends it for the baseline to relay unchanged: its receivers then decode exactly what ours' do.
 */
export function baselineFrame(piece: Piece, seq: number): Frame {
  const message = pieceInput(piece);
  if (message.event === "append") {
    const { i, n, d, b } = message.input;
    return { e: BASELINE_EPOCH, ops: [{ t: "p", s: seq, i, n, v: 2 * n, d, b }] };
  }
  const { id, t, b, c, sw, f, d } = message.input;
  return {
    e: BASELINE_EPOCH,
    ops: [{ t: "a", s: seq, r: [seq, 1, 0, 0, id, BASELINE_AUTHOR, t, seq, ...b, c, sw, f, 0, d, seq] }],
  };
}

// --- The browser client's own session -----------------------------------------------------------------------------

export interface SessionEvents {
  /**
   * These samples of line `key` are stored (the store's board, as the session holds it, has them), in `pieces` more
   * of the line's writes (its add and appends).
   */
  stored(key: string, points: readonly Point[], pieces: number): void;
  /** The service refused line `key` for good: `points` are those not stored. */
  refused(key: string, points: readonly Point[], code: string): void;
  disconnected(): void;
  cursors(positions: number): void;
}

/** The points of a freehand record's `d`. */
function recordPoints(d: string): Point[] {
  const flat = decodeSamples(d);
  const points: Point[] = [];
  if (typeof flat !== "string")
    for (let k = 0; k < flat.length; k += 3) points.push([flat[k] as number, flat[k + 1] as number]);
  return points;
}

/**
 * A drawer that sends what it draws through the browser client's session (its outbox: what was drawn while a few
 * writes are in flight goes together). The session says which writes were acknowledged, not which samples: a
 * sample counts as stored once the store's board, as the session holds it (its own operations come back to it, and
 * it reads what it missed), has it.
 */
export class SessionDrawer {
  private readonly session: WhiteboardSession;
  private nextKey = "";
  /** Lines drawn and not yet wholly stored: samples drawn; samples and writes reported stored. */
  private readonly lines = new Map<string, { drawn: Point[]; stored: number; pieces: number; ended: boolean }>();

  constructor(url: string, name: string, client: number, events: SessionEvents) {
    const report = (key: string) => {
      const line = this.lines.get(key);
      const record = this.session.board.get(key);
      if (!line || !record) return;
      const points = recordPoints(record.d);
      // The record holds the add and `n` appends.
      if (points.length > line.stored) events.stored(key, points.slice(line.stored), 1 + record.n - line.pieces);
      line.stored = Math.max(line.stored, points.length);
      line.pieces = Math.max(line.pieces, 1 + record.n);
      if (line.ended && line.stored >= line.drawn.length) this.lines.delete(key);
    };
    this.session = new WhiteboardSession(
      {
        board: boardId(name),
        edit: editKeyOf(name),
        user: user(client),
        transport: new SocketTransport({ url }),
        newId: () => this.nextKey,
      },
      {
        onChange: (change) => {
          for (const key of change.all ? [...this.lines.keys()] : change.ids) report(key);
        },
        onNotice: (notice) => {
          for (const key of notice.ids) {
            const line = this.lines.get(key);
            if (!line) continue;
            this.lines.delete(key);
            events.refused(key, line.drawn.slice(line.stored), notice.kind);
          }
        },
        onStatus: (status) => status === "reconnecting" && events.disconnected(),
        onCursors: (cursors) => events.cursors(cursors.length),
      },
    );
  }

  ready(): Promise<void> {
    return waitFor("the session to join", () => this.session.status === "connected", JOIN_TIMEOUT_MS);
  }

  begin(point: Point, key: string, style: Style): void {
    this.nextKey = key;
    this.lines.set(key, { drawn: [point], stored: 0, pieces: 0, ended: false });
    this.session.begin([...point, 0], { c: style.color, sw: style.width });
  }

  extend(point: Point): void {
    this.lines.get(this.nextKey)?.drawn.push(point);
    this.session.extend([...point, 0]);
  }

  end(): void {
    const line = this.lines.get(this.nextKey);
    if (line) line.ended = true;
    if (line && line.stored >= line.drawn.length) this.lines.delete(this.nextKey);
    this.session.end();
  }

  async clear(): Promise<void> {
    await this.session.clear();
  }

  cursor(point: Point): void {
    this.session.cursor(point);
  }

  /** Writes not yet acknowledged. */
  get awaiting(): number {
    return this.session.pendingWrites;
  }

  close(): void {
    this.session.close();
  }
}

// --- The store ----------------------------------------------------------------------------------------------------

/**
 * What the store holds of board `name`, read through an instance by a view-only session (the browser client's
 * own catch-up): visible elements, their records' bytes as sent, and the samples in them.
 */
export async function storedContent(
  url: string,
  name: string,
): Promise<{ records: number; bytes: number; samples: number }> {
  const reader = new WhiteboardSession({
    board: boardId(name),
    user: { key: userKey(-1), name: "bench reader", color: "#000000" },
    transport: new SocketTransport({ url }),
  });
  try {
    await waitFor(`board ${name} to be read`, () => reader.status === "connected", JOIN_TIMEOUT_MS);
    const elements = reader.board.elements();
    let bytes = 0;
    let samples = 0;
    for (const record of elements) {
      bytes += JSON.stringify(toTuple(record)).length;
      samples += recordPoints(record.d).length;
    }
    return { records: elements.length, bytes, samples };
  } finally {
    reader.close();
  }
}
