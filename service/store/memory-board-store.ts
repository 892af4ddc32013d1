/**
 * Boards in this process's memory, for running one instance where there is no Redis (`BOARD_STORE=memory`).
 *
 * It keeps exactly the contract and the layout of the Lua scripts in ./redis-scripts.ts (pages of record text changed
 * in place, per-page flip counts, the id index, the clears still undoable, the epoch chain, the operation log) and
 * produces the same bytes, so it doubles as their readable reference: the property tests in
 * test/service/board-store.test.ts run random operations through both and compare every answer. docs/store.md says
 * why each rule is what it is. The boards go when the process goes.
 */
import type { AppendInput, ElementInput, ElementRecord } from "../../protocol/events";
import { kindProblem } from "../../protocol/schema";
import {
  EPOCH_CHAIN,
  HEAL_VERSION_HEADROOM,
  LOG_TRIM_CHUNK,
  LOG_TRIM_TO,
  newEpoch,
  NO_EPOCH,
  TTL_REFRESH_MS,
  type BoardLimits,
  type BoardStore,
  type DrawItem,
  type DrawOutcome,
  type EditItem,
  type EditOutcome,
  type ReadRequest,
  type ReadResult,
  type Written,
} from "./board-store";
import {
  appendRecord,
  formatRecord,
  locate,
  pageBytes,
  parseRecord,
  recordIds,
  removeRecord,
  replaceRecord,
} from "./page-text";

/** One board: what the Lua keeps in the board's five keys (docs/store.md, "Layout"). */
interface Board {
  /** Epoch, and the store generation (Redis's replication id) it was last written under. */
  e: string;
  gen: string;
  s: number;
  /** Elements, and bytes of their records, in every page (hidden and cleared ones included). */
  n: number;
  by: number;
  /** The open page: its number and its text. It is never flipped: a clear closes it. */
  pg: number;
  open: string;
  /** Live pages (not hidden by a clear), ascending; the open page is the last. */
  live: number[];
  /** First seq in the log, and the log's bytes. */
  lf: number;
  lb: number;
  /** Times of the last clear and of the last undo of one. */
  cl: number;
  ul: number;
  /** The seq of the last clear whose pages were deleted. */
  pc: number;
  /** The highest version any element reached. */
  hv: number;
  /** When the idle TTL was last refreshed. */
  t: number;
  /** Earlier epochs and the seq each ended at, oldest first. */
  chain: [epoch: string, base: number][];
  /** Clears still undoable, by seq (ascending), with when they were made. */
  clears: [seq: number, at: number][];
  /** Closed pages' texts; flip counts and the seq of the last flip of each (absent: 0). */
  pages: Map<number, string>;
  flips: Map<number, number>;
  flipSeqs: Map<number, number>;
  /** For each clear still undoable: the pages it flipped and their flip counts after it. */
  specs: Map<number, [page: number, k: number][]>;
  /** Element id → [seq that created it, page that holds it]. */
  index: Map<string, [s: number, g: number]>;
  log: string[];
  expiresAt: number;
}

/** An element's record as found in its page. */
interface Found {
  rec: ElementRecord;
  /** Its record text as it is now. */
  text: string;
}

export interface MemoryStoreOptions {
  now?: () => number;
  /**
   * The store's identity, as Redis's replication id is for the Lua: a board last written under another one may have
   * lost writes, and takes a new epoch. Constant in a process; tests change it to play a restart.
   */
  generation?: () => string;
}

/** Saved boards, as a Redis restarted from an older snapshot would bring them back (see `saved` and `restore`). */
export type SavedBoards = ReadonlyMap<string, Board>;

export class MemoryBoardStore implements BoardStore {
  private boards = new Map<string, Board>();
  /** Clients per board: with one instance, its own count is the total. */
  private readonly clients = new Map<string, number>();
  private readonly now: () => number;
  private readonly generation: () => string;

  constructor(
    private readonly limits: BoardLimits,
    options: MemoryStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.generation = options.generation ?? (() => "memory");
    // Boards nobody opens again would otherwise stay until the process ends.
    setInterval(() => {
      for (const [id, board] of this.boards) if (board.expiresAt <= this.now()) this.boards.delete(id);
    }, TTL_REFRESH_MS).unref();
  }

