/**
 * What a client knows of a board, exactly as the store has it: every element it has seen since its last snapshot
 * (visible or hidden) with its version, the pages' flip counts, and the watermark, the highest seq up to which it
 * has missed nothing of the current epoch. Pure data, no I/O, no guesses: this page's own writes not yet applied
 * by the store are laid on top elsewhere (./shown-board.ts), never mixed in here. The session feeds it snapshots and
 * operations in whatever order the network delivers them, and it converges to the store's board
 * (test/client/board-state.test.ts checks that against the memory store).
 *
 * An element's version is `v + k[g]` while it follows its page (`o` 0), or `v` when its visibility is its own (`o`
 * 1); even is shown, odd hidden (docs/protocol.md). Operations are applied in seq order (those that arrive early
 * wait for the gap below them to fill, usually milliseconds: instances publish independently), and each change
 * applies only if its version is above the one held, so that applying something twice changes nothing. A
 * snapshot's pages, read one after another while the board changes, may already show some of the operations that
 * follow its first page; replaying those on top converges all the same, since each is either already reflected
 * (its version no longer wins) or still to come.
 */
import type { AppliedPatch, BoardOp, ElementRecord, Snapshot } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import type { ClearOp } from "./session-api";

/** What applying something changed, for whoever draws the board. */
export interface Applied {
  /** Anything may have changed (a snapshot page, a flipped page): draw everything again. */
  all: boolean;
  /** Elements that appeared, changed or disappeared. */
  ids: Set<string>;
  /** Elements first held through an `a` operation (not a snapshot), in seq order. */
  created: ElementRecord[];
  /** Clears and undone clears applied, in seq order. */
  clears: ClearOp[];
}

/** An element as this client knew it, with its version: what healing compares after the store lost writes. */
export interface KnownElement {
  record: ElementRecord;
  version: number;
}

export const noChange = (): Applied => ({ all: false, ids: new Set(), created: [], clears: [] });

/** Drawing order: by z, then by the seq that created the element. */
export const stackingOrder = (a: ElementRecord, b: ElementRecord): number => a.z - b.z || a.s - b.s;

/** How stale the ordered list is: 0 current, 1 some elements left it (a filter keeps the order), 2 sort again. */
type Staleness = 0 | 1 | 2;

export class BoardState {
  /** The board's history; seqs are comparable only within one epoch. Undefined until first read. */
  epoch: string | undefined;
  private readonly held = new Map<string, ElementRecord>();
  private readonly flips = new Map<number, number>();
  /** Pages this client has seen (in a snapshot, a record or a clear): an undone clear of any other needs a snapshot. */
  private readonly knownPages = new Set<number>();
  /** The highest page number seen: pages above it are new (never flipped), pages below it not seen are archived. */
  private newestPage = 0;
  /**
   * True after a snapshot that showed no page of a board with a history (everything on it was cleared): the page
   * numbers in use are unknown, so a record on a page not seen may be on a new page or on an archived one.
   */
  private pagesUnknown = false;
  /** Per page, the ids of elements whose visibility follows that page's flip count. */
  private readonly pageMembers = new Map<number, Set<string>>();
  /** Visible elements in stacking order, and where each is in it (valid while `staleness` is 0). */
  private ordered: ElementRecord[] = [];
  private readonly position = new Map<string, number>();
  private staleness: Staleness = 0;
  private watermarkSeq = 0;
  private headSeq = 0;
  /** Operations above the watermark, waiting for the ones below them. */
  private readonly waiting = new Map<number, BoardOp>();
  /** Something only a snapshot can bring: a page an undone clear showed, or appends this client never saw. */
  private incomplete = false;
  /** A snapshot is being read into this board: what it holds is of some seq from its first page's on, not a prefix. */
  private reading = false;

  /** Every operation up to this seq is applied: the `after` of the next read. */
  get watermark(): number {
    return this.watermarkSeq;
  }

  /** The highest seq this client holds anything of: the watermark, or an operation waiting above it. */
  get knownSeq(): number {
    return Math.max(this.watermarkSeq, ...this.waiting.keys());
  }

