/**
 * Undo and redo of one user's own actions on elements: adding (a line, a shape, a paste), erasing or deleting
 * (anyone's elements), editing (moving, resizing, restyling, retyping), clearing.
 *
 * The history is not a copy of the drawing: every undo and redo is a new write in the board's log (`erase`,
 * `restore`, `edit`, `unclear`, `clear`), so it reaches every page on every instance, survives reconnects and
 * reloads (the outbox keeps it), and is applied by the store in order with everyone else's. An action remembers
 * which elements it touched (and, for an edit, the values it replaced); what to send is worked out when it is undone
 * or redone, from what the page shows then, so an undo never fights a later change by someone else: an element
 * someone else already erased is left alone, and an action that changes nothing any more is skipped.
 *
 * Undo never touches someone else's element, except to bring back what this user's own eraser removed or to put
 * back the fields this user's own edit changed.
 *
 * The user is `you.id` from the join's answer, so every page of the same user (another tab, a reload) sees the same
 * elements as its own: a line drawn in another tab joins this page's stack as it arrives (`observe`), and after a
 * reload the stack is rebuilt from this user's visible elements, most recent on top (`recall`). Erasures, edits and
 * clears made before a reload are not in the board's elements and cannot be undone (a clear can still be undone
 * from the offer everyone sees for a while).
 */
import type { EditRequest, ElementPatch, ElementRecord, ErrorAck, WriteAck, You } from "../../protocol/events";
import type { BoardChange } from "./session-api";

/** What the history acts on: a WhiteboardSession, or a stand-in in tests. */
export interface HistoryTarget {
  readonly you: You | undefined;
  /** A visible element as the page shows it (its own unacknowledged writes applied), or undefined. */
  element(id: string): ElementRecord | undefined;
  /** Visible elements in stacking order. */
  elements(): readonly ElementRecord[];
  erase(ids: readonly string[]): void;
  restore(ids: readonly string[]): void;
  edit(x: EditRequest["x"]): void;
  clear(): Promise<WriteAck>;
  unclear(of: number): Promise<WriteAck>;
}

/** A patch as an edit request carries it: fields, and `o` to bring to the front (1) or send to the back (-1). */
type EditPatch = EditRequest["x"][number][1];

export type Action =
  /** Elements this user added in one go (a line, which may be several elements past the points limit; a paste). */
  | { kind: "draw"; ids: string[] }
  /** Elements (anyone's) this user's eraser hid in one gesture, or a delete of a selection. */
  | { kind: "erase"; ids: string[] }
  /** An edit of this user's: per element, the values it replaced and the ones it set. */
  | { kind: "edit"; changes: { id: string; before: EditPatch; after: EditPatch }[] }
  /** A clear this user made, by its seq. */
  | { kind: "clear"; s: number };

/** What an undo or redo did: the action's kind, nothing (the stack held nothing doable), or the refusal. */
export type Outcome = { ok: true; kind: Action["kind"] | "nothing" } | ErrorAck;

/** One eraser gesture (pointer down to up): everything it hides is one undoable action. */
export interface EraseGesture {
  /** Hides these elements; returns those it hid (visible ones not hidden before in this gesture). */
  erase(ids: Iterable<string>): string[];
}

/** Deep enough for a session's work; older actions fall off the bottom. */
export const HISTORY_DEPTH = 500;

const PATCH_FIELDS = ["x", "y", "w", "h", "c", "sw", "f", "d"] as const;

/** The values `patch` would replace on `record`. Stacking cannot be set back exactly (see `reversed`). */
function previous(record: ElementRecord, patch: EditPatch): EditPatch {
  const before: ElementPatch & { o?: 1 | -1 } = {};
  for (const field of PATCH_FIELDS) if (patch[field] !== undefined) Object.assign(before, { [field]: record[field] });
  if (patch.o !== undefined) before.o = patch.o === 1 ? -1 : 1;
  return before;
}

export class History {
  private readonly undoStack: Action[] = [];
  private readonly redoStack: Action[] = [];
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

  /** This user added elements (the ids `session.end()` or `session.create()` returned). */
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

