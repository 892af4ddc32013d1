/**
 * The points encoding: a round trip keeps every point, and anything that is not a valid encoding of points on
 * the board is refused with a reason.
 */
import fc from "fast-check";
import { BOARD_HEIGHT, BOARD_WIDTH } from "../../protocol/events";
import { decodePoints, encodePoints } from "../../protocol/points";

const point = fc.tuple(fc.integer({ min: 0, max: BOARD_WIDTH }), fc.integer({ min: 0, max: BOARD_HEIGHT }));

test("decoding an encoding gives back every point", () => {
  fc.assert(
    fc.property(fc.array(point, { minLength: 1, maxLength: 300 }), (points) => {
      expect(decodePoints(encodePoints(points))).toEqual(points.flat());
    }),
  );
});

test("a line drawn at 60 Hz costs about 2 to 4 characters per point", () => {
  const line = Array.from({ length: 100 }, (_, index): [number, number] => [2_000 + index * 40, 3_000 + Math.round(20 * Math.sin(index / 5))]);
  expect(encodePoints(line).length / line.length).toBeLessThan(4);
});

test.each<[string, string, RegExp]>([
  ["an empty string", "", /no points/],
  ["a character outside Base64", "AA!A", /not Base64/],
  ["an x without its y", "A", /x without its y/],
  ["a number cut short", "AAg", /cut short/],
  ["a number too long", "gggggggA", /too long/],
  ["a point left of the board", "DA", /off the board/],
  ["a point past the right edge", encodePoints([[BOARD_WIDTH + 1, 0]]), /off the board/],
  ["a point below the board", encodePoints([[0, BOARD_HEIGHT + 1]]), /off the board/],
])("%s is refused", (_, text, reason) => {
  expect(decodePoints(text)).toMatch(reason);
});

test("more points than allowed are refused", () => {
  expect(decodePoints(encodePoints([[1, 1], [2, 2], [3, 3]]), 2)).toMatch(/more than 2 points/);
});
