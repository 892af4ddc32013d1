/**
 * Pointer input on the board, for every tool, with a mouse, a pen or fingers:
 * - the pen draws freehand lines with the pen's pressure; shapes, lines and arrows are dragged out (Shift: square,
 *   circle, or 45° steps); text and notes are placed with a click and typed in place; the eraser takes every
 *   element it passes over, as one action;
 * - the select tool selects with a click (Shift adds or removes), a box (Shift adds), moves the selection by
 *   dragging it (one edit for all of it), resizes it by its handles, and a double click edits a text or a note;
 * - wheel pans, Ctrl+wheel (or a trackpad pinch) zooms; the middle button or Space+drag pans;
 * - touch: two fingers pan and pinch; one finger uses the tool, until a pen is seen, from when on fingers only pan
 *   and pinch (a tablet's pen draws, the hand moves the board); while a pen is down every touch is ignored (the
 *   palm resting on the screen).
 * Positions go through the viewport, so everything lands on the board point under the pointer at any zoom.
 */
import type { ElementKind, ElementRecord } from "../../protocol/events";
import { quantizePressure, type Sample } from "../../protocol/points";
import { randomId } from "../../protocol/random-id";
import type { Rect } from "../core/viewport";
import type { BoardPort, LineDraft, NewElement, Style } from "./board-port";
import { elementsInRect, elementsTouched, topmostAt } from "../core/element-geometry";
import { handleAt, handlesOf, mapBox, resizedBounds } from "./geometry";
import { HANDLE_PX, type BoardCanvas, type HandleName, type Overlays } from "./overlays";
import type { Selection } from "./selection";
import { SHAPE_KINDS, type Tool } from "./tools";

/** What a text or note being typed is: a new one at a point, or one that exists. */
export type TextTarget = { kind: "t" | "n"; at: [x: number, y: number] } | { element: ElementRecord };

export interface PointerInputDeps {
  surface: HTMLElement;
  canvas: BoardCanvas;
  board: BoardPort;
  selection: Selection;
  tool(): Tool;
  style(): Style;
  /** Opens the text editor. */
  editText(target: TextTarget): void;
  /** This user's pointer on the board, for the others' cursors. */
  cursor(point: [x: number, y: number]): void;
  /** The overlays changed (previews, box, eraser). */
  overlaysChanged(): void;
}

/** How far the pointer reaches around itself, CSS pixels on screen at any zoom: the eraser, a click. */
const REACH_PX = 6;
const ERASER_REACH_PX = 8;
/** A finger or a click that moves less than this (CSS pixels) has not dragged yet. */
const SLOP_PX = 4;
const TOUCH_SLOP_PX = 8;
/** Zoom factor per pixel of wheel travel: a notch (about 100 px) zooms by about 1.2. */
const WHEEL_ZOOM_PER_PX = 0.002;
/** Pixels per line, for wheels that count in lines. */
const LINE_PX = 16;
/** A shape dragged out smaller than this (CSS pixels both ways) is a click: nothing is made. */
const SMALLEST_SHAPE_PX = 3;

type Point = [x: number, y: number];

type Gesture =
  | { kind: "line"; pointerId: number; draft: LineDraft }
  | {
      kind: "shape";
      pointerId: number;
      t: Extract<ElementKind, "r" | "e" | "l" | "a">;
      start: Point;
      preview: ElementRecord;
    }
  /** The eraser: what it touched is hidden at once here and erased in one action when it lifts. */
  | { kind: "erase"; pointerId: number; last: Point; erased: Set<string> }
  | { kind: "move"; pointerId: number; start: Point; originals: ElementRecord[]; moved: boolean }
  | { kind: "resize"; pointerId: number; handle: HandleName; from: Rect; originals: ElementRecord[] }
  | { kind: "marquee"; pointerId: number; start: Point; base: Set<string> }
  | { kind: "place"; pointerId: number; start: Point }
  | { kind: "pan"; pointerId: number; last: Point }
  /** A finger is down but has not moved far enough to say whether it uses the tool or a pinch begins. */
  | { kind: "undecided"; pointerId: number; start: Point; event: PointerEvent }
  | { kind: "pinch"; middle: Point; spread: number };

export class PointerInput {
  private gesture: Gesture | undefined;
  /** Fingers on the board, by pointer id, at their stage positions. */
  private readonly touches = new Map<number, Point>();
  private penSeen = false;
  private readonly pensDown = new Set<number>();
  private spaceHeld = false;
  /** What the gestures draw above the board (read by the board view through `overlays`). */
  private previews: ElementRecord[] = [];
  private marquee: Rect | undefined;
  private eraser: Overlays["eraser"];

