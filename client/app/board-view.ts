/**
 * Draws the board at the current pan and zoom on canvases that fill the stage, in device pixels, so lines are
 * sharp at any zoom and on any screen:
 * - `ink` holds the stored strokes. Strokes above everything drawn are drawn on top as they arrive. Strokes
 *   below everything drawn (snapshot pages come newest first, and a full redraw goes newest first too) are
 *   drawn underneath with `destination-over`, a slice per frame: the most recent strokes show at once, and a
 *   large board fills in below them without freezing the page.
 * - `overlay` holds this user's strokes not stored yet and the eraser's reach: small, redrawn when they change.
 * A white paper element under both marks the board itself.
 */
import type { StrokeRecord } from "../../protocol/events";
import type { Applied } from "../core/board-state";
import type { Drawable } from "../core/stroke-geometry";
import { Viewport } from "../core/viewport";
import { drawStrokes, type RenderOptions } from "./render";

/** How long out-of-order strokes may sit on top before the stacking is redrawn right. */
const SETTLE_MS = 300;
/**
 * Frames that draw a large board beneath aim at this length: the page stays responsive, and the catch-up's
 * next pages are read in between. The canvas rasterizes after the frame's script, so the cost of drawing shows
 * only in the time between frames: the points drawn per frame follow it.
 */
const TARGET_FRAME_MS = 33;
const POINTS_PER_FRAME = { first: 20_000, least: 2_000, most: 2_000_000 };
/** Strokes drawn between two looks at the frame's budget. */
const SLICE = 256;
/** The eraser's outline, CSS pixels wide. */
const RING_WIDTH = 1.5;

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

/** Milliseconds since navigation start (performance.now) at which the catch-up reached the screen. */
export interface PaintTimes {
  /** The first frame that drew strokes: with snapshots newest first, the most recent ones. */
  firstPaintMs?: number;
  /** When the session had read the whole board (`boardComplete`): what is left after it is drawing. */
  caughtUpMs?: number;
  /** The first frame after the board was complete that left nothing to draw. */
  fullyDrawnMs?: number;
}

export class BoardView {
  readonly viewport = new Viewport();
  private readonly ink: CanvasRenderingContext2D;
  private readonly overlay: CanvasRenderingContext2D;
  private frame: number | undefined;
  private redrawAll = true;
  private overlayChanged = true;
  private readonly onTop: StrokeRecord[] = [];
  /** Strokes still to draw beneath everything on the canvas, newest first, from index `beneathNext` on. */
  private beneath: StrokeRecord[] = [];
  private beneathNext = 0;
  /** Nothing is drawn on the ink canvas (since it was last cleared). */
  private inkEmpty = true;
  /** How many points of strokes beneath one frame draws, adapted to this machine as frames go. */
  private pointsPerFrame = POINTS_PER_FRAME.first;
  /** When the last frame that drew strokes beneath (and left more) began. */
  private lastBeneathFrame: number | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private eraser: { at: readonly [number, number]; reach: number } | undefined;
  private complete = false;
  private readonly times: PaintTimes = {};

  constructor(
    private readonly elements: ViewElements,
    private readonly source: BoardSource,
    /** Called after every pan, zoom or resize, for whatever else follows the board on screen. */
    private readonly onViewChange: () => void,
  ) {
    this.ink = context(elements.ink);
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
    // Strokes below everything drawn go beneath, newest first, each under the one before; so do the first
    // strokes of an empty canvas (the newest page of a snapshot), so that the newest of them paint first.
    if (applied.placement === "under" || (this.inkEmpty && this.beneathNext === this.beneath.length)) {
      for (const record of [...applied.added].sort((a, b) => b.s - a.s)) this.beneath.push(record);
    } else {
      for (const record of applied.added) this.onTop.push(record);
      // Strokes from different instances arrived out of order: restack once the burst is over.
      if (applied.placement === "mixed") this.invalidateSoon();
    }
    this.overlayChanged = true; // a stroke stored leaves the overlay
    this.schedule();
  }

  /** Redraws everything at the next frame. */
  invalidate(): void {
    this.redrawAll = true;
    this.schedule();
  }

  /** The overlay's strokes changed. */
  pendingChanged(): void {
    this.overlayChanged = true;
    this.schedule();
  }

