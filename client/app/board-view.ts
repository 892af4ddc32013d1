/**
 * Draws the board at the current pan and zoom on canvases that fill the stage, in device pixels, so lines are
 * sharp at any zoom and on any screen:
 * - `ink` holds the stored strokes, painted by ./ink.ts: in a worker on an OffscreenCanvas where the browser
 *   allows it (rasterizing a large board then runs beside the page's reading and applying it), else here.
 *   Snapshot pages come newest first and are drawn underneath what is shown, a frame at a time: the most recent
 *   strokes show at once, and a large board fills in below them without freezing the page.
 * - `overlay` holds this user's strokes not stored yet and the eraser's reach: small, redrawn here when they change.
 * A white paper element under both marks the board itself.
 */
import type { StrokeRecord } from "../../protocol/events";
import type { Applied } from "../core/board-state";
import type { Drawable } from "../core/stroke-geometry";
import { Viewport } from "../core/viewport";
import { createInk, type Ink, type InkEvent } from "./ink";
import { drawStrokes } from "./render";

/** How long out-of-order strokes may sit on top before the stacking is redrawn right. */
const SETTLE_MS = 300;
/** The eraser's outline, CSS pixels wide. */
const RING_WIDTH = 1.5;
/** The marker the ink answers once the caught-up board is drawn. */
const COMPLETE = 1;

export interface BoardSource {
  /** Visible stored strokes, in seq order. */
  strokes(): readonly StrokeRecord[];
  /** This user's strokes not stored yet, oldest first. */
  pending(): readonly Drawable[];
}

export interface ViewElements {
  stage: HTMLElement;
  paper: HTMLElement;
  ink: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
}

/**
 * Milliseconds since navigation start (the page's performance.now()) at which the catch-up reached the screen. The
 * ink's times are the start of the frame after the one that drew: by then the canvas has rasterized that frame.
 */
export interface PaintTimes {
  /** After the first frame that drew strokes: with snapshots newest first, the most recent ones. */
  firstPaintMs?: number;
  /** When the session had read and applied the whole board (`boardComplete`): what is left after it is drawing. */
  caughtUpMs?: number;
  /** After the frame that drew the last of the board as it stood when caught up. */
  fullyDrawnMs?: number;
}

export class BoardView {
  readonly viewport = new Viewport();
  private readonly ink: Ink;
  private readonly overlay: CanvasRenderingContext2D;
  private frame: number | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private eraser: { at: readonly [number, number]; reach: number } | undefined;
  private readonly times: PaintTimes = {};
  private readonly rowQueries = new Map<number, (ink: boolean) => void>();
  private nextRowQuery = 0;

  constructor(
    private readonly elements: ViewElements,
    private readonly source: BoardSource,
    /** Called after every pan, zoom or resize, for whatever else follows the board on screen. */
    private readonly onViewChange: () => void,
    /** The ink worker's script (see client/build.mjs); without one, the ink is painted on this thread. */
    inkWorkerUrl?: string,
  ) {
    this.ink = createInk(elements.ink, inkWorkerUrl, (event) => this.inkEvent(event));
    this.overlay = context(elements.overlay);
    new ResizeObserver(() => this.fit()).observe(elements.stage);
    this.watchPixelRatio();
  }

  get paintTimes(): Readonly<PaintTimes> {
    return this.times;
  }

  /** What the session applied: draw it where it belongs. */
  apply(applied: Applied): void {
    if (applied.redraw) return this.invalidate();
    if (applied.added.length > 0) this.ink.add(applied.added, applied.placement);
    // Strokes from different instances arrived out of order: restack once the burst is over.
    if (applied.placement === "mixed") this.invalidateSoon();
    this.pendingChanged(); // a stroke stored leaves the overlay
  }

  /** Draws every visible stroke again (strokes disappeared, or the stacking must be put right). */
  invalidate(): void {
    clearTimeout(this.settleTimer);
    this.ink.replace(this.source.strokes());
    this.pendingChanged();
  }

