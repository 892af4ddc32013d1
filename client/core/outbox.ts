/**
 * This page's writes, in the order they were made, from the moment they are made until the board holds their
 * effect: those not sent, those in flight, and those acknowledged whose operation the board has not applied yet
 * (it may wait behind a gap, or be lost with a failing store, when only its author can send it back). Every one is
 * kept in the PendingStore as well, so a reload or a closed tab loses nothing (docs/client.md).
 *
 * A freehand line is one element: an `add` with its first samples, then `append`s (n = 1, 2, ...) as the pointer
 * moves. The line's last write stays open, taking new samples, until the session sends it: while earlier writes wait
 * for their acks, samples pile up in the open one. So a fast connection sends nearly every pointer sample at once,
 * and a slow or loaded one automatically sends fewer, bigger appends (as Nagle's algorithm does for TCP). A line
 * that reaches its points limit continues as a new line from its last sample, so the two join up.
 *
 * Order: a change (erase, restore, edit) waits until the adds of the elements it names are acknowledged, since the
 * store ignores a change of an id it does not hold; writes of one element go in the order they were made. Appends
 * of a line may be in flight together behind its add: the store refuses one that overtakes another
 * (`out_of_order`) and it goes again.
 */
import type { AppendInput, ElementInput, ElementRecord } from "../../protocol/events";
import { decodeSamples, encodeSamples, type Sample } from "../../protocol/points";
import type { KnownElement } from "./board-state";
import type { EpochKnowledge } from "./healing";
import type { PendingRecord, PendingStore, PendingWrite } from "./pending-store";
import type { Pen } from "./session-api";

type EntryState = "queued" | "sending" | "acked";

/** A write and where it stands. */
export interface Entry {
  readonly key: string;
  write: PendingWrite;
  state: EntryState;
  /** The seq the store acknowledged it with, and the epoch of the history that seq belongs to. */
  acked?: { s: number; e: string };
  /** The line it belongs to: every add and append of a freehand line drawn (or kept) here. */
  line?: Line;
  /** Times the store said an earlier append of its line had not arrived. */
  overtaken: number;
}

interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** A freehand line of this page's, from its first sample until the board holds all of it. */
export interface Line {
  readonly id: string;
  readonly pen: Pen;
  /** `d` of each sealed write (the add's, then each append's): joined, the line's points. */
  readonly parts: string[];
  /** Samples of the open write, not encoded yet. */
  open: Sample[];
  /** The last sealed sample, where the open write's encoding continues from. */
  last: readonly [x: number, y: number] | undefined;
  /** Characters of the line's encoded points so far. */
  bytes: number;
  bounds: Bounds | undefined;
  /** Appends made. */
  appends: number;
  /** The write still taking samples: the line's last, until it is sent. */
  tail: Entry | undefined;
  drawing: boolean;
  /** The store refused it (it is being removed whole): nothing more is taken or reported for it. */
  refused: boolean;
}

export interface OutboxOptions {
  board: string;
  store: PendingStore;
  /** Prefix of this page's record keys: sorts after earlier pages' (see PendingRecord.key). */
  pageId: string;
  maxPointsPerWrite: number;
  /** Most characters of a line's encoded points (MAX_LINE_BYTES): a longer line continues as a new one. */
  maxLineBytes: number;
  newId: () => string;
}

/** Why a refused write was dropped, for the session to tell the user. */
export interface Refusal {
  /** The elements concerned: a line's every element id, or the ids of a change. */
  ids: string[];
  /** True when the refusal removed an element this page was adding (a line, a shape). */
  element: boolean;
}

const box = (bounds: Bounds | undefined): [number, number, number, number] =>
  bounds ? [bounds.minX, bounds.minY, bounds.maxX - bounds.minX, bounds.maxY - bounds.minY] : [0, 0, 0, 0];

function grow(bounds: Bounds | undefined, [x, y]: Sample): Bounds {
  if (!bounds) return { minX: x, minY: y, maxX: x, maxY: y };
  return {
    minX: Math.min(bounds.minX, x),
    minY: Math.min(bounds.minY, y),
    maxX: Math.max(bounds.maxX, x),
    maxY: Math.max(bounds.maxY, y),
  };
}

/** Where the line's next sample continues from. */
function lastPoint(line: Line): readonly [x: number, y: number] | undefined {
  const sample = line.open.at(-1);
  return sample ? [sample[0], sample[1]] : line.last;
}