  /** Shows the eraser's reach around a board point, or hides it. */
  showEraser(at: readonly [number, number] | undefined, reach = 0): void {
    this.eraser = at && { at, reach };
    this.pendingChanged();
  }

  /** The session has caught up: the next frame that leaves nothing to draw marks the board fully drawn. */
  boardComplete(): void {
    this.complete = true;
    this.times.caughtUpMs ??= performance.now();
    this.schedule();
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

  private invalidateSoon(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.invalidate(), SETTLE_MS);
  }

  private viewChanged(): void {
    this.placePaper();
    this.onViewChange();
    this.invalidate();
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
    for (const canvas of [this.elements.ink, this.elements.overlay]) {
      canvas.width = Math.max(1, Math.round(clientWidth * devicePixelRatio));
      canvas.height = Math.max(1, Math.round(clientHeight * devicePixelRatio));
    }
    this.viewChanged();
  }

  /** The paper follows the board; styles go through the CSSOM (the Content-Security-Policy allows no inline style). */
  private placePaper(): void {
    const { left, top, width, height } = this.viewport.boardOnScreen();
    Object.assign(this.elements.paper.style, { left: `${left}px`, top: `${top}px`, width: `${width}px`, height: `${height}px` });
  }

  private schedule(): void {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.draw();
    });
  }

  private draw(): void {
    const started = performance.now();
    if (this.redrawAll) {
      this.redrawAll = false;
      this.overlayChanged = true;
      this.onTop.length = 0;
      this.beneath = this.source.strokes().slice().reverse();
      this.beneathNext = 0;
      clear(this.ink);
      this.inkEmpty = true;
    }
    const options = this.prepare(this.ink);
    let drawn = drawStrokes(this.ink, this.onTop, options);
    this.onTop.length = 0;
    this.ink.globalCompositeOperation = "destination-over";
    drawn += this.drawBeneath(options, started);
    this.ink.globalCompositeOperation = "source-over";
    if (this.overlayChanged) this.drawOverlay();
    if (drawn > 0) {
      this.inkEmpty = false;
      this.times.firstPaintMs ??= performance.now();
    }
    if (this.beneathNext < this.beneath.length) return this.schedule();
    this.beneath = [];
    this.beneathNext = 0;
    if (this.complete) this.times.fullyDrawnMs ??= performance.now();
  }

  /** Draws as much of what lies beneath as this frame's budget allows; returns the points drawn. */
  private drawBeneath(options: RenderOptions, frameStart: number): number {
    if (this.lastBeneathFrame !== undefined) {
      const factor = Math.min(2, Math.max(0.5, TARGET_FRAME_MS / (frameStart - this.lastBeneathFrame)));
      this.pointsPerFrame = Math.min(POINTS_PER_FRAME.most, Math.max(POINTS_PER_FRAME.least, this.pointsPerFrame * factor));
    }
    let drawn = 0;
    while (this.beneathNext < this.beneath.length && drawn < this.pointsPerFrame) {
      const end = Math.min(this.beneath.length, this.beneathNext + SLICE);
      drawn += drawStrokes(this.ink, this.beneath.slice(this.beneathNext, end), options);
      this.beneathNext = end;
    }
    this.lastBeneathFrame = this.beneathNext < this.beneath.length ? frameStart : undefined;
    return drawn;
  }

  private drawOverlay(): void {
    this.overlayChanged = false;
    const ctx = this.overlay;
    clear(ctx);
    const options = this.prepare(ctx);
    drawStrokes(ctx, this.source.pending(), options);
    if (this.eraser) {
      ctx.beginPath();
      ctx.arc(this.eraser.at[0], this.eraser.at[1], this.eraser.reach, 0, 2 * Math.PI);
      ctx.lineWidth = RING_WIDTH / this.viewport.scale;
      ctx.strokeStyle = "#5f6368";
      ctx.stroke();
    }
  }

  /** Maps board units to the canvas's device pixels; returns what drawing at that mapping needs. */
  private prepare(ctx: CanvasRenderingContext2D): RenderOptions {
    const scale = this.viewport.scale * devicePixelRatio;
    const [left, top] = this.viewport.toScreen(0, 0);
    ctx.setTransform(scale, 0, 0, scale, left * devicePixelRatio, top * devicePixelRatio);
    return { pixel: 1 / scale, visible: this.viewport.visible() };
  }
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  return ctx;
}

function clear(ctx: CanvasRenderingContext2D): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
}
