/**
 * How the pointer meets elements (client/app/geometry.ts): bounds of lines drawn backwards, a click on an outline or
 * inside a filled shape, a freehand line's points placed in its (resized) box, the eraser's path crossing a line
 * between two pointer samples, a box selection, and resizing by a handle.
 */
import {
  boundsOf,
  handlesOf,
  linePoints,
  mapBox,
  resizedBounds,
  topmostAt,
  touches,
  within,
} from "../../client/app/geometry";
import type { ElementRecord } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";

let next = 0;
function element(fields: Partial<ElementRecord>): ElementRecord {
  next += 1;
  return {
    s: next,
    g: 0,
    o: 0,
    v: 0,
    i: `element-${next}`.padEnd(16, "x"),
    u: "u",
    t: "r",
    z: next,
    x: 0,
    y: 0,
    w: 100,
    h: 100,
    c: "#000000",
    sw: 2,
    f: "",
    n: 0,
    d: "",
    ...fields,
  };
}

test("a line or arrow drawn up and left has its bounds on the right side of its start", () => {
  expect(boundsOf(element({ t: "a", x: 100, y: 100, w: -60, h: -40 }))).toEqual({
    minX: 40,
    minY: 60,
    maxX: 100,
    maxY: 100,
  });
});

test("an empty rectangle is hit on its outline only, a filled one and a note anywhere inside", () => {
  const hollow = element({ t: "r", x: 0, y: 0, w: 1000, h: 1000 });
  const filled = element({ t: "r", x: 0, y: 0, w: 1000, h: 1000, f: "#ffeeaa" });
  const note = element({ t: "n", x: 0, y: 0, w: 1000, h: 1000, f: "#ffeeaa" });
  expect(touches(hollow, [500, 500], [500, 500], 10)).toBe(false);
  expect(touches(hollow, [1005, 500], [1005, 500], 10)).toBe(true);
  expect(touches(filled, [500, 500], [500, 500], 10)).toBe(true);
  expect(touches(note, [500, 500], [500, 500], 10)).toBe(true);
  expect(touches(filled, [1200, 500], [1200, 500], 10)).toBe(false);
  // The topmost of those under the point wins.
  expect(topmostAt([filled, hollow], [500, 500], 10)).toBe(filled);
  expect(topmostAt([filled, hollow], [0, 500], 10)).toBe(hollow);
});

test("an ellipse is hit along its curve, not at its box's corner", () => {
  const ellipse = element({ t: "e", x: 0, y: 0, w: 2000, h: 1000 });
  expect(touches(ellipse, [2000, 500], [2000, 500], 10)).toBe(true);
  expect(touches(ellipse, [1000, 0], [1000, 0], 10)).toBe(true);
  expect(touches(ellipse, [30, 30], [30, 30], 10)).toBe(false);
  expect(touches(ellipse, [1000, 500], [1000, 500], 10)).toBe(false);
});

test("a freehand line's points fill its box, and the eraser's path between two samples crosses it", () => {
  const d = encodeSamples([
    [0, 0, 0],
    [100, 0, 0],
    [100, 50, 0],
  ]);
  const line = element({ t: "f", x: 1000, y: 2000, w: 200, h: 100, d });
  expect(linePoints(line)).toEqual([1000, 2000, 1200, 2000, 1200, 2100]);
  // A fast swipe: the samples are on either side of the line, the path between them crosses it.
  expect(touches(line, [1100, 1900], [1100, 2100], 2)).toBe(true);
  expect(touches(line, [1100, 2050], [1150, 2080], 2)).toBe(false);
});

test("a box selects the elements wholly inside it", () => {
  const inside = element({ x: 10, y: 10, w: 10, h: 10 });
  const across = element({ x: 90, y: 90, w: 50, h: 50 });
  expect(within([inside, across], { minX: 0, minY: 0, maxX: 100, maxY: 100 })).toEqual([inside]);
});

test("dragging a corner handle keeps the opposite corner; Shift keeps the ratio; never past the other side", () => {
  const rect = { minX: 0, minY: 0, maxX: 200, maxY: 100 };
  expect(handlesOf(rect).find((handle) => handle.name === "se")).toEqual({ name: "se", x: 200, y: 100 });
  expect(resizedBounds(rect, "se", [400, 150], false)).toEqual({ minX: 0, minY: 0, maxX: 400, maxY: 150 });
  expect(resizedBounds(rect, "se", [400, 150], true)).toEqual({ minX: 0, minY: 0, maxX: 400, maxY: 200 });
  expect(resizedBounds(rect, "nw", [500, 500], false)).toEqual({ minX: 199, minY: 99, maxX: 200, maxY: 100 });
  expect(resizedBounds(rect, "e", [300, 999], false)).toEqual({ minX: 0, minY: 0, maxX: 300, maxY: 100 });
});

test("a resize maps every element's box from the old bounds to the new, a backwards line staying backwards", () => {
  const from = { minX: 0, minY: 0, maxX: 200, maxY: 100 };
  const to = { minX: 100, minY: 100, maxX: 500, maxY: 300 };
  expect(mapBox({ x: 100, y: 50, w: 100, h: 50 }, from, to)).toEqual([300, 200, 200, 100]);
  expect(mapBox({ x: 200, y: 100, w: -200, h: -100 }, from, to)).toEqual([500, 300, -400, -200]);
});
