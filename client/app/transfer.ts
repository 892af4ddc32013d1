/**
 * Elements outside their board: the JSON that copy and paste put on the system clipboard (so a paste works in
 * another board, another tab, another browser window) and that export and import write and read as a file. Only
 * what makes an element look as it does travels: kind, box, colours, width, data. Ids, authors, versions and
 * stacking are the board's own; a paste or an import makes new elements, in the order given (bottom first).
 */
import type { Box, ElementKind, ElementRecord } from "../../protocol/events";
import {
  COLOR_PATTERN,
  COORD_LIMIT,
  ELEMENT_KINDS,
  MAX_FONT_SIZE,
  MAX_TEXT_LENGTH,
  MAX_WIDTH,
  MIN_FONT_SIZE,
  MIN_WIDTH,
} from "../../protocol/events";
import { decodeSamples } from "../../protocol/points";
import type { NewElement } from "./board-port";
import { decodeText } from "../core/text";

const TRANSFER_TYPE = "whiteboard/elements";
const TRANSFER_VERSION = 1;

/** An element as it travels. */
export interface TransferElement {
  t: ElementKind;
  b: Box;
  c: string;
  sw: number;
  f: string;
  d: string;
}

export interface Transfer {
  type: typeof TRANSFER_TYPE;
  version: typeof TRANSFER_VERSION;
  elements: TransferElement[];
}

/** Most elements one paste or import adds: what a board takes is the store's business, this bounds the page. */
const MAX_TRANSFER_ELEMENTS = 10_000;

export function toTransfer(elements: readonly ElementRecord[]): Transfer {
  return {
    type: TRANSFER_TYPE,
    version: TRANSFER_VERSION,
    elements: elements.map(({ t, x, y, w, h, c, sw, f, d }) => ({ t, b: [x, y, w, h], c, sw, f, d })),
  };
}

const isInteger = (value: unknown): value is number => Number.isInteger(value);
const inRange = (value: unknown, min: number, max: number) => isInteger(value) && value >= min && value <= max;

/** Why one travelling element is not one, or undefined when it is. */
function problemOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "is not an object";
  const { t, b, c, sw, f, d } = value as Record<string, unknown>;
  if (!ELEMENT_KINDS.includes(t as ElementKind)) return "has an unknown kind";
  if (!Array.isArray(b) || b.length !== 4 || !b.every((n) => inRange(n, -2 * COORD_LIMIT, 2 * COORD_LIMIT)))
    return "has no valid box";
  const [x, y, w, h] = b as number[];
  if (Math.abs(x as number) > COORD_LIMIT || Math.abs(y as number) > COORD_LIMIT) return "is out of bounds";
  if (t !== "l" && t !== "a" && ((w as number) < 0 || (h as number) < 0)) return "has a negative size";
  if (typeof c !== "string" || !COLOR_PATTERN.test(c)) return "has no valid colour";
  if (typeof f !== "string" || (f !== "" && !COLOR_PATTERN.test(f))) return "has no valid fill";
  const text = t === "t" || t === "n";
  if (!(text ? inRange(sw, MIN_FONT_SIZE, MAX_FONT_SIZE) : inRange(sw, MIN_WIDTH, MAX_WIDTH)))
    return "has no valid width";
  if (typeof d !== "string") return "has no data";
  if (t === "f" && typeof decodeSamples(d) === "string") return "has no valid points";
  if (text) {
    // decodeText reads anything that is not base64url of UTF-8 as "".
    if (
      !/^[A-Za-z0-9_-]*$/.test(d) ||
      (d !== "" && decodeText(d) === "") ||
      [...decodeText(d)].length > MAX_TEXT_LENGTH
    )
      return "has no valid text";
  } else if (t !== "f" && d !== "") return "has data it should not have";
  return undefined;
}

/** The elements of a clipboard text or a file, or why there are none (in words for the person who pasted). */
export function parseTransfer(text: string): TransferElement[] | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "it is not a whiteboard file";
  }
  const transfer = value as Partial<Transfer> | null;
  if (typeof transfer !== "object" || transfer === null || transfer.type !== TRANSFER_TYPE)
    return "it is not a whiteboard file";
  if (transfer.version !== TRANSFER_VERSION) return "it was made by another version of the whiteboard";
  if (!Array.isArray(transfer.elements)) return "it holds no elements";
  if (transfer.elements.length > MAX_TRANSFER_ELEMENTS)
    return `it holds more than ${MAX_TRANSFER_ELEMENTS.toLocaleString("en")} elements`;
  for (const [index, element] of transfer.elements.entries()) {
    const problem = problemOf(element);
    if (problem) return `its element ${index + 1} ${problem}`;
  }
  return transfer.elements;
}

const clampCoord = (value: number) => Math.max(-COORD_LIMIT, Math.min(COORD_LIMIT, value));

/**
 * New elements for travelling ones, moved by (dx, dy) board units (kept within the coordinate range): a paste, a
 * duplicate, an import.
 */
export function copiesOf(elements: readonly TransferElement[], dx: number, dy: number): NewElement[] {
  return elements.map(({ t, b: [x, y, w, h], c, sw, f, d }) => ({
    t,
    b: [clampCoord(Math.round(x + dx)), clampCoord(Math.round(y + dy)), w, h],
    c,
    sw,
    f,
    d,
  }));
}

/** The centre of the travelling elements' boxes, to place a paste around a point. */
export function centreOf(elements: readonly TransferElement[]): [x: number, y: number] {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const {
    b: [x, y, w, h],
  } of elements) {
    [minX, maxX] = [Math.min(minX, x, x + w), Math.max(maxX, x, x + w)];
    [minY, maxY] = [Math.min(minY, y, y + h), Math.max(maxY, y, y + h)];
  }
  return elements.length === 0 ? [0, 0] : [(minX + maxX) / 2, (minY + maxY) / 2];
}