  /** A copy of every board as it is now. */
  saved(): SavedBoards {
    return structuredClone(this.boards);
  }

  /** Puts boards back as they were when `saved`: what a restart from an older snapshot does to Redis. */
  restore(saved: SavedBoards): void {
    this.boards = structuredClone(new Map(saved));
  }

  draw(board: string, items: readonly DrawItem[]) {
    return settled(() => {
      const call = this.open(board);
      const entries: string[] = [];
      const outcomes = items.map((item): DrawOutcome => {
        const result = item.kind === "add" ? call.add(item.user, item.element) : call.append(item.user, item.points);
        if ("entry" in result) {
          entries.push(result.entry);
          return { kind: "stored", s: call.b.s, bytes: result.entry.length };
        }
        return result;
      });
      return { ...call.finish(entries), outcomes };
    });
  }

  setVisibility(board: string, user: string, ids: readonly string[], show: boolean): Promise<Written> {
    return settled(() => {
      const call = this.open(board);
      const entry = call.exists ? call.setVisibility(user, ids, show) : undefined;
      return call.finish(entry ? [entry] : []);
    });
  }

  edit(board: string, user: string, items: readonly EditItem[]) {
    return settled(() => {
      const call = this.open(board);
      const result: EditOutcome | { entry: string } = call.exists ? call.edit(user, items) : { kind: "unchanged" };
      if ("entry" in result) return { ...call.finish([result.entry]), outcome: { kind: "stored" } as const };
      return { ...call.finish([]), outcome: result };
    });
  }

  clear(board: string, user: string, hard = false) {
    return settled(() => {
      const call = this.open(board);
      const result = call.exists ? call.clear(user, hard) : "unchanged";
      if (typeof result === "string") return { ...call.finish([]), outcome: result };
      return { ...call.finish([result.entry]), outcome: "stored" as const };
    });
  }

  unclear(board: string, user: string, of: number) {
    return settled(() => {
      const call = this.open(board);
      const result = call.exists ? call.unclear(user, of) : "gone";
      if (typeof result === "string") return { ...call.finish([]), outcome: result };
      return { ...call.finish([result.entry]), outcome: "stored" as const };
    });
  }

  read(board: string, request: ReadRequest): Promise<ReadResult> {
    return settled(() => {
      const call = this.open(board);
      const { b } = call;
      const { e: named } = request;
      // A client of another epoch shares the board's history up to that epoch's base (0 when it is not known).
      const base = named !== undefined && named !== b.e ? (call.baseOf(named) ?? 0) : undefined;
      const after = request.after ?? request.at;
      // Operations, or the continuation of a snapshot, only while the log holds what followed.
      const inLog = named !== undefined && after !== undefined && after + 1 >= b.lf && after <= (base ?? b.s);
      const { rotated } = call.finish([]);
      const head = { e: b.e, s: b.s, rotated, ...(base !== undefined ? { base } : {}) };
      if (inLog && !request.cursor) return { ...head, ops: `[${b.log.slice(after + 1 - b.lf).join(",")}]` };
      const cursor = inLog && request.cursor ? request.cursor : Infinity;
      const budget = request.cursor
        ? this.limits.readBytes
        : Math.min(this.limits.readBytes, this.limits.firstReadBytes ?? Infinity);
      const k: Record<string, number> = {};
      const texts: string[] = [];
      let used = 0;
      let last: number | undefined;
      let next: number | undefined;
      for (const page of [...b.live].reverse()) {
        const text = call.pageText(page);
        if (page >= cursor || text === "") continue;
        if (used >= budget) {
          next = last;
          break;
        }
        k[String(page)] = call.kOf(page);
        texts.push(text);
        used += text.length;
        last = page;
      }
      return { ...head, snapshot: { k, records: `[${texts.join(",")}]`, ...(next ? { next } : {}) } };
    });
  }

  presence(board: string, _instanceId: string, localCount: number | undefined) {
    return settled(() => {
      if (localCount === 0) this.clients.delete(board);
      else if (localCount !== undefined) this.clients.set(board, localCount);
      // As the Lua: presence may give the board a new epoch, but does not keep it alive.
      const { b } = this.open(board, false);
      return { count: this.clients.get(board) ?? 0, s: b.s, e: b.e };
    });
  }

