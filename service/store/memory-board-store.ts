/**
 * Boards in this process's memory, for running one instance where there is no Redis (`BOARD_STORE=memory`).
 *
 * It keeps exactly the contract and the layout of the Lua scripts in ./redis-scripts.ts (pages of records,
 * per-page flip counts and dead seqs, the id index, the operation log), and produces the same bytes, so it
 * doubles as their readable reference: the property test in test/service/board-store.test.ts runs random
 * operations through both and compares every answer. The boards go when the process goes.
 */
import {
  newEpoch,
  NO_EPOCH,
  recordKey,
  snapshotRecords,
  type AddOutcome,
  type BoardLimits,
  type BoardStore,
  type NewStroke,
  type ReadRequest,
  type ReadResult,
  type Written,
} from "./board-store";

/** Where a stroke id stands: `a` attached (version = v + k[g]), `h` hidden on its own, `p` version only. */
interface IdEntry {
  s: number;
  g: number;
  v: number;
  o: "a" | "h" | "p";
}

interface Board {
  e: string;
  s: number;
  n: number;
  bytes: number;
  pg: number;
  ob: number;
  lf: number;
  /** Times of the last clear and of the last undo of one. */
  cl: number;
  ul: number;
  live: number[];
  pages: Map<number, string>;
  k: Map<number, number>;
  /** Per page, the dead records by `recordKey`. */
  dead: Map<number, string[]>;
  archivedAt: Map<number, number>;
  clears: Map<number, [page: number, k: number][]>;
  ids: Map<string, IdEntry>;
  log: string[];
  logBytes: number;
  expiresAt: number;
  /** Created by the current call: the write reports a new epoch, as the Lua does. */
  fresh: boolean;
}

export class MemoryBoardStore implements BoardStore {
  private readonly boards = new Map<string, Board>();
  /** Clients per board: with one instance, its own count is the total. */
  private readonly clients = new Map<string, number>();

  constructor(
    private readonly limits: BoardLimits,
    private readonly now: () => number = Date.now,
  ) {
    // Boards nobody opens again would otherwise stay until the process ends.
    setInterval(() => {
      for (const id of this.boards.keys()) this.existing(id);
    }, 60_000).unref();
  }

  async addStrokes(board: string, user: string, strokes: readonly NewStroke[]) {
    const b = this.created(board);
    const outcomes: AddOutcome[] = [];
    const entries: string[] = [];
    const hidden: string[] = [];
    const restored: string[] = [];
    for (const stroke of strokes) {
      const entry = b.ids.get(stroke.id);
      if (entry && entry.o !== "p") {
        if (stroke.v > this.version(b, entry)) this.change(b, stroke.id, entry, stroke.v, hidden, restored);
        outcomes.push({ kind: "duplicate", s: entry.s });
        continue;
      }
      const version = Math.max(stroke.v, entry?.v ?? 0);
      const size = stroke.body.length + 40;
      if ((b.n + 1 > this.limits.maxStrokes || b.bytes + size > this.limits.maxBytes) && !this.purge(b, size, 1, 0)) {
        outcomes.push({ kind: "full" });
        continue;
      }
      b.s += 1;
      b.n += 1;
      const page = this.place(b, size);
      const record = this.append(b, b.s, page, version, stroke.body);
      const hiddenNow = version % 2 === 1;
      if (hiddenNow) this.markDead(b, page, recordKey(b.s, version));
      b.ids.set(stroke.id, { s: b.s, g: page, v: version, o: hiddenNow ? "h" : "a" });
      entries.push(`{"t":"s","s":${b.s},"r":${record}}`);
      outcomes.push({ kind: "stored", s: b.s });
    }
    const change = this.visibilityOp(b, user, hidden, restored);
    if (change) entries.push(change);
    this.log(b, entries);
    return { ...written(b, entries), outcomes };
  }

  async setVisibility(board: string, user: string, changes: readonly (readonly [string, number])[]): Promise<Written> {
    const b = this.created(board);
    const hidden: string[] = [];
    const restored: string[] = [];
    for (const [id, target] of changes) {
      const entry = b.ids.get(id);
      if (!entry || entry.o === "p") {
        if (!entry || target > entry.v) b.ids.set(id, { s: 0, g: 0, v: target, o: "p" });
      } else if (target > this.version(b, entry)) {
        this.change(b, id, entry, target, hidden, restored);
      }
    }
    const op = this.visibilityOp(b, user, hidden, restored);
    const entries = op ? [op] : [];
    this.log(b, entries);
    return written(b, entries);
  }

