/**
 * Elements onto a raster (./raster.ts): the screen's ink and overlay, and the PNG export, from the geometry of
 * ./shapes.ts, fast enough for a board of 100,000 lines (docs/rendering.md):
 * - elements whose ink lies outside the visible part of the board are skipped;
 * - a freehand line is its outline (./freehand.ts) filled, at every zoom; outline points closer than DETAIL_PX pixels
 *   to the last one kept are left out, detail the pixels cannot show;
 * - rectangles, ellipses, lines and arrows are filled polygons: a stroke is the ring or capsule its width sweeps
 *   (miter corners on rectangles, round ends and joins on lines and arrows, as the canvas strokes them);
 * - text is drawn by a canvas (the browser's fonts) into a scratch canvas the size of its visible part, then
 *   composited into the raster in its place in the stacking order; text smaller than GREEK_PX pixels is a faint bar
 *   per line.
 *
 * Coordinates are board units; the options say how they map to the raster's pixels.
 */
import { COLOR_PATTERN } from "../../protocol/events";
import { traceFreehand } from "./freehand";
import { Raster, rgbOf, type Compositing, type Rgb } from "./raster";
import {
  arrowHead,
  baselineOf,
  FONT_FAMILY,
  inkBounds,
  insetBox,
  LINE_HEIGHT,
  meets,
  MEASURE_SIZE,
  NOTE_FILL,
  textLayout,
  toUnits,
  type InkElement,
  type Rect,
  type TextLayout,
  type TextMeasure,
} from "./shapes";

/** Outline points closer than this to the last point kept, in pixels, are left out (the last point never is). */
const DETAIL_PX = 1;
/** Text whose font is smaller than this on the canvas, pixels, is drawn as bars (greeked). */
const GREEK_PX = 4;
/** Greeked lines are this opaque. */
const GREEK_ALPHA = 0.35;
/** Curves (ellipses, round ends) are polygons whose sides stray from the curve by at most this, pixels. */
const CURVE_TOLERANCE_PX = 0.1;

/** A 2D context on the page's thread or in a worker. */
export type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

export interface RenderOptions {
  /** Raster pixels per board unit. */
  scale: number;
  /** Where the board's origin is on the raster, pixels. */
  left: number;
  top: number;
  /** Elements whose ink lies wholly outside this part of the board are skipped. */
  visible?: Rect;
  measure: TextMeasure;
  /** Text drawn by a canvas: see `TextPainter`. */
  text: TextPainter;
  /**
   * Each element over the ones before it, or under them (drawing beneath what is there, newest first): then an
   * element's parts go topmost first.
   */
  compositing: Compositing;
}

/** Colours seen, checked: a board has few, and a regular expression per element per frame adds up. */
const checked = new Map<string, Rgb>();

/** A colour checked again (the service checked it): a bad one draws black. */
function inkColor(color: string): Rgb {
  let rgb = checked.get(color);
  if (rgb === undefined) {
    rgb = rgbOf(COLOR_PATTERN.test(color) ? color : "#000000");
    if (checked.size < 4_096) checked.set(color, rgb);
  }
  return rgb;
}

/**
 * The one font every text is measured and drawn in, scaled to its size: each font size a canvas is given costs 2 to
 * 19 ms the first time it is used, in a worker a wait for the browser process (a late joiner's trace showed the ink's
 * first frame with text blocked 340 ms), while a size reached by the transform costs under a millisecond.
 */
const TEXT_FONT = `${MEASURE_SIZE}px ${FONT_FAMILY}`;

/** A text measure on a canvas context: advance widths in FONT_FAMILY at MEASURE_SIZE. */
export function canvasMeasure(ctx: Context2D): TextMeasure {
  return (text) => {
    ctx.font = TEXT_FONT;
    return ctx.measureText(text).width;
  };
}

/**
 * Loads the text font on this thread, whose first use costs 10 to 45 ms (more while the browser is busy): the ink's
 * worker does it as it starts, before a late joiner's first answer comes, not in the first frame that draws text.
 */
export function warmTextFont(): void {
  const ctx = scratchContext();
  ctx.font = TEXT_FONT;
  ctx.fillText("x", 0, 1);
  ctx.getImageData(0, 0, 1, 1);
}