  /** The overlay's strokes changed. */
  pendingChanged(): void {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.drawOverlay();
    });
  }

  /** Shows the eraser's reach around a board point, or hides it. */
  showEraser(at: readonly [number, number] | undefined, reach = 0): void {
    this.eraser = at && { at, reach };
    this.pendingChanged();
  }

  /** The session has caught up: the ink reports when what it holds now is drawn. */
  boardComplete(): void {
    this.times.caughtUpMs ??= performance.now();
    this.ink.mark(COMPLETE);
  }

  /** Whether the ink canvas has any ink along the board's row at `fraction` of its height (for tests). */
  inkAt(fraction: number): Promise<boolean> {
    const { top, height } = this.viewport.boardOnScreen();
    const id = this.nextRowQuery++;
    return new Promise((resolve) => {
      this.rowQueries.set(id, resolve);
      this.ink.row(id, Math.round((top + fraction * height) * devicePixelRatio));
    });
  }

  zoomAt(screenX: number, screenY: number, factor: number): void {
    this.viewport.zoomAt(screenX, screenY, factor);
    this.viewChanged();
  }

  panBy(dx: number, dy: number): void {
    this.viewport.panBy(dx, dy);
    this.viewChanged();
  }

  resetView(): void {
    this.viewport.reset();
    this.viewChanged();
  }

  /** A CSS-pixel position in the stage for a pointer event. */
  stagePoint(event: { clientX: number; clientY: number }): [x: number, y: number] {
    const rect = this.elements.stage.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  private inkEvent(event: InkEvent): void {
    // The ink's times are absolute (it may run in a worker, whose clock starts elsewhere).
    const ms = (at: number) => at - performance.timeOrigin;
    switch (event.kind) {
      case "painted":
        this.times.firstPaintMs ??= ms(event.at);
        break;
      case "idle":
        if (event.marker === COMPLETE) this.times.fullyDrawnMs ??= ms(event.at);
        break;
      case "row":
        this.rowQueries.get(event.id)?.(event.ink);
        this.rowQueries.delete(event.id);
        break;
    }
  }

  private invalidateSoon(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.invalidate(), SETTLE_MS);
  }

  private viewChanged(): void {
    this.placePaper();
    this.onViewChange();
    const scale = this.viewport.scale * devicePixelRatio;
    const [left, top] = this.viewport.toScreen(0, 0);
    const { width, height } = this.viewport.size;
    this.ink.view({
      width: Math.max(1, Math.round(width * devicePixelRatio)),
      height: Math.max(1, Math.round(height * devicePixelRatio)),
      scale,
      left: left * devicePixelRatio,
      top: top * devicePixelRatio,
      visible: this.viewport.visible(),
    });
    this.pendingChanged();
  }

  /** A change of devicePixelRatio (browser zoom, another screen) needs new canvas pixels too. */
  private watchPixelRatio(): void {
    matchMedia(`(resolution: ${devicePixelRatio}dppx)`).addEventListener(
      "change",
      () => {
        this.fit();
        this.watchPixelRatio();
      },
      { once: true },
    );
  }

  private fit(): void {
    const { clientWidth, clientHeight } = this.elements.stage;
    this.viewport.resize(clientWidth, clientHeight);
    const canvas = this.elements.overlay;
    canvas.width = Math.max(1, Math.round(clientWidth * devicePixelRatio));
    canvas.height = Math.max(1, Math.round(clientHeight * devicePixelRatio));
    this.viewChanged();
  }

  /** The paper follows the board; styles go through the CSSOM (the Content-Security-Policy allows no inline style). */
  private placePaper(): void {
    const { left, top, width, height } = this.viewport.boardOnScreen();
    Object.assign(this.elements.paper.style, {
      left: `${left}px`,
      top: `${top}px`,
      width: `${width}px`,
      height: `${height}px`,
    });
  }

  private drawOverlay(): void {
    const ctx = this.overlay;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    const scale = this.viewport.scale * devicePixelRatio;
    const [left, top] = this.viewport.toScreen(0, 0);
    ctx.setTransform(scale, 0, 0, scale, left * devicePixelRatio, top * devicePixelRatio);
    drawStrokes(ctx, this.source.pending(), { pixel: 1 / scale, visible: this.viewport.visible() });
    if (this.eraser) {
      ctx.beginPath();
      ctx.arc(this.eraser.at[0], this.eraser.at[1], this.eraser.reach, 0, 2 * Math.PI);
      ctx.lineWidth = RING_WIDTH / this.viewport.scale;
      ctx.strokeStyle = "#5f6368";
      ctx.stroke();
    }
  }
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  return ctx;
}
