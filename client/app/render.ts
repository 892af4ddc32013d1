/**
 * Strokes onto a 2D canvas, fast enough for a board of 100,000 of them:
 * - points come decoded from the shape cache;
 * - consecutive strokes of one colour and width go into one Path2D, stroked once (strokes are opaque, so
 *   batching changes nothing but the cost, and the stacking order between colours is kept); a path holds a
 *   few dozen strokes at most, since the rasterizer slows down on paths with very many edges;
 * - detail finer than the canvas can show is left out: a point closer than DETAIL_PX canvas pixels to the last
 *   one kept adds nothing visible, and thin lines get bevel joins, which look the same as round ones at that
 *   size. Rasterizing the segments and joins is nearly all the cost of drawing a large board in software, and
 *   zoomed in, where the detail shows, every point is drawn.
 *
 * The caller sets the context's transform to map board units to canvas pixels; paths are built in board units.
 */
import { mayOverlap, shapeOf, UNITS_PER_WIDTH, type Drawable, type Rect } from "../core/stroke-geometry";

/** Points closer than this to the last point kept, in canvas pixels, are left out (the last point never is). */
const DETAIL_PX = 1.5;
/** Lines at least this wide, in canvas pixels, get round joins; thinner ones bevel joins. */
const ROUND_JOIN_PX = 4;
/** Most strokes in one path. */
const STROKES_PER_PATH = 64;

/** A 2D context on the page's thread or in a worker. */
export type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

export interface RenderOptions {
  /** One canvas pixel in board units: no line is drawn thinner, and detail below it is left out. */
  pixel: number;
  /** Strokes wholly outside this part of the board are skipped. */
  visible?: Rect;
}

/**
 * Draws the strokes in the order given (each above the ones before it, with the context's compositing).
 * Returns how many points it drew: a measure of the rasterizer's work.
 */
export function drawStrokes(ctx: Context2D, strokes: Iterable<Drawable>, options: RenderOptions): number {
  const minStepSquared = (DETAIL_PX * options.pixel) ** 2;
  ctx.lineCap = "round";
  let path: Path2D | undefined;
  let inPath = 0;
  let color = "";
  let width = 0;
  let drawn = 0;
  const flush = () => {
    if (!path) return;
    const lineWidth = Math.max(width * UNITS_PER_WIDTH, options.pixel);
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.lineJoin = lineWidth / options.pixel >= ROUND_JOIN_PX ? "round" : "bevel";
    ctx.stroke(path);
    path = undefined;
    inPath = 0;
  };
  for (const stroke of strokes) {
    const shape = shapeOf(stroke);
    const { points } = shape;
    if (points.length === 0 || (options.visible && !mayOverlap(shape, options.visible))) continue;
    if (stroke.c !== color || stroke.w !== width || inPath === STROKES_PER_PATH) {
      flush();
      color = stroke.c;
      width = stroke.w;
    }
    path ??= new Path2D();
    inPath += 1;
    let x = points[0] as number;
    let y = points[1] as number;
    path.moveTo(x, y);
    // A single point is a segment of length zero: round caps make it a dot.
    if (points.length === 2) path.lineTo(x, y);
    const last = points.length - 2;
    for (let index = 2; index <= last; index += 2) {
      const nextX = points[index] as number;
      const nextY = points[index + 1] as number;
      if (index < last && (nextX - x) * (nextX - x) + (nextY - y) * (nextY - y) < minStepSquared) continue;
      path.lineTo(nextX, nextY);
      x = nextX;
      y = nextY;
      drawn += 1;
    }
    drawn += 1;
  }
  flush();
  return drawn;
}