  async clear(board: string, user: string, hard = false) {
    const b = this.existing(board);
    const now = this.now();
    if (!b) return { e: NO_EPOCH, s: 0, rotated: false, ops: "[]", outcome: "unchanged" as const };
    if (now - b.cl < this.limits.clearIntervalMs) return { ...written(b, []), outcome: "rate_limited" as const };
    this.purge(b, 0, 0, now - this.limits.undoClearMs);
    const flipped: [number, number][] = [];
    for (const page of b.live) {
      if (!b.pages.has(page)) continue;
      const k = (b.k.get(page) ?? 0) + 1;
      b.k.set(page, k);
      b.archivedAt.set(page, now);
      flipped.push([page, k]);
    }
    if (flipped.length === 0) return { ...written(b, []), outcome: "unchanged" as const };
    if (b.ob > 0) {
      b.pg += 1;
      b.ob = 0;
    }
    b.live = [b.pg];
    b.s += 1;
    b.cl = now;
    if (hard) this.purge(b, 0, 0, now + 1);
    b.clears.set(b.s, flipped);
    const op = `{"t":"c","s":${b.s},"u":"${user}","k":{${pageMap(flipped)}}}`;
    this.log(b, [op]);
    return { ...written(b, [op]), outcome: "stored" as const };
  }

  async unclear(board: string, user: string, of: number) {
    const b = this.existing(board);
    const now = this.now();
    if (!b) return { e: NO_EPOCH, s: 0, rotated: false, ops: "[]", outcome: "gone" as const };
    if (now - b.ul < this.limits.clearIntervalMs) return { ...written(b, []), outcome: "rate_limited" as const };
    const shown: [number, number][] = [];
    for (const [page, k] of b.clears.get(of) ?? []) {
      if ((b.k.get(page) ?? 0) !== k || !b.pages.has(page)) continue;
      b.k.set(page, k + 1);
      b.archivedAt.delete(page);
      shown.push([page, k + 1]);
      b.live.push(page);
    }
    if (shown.length === 0) return { ...written(b, []), outcome: "gone" as const };
    b.live.sort((x, y) => x - y);
    b.clears.delete(of);
    b.s += 1;
    b.ul = now;
    const op = `{"t":"u","s":${b.s},"u":"${user}","of":${of},"k":{${pageMap(shown)}}}`;
    this.log(b, [op]);
    return { ...written(b, [op]), outcome: "stored" as const };
  }

  async read(board: string, request: ReadRequest): Promise<ReadResult> {
    const b = this.existing(board);
    if (!b) {
      // As the Lua: a board never written has epoch NO_EPOCH, seq 0 and an empty log.
      if (request.e === NO_EPOCH && request.after === 0) return { e: NO_EPOCH, s: 0, rotated: false, ops: "[]" };
      return { e: NO_EPOCH, s: 0, rotated: false, snapshot: { k: {}, records: "[]" } };
    }
    // As the Lua: operations, or the continuation of a snapshot, only while the log holds what followed.
    const after = request.after ?? request.at;
    const inLog = request.e === b.e && after !== undefined && after + 1 >= b.lf && after <= b.s;
    if (inLog && !request.cursor)
      return { e: b.e, s: b.s, rotated: false, ops: `[${b.log.slice(after + 1 - b.lf).join(",")}]` };
    const cursor = inLog && request.cursor ? request.cursor : Infinity;
    const budget = request.cursor
      ? this.limits.readBytes
      : Math.min(this.limits.readBytes, this.limits.firstReadBytes ?? Infinity);
    const k: Record<string, number> = {};
    const pages: { text: string; dead: Set<string> }[] = [];
    let used = 0;
    let last: number | undefined;
    let next: number | undefined;
    for (const page of [...b.live].reverse()) {
      const text = b.pages.get(page);
      if (page >= cursor || text === undefined) continue;
      if (used >= budget) {
        next = last;
        break;
      }
      k[String(page)] = b.k.get(page) ?? 0;
      pages.push({ text, dead: new Set(b.dead.get(page)) });
      used += text.length;
      last = page;
    }
    return {
      e: b.e,
      s: b.s,
      rotated: false,
      snapshot: { k, records: snapshotRecords(pages), ...(next ? { next } : {}) },
    };
  }

  async presence(board: string, _instanceId: string, localCount: number | undefined) {
    if (localCount === 0) this.clients.delete(board);
    else if (localCount !== undefined) this.clients.set(board, localCount);
    const b = this.existing(board, false);
    return { count: this.clients.get(board) ?? 0, s: b?.s ?? 0, e: b?.e ?? NO_EPOCH };
  }

  /** The board unless it expired (then it is gone, as a Redis key would be); reading it is activity. */
  private existing(id: string, touch = true): Board | undefined {
    const b = this.boards.get(id);
    if (b && b.expiresAt <= this.now()) {
      this.boards.delete(id);
      return undefined;
    }
    if (b && touch) b.expiresAt = this.now() + this.limits.idleTtlSeconds * 1000;
    return b;
  }