  /** The board (a blank one, not kept, when it does not exist), with a new epoch if its store generation changed. */
  private open(id: string, touch = true): BoardCall {
    const now = this.now();
    const found = this.boards.get(id);
    if (found && found.expiresAt <= now) this.boards.delete(id);
    const stored = this.boards.get(id);
    const call = new BoardCall(stored ?? blankBoard(), stored !== undefined, this.limits, now, this.generation(), () =>
      this.boards.set(id, call.b),
    );
    if (stored && touch) call.touch();
    return call;
  }
}

function blankBoard(): Board {
  return {
    e: NO_EPOCH,
    gen: "",
    s: 0,
    n: 0,
    by: 0,
    pg: 1,
    open: "",
    live: [1],
    lf: 1,
    lb: 0,
    cl: 0,
    ul: 0,
    pc: 0,
    hv: 0,
    t: 0,
    chain: [],
    clears: [],
    pages: new Map(),
    flips: new Map(),
    flipSeqs: new Map(),
    specs: new Map(),
    index: new Map(),
    log: [],
    expiresAt: 0,
  };
}

/** One store call on one board: the Lua script's local functions, on the board's state. */
class BoardCall {
  rotated = false;

  constructor(
    readonly b: Board,
    public exists: boolean,
    private readonly limits: BoardLimits,
    private readonly now: number,
    private readonly gen: string,
    private readonly keep: () => void,
  ) {
    if (exists && b.gen !== gen) {
      // Same data, but it may lack its last writes: a new identity. The log and the seq stay (what came back is a
      // prefix of the history), and the old epoch is remembered with the seq it ended at.
      b.chain.push([b.e, b.s]);
      if (b.chain.length > EPOCH_CHAIN) b.chain.shift();
      b.e = newEpoch();
      b.gen = gen;
      this.rotated = true;
    }
  }

  /** Refreshes the idle TTL, at most once a minute. */
  touch(): void {
    if (Math.abs(this.now - this.b.t) < TTL_REFRESH_MS) return;
    this.b.t = this.now;
    this.b.expiresAt = this.now + this.limits.idleTtlSeconds * 1000;
  }

  /** Makes the board exist: only a stored operation creates one, so reading or erasing made-up ids stores nothing. */
  private ensure(): void {
    if (this.exists) return;
    this.exists = true;
    this.rotated = true;
    this.b.e = newEpoch();
    this.b.gen = this.gen;
    this.b.t = -Infinity;
    this.touch();
    this.keep();
  }

  finish(entries: readonly string[]): Written {
    this.log(entries);
    return { e: this.b.e, s: this.b.s, rotated: this.rotated, ops: `[${entries.join(",")}]` };
  }

  baseOf(epoch: string): number | undefined {
    return this.b.chain.find(([known]) => known === epoch)?.[1];
  }

  pageText(page: number): string {
    return page === this.b.pg ? this.b.open : (this.b.pages.get(page) ?? "");
  }

  private setPage(page: number, text: string): void {
    if (page === this.b.pg) this.b.open = text;
    else this.b.pages.set(page, text);
  }

  kOf(page: number): number {
    return this.b.flips.get(page) ?? 0;
  }

  private version(rec: ElementRecord): number {
    return rec.o === 1 ? rec.v : rec.v + this.kOf(rec.g);
  }

  /**
   * Gives `rec` version `target` and the visibility its parity says. Returns true when the element must move to the
   * open page: shown again while a clear hides its page.
   */
  private setVersion(rec: ElementRecord, target: number): boolean {
    const k = this.kOf(rec.g);
    if (target % 2 === 1) {
      // Hidden: by its page's clear still (then an undo of the clear shows it), or on its own.
      if (rec.o === 0 && k % 2 === 1) rec.v = target - k;
      else [rec.o, rec.v] = [1, target];
      return false;
    }
    if (k % 2 === 0) {
      [rec.o, rec.v] = [0, target - k];
      return false;
    }
    [rec.o, rec.v] = [0, target];
    return true;
  }

  private find(id: string): Found | undefined {
    const entry = this.b.index.get(id);
    if (!entry) return undefined;
    const page = this.pageText(entry[1]);
    const where = locate(page, entry[0]);
    if (!where) return undefined;
    const text = page.slice(...where);
    return { rec: parseRecord(text), text };
  }

