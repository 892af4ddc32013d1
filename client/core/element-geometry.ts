/**
 * Elements as shapes on the board, for everything but painting: where a freehand line's points fall in its box,
 * the outline of every kind, bounds (selection, zoom to fit), and hit tests for the eraser and for selection (a
 * point, a box), all in board units whatever the zoom (the caller turns a reach in screen pixels into board units
 * with `reach`). Pure: the renderer and SVG export read the same outlines and arrowheads, so what is drawn is what
 * is hit.
 *
 * Each element's geometry is computed once per record object: the board replaces a record whenever the element
 * changes, so a cached shape is never stale, and the cache lets go of records the board drops.
 */
import type { ElementRecord } from "../../protocol/events";
import { UNITS_PER_PIXEL } from "../../protocol/events";
import { decodeSamples } from "../../protocol/points";

/** A rectangle on the board, in board units. */
export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export type Point = readonly [x: number, y: number];

/** The fields of an element that give it a shape. */
export type Shaped = Pick<ElementRecord, "t" | "x" | "y" | "w" | "h" | "sw" | "f" | "d">;

export interface Geometry {
  /** Outlines, each a flat list `[x0, y0, x1, y1, ...]`, closed ones ending where they start. */
  paths: number[][];
  /** Half the stroke width in board units: how far ink reaches from an outline. */
  radius: number;
  /** Whether the inside counts as the element (filled shapes, text, notes). */
  filled: boolean;
  /** Everything the element covers, ink included. */
  bounds: Rect;
  /** Whether a point is inside (only meaningful when `filled`). */
  inside(x: number, y: number): boolean;
}

/** Segments of an ellipse's outline: at the largest sizes a chord strays less than a pixel from the curve at 100%. */
const ELLIPSE_SEGMENTS = 64;

/** Board units for a distance of `pixels` on screen at `zoom` (1 = 100%): a reach that feels the same at any zoom. */
export const reach = (pixels: number, zoom: number): number => (pixels * UNITS_PER_PIXEL) / zoom;

/** A stroke width (CSS pixels at 100%) in board units. */
const strokeUnits = (sw: number): number => sw * UNITS_PER_PIXEL;

/**
 * A freehand line's samples as drawn: `[x, y, pressure, ...]`, scaled from the points' own bounding box to the
 * element's box (a moved or resized line keeps its shape). Empty if `d` does not decode (never for stored lines).
 */
export function linePoints(element: Pick<ElementRecord, "x" | "y" | "w" | "h" | "d">): number[] {
  const decoded = decodeSamples(element.d);
  if (typeof decoded === "string") return [];
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let index = 0; index < decoded.length; index += 3) {
    const [x, y] = [decoded[index] as number, decoded[index + 1] as number];
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  }
  // A line with no extent on an axis keeps it (a dot, a straight stroke): there is nothing to scale.
  const sx = maxX > minX ? element.w / (maxX - minX) : 1;
  const sy = maxY > minY ? element.h / (maxY - minY) : 1;
  const mapped = new Array<number>(decoded.length);
  for (let index = 0; index < decoded.length; index += 3) {
    mapped[index] = element.x + ((decoded[index] as number) - minX) * sx;
    mapped[index + 1] = element.y + ((decoded[index + 1] as number) - minY) * sy;
    mapped[index + 2] = decoded[index + 2] as number;
  }
  return mapped;
}

/**
 * An arrow's head: the two barbs' ends and the tip, `[leftX, leftY, tipX, tipY, rightX, rightY]`. Its length grows
 * with the stroke width, never past half the arrow.
 */
export function arrowHead(element: Pick<ElementRecord, "x" | "y" | "w" | "h" | "sw">): number[] {
  const [tipX, tipY] = [element.x + element.w, element.y + element.h];
  const length = Math.hypot(element.w, element.h);
  if (length === 0) return [tipX, tipY, tipX, tipY, tipX, tipY];
  const size = Math.min(Math.max(12, element.sw * 4) * UNITS_PER_PIXEL, length / 2);
  const angle = Math.atan2(element.h, element.w);
  const barb = (turn: number) => [tipX - size * Math.cos(angle + turn), tipY - size * Math.sin(angle + turn)];
  return [...barb(Math.PI / 6), tipX, tipY, ...barb(-Math.PI / 6)];
}

