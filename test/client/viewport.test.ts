/**
 * Pan and zoom: the whole board fits at zoom 1, the point under the pointer stays put while zooming, the view
 * never leaves the board, and screen and board positions map back and forth exactly.
 */
import { MAX_ZOOM, Viewport } from "../../client/core/viewport";
import { BOARD_HEIGHT, BOARD_WIDTH } from "../../protocol/events";

function viewport(width = 1_000, height = 700): Viewport {
  const view = new Viewport();
  view.resize(width, height);
  return view;
}

test("at zoom 1 the whole board fits the area, centred, with the board's shape", () => {
  const view = viewport(1_000, 700);
  const board = view.boardOnScreen();
  expect(board.left).toBeGreaterThanOrEqual(0);
  expect(board.top).toBeGreaterThanOrEqual(0);
  expect(board.left + board.width).toBeLessThanOrEqual(1_000);
  expect(board.top + board.height).toBeLessThanOrEqual(700);
  expect(board.width / board.height).toBeCloseTo(BOARD_WIDTH / BOARD_HEIGHT);
  expect(board.left * 2 + board.width).toBeCloseTo(1_000);
  expect(board.top * 2 + board.height).toBeCloseTo(700);
  expect(view.visible().minX).toBeLessThanOrEqual(0);
  expect(view.visible().maxX).toBeGreaterThanOrEqual(BOARD_WIDTH);
});

test("zooming keeps the board point under the pointer where it is", () => {
  const view = viewport();
  const before = view.toBoard(300, 200);
  view.zoomAt(300, 200, 2.5);
  expect(view.zoom).toBe(2.5);
  expect(view.toBoard(300, 200)).toEqual(before);
  const [x, y] = view.toScreen(...before);
  expect(x).toBeCloseTo(300, 0);
  expect(y).toBeCloseTo(200, 0);
});

test("zoom stays between 1 and 8", () => {
  const view = viewport();
  view.zoomAt(500, 350, 100);
  expect(view.zoom).toBe(MAX_ZOOM);
  view.zoomAt(500, 350, 1 / 1_000);
  expect(view.zoom).toBe(1);
});

test("panning moves the drawing with the pointer, and stops at the board's edges", () => {
  const view = viewport();
  view.panBy(100, 0);
  expect(view.toBoard(500, 350)).toEqual([BOARD_WIDTH / 2, BOARD_HEIGHT / 2]); // at zoom 1 there is nowhere to go

  view.zoomAt(500, 350, 4);
  const [x] = view.toScreen(8_000, 5_000);
  view.panBy(-50, 0);
  expect(view.toScreen(8_000, 5_000)[0]).toBeCloseTo(x - 50);

  view.panBy(1e6, 1e6);
  expect(view.visible().minX).toBeCloseTo(0);
  expect(view.visible().minY).toBeCloseTo(0);
  view.panBy(-1e6, -1e6);
  expect(view.visible().maxX).toBeCloseTo(BOARD_WIDTH);
  expect(view.visible().maxY).toBeCloseTo(BOARD_HEIGHT);
});

test("at zoom 2 the area shows half the board's width around the zoom point", () => {
  const view = viewport(1_600 + 16, 1_000 + 16); // the board fits exactly, 0.1 px per unit
  view.zoomAt(808, 508, 2);
  const { minX, maxX, minY, maxY } = view.visible();
  expect(maxX - minX).toBeCloseTo((BOARD_WIDTH + 160) / 2);
  expect(maxY - minY).toBeCloseTo((BOARD_HEIGHT + 160) / 2);
});

test("positions off the board map to its nearest point, in whole units", () => {
  const view = viewport();
  expect(view.toBoard(-50, -50)).toEqual([0, 0]);
  expect(view.toBoard(5_000, 5_000)).toEqual([BOARD_WIDTH, BOARD_HEIGHT]);
  view.zoomAt(123, 456, 3.3);
  for (const value of view.toBoard(321.7, 222.2)) expect(Number.isInteger(value)).toBe(true);
});

test("a resize keeps the zoom and keeps the view on the board; reset fits the whole board again", () => {
  const view = viewport();
  view.zoomAt(900, 600, 3);
  view.resize(400, 300);
  expect(view.zoom).toBe(3);
  expect(view.visible().maxX).toBeLessThanOrEqual(BOARD_WIDTH + 1e-6);
  view.reset();
  expect(view.zoom).toBe(1);
  expect(view.toBoard(200, 150)).toEqual([BOARD_WIDTH / 2, BOARD_HEIGHT / 2]);
});