  private closeOpenPage(): void {
    this.b.pages.set(this.b.pg, this.b.open);
    this.b.pg += 1;
    this.b.open = "";
    this.b.live.push(this.b.pg);
  }

  /** Puts `rec` on the open page (a new one when it would pass pageBytes); returns its text. */
  private place(rec: ElementRecord): string {
    rec.g = this.b.pg;
    let text = formatRecord(rec);
    if (this.b.open !== "" && this.b.open.length + 1 + text.length > this.limits.pageBytes) {
      this.closeOpenPage();
      rec.g = this.b.pg;
      text = formatRecord(rec);
    }
    this.b.open = appendRecord(this.b.open, text);
    this.b.by += text.length + 1;
    this.b.index.set(rec.i, [rec.s, rec.g]);
    return text;
  }

  /** Writes `rec` (changed from `old`) back: in place, or moved to the open page. Returns its text. */
  private rewrite(old: Found, rec: ElementRecord, move: boolean): string {
    const page = this.pageText(old.rec.g);
    const where = locate(page, rec.s) as [number, number];
    if (move) {
      this.setPage(old.rec.g, removeRecord(page, where));
      this.b.by -= old.text.length + 1;
      return this.place(rec);
    }
    const text = formatRecord(rec);
    this.setPage(rec.g, replaceRecord(page, where, text));
    this.b.by += text.length - old.text.length;
    return text;
  }

  private fitsNew(bytes: number): boolean {
    const { maxElements, maxBytes, appendReserveBytes } = this.limits;
    return this.b.n + 1 <= maxElements && this.b.by + bytes <= maxBytes - appendReserveBytes;
  }

  private raiseHighest(version: number): void {
    this.b.hv = Math.max(this.b.hv, version);
  }

  add(user: string, element: ElementInput): { entry: string } | DrawOutcome {
    const healing = element.h !== undefined && element.h !== this.b.e;
    const existing = this.b.index.get(element.id);
    if (existing) return healing ? this.healExisting(element) : { kind: "duplicate", s: existing[0] };
    const s = this.b.s + 1;
    const [x, y, w, h] = element.b;
    const rec: ElementRecord = {
      ...{ s, g: this.b.pg, o: 0, v: 0, i: element.id, u: user, t: element.t, z: s, x, y, w, h },
      ...{ c: element.c, sw: element.sw, f: element.f, n: 0, d: element.d, l: s },
    };
    if (!healing) {
      if (!this.fitsNew(formatRecord(rec).length + 1)) return { kind: "full" };
      this.ensure();
      this.b.s = s;
      this.b.n += 1;
      return { entry: this.addOp(s, rec, this.place(rec)) };
    }
    return this.healMissing(element, rec);
  }

  /**
   * An element a healing client held that the board lacks: created as the client knew it, unless a clear made after
   * the loss deleted it for good. Its last change is the healer's base (not the heal's seq), so that another client's
   * later knowledge from the same history can still heal it.
   */
  private healMissing(element: ElementInput, rec: ElementRecord): { entry: string } | DrawOutcome {
    const known = this.baseOf(element.h as string);
    const base = known ?? 0;
    if (this.b.pc > base) return { kind: "duplicate", s: this.b.s };
    const target = this.capped(element.v ?? 0);
    // The author as the client knew it only where the board knows that history; else the healer's own id.
    if (known !== undefined) rec.u = element.u ?? rec.u;
    rec.n = element.t === "f" ? (element.n ?? 0) : 0;
    rec.l = base;
    const page = target % 2 === 0 ? this.clearAfter(base) : undefined;
    if (page === undefined) [rec.o, rec.v] = [target % 2 === 1 ? 1 : 0, target];
    else [rec.g, rec.o, rec.v] = [page, 0, target + 1 - this.kOf(page)];
    const text = formatRecord(rec);
    if (!this.fitsNew(text.length + 1)) return { kind: "full" };
    this.ensure();
    this.b.s = rec.s;
    this.b.n += 1;
    this.raiseHighest(this.version(rec));
    if (page === undefined) return { entry: this.addOp(rec.s, rec, this.place(rec)) };
    this.addToPage(page, rec, text);
    return { entry: this.addOp(rec.s, rec, text) };
  }