/** A canvas of its own, in a worker or on the page. */
export function scratchContext(width = 1, height = 1): Context2D {
  const canvas =
    typeof OffscreenCanvas === "function" ? new OffscreenCanvas(width, height) : document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("this browser has no 2D canvas");
  return ctx;
}

/**
 * Draws text with the browser's fonts: lines of text onto a scratch canvas covering the part of the raster they may
 * reach, composited from there into the raster.
 */
export class TextPainter {
  private ctx: Context2D | undefined;

  constructor(private readonly newContext: (width: number, height: number) => Context2D = scratchContext) {}

  paint(raster: Raster, layout: TextLayout, color: string, options: RenderOptions): void {
    const { scale, left, top } = options;
    // Where glyphs may reach: the lines' boxes, with room for what hangs past an advance width or below a line.
    let widest = 0;
    for (const line of layout.lines) widest = Math.max(widest, line.width);
    const margin = layout.size / 2;
    const clip = raster.clipRect();
    const area = {
      left: Math.max(clip.left, Math.floor((layout.left - margin) * scale + left)),
      top: Math.max(clip.top, Math.floor((layout.top - margin) * scale + top)),
      right: Math.min(clip.right, Math.ceil((layout.left + widest + margin) * scale + left)),
      bottom: Math.min(
        clip.bottom,
        Math.ceil((layout.top + layout.lines.length * LINE_HEIGHT * layout.size + margin) * scale + top),
      ),
    };
    const [width, height] = [area.right - area.left, area.bottom - area.top];
    if (width <= 0 || height <= 0) return;
    // Beneath a crowded board most text is hidden: then the canvas's text drawing and read-back are spared.
    if (options.compositing === "under" && raster.covered(area)) return;
    const ctx = this.canvasFor(width, height);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, width, height);
    // Board units to the scratch canvas's pixels, and TEXT_FONT's size to the text's.
    const factor = layout.size / MEASURE_SIZE;
    ctx.setTransform(scale * factor, 0, 0, scale * factor, left - area.left, top - area.top);
    ctx.font = TEXT_FONT;
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = color;
    layout.lines.forEach((line, index) =>
      ctx.fillText(line.text, layout.left / factor, baselineOf(layout, index) / factor),
    );
    raster.image(ctx.getImageData(0, 0, width, height).data, width, area.left, area.top, options.compositing);
  }

  private canvasFor(width: number, height: number): Context2D {
    const ctx = this.ctx;
    if (ctx && ctx.canvas.width >= width && ctx.canvas.height >= height) return ctx;
    this.ctx = this.newContext(Math.max(width, ctx?.canvas.width ?? 0), Math.max(height, ctx?.canvas.height ?? 0));
    return this.ctx;
  }
}

/**
 * The elements, in the order given, drawn over white filling a canvas (the PNG export): rasterized at once, then put
 * on the canvas.
 */
export function drawOnWhite(
  ctx: Context2D,
  elements: Iterable<InkElement>,
  options: Pick<RenderOptions, "scale" | "left" | "top" | "measure">,
): void {
  const { width, height } = ctx.canvas;
  const raster = new Raster(width, height);
  raster.pixels.fill(255);
  drawElements(raster, elements, { ...options, text: new TextPainter(), compositing: "over" });
  ctx.putImageData(new ImageData(raster.pixels, width, height), 0, 0);
}

/**
 * Draws the elements in the order given, each over the ones before it or, compositing under, beneath them. Returns
 * how many were drawn.
 */
export function drawElements(raster: Raster, elements: Iterable<InkElement>, options: RenderOptions): number {
  const { visible, measure } = options;
  const under = options.compositing === "under";
  let drawn = 0;
  for (const element of elements) {
    if (visible && !meets(element, visible, measure)) continue;
    if (under && hiddenBeneath(raster, element, options)) continue;
    drawn += 1;
    if (element.t === "f") drawFreehand(raster, element, options);
    else drawShape(raster, element, options);
  }
  return drawn;
}

/**
 * Whether everything within an element's ink bounds is already opaque, so that drawing it beneath would change no
 * pixel: then neither its outline nor its fill is worth computing. On a crowded board seen whole, most of a
 * catch-up's elements are (96% of the benchmark's 100,000 mixed ones, docs/rendering.md).
 */
