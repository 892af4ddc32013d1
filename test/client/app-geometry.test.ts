/**
 * The selection's handles and resizing (client/app/geometry.ts): a handle keeps the opposite side, Shift keeps the
 * ratio, nothing is dragged past the other side, and every element's box follows the selection's bounds, a line
 * drawn backwards staying backwards. (Hit testing is client-core's element geometry, tested with it.)
 */
import { handleAt, handlesOf, mapBox, resizedBounds } from "../../client/app/geometry";

const rect = { minX: 0, minY: 0, maxX: 200, maxY: 100 };

test("eight handles sit on the corners and the middles of the sides; the one near a point is found", () => {
  const handles = handlesOf(rect);
  expect(handles.map(({ name, x, y }) => `${name}:${x},${y}`)).toEqual([
    "nw:0,0",
    "n:100,0",
    "ne:200,0",
    "e:200,50",
    "se:200,100",
    "s:100,100",
    "sw:0,100",
    "w:0,50",
  ]);
  expect(handleAt(handles, [203, 97], 5)?.name).toBe("se");
  expect(handleAt(handles, [150, 50], 5)).toBeUndefined();
});

test("dragging a corner keeps the opposite corner; Shift keeps the ratio; never past the other side", () => {
  expect(resizedBounds(rect, "se", [400, 150], false)).toEqual({ minX: 0, minY: 0, maxX: 400, maxY: 150 });
  expect(resizedBounds(rect, "se", [400, 150], true)).toEqual({ minX: 0, minY: 0, maxX: 400, maxY: 200 });
  expect(resizedBounds(rect, "nw", [-200, 10], true)).toEqual({ minX: -200, minY: -100, maxX: 200, maxY: 100 });
  expect(resizedBounds(rect, "nw", [500, 500], false)).toEqual({ minX: 199, minY: 99, maxX: 200, maxY: 100 });
  // A side handle changes one dimension only.
  expect(resizedBounds(rect, "e", [300, 999], false)).toEqual({ minX: 0, minY: 0, maxX: 300, maxY: 100 });
});

test("a resize maps every element's box from the old bounds to the new, a backwards line staying backwards", () => {
  const to = { minX: 100, minY: 100, maxX: 500, maxY: 300 };
  expect(mapBox({ x: 100, y: 50, w: 100, h: 50 }, rect, to)).toEqual([300, 200, 200, 100]);
  expect(mapBox({ x: 200, y: 100, w: -200, h: -100 }, rect, to)).toEqual([500, 300, -400, -200]);
});