  /**
   * An element both hold: the healer's knowledge is taken only where nothing changed the element (or flipped its
   * page) after the healer's history left the board's, and only if it is newer (a higher version). A heal not taken
   * is answered with the board's seq, not the element's: the board as of that seq shows what the store holds of the
   * element (a page that waits for it to drop what it sent back would otherwise show its older state).
   */
  private healExisting(element: ElementInput): { entry: string } | DrawOutcome {
    const found = this.find(element.id);
    if (!found) return { kind: "duplicate", s: this.b.s };
    const base = this.baseOf(element.h as string) ?? 0;
    const target = this.capped(element.v ?? 0);
    const { rec } = found;
    const changedSince = Math.max(rec.l, this.b.flipSeqs.get(rec.g) ?? 0);
    if (base === 0 || rec.t !== element.t || changedSince > base || target <= this.version(rec))
      return { kind: "duplicate", s: this.b.s };
    const [x, y, w, h] = element.b;
    const healed: ElementRecord = {
      ...rec,
      ...{ x, y, w, h, c: element.c, sw: element.sw, f: element.f, d: element.d },
      ...{ n: element.t === "f" ? (element.n ?? 0) : 0, l: base },
    };
    if (this.b.by + formatRecord(healed).length - found.text.length > this.limits.maxBytes) return { kind: "full" };
    const showing = target % 2 === 0 && this.version(rec) % 2 === 1;
    const move = this.setVersion(healed, target);
    // Shown again: as for an element the board lacks, a clear made after the loss hides it (or deleted it for good).
    if (showing && this.b.pc > base) return { kind: "duplicate", s: this.b.s };
    const page = showing ? this.clearAfter(base) : undefined;
    this.b.s += 1;
    this.raiseHighest(target);
    if (page === undefined) return { entry: this.addOp(this.b.s, healed, this.rewrite(found, healed, move)) };
    const old = this.pageText(rec.g);
    this.setPage(rec.g, removeRecord(old, locate(old, rec.s) as [number, number]));
    this.b.by -= found.text.length + 1;
    [healed.g, healed.o, healed.v] = [page, 0, target + 1 - this.kOf(page)];
    const text = formatRecord(healed);
    this.addToPage(page, healed, text);
    return { entry: this.addOp(this.b.s, healed, text) };
  }

  /**
   * An `a` operation. It carries the flip count of the record's page when that is not 0 (a healed element placed on a
   * page a clear hid): a client that joined after the clear does not hold that page's count.
   */
  private addOp(s: number, rec: ElementRecord, text: string): string {
    const k = this.kOf(rec.g);
    return `{"t":"a","s":${s},"r":${text}${k === 0 ? "" : `,"k":{"${rec.g}":${k}}`}}`;
  }

  /**
   * The page of the first clear still undoable made after `base`, if any: a healed element to be shown goes there,
   * hidden with that clear's elements (the clear would have hidden it, had it been there; its undo shows it).
   */
  private clearAfter(base: number): number | undefined {
    const clear = this.b.clears.find(([seq]) => seq > base);
    return clear ? this.b.specs.get(clear[0])?.at(-1)?.[0] : undefined;
  }

  /** Appends `rec` (as `text`) to a closed page. */
  private addToPage(page: number, rec: ElementRecord, text: string): void {
    this.setPage(page, appendRecord(this.pageText(page), text));
    this.b.by += text.length + 1;
    this.b.index.set(rec.i, [rec.s, page]);
  }

  /** A healing client's version, at most HEAL_VERSION_HEADROOM above the board's highest (same parity). */
  private capped(version: number): number {
    const cap = this.b.hv + HEAL_VERSION_HEADROOM;
    return version <= cap ? version : cap - ((((cap - version) % 2) + 2) % 2);
  }

