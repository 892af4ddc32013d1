/**
 * Pointer input on the board: the pen and the eraser with a mouse, a pen or one finger; pinch and two-finger
 * pan on touch; wheel to pan and Ctrl+wheel (or a trackpad pinch) to zoom; this user's cursor sent to the
 * others. Every position goes through the view's current transform, so drawing and erasing land on the board
 * point under the pointer at any zoom.
 */
import type { History, EraseGesture } from "../core/history";
import { chunksOfLines } from "../core/lines";
import type { Pen } from "../core/outbox";
import type { WhiteboardSession } from "../core/session";
import { strokesTouched } from "../core/stroke-geometry";
import type { BoardView } from "./board-view";

export type Tool = "pen" | "eraser";

export interface PointerInputDeps {
  surface: HTMLElement;
  view: BoardView;
  session: WhiteboardSession;
  history: History;
  tool(): Tool;
  pen(): Pen;
}

/** The eraser's reach around the pointer, CSS pixels on screen at any zoom. */
const ERASER_REACH_PX = 8;
/** Least time between two cursor positions sent: about 15 a second. */
const CURSOR_INTERVAL_MS = 66;
/** When the pointer has rested this long, its position is sent again. */
const CURSOR_REST_MS = 400;
/**
 * A finger that moves less than this (CSS pixels) may still become a pinch when a second one lands; past it,
 * it draws. Fingers rarely land together, and a stroke already sent would have to be taken back.
 */
const TOUCH_SLOP_PX = 8;
/** Zoom factor per pixel of wheel travel: a notch (about 100 px) zooms by about 1.2. */
const WHEEL_ZOOM_PER_PX = 0.002;
/** Pixels per line, for wheels that count in lines. */
const LINE_PX = 16;

type Point = [x: number, y: number];

type Gesture =
  | { kind: "draw"; pointerId: number }
  | { kind: "erase"; pointerId: number; erasing: EraseGesture; last: Point }
  /** A finger is down but has not moved far enough to say whether it draws or a pinch begins. */
  | { kind: "undecided"; pointerId: number; start: Point }
  | { kind: "pinch"; middle: Point; spread: number };

