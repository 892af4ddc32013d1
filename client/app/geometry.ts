/**
 * Elements as the pointer meets them: their bounds, what a click or an eraser touches, what a box selects, the
 * selection's handles, and where a move or a resize takes an element's box. Board units throughout; reaches given
 * in board units by the caller (a few CSS pixels at the current zoom).
 */
import type { Box, ElementRecord } from "../../protocol/events";
import { UNITS_PER_PIXEL } from "../../protocol/events";
import { decodeSamples } from "../../protocol/points";
import type { Rect } from "../core/viewport";
import type { Handle, HandleName } from "./overlays";

type Point = readonly [x: number, y: number];

/** An element's box as a rectangle: a line's or arrow's w and h may be negative. */
export function boundsOf({ x, y, w, h }: Pick<ElementRecord, "x" | "y" | "w" | "h">): Rect {
  return { minX: Math.min(x, x + w), minY: Math.min(y, y + h), maxX: Math.max(x, x + w), maxY: Math.max(y, y + h) };
}

/** The rectangle around all of them, or undefined for none. */
export function unionOf(rects: Iterable<Rect>): Rect | undefined {
  let union: Rect | undefined;
  for (const rect of rects)
    union = union
      ? {
          minX: Math.min(union.minX, rect.minX),
          minY: Math.min(union.minY, rect.minY),
          maxX: Math.max(union.maxX, rect.maxX),
          maxY: Math.max(union.maxY, rect.maxY),
        }
      : { ...rect };
  return union;
}

const grow = (rect: Rect, by: number): Rect => ({
  minX: rect.minX - by,
  minY: rect.minY - by,
  maxX: rect.maxX + by,
  maxY: rect.maxY + by,
});

const inside = (rect: Rect, [x, y]: Point) => x >= rect.minX && x <= rect.maxX && y >= rect.minY && y <= rect.maxY;

export const overlaps = (a: Rect, b: Rect) =>
  a.minX <= b.maxX && b.minX <= a.maxX && a.minY <= b.maxY && b.minY <= a.maxY;

const contains = (outer: Rect, inner: Rect) =>
  inner.minX >= outer.minX && inner.maxX <= outer.maxX && inner.minY >= outer.minY && inner.maxY <= outer.maxY;

/** Distance from p to the segment a–b. */
function segmentDistance([px, py]: Point, [ax, ay]: Point, [bx, by]: Point): number {
  const [dx, dy] = [bx - ax, by - ay];
  const length = dx * dx + dy * dy;
  const t = length === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Distance between the segments a–b and c–d (0 when they cross). */
function segmentsDistance(a: Point, b: Point, c: Point, d: Point): number {
  const cross = (o: Point, p: Point, q: Point) => (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]);
  const [d1, d2, d3, d4] = [cross(c, d, a), cross(c, d, b), cross(a, b, c), cross(a, b, d)];
  if (d1 * d2 < 0 && d3 * d4 < 0) return 0;
  return Math.min(
    segmentDistance(a, c, d),
    segmentDistance(b, c, d),
    segmentDistance(c, a, b),
    segmentDistance(d, a, b),
  );
}

/**
 * A freehand line's points placed in its box (the line fills its box: points are scaled from their own bounds),
 * `[x0, y0, x1, y1, ...]`; cached per record object (the board keeps one object per element version).
 */
const placed = new WeakMap<ElementRecord, number[]>();
export function linePoints(element: ElementRecord): number[] {
  let points = placed.get(element);
  if (points) return points;
  const samples = decodeSamples(element.d);
  const flat = typeof samples === "string" ? [] : samples;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let index = 0; index < flat.length; index += 3) {
    const [x, y] = [flat[index] as number, flat[index + 1] as number];
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  }
  const scaleX = maxX > minX ? element.w / (maxX - minX) : 1;
  const scaleY = maxY > minY ? element.h / (maxY - minY) : 1;
  points = [];
  for (let index = 0; index < flat.length; index += 3)
    points.push(
      element.x + ((flat[index] as number) - minX) * scaleX,
      element.y + ((flat[index + 1] as number) - minY) * scaleY,
    );
  placed.set(element, points);
  return points;
}

/** Half the stroke's width, board units. */
const halfWidth = (element: ElementRecord) => (element.sw * UNITS_PER_PIXEL) / 2;

/** Whether an element counts as solid (hit anywhere inside) rather than as its outline. */
const solid = (element: ElementRecord) => element.t === "t" || element.t === "n" || element.f !== "";

/**
 * Whether the segment a–b (a pointer's path, or a point when a = b) comes within `reach` of the element's ink:
 * its outline, or anywhere inside when it is solid.
 */
