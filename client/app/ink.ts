/**
 * The ink: the board's stored strokes drawn at the current pan and zoom, on a canvas in device pixels. The same
 * painter runs in a worker on an OffscreenCanvas where the browser allows it (./ink-worker.ts), so that
 * rasterizing a large board (nearly all the cost of drawing it when the canvas rasterizes in software) runs on
 * another core while the page reads and applies the rest of the board; otherwise on the page's own thread.
 *
 * - Strokes above everything drawn are drawn on top as they arrive. Strokes below everything drawn (snapshot pages
 *   come newest first, and a full redraw goes newest first too) are drawn underneath with `destination-over`, a
 *   slice per frame: the most recent strokes show at once, and a large board fills in below them without holding
 *   up the thread for long.
 * - The painter keeps the visible strokes itself, so a pan or a zoom redraws without the page sending them again;
 *   the page sends the whole list only when strokes disappear or must be restacked.
 * - It reports, in absolute time (performance.timeOrigin + performance.now(), comparable across threads), the
 *   start of the frame after the first one that drew strokes, and of the frame after the one that drew the last
 *   of what was sent before a marker: by then the canvas has rasterized what those frames drew.
 */
import type { Drawable, Rect } from "../core/stroke-geometry";
import { drawStrokes, type Context2D, type RenderOptions } from "./render";

/** A stroke to draw: its shape, colour and width, and its seq (its place in the stacking order). */
export interface InkStroke extends Drawable {
  s: number;
}

/** Where strokes go: above everything drawn, below it, or in between (drawn on top until restacked). */
export type Placement = "top" | "under" | "mixed";

/** The canvas's size in device pixels and how board units map onto it. */
export interface InkView {
  width: number;
  height: number;
  /** Device pixels per board unit. */
  scale: number;
  /** Where the board's origin is on the canvas, device pixels. */
  left: number;
  top: number;
  /** The part of the board in view, board units. */
  visible: Rect;
}

export type InkEvent =
  | { kind: "ready" }
  | { kind: "painted"; at: number }
  | { kind: "idle"; marker: number; at: number }
  | { kind: "row"; id: number; ink: boolean };

/** What the page asks of the ink, wherever it is painted. */
export interface Ink {
  view(view: InkView): void;
  add(strokes: readonly InkStroke[], placement: Placement): void;
  /** The visible strokes, in seq order: everything is drawn again from them. */
  replace(strokes: readonly InkStroke[]): void;
  /** Reports `idle` with this marker once everything sent before it is drawn. */
  mark(marker: number): void;
  /** Reports `row` with this id: whether row `y` of the canvas (device pixels) has any ink. */
  row(id: number, y: number): void;
}

/**
 * Frames that draw a large board beneath aim at this length. The canvas rasterizes after the frame's script, so
 * the cost of drawing shows only in the time between frames: the points drawn per frame follow it.
 */
const TARGET_FRAME_MS = 33;
const POINTS_PER_FRAME = { first: 4_000, least: 2_000, most: 2_000_000 };
/** Strokes drawn between two looks at the frame's budget. */
const SLICE = 256;

export const now = (): number => performance.timeOrigin + performance.now();

export class InkPainter implements Ink {
  private readonly ctx: Context2D;
  private current: InkView | undefined;
  /** Every visible stroke, in seq order once sorted. */
  private all: InkStroke[] = [];
  private sorted = true;
  private redrawAll = true;
  private readonly onTop: InkStroke[] = [];
  /** Strokes still to draw beneath everything on the canvas, newest first, from index `beneathNext` on. */
  private beneath: InkStroke[] = [];
  private beneathNext = 0;
  /** Nothing is drawn on the canvas (since it was last cleared). */
  private empty = true;
  /** How many points of strokes beneath one frame draws, adapted to this machine as frames go. */
  private pointsPerFrame = POINTS_PER_FRAME.first;
  /** When the last frame that drew strokes beneath (and left more) began. */
  private lastBeneathFrame: number | undefined;
  private frameRequested = false;
  private paintedReported = false;
  /** A marker received, waiting for everything before it to be drawn. */
  private marker: number | undefined;
  /** Events to send at the start of the next frame, with its time. */
  private readonly next: Extract<InkEvent, { at: number }>[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement | OffscreenCanvas,
    private readonly requestFrame: (callback: () => void) => void,
    private readonly emit: (event: InkEvent) => void,
  ) {
    const ctx = canvas.getContext("2d") as Context2D | null;
    if (!ctx) throw new Error("this browser has no 2D canvas");
    this.ctx = ctx;
  }