/** The element ids a write touches. */
export function idsOf(write: PendingWrite): string[] {
  switch (write.kind) {
    case "add":
      return [write.input.id];
    case "append":
      return [write.input.i];
    case "erase":
    case "restore":
      return write.input.ids;
    case "edit":
      return write.input.x.map(([id]) => id);
  }
}

export class Outbox {
  private queue: Entry[] = [];
  private readonly lines = new Map<string, Line>();
  /** The stroke being drawn: its lines (more than one past the points limit). */
  private stroke: { pen: Pen; ids: string[] } | undefined;
  private counter = 0;

  constructor(private readonly options: OutboxOptions) {}

  /** Writes not yet acknowledged. */
  get size(): number {
    return this.queue.reduce((count, entry) => count + (entry.state === "acked" ? 0 : 1), 0);
  }

  get inFlight(): number {
    return this.queue.reduce((count, entry) => count + (entry.state === "sending" ? 1 : 0), 0);
  }

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** True while a line is being drawn. */
  get drawing(): boolean {
    return this.stroke !== undefined;
  }

  /** Every write kept, in order. */
  get entries(): readonly Entry[] {
    return this.queue;
  }

  line(id: string): Line | undefined {
    return this.lines.get(id);
  }

  /** Pen down: a new line. Returns its id. */
  begin(sample: Sample, pen: Pen): string {
    this.end();
    this.stroke = { pen, ids: [] };
    return this.startLine(sample, pen).id;
  }

  /** More samples for the line being drawn. Returns the ids of lines it changed. */
  extend(samples: readonly Sample[]): string[] {
    const stroke = this.stroke;
    const touched = new Set<string>();
    for (const sample of samples) {
      if (!stroke) break;
      let line = this.lines.get(stroke.ids.at(-1) ?? "");
      if (!line || line.refused) continue;
      const from = lastPoint(line);
      if (line.bytes + encodeSamples([sample], from).length > this.options.maxLineBytes && from) {
        // Full: the rest continues as a new line from this one's last sample, so that they join.
        this.finish(line);
        line = this.startLine([from[0], from[1], sample[2]], stroke.pen);
      }
      this.take(line, sample);
      touched.add(line.id);
    }
    for (const id of touched) this.keep(this.lines.get(id)?.tail);
    return [...touched];
  }

  /** Pen up. Returns the ids of the lines drawn since pen down. */
  end(): string[] {
    const stroke = this.stroke;
    this.stroke = undefined;
    if (!stroke) return [];
    for (const id of stroke.ids) {
      const line = this.lines.get(id);
      if (line) this.finish(line);
    }
    this.dropDoneLines();
    return stroke.ids;
  }

  /** Queues new elements (shapes, text, notes, or healed elements of anyone's), as they are. */
  add(inputs: readonly ElementInput[]): void {
    for (const input of inputs) this.push({ kind: "add", input });
  }

  /**
   * Queues the adds that heal a store which lost writes, each before the writes of its element still to be sent (a
   * line's appends that were not acknowledged): those continue the element the heal puts back, and would be refused
   * (`out_of_order`) if they went first.
   */
  heal(inputs: readonly ElementInput[]): void {
    for (const input of inputs) {
      const entry = this.push({ kind: "add", input });
      const before = this.queue.findIndex(
        (candidate) => candidate.state === "queued" && candidate !== entry && idsOf(candidate.write).includes(input.id),
      );
      if (before < 0) continue;
      this.queue.pop();
      this.queue.splice(before, 0, entry);
    }
  }

  /** Queues a change. */
  change(write: Exclude<PendingWrite, { kind: "add" | "append" }>): void {
    this.push(write);
  }

  /**
   * The next write that may go now, marked in flight (a line's open write is sealed first), or undefined: `window`
   * writes in flight already, or every queued one waits for an earlier one (see the module's comment).
   */
  next(window: number): Entry | undefined {
    if (this.inFlight >= window) return undefined;
    /** Ids written by earlier queued entries; by earlier unacknowledged adds; by earlier unacknowledged changes. */
    const queued = new Set<string>();
    const adding = new Set<string>();
    const changing = new Set<string>();
    for (const entry of this.queue) {
      const ids = idsOf(entry.write);
      if (entry.state === "queued") {
        const kind = entry.write.kind;
        const ready =
          kind === "add"
            ? !queued.has(ids[0] as string) && !changing.has(ids[0] as string)
            : kind === "append"
              ? !queued.has(ids[0] as string) && !changing.has(ids[0] as string)
              : ids.every((id) => !adding.has(id) && !changing.has(id));
        if (ready) {
          this.seal(entry);
          entry.state = "sending";
          return entry;
        }
      }
      if (entry.state === "acked") continue;
      for (const id of ids) {
        if (entry.state === "queued") queued.add(id);
        if (entry.write.kind === "add") adding.add(id);
        else if (entry.write.kind !== "append") changing.add(id);
      }
    }
    return undefined;
  }