  append(user: string, points: AppendInput): { entry: string } | DrawOutcome {
    const found = this.findLine(user, points.i);
    if (!found) return { kind: "out_of_order" };
    const { rec } = found;
    if (rec.t !== "f") return { kind: "invalid" };
    if (rec.u !== user) return { kind: "forbidden" };
    if (points.n <= rec.n) return { kind: "duplicate", s: this.b.s };
    if (points.n > rec.n + 1) return { kind: "out_of_order" };
    if (rec.d.length + points.d.length > this.limits.maxLineBytes) return { kind: "too_large" };
    const [x, y, w, h] = points.b;
    const grown: ElementRecord = { ...rec, x, y, w, h, n: points.n, d: rec.d + points.d, l: this.b.s + 1 };
    const target = this.version(rec) + 2;
    this.setVersion(grown, target);
    if (this.b.by + formatRecord(grown).length - found.text.length > this.limits.maxBytes) return { kind: "full" };
    this.b.s += 1;
    this.rewrite(found, grown, false);
    this.raiseHighest(target);
    return {
      entry: `{"t":"p","s":${this.b.s},"i":"${rec.i}","n":${points.n},"v":${target},"d":"${points.d}","b":[${x},${y},${w},${h}]}`,
    };
  }

  /** The sender's line: looked for in the open page first (where a line being drawn almost always is), then by id. */
  private findLine(user: string, id: string): Found | undefined {
    const match = new RegExp(`\\[\\d+,\\d+,[01],-?\\d+,"${id}","${user}","f",`).exec(this.b.open);
    if (!match) return this.find(id);
    const text = this.b.open.slice(match.index, this.b.open.indexOf("]", match.index) + 1);
    return { rec: parseRecord(text), text };
  }

  setVisibility(user: string, ids: readonly string[], show: boolean): string | undefined {
    const s = this.b.s + 1;
    const changed: string[] = [];
    const moved: string[] = [];
    for (const id of ids) {
      const found = this.find(id);
      if (!found) continue;
      const current = this.version(found.rec);
      if (current % 2 === (show ? 0 : 1)) continue;
      const rec: ElementRecord = { ...found.rec, l: s };
      const move = this.setVersion(rec, current + 1);
      const text = this.rewrite(found, rec, move);
      if (move) moved.push(text);
      changed.push(`["${id}",${current + 1}]`);
      this.raiseHighest(current + 1);
    }
    if (changed.length === 0) return undefined;
    this.b.s = s;
    const records = moved.length > 0 ? `,"r":[${moved.join(",")}]` : "";
    return `{"t":"v","s":${s},"u":"${user}","x":[${changed.join(",")}]${records}}`;
  }

  edit(user: string, items: readonly EditItem[]): EditOutcome | { entry: string } {
    const s = this.b.s + 1;
    // First every patch, on copies: a request that does not fit changes nothing.
    const edited = new Map<string, { found: Found; rec: ElementRecord }>();
    const applied: string[] = [];
    for (const [index, [id, patch]] of items.entries()) {
      const found = edited.get(id)?.found ?? this.find(id);
      if (!found) continue;
      const rec = { ...(edited.get(id)?.rec ?? found.rec) };
      const misfit = kindProblem(rec.t, patch);
      if (misfit) return { kind: "invalid", index, reason: `${misfit[0]}: ${misfit[1]}` };
      const fields: string[] = [];
      for (const field of ["x", "y", "w", "h", "sw"] as const) {
        const value = patch[field];
        if (value === undefined) continue;
        rec[field] = value;
        fields.push(`"${field}":${value}`);
      }
      for (const field of ["c", "f", "d"] as const) {
        const value = patch[field];
        if (value === undefined) continue;
        rec[field] = value;
        fields.push(`"${field}":"${value}"`);
      }
      if (patch.o !== undefined) {
        // To the front: drawn as if made now; to the back: below everything moved back before.
        rec.z = patch.o * s;
        fields.push(`"z":${rec.z}`);
      }
      const target = this.version(rec) + 2;
      this.setVersion(rec, target);
      rec.l = s;
      edited.set(id, { found, rec });
      applied.push(`["${id}",${target},{${fields.join(",")}}]`);
    }
    if (applied.length === 0) return { kind: "unchanged" };
    let growth = 0;
    for (const { found, rec } of edited.values()) growth += formatRecord(rec).length - found.text.length;
    if (growth > 0 && this.b.by + growth > this.limits.maxBytes - this.limits.appendReserveBytes)
      return { kind: "full" };
    for (const { found, rec } of edited.values()) {
      this.rewrite(found, rec, false);
      this.raiseHighest(this.version(rec));
    }
    this.b.s = s;
    return { entry: `{"t":"e","s":${s},"u":"${user}","x":[${applied.join(",")}]}` };
  }

