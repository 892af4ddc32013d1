/**
 * The whiteboard wire protocol: the one definition shared by the service and the browser client.
 *
 * Socket.IO namespace `/`, path `/socket.io`, WebSocket transport only (HTTP long-polling needs sticky
 * sessions, which Cloud Run does not guarantee). README.md, "Protocol", describes it for people.
 *
 * A board is a log of operations. Every operation the store accepts (a stroke, a change of visibility, a
 * clear, the undoing of a clear) takes the board's next `seq`, so a client that sees a gap knows it missed
 * something. The board also has an identity, its epoch `e`, which changes whenever the store may have lost
 * or rewritten history (a Redis restart without persistence, a failover to a replica that lacked the last
 * writes): seqs are comparable only within one epoch.
 *
 * Strokes are never edited. Hiding and showing them (eraser, undo, redo, clear) changes a per-stroke
 * version: even means visible, odd means hidden, and a higher version always wins. That makes every change
 * idempotent and independent of delivery order, and lets clients restore a store that lost writes.
 */

/** Board coordinates are integers: the board is BOARD_WIDTH × BOARD_HEIGHT units (16:10). */
export const BOARD_WIDTH = 16_000;
export const BOARD_HEIGHT = 10_000;

/** A stroke chunk as a client sends it. `id` is made by the client and makes resending idempotent. */
export interface StrokeInput {
  /** 1 to 64 of `[A-Za-z0-9_-]`; chunks of one drawn line share a prefix, `<line>-<n>`. */
  id: string;
  /** Points, encoded (see ./points.ts): Base64 VLQ of x0, y0, then the difference to each next point. */
  p: string;
  /** `#rrggbb` */
  c: string;
  /** Line width in CSS pixels on a 1000-pixel-wide board, 1 to 64. */
  w: number;
  /**
   * The stroke's version, for a client restoring strokes a store lost (see `heal` in the README); default 0.
   * An odd version stores the stroke hidden.
   */
  v?: number;
  /** The author, when restoring someone else's stroke; default: the sender's user id. */
  u?: string;
}

/**
 * A stroke as stored and sent (in snapshots and operations): a JSON array, which is a third smaller than an
 * object with named fields and parses about twice as fast, which matters for a late joiner's 100,000 strokes.
 * `g` and `v` place it in the store: its current version is `v + k[g]`, where `k[g]` is the page's flip count (a
 * clear hides whole pages by raising their count to odd, undoing it raises it to even), unless `v` is odd (stored
 * hidden: then its version is `v`).
 */
export type StrokeTuple = [s: number, g: number, v: number, i: string, u: string, c: string, w: number, p: string];

/** The same stroke with named fields, as clients hold it. */
export interface StrokeRecord {
  /** Seq: the stroke's place in the stacking order. */
  s: number;
  /** Store page holding this copy. */
  g: number;
  /** Version at placement. */
  v: number;
  i: string;
  /** Author's user id. */
  u: string;
  c: string;
  w: number;
  p: string;
}

export function toRecord([s, g, v, i, u, c, w, p]: StrokeTuple): StrokeRecord {
  return { s, g, v, i, u, c, w, p };
}

/** Operations as the store recorded them: what clients apply, live or when catching up. */
export type BoardOp =
  /** A stroke was added. */
  | { t: "s"; s: number; r: StrokeTuple }
  /**
   * Strokes changed visibility (eraser, undo, redo, restore). `h`: strokes now hidden, each with its
   * version. `r`: strokes shown again, each placed anew (with its original seq).
   */
  | { t: "v"; s: number; u: string; h: [id: string, version: number][]; r: StrokeTuple[] }
  /** The board was cleared: these pages' flip counts became odd (their strokes hidden). */
  | { t: "c"; s: number; u: string; k: Record<string, number> }
  /** The clear at seq `of` was undone: these pages' flip counts became even again. */
  | { t: "u"; s: number; u: string; of: number; k: Record<string, number> };

/** Who draws: chosen on first visit, kept by the browser. Names and colours are shown on live cursors. */
export interface UserInfo {
  /** 8 to 32 of `[A-Za-z0-9_-]`, random. */
  id: string;
  /** 1 to 40 characters, shown to others. */
  name: string;
  /** `#rrggbb` */
  color: string;
}

export interface JoinRequest {
  /** 1 to 64 of `[A-Za-z0-9_-]`. */
  board: string;
  user: UserInfo;
  /** The epoch the client holds, with `after`: the highest seq it holds with no gap below. */
  e?: string;
  after?: number;
}

/**
 * A catch-up read, to continue a join: either `{ e, after }` (the operations after `after`) or
 * `{ e, at, cursor }` (the next pages of a snapshot started at seq `at`).
 */
