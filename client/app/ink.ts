/**
 * The ink: the board's stored elements drawn at the current pan and zoom, on a canvas in device pixels. The same
 * painter runs in a worker on an OffscreenCanvas where the browser allows it (./ink-worker.ts), so that computing
 * outlines and rasterizing a large board (nearly all the cost of drawing it when the canvas rasterizes in software)
 * run on another core while the page reads and applies the rest of the board; otherwise on the page's own thread.
 *
 * The painter keeps the visible elements itself (a pan or a zoom redraws without the page sending them again) and
 * keeps the canvas showing, at every frame, exactly the elements from some stacking key up (the `floor`), each
 * where (z, s) puts it:
 * - elements below everything drawn (a snapshot's pages come newest first, and a full redraw goes newest first too)
 *   are drawn underneath with `destination-over`, a slice per frame: the most recent show at once, and a large board
 *   fills in below them without holding up the thread for long;
 * - elements above everything drawn are drawn on top as they arrive;
 * - anything else (an element changed, hidden, restacked, or arriving between others) repaints the area it covered
 *   and covers: that area is cleared and the elements drawn there are drawn again, in order. Many such areas at once
 *   become one redraw of the whole view.
 *
 * It reports, in absolute time (performance.timeOrigin + performance.now(), comparable across threads), the start of
 * the frame after the first one that drew elements, and of the frame after the one that drew the last of what was
 * sent before a marker: by then the canvas has rasterized what those frames drew.
 */
import type { ElementKind } from "../../protocol/events";
import { canvasMeasure, drawElements, type Context2D, type RenderOptions } from "./render";
import { byStacking, inkBounds, meets, type InkElement, type Rect, type TextMeasure } from "./shapes";

/** The canvas's size in device pixels and how board units map onto it. */
export interface InkView {
  width: number;
  height: number;
  /** Device pixels per board unit. */
  scale: number;
  /** Where the board's origin is on the canvas, device pixels. */
  left: number;
  top: number;
}

export type InkEvent =
  | { kind: "ready" }
  | { kind: "painted"; at: number }
  | { kind: "shown"; marker: number; at: number }
  | { kind: "idle"; marker: number; at: number }
  | { kind: "row"; id: number; ink: boolean };

/** What the page asks of the ink, wherever it is painted. */
export interface Ink {
  view(view: InkView): void;
  /** Elements added, or changed (points appended, edited, shown again): each replaces the one with its id. */
  put(elements: readonly InkElement[]): void;
  /** Elements hidden or gone. */
  remove(ids: readonly string[]): void;
  /** Every visible element: everything is drawn again from them. */
  replace(elements: readonly InkElement[]): void;
  /** Reports `idle` with this marker once everything sent before it is drawn. */
  mark(marker: number): void;
  /** Reports `row` with this id: whether row `y` of the canvas (device pixels) has any ink. */
  row(id: number, y: number): void;
}

/**
 * How long a frame's script may draw beneath, ms: the first frame little, so that the newest elements show at once;
 * then more in a worker, whose long frames hold up nothing but the ink itself, than on the page's thread, which also
 * answers the user. The canvas rasterizes after the script, adding about as much again. A budget of time rather than
 * of work: on a loaded machine, frames that shrank with the wall-clock time between them (v1) left a large board to
 * hundreds of nearly empty frames.
 */
const BENEATH_MS = { first: 8, worker: 40, pageThread: 16 };
/** Elements drawn between two looks at the frame's budget. */
const SLICE = 128;
/**
 * A frame of the catch-up computes outlines for this long at most; past it, freehand lines whose outline is not at
 * hand are drawn as polylines (stand-ins), so the whole board is on screen as fast as plain lines would put it there.
 * The stand-ins' tiles are then repainted with outlines, as many a frame as REFINE_MS allows.
 */
const OUTLINE_MS = 6;
const REFINE_MS = 24;
/** Tiles of the refinement, device pixels square. */
const TILE_PX = 256;
/** More areas to repaint than this in one frame, or areas covering more than this share of the view: redraw all. */
const MOST_AREAS = 32;
const MOST_AREA_SHARE = 0.5;

const now = (): number => performance.timeOrigin + performance.now();

/** An element as the painter holds it: the latest version under its id, and whether it is still visible. */
interface Slot {
  element: InkElement;
  live: boolean;
}

const key = (slot: Slot) => slot.element;
const ascending = (a: Slot, b: Slot) => byStacking(key(a), key(b));
const descending = (a: Slot, b: Slot) => byStacking(key(b), key(a));

