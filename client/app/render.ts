/**
 * Elements onto a 2D canvas (the screen's ink and overlay, and the PNG export), from the geometry of ./shapes.ts,
 * fast enough for a board of 100,000 lines:
 * - elements whose ink lies outside the visible part of the board are skipped;
 * - a freehand line is filled along its outline where the canvas shows its width as 2 pixels or more, and drawn as
 *   a polyline of its mean width below that, where the two cannot be told apart (./freehand.ts): from afar a board
 *   costs what plain lines cost. Consecutive polylines of one colour and width share one path, stroked once (lines
 *   are opaque, so batching changes nothing but the cost; a path holds a few dozen, since the rasterizer slows down
 *   on paths with very many edges). Outlines are filled one by one, as the SVG export writes them: filled together,
 *   the nonzero rule could let one line's loop cut a hole in another;
 * - detail finer than the canvas can show is left out: an outline or polyline point closer than DETAIL_PX canvas
 *   pixels to the last one kept; text smaller than GREEK_PX pixels is drawn as a grey bar per line.
 *
 * The caller sets the context's transform to map board units to canvas pixels; paths are built in board units.
 */
import { COLOR_PATTERN } from "../../protocol/events";
import { freehandDetail, polylineWidth } from "./freehand";
import {
  arrowHead,
  baselineOf,
  FONT_FAMILY,
  insetBox,
  meets,
  MEASURE_SIZE,
  NOTE_FILL,
  hasOutline,
  outline,
  samplesOf,
  textLayout,
  toUnits,
  type InkElement,
  type Rect,
  type TextLayout,
  type TextMeasure,
} from "./shapes";

/** Points closer than this to the last point kept, in canvas pixels, are left out (the last point never is). */
const DETAIL_PX = 0.5;
/** Text whose font is smaller than this on the canvas, pixels, is drawn as bars (greeked). */
const GREEK_PX = 4;
/** Greeked lines are this opaque. */
const GREEK_ALPHA = 0.35;
/** Most polylines in one path. */
const LINES_PER_PATH = 64;
/** Work counted for drawing a shape or a line of text, in path points. */
const SHAPE_COST = 8;
const TEXT_LINE_COST = 24;

/** A 2D context on the page's thread or in a worker. */
export type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

export interface RenderOptions {
  /** Canvas pixels per board unit (the scale of the context's transform). */
  scale: number;
  /** Elements whose ink lies wholly outside this part of the board are skipped. */
  visible?: Rect;
  measure: TextMeasure;
  /** The context draws beneath what is there (`destination-over`): an element's parts go topmost first. */
  beneath?: boolean;
  /**
   * Outlines not computed yet may wait: past `until` (performance.now()), a freehand line whose outline is not at
   * hand is drawn as its polyline (a stand-in) and listed in `standIns`, to be drawn again once it is computed.
   */
  outlines?: { until: number; standIns: InkElement[] };
}

/** Colours seen, checked: a board has few, and a regular expression per element per frame adds up. */
const checked = new Map<string, string>();

/** A colour checked again (the service checked it): a bad one draws black rather than keeping the last colour. */
function safeColor(color: string): string {
  let safe = checked.get(color);
  if (safe === undefined) {
    safe = COLOR_PATTERN.test(color) ? color : "#000000";
    if (checked.size < 4_096) checked.set(color, safe);
  }
  return safe;
}

/** A text measure on a canvas context: advance widths in FONT_FAMILY at MEASURE_SIZE. */
export function canvasMeasure(ctx: Context2D): TextMeasure {
  const font = `${MEASURE_SIZE}px ${FONT_FAMILY}`;
  return (text) => {
    ctx.font = font;
    return ctx.measureText(text).width;
  };
}

/**
 * Draws the elements in the order given (each above the ones before it, with the context's compositing).
 * Returns the work done, in path points: a measure of the rasterizer's cost.
 */
export function drawElements(ctx: Context2D, elements: Iterable<InkElement>, options: RenderOptions): number {
  const { scale, visible, measure } = options;
  const pixel = 1 / scale;
  const minStepSquared = (DETAIL_PX * pixel) ** 2;
  let work = 0;
  // The open batch of polylines: one colour, one width.
  let batch: Path2D | undefined;
  let batchColor = "";
  let batchWidth = 0;
  let inBatch = 0;
  const flush = () => {
    if (!batch) return;
    ctx.strokeStyle = batchColor;
    ctx.lineWidth = batchWidth;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.stroke(batch);
    batch = undefined;
    inBatch = 0;
  };

  for (const element of elements) {
    if (visible && !meets(element, visible, measure)) continue;
    const color = safeColor(element.c);
    if (element.t === "f") {
      const samples = samplesOf(element);
      if (samples.points.length === 0) continue;
      const detail = freehandDetail(element.sw, scale);
      const standIn =
        detail === "outline" &&
        options.outlines !== undefined &&
        !hasOutline(element) &&
        performance.now() > options.outlines.until;
      if (standIn) options.outlines?.standIns.push(element);
      if (standIn || detail === "polyline") {
        const width = Math.max(polylineWidth(samples, element.sw), pixel);
        if (color !== batchColor || width !== batchWidth || inBatch === LINES_PER_PATH) {
          flush();
          [batchColor, batchWidth] = [color, width];
        }
        batch ??= new Path2D();
        inBatch += 1;
        work += tracePolyline(batch, samples.points, element.x, element.y, minStepSquared);
        continue;
      }
      flush();
      ctx.beginPath();
      work += traceOutline(ctx, outline(element), element.x, element.y, minStepSquared);
      ctx.fillStyle = color;
      ctx.fill();
      continue;
    }
    flush();
    work += drawShape(ctx, element, color, options);
  }
  flush();
  return work;
}

