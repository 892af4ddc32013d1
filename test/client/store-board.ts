/**
 * One board in the memory store (service/store/memory-board-store.ts, the reference the Lua is tested against), as
 * the client tests drive it: writes as the service would make them, the operations they stored (parsed), and reads
 * of snapshots page by page. What the store holds is the truth every client must converge to.
 */
import type { AppendInput, BoardOp, ElementInput, ElementRecord, ElementTuple, Snapshot } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { encodeText } from "../../client/core/text";
import type { BoardLimits, EditItem, ReadRequest, Written } from "../../service/store/board-store";
import { MemoryBoardStore, type MemoryStoreOptions } from "../../service/store/memory-board-store";

export const LIMITS: BoardLimits = {
  maxElements: 1_000,
  maxBytes: 1_000_000,
  appendReserveBytes: 10_000,
  maxLineBytes: 16_384,
  pageBytes: 400,
  logBytes: 1_000_000,
  readBytes: 500,
  idleTtlSeconds: 3_600,
  clearIntervalMs: 0,
  undoClearMs: 3_600_000,
};

/** A page of a snapshot read, as a client receives it, with the read's epoch and seq. */
export interface SnapshotPage {
  e: string;
  s: number;
  snapshot: Snapshot;
}

const parse = (written: Written): BoardOp[] => JSON.parse(written.ops) as BoardOp[];

export class StoreBoard {
  readonly store: MemoryBoardStore;
  /** Every operation stored, in seq order (of the current epoch and those before it). */
  readonly ops: BoardOp[] = [];
  /** Seqs of the clears stored, for undoing them. */
  readonly clears: number[] = [];

  constructor(
    readonly board = "board",
    limits: BoardLimits = LIMITS,
    options: MemoryStoreOptions = {},
  ) {
    this.store = new MemoryBoardStore(limits, options);
  }

  async add(user: string, element: ElementInput): Promise<BoardOp[]> {
    return this.record(await this.store.draw(this.board, [{ kind: "add", user, element }]));
  }

  async append(user: string, points: AppendInput): Promise<BoardOp[]> {
    return this.record(await this.store.draw(this.board, [{ kind: "append", user, points }]));
  }

  async visibility(user: string, ids: readonly string[], show: boolean): Promise<BoardOp[]> {
    return this.record(await this.store.setVisibility(this.board, user, ids, show));
  }

  async edit(user: string, items: readonly EditItem[]): Promise<BoardOp[]> {
    return this.record(await this.store.edit(this.board, user, items));
  }

  async clear(user: string): Promise<BoardOp[]> {
    const ops = this.record(await this.store.clear(this.board, user));
    for (const op of ops) if (op.t === "c") this.clears.push(op.s);
    return ops;
  }

  async unclear(user: string, of: number): Promise<BoardOp[]> {
    return this.record(await this.store.unclear(this.board, user, of));
  }

  /** A snapshot's pages, read one after another, then the operations after its first page's seq. */
  async snapshot(): Promise<{ pages: SnapshotPage[]; ops: BoardOp[] }> {
    const pages: SnapshotPage[] = [];
    let request: ReadRequest = {};
    for (;;) {
      const result = await this.store.read(this.board, request);
      if (!("snapshot" in result)) throw new Error("expected a snapshot page");
      const start = pages[0]?.s ?? result.s;
      const records = JSON.parse(result.snapshot.records) as ElementTuple[];
      const { k, next } = result.snapshot;
      pages.push({ e: result.e, s: start, snapshot: { k, records, ...(next !== undefined ? { next } : {}) } });
      if (next === undefined) break;
      request = { e: result.e, at: start, cursor: next };
    }
    const first = pages[0] as SnapshotPage;
    const rest = await this.store.read(this.board, { e: first.e, after: first.s });
    return { pages, ops: "ops" in rest ? (JSON.parse(rest.ops) as BoardOp[]) : [] };
  }

  /** The board as the store holds it now: every record of its live pages, and the visible ones in stacking order. */
  async truth(): Promise<{ records: Map<string, ElementRecord>; visible: string[] }> {
    const { pages } = await this.snapshot();
    const records = new Map<string, ElementRecord>();
    const k: Record<string, number> = {};
    for (const page of pages) {
      Object.assign(k, page.snapshot.k);
      for (const tuple of page.snapshot.records) records.set(tuple[4], toRecord(tuple));
    }
    const version = (record: ElementRecord) => (record.o === 1 ? record.v : record.v + (k[String(record.g)] ?? 0));
    const visible = [...records.values()]
      .filter((record) => version(record) % 2 === 0)
      .sort((a, b) => a.z - b.z || a.s - b.s)
      .map((record) => record.i);
    return { records, visible };
  }

  private record(written: Written): BoardOp[] {
    const ops = parse(written);
    this.ops.push(...ops);
    return ops;
  }
}

/** Element ids the tests use: the n-th, 16 characters like every element id at least. */
export const elementId = (n: number): string => `element-${String(n).padStart(8, "0")}`;

/** A valid new element of kind `t`, placed by `n` so that every one differs. */
export function elementInput(n: number, t: ElementInput["t"]): ElementInput {
  const b: [number, number, number, number] = t === "f" ? [n, n, 0, 0] : [n * 10, n * 10, 100, 50];
  return {
    id: elementId(n),
    t,
    b,
    c: "#000000",
    sw: t === "t" || t === "n" ? 16 : 2,
    f: t === "r" || t === "e" || t === "n" ? "#ffeeaa" : "",
    d: t === "f" ? encodeSamples([[n, n, 0]]) : t === "t" || t === "n" ? encodeText(`note ${n}`) : "",
  };
}