export class PointerInput {
  private gesture: Gesture | undefined;
  /** Fingers on the board, by pointer id, at their stage positions. */
  private readonly touches = new Map<number, Point>();
  private cursorSentAt = -Infinity;
  private cursorTimer: ReturnType<typeof setTimeout> | undefined;
  private cursorAt: Point | undefined;
  private restTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: PointerInputDeps) {
    const { surface } = deps;
    surface.addEventListener("pointerdown", (event) => this.down(event));
    surface.addEventListener("pointermove", (event) => this.move(event));
    surface.addEventListener("pointerup", (event) => this.up(event, true));
    surface.addEventListener("pointercancel", (event) => this.up(event, false));
    surface.addEventListener("pointerleave", () => deps.view.showEraser(undefined));
    // Not passive: the page itself must not scroll or zoom.
    surface.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
  }

  /** True while a line is being drawn or an eraser dragged: undo waits for the pointer to lift. */
  get busy(): boolean {
    return this.gesture?.kind === "draw" || this.gesture?.kind === "erase";
  }

  private down(event: PointerEvent): void {
    const at = this.deps.view.stagePoint(event);
    if (event.pointerType === "touch") {
      this.touches.set(event.pointerId, at);
      this.deps.surface.setPointerCapture(event.pointerId);
      if (this.touches.size === 2) this.startPinch();
      else if (this.touches.size === 1) this.gesture = { kind: "undecided", pointerId: event.pointerId, start: at };
      return;
    }
    if (event.button !== 0 || this.gesture) return;
    this.deps.surface.setPointerCapture(event.pointerId);
    this.start(event.pointerId, at);
  }

  private move(event: PointerEvent): void {
    const { view } = this.deps;
    const at = view.stagePoint(event);
    this.sendCursor(view.viewport.toBoard(...at));
    const reach = ERASER_REACH_PX / view.viewport.scale;
    if (this.deps.tool() === "eraser" && event.pointerType !== "touch")
      view.showEraser(view.viewport.toBoard(...at), reach);
    if (event.pointerType === "touch" && this.touches.has(event.pointerId)) {
      this.touches.set(event.pointerId, at);
      if (this.gesture?.kind === "pinch") return this.pinch();
      if (this.gesture?.kind === "undecided" && this.gesture.pointerId === event.pointerId) {
        if (Math.hypot(at[0] - this.gesture.start[0], at[1] - this.gesture.start[1]) < TOUCH_SLOP_PX) return;
        this.start(event.pointerId, this.gesture.start);
      }
    }
    const gesture = this.gesture;
    if (gesture?.kind === "draw" && gesture.pointerId === event.pointerId) {
      // Coalesced events carry every sample the hardware made since the last frame: smoother lines.
      const [dx, dy] = [at[0] - event.clientX, at[1] - event.clientY];
      for (const sample of event.getCoalescedEvents?.() ?? [event])
        this.deps.session.extend(view.viewport.toBoard(sample.clientX + dx, sample.clientY + dy));
    } else if (gesture?.kind === "erase" && gesture.pointerId === event.pointerId) {
      const to = view.viewport.toBoard(...at);
      this.erase(gesture, to);
    }
  }

  private up(event: PointerEvent, lifted: boolean): void {
    this.touches.delete(event.pointerId);
    const gesture = this.gesture;
    if (gesture?.kind === "pinch") {
      if (this.touches.size < 2) this.gesture = undefined;
      return;
    }
    if (!gesture || gesture.pointerId !== event.pointerId) return;
    // A finger lifted without moving: a tap, which draws a dot or erases where it touched.
    if (gesture.kind === "undecided" && lifted) this.start(event.pointerId, gesture.start);
    this.finish();
  }

  private wheel(event: WheelEvent): void {
    event.preventDefault();
    const unit = event.deltaMode === WheelEvent.DOM_DELTA_LINE ? LINE_PX : 1;
    const [dx, dy] = [event.deltaX * unit, event.deltaY * unit];
    const { view } = this.deps;
    // Browsers report a trackpad pinch as a wheel with the Ctrl key.
    if (event.ctrlKey || event.metaKey) view.zoomAt(...view.stagePoint(event), Math.exp(-dy * WHEEL_ZOOM_PER_PX));
    else if (event.shiftKey && dx === 0) view.panBy(-dy, 0);
    else view.panBy(-dx, -dy);
  }

  /** Starts the current tool's gesture at a stage position. */
  private start(pointerId: number, at: Point): void {
    const { session, history, view, tool, pen } = this.deps;
    const point = view.viewport.toBoard(...at);
    if (tool() === "pen") {
      session.begin(point, { ...pen() });
      this.gesture = { kind: "draw", pointerId };
    } else {
      const gesture = { kind: "erase" as const, pointerId, erasing: history.startErasing(), last: point };
      this.gesture = gesture;
      this.erase(gesture, point);
    }
  }

  /** Ends whatever the pointer was doing: a line joins the undo history as one action. */
  private finish(): void {
    if (this.gesture?.kind === "draw") this.deps.history.drew(this.deps.session.end());
    this.gesture = undefined;
  }

  private erase(gesture: Extract<Gesture, { kind: "erase" }>, to: Point): void {
    const reach = ERASER_REACH_PX / this.deps.view.viewport.scale;
    const strokes = this.deps.session.board.strokes();
    // The eraser takes whole lines, as they were drawn, not the chunks they were sent in.
    const touched = chunksOfLines(strokes, strokesTouched(strokes, gesture.last, to, reach));
    if (touched.length > 0) gesture.erasing.erase(touched);
    gesture.last = to;
  }

  /** A second finger landed: whatever the first was doing ends, and the two pan and zoom the board. */
  private startPinch(): void {
    this.finish();
    const [middle, spread] = this.fingers();
    this.gesture = { kind: "pinch", middle, spread };
  }

  private pinch(): void {
    const gesture = this.gesture as Extract<Gesture, { kind: "pinch" }>;
    const [middle, spread] = this.fingers();
    const { view } = this.deps;
    view.panBy(middle[0] - gesture.middle[0], middle[1] - gesture.middle[1]);
    if (gesture.spread > 0 && spread > 0) view.zoomAt(middle[0], middle[1], spread / gesture.spread);
    Object.assign(gesture, { middle, spread });
  }

  /** The midpoint of the first two fingers and the distance between them. */
  private fingers(): [middle: Point, spread: number] {
    const [a, b] = [...this.touches.values()] as [Point, Point];
    return [[(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], Math.hypot(a[0] - b[0], a[1] - b[1])];
  }

  /** Sends this user's position at most every CURSOR_INTERVAL_MS, the last one always. */
  private sendCursor(point: Point): void {
    this.cursorAt = point;
    // Cursor messages are volatile, dropped while the connection is busy (sending the line just drawn, say):
    // where the pointer comes to rest goes once more a moment later, so that others see where it stopped.
    clearTimeout(this.restTimer);
    this.restTimer = setTimeout(() => this.deps.session.cursor(point), CURSOR_REST_MS);
    if (this.cursorTimer !== undefined) return;
    const wait = this.cursorSentAt + CURSOR_INTERVAL_MS - performance.now();
    const send = () => {
      this.cursorTimer = undefined;
      this.cursorSentAt = performance.now();
      if (this.cursorAt) this.deps.session.cursor(this.cursorAt);
    };
    if (wait <= 0) send();
    else this.cursorTimer = setTimeout(send, wait);
  }
}
