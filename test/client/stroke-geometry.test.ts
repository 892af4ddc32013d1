/**
 * Strokes as shapes in board units: decoding once, bounding boxes, and the eraser's hit test, which must catch
 * a stroke the eraser's path crosses between two pointer samples and miss one it passes just beside.
 */
import { segmentDistance, shapeOf, strokesTouched, touches, UNITS_PER_WIDTH } from "../../client/core/stroke-geometry";
import { encodePoints, type PointList } from "../../protocol/points";

const stroke = (points: PointList, w = 4, i = "s") => ({ i, p: encodePoints(points), c: "#000000", w });

test("a stroke is decoded once per object, with its bounding box and its half width in board units", () => {
  const record = stroke([
    [1_000, 2_000],
    [3_000, 1_500],
    [2_000, 4_000],
  ]);
  const shape = shapeOf(record);
  expect(shapeOf(record)).toBe(shape);
  expect(shape.points).toEqual([1_000, 2_000, 3_000, 1_500, 2_000, 4_000]);
  expect(shape).toMatchObject({
    minX: 1_000,
    minY: 1_500,
    maxX: 3_000,
    maxY: 4_000,
    radius: (4 * UNITS_PER_WIDTH) / 2,
  });
  // A copy is another object: decoded on its own.
  expect(shapeOf({ ...record })).not.toBe(shape);
});

test("points that do not decode make an empty shape, which nothing touches", () => {
  const shape = shapeOf({ p: "!", c: "#000000", w: 2 });
  expect(shape.points).toEqual([]);
  expect(touches(shape, [0, 0], [16_000, 10_000], 1_000)).toBe(false);
});

describe("the eraser", () => {
  // Width 4: ink reaches 32 units either side of the line from (1000, 1000) to (5000, 1000).
  const line = shapeOf(
    stroke([
      [1_000, 1_000],
      [5_000, 1_000],
    ]),
  );

  test.each<[string, [number, number], [number, number], number, boolean]>([
    ["resting on the line", [3_000, 1_000], [3_000, 1_000], 1, true],
    ["within the ink plus its reach", [3_000, 1_040], [3_000, 1_040], 10, true],
    ["just beyond it", [3_000, 1_043], [3_000, 1_043], 10, false],
    ["past the line's round end", [5_030, 1_000], [5_030, 1_000], 5, true],
    ["well past its end", [5_100, 1_000], [5_100, 1_000], 5, false],
    ["crossing it between two samples far from it", [3_000, 500], [3_100, 1_500], 1, true],
    ["moving beside it", [1_000, 1_200], [5_000, 1_200], 10, false],
  ])("%s", (_what, a, b, reach, expected) => {
    expect(touches(line, a, b, reach)).toBe(expected);
  });

  test("a single point is a dot as wide as the stroke", () => {
    const dot = shapeOf(stroke([[8_000, 5_000]], 10));
    expect(touches(dot, [8_000, 5_085], [8_000, 5_085], 10)).toBe(true);
    expect(touches(dot, [8_000, 5_095], [8_000, 5_095], 10)).toBe(false);
  });

  test("a bent stroke is touched along any of its segments, and not inside the bend", () => {
    const bend = shapeOf(
      stroke([
        [0, 0],
        [4_000, 0],
        [4_000, 4_000],
      ]),
    );
    expect(touches(bend, [4_000, 3_000], [4_000, 3_000], 1)).toBe(true);
    expect(touches(bend, [2_000, 2_000], [2_000, 2_000], 100)).toBe(false);
  });

  test("strokesTouched gives the strokes hit, in the order given", () => {
    const strokes = [
      stroke([[100, 100]], 2, "a"),
      stroke([[9_000, 9_000]], 2, "b"),
      stroke(
        [
          [100, 150],
          [600, 150],
        ],
        2,
        "c",
      ),
    ];
    expect(strokesTouched(strokes, [0, 120], [700, 120], 20).map((hit) => hit.i)).toEqual(["a", "c"]);
  });
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
