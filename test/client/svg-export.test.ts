/**
 * The SVG export: a white page the board's size and one path per stroke, in stacking order, with the
 * stroke's colour, width and every point.
 */
import { boardSvg } from "../../client/core/svg-export";
import { UNITS_PER_WIDTH } from "../../client/core/stroke-geometry";
import { BOARD_HEIGHT, BOARD_WIDTH } from "../../protocol/events";
import { encodePoints, type PointList } from "../../protocol/points";

const stroke = (points: PointList, c = "#1a73e8", w = 5) => ({ p: encodePoints(points), c, w });

/** Each path's attributes and its points, read back from the markup. */
function paths(svg: string): { stroke: string; width: number; points: number[] }[] {
  return [...svg.matchAll(/<path d="M([^"]+)" stroke="([^"]+)" stroke-width="([^"]+)"\/>/g)].map((match) => ({
    points: (match[1] as string).replace("L", " ").split(" ").map(Number),
    stroke: match[2] as string,
    width: Number(match[3]),
  }));
}

test("one path per stroke, in order, with its colour, its width in board units and every point", () => {
  const svg = boardSvg([
    stroke([
      [100, 200],
      [300, 400],
      [500, 450],
    ]),
    stroke([[8_000, 5_000]], "#d93025", 20),
  ]);
  expect(svg).toMatch(
    new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${BOARD_WIDTH} ${BOARD_HEIGHT}"`),
  );
  expect(svg).toContain(`<rect width="${BOARD_WIDTH}" height="${BOARD_HEIGHT}" fill="#ffffff"/>`);
  expect(svg).toContain('stroke-linecap="round"');
  expect(paths(svg)).toEqual([
    { stroke: "#1a73e8", width: 5 * UNITS_PER_WIDTH, points: [100, 200, 300, 400, 500, 450] },
    // A dot: a segment of length zero, which round caps draw.
    { stroke: "#d93025", width: 20 * UNITS_PER_WIDTH, points: [8_000, 5_000, 8_000, 5_000] },
  ]);
});

test("an empty board is a white page", () => {
  const svg = boardSvg([]);
  expect(paths(svg)).toEqual([]);
  expect(svg).toContain('fill="#ffffff"');
});

test("a colour that is not #rrggbb cannot put markup into the file", () => {
  const svg = boardSvg([stroke([[1, 1]], '"/><script>alert(1)</script>')]);
  expect(svg).not.toContain("<script>");
  expect(paths(svg)[0]?.stroke).toBe("#000000");
});
