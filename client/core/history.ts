/**
 * Undo and redo of one user's own actions: a drawn line, an eraser gesture, a clear.
 *
 * The history is not a copy of the drawing: every undo and redo is an operation in the board's log (`erase`,
 * `restore`, `unclear`, `clear`), so it reaches every page on every instance, survives reconnects, and is
 * idempotent. An action remembers only which strokes it touched; the versions to send are worked out when it
 * is undone or redone, from the board as it stands (`versionOf`) and from what this page last asked for, so an
 * undo never fights a later change by someone else: a stroke someone else already hid is left alone.
 *
 * Undo never touches someone else's stroke, except to bring back what this user's own eraser removed.
 *
 * After a reload the stack is rebuilt from this user's visible strokes, one action per drawn line, most
 * recent on top (`recall`). Eraser gestures and clears made before the reload are not in the board's strokes
 * and cannot be undone (a clear can still be undone from the "Undo clear" offer everyone sees for a while).
 */
import type { ErrorAck, StrokeRecord, UserInfo, WriteAck } from "../../protocol/events";
import { lineOf } from "./lines";

/** What the history acts on: a WhiteboardSession, or a stand-in in tests. */
export interface HistoryTarget {
  readonly user: UserInfo;
  readonly board: { versionOf(id: string): number | undefined; strokes(): readonly StrokeRecord[] };
  erase(x: [id: string, version: number][]): void;
  restore(x: [id: string, version: number][]): void;
  clear(): Promise<WriteAck>;
  unclear(of: number): Promise<WriteAck>;
}

export type Action =
  /** A line this user drew: the ids of its chunks. */
  | { kind: "draw"; ids: string[] }
  /** Strokes (anyone's) this user's eraser hid in one gesture. */
  | { kind: "erase"; ids: string[] }
  /** A clear this user made, by its seq. */
  | { kind: "clear"; s: number };

/** What an undo or redo did: the action's kind, nothing (the stack held nothing doable), or the refusal. */
export type Outcome = { ok: true; kind: Action["kind"] | "nothing" } | ErrorAck;

/** One eraser gesture (pointer down to up): every stroke it hides is one undoable action. */
export interface EraseGesture {
  /** Hides these strokes; returns those it hid (visible ones not hidden before in this gesture). */
  erase(ids: Iterable<string>): string[];
}

/** Deep enough for a session's work; older actions fall off the bottom. */
export const HISTORY_DEPTH = 500;

