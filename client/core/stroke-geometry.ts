/**
 * Strokes as shapes on the board: their points decoded once per stroke object (drawing, hit testing and export
 * all read the same cached copy), their bounding boxes, their width in board units, and the eraser's hit test.
 * Everything is in board units (BOARD_WIDTH × BOARD_HEIGHT), whatever the zoom.
 */
import { BOARD_WIDTH } from "../../protocol/events";
import { decodePoints } from "../../protocol/points";

/** Widths are CSS pixels on a 1000-pixel-wide board: this many board units each. */
export const UNITS_PER_WIDTH = BOARD_WIDTH / 1000;

/** The parts of a stroke (a record or a chunk being sent) that give it a shape. */
export interface Drawable {
  p: string;
  c: string;
  w: number;
}

export interface Shape {
  /** `[x0, y0, x1, y1, ...]` in board units; empty if `p` does not decode (never the case for stored strokes). */
  points: readonly number[];
  /** Half the line width, in board units: how far ink reaches from the centre line. */
  radius: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/**
 * Keyed by the stroke object: the board keeps one record per stroke, so each is decoded once, and the cache
 * lets go of records the board drops.
 */
const shapes = new WeakMap<Drawable, Shape>();

export function shapeOf(stroke: Drawable): Shape {
  let shape = shapes.get(stroke);
  if (!shape) {
    shape = makeShape(stroke);
    shapes.set(stroke, shape);
  }
  return shape;
}

function makeShape(stroke: Drawable): Shape {
  const decoded = decodePoints(stroke.p);
  const points = typeof decoded === "string" ? [] : decoded;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let index = 0; index < points.length; index += 2) {
    const x = points[index] as number;
    const y = points[index + 1] as number;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return { points, radius: (stroke.w * UNITS_PER_WIDTH) / 2, minX, minY, maxX, maxY };
}

/** A rectangle on the board, in board units. */
export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Whether any ink of the shape may fall inside `rect` (its box, widened by its radius, meets the rectangle). */
export function mayOverlap(shape: Shape, rect: Rect): boolean {
  const r = shape.radius;
  return (
    shape.minX - r <= rect.maxX &&
    shape.maxX + r >= rect.minX &&
    shape.minY - r <= rect.maxY &&
    shape.maxY + r >= rect.minY
  );
}

/**
 * Whether an eraser of radius `reach` (board units) dragged in a straight line from `a` to `b` touches the
 * stroke's ink: some point of the path comes within the stroke's radius plus `reach` of its centre line.
 * Testing the swept segment, not only where the pointer was sampled, means a fast flick misses nothing.
 */
export function touches(
  shape: Shape,
  a: readonly [number, number],
  b: readonly [number, number],
  reach: number,
): boolean {
  const limit = shape.radius + reach;
  const sweep = {
    minX: Math.min(a[0], b[0]),
    minY: Math.min(a[1], b[1]),
    maxX: Math.max(a[0], b[0]),
    maxY: Math.max(a[1], b[1]),
  };
  if (!mayOverlap({ ...shape, radius: limit }, sweep)) return false;
  const { points } = shape;
  const at = (index: number) => points[index] as number;
  // A single point is a segment of length zero: a dot.
  const segments = points.length === 2 ? 1 : points.length / 2 - 1;
  for (let n = 0; n < segments; n += 1) {
    const [i, j] = [2 * n, points.length === 2 ? 0 : 2 * n + 2];
    if (segmentDistance(a[0], a[1], b[0], b[1], at(i), at(i + 1), at(j), at(j + 1)) <= limit) return true;
  }
  return false;
}

/** The shortest distance between segments PQ and RS (either may be a single point). */
export function segmentDistance(
  px: number,
  py: number,
  qx: number,
  qy: number,
  rx: number,
  ry: number,
  sx: number,
  sy: number,
): number {
  if (segmentsCross(px, py, qx, qy, rx, ry, sx, sy)) return 0;
  return Math.min(
    pointToSegment(px, py, rx, ry, sx, sy),
    pointToSegment(qx, qy, rx, ry, sx, sy),
    pointToSegment(rx, ry, px, py, qx, qy),
    pointToSegment(sx, sy, px, py, qx, qy),
  );
}

function pointToSegment(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const [dx, dy] = [bx - ax, by - ay];
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / lengthSquared));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/** Whether the segments properly cross (touching or collinear cases are left to the distance, which is 0 then). */
function segmentsCross(
  px: number,
  py: number,
  qx: number,
  qy: number,
  rx: number,
  ry: number,
  sx: number,
  sy: number,
): boolean {
  const side = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) =>
    Math.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax));
  const [d1, d2] = [side(rx, ry, sx, sy, px, py), side(rx, ry, sx, sy, qx, qy)];
  const [d3, d4] = [side(px, py, qx, qy, rx, ry), side(px, py, qx, qy, sx, sy)];
  return d1 * d2 < 0 && d3 * d4 < 0;
}

/** The strokes an eraser of radius `reach` touches when dragged from `a` to `b`. */
export function strokesTouched<T extends Drawable>(
  strokes: Iterable<T>,
  a: readonly [number, number],
  b: readonly [number, number],
  reach: number,
): T[] {
  const touched: T[] = [];
  for (const stroke of strokes) if (touches(shapeOf(stroke), a, b, reach)) touched.push(stroke);
  return touched;
}
