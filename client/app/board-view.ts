/**
 * Draws the board at the current pan and zoom on canvases that fill the stage, in device pixels, so elements are
 * sharp at any zoom and on any screen:
 * - `ink` holds the stored elements, painted by ./ink.ts: in a worker on an OffscreenCanvas where the browser
 *   allows it (computing outlines and rasterizing a large board then run beside the page's reading and applying
 *   it), else here. A catch-up's elements are drawn newest first, underneath what is shown, a frame at a time: the
 *   most recent show at once, and a large board fills in below them without freezing the page.
 * - `overlay` holds this user's elements not stored yet (a line being drawn looks as it will once stored) and the
 *   eraser's reach: small, redrawn here when they change.
 * The stage's own background is the paper.
 *
 * The page tells it where the board is (`place`, after every pan and zoom) and what changed (`put`, `remove`,
 * `redraw`); it never reads the session itself.
 */
import { drawElements, TextPainter, type RenderOptions } from "./render";
import { createInk, visibleArea, type Ink, type InkEvent, type InkView } from "./ink";
import { Raster, type PixelRect } from "./raster";
import { measureOnPage } from "./export";
import type { InkElement } from "./shapes";

/** The eraser's outline, CSS pixels wide. */
const RING_WIDTH = 1.5;
/** The marker the ink answers once the caught-up board is drawn. */
const COMPLETE = 1;

export interface BoardSource {
  /** The visible elements (hidden ones left out), in any order. */
  elements(): readonly InkElement[];
  /** This user's elements not stored yet (a line being drawn, a shape being placed): drawn above the rest. */
  pending(): readonly InkElement[];
}

/** Where the board is on the stage. */
export interface Placement {
  /** CSS pixels per board unit (1 / UNITS_PER_PIXEL at 100%). */
  scale: number;
  /** Where the board's origin (0, 0) is, CSS pixels from the stage's top-left corner. */
  x: number;
  y: number;
}

export interface ViewElements {
  stage: HTMLElement;
  ink: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
}

/**
 * Milliseconds since navigation start (the page's performance.now()) at which the catch-up reached the screen. The
 * ink's times are the start of the frame after the one that drew: by then the canvas has rasterized that frame.
 */
export interface PaintTimes {
  /** After the first frame that drew elements: with snapshots newest first, the most recent ones. */
  firstPaintMs?: number;
  /** When the session had read and applied the whole board (`boardComplete`): what is left after it is drawing. */
  caughtUpMs?: number;
  /**
   * After the frame that put the last of the board as it stood when caught up on screen, some freehand lines perhaps
   * still polylines standing in for their outlines (./ink.ts).
   */
  shownMs?: number;
  /** After the frame that drew the last of the board as it stood when caught up, every outline in place. */
  fullyDrawnMs?: number;
}

export class BoardView {
  private readonly ink: Ink;
  private readonly overlay: CanvasRenderingContext2D;
  private placement: Placement = { scale: 1 / 16, x: 0, y: 0 };
  private size = { width: 1, height: 1 };
  private frame: number | undefined;
  private eraser: { at: readonly [number, number]; reach: number } | undefined;
  /** The overlay has something on it. */
  private overlayUsed = false;
  /** The overlay's elements are rasterized as the ink's are (they look the same once stored). */
  private overlayRaster = new Raster(1, 1);
  private overlayImage: ImageData | undefined;
  /** Where the overlay's elements were last drawn, pixels. */
  private overlayDrawn: PixelRect | undefined;
  private readonly overlayText = new TextPainter();
  private readonly times: PaintTimes = {};
  /** What the ink was given, by id: what `redraw` compares the source with. */
  private given = new Map<string, InkElement>();
  /** When `redraw` last saw each id in the source (its `generation`). */
  private readonly seen = new Map<string, number>();
  private generation = 0;
  private readonly rowQueries = new Map<number, (ink: boolean) => void>();
  private nextRowQuery = 0;
  private readonly drawnWaits = new Map<number, () => void>();
  private nextMarker = COMPLETE + 1;

  constructor(
    private readonly elements: ViewElements,
    private readonly source: BoardSource,
    /** The ink worker's script (see client/build.mjs); without one, the ink is painted on this thread. */
    inkWorkerUrl?: string,
  ) {
    this.ink = createInk(elements.ink, inkWorkerUrl, (event) => this.inkEvent(event));
    const overlay = elements.overlay.getContext("2d");
    if (!overlay) throw new Error("this browser has no 2D canvas");
    this.overlay = overlay;
    new ResizeObserver(() => this.fit()).observe(elements.stage);
    this.watchPixelRatio();
    this.fit();
  }

  get paintTimes(): Readonly<PaintTimes> {
    return this.times;
  }

  /** The board moved or zoomed on the stage. */
  place(placement: Placement): void {
    this.placement = { ...placement };
    this.viewChanged();
  }

  /** Elements added, or changed (points appended, moved, restyled, shown again). */
  put(elements: readonly InkElement[]): void {
    for (const element of elements) this.given.set(element.i, element);
    if (elements.length > 0) this.ink.put(elements);
    this.pendingChanged(); // an element stored leaves the overlay
  }

  /** Elements hidden (erased, cleared) or gone. */
  remove(ids: readonly string[]): void {
    for (const id of ids) {
      this.given.delete(id);
      this.seen.delete(id);
    }
    if (ids.length > 0) this.ink.remove(ids);
  }

