/**
 * The selection's handles and where a resize takes each element's box, in board units. Everything else about how
 * the pointer meets elements (bounds, clicks, the eraser, box selection) is client-core's element geometry
 * (client/core/element-geometry.ts), shared with the renderer so that what is drawn is what is hit.
 */
import type { Box, ElementRecord } from "../../protocol/events";
import type { Rect } from "../core/viewport";
import type { Handle, HandleName } from "./overlays";

type Point = readonly [x: number, y: number];

/** An element's box as a rectangle (a line's or arrow's w and h may be negative): what a selection frames. */
export function boxOf({ x, y, w, h }: Pick<ElementRecord, "x" | "y" | "w" | "h">): Rect {
  return { minX: Math.min(x, x + w), minY: Math.min(y, y + h), maxX: Math.max(x, x + w), maxY: Math.max(y, y + h) };
}

/**
 * The rectangle around the boxes, or undefined for none. Boxes, not ink: a resize maps boxes, so the frame it drags
 * must be made of them, or a stroke's width would shift every box it scales.
 */
export function frameOf(elements: Iterable<Pick<ElementRecord, "x" | "y" | "w" | "h">>): Rect | undefined {
  let frame: Rect | undefined;
  for (const element of elements) {
    const box = boxOf(element);
    frame = frame
      ? {
          minX: Math.min(frame.minX, box.minX),
          minY: Math.min(frame.minY, box.minY),
          maxX: Math.max(frame.maxX, box.maxX),
          maxY: Math.max(frame.maxY, box.maxY),
        }
      : box;
  }
  return frame;
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