  constructor(private readonly deps: PointerInputDeps) {
    const { surface } = deps;
    surface.addEventListener("pointerdown", (event) => this.down(event));
    surface.addEventListener("pointermove", (event) => this.move(event));
    surface.addEventListener("pointerup", (event) => this.up(event, true));
    surface.addEventListener("pointercancel", (event) => this.up(event, false));
    surface.addEventListener("pointerleave", () => this.showEraser(undefined));
    surface.addEventListener("dblclick", (event) => this.doubleClick(event));
    // Not passive: the page itself must not scroll or zoom.
    surface.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    // `touch-action: none` stops the page panning, but Chromium still starts a fling when a finger lifts while moving
    // (a quick stroke), and the next tap within the fling's second only stops it: a tap on Undo right after drawing
    // was lost. A touch move whose default is prevented starts no fling.
    surface.addEventListener("touchmove", (event) => event.preventDefault(), { passive: false });
    addEventListener("keydown", (event) => {
      if (event.key === " " && !isTyping(event.target)) this.spaceHeld = true;
    });
    addEventListener("keyup", (event) => {
      if (event.key === " ") this.spaceHeld = false;
    });
    addEventListener("blur", () => (this.spaceHeld = false));
  }

  /** True while a gesture that makes something runs: undo waits for the pointer to lift. */
  get busy(): boolean {
    return this.gesture !== undefined && !["pan", "pinch", "undecided", "marquee"].includes(this.gesture.kind);
  }

  /** What the current gesture shows above the board. */
  overlays(): Omit<Overlays, "selection"> & { previews: readonly ElementRecord[] } {
    const hidden = new Set<string>(this.gesture?.kind === "erase" ? this.gesture.erased : []);
    if (this.gesture?.kind === "move" || this.gesture?.kind === "resize")
      for (const element of this.previews) hidden.add(element.i);
    return { previews: this.previews, hidden, marquee: this.marquee, eraser: this.eraser };
  }

  /** Whether the selection's handles are drawn: not while it moves, and not for a view-only page. */
  get handlesShown(): boolean {
    return this.deps.board.canEdit && this.gesture?.kind !== "move";
  }

  /** Drops whatever the pointer was doing, making nothing (Escape). */
  cancel(): void {
    if (this.gesture?.kind === "line") this.gesture.draft.end();
    this.gesture = undefined;
    this.setPreviews([]);
    this.marquee = undefined;
  }

  private get viewport() {
    return this.deps.canvas.viewport;
  }

  private boardPoint(event: { clientX: number; clientY: number }): Point {
    return this.viewport.toBoard(...this.deps.canvas.stagePoint(event));
  }