/** Adds a polyline through the samples (every third number is a pressure); returns the points added. */
function tracePolyline(path: Path2D, points: Float32Array, x: number, y: number, minStepSquared: number): number {
  let [lastX, lastY] = [points[0] as number, points[1] as number];
  path.moveTo(x + lastX, y + lastY);
  // A single sample is a segment of length zero: round caps make it a dot.
  if (points.length === 3) path.lineTo(x + lastX, y + lastY);
  let added = 1;
  const last = points.length - 3;
  for (let index = 3; index <= last; index += 3) {
    const [px, py] = [points[index] as number, points[index + 1] as number];
    if (index < last && (px - lastX) ** 2 + (py - lastY) ** 2 < minStepSquared) continue;
    path.lineTo(x + px, y + py);
    [lastX, lastY] = [px, py];
    added += 1;
  }
  return added;
}

/** Adds an outline polygon to the context's current path; returns the points added. */
function traceOutline(ctx: Context2D, points: Float32Array, x: number, y: number, minStepSquared: number): number {
  if (points.length < 2) return 0;
  let [lastX, lastY] = [points[0] as number, points[1] as number];
  ctx.moveTo(x + lastX, y + lastY);
  let added = 1;
  for (let index = 2; index < points.length; index += 2) {
    const [px, py] = [points[index] as number, points[index + 1] as number];
    if ((px - lastX) ** 2 + (py - lastY) ** 2 < minStepSquared) continue;
    ctx.lineTo(x + px, y + py);
    [lastX, lastY] = [px, py];
    added += 1;
  }
  ctx.closePath();
  return added;
}

/**
 * Rectangles, ellipses, lines, arrows, text and notes; returns the work done. An element drawn in parts (a fill and
 * a stroke, a note's paper and its text) draws them in reverse when drawing beneath, so the last part stays on top.
 */
function drawShape(ctx: Context2D, element: InkElement, color: string, options: RenderOptions): number {
  const lineWidth = Math.max(toUnits(element.sw), 1 / options.scale);
  const fill = element.f === "" ? undefined : safeColor(element.f);
  const inOrder = (...parts: (() => void)[]) => (options.beneath ? parts.reverse() : parts).forEach((part) => part());
  const stroke = () => {
    ctx.lineWidth = lineWidth;
    ctx.strokeStyle = color;
    ctx.stroke();
  };
  const fillPath = () => {
    if (!fill) return;
    ctx.fillStyle = fill;
    ctx.fill();
  };
  switch (element.t) {
    case "r": {
      const box = insetBox(element);
      ctx.beginPath();
      ctx.rect(box.x, box.y, box.w, box.h);
      ctx.lineJoin = "miter";
      inOrder(fillPath, stroke);
      return SHAPE_COST;
    }
    case "e": {
      const box = insetBox(element);
      ctx.beginPath();
      ctx.ellipse(box.x + box.w / 2, box.y + box.h / 2, box.w / 2, box.h / 2, 0, 0, 2 * Math.PI);
      inOrder(fillPath, stroke);
      return SHAPE_COST;
    }
    case "l":
    case "a": {
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(element.x, element.y);
      ctx.lineTo(element.x + element.w, element.y + element.h);
      if (element.t === "a") {
        const [leftX, leftY, tipX, tipY, rightX, rightY] = arrowHead(element);
        ctx.moveTo(leftX, leftY);
        ctx.lineTo(tipX, tipY);
        ctx.lineTo(rightX, rightY);
      }
      stroke();
      return SHAPE_COST;
    }
    case "t":
    case "n": {
      const layout = textLayout(element, options.measure);
      let work = 0;
      const paper = () => {
        if (element.t !== "n") return;
        ctx.fillStyle = fill ?? NOTE_FILL;
        ctx.fillRect(element.x, element.y, element.w, element.h);
      };
      inOrder(paper, () => (work = drawText(ctx, layout, color, options.scale)));
      return work;
    }
    default:
      return 0;
  }
}

function drawText(ctx: Context2D, layout: TextLayout, color: string, scale: number): number {
  ctx.fillStyle = color;
  if (layout.size * scale < GREEK_PX) {
    ctx.globalAlpha = GREEK_ALPHA;
    layout.lines.forEach((line, index) => {
      const baseline = baselineOf(layout, index);
      ctx.fillRect(layout.left, baseline - 0.6 * layout.size, line.width, 0.5 * layout.size);
    });
    ctx.globalAlpha = 1;
    return layout.lines.length;
  }
  ctx.font = `${layout.size}px ${FONT_FAMILY}`;
  ctx.textBaseline = "alphabetic";
  layout.lines.forEach((line, index) => ctx.fillText(line.text, layout.left, baselineOf(layout, index)));
  return layout.lines.length * TEXT_LINE_COST;
}