  /** The connection dropped: what was in flight goes again, in order. */
  unsendAll(): void {
    for (const entry of this.queue) if (entry.state === "sending") entry.state = "queued";
  }

  /** The answer was "try later" (or none came): the write goes again with the next ones. */
  retry(entry: Entry): void {
    if (entry.state === "sending") entry.state = "queued";
  }

  /** The store took the write at seq `s` of epoch `e`. */
  acknowledge(entry: Entry, s: number, e: string): void {
    if (entry.state === "acked" || !this.queue.includes(entry)) return;
    entry.state = "acked";
    entry.acked = { s, e };
    this.keep(entry);
  }

  /**
   * The store refused the write for good. A line's write takes the whole line with it: its other writes are dropped
   * and, with `removeStored` (a line too big for the board or for itself: never kept cut), `erase` removes what the
   * store holds of it. Without (an append refused `invalid`, or `forbidden` on a page that lost its edit rights),
   * what the store holds stays. Returns what was dropped, or undefined when it was part of a line already refused
   * (told once). An append refused because a healer made the line its own is not refused: see continueLine.
   */
  refuse(entry: Entry, removeStored: boolean): Refusal | undefined {
    const line = entry.line;
    if (!line) {
      this.drop(entry);
      return { ids: idsOf(entry.write), element: entry.write.kind === "add" && entry.write.input.h === undefined };
    }
    if (line.refused) {
      this.drop(entry);
      return undefined;
    }
    line.refused = true;
    const entries = this.queue.filter((candidate) => candidate.line === line);
    const stored = entries.some((candidate) => candidate.write.kind === "add" && candidate.state !== "queued");
    for (const candidate of entries) this.drop(candidate);
    this.lines.delete(line.id);
    // The add may have been stored (acknowledged, or in flight with its answer lost): erasing an id the store
    // does not hold stores nothing, so erase whenever it may be there.
    if (stored && removeStored) this.push({ kind: "erase", input: { ids: [line.id] } });
    const ids = this.stroke?.ids.includes(line.id) ? this.stroke.ids : [line.id];
    return { ids: [...ids], element: true };
  }

  /**
   * The line's append was refused because the store holds the line as another user's: a page healing the store
   * after it lost writes put it back as its own (the store gives a healer of a history it no longer knows its own
   * id). The line's writes are dropped and what the store's copy lacks (`storedAppends`: the appends it holds, or
   * undefined when this page has not seen it yet: then all of the line) continues as a new line of this user's from
   * the last point stored, as a line past its size limit does: nothing drawn is lost. Returns the new line's id, or
   * undefined when the line was already continued (another of its writes was refused the same way).
   */
  continueLine(entry: Entry, storedAppends: number | undefined): string | undefined {
    const line = entry.line;
    if (!line || line.refused) {
      this.drop(entry);
      return undefined;
    }
    const sealed = decodeSamples(line.parts.join(""));
    const stored = storedAppends === undefined ? "" : line.parts.slice(0, storedAppends + 1).join("");
    if (typeof sealed === "string") throw new Error(`a line of this page's does not decode: ${sealed}`);
    const storedSamples = stored === "" ? 0 : (decodeSamples(stored) as number[]).length / 3;
    const flat = sealed.slice(Math.max(0, storedSamples - 1) * 3);
    const samples: Sample[] = [...line.open];
    for (let index = flat.length - 3; index >= 0; index -= 3)
      samples.unshift([flat[index] as number, flat[index + 1] as number, flat[index + 2] as number]);
    line.refused = true;
    for (const candidate of this.queue.filter((candidate) => candidate.line === line)) this.drop(candidate);
    this.lines.delete(line.id);
    const [first, ...rest] = samples;
    if (!first) return undefined;
    const drawing = line.drawing && this.stroke?.ids.at(-1) === line.id;
    const next = this.startLine(first, line.pen, drawing);
    for (const sample of rest) this.take(next, sample);
    this.keep(next.tail);
    if (!drawing) this.finish(next);
    return next.id;
  }