export function touches(element: ElementRecord, a: Point, b: Point, reach: number): boolean {
  const bounds = boundsOf(element);
  const near = reach + halfWidth(element);
  const path: Rect = {
    minX: Math.min(a[0], b[0]),
    minY: Math.min(a[1], b[1]),
    maxX: Math.max(a[0], b[0]),
    maxY: Math.max(a[1], b[1]),
  };
  if (!overlaps(grow(bounds, near), path)) return false;
  switch (element.t) {
    case "f": {
      const points = linePoints(element);
      // A dot: a line of one point.
      if (points.length === 2) return segmentDistance([points[0] as number, points[1] as number], a, b) <= near;
      for (let index = 2; index < points.length; index += 2) {
        const from: Point = [points[index - 2] as number, points[index - 1] as number];
        const to: Point = [points[index] as number, points[index + 1] as number];
        if (segmentsDistance(a, b, from, to) <= near) return true;
      }
      return false;
    }
    case "l":
    case "a":
      return segmentsDistance(a, b, [element.x, element.y], [element.x + element.w, element.y + element.h]) <= near;
    case "e": {
      const [cx, cy] = [(bounds.minX + bounds.maxX) / 2, (bounds.minY + bounds.maxY) / 2];
      const [rx, ry] = [Math.max(1, (bounds.maxX - bounds.minX) / 2), Math.max(1, (bounds.maxY - bounds.minY) / 2)];
      // Sampled along the path: the ellipse's equation in normalized coordinates, then the distance scaled back.
      const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / Math.max(near, 1)));
      for (let step = 0; step <= steps; step += 1) {
        const [x, y] = [a[0] + ((b[0] - a[0]) * step) / steps, a[1] + ((b[1] - a[1]) * step) / steps];
        const radius = Math.hypot((x - cx) / rx, (y - cy) / ry);
        if (solid(element) ? radius <= 1 + near / Math.min(rx, ry) : Math.abs(radius - 1) * Math.min(rx, ry) <= near)
          return true;
      }
      return false;
    }
    default: {
      if (!solid(element)) return rectEdgesNear(bounds, a, b, near);
      const area = grow(bounds, reach);
      return inside(area, a) || inside(area, b) || rectEdgesNear(bounds, a, b, reach);
    }
  }
}

function rectEdgesNear(rect: Rect, a: Point, b: Point, near: number): boolean {
  const corners: Point[] = [
    [rect.minX, rect.minY],
    [rect.maxX, rect.minY],
    [rect.maxX, rect.maxY],
    [rect.minX, rect.maxY],
  ];
  return corners.some((corner, index) => segmentsDistance(a, b, corner, corners[(index + 1) % 4] as Point) <= near);
}

/** The topmost element at a point (within `reach`), of those given bottom first. */
export function topmostAt(elements: readonly ElementRecord[], at: Point, reach: number): ElementRecord | undefined {
  for (let index = elements.length - 1; index >= 0; index -= 1) {
    const element = elements[index] as ElementRecord;
    if (touches(element, at, at, reach)) return element;
  }
  return undefined;
}

/** Elements wholly inside a box selection's rectangle. */
export function within(elements: readonly ElementRecord[], rect: Rect): ElementRecord[] {
  return elements.filter((element) => contains(rect, boundsOf(element)));
}

const HANDLE_NAMES: readonly HandleName[] = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

/** The handles of a selection's bounds. */
export function handlesOf(rect: Rect): Handle[] {
  const xs = { w: rect.minX, c: (rect.minX + rect.maxX) / 2, e: rect.maxX };
  const ys = { n: rect.minY, c: (rect.minY + rect.maxY) / 2, s: rect.maxY };
  return HANDLE_NAMES.map((name) => ({
    name,
    x: name.includes("w") ? xs.w : name.includes("e") ? xs.e : xs.c,
    y: name.includes("n") ? ys.n : name.includes("s") ? ys.s : ys.c,
  }));
}

/** The handle within `reach` of a point, if any. */
export function handleAt(handles: readonly Handle[], [x, y]: Point, reach: number): Handle | undefined {
  return handles.find((handle) => Math.abs(handle.x - x) <= reach && Math.abs(handle.y - y) <= reach);
}

/**
 * The selection's bounds after dragging `handle` to a point: the opposite side stays, the dragged side follows the
 * pointer, never past the opposite side (at least one unit wide); with `keepRatio` (Shift, or any corner of a
 * selection that holds text) corners scale both ways alike.
 */
export function resizedBounds(rect: Rect, handle: HandleName, [x, y]: Point, keepRatio: boolean): Rect {
  const next = { ...rect };
  if (handle.includes("w")) next.minX = Math.min(x, rect.maxX - 1);
  if (handle.includes("e")) next.maxX = Math.max(x, rect.minX + 1);
  if (handle.includes("n")) next.minY = Math.min(y, rect.maxY - 1);
  if (handle.includes("s")) next.maxY = Math.max(y, rect.minY + 1);
  if (keepRatio && handle.length === 2) {
    const scale = Math.max(
      (next.maxX - next.minX) / Math.max(1, rect.maxX - rect.minX),
      (next.maxY - next.minY) / Math.max(1, rect.maxY - rect.minY),
    );
    const [width, height] = [(rect.maxX - rect.minX) * scale, (rect.maxY - rect.minY) * scale];
    if (handle.includes("w")) next.minX = next.maxX - width;
    else next.maxX = next.minX + width;
    if (handle.includes("n")) next.minY = next.maxY - height;
    else next.maxY = next.minY + height;
  }
  return next;
}

/** An element's box mapped from the selection's old bounds to its new ones, in whole units. */
export function mapBox(element: Pick<ElementRecord, "x" | "y" | "w" | "h">, from: Rect, to: Rect): Box {
  const scaleX = (to.maxX - to.minX) / Math.max(1, from.maxX - from.minX);
  const scaleY = (to.maxY - to.minY) / Math.max(1, from.maxY - from.minY);
  const x = Math.round(to.minX + (element.x - from.minX) * scaleX);
  const y = Math.round(to.minY + (element.y - from.minY) * scaleY);
  return [x, y, Math.round(element.w * scaleX), Math.round(element.h * scaleY)];
}
