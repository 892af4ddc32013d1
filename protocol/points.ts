/**
 * The compact encoding of a stroke's points, `p` in the protocol: integer board coordinates (x 0..BOARD_WIDTH,
 * y 0..BOARD_HEIGHT), the first point as is and every next one as its difference to the one before, each
 * number written as Base64 VLQ, the encoding of JavaScript source maps: the sign in the lowest bit, then 5 bits
 * per character, least significant first, with 32 added to every character but the last; characters from
 * `A-Za-z0-9+/`. A pointer sample at 60 Hz moves a few units, so most points cost 2 to 4 characters, about a
 * sixth of `[0.1234,0.5678]` in JSON, and the text needs no escaping in JSON.
 */
import { BOARD_HEIGHT, BOARD_WIDTH } from "./events";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Int8Array(128).fill(-1);
for (let index = 0; index < ALPHABET.length; index += 1) DIGIT[ALPHABET.charCodeAt(index)] = index;

export type PointList = ReadonlyArray<readonly [x: number, y: number]>;

function writeNumber(out: string[], value: number): void {
  let vlq = value < 0 ? (-value << 1) | 1 : value << 1;
  do {
    let digit = vlq & 31;
    vlq >>>= 5;
    if (vlq > 0) digit |= 32;
    out.push(ALPHABET[digit] as string);
  } while (vlq > 0);
}

/** Encodes integer board coordinates. */
export function encodePoints(points: PointList): string {
  const out: string[] = [];
  let [px, py] = [0, 0];
  for (const [x, y] of points) {
    writeNumber(out, x - px);
    writeNumber(out, y - py);
    [px, py] = [x, y];
  }
  return out.join("");
}

/**
 * Decodes `p` into a flat array `[x0, y0, x1, y1, ...]`, or returns a reason when it is not a valid encoding
 * of at most `maxPoints` points inside the board.
 */
export function decodePoints(text: string, maxPoints = Infinity): number[] | string {
  // Integer arithmetic throughout (a number has at most 30 bits): this runs for every point of every stroke a late
  // joiner draws, 1.6 million for a board of 100,000 strokes of 16 points.
  const flat: number[] = [];
  let value = 0;
  let shift = 0;
  let x = 0;
  let y = 0;
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
    const delta = value & 1 ? -(value >>> 1) : value >>> 1;
    if (flat.length % 2 === 0) {
      x += delta;
      if (x < 0 || x > BOARD_WIDTH) return `point ${flat.length >> 1} is off the board`;
      flat.push(x);
    } else {
      y += delta;
      if (y < 0 || y > BOARD_HEIGHT) return `point ${flat.length >> 1} is off the board`;
      flat.push(y);
    }
    if (flat.length > maxPoints * 2) return `more than ${maxPoints} points`;
    value = 0;
    shift = 0;
  }
  if (shift > 0) return "the last number is cut short";
  if (flat.length === 0) return "no points";
  if (flat.length % 2 === 1) return "an x without its y";
  return flat;
}
