/**
 * The ink: the board's stored elements drawn at the current pan and zoom, on a canvas in device pixels. The same
 * painter runs in a worker on an OffscreenCanvas where the browser allows it (./ink-worker.ts), so that drawing a
 * large board runs on another core while the page reads and applies the rest of the board; otherwise on the page's
 * own thread. It rasterizes into its own pixels (./raster.ts) and puts the changed part on the canvas once a frame.
 *
 * The painter keeps the visible elements itself (a pan or a zoom redraws without the page sending them again) and
 * keeps the canvas showing, at every frame, exactly the elements from some stacking key up (the `floor`), each
 * where (z, s) puts it:
 * - elements below everything drawn (a snapshot's pages come newest first, and a full redraw goes newest first too)
 *   are drawn underneath (compositing under what is there), a slice per frame: the most recent show at once, and a
 *   large board fills in below them without holding up the thread for long;
 * - elements above everything drawn are drawn on top as they arrive;
 * - anything else (an element changed, hidden, restacked, or arriving between others) repaints the area it covered
 *   and covers: that area is cleared and the elements drawn there are drawn again, in order. Many such areas at once
 *   become one redraw of the whole view.
 * A pan by whole pixels keeps the pixels: they move, and only the strips uncovered are drawn.
 *
 * It reports, in absolute time (performance.timeOrigin + performance.now(), comparable across threads), the start of
 * the frame after the first one that drew elements, and of the frame after the one that drew the last of what was
 * sent before a marker: by then the canvas shows what those frames drew.
 */
import type { ElementKind } from "../../protocol/events";
import { Raster, type PixelRect } from "./raster";
import { canvasMeasure, drawElements, scratchContext, TextPainter, type Context2D, type RenderOptions } from "./render";
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
 * answers the user. A budget of time rather than of work: on a loaded machine, frames that shrank with the wall-clock
 * time between them (v1) left a large board to hundreds of nearly empty frames.
 */
const BENEATH_MS = { first: 8, worker: 40, pageThread: 16 };
/**
 * Elements drawn between two looks at the frame's budget: few, since one text or note costs the canvas a drawing and
 * a read-back (0.2 to 2 ms, and 2 to 19 ms the first time a font size is used).
 */
const SLICE = 4;
/**
 * How long a frame may spend taking in the page's messages (a catch-up's answers, unpacked and sorted in) before it
 * draws: at least one is taken. Taken as they arrived instead, a late joiner's answers queued up while the first frame
 * drew, and the worker took them all in (hundreds of ms) before its next frame could show anything.
 */