function hiddenBeneath(raster: Raster, element: InkElement, options: RenderOptions): boolean {
  const { scale, left, top } = options;
  const { minX, minY, maxX, maxY } = inkBounds(element, options.measure);
  // Glyphs may reach past their advance widths and line boxes (TextPainter's margin).
  const margin = element.t === "t" || element.t === "n" ? toUnits(element.sw) / 2 : 0;
  // A pixel's worth more on each side: edges are sampled within the pixels they touch.
  return raster.covered({
    left: Math.floor((minX - margin) * scale + left) - 1,
    top: Math.floor((minY - margin) * scale + top) - 1,
    right: Math.ceil((maxX + margin) * scale + left) + 1,
    bottom: Math.ceil((maxY + margin) * scale + top) + 1,
  });
}

function drawFreehand(raster: Raster, element: InkElement, options: RenderOptions): void {
  const outline = traceFreehand(element);
  if (outline.count === 0) return;
  const { scale } = options;
  const dx = element.x * scale + options.left;
  const dy = element.y * scale + options.top;
  raster.polygon(outline.points, 0, outline.count, scale, dx, dy, DETAIL_PX);
  raster.fill(inkColor(element.c), 1, options.compositing);
}

/** Segments of a circular arc of `radius` pixels through `angle` radians, within the curve tolerance. */
function arcSegments(radius: number, angle: number): number {
  if (radius <= CURVE_TOLERANCE_PX) return 2;
  const step = 2 * Math.acos(1 - CURVE_TOLERANCE_PX / radius);
  return Math.min(256, Math.max(2, Math.ceil(angle / step)));
}

/**
 * Rectangles, ellipses, lines, arrows, text and notes. An element drawn in parts (a fill and a stroke, a note's paper
 * and its text) draws them in reverse when drawing beneath, so the last part stays on top.
 */
function drawShape(raster: Raster, element: InkElement, options: RenderOptions): void {
  const { scale, left, top, compositing } = options;
  const px = (x: number) => x * scale + left;
  const py = (y: number) => y * scale + top;
  const color = inkColor(element.c);
  // No stroke thinner than a pixel.
  const half = Math.max(toUnits(element.sw), 1 / scale) / 2;
  const fill = element.f === "" ? undefined : inkColor(element.f);
  const inOrder = (...parts: (() => void)[]) =>
    (compositing === "under" ? parts.reverse() : parts).forEach((part) => part());
  switch (element.t) {
    case "r": {
      const box = insetBox(element);
      const [x0, y0, x1, y1] = [box.x, box.y, box.x + box.w, box.y + box.h];
      const fillBox = () => {
        if (!fill) return;
        rectangle(raster, px(x0), py(y0), px(x1), py(y1), false);
        raster.fill(fill, 1, compositing);
      };
      const stroke = () => {
        // The band the stroke sweeps: the box grown by half its width, less the box shrunk by as much.
        rectangle(raster, px(x0 - half), py(y0 - half), px(x1 + half), py(y1 + half), false);
        if (x1 - x0 > 2 * half && y1 - y0 > 2 * half)
          rectangle(raster, px(x0 + half), py(y0 + half), px(x1 - half), py(y1 - half), true);
        raster.fill(color, 1, compositing);
      };
      return inOrder(fillBox, stroke);
    }
    case "e": {
      const box = insetBox(element);
      const ellipse = {
        cx: px(box.x + box.w / 2),
        cy: py(box.y + box.h / 2),
        rx: (box.w / 2) * scale,
        ry: (box.h / 2) * scale,
      };
      const fillEllipse = () => {
        if (!fill) return;
        ellipseRing(raster, ellipse, 0, false);
        raster.fill(fill, 1, compositing);
      };
      const stroke = () => {
        ellipseRing(raster, ellipse, half * scale, false);
        ellipseRing(raster, ellipse, -half * scale, true);
        raster.fill(color, 1, compositing);
      };
      return inOrder(fillEllipse, stroke);
    }
    case "l":
    case "a": {
      const radius = half * scale;
      const [x0, y0, x1, y1] = [px(element.x), py(element.y), px(element.x + element.w), py(element.y + element.h)];
      capsule(raster, x0, y0, x1, y1, radius);
      if (element.t === "a") {
        const [leftX, leftY, tipX, tipY, rightX, rightY] = arrowHead(element);
        capsule(raster, px(leftX), py(leftY), px(tipX), py(tipY), radius);
        capsule(raster, px(tipX), py(tipY), px(rightX), py(rightY), radius);
      }
      raster.fill(color, 1, compositing);
      return;
    }
    case "t":
    case "n": {
      const layout = textLayout(element, options.measure);
      const paper = () => {
        if (element.t !== "n") return;
        const [x0, y0] = [px(element.x), py(element.y)];
        rectangle(raster, x0, y0, px(element.x + element.w), py(element.y + element.h), false);
        raster.fill(fill ?? inkColor(NOTE_FILL), 1, compositing);
      };
      return inOrder(paper, () => drawText(raster, layout, element.c, options));
    }
  }
}

