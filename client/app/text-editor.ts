/**
 * Text and notes typed in place: a textarea laid exactly over the element on the canvas (same box, font and line
 * height as the renderer uses, ./overlays.ts), following pan and zoom, wrapping at the element's width. The board
 * view leaves the element out while it is edited. Enter makes a new line; Escape, Ctrl+Enter or a click elsewhere
 * finishes: a new text or note is created with its text (one action), an existing one gets one edit; a text
 * emptied is erased.
 */
import type { ElementRecord } from "../../protocol/events";
import { MAX_TEXT_LENGTH } from "../../protocol/events";
import { decodeText, encodeText } from "../core/text";
import type { BoardPort, Style } from "./board-port";
import { LINE_HEIGHT, NOTE_PADDING, TEXT_FONT_FAMILY, TEXT_PADDING, type BoardCanvas } from "./overlays";
import type { TextTarget } from "./pointer-input";

/** A new text wraps at this width, a new note is this size: CSS pixels on screen at the zoom it is made at. */
const TEXT_WIDTH_PX = 320;
const NOTE_SIZE_PX = 200;

export interface TextEditorDeps {
  stage: HTMLElement;
  canvas: BoardCanvas;
  board: BoardPort;
  /** The style of new text (`sw` the font size) and of new notes. */
  textStyle(): Style;
  noteStyle(): Style;
  /** Which element is being edited changed (the view hides it). */
  changed(): void;
}

/** What is being edited: an existing element, or a new one not created yet (its box in board units). */
interface Editing {
  element: ElementRecord | undefined;
  draft: ElementRecord;
}

export class TextEditor {
  private readonly area: HTMLTextAreaElement;
  private editing: Editing | undefined;

  constructor(private readonly deps: TextEditorDeps) {
    this.area = document.createElement("textarea");
    this.area.className = "text-editor";
    this.area.hidden = true;
    this.area.maxLength = MAX_TEXT_LENGTH;
    this.area.setAttribute("aria-label", "Text");
    this.area.spellcheck = true;
    this.area.addEventListener("input", () => this.fit());
    this.area.addEventListener("blur", () => this.finish());
    this.area.addEventListener("keydown", (event) => {
      if (event.key === "Escape" || (event.key === "Enter" && (event.ctrlKey || event.metaKey))) {
        event.preventDefault();
        this.area.blur();
      }
      // Keys typed here are text: none of them reaches the board's shortcuts.
      event.stopPropagation();
    });
    // Pointer events on the editor are the textarea's own (placing the caret, selecting text).
    this.area.addEventListener("pointerdown", (event) => event.stopPropagation());
    deps.stage.append(this.area);
  }

  /** The id of the element being edited, which the board view leaves out. */
  get editingId(): string | undefined {
    return this.editing?.element?.i;
  }

  get active(): boolean {
    return this.editing !== undefined;
  }

  open(target: TextTarget): void {
    if (this.editing) this.finish();
    if (!this.deps.board.canEdit) return;
    const draft = "element" in target ? target.element : this.newDraft(target.kind, target.at);
    this.editing = { element: "element" in target ? target.element : undefined, draft };
    this.area.value = decodeText(draft.d);
    this.area.classList.toggle("note", draft.t === "n");
    this.area.hidden = false;
    this.reposition();
    this.deps.changed();
    this.area.focus();
    this.area.select();
  }

  /** Pan, zoom or resize: the editor follows its element. */
  reposition(): void {
    const editing = this.editing;
    if (!editing) return;
    const { viewport } = this.deps.canvas;
    const { draft } = editing;
    const [left, top] = viewport.toScreen(draft.x, draft.y);
    const fontPx = draft.sw * viewport.zoom;
    const padding = (draft.t === "n" ? NOTE_PADDING : TEXT_PADDING) * fontPx;
    Object.assign(this.area.style, {
      left: `${left}px`,
      top: `${top}px`,
      width: `${Math.max(draft.w * viewport.scale, fontPx)}px`,
      fontSize: `${fontPx}px`,
      fontFamily: TEXT_FONT_FAMILY,
      lineHeight: String(LINE_HEIGHT),
      padding: `${padding}px`,
      color: draft.c,
      background: draft.t === "n" ? draft.f : "transparent",
    });
    if (draft.t === "n") this.area.style.height = `${draft.h * viewport.scale}px`;
    this.fit();
  }

  /** Finishes editing: the text goes to the board. */
  finish(): void {
    const editing = this.editing;
    if (!editing) return;
    this.editing = undefined;
    const text = this.area.value;
    const height = this.textHeight(editing.draft);
    this.area.hidden = true;
    this.deps.changed();
    const { board } = this.deps;
    const { element, draft } = editing;
    if (!element) {
      if (draft.t === "t" && text.trim() === "") return;
      board.create([
        {
          t: draft.t,
          b: [draft.x, draft.y, draft.w, draft.t === "t" ? height : draft.h],
          c: draft.c,
          sw: draft.sw,
          f: draft.f,
          d: encodeText(text),
        },
      ]);
      return;
    }
    if (element.t === "t" && text.trim() === "") return board.erase([element.i]);
    if (text === decodeText(element.d)) return;
    board.edit([[element.i, { d: encodeText(text), ...(element.t === "t" ? { h: height } : {}) }]]);
  }

  /** A text grows with its lines; a note keeps its size (its text scrolls within it). */
  private fit(): void {
    if (!this.editing || this.editing.draft.t === "n") return;
    this.area.style.height = "auto";
    this.area.style.height = `${this.area.scrollHeight}px`;
  }

  /** The text's height in board units, as typed. */
  private textHeight(draft: ElementRecord): number {
    return Math.max(1, Math.ceil(this.area.scrollHeight / this.deps.canvas.viewport.scale) || draft.h);
  }

  private newDraft(kind: "t" | "n", [x, y]: [number, number]): ElementRecord {
    const { viewport } = this.deps.canvas;
    const style = kind === "n" ? this.deps.noteStyle() : this.deps.textStyle();
    // Sizes as they look on screen now: a note made zoomed out is as big on screen as one made at 100%.
    const sw = Math.max(8, Math.min(256, Math.round(style.sw / viewport.zoom)));
    const width = Math.round((kind === "n" ? NOTE_SIZE_PX : TEXT_WIDTH_PX) / viewport.scale);
    const height = kind === "n" ? width : Math.round((sw * LINE_HEIGHT * viewport.zoom) / viewport.scale);
    // A note is placed centred on the click, a text starts at it.
    const [left, top] = kind === "n" ? [x - width / 2, y - height / 2] : [x, y - height / 2];
    const base = { s: 0, g: 0, o: 0 as const, v: 0, i: "", u: this.deps.board.userId, z: 0, n: 0, d: "", l: 0 };
    return {
      ...base,
      t: kind,
      x: Math.round(left),
      y: Math.round(top),
      w: width,
      h: height,
      c: style.c,
      sw,
      f: style.f,
    };
  }
}
