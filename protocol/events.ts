/**
 * The whiteboard wire protocol, version 2: the one definition shared by the service and the browser client.
 * docs/protocol.md describes it for people, with the reasons behind each rule.
 *
 * Socket.IO namespace `/`, path `/socket.io`, WebSocket transport only (HTTP long-polling needs sticky
 * sessions, which Cloud Run does not guarantee).
 *
 * A board is a set of elements (freehand lines, shapes, text, sticky notes) and a log of the operations that
 * made it. Every operation the store accepts takes the board's next `seq`, so a client that sees a gap knows it
 * missed something, and every client applies them in seq order. The board's epoch `e` names its history: it
 * changes when the store may have lost its last writes (a restart, a failover); the new history shares the old
 * one's operations up to a seq the server reports as `base`, so a client that held no more than that loses
 * nothing and re-reads nothing.
 *
 * Every element has a version. Each change to it raises the version (visibility by 1, any other change by 2),
 * the store decides the new version, and its parity is the element's visibility: even shown, odd hidden. Clients
 * never send versions except when healing a store that lost writes, where a higher version means later knowledge.
 */

/** Board units per CSS pixel at 100% zoom. Coordinates and sizes are integers in board units. */
export const UNITS_PER_PIXEL = 16;
/** Every coordinate is within ±COORD_LIMIT board units (±1,048,576 CSS pixels at 100%): nobody meets the edge. */
export const COORD_LIMIT = 2 ** 24;

/** Element kinds: freehand line, rectangle, ellipse, straight line, arrow, text, sticky note. */
export type ElementKind = "f" | "r" | "e" | "l" | "a" | "t" | "n";
export const ELEMENT_KINDS: readonly ElementKind[] = ["f", "r", "e", "l", "a", "t", "n"];

/**
 * An element's placement: its box. Freehand lines, text and notes fill their box (points are scaled from their own
 * bounding box to it); rectangles and ellipses are inscribed in it; a straight line or arrow goes from (x, y) to
 * (x + w, y + h), so its w and h may be negative. Every other kind has w, h ≥ 0.
 */
export type Box = [x: number, y: number, w: number, h: number];

/**
 * An element as stored and sent (snapshots, `a` operations): a JSON array, a third smaller than named fields and
 * twice as fast to parse, which matters for a late joiner's 100,000 elements.
 *
 * - `s`: the seq that created it; `z`: its place in the stacking order (drawn by z, then s), s unless moved;
 * - `g`: the store page that holds it; `o`: 1 when its visibility is its own (hidden by an eraser, or created
 *   hidden), 0 when it follows its page's flip count `k[g]` (a clear hides whole pages);
 * - `v`: its version is `v` when `o` is 1, else `v + k[g]`;
 * - `n`: points appended so far (freehand lines: see `append`), 0 for other kinds;
 * - `d`: the kind's data: freehand, its points (./points.ts); text and notes, the text as base64url of UTF-8;
 *   every other kind, "".
 * - `c` stroke or text colour, `sw` stroke width (1..64) or font size (text, notes: 8..256), `f` fill colour or ""
 *   (rectangles, ellipses, notes).
 * - `l`: the seq of its last own change (created, appended to, edited, hidden or shown, healed; not a clear's flip of
 *   its page). The store needs it to tell whether a healing client's knowledge is older than a change made after a
 *   loss; a client may keep it (every operation naming the element sets it to that operation's `s`) or ignore it.
 *
 * Every string in it is free of quotes, backslashes and brackets, which lets the store edit records in place.
 */
export type ElementTuple = [
  s: number,
  g: number,
  o: 0 | 1,
  v: number,
  i: string,
  u: string,
  t: ElementKind,
  z: number,
  x: number,
  y: number,
  w: number,
  h: number,
  c: string,
  sw: number,
  f: string,
  n: number,
  d: string,
  l: number,
];

/** The same element with named fields, as clients hold it. */
export interface ElementRecord {
  s: number;
  g: number;
  o: 0 | 1;
  v: number;
  i: string;
  u: string;
  t: ElementKind;
  z: number;
  x: number;
  y: number;
  w: number;
  h: number;
  c: string;
  sw: number;
  f: string;
  n: number;
  d: string;
  l: number;
}

export function toRecord([s, g, o, v, i, u, t, z, x, y, w, h, c, sw, f, n, d, l]: ElementTuple): ElementRecord {
  return { s, g, o, v, i, u, t, z, x, y, w, h, c, sw, f, n, d, l };
}

export function toTuple({ s, g, o, v, i, u, t, z, x, y, w, h, c, sw, f, n, d, l }: ElementRecord): ElementTuple {
  return [s, g, o, v, i, u, t, z, x, y, w, h, c, sw, f, n, d, l];
}

