/**
 * What the page does to the selection and the view from a key, a button or the menu: delete, duplicate, copy, cut
 * and paste through the system clipboard (JSON of the elements, ./transfer.ts, so a paste works on another board),
 * bring to front or send to back, restyle, select all, zoom to fit the content or the selection, and export and
 * import the board as a file of its elements.
 */
import type { ElementPatch, ElementRecord } from "../../protocol/events";
import type { BoardPort } from "./board-port";
import { boundsOf } from "../core/element-geometry";
import type { BoardCanvas } from "./overlays";
import type { Selection } from "./selection";
import { centreOf, copiesOf, parseTransfer, toTransfer, type TransferElement } from "./transfer";

/** A duplicate lands this far from its original, CSS pixels on screen. */
const DUPLICATE_OFFSET_PX = 16;
/** Zooming to a selection enlarges it up to this zoom (a small note fills the screen no more than this). */
const SELECTION_MAX_ZOOM = 4;

export interface CommandsDeps {
  board: BoardPort;
  selection: Selection;
  canvas: BoardCanvas;
  notify(message: string): void;
  /** The download's name, without extension. */
  fileName: string;
}

export class Commands {
  constructor(private readonly deps: CommandsDeps) {}

  /** The selected elements in stacking order, bottom first. */
  private selected(): ElementRecord[] {
    const { board, selection } = this.deps;
    return board.elements().filter((element) => selection.has(element.i));
  }

  deleteSelection(): void {
    const ids = this.selected().map((element) => element.i);
    if (ids.length === 0 || !this.deps.board.canEdit) return;
    this.deps.board.erase(ids);
    this.deps.selection.clear();
  }

  duplicate(): void {
    const offset = DUPLICATE_OFFSET_PX / this.deps.canvas.viewport.scale;
    this.place(toTransfer(this.selected()).elements, offset, offset);
  }

  selectAll(): void {
    this.deps.selection.set(this.deps.board.elements().map((element) => element.i));
  }

  /** The selection as clipboard text, or undefined when nothing is selected. */
  copyText(): string | undefined {
    const selected = this.selected();
    return selected.length === 0 ? undefined : JSON.stringify(toTransfer(selected));
  }

  /** A `copy` or `cut` event (Ctrl+C, Ctrl+X, the browser's menu) while nothing else has the focus. */
  copyEvent(event: ClipboardEvent, cut: boolean): void {
    const text = this.copyText();
    if (!text || !event.clipboardData) return;
    event.clipboardData.setData("text/plain", text);
    event.preventDefault();
    if (cut) this.deleteSelection();
  }

  /** The menu's Copy: the async clipboard (a button press is not a copy event). */
  async copyToClipboard(cut: boolean): Promise<void> {
    const text = this.copyText();
    if (!text) return this.deps.notify("Select something to copy first.");
    try {
      await navigator.clipboard.writeText(text);
      if (cut) this.deleteSelection();
    } catch {
      this.deps.notify("The browser did not allow copying: use Ctrl+C (⌘C).");
    }
  }

  /** The menu's Paste. */
  async pasteFromClipboard(): Promise<void> {
    try {
      this.paste(await navigator.clipboard.readText());
    } catch {
      this.deps.notify("The browser did not allow pasting: use Ctrl+V (⌘V).");
    }
  }

  /** Pastes clipboard text: elements copied from a board go in, centred in the view, and become the selection. */
  paste(text: string): void {
    const elements = parseTransfer(text);
    if (typeof elements === "string") return this.deps.notify(`Nothing pasted: ${elements}.`);
    const [cx, cy] = centreOf(elements);
    const [vx, vy] = this.deps.canvas.viewport.center;
    this.place(elements, vx - cx, vy - cy);
  }

  /** Brings the selection to the front (1) or sends it to the back (-1), keeping its own order. */
  restack(direction: 1 | -1): void {
    const selected = this.selected();
    // The store moves each one in turn to the front (or back): the last one moved ends outermost.
    const ordered = direction === 1 ? selected : selected.reverse();
    this.deps.board.edit(ordered.map((element) => [element.i, { o: direction }]));
  }

  /** A new colour, width or fill for the selection: what applies to each element's kind. */
  restyle(style: { c?: string; sw?: number; fontSize?: number; f?: string }): void {
    const edit = this.selected().flatMap((element): [string, ElementPatch][] => {
      const text = element.t === "t" || element.t === "n";
      const patch: ElementPatch = {};
      if (style.c !== undefined && style.c !== element.c) patch.c = style.c;
      if (!text && style.sw !== undefined && style.sw !== element.sw) patch.sw = style.sw;
      if (text && style.fontSize !== undefined && style.fontSize !== element.sw) patch.sw = style.fontSize;
      const fillable = element.t === "r" || element.t === "e" || element.t === "n";
      if (fillable && style.f !== undefined && style.f !== element.f && (element.t !== "n" || style.f !== ""))
        patch.f = style.f;
      return Object.keys(patch).length > 0 ? [[element.i, patch]] : [];
    });
    if (edit.length > 0) this.deps.board.edit(edit);
  }

  /** Shows everything on the board (no closer than 100%), or the origin of an empty one. */
  zoomToFit(): void {
    const { viewport } = this.deps.canvas;
    const content = boundsOf(this.deps.board.elements());
    if (content) viewport.fit(content, 1);
    else viewport.reset();
    this.deps.canvas.viewChanged();
  }

  zoomToSelection(): void {
    const bounds = this.deps.selection.bounds();
    if (!bounds) return this.zoomToFit();
    this.deps.canvas.viewport.fit(bounds, SELECTION_MAX_ZOOM);
    this.deps.canvas.viewChanged();
  }

  /** Downloads the board's visible elements as a file that Import reads back (here or on another board). */
  exportFile(): void {
    const text = JSON.stringify(toTransfer(this.deps.board.elements()));
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${this.deps.fileName}.json`;
    link.click();
    // The click starts the download at once; the URL is released once the browser has read it.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** Adds a file's elements as new ones, where they were on the board they came from, and shows them. */
  async importFile(file: File): Promise<void> {
    const elements = parseTransfer(await file.text());
    if (typeof elements === "string") return this.deps.notify(`Nothing imported from ${file.name}: ${elements}.`);
    if (elements.length === 0) return this.deps.notify(`${file.name} holds no elements.`);
    const ids = this.place(elements, 0, 0);
    this.deps.notify(`Imported ${ids.length} element${ids.length === 1 ? "" : "s"} from ${file.name}.`);
    this.zoomToSelection();
  }

  /** Adds copies of travelling elements moved by (dx, dy) and selects them. */
  private place(elements: readonly TransferElement[], dx: number, dy: number): string[] {
    if (elements.length === 0 || !this.deps.board.canEdit) return [];
    const ids = this.deps.board.create(copiesOf(elements, dx, dy));
    this.deps.selection.set(ids);
    return ids;
  }
}