export class History {
  private readonly undoStack: Action[] = [];
  private readonly redoStack: Action[] = [];
  /** The highest version this page asked for, per stroke: what it will be once the store has it. */
  private readonly asked = new Map<string, number>();
  /** Undo and redo run one after another: a clear's takes a round trip, and order matters. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly target: HistoryTarget,
    /** Called whenever what can be undone or redone may have changed. */
    private readonly onChange: () => void = () => undefined,
  ) {}

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /**
   * Whether this page last asked for the stroke to be hidden: for chunks still on their way to the store, which
   * the board does not hold yet, so that a line undone at once leaves the screen at once.
   */
  hides(id: string): boolean {
    return (this.asked.get(id) ?? 0) % 2 === 1;
  }

  /** This user finished a line (its chunk ids, from `session.end()`). */
  drew(ids: readonly string[]): void {
    if (ids.length > 0) this.push({ kind: "draw", ids: [...ids] });
  }

  /** This user cleared the board; the clear was stored at seq `s`. */
  cleared(s: number): void {
    this.push({ kind: "clear", s });
  }

  /** Starts an eraser gesture. The action joins the stack when it first hides something. */
  startErasing(): EraseGesture {
    let action: Extract<Action, { kind: "erase" }> | undefined;
    return {
      erase: (ids) => {
        const hidden = this.hide(ids);
        if (hidden.length === 0) return hidden;
        if (!action) {
          action = { kind: "erase", ids: [] };
          this.push(action);
        }
        action.ids.push(...hidden);
        return hidden;
      },
    };
  }

  /** The clear at seq `of` was undone (by anyone, from anywhere): it is no longer this user's to undo. */
  clearUndone(of: number): void {
    const index = this.undoStack.findIndex((action) => action.kind === "clear" && action.s === of);
    if (index >= 0) this.undoStack.splice(index, 1);
    this.onChange();
  }

  /**
   * The store lost writes and the board took a new epoch: seqs now name other operations, so this user's clears
   * can no longer be undone by their seq (`unclear` of an old seq could undo someone else's newer clear). What
   * they hid stays hidden (healing hid it again); a clear undone before and on the redo stack can still be redone.
   */
  epochChanged(): void {
    for (let index = this.undoStack.length - 1; index >= 0; index -= 1)
      if (this.undoStack[index]?.kind === "clear") this.undoStack.splice(index, 1);
    this.onChange();
  }

  /**
   * Rebuilds the stack after a reload from this user's visible strokes: one action per line (chunks grouped by
   * line id), ordered by their latest seq, beneath whatever was done since the page opened.
   */
  recall(): void {
    const tracked = new Set<string>();
    for (const action of [...this.undoStack, ...this.redoStack])
      if (action.kind !== "clear") for (const id of action.ids) tracked.add(id);
    const lines = new Map<string, { ids: string[]; top: number }>();
    for (const record of this.target.board.strokes()) {
      if (record.u !== this.target.user.id || tracked.has(record.i)) continue;
      const key = lineOf(record.i);
      const line = lines.get(key) ?? { ids: [], top: 0 };
      line.ids.push(record.i);
      line.top = Math.max(line.top, record.s);
      lines.set(key, line);
    }
    const recalled = [...lines.values()]
      .sort((a, b) => a.top - b.top)
      .map(({ ids }): Action => ({ kind: "draw", ids }));
    this.undoStack.unshift(...recalled.slice(-Math.max(0, HISTORY_DEPTH - this.undoStack.length)));
    this.onChange();
  }

  /** Undoes this user's latest action that still changes something. */
  undo(): Promise<Outcome> {
    return this.serially(() => this.step(this.undoStack, this.redoStack, "undo"));
  }

  /** Redoes the latest undone action. */
  redo(): Promise<Outcome> {
    return this.serially(() => this.step(this.redoStack, this.undoStack, "redo"));
  }

  private serially(run: () => Promise<Outcome>): Promise<Outcome> {
    const result = this.running.then(run).finally(this.onChange);
    this.running = result.catch(() => undefined);
    return result;
  }

  /**
   * Takes actions off `from` until one changes something, applies it in `direction`, and moves it to `to`.
   * An action that changes nothing any more (its strokes were erased or cleared by someone) is dropped.
   */
  private async step(from: Action[], to: Action[], direction: "undo" | "redo"): Promise<Outcome> {
    for (let action = from.pop(); action; action = from.pop()) {
      if (action.kind === "clear") {
        const ack = direction === "undo" ? await this.target.unclear(action.s) : await this.target.clear();
        if (!ack.ok) {
          // A refusal that may pass later keeps the action for another try; a clear that is gone is dropped.
          if (ack.code !== "gone" && ack.code !== "invalid") from.push(action);
          return ack;
        }
        to.push(direction === "undo" ? action : { kind: "clear", s: ack.s });
        return { ok: true, kind: "clear" };
      }
      const hides = (action.kind === "draw") === (direction === "undo");
      if ((hides ? this.hide(action.ids) : this.show(action.ids)).length > 0) {
        to.push(action);
        return { ok: true, kind: action.kind };
      }
    }
    return { ok: true, kind: "nothing" };
  }

  private push(action: Action): void {
    this.undoStack.push(action);
    if (this.undoStack.length > HISTORY_DEPTH) this.undoStack.shift();
    this.redoStack.length = 0;
    this.onChange();
  }

  /**
   * The version a stroke has, or will have once the store takes what this page asked for. A stroke not held yet
   * (a chunk still on its way) counts as version 0: the store keeps a version that comes before its stroke.
   */
  private version(id: string): number {
    return Math.max(this.target.board.versionOf(id) ?? 0, this.asked.get(id) ?? 0);
  }

  /** Hides those of `ids` that are visible; returns them. */
  private hide(ids: Iterable<string>): string[] {
    return this.change(ids, 0, (x) => this.target.erase(x));
  }

  /** Shows those of `ids` that are hidden; returns them. */
  private show(ids: Iterable<string>): string[] {
    return this.change(ids, 1, (x) => this.target.restore(x));
  }

  /** Moves every stroke of `ids` whose version has parity `from` to the next version, in one request. */
  private change(ids: Iterable<string>, from: 0 | 1, send: (x: [string, number][]) => void): string[] {
    const x: [string, number][] = [];
    for (const id of new Set(ids)) {
      const version = this.version(id);
      if (version % 2 !== from) continue;
      x.push([id, version + 1]);
      this.asked.set(id, version + 1);
    }
    if (x.length > 0) send(x);
    return x.map(([id]) => id);
  }
}