const INBOX_MS = 8;
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
  private readonly text = new TextPainter();
  /** The canvas's pixels, drawn here and put on the canvas once a frame. */
  private raster = new Raster(1, 1);
  private image: ImageData | undefined;
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
  private redrawAll = true;
  /** Whether a frame has drawn beneath since the canvas was last cleared (the first frame's budget is smaller). */
  private beneathStarted = false;
  private frameRequested = false;
  private paintedReported = false;
  /** Markers received, waiting for everything sent before them to be drawn. */
  private markers: number[] = [];
  /** Messages from the page not taken in yet (a worker's painter: see `enqueue`). */
  private readonly inbox: Exclude<InkMessage, { t: "init" }>[] = [];
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
    this.measure = canvasMeasure(scratchContext());
  }

  view(view: InkView): void {
    const before = this.current;
    this.current = view;
    if (this.canvas.width !== view.width || this.canvas.height !== view.height) {
      this.canvas.width = view.width;
      this.canvas.height = view.height;
      this.raster = new Raster(view.width, view.height);
      this.image = undefined;
      // The canvas sets up its new pixels on the first put (36 ms and more in Chromium): here, not in the frame that
      // first shows the board.
      this.ctx.putImageData(new ImageData(1, 1), 0, 0);
      this.redrawAll = true;
    } else if (!before || !this.panned(before, view)) this.redrawAll = true;
    this.schedule();
  }

  put(elements: readonly InkElement[]): void {
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
    const { width, height, pixels } = this.raster;
    let ink = false;
    if (y >= 0 && y < height) {
      const start = Math.floor(y) * width * 4;
      for (let i = start + 3; i < start + width * 4 && !ink; i += 4) ink = (pixels[i] as number) > 0;
    }
    this.emit({ kind: "row", id, ink });
  }

  /**
   * A pan by whole pixels at the same zoom: the pixels move, and the strips the view uncovers are queued to be
   * drawn. Returns false when the view changed otherwise (everything is drawn again).
   */
  private panned(before: InkView, after: InkView): boolean {
    const [dx, dy] = [after.left - before.left, after.top - before.top];
    if (after.scale !== before.scale || dx !== Math.round(dx) || dy !== Math.round(dy)) return false;
    if (dx === 0 && dy === 0) return true;
    if (Math.abs(dx) >= after.width || Math.abs(dy) >= after.height) return false;
    this.raster.shift(dx, dy);
    const visible = visibleArea(after);
    const strip = (minX: number, minY: number, maxX: number, maxY: number) =>
      this.dirty.push({ minX, minY, maxX, maxY });
    const [width, height] = [Math.abs(dx) / after.scale, Math.abs(dy) / after.scale];
    if (dx > 0) strip(visible.minX, visible.minY, visible.minX + width, visible.maxY);
    if (dx < 0) strip(visible.maxX - width, visible.minY, visible.maxX, visible.maxY);
    if (dy > 0) strip(visible.minX, visible.minY, visible.maxX, visible.minY + height);
    if (dy < 0) strip(visible.minX, visible.maxY - height, visible.maxX, visible.maxY);
    return true;
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

  /** A message from the page, taken in at the start of a frame, in order with the others (see INBOX_MS). */
  enqueue(message: Exclude<InkMessage, { t: "init" }>): void {
    this.inbox.push(message);
    this.schedule();
  }

  private takeInbox(): void {
    const until = performance.now() + INBOX_MS;
    let message = this.inbox.shift();
    while (message) {
      dispatch(this, message);
      message = performance.now() < until ? this.inbox.shift() : undefined;
    }
  }

  private draw(): void {
    const started = now();
    for (const event of this.next.splice(0)) this.emit({ ...event, at: started });
    this.takeInbox();
    if (this.inbox.length > 0) this.schedule();
    const view = this.current;
    if (!view) return;
    const visible = visibleArea(view);
    if (!this.redrawAll && this.dirty.length > 0 && tooMuchToRepaint(this.dirty, visible)) this.redrawAll = true;
    if (this.redrawAll) this.clearAll();
    const options: RenderOptions = {
      scale: view.scale,
      left: view.left,
      top: view.top,
      visible,
      measure: this.measure,
      text: this.text,
      compositing: "over",
    };
    const areas = this.dirty;
    this.dirty = [];
    let work = this.repaint(areas, view, options);
    work += this.drawOnTop(options);
    work += this.drawBeneath({ ...options, compositing: "under" });
    this.showPixels();
    if (work > 0 && !this.paintedReported) {
      this.paintedReported = true;
      this.next.push({ kind: "painted", at: 0 });
    }
    if (this.belowNext < this.below.length) return this.schedule();
    this.below = [];
    this.belowNext = 0;
    // Everything is on screen: every marker's elements are drawn.
    for (const marker of this.markers.splice(0)) {
      this.next.push({ kind: "shown", marker, at: 0 });
      this.next.push({ kind: "idle", marker, at: 0 });
    }
    if (this.next.length > 0) this.schedule();
  }

  /** Puts the pixels changed this frame on the canvas. */
  private showPixels(): void {
    const changed = this.raster.takeChanged();
    if (!changed) return;
    this.image ??= new ImageData(this.raster.pixels, this.raster.width, this.raster.height);
    const { left, top, right, bottom } = changed;
    this.ctx.putImageData(this.image, 0, 0, left, top, right - left, bottom - top);
  }

  /** Clears the canvas and queues every visible element to be drawn beneath, highest first. */
  private clearAll(): void {
    this.redrawAll = false;
    this.sortOrder();
    this.below = this.order.slice().reverse();
    this.belowNext = 0;
    this.onTop.length = 0;
    this.dirty = [];
    this.beneathStarted = false;
    this.floor = undefined;
    this.top = undefined;
    this.raster.clearRect(this.raster.whole());
  }

  /** Clears each area (board units) and draws again, in order, the elements drawn there. */
  private repaint(areas: readonly Rect[], view: InkView, options: RenderOptions): number {
    if (areas.length === 0) return 0;
    // Whole pixels around each area, so antialiased edges are redrawn too; and the part of the board they show.
    const pixelAreas = areas.map((area): [PixelRect, Rect] => {
      const pixels: PixelRect = {
        left: Math.floor(area.minX * view.scale + view.left) - 1,
        top: Math.floor(area.minY * view.scale + view.top) - 1,
        right: Math.ceil(area.maxX * view.scale + view.left) + 1,
        bottom: Math.ceil(area.maxY * view.scale + view.top) + 1,
      };
      const board = {
        minX: (pixels.left - view.left) / view.scale,
        minY: (pixels.top - view.top) / view.scale,
        maxX: (pixels.right - view.left) / view.scale,
        maxY: (pixels.bottom - view.top) / view.scale,
      };
      return [pixels, board];
    });
    // The elements drawn that may meet any of the areas, then those of each area.
    const union = pixelAreas
      .map(([, board]) => board)
      .reduce((a, b) => ({
        minX: Math.min(a.minX, b.minX),
        minY: Math.min(a.minY, b.minY),
        maxX: Math.max(a.maxX, b.maxX),
        maxY: Math.max(a.maxY, b.maxY),
      }));
    const candidates = this.drawnMeeting(union);
    let work = 0;
    for (const [pixels, board] of pixelAreas) {
      const inArea = candidates.filter((element) => meets(element, board, this.measure));
      work += this.repaintPixels(pixels, inArea, options);
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

  /** Clears a rectangle of pixels and draws the elements given there, within it. */
  private repaintPixels(pixels: PixelRect, elements: readonly InkElement[], options: RenderOptions): number {
    this.raster.setClip(pixels);
    const clip = this.raster.clipRect();
    if (clip.left >= clip.right || clip.top >= clip.bottom) {
      this.raster.setClip(undefined);
      return 0;
    }
    this.raster.clearRect(clip);
    const work = drawElements(this.raster, elements, options);
    this.raster.setClip(undefined);
    return work;
  }

  private drawOnTop(options: RenderOptions): number {
    if (this.onTop.length === 0) return 0;
    const slots = this.onTop.splice(0).filter((slot) => slot.live);
    slots.sort(ascending);
    const elements = slots.map((slot) => slot.element);
    const highest = elements.at(-1);
    if (highest && (!this.top || byStacking(highest, this.top) > 0)) this.top = highest;
    return drawElements(this.raster, elements, options);
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
      work += drawElements(this.raster, slice, options);
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

/**
 * Elements as they cross to the worker: what drawing needs, packed so that sending a catch-up's 100,000 elements
 * copies a few large buffers rather than cloning a million values one by one. Numbers go in one array, the kinds in
 * one string of a character each, and every element's id, colours and data in one string, cut by offsets.
 */
interface PackedElements {
  /** s, z, x, y, w, h, sw of each element. */
  numbers: Float64Array;
  kinds: string;
  /** i, c, f and d of every element, one after the other. */
  text: string;
  /** Where each of those four strings ends in `text`. */
  ends: Uint32Array;
}

const NUMBERS = 7;
const STRINGS = 4;

/**
 * A plain loop that appends to the strings: the page's thread packs a whole catch-up, and a closure and an array per
 * element, joined at the end, took twice as long (100,000 elements of mixed kinds in answers of 5,900, packed and
 * cloned in Node: 136 to 166 ms, now 60 to 91 ms).
 */
function pack(elements: readonly InkElement[]): PackedElements {
  const numbers = new Float64Array(elements.length * NUMBERS);
  const ends = new Uint32Array(elements.length * STRINGS);
  let kinds = "";
  let text = "";
  for (let index = 0; index < elements.length; index += 1) {
    const element = elements[index] as InkElement;
    const at = index * NUMBERS;
    numbers[at] = element.s;
    numbers[at + 1] = element.z;
    numbers[at + 2] = element.x;
    numbers[at + 3] = element.y;
    numbers[at + 4] = element.w;
    numbers[at + 5] = element.h;
    numbers[at + 6] = element.sw;
    kinds += element.t;
    const end = index * STRINGS;
    text += element.i;
    ends[end] = text.length;
    text += element.c;
    ends[end + 1] = text.length;
    text += element.f;
    ends[end + 2] = text.length;
    text += element.d;
    ends[end + 3] = text.length;
  }
  return { numbers, kinds, text, ends };
}

function unpack({ numbers, kinds, text, ends }: PackedElements): InkElement[] {
  const elements: InkElement[] = [];
  let from = 0;
  const next = (at: number) => text.slice(from, (from = ends[at] as number));
  for (let index = 0; index < kinds.length; index += 1) {
    const at = index * NUMBERS;
    const strings = index * STRINGS;
    elements.push({
      i: next(strings),
      c: next(strings + 1),
      f: next(strings + 2),
      d: next(strings + 3),
      s: numbers[at] as number,
      z: numbers[at + 1] as number,
      x: numbers[at + 2] as number,
      y: numbers[at + 3] as number,
      w: numbers[at + 4] as number,
      h: numbers[at + 5] as number,
      sw: numbers[at + 6] as number,
      t: kinds[index] as ElementKind,
    });
  }
  return elements;
}

/** Messages from the page to the ink worker. */
export type InkMessage =
  | { t: "init"; canvas: OffscreenCanvas }
  | { t: "view"; view: InkView }
  | { t: "put"; elements: PackedElements }
  | { t: "remove"; ids: string[] }
  | { t: "replace"; elements: PackedElements }
  | { t: "mark"; marker: number }
  | { t: "row"; id: number; y: number };

/** Applies a message to a painter: in the worker, or here when the worker could not start. */
function dispatch(painter: Ink, message: Exclude<InkMessage, { t: "init" }>): void {
  switch (message.t) {
    case "view":
      return painter.view(message.view);
    case "put":
      return painter.put(unpack(message.elements));
    case "remove":
      return painter.remove(message.ids);
    case "replace":
      return painter.replace(unpack(message.elements));
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
      for (const message of this.waiting) worker.postMessage(message, transferables(message));
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
    else this.send({ t: "put", elements: pack(elements) });
  }

  remove(ids: readonly string[]): void {
    this.send({ t: "remove", ids: ids.slice() });
  }

  replace(elements: readonly InkElement[]): void {
    if (this.local) this.local.replace(elements);
    else this.send({ t: "replace", elements: pack(elements) });
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
    else this.worker.postMessage(message, transferables(message));
  }
}

/** A message's buffers, handed over rather than copied. */
const transferables = (message: Exclude<InkMessage, { t: "init" }>): Transferable[] =>
  message.t === "put" || message.t === "replace" ? [message.elements.numbers.buffer, message.elements.ends.buffer] : [];

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