  clear(user: string, hard: boolean): "unchanged" | "rate_limited" | { entry: string } {
    if (this.now - this.b.cl < this.limits.clearIntervalMs) return "rate_limited";
    this.purgeClears(this.now - this.limits.undoClearMs);
    const s = this.b.s + 1;
    if (!this.b.live.some((page) => this.pageText(page) !== "")) return "unchanged";
    const flipped: [number, number][] = [];
    for (const page of [...this.b.live]) {
      if (this.pageText(page) === "") {
        // Every record moved out of it (shown again elsewhere): nothing to keep.
        if (page !== this.b.pg) this.deletePage(page);
        continue;
      }
      if (page === this.b.pg) this.closeOpenPage();
      const k = this.kOf(page) + 1;
      this.b.flips.set(page, k);
      this.b.flipSeqs.set(page, s);
      flipped.push([page, k]);
    }
    this.b.live = [this.b.pg];
    this.b.s = s;
    this.b.cl = this.now;
    this.b.specs.set(s, flipped);
    this.b.clears.push([s, this.now]);
    if (hard) this.purgeClears(Infinity);
    return { entry: `{"t":"c","s":${s},"u":"${user}","k":{${pageMap(flipped)}}}` };
  }

  unclear(user: string, of: number): "gone" | "rate_limited" | { entry: string } {
    if (this.now - this.b.ul < this.limits.clearIntervalMs) return "rate_limited";
    const spec = this.b.specs.get(of);
    if (!spec) return "gone";
    const s = this.b.s + 1;
    const shown: [number, number][] = [];
    for (const [page, k] of spec) {
      if (this.kOf(page) !== k || !this.b.pages.has(page)) continue;
      this.b.flips.set(page, k + 1);
      this.b.flipSeqs.set(page, s);
      shown.push([page, k + 1]);
      this.b.live.push(page);
    }
    if (shown.length === 0) return "gone";
    this.b.live.sort((x, y) => x - y);
    this.b.specs.delete(of);
    this.b.clears = this.b.clears.filter(([seq]) => seq !== of);
    this.b.s = s;
    this.b.ul = this.now;
    return { entry: `{"t":"u","s":${s},"u":"${user}","of":${of},"k":{${pageMap(shown)}}}` };
  }

  /**
   * Deletes the pages of every clear made before `before` (its undo window is over): the only way cleared elements
   * leave the board, short of a hard clear. Never to make room: a full board refuses writes instead.
   */
  private purgeClears(before: number): void {
    for (const [seq, at] of [...this.b.clears]) {
      if (at >= before) continue;
      for (const [page] of this.b.specs.get(seq) ?? []) this.deletePage(page);
      this.b.specs.delete(seq);
      this.b.pc = Math.max(this.b.pc, seq);
      this.b.clears = this.b.clears.filter(([other]) => other !== seq);
    }
  }

  private deletePage(page: number): void {
    const text = this.b.pages.get(page) ?? "";
    for (const id of recordIds(text)) {
      this.b.index.delete(id);
      this.b.n -= 1;
    }
    this.b.by -= pageBytes(text);
    this.b.pages.delete(page);
    this.b.flips.delete(page);
    this.b.flipSeqs.delete(page);
  }

  /**
   * Appends operations to the log; past logBytes, drops the oldest, LOG_TRIM_CHUNK at a time, until it is down to
   * LOG_TRIM_TO of it (keeping one).
   */
  private log(entries: readonly string[]): void {
    for (const entry of entries) {
      this.b.log.push(entry);
      this.b.lb += entry.length;
    }
    if (this.b.lb <= this.limits.logBytes) return;
    const target = Math.floor(this.limits.logBytes * LOG_TRIM_TO);
    while (this.b.lb > target && this.b.log.length > 1) {
      for (const entry of this.b.log.splice(0, Math.min(LOG_TRIM_CHUNK, this.b.log.length - 1))) {
        this.b.lb -= entry.length;
        this.b.lf += 1;
      }
    }
  }
}

function pageMap(pages: readonly [number, number][]): string {
  return pages.map(([page, k]) => `"${page}":${k}`).join(",");
}

/** As the Redis store answers: with a promise, and a failure as its rejection rather than a throw. */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}
