/**
 * The whiteboard session's public API, for the page (client/app) and for scripts that drive it as users (tests,
 * benchmarks): what a session reports and what it accepts. Types only; ./session.ts implements it, and
 * docs/client.md explains the rules behind it.
 *
 * The page draws `elements()` (the board as the store has it, with this page's writes not yet acknowledged laid
 * on top), redraws what `onChange` names, and calls the write methods; everything else (joining, catching up,
 * gaps, retries, rotation, epochs, healing, keeping unacknowledged writes across reloads) is the session's.
 */
import type {
  BoardOp,
  Box,
  CursorUpdate,
  EditRequest,
  ElementKind,
  ElementRecord,
  UserInput,
  WriteAck,
  You,
} from "../../protocol/events";
import type { Sample } from "../../protocol/points";
import type { Clock } from "./clock";
import type { PendingStore } from "./pending-store";
import type { Transport } from "./transport";

/** A clear, or the undoing of one: what the page offers to undo, or stops offering. */
export type ClearOp = Extract<BoardOp, { t: "c" | "u" }>;

/** What changed in what the page shows. */
export interface BoardChange {
  /** Anything may have changed (a snapshot, a clear, an epoch change): draw everything again. */
  all: boolean;
  /** When `all` is false, the elements that appeared, changed or disappeared: look each up with `element(id)`. */
  ids: ReadonlySet<string>;
  /**
   * Elements another page created (someone else, or this user in another tab), applied from live or caught-up
   * operations (not from snapshots): what History takes as this user's own when `u` is theirs.
   */
  created: readonly ElementRecord[];
  /** Clears and undone clears among what was applied, in seq order. */
  clears: readonly ClearOp[];
}

export type SessionStatus =
  /** The first connection and join. */
  | "connecting"
  /** Joined, reading the board (a snapshot's pages). */
  | "syncing"
  /** Up to date, writes flowing. */
  | "connected"
  /** The connection dropped or the store is away: drawing goes on and is kept until it can be sent. */
  | "reconnecting"
  /** The service speaks another protocol version: the page must reload. Nothing more is sent. */
  | "outdated"
  | "closed";

/** Something the user should be told, worded for people (no codes, no byte counts). Each is reported once. */
export interface Notice {
  kind:
    | "board_full"
    | "too_large"
    | "storage_full"
    /** The board was opened with its view-only link: nothing this page draws is saved. */
    | "view_only"
    /** A write refused for another reason (a bug, or a change the server would not take). */
    | "refused";
  message: string;
  /** The elements it concerns (every element of a refused line), if any. */
  ids: readonly string[];
}

/** The store lost writes (a new epoch) and this page sent back what it knew that the store lacked. */
export interface Recovery {
  /** Elements sent back. */
  restored: number;
}

/** Freehand lines are drawn with a colour and a width (CSS pixels at 100%, 1..64). */
export interface Pen {
  c: string;
  sw: number;
}

/** A shape, text or note: every field of an `add` but the id, which the session makes. */
export interface NewElement {
  t: Exclude<ElementKind, "f">;
  b: Box;
  c: string;
  sw: number;
  f: string;
  /** Text and notes: the text, encoded with `encodeText` (./text.ts); other kinds "". */
  d: string;
}

export interface SessionListeners {
  /** What the page shows changed: redraw it. */
  onChange?(change: BoardChange): void;
  onStatus?(status: SessionStatus): void;
  /** The join's answer said who this client is (its user id, normalized name, whether it may edit). */
  onYou?(you: You): void;
  onPresence?(count: number): void;
  onCursors?(cursors: readonly CursorUpdate[]): void;
  /** Someone (this page included) cleared the board or undid a clear; in seq order, once each. */
  onClear?(op: ClearOp): void;
  onNotice?(notice: Notice): void;
  onRecovered?(recovery: Recovery): void;
  /** The number of writes not yet acknowledged changed (a "saving" indicator, tests). */
  onPending?(count: number): void;
  /** An element this page created was stored at seq `s` (its `add` was acknowledged). */
  onAcked?(id: string, s: number): void;
}

export interface SessionOptions {
  board: string;
  /** The board's edit key (from the edit link); absent: view only. */
  edit?: string;
  user: UserInput;
  transport: Transport;
  /** Where writes wait until acknowledged, across reloads. Default: memory (lost with the page). */
  pendingStore?: PendingStore;
  clock?: Clock;
  /** Writes in flight at once. Default 4. */
  window?: number;
  /** Most samples in one `add` or `append` of a freehand line. Default 200. */
  maxPointsPerWrite?: number;
  /** Most samples in one freehand line; a longer one continues as a new line. Default 10,000. */
  maxPointsPerLine?: number;
  /** How long a gap in live seqs may stay open before the session reads what it missed. Default 1,000 ms. */
  gapGraceMs?: number;
  /** Makes element ids. Default: 16 random URL-safe characters (96 bits). */
  newId?: () => string;
}

/** The session as the page uses it (./session.ts). */
export interface BoardSession {
  readonly status: SessionStatus;
  /** Who this client is, once joined. */
  readonly you: You | undefined;
  /** False once the join said view-only: every write method then does nothing (the page was told by a Notice). */
  readonly canEdit: boolean;
  /** Visible elements in stacking order (z, then s), this page's unacknowledged writes applied. */
  elements(): readonly ElementRecord[];
  /** A visible element as shown, or undefined (hidden, or unknown). */
  element(id: string): ElementRecord | undefined;
  /** Writes not yet acknowledged by the store. */
  readonly pendingWrites: number;

  /** Pen down: starts a freehand line at `sample`. Returns its id (undefined when view-only). */
  begin(sample: Sample, pen: Pen): string | undefined;
  /** More samples of the line being drawn. */
  extend(...samples: Sample[]): void;
  /** Pen up. Returns the ids of the elements the line became (more than one past the points limit). */
  end(): string[];
  /** Adds shapes, text or notes (one undoable action for the page). Returns their ids. */
  create(elements: readonly NewElement[]): string[];
  /** Edits elements: each field is whatever its last edit set; `o: 1 | -1` brings to front or back. */
  edit(x: EditRequest["x"]): void;
  /** Hides elements for everyone (eraser, delete, undo of an add). */
  erase(ids: readonly string[]): void;
  /** Shows elements again (undo of an erase, redo of an add). */
  restore(ids: readonly string[]): void;
  /** Clears the board for everyone. Never queued: a clear replayed later would surprise. */
  clear(): Promise<WriteAck>;
  /** Undoes the clear stored at seq `of`. */
  unclear(of: number): Promise<WriteAck>;
  /** A new name or colour (the same key): sent with a new join on the same connection. */
  setUser(user: UserInput): void;
  /** Where this user points, board units. */
  cursor(point: readonly [x: number, y: number]): void;
  close(): void;
}