export type ReadRequest = { e: string; after: number } | { e: string; at: number; cursor: number };

/** Machine-readable reasons for a refusal; `error` carries the human-readable text. */
export type ErrorCode =
  /** The event's payload does not match the protocol. Do not resend it unchanged. */
  | "invalid"
  /** A write or read before a successful `join`. */
  | "not_joined"
  /** The board holds its maximum of strokes or bytes: clear it, or use another board. */
  | "board_full"
  /** The store as a whole is full: nothing can be added until space is freed. Retry much later. */
  | "storage_full"
  /** Too many events from this connection (or on this board); resend later. */
  | "rate_limited"
  /** The store is unreachable or the instance is shutting down; resend later, possibly after reconnecting. */
  | "unavailable"
  /** An undo of a clear came too late: the cleared strokes are gone. */
  | "gone";

export interface ErrorAck {
  ok: false;
  code: ErrorCode;
  error: string;
}

/** A snapshot: the visible strokes of some of the board's live pages, newest pages first. */
export interface Snapshot {
  /** Flip count of every page whose records are included. */
  k: Record<string, number>;
  records: StrokeTuple[];
  /** Present when more pages follow: read `{ e, at: s, cursor: next }`. */
  next?: number;
}

/**
 * The answer to `join` and `read`: the board's epoch and seq at the moment of the read, and either the
 * operations after the client's `after` (complete up to `s`), or a snapshot page. After the last snapshot
 * page, the client reads the operations after the snapshot's `s`.
 */
export type SyncAck =
  | { ok: true; board: string; e: string; s: number; ops: BoardOp[] }
  | { ok: true; board: string; e: string; s: number; snapshot: Snapshot }
  | ErrorAck;

export type WriteAck = { ok: true; s: number } | ErrorAck;

/** Version changes a client asks for: each `[id, version]`; a version not above the stroke's is ignored. */
export interface VisibilityRequest {
  x: [id: string, version: number][];
}

/** A pointer position on the board, in board units. */
export interface CursorInput {
  x: number;
  y: number;
}

/** Recent cursor positions on a board, at most one per user. */
export interface CursorUpdate {
  u: string;
  n: string;
  c: string;
  x: number;
  y: number;
}

/** The epoch of a board nobody has written yet. */
export const NO_EPOCH = "0";

/** Codes after which the same event may succeed if sent again later. */
export const RETRYABLE_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "rate_limited",
  "unavailable",
  "storage_full",
]);

export interface ClientToServerEvents {
  join: (request: JoinRequest, ack: (response: SyncAck) => void) => void;
  read: (request: ReadRequest, ack: (response: SyncAck) => void) => void;
  stroke: (stroke: StrokeInput, ack: (response: WriteAck) => void) => void;
  /** Hides strokes: every version must be odd. */
  erase: (request: VisibilityRequest, ack: (response: WriteAck) => void) => void;
  /** Shows strokes again: every version must be even. */
  restore: (request: VisibilityRequest, ack: (response: WriteAck) => void) => void;
  clear: (request: Record<string, never>, ack: (response: WriteAck) => void) => void;
  /** Undoes the clear at seq `of`, while its strokes are kept (see UNDO_CLEAR in the README). */
  unclear: (request: { of: number }, ack: (response: WriteAck) => void) => void;
  /** Where this user points; ephemeral, never stored, dropped first under load. No ack. */
  cursor: (position: CursorInput) => void;
}

export interface ServerToClientEvents {
  /** Operations stored on this board by anyone (the sender included), in seq order within one message. */
  ops: (batch: { e: string; ops: BoardOp[] }) => void;
  /** How many clients are on this board across every instance. Sent when it changes. */
  presence: (event: { count: number }) => void;
  /**
   * The board's epoch and seq, sent every few seconds. A client holding another epoch re-reads the board;
   * one holding less of this epoch rejoins with `after`. This recovers an operation whose broadcast was lost
   * (an instance killed between storing and broadcasting) and notices a store that lost writes.
   */
  head: (event: { e: string; s: number }) => void;
  /** Other users' pointers, a few times a second at most. */
  cursors: (cursors: CursorUpdate[]) => void;
  /**
   * The platform will cut this connection in about `inMs` milliseconds (Cloud Run's request timeout).
   * The client should reconnect at its next quiet moment; the new connection may reach another instance.
   */
  rotate: (event: { inMs: number }) => void;
}

/** Board ids and stroke ids: 1 to 64 characters of `[A-Za-z0-9_-]`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{8,32}$/;
export const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;
export const MIN_WIDTH = 1;
export const MAX_WIDTH = 64;
/** Versions are small counters: a stroke hidden and shown a million times is not a drawing. */
export const MAX_VERSION = 1_000_000;
