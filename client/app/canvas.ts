/**
 * The stage as interaction sees it (./overlays.ts's BoardCanvas): the viewport, which pan and zoom change, mapped onto
 * the board view's placement; the session's changes passed on as elements to put or remove; and the overlays split
 * between the board view (previews are drawn as its pending elements, hidden elements are taken off its ink while a
 * move, an eraser gesture or the text editor stands in for them) and a canvas of this module's own, the selection's
 * chrome (outlines, bounds, handles, the box of a box selection), which is interaction's, not the ink's.
 */
import type { ElementRecord } from "../../protocol/events";
import type { BoardChange } from "../core/session-api";
import { Viewport } from "../core/viewport";
import type { BoardView } from "./board-view";
import { HANDLE_PX, type BoardCanvas, type Overlays } from "./overlays";

export interface StageCanvasDeps {
  stage: HTMLElement;
  /** The canvas the selection's chrome is drawn on, above the board view's. */
  chrome: HTMLCanvasElement;
  view: BoardView;
  elements(): readonly ElementRecord[];
  element(id: string): ElementRecord | undefined;
  overlays(): Overlays;
  /** After every pan, zoom or resize: whatever else follows the board on screen (cursors, the text editor). */
  onViewChange(): void;
}

export class StageCanvas implements BoardCanvas {
  readonly viewport = new Viewport();
  private readonly chrome: CanvasRenderingContext2D;
  /** What the board view's ink leaves out now (see `overlaysChanged`). */
  private hidden = new Set<string>();
  private previews: readonly ElementRecord[] = [];
  private frame: number | undefined;

  constructor(private readonly deps: StageCanvasDeps) {
    const chrome = deps.chrome.getContext("2d");
    if (!chrome) throw new Error("this browser has no 2D canvas");
    this.chrome = chrome;
    // The observer reports the stage's size once it is laid out, after the page's script has set everything up.
    new ResizeObserver(() => this.fit()).observe(deps.stage);
  }

  /** Previews drawn above the board (the board view's pending elements). */
  pending(): readonly ElementRecord[] {
    return this.previews;
  }

  /** The session changed what the page shows. */
  changed(change: BoardChange): void {
    const { view } = this.deps;
    if (change.all) {
      view.redraw();
      // The board view redrew everything, what is hidden included: take it off again.
      if (this.hidden.size > 0) view.remove([...this.hidden]);
    } else {
      const put: ElementRecord[] = [];
      const gone: string[] = [];
      for (const id of change.ids) {
        const element = this.deps.element(id);
        if (element && !this.hidden.has(id)) put.push(element);
        else gone.push(id);
      }
      view.put(put);
      view.remove(gone);
    }
    this.overlaysChanged();
  }

  viewChanged(): void {
    const [x, y] = this.viewport.toScreen(0, 0);
    this.deps.view.place({ scale: this.viewport.scale, x, y });
    this.deps.onViewChange();
    this.overlaysChanged();
  }

  overlaysChanged(): void {
    const overlays = this.deps.overlays();
    const { view } = this.deps;
    const unhidden = [...this.hidden].filter((id) => !overlays.hidden.has(id));
    const newly = [...overlays.hidden].filter((id) => !this.hidden.has(id));
    this.hidden = new Set(overlays.hidden);
    if (newly.length > 0) view.remove(newly);
    const back = unhidden.flatMap((id) => this.deps.element(id) ?? []);
    if (back.length > 0) view.put(back);
    this.previews = overlays.previews;
    view.pendingChanged();
    view.showEraser(overlays.eraser && [overlays.eraser.x, overlays.eraser.y], overlays.eraser?.reach ?? 0);
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.drawChrome();
    });
  }

  stagePoint(event: { clientX: number; clientY: number }): [x: number, y: number] {
    const rect = this.deps.stage.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  private fit(): void {
    const { clientWidth, clientHeight } = this.deps.stage;
    this.viewport.resize(clientWidth, clientHeight);
    this.deps.chrome.width = Math.max(1, Math.round(clientWidth * devicePixelRatio));
    this.deps.chrome.height = Math.max(1, Math.round(clientHeight * devicePixelRatio));
    this.viewChanged();
  }

  /** The selection's outlines, bounds and handles, and the box of a box selection, in screen pixels. */
  private drawChrome(): void {
    const ctx = this.chrome;
    const ratio = devicePixelRatio;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const { selection, marquee } = this.deps.overlays();
    const accent = getComputedStyle(this.deps.stage).getPropertyValue("--accent").trim() || "#1a73e8";
    const box = (rect: { minX: number; minY: number; maxX: number; maxY: number }) => {
      const [left, top] = this.viewport.toScreen(rect.minX, rect.minY);
      const [right, bottom] = this.viewport.toScreen(rect.maxX, rect.maxY);
      return [left, top, right - left, bottom - top] as const;
    };
    ctx.strokeStyle = accent;
    ctx.lineWidth = 1;
    if (selection) {
      for (const outline of selection.outlines) ctx.strokeRect(...box(outline));
      if (selection.outlines.length > 1) {
        ctx.setLineDash([4, 3]);
        ctx.strokeRect(...box(selection.bounds));
        ctx.setLineDash([]);
      }
      ctx.fillStyle = "#ffffff";
      for (const handle of selection.handles) {
        const [x, y] = this.viewport.toScreen(handle.x, handle.y);
        ctx.fillRect(x - HANDLE_PX / 2, y - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX);
        ctx.strokeRect(x - HANDLE_PX / 2, y - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX);
      }
    }
    if (marquee) {
      ctx.globalAlpha = 0.12;
      ctx.fillStyle = accent;
      ctx.fillRect(...box(marquee));
      ctx.globalAlpha = 1;
      ctx.strokeRect(...box(marquee));
    }
  }
}