  /** Deletes elements (a selection): one action. */
  remove(ids: Iterable<string>): void {
    const hidden = this.hide(ids);
    if (hidden.length > 0) this.push({ kind: "erase", ids: hidden });
  }

  /** Edits visible elements, remembering the values each edit replaces. */
  edit(x: EditRequest["x"]): void {
    const changes: Extract<Action, { kind: "edit" }>["changes"] = [];
    for (const [id, after] of x) {
      const record = this.target.element(id);
      if (record) changes.push({ id, before: previous(record, after), after });
    }
    if (changes.length === 0) return;
    this.target.edit(changes.map(({ id, after }) => [id, after]));
    this.push({ kind: "edit", changes });
  }

  /**
   * What the session applied: elements this user created on another page (another tab) join the stack as they
   * arrive, so they can be undone here without a reload.
   */
  observe(change: BoardChange): void {
    const you = this.target.you?.id;
    if (!you) return;
    const tracked = this.tracked();
    for (const record of change.created)
      if (record.u === you && !tracked.has(record.i)) this.push({ kind: "draw", ids: [record.i] });
  }

  /** The clear at seq `of` was undone (by anyone, from anywhere): it is no longer this user's to undo. */
  clearUndone(of: number): void {
    const index = this.undoStack.findIndex((action) => action.kind === "clear" && action.s === of);
    if (index >= 0) this.undoStack.splice(index, 1);
    this.onChange();
  }

  /**
   * The store lost writes and the board took a new epoch: seqs now name other operations, so this user's clears
   * can no longer be undone by their seq (`unclear` of an old seq could undo someone else's newer clear).
   */
  epochChanged(): void {
    for (let index = this.undoStack.length - 1; index >= 0; index -= 1)
      if (this.undoStack[index]?.kind === "clear") this.undoStack.splice(index, 1);
    this.onChange();
  }

  /**
   * Rebuilds the stack after a reload from this user's visible elements: one action each, the most recently
   * created on top, beneath whatever was done since the page opened.
   */
  recall(): void {
    const you = this.target.you?.id;
    if (!you) return;
    const tracked = this.tracked();
    const recalled = this.target
      .elements()
      .filter((record) => record.u === you && !tracked.has(record.i))
      .sort((a, b) => a.s - b.s)
      .map((record): Action => ({ kind: "draw", ids: [record.i] }));
    const room = HISTORY_DEPTH - this.undoStack.length;
    if (room > 0) this.undoStack.unshift(...recalled.slice(-room));
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

  private tracked(): Set<string> {
    const tracked = new Set<string>();
    for (const action of [...this.undoStack, ...this.redoStack])
      if (action.kind === "draw" || action.kind === "erase") for (const id of action.ids) tracked.add(id);
    return tracked;
  }

  private serially(run: () => Promise<Outcome>): Promise<Outcome> {
    const result = this.running.then(run).finally(this.onChange);
    this.running = result.catch(() => undefined);
    return result;
  }

  /**
   * Takes actions off `from` until one changes something, applies it in `direction`, and moves it to `to`.
   * An action that changes nothing any more (its elements were erased or cleared by someone) is dropped.
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
      if (action.kind === "edit") {
        const x: EditRequest["x"] = [];
        for (const { id, before, after } of action.changes)
          if (this.target.element(id)) x.push([id, direction === "undo" ? before : after]);
        if (x.length === 0) continue;
        this.target.edit(x);
        to.push(action);
        return { ok: true, kind: "edit" };
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

  /** Hides those of `ids` that are shown; returns them. */
  private hide(ids: Iterable<string>): string[] {
    const shown = [...new Set(ids)].filter((id) => this.target.element(id) !== undefined);
    if (shown.length > 0) this.target.erase(shown);
    return shown;
  }

  /** Shows those of `ids` that are not shown; returns them. */
  private show(ids: Iterable<string>): string[] {
    const hidden = [...new Set(ids)].filter((id) => this.target.element(id) === undefined);
    if (hidden.length > 0) this.target.restore(hidden);
    return hidden;
  }
}
