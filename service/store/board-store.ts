/**
 * Where boards live. Every operation is stored, with its seq, before anyone is told about it, and each is
 * atomic, so concurrent writers on many instances never interleave.
 *
 * Two implementations keep the same contract (test/service/board-store.test.ts runs against both and checks
 * that they answer any sequence of operations identically): Redis (./redis-scripts.ts), for any number of
 * instances, and memory (./memory-board-store.ts), for one instance where there is no Redis, which is also
 * the readable reference for what the Lua does.
 */
import { randomBytes } from "node:crypto";
import type { StrokeInput } from "../../protocol/events";

export interface BoardLimits {
  /** Strokes a board may hold, hidden ones included. */
  maxStrokes: number;
  /** Bytes of stroke records a board may hold, hidden ones included. */
  maxBytes: number;
  /** A page of records closes at about this size. */
  pageBytes: number;
  /** The operation log a reconnecting client catches up from keeps about this many bytes. */
  logBytes: number;
  /** Most bytes of pages one snapshot read returns (at least one page). */
  readBytes: number;
  /**
   * The same for a snapshot's first read (the join's answer), when smaller: the newest strokes reach a late joiner,
   * and its screen, after reading little; the rest follows in reads of `readBytes`. Default: `readBytes`.
   */
  firstReadBytes?: number;
  /** A board nobody reads or writes for this long is deleted. */
  idleTtlSeconds: number;
  /** Least time between two clears (or undos of a clear) of one board. */
  clearIntervalMs: number;
  /** How long a clear can be undone (its pages are kept that long, unless space is needed). */
  undoClearMs: number;
}

/** A stroke to store: its JSON members as stored (see `strokeBody`) and its version. */
export interface NewStroke {
  id: string;
  body: string;
  v: number;
}

export type AddOutcome =
  | { kind: "stored"; s: number }
  /** The id was stored before (a resend after a lost ack): its seq, and nothing new to broadcast. */
  | { kind: "duplicate"; s: number }
  | { kind: "full" };

/** What a write did: the board's identity and seq after it, and the operations it stored, as a JSON array. */
export interface Written {
  e: string;
  s: number;
  /** True when the board got a new epoch during this call (new, or its store may have lost writes). */
  rotated: boolean;
  /** The stored operations (BoardOp[] of the protocol) as JSON text, broadcast without parsing. */
  ops: string;
}

export type ClearOutcome = "stored" | "unchanged" | "rate_limited";
export type UnclearOutcome = "stored" | "rate_limited" | "gone";

/**
 * `{ e, after }` reads the log after a seq; `{ e, at, cursor }` continues a snapshot that started at seq `at`
 * (or starts a new one, when the log no longer holds what followed `at`); anything else starts a snapshot.
 */
export interface ReadRequest {
  e?: string;
  after?: number;
  at?: number;
  cursor?: number;
}

export type ReadResult =
  | { e: string; s: number; rotated: boolean; ops: string }
  | { e: string; s: number; rotated: boolean; snapshot: { k: Record<string, number>; records: string; next?: number } };

export interface BoardStore {
  /** Stores strokes in order, each with the next seq (duplicates and refusals take none). */
  addStrokes(board: string, user: string, strokes: readonly NewStroke[]): Promise<Written & { outcomes: AddOutcome[] }>;
  /** Raises stroke versions (odd hides, even shows); lower or equal versions change nothing. */
  setVisibility(
    board: string,
    user: string,
    changes: readonly (readonly [id: string, version: number])[],
  ): Promise<Written>;
  /** Hides every visible stroke, keeping them `undoClearMs` for `unclear`; a `hard` clear deletes them at once. */
  clear(board: string, user: string, hard?: boolean): Promise<Written & { outcome: ClearOutcome }>;
  unclear(board: string, user: string, of: number): Promise<Written & { outcome: UnclearOutcome }>;
  read(board: string, request: ReadRequest): Promise<ReadResult>;
  /**
   * Records this instance's client count on a board (or only reads, when `localCount` is undefined) and
   * returns the count across all live instances, with the board's epoch and seq. An instance's entry expires
   * `entryTtlMs` after its last write, so a killed instance stops counting.
   */
  presence(
    board: string,
    instanceId: string,
    localCount: number | undefined,
    entryTtlMs: number,
  ): Promise<{ count: number; s: number; e: string }>;
}

/** The store as a whole is out of memory (Redis refuses writes with OOM): nothing can be added for now. */
export class StorageFullError extends Error {
  constructor(cause: Error) {
    super(`the board store is full: ${cause.message}`, { cause });
    this.name = "StorageFullError";
  }
}

/** The epoch of a board that was never written: reading made-up board names creates nothing. */
export { NO_EPOCH } from "../../protocol/events";

/** A fresh random epoch: 72 bits, URL-safe. */
export function newEpoch(): string {
  return randomBytes(9).toString("base64url");
}

/**
 * A stroke's fields as stored, after the store's own seq, page and version in the StrokeTuple: `"i","u","c",w,"p"`.
 * Every string in it matches a pattern without quotes, brackets or backslashes, which is what lets the store cut
 * records apart at `],[` without parsing them.
 */
export function strokeBody(input: StrokeInput, author: string): string {
  return `"${input.id}","${author}","${input.c}",${input.w},"${input.p}"`;
}

/**
 * How the store names one copy of a stroke in a page's dead list: `seq:version`, its version as written in the
 * record (a stroke shown again is copied with a higher version, possibly into the same page).
 */
export const recordKey = (seq: number, version: number) => `${seq}:${version}`;

/**
 * The records of a page (StrokeTuples joined by commas) minus the dead ones (by `recordKey`): what a snapshot
 * sends. Cheap when nothing in the page is dead, which is the common case.
 */
export function liveRecords(text: string, dead: ReadonlySet<string>): string {
  if (dead.size === 0) return text;
  const kept: string[] = [];
  for (const piece of text.slice(1, -1).split("],[")) {
    // A piece starts `<seq>,<page>,<version>,`.
    const afterSeq = piece.indexOf(",");
    const afterPage = piece.indexOf(",", afterSeq + 1);
    const version = piece.slice(afterPage + 1, piece.indexOf(",", afterPage + 1));
    if (!dead.has(`${piece.slice(0, afterSeq)}:${version}`)) kept.push(`[${piece}]`);
  }
  return kept.join(",");
}

/** The snapshot JSON array from page texts, newest page first. */
export function snapshotRecords(pages: readonly { text: string; dead: ReadonlySet<string> }[]): string {
  return `[${pages
    .map((page) => liveRecords(page.text, page.dead))
    .filter((text) => text !== "")
    .join(",")}]`;
}
