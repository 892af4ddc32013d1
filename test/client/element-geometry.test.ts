/**
 * Elements as shapes in board units: a freehand line's points in its box, bounds, and the hit tests of the eraser
 * and of selection on every kind, which must catch what the pointer crosses between two samples, miss what it passes
 * just beside, and mean the same on screen at any zoom.
 */
import {
  arrowHead,
  bounds,
  boundsOf,
  elementsInRect,
  elementsTouched,
  geometryOf,
  hitAt,
  linePoints,
  reach,
  segmentDistance,
  topmostAt,
  touches,
} from "../../client/core/element-geometry";
import type { ElementKind, ElementRecord } from "../../protocol/events";
import { UNITS_PER_PIXEL } from "../../protocol/events";
import { encodeSamples, type Sample } from "../../protocol/points";

let counter = 0;
function element(t: ElementKind, box: [number, number, number, number], fields: Partial<ElementRecord> = {}) {
  counter += 1;
  const [x, y, w, h] = box;
  const record: ElementRecord = {
    ...{ s: counter, g: 1, o: 0, v: 0, i: `element-${counter}`, u: "u", t, z: counter },
    ...{ x, y, w, h, c: "#000000", sw: 2, f: "", n: 0, d: "", l: counter },
  };
  return { ...record, ...fields };
}

/** A freehand line through `samples`, its box their bounding box (as the outbox sends it). */
function freehand(samples: Sample[], sw = 4) {
  const xs = samples.map(([x]) => x);
  const ys = samples.map(([, y]) => y);
  const [minX, minY] = [Math.min(...xs), Math.min(...ys)];
  return element("f", [minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY], {
    sw,
    d: encodeSamples(samples),
  });
}

test("a freehand line's points fill its box: moved and resized lines keep their shape", () => {
  const line = freehand([
    [1_000, 2_000, 5],
    [3_000, 1_500, 9],
    [2_000, 4_000, 15],
  ]);
  expect(linePoints(line)).toEqual([1_000, 2_000, 5, 3_000, 1_500, 9, 2_000, 4_000, 15]);
  // Moved by (100, 100) and made twice as wide: the points follow, pressure unchanged.
  const moved = { ...line, x: 1_100, y: 1_600, w: 4_000 };
  expect(linePoints(moved)).toEqual([1_100, 2_100, 5, 5_100, 1_600, 9, 3_100, 4_100, 15]);
  // A dot has no extent to scale: it sits at its box's corner.
  expect(linePoints(freehand([[7, 8, 0]]))).toEqual([7, 8, 0]);
});

test("geometry is computed once per record object; a changed element is another object, computed afresh", () => {
  const line = freehand([
    [0, 0, 0],
    [100, 0, 0],
  ]);
  expect(geometryOf(line)).toBe(geometryOf(line));
  expect(geometryOf({ ...line })).not.toBe(geometryOf(line));
});

test("bounds cover the ink of every kind, and boundsOf their union (zoom to fit)", () => {
  const half = (2 * UNITS_PER_PIXEL) / 2; // width 2: ink reaches 16 units from the outline
  expect(bounds(element("r", [0, 0, 100, 50]))).toEqual({
    minX: -half,
    minY: -half,
    maxX: 100 + half,
    maxY: 50 + half,
  });
  // A line drawn up and to the left (negative w, h) still has positive bounds.
  expect(bounds(element("l", [100, 100, -100, -40]))).toEqual({
    minX: -half,
    minY: 60 - half,
    maxX: 100 + half,
    maxY: 100 + half,
  });
  expect(bounds(element("t", [10, 20, 30, 40]))).toEqual({ minX: 10, minY: 20, maxX: 40, maxY: 60 });
  expect(boundsOf([element("n", [0, 0, 10, 10]), element("t", [-50, 5, 10, 100])])).toEqual({
    minX: -50,
    minY: 0,
    maxX: 10,
    maxY: 105,
  });
  expect(boundsOf([])).toBeUndefined();
});

test("an arrow's head points along the arrow, at its end, no longer than half of it", () => {
  const [lx, ly, tx, ty, rx, ry] = arrowHead(element("a", [0, 0, 1_000, 0]));
  expect([tx, ty]).toEqual([1_000, 0]);
  expect(lx).toBeLessThan(1_000);
  expect(rx).toBeCloseTo(lx as number);
  expect(ly).toBeCloseTo(-(ry as number));
  const short = arrowHead(element("a", [0, 0, 20, 0]));
  expect(short[0]).toBeGreaterThanOrEqual(10 - 1e-9);
});

describe("the eraser on a freehand line", () => {
  // Width 4: ink reaches 32 units either side of the line from (1000, 1000) to (5000, 1000).
  const line = freehand([
    [1_000, 1_000, 0],
    [5_000, 1_000, 0],
  ]);

  test.each<[string, [number, number], [number, number], number, boolean]>([
    ["resting on the line", [3_000, 1_000], [3_000, 1_000], 1, true],
    ["within the ink plus its reach", [3_000, 1_040], [3_000, 1_040], 10, true],
    ["just beyond it", [3_000, 1_043], [3_000, 1_043], 10, false],
    ["past the line's round end", [5_030, 1_000], [5_030, 1_000], 5, true],
    ["well past its end", [5_100, 1_000], [5_100, 1_000], 5, false],
    ["crossing it between two samples far from it", [3_000, 500], [3_100, 1_500], 1, true],
    ["moving beside it", [1_000, 1_200], [5_000, 1_200], 10, false],
  ])("%s", (_what, a, b, within, expected) => {
    expect(touches(line, a, b, within)).toBe(expected);
  });

  test("a bent line is touched along any of its segments, and not inside the bend", () => {
    const bend = freehand([
      [0, 0, 0],
      [4_000, 0, 0],
      [4_000, 4_000, 0],
    ]);
    expect(touches(bend, [4_000, 3_000], [4_000, 3_000], 1)).toBe(true);
    expect(touches(bend, [2_000, 2_000], [2_000, 2_000], 100)).toBe(false);
  });
});