  private down(event: PointerEvent): void {
    const at = this.deps.canvas.stagePoint(event);
    if (event.pointerType === "pen") {
      this.penSeen = true;
      this.pensDown.add(event.pointerId);
      // The palm landed first: whatever it started is not what the pen meant.
      if (this.gesture && this.gesture.kind !== "pinch" && this.touches.has(this.gesture.pointerId)) this.cancel();
      this.touches.clear();
    }
    if (event.pointerType === "touch") {
      if (this.pensDown.size > 0) return;
      this.touches.set(event.pointerId, at);
      this.deps.surface.setPointerCapture(event.pointerId);
      if (this.touches.size === 2) this.startPinch();
      else if (this.touches.size === 1) {
        if (this.penSeen) this.gesture = { kind: "pan", pointerId: event.pointerId, last: at };
        else this.gesture = { kind: "undecided", pointerId: event.pointerId, start: at, event };
      }
      return;
    }
    if (this.gesture) return;
    this.deps.surface.setPointerCapture(event.pointerId);
    if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
      event.preventDefault();
      this.gesture = { kind: "pan", pointerId: event.pointerId, last: at };
      return;
    }
    // A pen's eraser end, or its barrel button held (buttons 32), erases whatever the tool.
    const tool = event.buttons & 32 ? "eraser" : this.deps.tool();
    if (event.button === 0 || (event.pointerType === "pen" && event.button === 5)) this.start(event, tool);
  }

  private move(event: PointerEvent): void {
    const at = this.deps.canvas.stagePoint(event);
    const point = this.viewport.toBoard(...at);
    if (event.pointerType !== "touch" || !this.penSeen) this.deps.cursor(point);
    if (this.deps.tool() === "eraser" && event.pointerType !== "touch")
      this.showEraser({ x: point[0], y: point[1], reach: ERASER_REACH_PX / this.viewport.scale });
    if (event.pointerType === "touch") {
      if (!this.touches.has(event.pointerId)) return;
      this.touches.set(event.pointerId, at);
      if (this.gesture?.kind === "pinch") return this.pinch();
      if (this.gesture?.kind === "undecided" && this.gesture.pointerId === event.pointerId) {
        const { start, event: first } = this.gesture;
        if (Math.hypot(at[0] - start[0], at[1] - start[1]) < TOUCH_SLOP_PX) return;
        this.start(first, this.deps.tool());
      }
    }
    const gesture = this.gesture;
    if (!gesture || gesture.kind === "pinch" || gesture.pointerId !== event.pointerId) return;
    switch (gesture.kind) {
      case "pan":
        this.panBy(at[0] - gesture.last[0], at[1] - gesture.last[1]);
        gesture.last = at;
        return;
      case "line": {
        // Coalesced events carry every sample the hardware made since the last frame: smoother lines.
        const samples = (event.getCoalescedEvents?.() ?? [event]).map((sample) => this.sample(sample));
        gesture.draft.extend(samples.length > 0 ? samples : [this.sample(event)]);
        return;
      }
      case "shape":
        gesture.preview = this.shapeOf(gesture, point, event.shiftKey);
        return this.setPreviews([gesture.preview]);
      case "erase":
        return this.erase(gesture, point);
      case "move": {
        const [dx, dy] = [point[0] - gesture.start[0], point[1] - gesture.start[1]];
        if (!gesture.moved && Math.hypot(dx, dy) * this.viewport.scale < SLOP_PX) return;
        gesture.moved = true;
        return this.setPreviews(
          gesture.originals.map((element) => ({ ...element, x: element.x + dx, y: element.y + dy })),
        );
      }
      case "resize":
        return this.setPreviews(this.resized(gesture, point, event.shiftKey));
      case "marquee": {
        this.marquee = rectBetween(gesture.start, point);
        const inside = elementsInRect(this.deps.board.elements(), this.marquee, "contain").map((element) => element.i);
        this.deps.selection.set([...gesture.base, ...inside]);
        return this.deps.overlaysChanged();
      }
      default:
        return;
    }
  }

  private up(event: PointerEvent, lifted: boolean): void {
    this.touches.delete(event.pointerId);
    this.pensDown.delete(event.pointerId);
    const gesture = this.gesture;
    if (gesture?.kind === "pinch") {
      if (this.touches.size < 2) this.gesture = undefined;
      return;
    }
    if (!gesture || gesture.pointerId !== event.pointerId) return;
    // A finger lifted without moving: a tap, which uses the tool where it touched.
    if (gesture.kind === "undecided") {
      this.gesture = undefined;
      if (lifted) {
        this.start(gesture.event, this.deps.tool());
        this.finish(gesture.event, true);
      }
      return;
    }
    this.finish(event, lifted);
  }

  private wheel(event: WheelEvent): void {
    event.preventDefault();
    const unit = event.deltaMode === WheelEvent.DOM_DELTA_LINE ? LINE_PX : 1;
    const [dx, dy] = [event.deltaX * unit, event.deltaY * unit];
    // Browsers report a trackpad pinch as a wheel with the Ctrl key.
    if (event.ctrlKey || event.metaKey) {
      this.viewport.zoomAt(...this.deps.canvas.stagePoint(event), Math.exp(-dy * WHEEL_ZOOM_PER_PX));
      this.deps.canvas.viewChanged();
    } else if (event.shiftKey && dx === 0) this.panBy(-dy, 0);
    else this.panBy(-dx, -dy);
  }

  private doubleClick(event: MouseEvent): void {
    if (!this.deps.board.canEdit || this.deps.tool() !== "select") return;
    const element = topmostAt(this.deps.board.elements(), this.boardPoint(event), REACH_PX / this.viewport.scale);
    if (element && (element.t === "t" || element.t === "n")) this.deps.editText({ element });
  }

  private panBy(dx: number, dy: number): void {
    this.viewport.panBy(dx, dy);
    this.deps.canvas.viewChanged();
  }

  private sample(event: PointerEvent): Sample {
    const [x, y] = this.boardPoint(event);
    return [x, y, quantizePressure(event.pressure, event.pointerType === "pen")];
  }

  /** Starts the tool's gesture where the pointer went down. */
  private start(event: PointerEvent, tool: Tool): void {
    const { board, selection } = this.deps;
    const point = this.boardPoint(event);
    const pointerId = event.pointerId;
    if (!board.canEdit && tool !== "select") return;
    const shape = SHAPE_KINDS[tool];
    if (shape) {
      const gesture = { kind: "shape" as const, pointerId, t: shape, start: point, preview: this.blank(shape, point) };
      this.gesture = gesture;
      return;
    }
    switch (tool) {
      case "pen":
        this.gesture = { kind: "line", pointerId, draft: board.beginLine(this.sample(event), this.deps.style()) };
        return;
      case "eraser": {
        const gesture = { kind: "erase" as const, pointerId, last: point, erased: new Set<string>() };
        this.gesture = gesture;
        return this.erase(gesture, point);
      }
      case "text":
      case "note":
        this.gesture = { kind: "place", pointerId, start: point };
        return;
      default:
        break;
    }
    const reach = REACH_PX / this.viewport.scale;
    const bounds = selection.bounds();
    const handle =
      bounds && board.canEdit
        ? handleAt(handlesOf(bounds), point, (HANDLE_PX / 2 + 2) / this.viewport.scale)
        : undefined;
    if (handle && bounds) {
      this.gesture = { kind: "resize", pointerId, handle: handle.name, from: bounds, originals: selection.elements() };
      return;
    }
    const hit = topmostAt(board.elements(), point, reach);
    if (!hit) {
      if (!event.shiftKey) selection.clear();
      this.gesture = { kind: "marquee", pointerId, start: point, base: new Set(selection.elements().map((e) => e.i)) };
      return;
    }
    if (event.shiftKey) {
      selection.toggle(hit.i);
      if (!selection.has(hit.i)) return;
    } else if (!selection.has(hit.i)) selection.set([hit.i]);
    if (board.canEdit)
      this.gesture = { kind: "move", pointerId, start: point, originals: selection.elements(), moved: false };
  }

  /** Ends the gesture: what it made or changed becomes one undoable action. */
  private finish(event: { clientX: number; clientY: number; shiftKey: boolean }, lifted: boolean): void {
    const gesture = this.gesture;
    this.gesture = undefined;
    if (!gesture) return;
    const { board, selection } = this.deps;
    switch (gesture.kind) {
      case "line":
        gesture.draft.end();
        break;
      case "erase":
        // A cancelled eraser (a second finger) erases nothing.
        if (lifted && gesture.erased.size > 0) board.erase([...gesture.erased]);
        this.deps.overlaysChanged();
        break;
      case "shape": {
        const { preview } = gesture;
        const small = SMALLEST_SHAPE_PX / this.viewport.scale;
        if (lifted && (Math.abs(preview.w) >= small || Math.abs(preview.h) >= small))
          board.create([newElementOf(preview)]);
        break;
      }
      case "move":
        if (lifted && gesture.moved && this.previews.length > 0)
          board.edit(this.previews.map((element) => [element.i, { x: element.x, y: element.y }]));
        break;
      case "resize":
        if (lifted && this.previews.length > 0)
          board.edit(
            this.previews.map((element) => [
              element.i,
              {
                x: element.x,
                y: element.y,
                w: element.w,
                h: element.h,
                ...(element.t === "t" ? { sw: element.sw } : {}),
              },
            ]),
          );
        break;
      case "marquee":
        this.marquee = undefined;
        break;
      case "place": {
        if (!lifted) break;
        const point = this.boardPoint(event);
        const existing = topmostAt(board.elements(), point, REACH_PX / this.viewport.scale);
        const tool = this.deps.tool();
        // The text tool edits any text or note it lands on; the note tool only notes (on a text it makes a note).
        if (existing && (existing.t === "n" || (existing.t === "t" && tool === "text")))
          this.deps.editText({ element: existing });
        else this.deps.editText({ kind: tool === "note" ? "n" : "t", at: point });
        selection.clear();
        break;
      }
      default:
        break;
    }
    this.setPreviews([]);
  }

  /** An element of kind `t` at a point, of size 0, in the current style: what a shape gesture starts from. */
  private blank(t: Extract<ElementKind, "r" | "e" | "l" | "a">, [x, y]: Point): ElementRecord {
    const { c, sw, f } = this.deps.style();
    return {
      s: 0,
      g: 0,
      o: 0,
      v: 0,
      i: randomId(16),
      u: this.deps.board.userId,
      t,
      z: 0,
      x,
      y,
      w: 0,
      h: 0,
      c,
      sw,
      f: t === "r" || t === "e" ? f : "",
      n: 0,
      d: "",
      l: 0,
    };
  }

  private shapeOf(gesture: Extract<Gesture, { kind: "shape" }>, [x, y]: Point, constrain: boolean): ElementRecord {
    const [sx, sy] = gesture.start;
    let [w, h] = [x - sx, y - sy];
    if (gesture.t === "l" || gesture.t === "a") {
      if (constrain) {
        // 45° steps: the angle snapped, the length kept.
        const angle = Math.round(Math.atan2(h, w) / (Math.PI / 4)) * (Math.PI / 4);
        const length = Math.hypot(w, h);
        [w, h] = [Math.round(Math.cos(angle) * length), Math.round(Math.sin(angle) * length)];
      }
      return { ...gesture.preview, x: sx, y: sy, w, h };
    }
    if (constrain) {
      const side = Math.max(Math.abs(w), Math.abs(h));
      [w, h] = [Math.sign(w || 1) * side, Math.sign(h || 1) * side];
    }
    return { ...gesture.preview, x: Math.min(sx, sx + w), y: Math.min(sy, sy + h), w: Math.abs(w), h: Math.abs(h) };
  }

  private resized(gesture: Extract<Gesture, { kind: "resize" }>, point: Point, shift: boolean): ElementRecord[] {
    const holdsText = gesture.originals.some((element) => element.t === "t");
    const to = resizedBounds(gesture.from, gesture.handle, point, shift || holdsText);
    const fontScale = (to.maxY - to.minY) / Math.max(1, gesture.from.maxY - gesture.from.minY);
    return gesture.originals.map((element) => {
      const [x, y, w, h] = mapBox(element, gesture.from, to);
      // Text grows with its box (its font scales); a note keeps its font and rewraps.
      const sw = element.t === "t" ? Math.max(8, Math.min(256, Math.round(element.sw * fontScale))) : element.sw;
      return { ...element, x, y, w, h, sw };
    });
  }

  private erase(gesture: Extract<Gesture, { kind: "erase" }>, to: Point): void {
    const reach = ERASER_REACH_PX / this.viewport.scale;
    const untouched = this.deps.board.elements().filter((element) => !gesture.erased.has(element.i));
    const hit = elementsTouched(untouched, gesture.last, to, reach).map((element) => element.i);
    if (hit.length > 0) {
      for (const id of hit) gesture.erased.add(id);
      this.deps.overlaysChanged();
    }
    gesture.last = to;
  }

  private showEraser(eraser: Overlays["eraser"]): void {
    if (!eraser && !this.eraser) return;
    this.eraser = eraser;
    this.deps.overlaysChanged();
  }

  private setPreviews(previews: ElementRecord[]): void {
    if (previews.length === 0 && this.previews.length === 0) return;
    this.previews = previews;
    this.deps.overlaysChanged();
  }

  /** A second finger landed: whatever the first was doing ends unmade, and the two pan and zoom the board. */
  private startPinch(): void {
    if (this.gesture?.kind === "line") this.gesture.draft.end();
    this.gesture = undefined;
    this.setPreviews([]);
    const [middle, spread] = this.fingers();
    this.gesture = { kind: "pinch", middle, spread };
  }

  private pinch(): void {
    const gesture = this.gesture as Extract<Gesture, { kind: "pinch" }>;
    const [middle, spread] = this.fingers();
    this.viewport.panBy(middle[0] - gesture.middle[0], middle[1] - gesture.middle[1]);
    if (gesture.spread > 0 && spread > 0) this.viewport.zoomAt(middle[0], middle[1], spread / gesture.spread);
    this.deps.canvas.viewChanged();
    Object.assign(gesture, { middle, spread });
  }

  /** The midpoint of the first two fingers and the distance between them. */
  private fingers(): [middle: Point, spread: number] {
    const [a, b] = [...this.touches.values()] as [Point, Point];
    return [[(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], Math.hypot(a[0] - b[0], a[1] - b[1])];
  }
}

function rectBetween([ax, ay]: Point, [bx, by]: Point): Rect {
  return { minX: Math.min(ax, bx), minY: Math.min(ay, by), maxX: Math.max(ax, bx), maxY: Math.max(ay, by) };
}

/** What the board is asked to add for a previewed element. */
function newElementOf({ t, x, y, w, h, c, sw, f, d }: ElementRecord): NewElement {
  return { t, b: [x, y, w, h], c, sw, f, d };
}

/** Keys typed into a field (the name box, the text editor) are text, not shortcuts. */
export function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}