  /**
   * Drops the acknowledged writes whose effect the board holds: the store's operation at their seq is applied
   * (same epoch, watermark at or past it), or the board holds the element (an add) at the version it names (a heal's
   * version; 0 for a new element) with at least that many appends. A heal's element may be on the board at a lower
   * version (shown there, hidden in what this page knew) until the heal's operation comes: dropped before, the page
   * would show the board's older state in between.
   */
  settle(board: {
    epoch: string | undefined;
    watermark: number;
    get(id: string): ElementRecord | undefined;
    versionOf(id: string): number | undefined;
  }): string[] {
    const dropped: string[] = [];
    for (const entry of [...this.queue]) {
      if (entry.state !== "acked" || !entry.acked) continue;
      const { write } = entry;
      const held =
        write.kind === "add"
          ? (board.versionOf(write.input.id) ?? -1) >= (write.input.v ?? 0)
          : write.kind === "append" && (board.get(write.input.i)?.n ?? 0) >= write.input.n;
      if (held || (entry.acked.e === board.epoch && board.watermark >= entry.acked.s)) {
        this.drop(entry);
        dropped.push(...idsOf(write));
      }
    }
    this.dropDoneLines();
    return dropped;
  }

  /**
   * The board took a new epoch sharing every operation up to `base` with `from`: acknowledgements of `from` at or
   * below `base` mean the same in the new one. Those above it stay `from`'s: the new history's seqs past `base` are
   * other operations, so they are compared with the board once it is caught up, and sent back if it lacks them
   * (takeStaleAcks).
   */
  carryAcks(from: string, to: string, base: number): void {
    for (const entry of this.queue)
      if (entry.acked?.e === from && entry.acked.s <= base) entry.acked = { ...entry.acked, e: to };
  }

  /**
   * What this page's acknowledged writes of epochs other than `epoch` tell of elements (the store may have lost
   * them): each line or element added, as far as it was acknowledged, with the version that implies; `held`, the
   * board's copy when it has one. The writes themselves are dropped: healing sends their elements again.
   */
  takeStaleAcks(epoch: string, user: string, held: (id: string) => KnownElement | undefined): EpochKnowledge[] {
    const stale = (e: string | undefined) => e !== epoch;
    const known = new Map<string, EpochKnowledge>();
    for (const entry of this.queue) {
      if (entry.state !== "acked" || !entry.acked || !stale(entry.acked.e)) continue;
      const { write } = entry;
      if (write.kind === "add") {
        const { input } = write;
        const [x, y, w, h] = input.b;
        const record: ElementRecord = {
          ...{ s: entry.acked.s, g: 0, o: 0, v: input.v ?? 0, i: input.id, u: input.u ?? user, t: input.t },
          ...{ z: entry.acked.s, x, y, w, h, c: input.c, sw: input.sw, f: input.f, n: input.n ?? 0, d: input.d },
          l: entry.acked.s,
        };
        known.set(input.id, { epoch: entry.acked.e, record, version: record.v });
      } else if (write.kind === "append") {
        const line = known.get(write.input.i);
        if (!line || line.record.n !== write.input.n - 1) continue;
        const [x, y, w, h] = write.input.b;
        line.record = { ...line.record, d: line.record.d + write.input.d, n: write.input.n, x, y, w, h };
        line.version += 2;
      }
    }
    for (const entry of [...this.queue]) if (entry.state === "acked" && stale(entry.acked?.e)) this.drop(entry);
    this.dropDoneLines();
    // The board's copy, where it has one, knows the element's later changes; this page's acks know its appends.
    return [...known.values()].flatMap((stale) => {
      const board = held(stale.record.i);
      if (!board) return [stale];
      const extra = stale.record.n - board.record.n;
      if (extra <= 0) return [];
      const { d, n, x, y, w, h } = stale.record;
      return [{ ...stale, record: { ...board.record, d, n, x, y, w, h }, version: board.version + 2 * extra }];
    });
  }

  /** Takes over the writes earlier pages kept (see PendingStore.load), before any of this page's. */
  restore(records: readonly PendingRecord[]): void {
    const restored: Entry[] = [];
    for (const { key, write, acked } of records) {
      if (this.queue.some((entry) => entry.key === key)) continue;
      const entry: Entry = { key, write, state: acked ? "acked" : "queued", overtaken: 0, ...(acked ? { acked } : {}) };
      if (write.kind === "add" && write.input.t === "f" && write.input.h === undefined) {
        const line: Line = {
          ...{ id: write.input.id, pen: { c: write.input.c, sw: write.input.sw }, parts: [write.input.d], open: [] },
          ...{ last: undefined, bytes: 0, bounds: undefined, appends: 0, tail: undefined, drawing: false },
          refused: false,
        };
        this.setBox(line, write.input.b);
        this.lines.set(line.id, line);
        entry.line = line;
      } else if (write.kind === "append") {
        const line = this.lines.get(write.input.i);
        if (line) {
          line.parts.push(write.input.d);
          line.appends = Math.max(line.appends, write.input.n);
          this.setBox(line, write.input.b);
          entry.line = line;
        }
      }
      restored.push(entry);
    }
    this.queue = [...restored, ...this.queue];
  }