const cache = new WeakMap<Shaped, Geometry>();

export function geometryOf(element: Shaped): Geometry {
  let geometry = cache.get(element);
  if (!geometry) cache.set(element, (geometry = makeGeometry(element)));
  return geometry;
}

function makeGeometry(element: Shaped): Geometry {
  const radius = strokeUnits(element.sw) / 2;
  const box = normalized(element);
  const rectangle = [
    box.minX,
    box.minY,
    box.maxX,
    box.minY,
    box.maxX,
    box.maxY,
    box.minX,
    box.maxY,
    box.minX,
    box.minY,
  ];
  const inBox = (x: number, y: number) => x >= box.minX && x <= box.maxX && y >= box.minY && y <= box.maxY;
  switch (element.t) {
    case "f": {
      const samples = linePoints(element);
      const path: number[] = [];
      for (let index = 0; index < samples.length; index += 3)
        path.push(samples[index] as number, samples[index + 1] as number);
      return withBounds({ paths: path.length > 0 ? [path] : [], radius, filled: false, inside: () => false });
    }
    case "r":
      return withBounds({ paths: [rectangle], radius, filled: element.f !== "", inside: inBox });
    case "e": {
      const [cx, cy] = [(box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2];
      const [rx, ry] = [(box.maxX - box.minX) / 2, (box.maxY - box.minY) / 2];
      const path: number[] = [];
      for (let step = 0; step <= ELLIPSE_SEGMENTS; step += 1) {
        const angle = (2 * Math.PI * step) / ELLIPSE_SEGMENTS;
        path.push(cx + rx * Math.cos(angle), cy + ry * Math.sin(angle));
      }
      const inside = (x: number, y: number) => rx > 0 && ry > 0 && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
      return withBounds({ paths: [path], radius, filled: element.f !== "", inside });
    }
    case "l":
    case "a": {
      const shaft = [element.x, element.y, element.x + element.w, element.y + element.h];
      const paths = element.t === "a" ? [shaft, arrowHead(element)] : [shaft];
      return withBounds({ paths, radius, filled: false, inside: () => false });
    }
    case "t":
    case "n":
      // Text and notes are hit anywhere in their box, as people expect of a block of text.
      return withBounds({ paths: [rectangle], radius: 0, filled: true, inside: inBox });
  }
}

function withBounds(geometry: Omit<Geometry, "bounds">): Geometry {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const path of geometry.paths)
    for (let index = 0; index < path.length; index += 2) {
      const [x, y] = [path[index] as number, path[index + 1] as number];
      [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
    }
  const r = geometry.radius;
  const bounds =
    minX === Infinity
      ? { minX: 0, minY: 0, maxX: 0, maxY: 0 }
      : { minX: minX - r, minY: minY - r, maxX: maxX + r, maxY: maxY + r };
  return { ...geometry, bounds };
}

/** The element's box with w and h made positive (lines and arrows may point any way). */
function normalized({ x, y, w, h }: Pick<ElementRecord, "x" | "y" | "w" | "h">): Rect {
  return { minX: Math.min(x, x + w), minY: Math.min(y, y + h), maxX: Math.max(x, x + w), maxY: Math.max(y, y + h) };
}

/** Everything the element covers, ink included. */
export const bounds = (element: Shaped): Rect => geometryOf(element).bounds;

/** The smallest rectangle covering all `elements` (zoom to fit, zoom to selection), or undefined when none. */
export function boundsOf(elements: Iterable<Shaped>): Rect | undefined {
  let union: Rect | undefined;
  for (const element of elements) {
    const b = bounds(element);
    union = union
      ? {
          minX: Math.min(union.minX, b.minX),
          minY: Math.min(union.minY, b.minY),
          maxX: Math.max(union.maxX, b.maxX),
          maxY: Math.max(union.maxY, b.maxY),
        }
      : { ...b };
  }
  return union;
}

const overlaps = (a: Rect, b: Rect): boolean =>
  a.minX <= b.maxX && a.maxX >= b.minX && a.minY <= b.maxY && a.maxY >= b.minY;

const widened = (rect: Rect, by: number): Rect => ({
  minX: rect.minX - by,
  minY: rect.minY - by,
  maxX: rect.maxX + by,
  maxY: rect.maxY + by,
});

/**
 * Whether something of radius `reach` moved in a straight line from `a` to `b` touches the element: comes within
 * its ink of an outline, or enters a filled inside. Testing the swept segment, not only where the pointer was
 * sampled, means a fast flick of the eraser misses nothing. A point is a segment from `a` to `a`.
 */
export function touches(element: Shaped, a: Point, b: Point, reach: number): boolean {
  const geometry = geometryOf(element);
  const sweep = {
    minX: Math.min(a[0], b[0]),
    minY: Math.min(a[1], b[1]),
    maxX: Math.max(a[0], b[0]),
    maxY: Math.max(a[1], b[1]),
  };
  if (!overlaps(widened(geometry.bounds, reach), sweep)) return false;
  if (geometry.filled && (geometry.inside(a[0], a[1]) || geometry.inside(b[0], b[1]))) return true;
  const limit = geometry.radius + reach;
  for (const path of geometry.paths) {
    const at = (index: number) => path[index] as number;
    // A single point is a segment of length zero: a dot.
    const segments = path.length === 2 ? 1 : path.length / 2 - 1;
    for (let n = 0; n < segments; n += 1) {
      const [i, j] = [2 * n, path.length === 2 ? 0 : 2 * n + 2];
      if (segmentDistance(a[0], a[1], b[0], b[1], at(i), at(i + 1), at(j), at(j + 1)) <= limit) return true;
    }
  }
  return false;
}

/** Whether a click at `point` with a reach of `reach` board units hits the element. */
export const hitAt = (element: Shaped, point: Point, reach: number): boolean => touches(element, point, point, reach);

/** The elements an eraser of radius `reach` touches when dragged from `a` to `b`, in the order given. */
export function elementsTouched<T extends Shaped>(elements: Iterable<T>, a: Point, b: Point, reach: number): T[] {
  const touched: T[] = [];
  for (const element of elements) if (touches(element, a, b, reach)) touched.push(element);
  return touched;
}

/** The topmost of `elements` (given in stacking order) hit at `point`, or undefined: what a click selects. */
export function topmostAt<T extends Shaped>(elements: readonly T[], point: Point, reach: number): T | undefined {
  for (let index = elements.length - 1; index >= 0; index -= 1) {
    const element = elements[index] as T;
    if (hitAt(element, point, reach)) return element;
  }
  return undefined;
}

/**
 * The elements a selection box picks: those wholly inside it (`contain`, dragging from left to right in most
 * editors), or those any of whose ink or inside it meets (`intersect`).
 */
export function elementsInRect<T extends Shaped>(
  elements: Iterable<T>,
  rect: Rect,
  mode: "contain" | "intersect",
): T[] {
  const picked: T[] = [];
  for (const element of elements) if (inRect(element, rect, mode)) picked.push(element);
  return picked;
}

function inRect(element: Shaped, rect: Rect, mode: "contain" | "intersect"): boolean {
  const geometry = geometryOf(element);
  const b = geometry.bounds;
  if (b.minX >= rect.minX && b.maxX <= rect.maxX && b.minY >= rect.minY && b.maxY <= rect.maxY) return true;
  if (mode === "contain" || !overlaps(b, rect)) return false;
  // The box's centre inside a filled element: the box lies within it.
  if (geometry.filled && geometry.inside((rect.minX + rect.maxX) / 2, (rect.minY + rect.maxY) / 2)) return true;
  const inner = widened(rect, geometry.radius);
  for (const path of geometry.paths) {
    for (let index = 0; index + 1 < path.length; index += 2) {
      const [x, y] = [path[index] as number, path[index + 1] as number];
      if (x >= inner.minX && x <= inner.maxX && y >= inner.minY && y <= inner.maxY) return true;
      if (
        index + 3 < path.length &&
        segmentMeetsRect(x, y, path[index + 2] as number, path[index + 3] as number, inner)
      )
        return true;
    }
  }
  return false;
}

function segmentMeetsRect(ax: number, ay: number, bx: number, by: number, rect: Rect): boolean {
  const { minX, minY, maxX, maxY } = rect;
  const edges = [
    [minX, minY, maxX, minY],
    [maxX, minY, maxX, maxY],
    [maxX, maxY, minX, maxY],
    [minX, maxY, minX, minY],
  ] as const;
  return edges.some(([cx, cy, dx, dy]) => segmentDistance(ax, ay, bx, by, cx, cy, dx, dy) === 0);
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
