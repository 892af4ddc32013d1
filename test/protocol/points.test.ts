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
  const line = Array.from({ length: 100 }, (_, index): [number, number] => [
    2_000 + index * 40,
    3_000 + Math.round(20 * Math.sin(index / 5)),
  ]);
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
  expect(
    decodePoints(
      encodePoints([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
      2,
    ),
  ).toMatch(/more than 2 points/);
});

/** The decoder as first written, plainly (floating-point arithmetic): the faster one must answer exactly as it does. */
function referenceDecode(text: string, maxPoints = Infinity): number[] | string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const flat: number[] = [];
  let value = 0;
  let shift = 0;
  for (let index = 0; index < text.length; index += 1) {
    const digit = alphabet.indexOf(text[index] as string);
    if (digit < 0) return `character ${index} is not Base64`;
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      if (shift > 25) return `number at character ${index} is too long`;
      continue;
    }
    const delta = value % 2 === 1 ? -(value - 1) / 2 : value / 2;
    const coordinate = (flat.length >= 2 ? (flat[flat.length - 2] as number) : 0) + delta;
    if (coordinate < 0 || coordinate > (flat.length % 2 === 0 ? BOARD_WIDTH : BOARD_HEIGHT))
      return `point ${flat.length >> 1} is off the board`;
    flat.push(coordinate);
    if (flat.length > maxPoints * 2) return `more than ${maxPoints} points`;
    value = 0;
    shift = 0;
  }
  if (shift > 0) return "the last number is cut short";
  if (flat.length === 0) return "no points";
  if (flat.length % 2 === 1) return "an x without its y";
  return flat;
}

test("any text decodes exactly as the plain reference decoder does (points or the same reason)", () => {
  const base64 = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/!".split(""));
  const valid = fc.array(point, { minLength: 0, maxLength: 20 }).map((points) => encodePoints(points));
  // Valid encodings, cut or extended with arbitrary digits: every path through the decoder.
  const text = fc.oneof(
    fc.array(base64, { maxLength: 40 }).map((chars) => chars.join("")),
    fc
      .tuple(
        valid,
        fc.array(base64, { maxLength: 8 }).map((chars) => chars.join("")),
        fc.nat(8),
      )
      .map(([good, tail, cut]) => good.slice(0, Math.max(0, good.length - cut)) + tail),
  );
  fc.assert(
    fc.property(text, fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 10 })), (input, maxPoints) => {
      expect(decodePoints(input, maxPoints)).toEqual(referenceDecode(input, maxPoints));
    }),
    { numRuns: 5_000 },
  );
});
