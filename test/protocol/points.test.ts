/**
 * The points encoding of a freehand line (samples: coordinates and pressure): a round trip keeps every sample, an
 * append continues from the line's last point, and anything that is not a valid encoding of samples within the
 * board's coordinate limit is refused with a reason.
 */
import fc from "fast-check";
import { COORD_LIMIT } from "../../protocol/events";
import { decodeSamples, encodeSamples, MAX_PRESSURE, quantizePressure, type Sample } from "../../protocol/points";

const coordinate = fc.integer({ min: -COORD_LIMIT, max: COORD_LIMIT });
const pressure = fc.integer({ min: 0, max: MAX_PRESSURE });
const sample = fc.tuple(coordinate, coordinate, pressure);

test("decoding an encoding gives back every sample", () => {
  fc.assert(
    fc.property(fc.array(sample, { minLength: 1, maxLength: 300 }), (samples) => {
      expect(decodeSamples(encodeSamples(samples))).toEqual(samples.flat());
    }),
  );
});

test("an append's samples, encoded from the line's last point, decode from that point", () => {
  fc.assert(
    fc.property(
      fc.array(sample, { minLength: 1, maxLength: 50 }),
      fc.array(sample, { minLength: 1, maxLength: 50 }),
      (first, more) => {
        const last = first[first.length - 1] as Sample;
        const from = [last[0], last[1]] as const;
        expect(decodeSamples(encodeSamples(more, from), Infinity, from)).toEqual(more.flat());
        // The line's points as stored: the first write's text followed by the append's, decoded as one.
        expect(decodeSamples(encodeSamples(first) + encodeSamples(more, from))).toEqual([...first, ...more].flat());
      },
    ),
  );
});

test("a line drawn at 60 Hz with a pen costs about 3 to 5 characters per sample", () => {
  const line = Array.from({ length: 100 }, (_, index): Sample => [
    2_000 + index * 40,
    3_000 + Math.round(20 * Math.sin(index / 5)),
    8,
  ]);
  expect(encodeSamples(line).length / line.length).toBeLessThan(5);
});

test("pressure: 0 when the device reports none, else 1 to 15", () => {
  expect(quantizePressure(0.5, false)).toBe(0);
  expect(quantizePressure(0, true)).toBe(1);
  expect(quantizePressure(0.5, true)).toBe(8);
  expect(quantizePressure(1, true)).toBe(MAX_PRESSURE);
  expect(quantizePressure(7, true)).toBe(MAX_PRESSURE);
});

test.each<[string, string, RegExp]>([
  ["an empty string", "", /no samples/],
  ["a character outside Base64", "AA!A", /not Base64/],
  ["an x without its y and pressure", "A", /a sample cut short/],
  ["an x and y without pressure", "AA", /a sample cut short/],
  ["a number cut short", "AAg", /cut short/],
  ["a number too long", "gggggggA", /too long/],
  ["a sample left of the limit", encodeSamples([[-COORD_LIMIT - 1, 0, 0]]), /out of bounds/],
  ["a sample past the right limit", encodeSamples([[COORD_LIMIT + 1, 0, 0]]), /out of bounds/],
  ["a sample below the limit", encodeSamples([[0, COORD_LIMIT + 1, 0]]), /out of bounds/],
  ["a negative pressure", "AAD", /pressure out of 0..15/],
  ["a pressure above 15", encodeSamples([[0, 0, MAX_PRESSURE + 1]]), /pressure out of 0..15/],
])("%s is refused", (_, text, reason) => {
  expect(decodeSamples(text)).toMatch(reason);
});

test("an append that leaves the limit from the line's last point is refused", () => {
  const from = [COORD_LIMIT - 10, 0] as const;
  expect(decodeSamples(encodeSamples([[COORD_LIMIT - 5, 0, 0]], from), Infinity, from)).toEqual([
    COORD_LIMIT - 5,
    0,
    0,
  ]);
  expect(decodeSamples(encodeSamples([[COORD_LIMIT + 1, 0, 0]], from), Infinity, from)).toMatch(/out of bounds/);
});

test("more samples than allowed are refused", () => {
  expect(
    decodeSamples(
      encodeSamples([
        [1, 1, 0],
        [2, 2, 0],
        [3, 3, 0],
      ]),
      2,
    ),
  ).toMatch(/more than 2 samples/);
});

/** The decoder written plainly (floating-point arithmetic): the faster one must answer exactly as it does. */
function referenceDecode(text: string, maxSamples = Infinity): number[] | string {
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
    const number = value % 2 === 1 ? -(value - 1) / 2 : value / 2;
    const field = flat.length % 3;
    const sampleIndex = Math.floor(flat.length / 3);
    if (field === 2) {
      if (number < 0 || number > MAX_PRESSURE) return `sample ${sampleIndex} has a pressure out of 0..15`;
      flat.push(number);
    } else {
      const coordinate = (flat.length >= 3 ? (flat[flat.length - 3] as number) : 0) + number;
      if (Math.abs(coordinate) > COORD_LIMIT) return `sample ${sampleIndex} is out of bounds`;
      flat.push(coordinate);
    }
    if (flat.length > maxSamples * 3) return `more than ${maxSamples} samples`;
    value = 0;
    shift = 0;
  }
  if (shift > 0) return "the last number is cut short";
  if (flat.length === 0) return "no samples";
  if (flat.length % 3 !== 0) return "a sample cut short";
  return flat;
}

test("any text decodes exactly as the plain reference decoder does (samples or the same reason)", () => {
  const base64 = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/!".split(""));
  const valid = fc.array(sample, { minLength: 0, maxLength: 20 }).map((samples) => encodeSamples(samples));
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
    fc.property(text, fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 10 })), (input, maxSamples) => {
      expect(decodeSamples(input, maxSamples)).toEqual(referenceDecode(input, maxSamples));
    }),
    { numRuns: 5_000 },
  );
});