  view(view: InkView): void {
    if (this.canvas.width !== view.width) this.canvas.width = view.width;
    if (this.canvas.height !== view.height) this.canvas.height = view.height;
    this.current = view;
    this.redrawAll = true;
    this.schedule();
  }

  add(strokes: readonly InkStroke[], placement: Placement): void {
    let last = this.all.at(-1)?.s ?? 0;
    for (const stroke of strokes) {
      if (stroke.s < last) this.sorted = false;
      last = stroke.s;
      this.all.push(stroke);
    }
    // Strokes below everything drawn go beneath, newest first, each under the one before; so do the first
    // strokes of an empty canvas (the newest page of a snapshot), so that the newest of them paint first.
    if (placement === "under" || (this.empty && this.beneathNext === this.beneath.length)) {
      for (const stroke of [...strokes].sort((a, b) => b.s - a.s)) this.beneath.push(stroke);
    } else {
      for (const stroke of strokes) this.onTop.push(stroke);
    }
    this.schedule();
  }

  replace(strokes: readonly InkStroke[]): void {
    this.all = strokes.slice();
    this.sorted = strokes.every((stroke, index) => index === 0 || (strokes[index - 1] as InkStroke).s <= stroke.s);
    this.redrawAll = true;
    this.schedule();
  }

  mark(marker: number): void {
    this.marker = marker;
    this.schedule();
  }

  row(id: number, y: number): void {
    const { width, height } = this.canvas;
    let ink = false;
    if (y >= 0 && y < height) {
      const pixels = this.ctx.getImageData(0, Math.floor(y), width, 1).data;
      for (let i = 3; i < pixels.length && !ink; i += 4) ink = (pixels[i] as number) > 0;
    }
    this.emit({ kind: "row", id, ink });
  }

  private schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    this.requestFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  private draw(): void {
    const started = now();
    for (const event of this.next.splice(0)) this.emit({ ...event, at: started });
    const view = this.current;
    if (!view) return;
    if (this.redrawAll) {
      this.redrawAll = false;
      if (!this.sorted) this.all.sort((a, b) => a.s - b.s);
      this.sorted = true;
      this.onTop.length = 0;
      this.beneath = this.all.slice().reverse();
      this.beneathNext = 0;
      this.ctx.setTransform(1, 0, 0, 1, 0, 0);
      this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      this.empty = true;
    }
    this.ctx.setTransform(view.scale, 0, 0, view.scale, view.left, view.top);
    const options: RenderOptions = { pixel: 1 / view.scale, visible: view.visible };
    let drawn = drawStrokes(this.ctx, this.onTop, options);
    this.onTop.length = 0;
    this.ctx.globalCompositeOperation = "destination-over";
    drawn += this.drawBeneath(options, started);
    this.ctx.globalCompositeOperation = "source-over";
    if (drawn > 0) {
      this.empty = false;
      if (!this.paintedReported) {
        this.paintedReported = true;
        this.next.push({ kind: "painted", at: 0 });
      }
    }
    if (this.beneathNext < this.beneath.length) return this.schedule();
    this.beneath = [];
    this.beneathNext = 0;
    if (this.marker !== undefined) {
      this.next.push({ kind: "idle", marker: this.marker, at: 0 });
      this.marker = undefined;
    }
    if (this.next.length > 0) this.schedule();
  }

  /** Draws as much of what lies beneath as this frame's budget allows; returns the points drawn. */
  private drawBeneath(options: RenderOptions, frameStart: number): number {
    if (this.lastBeneathFrame !== undefined) {
      const factor = Math.min(2, Math.max(0.5, TARGET_FRAME_MS / (frameStart - this.lastBeneathFrame)));
      this.pointsPerFrame = Math.min(
        POINTS_PER_FRAME.most,
        Math.max(POINTS_PER_FRAME.least, this.pointsPerFrame * factor),
      );
    }
    let drawn = 0;
    while (this.beneathNext < this.beneath.length && drawn < this.pointsPerFrame) {
      const end = Math.min(this.beneath.length, this.beneathNext + SLICE);
      drawn += drawStrokes(this.ctx, this.beneath.slice(this.beneathNext, end), options);
      this.beneathNext = end;
    }
    this.lastBeneathFrame = this.beneathNext < this.beneath.length ? frameStart : undefined;
    return drawn;
  }
}

/**
 * Strokes as they cross to the worker: only what drawing needs, a column per field (arrays of strings and numbers
 * cost the page far less to send than as many objects).
 */
export interface StrokeColumns {
  s: number[];
  p: string[];
  c: string[];
  w: number[];
}

