/**
 * What a client knows of a board: every stroke it has seen since its last snapshot (visible or hidden), each
 * with its version, the pages' flip counts, and the watermark, the highest seq up to which it has missed nothing
 * of the current epoch. Pure data, no I/O: the session feeds it snapshots and operations in whatever order the
 * network delivers them, and it converges to the store's board (test/client/board-state.test.ts checks that
 * against the store itself).
 *
 * A stroke's version is `v + k[g]` for the copy it holds (page g), or, once hidden on its own, the version it
 * was hidden at; only a higher version wins, so applying an operation twice changes nothing. Operations are
 * applied in seq order (those that arrive early wait for the gap below them to fill, usually milliseconds:
 * instances publish independently), because a version means what it means against the page flips before it.
 * A snapshot's pages, read one after another while the board changes, may already show some of the
 * operations that follow its first page; replaying those on top converges all the same, since each one is
 * either already reflected (and its version no longer wins) or still to come.
 */
import type { BoardOp, Snapshot, StrokeInput, StrokeRecord } from "../../protocol/events";
import { toRecord } from "../../protocol/events";

interface HeldStroke {
  record: StrokeRecord;
  /** The version it was hidden at, when hidden on its own (eraser, undo) rather than with its page. */
  hiddenAt?: number;
}

/** A stroke as a client last knew it, for healing a store that lost it. */
export interface KnownStroke {
  record: StrokeRecord;
  version: number;
}

/** A clear, or the undoing of one: what a client offers to undo, or stops offering. */
export type ClearOp = Extract<BoardOp, { t: "c" | "u" }>;

/** What applying something changed, for whoever draws the board. */
export interface Applied {
  /** Strokes disappeared (or many appeared between others): everything must be drawn again. */
  redraw: boolean;
  /** Strokes newly visible, in the order received (when `redraw` is false). */
  added: StrokeRecord[];
  /**
   * Where `added` belongs: above everything drawn, below it (older snapshot pages), or somewhere in between
   * (strokes from different instances arriving out of order): drawn on top now, the stacking redrawn later.
   */
  placement: "top" | "under" | "mixed";
  /** Clears and undone clears among the operations applied, in seq order (absent when none). */
  clears?: ClearOp[];
}

/** What a client sends back to a store that lost writes (see `heal`). */
export interface Healing {
  /** Strokes the store lacks: sent again as strokes, with their version and author. */
  strokes: StrokeInput[];
  /** Strokes the store shows that this client saw hidden: `erase` at these versions. */
  hide: [id: string, version: number][];
}

export class BoardState {
  /** The board's identity; seqs are comparable only within one epoch. */
  epoch: string | undefined;
  private readonly held = new Map<string, HeldStroke>();
  private readonly flips = new Map<number, number>();
  /** Per page, the ids of strokes whose visibility follows that page's flip count. */
  private readonly pageMembers = new Map<number, Set<string>>();
  /** Visible strokes in seq order, rebuilt lazily after a removal or an insertion below the top. */
  private ordered: StrokeRecord[] | undefined = [];
  /** The highest and lowest seq of a stroke shown since the last reset. */
  private topSeq = 0;
  private bottomSeq = Infinity;
  private watermarkSeq = 0;
  private headSeq = 0;
  /** Operations above the watermark, waiting for the ones below them. */
  private readonly waiting = new Map<number, BoardOp>();
  /** An undo of a clear showed pages this client holds nothing of: only a snapshot can bring them. */
  private missingPages = false;

  /** Every op up to this seq is accounted for: the `after` of the next read. */
  get watermark(): number {
    return this.watermarkSeq;
  }

  /** True while some seq below the highest one heard of is missing. */
  get hasGap(): boolean {
    return this.headSeq > this.watermarkSeq;
  }