export class InkPainter implements Ink {
  private readonly ctx: Context2D;
  private readonly measure: TextMeasure;
  private current: InkView | undefined;
  private readonly slots = new Map<string, Slot>();
  /** Every slot, ascending by stacking key once sorted; dead slots are dropped when it is sorted. */
  private order: Slot[] = [];
  private sorted = true;
  private hasDead = false;
  /** The lowest and highest elements on the canvas (undefined: the canvas is empty). */
  private floor: InkElement | undefined;
  private top: InkElement | undefined;
  /** Slots to draw beneath what is drawn, highest first, from index `belowNext` on. */
  private below: Slot[] = [];
  private belowNext = 0;
  private readonly onTop: Slot[] = [];
  /** Areas to repaint, board units. */
  private dirty: Rect[] = [];
  /** Tiles (index: row × columns + column) where stand-ins wait for their outline, in the order they were drawn. */
  private refine = new Set<number>();
  /** The drawn elements of each tile to refine, in stacking order (undefined: to be found again). */
  private tiles: Map<number, InkElement[]> | undefined;
  /** How many of the markers have had `shown` reported: what was sent before them is on screen, stand-ins included. */
  private shownMarkers = 0;
  private redrawAll = true;
  /** Whether a frame has drawn beneath since the canvas was last cleared (the first frame's budget is smaller). */
  private beneathStarted = false;
  private frameRequested = false;
  private paintedReported = false;
  /** Markers received, waiting for everything sent before them to be drawn. */
  private markers: number[] = [];
  /** Events to send at the start of the next frame, with its time. */
  private readonly next: Extract<InkEvent, { at: number }>[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement | OffscreenCanvas,
    private readonly requestFrame: (callback: () => void) => void,
    private readonly emit: (event: InkEvent) => void,
    /** Painting in a worker (frames may be longer) rather than on the page's thread. */
    private readonly inWorker = false,
  ) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("this browser has no 2D canvas");
    this.ctx = ctx;
    this.measure = canvasMeasure(measuringContext());
  }

  view(view: InkView): void {
    if (this.canvas.width !== view.width) this.canvas.width = view.width;
    if (this.canvas.height !== view.height) this.canvas.height = view.height;
    this.current = view;
    this.redrawAll = true;
    this.schedule();
  }

  put(elements: readonly InkElement[]): void {
    this.tiles = undefined;
    const beneath: Slot[] = [];
    for (const element of elements) {
      const old = this.slots.get(element.i);
      if (old) {
        if (byStacking(old.element, element) === 0) {
          // Same place in the stacking order: the slot takes the new version wherever it waits.
          if (this.onCanvas(old.element)) this.markDirty(old.element, element);
          old.element = element;
          continue;
        }
        this.drop(old);
      }
      const slot: Slot = { element, live: true };
      this.slots.set(element.i, slot);
      const last = this.order.at(-1);
      if (last && ascending(last, slot) > 0) this.sorted = false;
      this.order.push(slot);
      if (!this.floor || byStacking(element, this.floor) < 0) beneath.push(slot);
      else if (this.top && byStacking(element, this.top) > 0) this.onTop.push(slot);
      else this.markDirty(element);
    }
    this.queueBeneath(beneath);
    this.schedule();
  }

  remove(ids: readonly string[]): void {
    this.tiles = undefined;
    for (const id of ids) {
      const slot = this.slots.get(id);
      if (slot) this.drop(slot);
    }
    this.schedule();
  }

  replace(elements: readonly InkElement[]): void {
    this.slots.clear();
    this.order = elements.map((element) => ({ element, live: true }));
    for (const slot of this.order) this.slots.set(slot.element.i, slot);
    this.sorted = false;
    this.hasDead = false;
    this.redrawAll = true;
    this.schedule();
  }

  mark(marker: number): void {
    this.markers.push(marker);
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

  /** Whether an element of this key is among those the canvas shows (were it in view). */
  private onCanvas(element: InkElement): boolean {
    return (
      this.floor !== undefined &&
      this.top !== undefined &&
      byStacking(element, this.floor) >= 0 &&
      byStacking(element, this.top) <= 0
    );
  }

  private drop(slot: Slot): void {
    slot.live = false;
    this.slots.delete(slot.element.i);
    this.hasDead = true;
    if (this.onCanvas(slot.element)) this.markDirty(slot.element);
  }

  private markDirty(...elements: InkElement[]): void {
    for (const element of elements) this.dirty.push(inkBounds(element, this.measure));
  }

  /** Adds slots to those waiting beneath, keeping them highest first. */
  private queueBeneath(slots: Slot[]): void {
    if (slots.length === 0) return;
    slots.sort(descending);
    const lowest = this.below.at(-1);
    if (this.belowNext === this.below.length) {
      this.below = slots;
      this.belowNext = 0;
    } else if (lowest && descending(lowest, slots[0] as Slot) <= 0) {
      for (const slot of slots) this.below.push(slot);
    } else {
      this.below = this.below.slice(this.belowNext).concat(slots).sort(descending);
      this.belowNext = 0;
    }
  }

  private schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    this.requestFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  private sortOrder(): void {
    if (this.hasDead) this.order = this.order.filter((slot) => slot.live);
    if (!this.sorted || this.hasDead) this.order.sort(ascending);
    this.sorted = true;
    this.hasDead = false;
  }

  private draw(): void {
    const started = now();
    for (const event of this.next.splice(0)) this.emit({ ...event, at: started });
    const view = this.current;
    if (!view) return;
    const visible = visibleArea(view);
    if (!this.redrawAll && this.dirty.length > 0 && tooMuchToRepaint(this.dirty, visible)) this.redrawAll = true;
    if (this.redrawAll) this.clearAll();
    this.ctx.setTransform(view.scale, 0, 0, view.scale, view.left, view.top);
    const options: RenderOptions = { scale: view.scale, visible, measure: this.measure };
    const areas = this.dirty;
    this.dirty = [];
    let work = this.repaint(areas, view, options);
    work += this.drawOnTop(options);
    this.ctx.globalCompositeOperation = "destination-over";
    const standIns: InkElement[] = [];
    const outlines = { until: performance.now() + OUTLINE_MS, standIns };
    work += this.drawBeneath({ ...options, beneath: true, outlines });
    this.ctx.globalCompositeOperation = "source-over";
    for (const element of standIns) this.tilesOf(inkBounds(element, this.measure), view);
    if (work > 0 && !this.paintedReported) {
      this.paintedReported = true;
      this.next.push({ kind: "painted", at: 0 });
    }
    if (this.belowNext < this.below.length) return this.schedule();
    this.below = [];
    this.belowNext = 0;
    for (const marker of this.markers.slice(this.shownMarkers)) this.next.push({ kind: "shown", marker, at: 0 });
    this.shownMarkers = this.markers.length;
    // Once all is on screen, stand-ins are replaced by outlines, a few tiles a frame.
    if (this.refine.size > 0 && standIns.length === 0) this.refineTiles(view, options);
    if (this.refine.size > 0) return this.schedule();
    for (const marker of this.markers.splice(0)) this.next.push({ kind: "idle", marker, at: 0 });
    this.shownMarkers = 0;
    if (this.next.length > 0) this.schedule();
  }

  /** Adds the tiles an area of the board covers to those to refine. */
  private tilesOf(area: Rect, view: InkView): void {
    const columns = Math.ceil(view.width / TILE_PX);
    const rows = Math.ceil(view.height / TILE_PX);
    const tile = (board: number, offset: number, count: number) =>
      Math.min(count - 1, Math.max(0, Math.floor((board * view.scale + offset) / TILE_PX)));
    const [left, right] = [tile(area.minX, view.left, columns), tile(area.maxX, view.left, columns)];
    const [top, bottom] = [tile(area.minY, view.top, rows), tile(area.maxY, view.top, rows)];
    for (let row = top; row <= bottom; row += 1)
      for (let column = left; column <= right; column += 1) this.refine.add(row * columns + column);
  }

  /** Repaints waiting tiles with every outline computed, until this frame's share of time is spent. */
  private refineTiles(view: InkView, options: RenderOptions): void {
    const until = performance.now() + REFINE_MS;
    const columns = Math.ceil(view.width / TILE_PX);
    const areaOf = (index: number): Rect => {
      const [left, top] = [(index % columns) * TILE_PX, Math.floor(index / columns) * TILE_PX];
      return {
        minX: (left - view.left) / view.scale,
        minY: (top - view.top) / view.scale,
        maxX: (left + TILE_PX - view.left) / view.scale,
        maxY: (top + TILE_PX - view.top) / view.scale,
      };
    };
    // The drawn elements of every waiting tile, found in one pass over the board (kept until anything changes).
    const known = this.tiles;
    if (!known || [...this.refine].some((index) => !known.has(index))) {
      this.tiles = new Map([...this.refine].map((index) => [index, []]));
      const rows = Math.ceil(view.height / TILE_PX);
      const tile = (board: number, offset: number, count: number) =>
        Math.min(count - 1, Math.max(0, Math.floor((board * view.scale + offset) / TILE_PX)));
      for (const element of this.drawnMeeting(visibleArea(view))) {
        const bounds = inkBounds(element, this.measure);
        const [left, right] = [tile(bounds.minX, view.left, columns), tile(bounds.maxX, view.left, columns)];
        const [top, bottom] = [tile(bounds.minY, view.top, rows), tile(bounds.maxY, view.top, rows)];
        for (let row = top; row <= bottom; row += 1)
          for (let column = left; column <= right; column += 1) this.tiles.get(row * columns + column)?.push(element);
      }
    }
    // Row by row: a line across a tile's edge is outlined for the first tile and still cached for the next.
    for (const index of [...this.refine].sort((a, b) => a - b)) {
      if (performance.now() > until) break;
      this.refine.delete(index);
      this.repaintArea(areaOf(index), this.tiles?.get(index) ?? [], view, options);
    }
    if (this.refine.size === 0) this.tiles = undefined;
  }

  /** Clears the canvas and queues every visible element to be drawn beneath, highest first. */
  private clearAll(): void {
    this.redrawAll = false;
    this.sortOrder();
    this.below = this.order.slice().reverse();
    this.belowNext = 0;
    this.onTop.length = 0;
    this.dirty = [];
    this.refine.clear();
    this.tiles = undefined;
    this.beneathStarted = false;
    this.floor = undefined;
    this.top = undefined;
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Clears each area (board units) and draws again, in order, the elements drawn there. */
  private repaint(areas: readonly Rect[], view: InkView, options: RenderOptions): number {
    if (areas.length === 0) return 0;
    // The elements drawn that may meet any of the areas, then those of each area.
    const union = areas.reduce((a, b) => ({
      minX: Math.min(a.minX, b.minX),
      minY: Math.min(a.minY, b.minY),
      maxX: Math.max(a.maxX, b.maxX),
      maxY: Math.max(a.maxY, b.maxY),
    }));
    const candidates = this.drawnMeeting(union);
    let work = 0;
    for (const area of areas) {
      const inArea = candidates.filter((element) => meets(element, area, this.measure));
      work += this.repaintArea(area, inArea, view, options);
    }
    return work;
  }

  /** The elements on the canvas (were they in view) whose ink may meet `area`, in stacking order. */
  private drawnMeeting(area: Rect): InkElement[] {
    const { floor, top } = this;
    if (!floor || !top) return [];
    this.sortOrder();
    const found: InkElement[] = [];
    for (const { element } of this.order) {
      if (byStacking(element, floor) >= 0 && byStacking(element, top) <= 0 && meets(element, area, this.measure))
        found.push(element);
    }
    return found;
  }

  /** Clears an area of the board (in whole device pixels around it) and draws the elements given there. */
  private repaintArea(area: Rect, elements: readonly InkElement[], view: InkView, options: RenderOptions): number {
    // Whole device pixels around the area, so antialiased edges are redrawn too.
    const left = Math.floor(area.minX * view.scale + view.left) - 1;
    const up = Math.floor(area.minY * view.scale + view.top) - 1;
    const right = Math.ceil(area.maxX * view.scale + view.left) + 1;
    const down = Math.ceil(area.maxY * view.scale + view.top) + 1;
    if (right < 0 || down < 0 || left > view.width || up > view.height) return 0;
    this.ctx.save();
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.beginPath();
    this.ctx.rect(left, up, right - left, down - up);
    this.ctx.clip();
    this.ctx.clearRect(left, up, right - left, down - up);
    this.ctx.setTransform(view.scale, 0, 0, view.scale, view.left, view.top);
    const work = drawElements(this.ctx, elements, options);
    this.ctx.restore();
    return work;
  }

  private drawOnTop(options: RenderOptions): number {
    if (this.onTop.length === 0) return 0;
    const slots = this.onTop.splice(0).filter((slot) => slot.live);
    slots.sort(ascending);
    const elements = slots.map((slot) => slot.element);
    const highest = elements.at(-1);
    if (highest && (!this.top || byStacking(highest, this.top) > 0)) this.top = highest;
    return drawElements(this.ctx, elements, options);
  }

  /** Draws as much of what lies beneath as this frame's budget allows; returns the work done. */
  private drawBeneath(options: RenderOptions): number {
    const budget = this.beneathStarted ? (this.inWorker ? BENEATH_MS.worker : BENEATH_MS.pageThread) : BENEATH_MS.first;
    const until = performance.now() + budget;
    let work = 0;
    while (this.belowNext < this.below.length && performance.now() < until) {
      const end = Math.min(this.below.length, this.belowNext + SLICE);
      const slice: InkElement[] = [];
      for (let index = this.belowNext; index < end; index += 1) {
        const slot = this.below[index] as Slot;
        if (slot.live) slice.push(slot.element);
      }
      this.belowNext = end;
      if (slice.length === 0) continue;
      this.beneathStarted = true;
      work += drawElements(this.ctx, slice, options);
      // Beneath, each element goes under the ones before it: the last of the slice is the new floor.
      this.floor = slice.at(-1);
      this.top ??= slice[0];
    }
    return work;
  }
}

/** The part of the board the view shows, board units. */
export function visibleArea(view: InkView): Rect {
  return {
    minX: -view.left / view.scale,
    minY: -view.top / view.scale,
    maxX: (view.width - view.left) / view.scale,
    maxY: (view.height - view.top) / view.scale,
  };
}

function tooMuchToRepaint(areas: readonly Rect[], visible: Rect): boolean {
  if (areas.length > MOST_AREAS) return true;
  const viewArea = (visible.maxX - visible.minX) * (visible.maxY - visible.minY);
  let covered = 0;
  for (const area of areas) {
    const width = Math.min(area.maxX, visible.maxX) - Math.max(area.minX, visible.minX);
    const height = Math.min(area.maxY, visible.maxY) - Math.max(area.minY, visible.minY);
    if (width > 0 && height > 0) covered += width * height;
  }
  return covered > MOST_AREA_SHARE * viewArea;
}

/** A small canvas to measure text on, apart from the one drawn on (measuring changes a context's font). */
function measuringContext(): Context2D {
  const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(1, 1) : document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  return ctx;
}

/**
 * Elements as they cross to the worker: only what drawing needs, a column per field (arrays of strings and numbers
 * cost the page far less to send than as many objects).
 */
interface ElementColumns {
  i: string[];
  s: number[];
  z: number[];
  t: ElementKind[];
  x: number[];
  y: number[];
  w: number[];
  h: number[];
  c: string[];
  sw: number[];
  f: string[];
  d: string[];
}

function toColumns(elements: readonly InkElement[]): ElementColumns {
  const columns: ElementColumns = {
    i: [],
    s: [],
    z: [],
    t: [],
    x: [],
    y: [],
    w: [],
    h: [],
    c: [],
    sw: [],
    f: [],
    d: [],
  };
  for (const element of elements) {
    columns.i.push(element.i);
    columns.s.push(element.s);
    columns.z.push(element.z);
    columns.t.push(element.t);
    columns.x.push(element.x);
    columns.y.push(element.y);
    columns.w.push(element.w);
    columns.h.push(element.h);
    columns.c.push(element.c);
    columns.sw.push(element.sw);
    columns.f.push(element.f);
    columns.d.push(element.d);
  }
  return columns;
}

function fromColumns(columns: ElementColumns): InkElement[] {
  const { i, s, z, t, x, y, w, h, c, sw, f, d } = columns;
  return i.map((id, index) => ({
    i: id,
    s: s[index] as number,
    z: z[index] as number,
    t: t[index] as ElementKind,
    x: x[index] as number,
    y: y[index] as number,
    w: w[index] as number,
    h: h[index] as number,
    c: c[index] as string,
    sw: sw[index] as number,
    f: f[index] as string,
    d: d[index] as string,
  }));
}

/** Messages from the page to the ink worker. */
export type InkMessage =
  | { t: "init"; canvas: OffscreenCanvas }
  | { t: "view"; view: InkView }
  | { t: "put"; elements: ElementColumns }
  | { t: "remove"; ids: string[] }
  | { t: "replace"; elements: ElementColumns }
  | { t: "mark"; marker: number }
  | { t: "row"; id: number; y: number };

/** Applies a message to a painter: in the worker, or here when the worker could not start. */
export function dispatch(painter: Ink, message: Exclude<InkMessage, { t: "init" }>): void {
  switch (message.t) {
    case "view":
      return painter.view(message.view);
    case "put":
      return painter.put(fromColumns(message.elements));
    case "remove":
      return painter.remove(message.ids);
    case "replace":
      return painter.replace(fromColumns(message.elements));
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

  put(elements: readonly InkElement[]): void {
    if (this.local) this.local.put(elements);
    else this.send({ t: "put", elements: toColumns(elements) });
  }

  remove(ids: readonly string[]): void {
    this.send({ t: "remove", ids: ids.slice() });
  }

  replace(elements: readonly InkElement[]): void {
    if (this.local) this.local.replace(elements);
    else this.send({ t: "replace", elements: toColumns(elements) });
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