/** A rectangle's four edges, pixels; `reversed`, the other way round (a hole in a ring). */
function rectangle(raster: Raster, x0: number, y0: number, x1: number, y1: number, reversed: boolean): void {
  if (reversed) [y0, y1] = [y1, y0];
  raster.edge(x0, y0, x1, y0);
  raster.edge(x1, y0, x1, y1);
  raster.edge(x1, y1, x0, y1);
  raster.edge(x0, y1, x0, y0);
}

/**
 * An ellipse (pixels), or the curve `offset` pixels outside it along its normals (inside for a negative offset): the
 * two sides of its stroke. `reversed`: traced the other way round (the inner side, a hole).
 */
function ellipseRing(
  raster: Raster,
  { cx, cy, rx, ry }: { cx: number; cy: number; rx: number; ry: number },
  offset: number,
  reversed: boolean,
): void {
  const count = Math.max(8, arcSegments(Math.max(rx, ry) + Math.abs(offset), 2 * Math.PI));
  const point = (index: number): [number, number] => {
    const angle = ((reversed ? -index : index) / count) * 2 * Math.PI;
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    // The outward normal of (rx cos, ry sin) is along (ry cos, rx sin).
    let [nx, ny] = [ry * cos, rx * sin];
    const length = Math.hypot(nx, ny);
    [nx, ny] = length > 0 ? [nx / length, ny / length] : [cos, sin];
    return [cx + rx * cos + nx * offset, cy + ry * sin + ny * offset];
  };
  let [lastX, lastY] = point(0);
  for (let index = 1; index <= count; index += 1) {
    const [x, y] = point(index);
    raster.edge(lastX, lastY, x, y);
    [lastX, lastY] = [x, y];
  }
}

/**
 * The shape a round-capped stroke of `radius` pixels sweeps along a segment: two sides and a half circle around each
 * end (a circle for a segment of no length), always traced the same way round, so that overlapping capsules (an
 * arrow's shaft and head) fill as their union.
 */
function capsule(raster: Raster, x0: number, y0: number, x1: number, y1: number, radius: number): void {
  const length = Math.hypot(x1 - x0, y1 - y0);
  const [ux, uy] = length > 0 ? [(x1 - x0) / length, (y1 - y0) / length] : [1, 0];
  const segments = arcSegments(radius, Math.PI);
  const points: number[] = [];
  // Around the end from one side to the other, then around the start.
  const around = (cx: number, cy: number, from: number) => {
    for (let index = 0; index <= segments; index += 1) {
      const angle = from + (index / segments) * Math.PI;
      const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
      points.push(cx + radius * (ux * cos - uy * sin), cy + radius * (ux * sin + uy * cos));
    }
  };
  around(x1, y1, -Math.PI / 2);
  around(x0, y0, Math.PI / 2);
  raster.polygon(points, 0, points.length / 2, 1, 0, 0);
}

function drawText(raster: Raster, layout: TextLayout, color: string, options: RenderOptions): void {
  if (layout.size * options.scale >= GREEK_PX) return options.text.paint(raster, layout, safeColor(color), options);
  const { scale, left, top } = options;
  layout.lines.forEach((line, index) => {
    const baseline = baselineOf(layout, index);
    const [x0, y0] = [layout.left * scale + left, (baseline - 0.6 * layout.size) * scale + top];
    rectangle(raster, x0, y0, x0 + line.width * scale, y0 + 0.5 * layout.size * scale, false);
  });
  raster.fill(inkColor(color), GREEK_ALPHA, options.compositing);
}

/** A colour the canvas may be given: checked, else black. */
function safeColor(color: string): string {
  return COLOR_PATTERN.test(color) ? color : "#000000";
}
