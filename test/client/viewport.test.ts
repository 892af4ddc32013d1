/**
 * Pan and zoom over the infinite canvas: the point under the pointer stays put while zooming at any zoom, panning
 * moves the drawing exactly with the pointer, screen and board positions map back and forth exactly, the zoom
 * stays within 2% and 3200%, the view stays within the coordinate range, and `fit` shows a rectangle whole.
 */
import { FIT_MARGIN, MAX_ZOOM, MIN_ZOOM, Viewport } from "../../client/core/viewport";
import { COORD_LIMIT, UNITS_PER_PIXEL } from "../../protocol/events";

function viewport(width = 1_000, height = 700): Viewport {
  const view = new Viewport();
  view.resize(width, height);
  return view;
}

const ZOOMS = [MIN_ZOOM, 0.1, 0.37, 1, 2.5, 8, 19.3, MAX_ZOOM];

test("a new view shows the board's origin at the centre, at 100%: UNITS_PER_PIXEL board units per CSS pixel", () => {
  const view = viewport(1_000, 700);
  expect(view.zoom).toBe(1);
  expect(view.toBoard(500, 350)).toEqual([0, 0]);
  expect(view.toBoard(510, 350)).toEqual([10 * UNITS_PER_PIXEL, 0]);
  expect(view.visible()).toEqual({
    minX: -500 * UNITS_PER_PIXEL,
    minY: -350 * UNITS_PER_PIXEL,
    maxX: 500 * UNITS_PER_PIXEL,
    maxY: 350 * UNITS_PER_PIXEL,
  });
});

test.each(ZOOMS)("at zoom %p, zooming keeps the board point under the pointer exactly where it is", (zoom) => {
  const view = viewport();
  view.panBy(12_345.6, -789.1);
  view.zoomAt(0, 0, zoom);
  const before = view.toBoardExact(300.5, 200.25);
  for (const factor of [1.25, 1 / 1.25, 3, 1 / 7]) {
    view.zoomAt(300.5, 200.25, factor);
    const after = view.toBoardExact(300.5, 200.25);
    expect(after[0]).toBeCloseTo(before[0], 6);
    expect(after[1]).toBeCloseTo(before[1], 6);
  }
});

test.each(ZOOMS)("at zoom %p, screen and board positions map back and forth within half a unit", (zoom) => {
  const view = viewport();
  view.zoomAt(123, 456, zoom);
  view.panBy(-4_321, 987);
  for (const [x, y] of [
    [0, 0],
    [321.7, 222.2],
    [999, 699],
  ] as const) {
    const board = view.toBoard(x, y);
    for (const value of board) expect(Number.isInteger(value)).toBe(true);
    const [sx, sy] = view.toScreen(...board);
    // Rounding to a whole unit moves a point by at most half a unit, which is this many CSS pixels.
    const slack = 0.5 * view.scale + 1e-9;
    expect(Math.abs(sx - x)).toBeLessThanOrEqual(slack);
    expect(Math.abs(sy - y)).toBeLessThanOrEqual(slack);
    const exact = view.toScreen(...view.toBoardExact(x, y));
    expect(exact[0]).toBeCloseTo(x, 6);
    expect(exact[1]).toBeCloseTo(y, 6);
  }
});

test.each(ZOOMS)("at zoom %p, panning moves the drawing by exactly the pointer's travel", (zoom) => {
  const view = viewport();
  view.zoomAt(500, 350, zoom);
  const point: [number, number] = [1_000_000, -2_000_000];
  const [x, y] = view.toScreen(...point);
  view.panBy(-50.5, 33.25);
  const [x2, y2] = view.toScreen(...point);
  expect(x2 - x).toBeCloseTo(-50.5, 6);
  expect(y2 - y).toBeCloseTo(33.25, 6);
});

test("the zoom stays between 2% and 3200%", () => {
  const view = viewport();
  view.zoomAt(500, 350, 1e6);
  expect(view.zoom).toBe(MAX_ZOOM);
  view.zoomAt(500, 350, 1e-9);
  expect(view.zoom).toBe(MIN_ZOOM);
  expect([MIN_ZOOM, MAX_ZOOM]).toEqual([0.02, 32]);
});

test("the view goes anywhere within the coordinate range, and no further; positions past it map to its edge", () => {
  const view = viewport();
  view.panBy(-1e12, -1e12);
  expect(view.center).toEqual([COORD_LIMIT, COORD_LIMIT]);
  expect(view.toBoard(1_000, 700)).toEqual([COORD_LIMIT, COORD_LIMIT]);
  view.panBy(2e12, 2e12);
  expect(view.center).toEqual([-COORD_LIMIT, -COORD_LIMIT]);
  expect(view.toBoard(0, 0)).toEqual([-COORD_LIMIT, -COORD_LIMIT]);
});

test("a resize keeps the zoom and the board point at the centre; reset goes back to the origin at 100%", () => {
  const view = viewport();
  view.zoomAt(900, 600, 3);
  const center = view.toBoardExact(500, 350);
  view.resize(400, 300);
  expect(view.zoom).toBe(3);
  const moved = view.toBoardExact(200, 150);
  expect(moved[0]).toBeCloseTo(center[0], 6);
  expect(moved[1]).toBeCloseTo(center[1], 6);
  view.reset();
  expect(view.zoom).toBe(1);
  expect(view.toBoard(200, 150)).toEqual([0, 0]);
});

describe("fit", () => {
  test("shows a large rectangle whole, centred, with the margin on its tighter side", () => {
    const view = viewport(1_000, 700);
    const rect = { minX: 100_000, minY: -50_000, maxX: 500_000, maxY: 150_000 };
    view.fit(rect);
    const [left, top] = view.toScreen(rect.minX, rect.minY);
    const [right, bottom] = view.toScreen(rect.maxX, rect.maxY);
    expect(left).toBeCloseTo(FIT_MARGIN, 6);
    expect(right).toBeCloseTo(1_000 - FIT_MARGIN, 6);
    expect(top).toBeGreaterThanOrEqual(FIT_MARGIN);
    expect(bottom).toBeLessThanOrEqual(700 - FIT_MARGIN);
    expect((top + bottom) / 2).toBeCloseTo(350, 6);
  });

  test("does not blow a small rectangle up past the zoom asked for, and never past the zoom range", () => {
    const view = viewport();
    view.fit({ minX: 0, minY: 0, maxX: 160, maxY: 160 });
    expect(view.zoom).toBe(1);
    view.fit({ minX: 0, minY: 0, maxX: 160, maxY: 160 }, 4);
    expect(view.zoom).toBe(4);
    view.fit({ minX: 0, minY: 0, maxX: 0, maxY: 0 }, Infinity);
    expect(view.zoom).toBe(MAX_ZOOM);
    view.fit({ minX: -COORD_LIMIT, minY: -COORD_LIMIT, maxX: COORD_LIMIT, maxY: COORD_LIMIT });
    expect(view.zoom).toBe(MIN_ZOOM);
    expect(view.center).toEqual([0, 0]);
  });
});