export function toColumns(strokes: readonly InkStroke[]): StrokeColumns {
  const columns: StrokeColumns = {
    s: new Array(strokes.length),
    p: new Array(strokes.length),
    c: new Array(strokes.length),
    w: new Array(strokes.length),
  };
  strokes.forEach((stroke, index) => {
    columns.s[index] = stroke.s;
    columns.p[index] = stroke.p;
    columns.c[index] = stroke.c;
    columns.w[index] = stroke.w;
  });
  return columns;
}

function fromColumns({ s, p, c, w }: StrokeColumns): InkStroke[] {
  return s.map((seq, index) => ({ s: seq, p: p[index] as string, c: c[index] as string, w: w[index] as number }));
}

/** Messages from the page to the ink worker. */
export type InkMessage =
  | { t: "init"; canvas: OffscreenCanvas }
  | { t: "view"; view: InkView }
  | { t: "add"; strokes: StrokeColumns; placement: Placement }
  | { t: "replace"; strokes: StrokeColumns }
  | { t: "mark"; marker: number }
  | { t: "row"; id: number; y: number };

/** Applies a message to a painter: in the worker, or here when the worker could not start. */
export function dispatch(painter: Ink, message: Exclude<InkMessage, { t: "init" }>): void {
  switch (message.t) {
    case "view":
      return painter.view(message.view);
    case "add":
      return painter.add(fromColumns(message.strokes), message.placement);
    case "replace":
      return painter.replace(fromColumns(message.strokes));
    case "mark":
      return painter.mark(message.marker);
    case "row":
      return painter.row(message.id, message.y);
  }
}

/**
 * The ink in a worker, the page's side. The canvas goes to the worker only once the worker has said it runs: until
 * then messages wait here, and a worker that fails to start (its script refused or missing) leaves the canvas to a
 * painter on this thread, which gets them instead.
 */
class WorkerInk implements Ink {
  private waiting: Exclude<InkMessage, { t: "init" }>[] | undefined = [];
  private local: InkPainter | undefined;

  constructor(
    private readonly worker: Worker,
    canvas: HTMLCanvasElement,
    emit: (event: InkEvent) => void,
  ) {
    worker.addEventListener("message", (event: MessageEvent<InkEvent>) => {
      if (event.data.kind !== "ready") return emit(event.data);
      if (!this.waiting) return;
      const offscreen = canvas.transferControlToOffscreen();
      worker.postMessage({ t: "init", canvas: offscreen } satisfies InkMessage, [offscreen]);
      for (const message of this.waiting) worker.postMessage(message);
      this.waiting = undefined;
    });
    worker.addEventListener("error", () => {
      if (!this.waiting) return;
      worker.terminate();
      this.local = localInk(canvas, emit);
      for (const message of this.waiting) dispatch(this.local, message);
      this.waiting = undefined;
    });
  }

  view(view: InkView): void {
    this.send({ t: "view", view });
  }

  add(strokes: readonly InkStroke[], placement: Placement): void {
    if (this.local) this.local.add(strokes, placement);
    else this.send({ t: "add", strokes: toColumns(strokes), placement });
  }

  replace(strokes: readonly InkStroke[]): void {
    if (this.local) this.local.replace(strokes);
    else this.send({ t: "replace", strokes: toColumns(strokes) });
  }

  mark(marker: number): void {
    this.send({ t: "mark", marker });
  }

  row(id: number, y: number): void {
    this.send({ t: "row", id, y });
  }

  private send(message: Exclude<InkMessage, { t: "init" }>): void {
    if (this.local) dispatch(this.local, message);
    else if (this.waiting) this.waiting.push(message);
    else this.worker.postMessage(message);
  }
}

const localInk = (canvas: HTMLCanvasElement, emit: (event: InkEvent) => void) =>
  new InkPainter(canvas, (callback) => requestAnimationFrame(() => callback()), emit);

/**
 * The ink for `canvas`: painted in a worker (`workerUrl`) on an OffscreenCanvas where the browser can, otherwise
 * on this thread. Its events go to `emit`.
 */
export function createInk(
  canvas: HTMLCanvasElement,
  workerUrl: string | undefined,
  emit: (event: InkEvent) => void,
): Ink {
  if (workerUrl && typeof canvas.transferControlToOffscreen === "function" && typeof Worker === "function") {
    try {
      return new WorkerInk(new Worker(workerUrl), canvas, emit);
    } catch {
      // No worker here (a policy refused it): paint on this thread.
    }
  }
  return localInk(canvas, emit);
}
