/**
 * Where boards live. Every operation is stored, with its seq, before anyone is told about it, and each call is atomic,
 * so concurrent writers on many instances never interleave. docs/store.md describes the layout and the rules; the
 * protocol's view of them is docs/protocol.md.
 *
 * Two implementations keep one contract (test/service/board-store.test.ts runs against both and checks that they
 * answer any sequence of operations identically): Redis (./redis-scripts.ts), for any number of instances, and memory
 * (./memory-board-store.ts), for one instance where there is no Redis, which is also the readable reference for what
 * the Lua does.
 */
import { randomBytes } from "node:crypto";
import type { AppendInput, ElementInput, ElementPatch } from "../../protocol/events";

export interface BoardLimits {
  /** Elements a board may hold, hidden and cleared ones included. */
  maxElements: number;
  /** Bytes of element records a board may hold, hidden and cleared ones included. */
  maxBytes: number;
  /**
   * The last bytes of `maxBytes`, which only appends (and healing) may use: a line begun on a nearly full board is
   * finished whole rather than cut short.
   */
  appendReserveBytes: number;
  /** Most bytes of one freehand line's points. */
  maxLineBytes: number;
  /** A page of records closes at about this size. */
  pageBytes: number;
  /** The operation log a reconnecting client catches up from keeps about this many bytes. */
  logBytes: number;
  /** Most bytes of pages one snapshot read returns (at least one page). */
  readBytes: number;
  /**
   * The same for a snapshot's first read (the join's answer), when smaller: the newest elements reach a late joiner,
   * and its screen, after reading little; the rest follows in reads of `readBytes`. Default: `readBytes`.
   */
  firstReadBytes?: number;
  /** A board nobody reads or writes for this long is deleted. */
  idleTtlSeconds: number;
  /** Least time between two clears (or undos of a clear) of one board. */
  clearIntervalMs: number;
  /** How long a clear can be undone: its pages are kept that long, whatever is written meanwhile. */
  undoClearMs: number;
}

/** An add or an append, by the user the service derived from the sender's key. */
export type DrawItem =
  { kind: "add"; user: string; element: ElementInput } | { kind: "append"; user: string; points: AppendInput };

export type DrawOutcome =
  /** Stored with seq `s`; its operation is `bytes` long, which every listener receives. */
  | { kind: "stored"; s: number; bytes: number }
  /** Nothing new: a resend, or a heal the board's history does not take. `s`: a seq that already covers it. */
  | { kind: "duplicate"; s: number }
  /** The board holds its maximum of elements or bytes. */
  | { kind: "full" }
  /** The line would pass its own size limit. */
  | { kind: "too_large" }
  /** An append whose line, or whose previous append, the board does not hold yet. */
  | { kind: "out_of_order" }
  /** An append to someone else's line. */
  | { kind: "forbidden" }
  /** An append to an element that is not a freehand line. */
  | { kind: "invalid" };

/** What a write did: the board's identity and seq after it, and the operations it stored, as a JSON array. */
export interface Written {
  e: string;
  s: number;
  /** True when the board got a new epoch during this call (new, or its store may have lost writes). */
  rotated: boolean;
  /** The stored operations (BoardOp[] of the protocol) as JSON text, broadcast without parsing. */
  ops: string;
}

/** One element's edit: a patch, and `o` to move it to the front (1) or back (-1). */
export type EditItem = readonly [id: string, patch: ElementPatch & { o?: 1 | -1 }];

export type EditOutcome =
  | { kind: "stored" }
  /** None of the elements is on the board. */
  | { kind: "unchanged" }
  | { kind: "full" }
  /** A patch does not fit its element's kind (`index` in the request). */
  | { kind: "invalid"; index: number; reason: string };

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

/** `base` is present when the request named another epoch than the board's (0: one the board does not know). */
export type ReadResult =
  | { e: string; s: number; rotated: boolean; base?: number; ops: string }
  | {
      e: string;
      s: number;
      rotated: boolean;
      base?: number;
      snapshot: { k: Record<string, number>; records: string; next?: number };
    };

/**
 * Where a write publishes what it stored, from inside the write, for the other instances: they then hear a board's
 * operations in seq order, and the write needs no publish command of its own. The message is `head`, the epoch, a
 * newline and the operations (../fanout/messages.ts). Only a store shared by instances publishes (the memory store
 * serves one instance alone and takes no announcement).
 */
export interface Announcement {
  channel: string;
  head: string;
}

/** Every write takes an optional {@link Announcement}, last. */
export interface BoardStore {
  /** Stores adds and appends in order, each stored one with the next seq. */
  draw(
    board: string,
    items: readonly DrawItem[],
    announce?: Announcement,
  ): Promise<Written & { outcomes: DrawOutcome[] }>;
  /** Hides (`show` false) or shows elements; those already so, and ids the board does not hold, are left alone. */
  setVisibility(
    board: string,
    user: string,
    ids: readonly string[],
    show: boolean,
    announce?: Announcement,
  ): Promise<Written>;
  /** Applies patches in order, as one operation; ids the board does not hold are left out. */
  edit(
    board: string,
    user: string,
    items: readonly EditItem[],
    announce?: Announcement,
  ): Promise<Written & { outcome: EditOutcome }>;
  /** Hides every live page, keeping them `undoClearMs` for `unclear`; a `hard` clear deletes them at once. */
  clear(
    board: string,
    user: string,
    hard?: boolean,
    announce?: Announcement,
  ): Promise<Written & { outcome: ClearOutcome }>;
  unclear(
    board: string,
    user: string,
    of: number,
    announce?: Announcement,
  ): Promise<Written & { outcome: UnclearOutcome }>;
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

/** How many earlier epochs a board remembers, with the seq each one ended at (its base). */
export const EPOCH_CHAIN = 8;
/** How far above the board's highest version a healing client may set one: versions cannot be exhausted. */
export const HEAL_VERSION_HEADROOM = 2 ** 20;
/** A board's keys' idle TTL is refreshed at most this often (by the first call after it passes). */
export const TTL_REFRESH_MS = 60_000;
/** Once the log passes `logBytes`, its oldest entries are dropped down to this share of it (one trim per many calls). */
export const LOG_TRIM_TO = 0.75;
/** ... that many at a time (the last chunk may drop a few more than needed). */
export const LOG_TRIM_CHUNK = 8;