/** The fields an `edit` may set. `o` in a request moves the element to the front (1) or back (-1). */
export interface ElementPatch {
  x?: number;
  y?: number;
  w?: number;
  h?: number;
  c?: string;
  sw?: number;
  f?: string;
  /** Text and notes only: the new text, base64url of UTF-8. */
  d?: string;
}

/** A patch as the store applied it: a move to the front or back became the element's new `z`. */
export interface AppliedPatch extends ElementPatch {
  z?: number;
}

/** Operations as the store recorded them: what clients apply, live or when catching up, in seq order. */
export type BoardOp =
  /**
   * An element was created, or put back by a healing client (then it replaces the record a client holds of that id).
   * `k`: the flip count of the record's page when it is not 0, which happens only for a healed element placed on a
   * page a clear hid (hidden with that clear's elements, shown by its undo): a client that joined after the clear does
   * not hold that page's count.
   */
  | { t: "a"; s: number; r: ElementTuple; k?: Record<string, number> }
  /** Points were appended to freehand line `i` (its `n`-th append), now at version `v`, with a new box `b`. */
  | { t: "p"; s: number; i: string; n: number; v: number; d: string; b: Box }
  /**
   * Elements changed visibility (eraser, undo, redo): each `[id, version]`, odd hidden, even shown. An element shown
   * again follows its page again (`o` 0, `v` = version - k[g]); one hidden is on its own (`o` 1, `v` = version).
   * `r`: elements shown again whose page a clear had hidden, copied to a live page (their old copy is gone).
   */
  | { t: "v"; s: number; u: string; x: [id: string, version: number][]; r?: ElementTuple[] }
  /** Elements edited (moved, resized, restyled, text changed): each `[id, version, patch]`. */
  | { t: "e"; s: number; u: string; x: [id: string, version: number, patch: AppliedPatch][] }
  /** The board was cleared: these pages' flip counts became odd (their elements hidden, kept for an undo). */
  | { t: "c"; s: number; u: string; k: Record<string, number> }
  /**
   * The clear at seq `of` was undone: these pages' flip counts became even again. A client that does not hold these
   * pages (it read the board after the clear) reads the board again to get their elements.
   */
  | { t: "u"; s: number; u: string; of: number; k: Record<string, number> };

/** This version of the protocol; a client that sends another is told `outdated` (reload the page). */
export const PROTOCOL_VERSION = 2;

/**
 * Who draws, as the client says it. `key` is a secret the browser keeps (localStorage): the service derives the
 * user's id from it, so nobody can act or appear as someone else without it. Names are free (and normalized).
 */
export interface UserInput {
  /** 22 to 64 of `[A-Za-z0-9_-]`, random, never shown. */
  key: string;
  /** 1 to 40 characters after normalization, shown to others. */
  name: string;
  /** `#rrggbb` */
  color: string;
}

/** Who a client is, as the service sees it (in the join's answer). */
export interface You {
  /** Derived from the user's key: what `u` in elements and operations means for this client. */
  id: string;
  /** The name as normalized, shown to others. */
  name: string;
  /** False for a view-only link: every write is refused with `forbidden`. */
  edit: boolean;
}