  /**
   * Shows the source's elements as they are now (after the board was read again: a catch-up's answer, a new
   * epoch's snapshot). Only what differs from what the ink holds goes to it (a catch-up calls this for every answer:
   * sending the whole board each time made a late joiner's catch-up quadratic); when most of it differs, everything
   * is drawn again.
   */
  redraw(): void {
    const elements = this.source.elements();
    this.generation += 1;
    const changed: InkElement[] = [];
    for (const element of elements) {
      this.seen.set(element.i, this.generation);
      if (this.given.get(element.i) !== element) changed.push(element);
    }
    const gone: string[] = [];
    for (const id of this.given.keys()) if (this.seen.get(id) !== this.generation) gone.push(id);
    for (const id of gone) this.seen.delete(id);
    if (changed.length + gone.length > elements.length / 2) {
      this.given = new Map(elements.map((element) => [element.i, element]));
      this.ink.replace(elements);
    } else {
      this.remove(gone);
      this.put(changed);
    }
    this.pendingChanged();
  }

  /** The overlay's elements changed. */
  pendingChanged(): void {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.drawOverlay();
    });
  }

  /** Shows the eraser's reach around a board point (board units), or hides it. */
  showEraser(at: readonly [number, number] | undefined, reach = 0): void {
    this.eraser = at && { at, reach };
    this.pendingChanged();
  }

  /** The session has caught up: the ink reports when what it holds now is drawn. */
  boardComplete(): void {
    this.times.caughtUpMs ??= performance.now();
    this.ink.mark(COMPLETE);
  }

  /** Resolves once the ink has drawn everything it was given so far, every outline in place. */
  drawn(): Promise<void> {
    const marker = this.nextMarker++;
    return new Promise((resolve) => {
      this.drawnWaits.set(marker, resolve);
      this.ink.mark(marker);
    });
  }

  /** Whether the ink canvas has any ink along the stage's row `y` (CSS pixels; for tests). */
  inkOnRow(y: number): Promise<boolean> {
    const id = this.nextRowQuery++;
    return new Promise((resolve) => {
      this.rowQueries.set(id, resolve);
      this.ink.row(id, Math.round(y * devicePixelRatio));
    });
  }

  private inkEvent(event: InkEvent): void {
    // The ink's times are absolute (it may run in a worker, whose clock starts elsewhere).
    const ms = (at: number) => at - performance.timeOrigin;
    switch (event.kind) {
      case "painted":
        this.times.firstPaintMs ??= ms(event.at);
        break;
      case "shown":
        if (event.marker === COMPLETE) this.times.shownMs ??= ms(event.at);
        break;
      case "idle":
        if (event.marker === COMPLETE) this.times.fullyDrawnMs ??= ms(event.at);
        this.drawnWaits.get(event.marker)?.();
        this.drawnWaits.delete(event.marker);
        break;
      case "row":
        this.rowQueries.get(event.id)?.(event.ink);
        this.rowQueries.delete(event.id);
        break;
    }
  }

  /** The ink's view in device pixels. */
  private inkView(): InkView {
    const ratio = devicePixelRatio;
    return {
      width: Math.max(1, Math.round(this.size.width * ratio)),
      height: Math.max(1, Math.round(this.size.height * ratio)),
      scale: this.placement.scale * ratio,
      left: this.placement.x * ratio,
      top: this.placement.y * ratio,
    };
  }

  private viewChanged(): void {
    this.ink.view(this.inkView());
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
    this.size = { width: Math.max(1, clientWidth), height: Math.max(1, clientHeight) };
    const { width, height } = this.inkView();
    this.elements.overlay.width = width;
    this.elements.overlay.height = height;
    this.viewChanged();
  }

  private drawOverlay(): void {
    const ctx = this.overlay;
    const pending = this.source.pending();
    // An empty overlay stays empty: a catch-up's every answer would otherwise clear a screenful of pixels.
    if (pending.length === 0 && !this.eraser && !this.overlayUsed) return;
    this.overlayUsed = pending.length > 0 || this.eraser !== undefined;
    const view = this.inkView();
    let raster = this.overlayRaster;
    if (raster.width !== view.width || raster.height !== view.height) {
      raster = this.overlayRaster = new Raster(view.width, view.height);
      this.overlayImage = undefined;
      this.overlayDrawn = undefined;
    }
    if (this.overlayDrawn) raster.clearRect(this.overlayDrawn);
    raster.takeChanged();
    const options: RenderOptions = {
      scale: view.scale,
      left: view.left,
      top: view.top,
      visible: visibleArea(view),
      measure: measureOnPage(),
      text: this.overlayText,
      compositing: "over",
    };
    drawElements(raster, pending, options);
    this.overlayDrawn = raster.takeChanged();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    if (this.overlayDrawn) {
      this.overlayImage ??= new ImageData(raster.pixels, raster.width, raster.height);
      const { left, top, right, bottom } = this.overlayDrawn;
      ctx.putImageData(this.overlayImage, 0, 0, left, top, right - left, bottom - top);
    }
    if (this.eraser) {
      ctx.setTransform(view.scale, 0, 0, view.scale, view.left, view.top);
      ctx.beginPath();
      ctx.arc(this.eraser.at[0], this.eraser.at[1], this.eraser.reach, 0, 2 * Math.PI);
      ctx.lineWidth = (RING_WIDTH * devicePixelRatio) / view.scale;
      ctx.strokeStyle = "#5f6368";
      ctx.stroke();
    }
  }
}