  /** The points of a line as drawn so far (sealed writes and the open one), `d` of the protocol. */
  pointsOf(line: Line): string {
    return line.parts.join("") + (line.open.length > 0 ? encodeSamples(line.open, line.last) : "");
  }

  boxOf(line: Line): [number, number, number, number] {
    return box(line.bounds);
  }

  /** A new line from `sample`; `inStroke`: the stroke being drawn continues in it. */
  private startLine(sample: Sample, pen: Pen, inStroke = true): Line {
    const id = this.options.newId();
    const line: Line = {
      ...{ id, pen, parts: [], open: [], last: undefined, bytes: 0, bounds: undefined, appends: 0 },
      ...{ tail: undefined, drawing: inStroke, refused: false },
    };
    this.lines.set(id, line);
    if (inStroke) this.stroke?.ids.push(id);
    const entry = this.push({
      kind: "add",
      input: { id, t: "f", b: [0, 0, 0, 0], c: pen.c, sw: pen.sw, f: "", d: "" },
    });
    entry.line = line;
    line.tail = entry;
    this.take(line, sample);
    this.keep(entry);
    return line;
  }

  /** A sample into the line's open write, or into a new append when that one is sent or full. */
  private take(line: Line, sample: Sample): void {
    if (!line.tail || line.tail.state !== "queued" || line.open.length >= this.options.maxPointsPerWrite) {
      if (line.tail) this.seal(line.tail);
      line.appends += 1;
      const input: AppendInput = { i: line.id, n: line.appends, d: "", b: [0, 0, 0, 0] };
      const entry = this.push({ kind: "append", input });
      entry.line = line;
      line.tail = entry;
    }
    line.bytes += encodeSamples([sample], lastPoint(line)).length;
    line.open.push(sample);
    line.bounds = grow(line.bounds, sample);
    this.refreshTail(line);
  }

  /** The open write as it would go now: kept in the store on every change, so a reload loses no sample. */
  private refreshTail(line: Line): void {
    const entry = line.tail;
    if (!entry) return;
    const d = encodeSamples(line.open, line.last);
    const b = box(line.bounds);
    if (entry.write.kind === "add") entry.write = { kind: "add", input: { ...entry.write.input, d, b } };
    else if (entry.write.kind === "append") entry.write = { kind: "append", input: { ...entry.write.input, d, b } };
  }

  /** Closes a line's open write: later samples go into a new append. */
  private seal(entry: Entry): void {
    const line = entry.line;
    if (!line || line.tail !== entry) return;
    this.refreshTail(line);
    line.parts.push(entry.write.kind === "add" || entry.write.kind === "append" ? entry.write.input.d : "");
    const lastSample = line.open.at(-1);
    if (lastSample) line.last = [lastSample[0], lastSample[1]];
    line.open = [];
    line.tail = undefined;
    this.keep(entry);
  }

  private finish(line: Line): void {
    if (line.tail) this.seal(line.tail);
    line.drawing = false;
  }

  private setBox(line: Line, [x, y, w, h]: readonly number[]): void {
    line.bounds = {
      minX: x as number,
      minY: y as number,
      maxX: (x as number) + (w as number),
      maxY: (y as number) + (h as number),
    };
  }

  private push(write: PendingWrite): Entry {
    this.counter += 1;
    const entry: Entry = {
      key: `${this.options.pageId}.${String(this.counter).padStart(10, "0")}`,
      write,
      state: "queued",
      overtaken: 0,
    };
    this.queue.push(entry);
    this.keep(entry);
    return entry;
  }

  private keep(entry: Entry | undefined): void {
    if (!entry) return;
    this.options.store.put(this.options.board, {
      key: entry.key,
      write: entry.write,
      ...(entry.acked ? { acked: entry.acked } : {}),
    });
  }

  private drop(entry: Entry): void {
    const index = this.queue.indexOf(entry);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.options.store.delete(this.options.board, entry.key);
  }

  /** Forgets lines no longer drawn with no write left. */
  private dropDoneLines(): void {
    for (const [id, line] of this.lines) {
      if (line.drawing && !line.refused) continue;
      if (!this.queue.some((entry) => entry.line === line)) this.lines.delete(id);
    }
  }
}