export interface JoinRequest {
  /** PROTOCOL_VERSION. */
  pv: number;
  /** 1 to 64 of `[A-Za-z0-9_-]`: the board's id (its view-only link). */
  board: string;
  /** The board's edit key, from the edit link: the board id is derived from it. Absent: view only. */
  edit?: string;
  user: UserInput;
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
  /** The client speaks another version of the protocol: reload the page. */
  | "outdated"
  /** A write or read before a successful `join`. */
  | "not_joined"
  /** A write from a view-only client, or an append to someone else's line. */
  | "forbidden"
  /** The board holds its maximum of elements or bytes: clear it, or use another board. */
  | "board_full"
  /** This one element would pass its own size limit (a line's points, a text's length). */
  | "too_large"
  /** An append whose predecessor has not arrived yet: send them in order. */
  | "out_of_order"
  /** The store as a whole is full: nothing can be added until space is freed. Retry much later. */
  | "storage_full"
  /** Too many events or bytes from this connection, its address or on this board; resend later. */
  | "rate_limited"
  /** The store is unreachable or the instance is shutting down; resend later, possibly after reconnecting. */
  | "unavailable"
  /** An undo of a clear came too late: the cleared elements are gone. */
  | "gone";

export interface ErrorAck {
  ok: false;
  code: ErrorCode;
  error: string;
  /**
   * On `out_of_order`, the board's epoch: an append to a line this client saw stored in another epoch was refused
   * because the store lost the line (the client heals it), not because an earlier append is still on its way.
   */
  e?: string;
}

/** A snapshot: the elements of some of the board's live pages (hidden ones included), newest pages first. */
export interface Snapshot {
  /** Flip count of every page whose records are included. */
  k: Record<string, number>;
  records: ElementTuple[];
  /** Present when more pages follow: read `{ e, at: s, cursor: next }`. */
  next?: number;
}

/**
 * The answer to `join` and `read`: the board's epoch and seq at the moment of the read, and either the operations
 * after the client's `after` (complete up to `s`), or a snapshot page. After the last snapshot page, the client
 * reads the operations after the snapshot's `s`.
 *
 * `base` is present when the client named another epoch than the board's: the seq up to which the two histories
 * are the same (0 when the client's epoch is unknown). A client holding no more than `base` got the operations
 * after its `after`, as usual; one holding more gets a snapshot, and heals (see `add`'s `h`).
 */
export type SyncAck =
  | { ok: true; board: string; e: string; s: number; base?: number; you?: You; ops: BoardOp[] }
  | { ok: true; board: string; e: string; s: number; base?: number; you?: You; snapshot: Snapshot }
  | ErrorAck;

/**
 * A write's answer: the seq it was stored at (or, for a resent write the board already holds, the board's current seq),
 * and `e`, the epoch of the history that seq belongs to. A client cannot tell it from the messages around the answer:
 * the service answers before its own broadcast reaches the writer, and the store may take a new epoch in between.
 */
export type WriteAck = { ok: true; s: number; e: string } | ErrorAck;

/**
 * A new element. `id` is made by the client (16 or more random characters) and makes resending idempotent. A
 * freehand line starts with its first points here and grows by `append`.
 */
export interface ElementInput {
  /** 16 to 64 of `[A-Za-z0-9_-]`. */
  id: string;
  t: ElementKind;
  /** The box, see Box. */
  b: Box;
  c: string;
  sw: number;
  f: string;
  d: string;
  /**
   * Healing only: the epoch whose history this client knew the element from. The store takes the element, with
   * `v` and `u`, only where nothing in the board's current history changed it since that history's `base`.
   */
  h?: string;
  /** Healing only: the version the client knew (odd: hidden). */
  v?: number;
  /** Healing only: the author as the client knew it. */
  u?: string;
  /** Healing only: appends the client knew. */
  n?: number;
}

/** More points for the sender's own freehand line `i`: its `n`-th append (1, 2, ...), with the line's new box. */
export interface AppendInput {
  i: string;
  n: number;
  /** Points continuing from the line's last point (./points.ts), so the store only concatenates. */
  d: string;
  b: Box;
}

/** Elements to hide (`erase`) or show (`restore`); those already so are left alone. */
export interface VisibilityRequest {
  ids: string[];
}

/** Edits, applied in the store's order: each field is whatever its last edit set (last writer wins per field). */
export interface EditRequest {
  x: [id: string, patch: ElementPatch & { o?: 1 | -1 }][];
}

/** A pointer position on the board, in board units. */
export interface CursorInput {
  x: number;
  y: number;
}

/** Recent cursor positions on a board, at most one per user. */
export interface CursorUpdate {
  /** The user's id (derived from their key). */
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
  "out_of_order",
]);

export interface ClientToServerEvents {
  join: (request: JoinRequest, ack: (response: SyncAck) => void) => void;
  read: (request: ReadRequest, ack: (response: SyncAck) => void) => void;
  add: (element: ElementInput, ack: (response: WriteAck) => void) => void;
  append: (points: AppendInput, ack: (response: WriteAck) => void) => void;
  erase: (request: VisibilityRequest, ack: (response: WriteAck) => void) => void;
  restore: (request: VisibilityRequest, ack: (response: WriteAck) => void) => void;
  edit: (request: EditRequest, ack: (response: WriteAck) => void) => void;
  clear: (request: Record<string, never>, ack: (response: WriteAck) => void) => void;
  /** Undoes the clear at seq `of`, while its elements are kept (UNDO_CLEAR_SECONDS). */
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
   * The board's epoch and seq, sent every few seconds. A client holding another epoch reads again with its own
   * epoch (and learns `base`); one holding less of this epoch reads what it missed. This recovers an operation
   * whose broadcast was lost and notices a store that lost writes.
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

/** Board ids: 1 to 64 characters of `[A-Za-z0-9_-]`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Element ids: unguessable, so nobody can aim at someone's next element. */
export const ELEMENT_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** User and edit keys: secrets of at least 128 bits. */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
export const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;
export const MIN_WIDTH = 1;
export const MAX_WIDTH = 64;
export const MIN_FONT_SIZE = 8;
export const MAX_FONT_SIZE = 256;
/** Most characters of one text or note (before encoding). */
export const MAX_TEXT_LENGTH = 4_000;
/**
 * Most bytes of a freehand line's points (`d`, encoded): a client starts a new line, continuing from the last point,
 * before its line passes this. A service configured lower (MAX_LINE_BYTES) refuses such an append with `too_large`,
 * which the client answers the same way.
 */
export const MAX_LINE_BYTES = 16_384;
/** Versions a healing client may send; the store itself raises them by at most 2 per change. */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;