  private created(id: string): Board {
    const found = this.existing(id);
    if (found) return found;
    const b: Board = {
      e: newEpoch(),
      s: 0,
      n: 0,
      bytes: 0,
      pg: 1,
      ob: 0,
      lf: 1,
      cl: 0,
      ul: 0,
      live: [1],
      pages: new Map(),
      k: new Map(),
      dead: new Map(),
      archivedAt: new Map(),
      clears: new Map(),
      ids: new Map(),
      log: [],
      logBytes: 0,
      expiresAt: this.now() + this.limits.idleTtlSeconds * 1000,
      fresh: true,
    };
    this.boards.set(id, b);
    return b;
  }

  private version(b: Board, entry: IdEntry): number {
    return entry.o === "a" ? entry.v + (b.k.get(entry.g) ?? 0) : entry.v;
  }

  /** Moves a stroke to version `target` (see `change` in the Lua). */
  private change(b: Board, id: string, entry: IdEntry, target: number, hidden: string[], restored: string[]): void {
    if (target % 2 === 1) {
      if (entry.o === "a") this.markDead(b, entry.g, recordKey(entry.s, entry.v));
      b.ids.set(id, { ...entry, v: target, o: "h" });
      hidden.push(`["${id}",${target}]`);
      return;
    }
    const text = b.pages.get(entry.g);
    const from = text?.indexOf(`[${entry.s},`) ?? -1;
    if (text === undefined || from < 0) return;
    const record = text.slice(from, text.indexOf("]", from) + 1);
    const body = (/^\[\d+,\d+,\d+,(.*)\]$/.exec(record) as RegExpExecArray)[1] as string;
    const size = body.length + 40;
    if (b.bytes + size > this.limits.maxBytes && !this.purge(b, size, 0, 0)) return;
    if (entry.o === "a") this.markDead(b, entry.g, recordKey(entry.s, entry.v));
    const page = this.place(b, size);
    restored.push(this.append(b, entry.s, page, target, body));
    b.ids.set(id, { s: entry.s, g: page, v: target, o: "a" });
  }

  private visibilityOp(b: Board, user: string, hidden: string[], restored: string[]): string | undefined {
    if (hidden.length === 0 && restored.length === 0) return undefined;
    b.s += 1;
    return `{"t":"v","s":${b.s},"u":"${user}","h":[${hidden.join(",")}],"r":[${restored.join(",")}]}`;
  }

  private place(b: Board, size: number): number {
    if (b.ob > 0 && b.ob + size > this.limits.pageBytes) {
      b.pg += 1;
      b.ob = 0;
      b.live.push(b.pg);
    }
    return b.pg;
  }

  private append(b: Board, seq: number, page: number, version: number, body: string): string {
    const record = `[${seq},${page},${version},${body}]`;
    const text = b.pages.get(page);
    b.pages.set(page, text ? `${text},${record}` : record);
    b.ob += record.length + 1;
    b.bytes += record.length + 1;
    return record;
  }

  private markDead(b: Board, page: number, key: string): void {
    const dead = b.dead.get(page) ?? [];
    dead.push(key);
    b.dead.set(page, dead);
  }

  /** See `purge_archived` in the Lua. */
  private purge(b: Board, bytes: number, count: number, before: number): boolean {
    const fits = () => b.bytes + bytes <= this.limits.maxBytes && b.n + count <= this.limits.maxStrokes;
    const archived = [...b.archivedAt].sort((x, y) => x[1] - y[1] || x[0] - y[0]);
    for (const [page, at] of archived) {
      if (fits() && at >= before) break;
      const text = b.pages.get(page) ?? "";
      const dead = new Set(b.dead.get(page));
      for (const match of text.matchAll(/\[(\d+),\d+,(\d+),"([^"]+)"/g)) {
        if (dead.has(recordKey(Number(match[1]), Number(match[2])))) continue;
        b.ids.delete(match[3] as string);
        b.n -= 1;
      }
      b.pages.delete(page);
      b.archivedAt.delete(page);
      b.dead.delete(page);
      b.bytes -= text.length + 1;
    }
    return fits();
  }

  private log(b: Board, entries: readonly string[]): void {
    for (const entry of entries) {
      b.log.push(entry);
      b.logBytes += entry.length;
    }
    while (b.logBytes > this.limits.logBytes && b.log.length > 0) {
      b.logBytes -= (b.log.shift() as string).length;
      b.lf += 1;
    }
  }
}

function written(b: Board, entries: readonly string[]): Written {
  const rotated = b.fresh;
  b.fresh = false;
  return { e: b.e, s: b.s, rotated, ops: `[${entries.join(",")}]` };
}

function pageMap(pages: readonly [number, number][]): string {
  return pages.map(([page, k]) => `"${page}":${k}`).join(",");
}
