/**
 * The compact encoding of a freehand line's points, `d` in the protocol: samples of integer board coordinates and
 * pen pressure, every coordinate written as its difference to the sample before (the first one to 0, 0, or to the
 * last point of the line when an `append` continues it), and the pressure as is, each number in Base64 VLQ, the
 * encoding of JavaScript source maps: the sign in the lowest bit, then 5 bits per character, least significant
 * first, with 32 added to every character but the last; characters from `A-Za-z0-9+/`. A pointer sample at 60 Hz
 * moves a few units, so most samples cost 3 to 5 characters, and the text needs no escaping in JSON.
 *
 * Pressure is 1 to 15 (a pen's force from 0 to 1, in fifteenths), or 0 when the device does not report it (a
 * mouse): the renderer then simulates it from the speed of the stroke.
 */
import { COORD_LIMIT } from "./events";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Int8Array(128).fill(-1);
for (let index = 0; index < ALPHABET.length; index += 1) DIGIT[ALPHABET.charCodeAt(index)] = index;

/** A sample: board coordinates and pressure (0: unknown, else 1 to 15). */
export type Sample = readonly [x: number, y: number, pressure: number];
export type SampleList = ReadonlyArray<Sample>;
export const MAX_PRESSURE = 15;

/** Pressure from a pointer event's `pressure` (0..1), given whether the device reports it. */
export function quantizePressure(pressure: number, reported: boolean): number {
  if (!reported) return 0;
  return Math.max(1, Math.min(MAX_PRESSURE, Math.round(pressure * MAX_PRESSURE)));
}

function writeNumber(out: string[], value: number): void {
  let vlq = value < 0 ? (-value << 1) | 1 : value << 1;
  do {
    let digit = vlq & 31;
    vlq >>>= 5;
    if (vlq > 0) digit |= 32;
    out.push(ALPHABET[digit] as string);
  } while (vlq > 0);
}

/** Encodes samples; `from`, the line's last point, when they continue a line (an append). */
export function encodeSamples(samples: SampleList, from: readonly [x: number, y: number] = [0, 0]): string {
  const out: string[] = [];
  let [px, py] = from;
  for (const [x, y, pressure] of samples) {
    writeNumber(out, x - px);
    writeNumber(out, y - py);
    writeNumber(out, pressure);
    [px, py] = [x, y];
  }
  return out.join("");
}

/**
 * Decodes `d` into a flat array `[x0, y0, p0, x1, y1, p1, ...]`, or returns a reason when it is not a valid encoding
 * of 1 to `maxSamples` samples within ±COORD_LIMIT. `from`: the point an append continues from.
 */
export function decodeSamples(
  text: string,
  maxSamples = Infinity,
  from: readonly [x: number, y: number] = [0, 0],
): number[] | string {
  // Integer arithmetic throughout (a number has at most 30 bits): this runs for every point of every line a late
  // joiner draws, 1.6 million for a board of 100,000 lines of 16 points.
  const flat: number[] = [];
  let value = 0;
  let shift = 0;
  let [x, y] = from;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const digit = code < 128 ? (DIGIT[code] as number) : -1;
    if (digit < 0) return `character ${index} is not Base64`;
    if (digit & 32) {
      value |= (digit & 31) << shift;
      shift += 5;
      if (shift > 25) return `number at character ${index} is too long`;
      continue;
    }
    value |= digit << shift;
    const number = value & 1 ? -(value >>> 1) : value >>> 1;
    const field = flat.length % 3;
    if (field === 0) {
      x += number;
      if (x < -COORD_LIMIT || x > COORD_LIMIT) return `sample ${(flat.length / 3) | 0} is out of bounds`;
      flat.push(x);
    } else if (field === 1) {
      y += number;
      if (y < -COORD_LIMIT || y > COORD_LIMIT) return `sample ${(flat.length / 3) | 0} is out of bounds`;
      flat.push(y);
    } else {
      if (number < 0 || number > MAX_PRESSURE) return `sample ${(flat.length / 3) | 0} has a pressure out of 0..15`;
      flat.push(number);
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