  /** True while some seq below the highest one heard of is missing. */
  get hasGap(): boolean {
    return this.headSeq > this.watermarkSeq;
  }

  /**
   * False while a snapshot is read into it, and after such a read was given up (the epoch changed, the connection
   * dropped): then its watermark says nothing of what it holds, and only a snapshot can continue from it.
   */
  get complete(): boolean {
    return !this.reading;
  }

  /** True when only a snapshot can make this state whole again. */
  get needsSnapshot(): boolean {
    return this.incomplete;
  }

  /** Elements held, visible or not. */
  get size(): number {
    return this.held.size;
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  /** The element as the store has it (visible or not), or undefined if it is not held. */
  get(id: string): ElementRecord | undefined {
    return this.held.get(id);
  }

  /** The element's current version, or undefined if it is not held. */
  versionOf(id: string): number | undefined {
    const record = this.held.get(id);
    return record ? this.version(record) : undefined;
  }

  isVisible(id: string): boolean {
    const record = this.held.get(id);
    return record !== undefined && this.version(record) % 2 === 0;
  }

  /** Every element held, visible or not, in no particular order. */
  records(): IterableIterator<ElementRecord> {
    return this.held.values();
  }

  /** Visible elements in stacking order: the order in which every client draws them. */
  elements(): readonly ElementRecord[] {
    if (this.staleness === 2) {
      this.ordered = [];
      for (const record of this.held.values()) if (this.version(record) % 2 === 0) this.ordered.push(record);
      this.ordered.sort(stackingOrder);
    } else if (this.staleness === 1) {
      this.ordered = this.ordered.flatMap((old) => {
        const record = this.held.get(old.i);
        return record && this.version(record) % 2 === 0 ? [record] : [];
      });
    }
    if (this.staleness > 0) {
      this.position.clear();
      this.ordered.forEach((record, index) => this.position.set(record.i, index));
      this.staleness = 0;
    }
    return this.ordered;
  }

  /** Every element held with its version, operations waiting behind a gap applied first: what healing compares. */
  knowledge(): KnownElement[] {
    // Only for a board about to be replaced by a new epoch's: a store that fails loses the broadcasts it was
    // relaying, so gaps open exactly then, and what waits behind them (this client's own acknowledged elements
    // among them) is what it may have lost.
    while (this.waiting.size > 0) {
      this.watermarkSeq = Math.min(...this.waiting.keys()) - 1;
      this.applyOps([]);
    }
    return [...this.held.values()].map((record) => ({ record, version: this.version(record) }));
  }

  /** Forgets everything: a snapshot of `epoch` follows. */
  reset(epoch: string): void {
    this.epoch = epoch;
    this.held.clear();
    this.flips.clear();
    this.knownPages.clear();
    this.newestPage = 0;
    this.pagesUnknown = false;
    this.pageMembers.clear();
    this.waiting.clear();
    this.ordered = [];
    this.position.clear();
    this.staleness = 0;
    this.watermarkSeq = 0;
    this.headSeq = 0;
    this.incomplete = false;
    this.reading = true;
  }

  /**
   * The board took a new epoch whose history shares every operation up to `base` with the one held, and this client
   * holds nothing past it: it keeps what it holds (operations waiting at or below `base` included) and goes on.
   */
  adoptEpoch(epoch: string, base: number): void {
    this.epoch = epoch;
    for (const seq of this.waiting.keys()) if (seq > base) this.waiting.delete(seq);
    // The old history's head means nothing in the new one.
    this.headSeq = this.knownSeq;
  }

  /**
   * A page of a snapshot. Snapshots come newest page first, so what they add usually goes below. The change names
   * the elements the page brought (a reader that starts a snapshot on a board it shows redraws everything first);
   * not `all`, so that a late joiner's page does not redraw, or sort, the whole board again for every answer.
   */
  applySnapshot(snapshot: Snapshot): Applied {
    const change = noChange();
    for (const [page, k] of Object.entries(snapshot.k)) this.learnPage(Number(page), k, change);
    for (const tuple of snapshot.records) this.place(toRecord(tuple), change);
    return change;
  }

  /** The snapshot that started at seq `s` is complete: operations after `s` follow (some may be waiting). */
  finishSnapshot(s: number): Applied {
    this.pagesUnknown = this.newestPage === 0 && s > 0;
    this.reading = false;
    this.watermarkSeq = s;
    this.headSeq = Math.max(this.headSeq, s);
    for (const seq of this.waiting.keys()) if (seq <= s) this.waiting.delete(seq);
    return this.applyOps([]);
  }

  applyOps(ops: readonly BoardOp[]): Applied {
    for (const op of ops) {
      if (op.s > this.watermarkSeq) this.waiting.set(op.s, op);
      this.headSeq = Math.max(this.headSeq, op.s);
    }
    const change = noChange();
    for (let op = this.waiting.get(this.watermarkSeq + 1); op; op = this.waiting.get(this.watermarkSeq + 1)) {
      this.waiting.delete(op.s);
      this.watermarkSeq = op.s;
      this.apply(op, change);
    }
    return change;
  }

  /** The board's seq as the server reports it from time to time (`head`). */
  applyHead(s: number): void {
    this.headSeq = Math.max(this.headSeq, s);
  }

  private apply(op: BoardOp, change: Applied): void {
    switch (op.t) {
      case "a": {
        const record = toRecord(op.r);
        // A healed element put on a page a clear hid comes with that page's count. A client that read the board
        // after the clear holds none of that page's other records: it leaves this one out with them (hidden, as they
        // are), and the clear's undo, naming a page it does not hold, reads a snapshot that shows them all. Taking
        // the page as known from this one record would show it alone on the undo, and never the rest.
        const k = op.k?.[String(record.g)];
        if (record.o === 0 && k !== undefined && k % 2 === 1 && !this.knownPages.has(record.g)) return;
        for (const [page, count] of Object.entries(op.k ?? {})) this.learnPage(Number(page), count, change);
        const isNew = !this.held.has(record.i);
        if (this.place(record, change) && isNew) change.created.push(record);
        return;
      }
      case "p": {
        const held = this.held.get(op.i);
        if (!held || op.v <= this.version(held)) return;
        // The version says this client lacks the append; without the ones before it the points cannot be joined.
        if (held.n !== op.n - 1) {
          this.incomplete = true;
          return;
        }
        const [x, y, w, h] = op.b;
        const grown = { ...held, d: held.d + op.d, n: op.n, x, y, w, h, v: this.stored(held, op.v), l: op.s };
        this.replace(held, grown, change);
        return;
      }
      case "v": {
        const copies = new Map((op.r ?? []).map((tuple) => [tuple[4], toRecord(tuple)]));
        for (const [id, version] of op.x) {
          const copy = copies.get(id);
          if (copy) {
            this.place(copy, change);
            continue;
          }
          const held = this.held.get(id);
          if (!held || version <= this.version(held)) continue;
          this.replace(held, { ...this.withVersion(held, version), l: op.s }, change);
        }
        return;
      }
      case "e":
        for (const [id, version, patch] of op.x) {
          const held = this.held.get(id);
          if (!held || version <= this.version(held)) continue;
          this.replace(held, { ...withPatch(held, patch), v: this.stored(held, version), l: op.s }, change);
        }
        return;
      case "c":
      case "u":
        change.clears.push(op);
        for (const [page, k] of Object.entries(op.k)) {
          if (op.t === "u" && !this.knownPages.has(Number(page))) this.incomplete = true;
          this.learnPage(Number(page), k, change);
        }
        return;
    }
  }

  private version(record: ElementRecord): number {
    return record.o === 1 ? record.v : record.v + (this.flips.get(record.g) ?? 0);
  }

  /** The `v` to store for an element reaching `version` with its parity unchanged (appends, edits). */
  private stored(record: ElementRecord, version: number): number {
    return record.o === 1 ? version : version - (this.flips.get(record.g) ?? 0);
  }

  /**
   * The element at `version`, with the visibility its parity says, as the store records it: shown, it follows its
   * page; hidden, it has its own visibility, unless its page is cleared (then an undo of the clear shows it with
   * the rest, so it still follows the page). A shown element whose page is cleared comes as a copy instead (`r`).
   */
  private withVersion(record: ElementRecord, version: number): ElementRecord {
    const k = this.flips.get(record.g) ?? 0;
    if (version % 2 === 0 || (record.o === 0 && k % 2 === 1)) return { ...record, o: 0, v: version - k };
    return { ...record, o: 1, v: version };
  }

  /**
   * Takes this copy of an element if it is newer than what is held. Returns whether it was taken. A record following
   * a page this client has never seen, older than the pages it knows, is on a page a clear archived (a heal put it
   * there): without that page's flip count its visibility is unknown, so it is left out like the rest of the page,
   * and an undo of that clear reads a snapshot. When the client knows no page at all (its snapshot found everything
   * cleared) it cannot tell a new page from an archived one: it asks for a snapshot, which shows the live pages.
   */
  private place(record: ElementRecord, change: Applied): boolean {
    if (record.o === 0 && !this.knownPages.has(record.g)) {
      if (this.pagesUnknown) this.incomplete = true;
      if (this.pagesUnknown || record.g < this.newestPage) return false;
    }
    this.knownPages.add(record.g);
    this.newestPage = Math.max(this.newestPage, record.g);
    const held = this.held.get(record.i);
    if (held && this.version(record) <= this.version(held)) return false;
    this.replace(held, record, change);
    return true;
  }

  /** Puts `record` in place of `old` (undefined: a new element), keeping pages and the drawing order in step. */
  private replace(old: ElementRecord | undefined, record: ElementRecord, change: Applied): void {
    const wasVisible = old !== undefined && this.version(old) % 2 === 0;
    if (old?.o === 0) this.pageMembers.get(old.g)?.delete(old.i);
    this.held.set(record.i, record);
    if (record.o === 0) this.members(record.g).add(record.i);
    const visible = this.version(record) % 2 === 0;
    change.ids.add(record.i);
    if (wasVisible && visible) {
      const index = this.position.get(record.i);
      if (old.z !== record.z || old.s !== record.s) this.staleness = 2;
      else if (this.staleness === 0 && index !== undefined) this.ordered[index] = record;
    } else if (wasVisible) {
      this.staleness = Math.max(this.staleness, 1) as Staleness;
    } else if (visible) {
      // Usually a new element on top: appended; anything else sorts again when next asked.
      const last = this.ordered.at(-1);
      if (this.staleness < 2 && (!last || stackingOrder(last, record) < 0)) {
        if (this.staleness === 0) this.position.set(record.i, this.ordered.length);
        this.ordered.push(record);
      } else this.staleness = 2;
    }
  }

  /** A page and its flip count, as a snapshot or an operation gives them. */
  private learnPage(page: number, k: number, change: Applied): void {
    this.knownPages.add(page);
    this.newestPage = Math.max(this.newestPage, page);
    this.flip(page, k, change);
  }

  /** Raises a page's flip count; elements following it change visibility when the count's parity does. */
  private flip(page: number, k: number, change: Applied): void {
    const current = this.flips.get(page) ?? 0;
    if (k <= current) return;
    this.flips.set(page, k);
    if ((k - current) % 2 === 1 && (this.pageMembers.get(page)?.size ?? 0) > 0) {
      change.all = true;
      this.staleness = 2;
    }
  }

  private members(page: number): Set<string> {
    let members = this.pageMembers.get(page);
    if (!members) this.pageMembers.set(page, (members = new Set()));
    return members;
  }
}

/** The record with the fields an edit set (and only those: the patch comes from the network). */
export function withPatch(record: ElementRecord, patch: AppliedPatch): ElementRecord {
  const next = { ...record };
  if (patch.x !== undefined) next.x = patch.x;
  if (patch.y !== undefined) next.y = patch.y;
  if (patch.w !== undefined) next.w = patch.w;
  if (patch.h !== undefined) next.h = patch.h;
  if (patch.c !== undefined) next.c = patch.c;
  if (patch.sw !== undefined) next.sw = patch.sw;
  if (patch.f !== undefined) next.f = patch.f;
  if (patch.d !== undefined) next.d = patch.d;
  if (patch.z !== undefined) next.z = patch.z;
  return next;
}