describe("every kind", () => {
  const box: [number, number, number, number] = [0, 0, 1_000, 600];
  test.each<[string, ElementRecord, [number, number], boolean]>([
    ["an outlined rectangle on its edge", element("r", box), [500, 5], true],
    ["an outlined rectangle inside", element("r", box), [500, 300], false],
    ["a filled rectangle inside", element("r", box, { f: "#ff0000" }), [500, 300], true],
    ["an outlined ellipse on its curve", element("e", box), [1_000, 300], true],
    ["an outlined ellipse in its box's corner", element("e", box), [40, 40], false],
    ["a filled ellipse inside", element("e", box, { f: "#ff0000" }), [500, 300], true],
    ["a filled ellipse in its box's corner", element("e", box, { f: "#ff0000" }), [40, 40], false],
    ["a straight line along it", element("l", box), [500, 300], true],
    ["a straight line beside it", element("l", box), [500, 200], false],
    ["an arrow's head", element("a", [0, 0, 1_000, 0], { sw: 4 }), [950, 20], true],
    ["text anywhere in its box", element("t", box), [900, 500], true],
    ["a note anywhere in its box", element("n", box), [10, 590], true],
    ["a note just outside its box", element("n", box), [1_010, 300], false],
  ])("%s", (_what, shape, point, expected) => {
    expect(hitAt(shape, point, 4)).toBe(expected);
  });
});

test("a click's reach is the same on screen at any zoom: 4 pixels are 64 units at 100%, 8 at 800%", () => {
  const rectangle = element("r", [0, 0, 1_000, 1_000], { sw: 1 });
  const outside = (pixels: number, zoom: number): [number, number] => [500, -8 - reach(pixels, zoom)];
  expect(reach(4, 1)).toBe(64);
  expect(reach(4, 8)).toBe(8);
  for (const zoom of [0.05, 0.5, 1, 3, 8, 32]) {
    expect(hitAt(rectangle, outside(3.9, zoom), reach(4, zoom))).toBe(true);
    expect(hitAt(rectangle, outside(4.1, zoom), reach(4, zoom))).toBe(false);
  }
});

test("a click selects the topmost element hit, whatever lies beneath", () => {
  const below = element("n", [0, 0, 100, 100]);
  const above = element("r", [50, 50, 100, 100], { f: "#00ff00" });
  const elsewhere = element("t", [500, 500, 10, 10]);
  const stacked = [below, above, elsewhere];
  expect(topmostAt(stacked, [75, 75], 1)).toBe(above);
  expect(topmostAt(stacked, [10, 10], 1)).toBe(below);
  expect(topmostAt(stacked, [300, 300], 1)).toBeUndefined();
});

test("a selection box picks what it contains, or what it meets", () => {
  const inside = element("r", [100, 100, 100, 100]);
  const crossing = freehand(
    [
      [0, 500, 0],
      [2_000, 500, 0],
    ],
    1,
  );
  const around = element("e", [-5_000, -5_000, 10_000, 10_000], { f: "#ffffff" });
  const hollow = element("e", [-5_000, -5_000, 10_000, 10_000]);
  const away = element("t", [5_000, 5_000, 10, 10]);
  const all = [inside, crossing, around, hollow, away];
  const rect = { minX: 0, minY: 0, maxX: 1_000, maxY: 1_000 };
  expect(elementsInRect(all, rect, "contain")).toEqual([inside]);
  // Crossing the box, or filling it: met. A hollow ellipse around it, and text far away: not.
  expect(elementsInRect(all, rect, "intersect")).toEqual([inside, crossing, around]);
});

test("elementsTouched gives the elements an eraser stroke hits, in the order given", () => {
  const a = freehand([[100, 100, 0]], 2);
  const b = freehand([[9_000, 9_000, 0]], 2);
  const c = element("l", [100, 150, 500, 0]);
  expect(elementsTouched([a, b, c], [0, 120], [700, 120], 20)).toEqual([a, c]);
});

test("points that do not decode make a line with no outline, which nothing touches", () => {
  const broken = element("f", [0, 0, 10, 10], { d: "!" });
  expect(linePoints(broken)).toEqual([]);
  expect(touches(broken, [0, 0], [16_000, 10_000], 1_000)).toBe(false);
});

test.each<[string, number[], number]>([
  ["crossing segments", [0, 0, 10, 10, 0, 10, 10, 0], 0],
  ["parallel segments", [0, 0, 10, 0, 0, 5, 10, 5], 5],
  ["a point and a segment", [5, 7, 5, 7, 0, 0, 10, 0], 7],
  ["segments end to end", [0, 0, 3, 0, 7, 0, 10, 0], 4],
  ["two points", [0, 0, 0, 0, 3, 4, 3, 4], 5],
])("segmentDistance: %s", (_what, coordinates, distance) => {
  const [px, py, qx, qy, rx, ry, sx, sy] = coordinates as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  expect(segmentDistance(px, py, qx, qy, rx, ry, sx, sy)).toBeCloseTo(distance);
});