  /** True when only a snapshot can make this state whole again. */
  get needsSnapshot(): boolean {
    return this.missingPages;
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  /** The stroke's current version, or undefined if it is not held. */
  versionOf(id: string): number | undefined {
    const held = this.held.get(id);
    return held ? this.version(held) : undefined;
  }

  isVisible(id: string): boolean {
    const version = this.versionOf(id);
    return version !== undefined && version % 2 === 0;
  }

  /** Visible strokes in seq order: the order in which every client draws them. */
  strokes(): readonly StrokeRecord[] {
    if (!this.ordered) {
      this.ordered = [];
      for (const held of this.held.values()) if (this.version(held) % 2 === 0) this.ordered.push(held.record);
      this.ordered.sort((a, b) => a.s - b.s);
    }
    return this.ordered;
  }

  /**
   * Applies the operations still waiting for a gap below them to fill, as if it had. Only for a board about to be
   * read again from scratch (a new epoch): the store had stored those operations too, and what the client knew
   * before the loss must include them. A store that fails loses the broadcasts it was relaying, so gaps open
   * exactly then, and the strokes behind them (one acknowledged to its author among them) may be what it lost.
   */
  applyWaiting(): void {
    while (this.waiting.size > 0) {
      this.watermarkSeq = Math.min(...this.waiting.keys()) - 1;
      this.applyOps([]);
    }
  }

  /** Every stroke held, visible or not, with its version: what `heal` compares against after a loss. */
  known(): KnownStroke[] {
    return [...this.held.values()].map((held) => ({ record: held.record, version: this.version(held) }));
  }

  /** Forgets everything: a snapshot of `epoch` follows. */
  reset(epoch: string): void {
    this.epoch = epoch;
    this.held.clear();
    this.flips.clear();
    this.pageMembers.clear();
    this.waiting.clear();
    this.ordered = [];
    this.topSeq = 0;
    this.bottomSeq = Infinity;
    this.watermarkSeq = 0;
    this.headSeq = 0;
    this.missingPages = false;
  }

  /** A page of a snapshot. Snapshots come newest page first, so what they add usually goes below. */
  applySnapshot(snapshot: Snapshot): Applied {
    for (const [page, k] of Object.entries(snapshot.k)) this.flip(Number(page), k);
    const [bottom, top] = [this.bottomSeq, this.topSeq];
    const added: StrokeRecord[] = [];
    for (const tuple of snapshot.records) {
      const record = toRecord(tuple);
      if (this.place(record)) added.push(record);
    }
    return this.placed(added, bottom, top);
  }

  /** The snapshot that started at seq `s` is complete: operations after `s` follow (some may be waiting). */
  finishSnapshot(s: number): Applied {
    this.watermarkSeq = s;
    for (const seq of this.waiting.keys()) if (seq <= s) this.waiting.delete(seq);
    return this.applyOps([]);
  }

  applyOps(ops: readonly BoardOp[]): Applied {
    for (const op of ops) {
      if (op.s > this.watermarkSeq) this.waiting.set(op.s, op);
      this.headSeq = Math.max(this.headSeq, op.s);
    }
    let redraw = false;
    const added: StrokeRecord[] = [];
    const clears: ClearOp[] = [];
    const [bottom, top] = [this.bottomSeq, this.topSeq];
    for (let op = this.waiting.get(this.watermarkSeq + 1); op; op = this.waiting.get(this.watermarkSeq + 1)) {
      this.waiting.delete(op.s);
      this.watermarkSeq = op.s;
      switch (op.t) {
        case "s": {
          const record = toRecord(op.r);
          if (this.place(record)) added.push(record);
          break;
        }
        case "v":
          for (const [id, version] of op.h) redraw = this.hide(id, version) || redraw;
          for (const tuple of op.r) {
            const record = toRecord(tuple);
            if (this.place(record)) added.push(record);
          }
          break;
        case "c":
        case "u":
          clears.push(op);
          for (const [page, k] of Object.entries(op.k)) {
            const number = Number(page);
            if (op.t === "u" && !this.pageMembers.get(number)?.size) this.missingPages = true;
            redraw = this.flip(number, k) || redraw;
          }
          break;
      }
    }
    const applied: Applied = redraw ? { redraw, added: [], placement: "top" } : this.placed(added, bottom, top);
    return clears.length > 0 ? { ...applied, clears } : applied;
  }

  /** The board's seq as the server reports it from time to time (`head`). */
  applyHead(s: number): void {
    this.headSeq = Math.max(this.headSeq, s);
  }

  /** Hides a stroke at once, before the store confirms it (an erase this client sends). */
  hideLocally(id: string, version: number): boolean {
    return this.hide(id, version);
  }

  /**
   * After the store lost writes (a new epoch) and this client re-read it: what this client knew (`previous`,
   * from `known()` before the reset) that the store lacks. Every stroke the store lacks is sent again with its
   * version and author, so that as long as one page that saw a stroke stays open the stroke survives; every
   * stroke the store shows that this client saw hidden is hidden again at the version it knew, so a clear or an
   * erase acknowledged before the loss stays in effect (the store keeps the higher version).
   */
  heal(previous: Iterable<KnownStroke>): Healing {
    const healing: Healing = { strokes: [], hide: [] };
    for (const { record, version } of previous) {
      // A snapshot holds only what the store shows: a stroke it holds is visible there.
      const theirs = this.versionOf(record.i);
      if (theirs === undefined) {
        const { i, c, w, p, u } = record;
        healing.strokes.push({ id: i, p, c, w, u, ...(version > 0 ? { v: version } : {}) });
      } else if (version > theirs && version % 2 === 1) {
        healing.hide.push([record.i, version]);
      }
    }
    return healing;
  }

  /** Where strokes added while the visible seqs spanned `bottom..top` belong. */
  private placed(added: StrokeRecord[], bottom: number, top: number): Applied {
    const placement =
      top === 0 || added.every((record) => record.s > top)
        ? "top"
        : added.every((record) => record.s < bottom)
          ? "under"
          : "mixed";
    return { redraw: false, added, placement };
  }

  private version(held: HeldStroke): number {
    return held.hiddenAt ?? held.record.v + (this.flips.get(held.record.g) ?? 0);
  }

  /** Takes this copy of a stroke if it is newer than what is held. Returns whether it is newly visible. */
  private place(record: StrokeRecord): boolean {
    const held = this.held.get(record.i);
    // A stroke stored hidden (an odd version: restored into a store that lost it) does not follow its page.
    const incoming: HeldStroke = record.v % 2 === 1 ? { record, hiddenAt: record.v } : { record };
    if (held && this.version(incoming) <= this.version(held)) return false;
    const wasVisible = held !== undefined && this.version(held) % 2 === 0;
    if (held) this.leavePage(held);
    this.held.set(record.i, incoming);
    if (incoming.hiddenAt === undefined) this.members(record.g).add(record.i);
    const visible = this.version(incoming) % 2 === 0;
    if (wasVisible || (visible && record.s < this.topSeq)) this.ordered = undefined;
    else if (visible) this.ordered?.push(record);
    if (visible) {
      this.topSeq = Math.max(this.topSeq, record.s);
      this.bottomSeq = Math.min(this.bottomSeq, record.s);
    }
    return visible && !wasVisible;
  }

  /** Hides a stroke at `version` if that is newer. Returns whether a visible stroke disappeared. */
  private hide(id: string, version: number): boolean {
    const held = this.held.get(id);
    if (!held) return false;
    const current = this.version(held);
    if (version <= current) return false;
    this.leavePage(held);
    held.hiddenAt = version;
    if (current % 2 === 1) return false;
    this.ordered = undefined;
    return true;
  }

  /** Raises a page's flip count. Returns whether strokes held on it changed visibility. */
  private flip(page: number, k: number): boolean {
    const current = this.flips.get(page) ?? 0;
    if (k <= current) return false;
    this.flips.set(page, k);
    const changed = (k - current) % 2 === 1 && (this.pageMembers.get(page)?.size ?? 0) > 0;
    if (changed) this.ordered = undefined;
    return changed;
  }

  private members(page: number): Set<string> {
    let members = this.pageMembers.get(page);
    if (!members) {
      members = new Set();
      this.pageMembers.set(page, members);
    }
    return members;
  }

  private leavePage(held: HeldStroke): void {
    if (held.hiddenAt === undefined) this.pageMembers.get(held.record.g)?.delete(held.record.i);
  }
}
