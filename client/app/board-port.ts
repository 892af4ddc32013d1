/**
 * What the page's interaction needs from the board it edits: the elements to hit and select, and the writes a
 * gesture makes, each one undoable action. client/app/session-port.ts implements it over client-core's session and
 * history; the tools, the selection and the text editor know only this, so they stay testable and independent of
 * how the session stores, sends and heals.
 */
import type { ElementInput, ElementPatch, ElementRecord, ErrorAck, WriteAck } from "../../protocol/events";
import type { Sample } from "../../protocol/points";

/** Colour and width (or font size) and fill of what a tool makes. */
export interface Style {
  /** Stroke or text colour, `#rrggbb`. */
  c: string;
  /** Stroke width, CSS pixels at 100% (1..64); for text and notes the font size (8..256). */
  sw: number;
  /** Fill colour or "" (rectangles, ellipses, notes). */
  f: string;
}

/** A freehand line while it is drawn: its samples go out as they come (others see it live), in board units. */
export interface LineDraft {
  readonly id: string;
  extend(samples: readonly Sample[]): void;
  /** Pen up: the line becomes one undoable action. */
  end(): void;
}

/**
 * A new element as the page makes it, of any kind (a pasted or imported freehand line with its points); the
 * session makes its id.
 */
export type NewElement = Pick<ElementInput, "t" | "b" | "c" | "sw" | "f" | "d">;

/** An edit: a patch per element, `o` 1 or -1 to bring it to the front or send it to the back. */
export type Edit = [id: string, patch: ElementPatch & { o?: 1 | -1 }][];

export type UndoOutcome = { ok: true; kind: string } | ErrorAck;

export interface BoardPort {
  /** Whether this page may write (false on a view-only link, or until the join says). */
  readonly canEdit: boolean;
  /** This user's id, as the service derived it (the `u` of their elements); "" before the join. */
  readonly userId: string;
  /** The visible elements in stacking order, bottom first, this page's own not yet stored ones included. */
  elements(): readonly ElementRecord[];
  /** A visible element by id. */
  element(id: string): ElementRecord | undefined;

  /** Pen down: a new freehand line starting with `first`. */
  beginLine(first: Sample, style: Pick<Style, "c" | "sw">): LineDraft;
  /** New elements (a shape, a text, a note, a paste, an import, a duplicate): one undoable action. Their ids. */
  create(elements: readonly NewElement[]): string[];
  /** Changes elements (a move of many is one edit, one operation): one undoable action. */
  edit(edit: Edit): void;
  /** Hides elements (delete, an eraser gesture): one undoable action. */
  erase(ids: readonly string[]): void;
  /** Clears the board for everyone (undoable by anyone for a while). */
  clear(): Promise<WriteAck>;

  readonly canUndo: boolean;
  readonly canRedo: boolean;
  undo(): Promise<UndoOutcome>;
  redo(): Promise<UndoOutcome>;
}
