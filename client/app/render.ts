/**
 * Strokes onto a 2D canvas, fast enough for a board of 100,000 of them: points come decoded from the shape
 * cache, and consecutive strokes of one colour and width go into one Path2D stroked once (strokes are opaque,
 * so batching them changes nothing but the cost, and stacking order between colours is kept).
 *
 * The caller sets the context's transform to map board units to canvas pixels; paths are built in board units.
 */
import { mayOverlap, shapeOf, UNITS_PER_WIDTH, type Drawable, type Rect } from "../core/stroke-geometry";

export interface RenderOptions {
  /** One canvas pixel in board units: no line is drawn thinner. */
  pixel: number;
  /** Strokes wholly outside this part of the board are skipped. */
  visible?: Rect;
}

/**
 * Draws the strokes in the order given (each above the ones before it, with the context's compositing).
 * Returns how many it drew (those in view).
 */
export function drawStrokes(ctx: CanvasRenderingContext2D, strokes: Iterable<Drawable>, options: RenderOptions): number {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  let path: Path2D | undefined;
  let color = "";
  let width = 0;
  let drawn = 0;
  const flush = () => {
    if (!path) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(width * UNITS_PER_WIDTH, options.pixel);
    ctx.stroke(path);
    path = undefined;
  };
  for (const stroke of strokes) {
    const shape = shapeOf(stroke);
    const { points } = shape;
    if (points.length === 0 || (options.visible && !mayOverlap(shape, options.visible))) continue;
    if (stroke.c !== color || stroke.w !== width) {
      flush();
      [color, width] = [stroke.c, stroke.w];
    }
    path ??= new Path2D();
    drawn += 1;
    path.moveTo(points[0] as number, points[1] as number);
    // A single point is a segment of length zero: round caps make it a dot.
    if (points.length === 2) path.lineTo(points[0] as number, points[1] as number);
    for (let index = 2; index < points.length; index += 2) path.lineTo(points[index] as number, points[index + 1] as number);
  }
  flush();
  return drawn;
}
