/**
 * Draws a board on two stacked canvases: `strokes` holds the stored strokes in seq order (appended to as
 * they arrive, redrawn only when needed), `pending` the local strokes not yet acknowledged (redrawn every
 * frame they change, and small). Coordinates are normalized, so resizing or rotating redraws the same
 * drawing at the new size, sharp at any devicePixelRatio.
 */
import type { Point, StrokeInput } from "../../protocol/events";

/** Every board has the same shape on every screen, so a drawing looks the same to everyone. */
export const BOARD_ASPECT = 16 / 10;
/** How long out-of-order strokes may sit on top before the stacking is redrawn right. */
const SETTLE_MS = 300;
/** Stroke widths are CSS pixels on a board this wide, and scale with the board. */
const REFERENCE_WIDTH = 1000;

export interface BoardSource {
  strokes(): readonly StrokeInput[];
  pending(): readonly StrokeInput[];
}

export class BoardView {
  private readonly strokesContext: CanvasRenderingContext2D;
  private readonly pendingContext: CanvasRenderingContext2D;
  private cssWidth = 0;
  private frame: number | undefined;
  private redrawAll = false;
  private redrawPending = false;
  private readonly appended: StrokeInput[] = [];
  private settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly stage: HTMLElement,
    private readonly board: HTMLElement,
    private readonly strokesCanvas: HTMLCanvasElement,
    private readonly pendingCanvas: HTMLCanvasElement,
    private readonly source: BoardSource,
  ) {
    this.strokesContext = context(strokesCanvas);
    this.pendingContext = context(pendingCanvas);
    new ResizeObserver(() => this.fit()).observe(stage);
    this.watchPixelRatio();
  }

  /** Redraws everything at the next frame. */
  invalidate(): void {
    this.redrawAll = true;
    this.schedule();
  }

  /** Redraws everything once changes have paused for a moment (coalesces bursts of out-of-order strokes). */
  invalidateSoon(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.invalidate(), SETTLE_MS);
  }

  /** Draws these stored strokes on top at the next frame. */
  append(strokes: readonly StrokeInput[]): void {
    this.appended.push(...strokes);
    this.redrawPending = true; // an acknowledged stroke leaves the pending layer
    this.schedule();
  }

  /** Redraws the pending layer at the next frame. */
  pendingChanged(): void {
    this.redrawPending = true;
    this.schedule();
  }

  /**
   * The board point under a pointer event, clamped to the board and rounded to 1/10,000 of it (under half
   * a pixel on a 4K screen), which makes strokes a third the size on the wire and in Redis.
   */
  toPoint(event: PointerEvent): Point {
    const rect = this.board.getBoundingClientRect();
    const clamp = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * 10_000) / 10_000;
    return [clamp((event.clientX - rect.left) / rect.width), clamp((event.clientY - rect.top) / rect.height)];
  }

  /** A change of devicePixelRatio (zoom, moving to another screen) needs new canvas pixels too. */
  private watchPixelRatio(): void {
    const query = matchMedia(`(resolution: ${devicePixelRatio}dppx)`);
    query.addEventListener(
      "change",
      () => {
        this.fit();
        this.watchPixelRatio();
      },
      { once: true },
    );
  }

  private fit(): void {
    const { clientWidth, clientHeight } = this.stage;
    const padding = 16;
    const width = Math.max(1, Math.min(clientWidth - padding, (clientHeight - padding) * BOARD_ASPECT));
    const height = width / BOARD_ASPECT;
    this.board.style.width = `${width}px`;
    this.board.style.height = `${height}px`;
    this.cssWidth = width;
    for (const canvas of [this.strokesCanvas, this.pendingCanvas]) {
      canvas.width = Math.round(width * devicePixelRatio);
      canvas.height = Math.round(height * devicePixelRatio);
    }
    this.invalidate();
  }

  private schedule(): void {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.draw();
    });
  }

  private draw(): void {
    if (this.redrawAll) {
      clear(this.strokesContext);
      this.drawStrokes(this.strokesContext, this.source.strokes());
      this.redrawPending = true;
    } else {
      this.drawStrokes(this.strokesContext, this.appended);
    }
    this.appended.length = 0;
    this.redrawAll = false;
    if (this.redrawPending) {
      clear(this.pendingContext);
      this.drawStrokes(this.pendingContext, this.source.pending());
      this.redrawPending = false;
    }
  }

  private drawStrokes(ctx: CanvasRenderingContext2D, strokes: readonly StrokeInput[]): void {
    const { width, height } = ctx.canvas;
    const scale = (this.cssWidth / REFERENCE_WIDTH) * devicePixelRatio;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const stroke of strokes) {
      const [first, ...rest] = stroke.points;
      if (!first) continue;
      ctx.strokeStyle = stroke.color;
      ctx.lineWidth = Math.max(1, stroke.width * scale);
      ctx.beginPath();
      ctx.moveTo(first[0] * width, first[1] * height);
      // A single point is a dot: a zero-length segment with round caps.
      if (rest.length === 0) ctx.lineTo(first[0] * width, first[1] * height);
      for (const [x, y] of rest) ctx.lineTo(x * width, y * height);
      ctx.stroke();
    }
  }
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  return ctx;
}

function clear(ctx: CanvasRenderingContext2D): void {
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
}
