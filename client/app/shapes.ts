/**
 * The geometry of every element kind as drawn: where its ink goes, in board units, computed once per element and
 * shared by the canvas (./render.ts) and the SVG export (./svg-export.ts), so that the screen, the PNG and the SVG
 * show the same thing. DOM-free: text is measured through a function the caller gives (a canvas's measureText in
 * the page and in the ink worker).
 *
 * - Freehand lines (./freehand.ts) fill their box with their samples and reach past it by their width.
 * - Rectangles and ellipses are inscribed in their box, their stroke inside it.
 * - Straight lines and arrows go from (x, y) to (x + w, y + h); an arrow ends in an open head.
 * - Text wraps at its box's width in its font size (`sw` CSS pixels); a sticky note is its box filled with `f`, and
 *   its text wrapped inside a margin.
 */
import { UNITS_PER_PIXEL } from "../../protocol/events";
import { inkReach, outlineOf, placeSamples, type FreehandSamples, type InkElement } from "./freehand";

export type { InkElement } from "./freehand";

/** A rectangle on the board, board units. */
export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const intersects = (a: Rect, b: Rect): boolean =>
  a.minX <= b.maxX && a.maxX >= b.minX && a.minY <= b.maxY && a.maxY >= b.minY;

/** The font of text and notes everywhere (canvas and SVG). */
export const FONT_FAMILY = "sans-serif";
/** Lines of text are this many font sizes apart; the baseline sits this far below a line's top. */
const LINE_HEIGHT = 1.25;
const BASELINE = 1;
/** A sticky note's margin around its text, in font sizes. */
const NOTE_MARGIN = 0.5;
/** A note without a fill colour is yellow. */
export const NOTE_FILL = "#fff1a8";

/** Text width measure: the advance width of `text` in FONT_FAMILY at MEASURE_SIZE pixels. */
export type TextMeasure = (text: string) => number;
/** Text is measured at this size and scaled: advances grow linearly with the size, so layout is zoom-independent. */
export const MEASURE_SIZE = 64;

/** A stroke width or font size (`sw`, CSS pixels at 100%) in board units. */
export const toUnits = (sw: number): number => sw * UNITS_PER_PIXEL;

// --- Freehand lines -------------------------------------------------------------------------------------------

interface Memo<T> {
  d: string;
  w: number;
  h: number;
  sw: number;
  value: T;
}

/**
 * Derived geometry, cached by element: a record whose data, size or width changed (in place or as a new object) is
 * computed again. Position is not part of the key: everything cached is relative to the box's corner.
 */
function memoized<T>(make: (element: InkElement) => T): (element: InkElement) => T {
  const cache = new WeakMap<InkElement, Memo<T>>();
  return (element) => {
    const hit = cache.get(element);
    if (hit && hit.d === element.d && hit.w === element.w && hit.h === element.h && hit.sw === element.sw)
      return hit.value;
    const value = make(element);
    cache.set(element, { d: element.d, w: element.w, h: element.h, sw: element.sw, value });
    return value;
  };
}

/** A freehand element's samples in its box (decoded once). */
export const samplesOf: (element: InkElement) => FreehandSamples = memoized(placeSamples);

/**
 * Outlines cost memory (50 to 150 points a line): at most this many coordinates are kept (32 MB, the outlines of
 * 100,000 lines of 16 samples or more), the oldest computed dropped first; one dropped is computed again when next
 * drawn.
 */
const OUTLINE_CACHE_COORDINATES = 8_000_000;
const outlines = new Map<InkElement, Memo<Float32Array>>();
/** The cached elements, oldest first from `oldest` on (a queue: a Map's own iteration slows down as it is emptied). */
let computed: InkElement[] = [];
let oldest = 0;
let outlineCoordinates = 0;

/** A freehand element's outline (./freehand.ts), relative to its box's corner. */
export function outline(element: InkElement): Float32Array {
  const hit = outlines.get(element);
  if (hit && hit.d === element.d && hit.w === element.w && hit.h === element.h && hit.sw === element.sw)
    return hit.value;
  if (hit) outlineCoordinates -= hit.value.length;
  else computed.push(element);
  const value = outlineOf(samplesOf(element), element.sw);
  outlines.set(element, { d: element.d, w: element.w, h: element.h, sw: element.sw, value });
  outlineCoordinates += value.length;
  while (outlineCoordinates > OUTLINE_CACHE_COORDINATES && oldest < computed.length) {
    const dropped = computed[oldest++] as InkElement;
    outlineCoordinates -= outlines.get(dropped)?.value.length ?? 0;
    outlines.delete(dropped);
  }
  if (oldest > computed.length / 2) [computed, oldest] = [computed.slice(oldest), 0];
  return value;
}

/** Whether the element's outline is at hand (drawing it costs no computation). */
export function hasOutline(element: InkElement): boolean {
  const hit = outlines.get(element);
  return (
    hit !== undefined && hit.d === element.d && hit.w === element.w && hit.h === element.h && hit.sw === element.sw
  );
}

// --- Shapes ---------------------------------------------------------------------------------------------------

/** A rectangle's or ellipse's stroke centre line: the box inset by half the stroke width (less in a small box). */
export function insetBox(element: InkElement): { x: number; y: number; w: number; h: number } {
  const half = toUnits(element.sw) / 2;
  const [insetX, insetY] = [Math.min(half, element.w / 2), Math.min(half, element.h / 2)];
  return { x: element.x + insetX, y: element.y + insetY, w: element.w - 2 * insetX, h: element.h - 2 * insetY };
}

/** Half the angle of an arrow's head, radians. */
const HEAD_ANGLE = Math.PI / 6;

/** An arrow head's length: four stroke widths (at least 10 CSS pixels), never more than half the arrow. */
const headLength = (element: InkElement): number =>
  Math.min(Math.max(4 * toUnits(element.sw), 10 * UNITS_PER_PIXEL), Math.hypot(element.w, element.h) / 2);

/**
 * An arrow's head: `[leftX, leftY, tipX, tipY, rightX, rightY]`, an open chevron at (x + w, y + h).
 */
export function arrowHead(element: InkElement): [number, number, number, number, number, number] {
  const [tipX, tipY] = [element.x + element.w, element.y + element.h];
  const head = headLength(element);
  const angle = Math.atan2(element.h, element.w);
  const side = (turn: number): [number, number] => [
    tipX - head * Math.cos(angle + turn),
    tipY - head * Math.sin(angle + turn),
  ];
  const [left, right] = [side(HEAD_ANGLE), side(-HEAD_ANGLE)];
  return [left[0], left[1], tipX, tipY, right[0], right[1]];
}

// --- Text -----------------------------------------------------------------------------------------------------

/** The characters of a text or note: `d` is base64url of UTF-8 (invalid bytes show as U+FFFD). */
export function decodeText(d: string): string {
  const base64 = d.replace(/-/g, "+").replace(/_/g, "/");
  let binary: string;
  try {
    binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  } catch {
    return "";
  }
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return new TextDecoder().decode(bytes);
}

/** Text laid out in its box: lines, each with its width, in board units. */
export interface TextLayout {
  /** Font size, board units. */
  size: number;
  /** Where the text block starts: the first line's top left. */
  left: number;
  top: number;
  lines: { text: string; width: number }[];
}

/**
 * Wraps `text` greedily at `maxWidth` (board units) in a font of `size` units: at spaces where it can, inside a
 * word that is wider than the whole line; line breaks in the text are kept.
 */
export function wrapText(
  text: string,
  size: number,
  maxWidth: number,
  measure: TextMeasure,
): { text: string; width: number }[] {
  const factor = size / MEASURE_SIZE;
  const widthOf = (part: string) => measure(part) * factor;
  const space = widthOf(" ");
  const lines: { text: string; width: number }[] = [];
  for (const paragraph of text.split("\n")) {
    let [line, width, words] = ["", 0, 0];
    const push = () => {
      lines.push({ text: line, width });
      [line, width, words] = ["", 0, 0];
    };
    for (const word of paragraph.split(" ")) {
      const wordWidth = widthOf(word);
      if (words > 0 && width + space + wordWidth > maxWidth) push();
      if (wordWidth > maxWidth && word.length > 1) {
        // A word wider than the whole line (so alone on it): broken between code points, never inside a surrogate.
        for (const character of word) {
          const characterWidth = widthOf(character);
          if (line !== "" && width + characterWidth > maxWidth) push();
          line += character;
          width += characterWidth;
        }
        words = 1;
        continue;
      }
      width = words === 0 ? wordWidth : width + space + wordWidth;
      line = words === 0 ? word : `${line} ${word}`;
      words += 1;
    }
    push();
  }
  return lines;
}

/** Text and notes laid out in their box (notes inside their margin). */
function layoutText(element: InkElement, measure: TextMeasure): TextLayout {
  const size = toUnits(element.sw);
  const margin = element.t === "n" ? NOTE_MARGIN * size : 0;
  const lines = wrapText(decodeText(element.d), size, Math.max(0, element.w - 2 * margin), measure);
  return { size, left: element.x + margin, top: element.y + margin, lines };
}

/** Text laid out once per element and measure (the page and the ink worker each have their own measure). */
const layouts = new WeakMap<TextMeasure, WeakMap<InkElement, { of: TextKey; layout: TextLayout }>>();
type TextKey = Pick<InkElement, "t" | "x" | "y" | "w" | "sw" | "d">;

export function textLayout(element: InkElement, measure: TextMeasure): TextLayout {
  let cache = layouts.get(measure);
  if (!cache) layouts.set(measure, (cache = new WeakMap()));
  const hit = cache.get(element);
  const { t, x, y, w, sw, d } = element;
  if (hit && hit.of.d === d && hit.of.x === x && hit.of.y === y && hit.of.w === w && hit.of.sw === sw && hit.of.t === t)
    return hit.layout;
  const layout = layoutText(element, measure);
  cache.set(element, { of: { t, x, y, w, sw, d }, layout });
  return layout;
}

/** A line's baseline, board units, in a layout. */
export const baselineOf = (layout: TextLayout, line: number): number =>
  layout.top + (line * LINE_HEIGHT + BASELINE) * layout.size;

// --- Bounds ---------------------------------------------------------------------------------------------------

/**
 * Where an element's ink may fall, board units: what the canvas culls by. Text that runs past the bottom of its box
 * (a box made too small) is drawn, so its bounds reach as far.
 */
export function inkBounds(element: InkElement, measure: TextMeasure): Rect {
  const { x, y, w, h } = element;
  switch (element.t) {
    case "f": {
      const reach = inkReach(element.sw);
      return { minX: x - reach, minY: y - reach, maxX: x + w + reach, maxY: y + h + reach };
    }
    case "l":
    case "a": {
      const reach = toUnits(element.sw) / 2 + (element.t === "a" ? headLength(element) : 0);
      return {
        minX: Math.min(x, x + w) - reach,
        minY: Math.min(y, y + h) - reach,
        maxX: Math.max(x, x + w) + reach,
        maxY: Math.max(y, y + h) + reach,
      };
    }
    case "t":
    case "n": {
      const layout = textLayout(element, measure);
      const textBottom = layout.top + layout.lines.length * LINE_HEIGHT * layout.size;
      let textRight = x + w;
      for (const line of layout.lines) textRight = Math.max(textRight, layout.left + line.width);
      return { minX: x, minY: y, maxX: textRight, maxY: Math.max(y + h, textBottom) };
    }
    default:
      return { minX: x, minY: y, maxX: x + w, maxY: y + h };
  }
}

/** Whether an element's ink may fall in `area`: inkBounds, without making an object for a freehand line. */
export function meets(element: InkElement, area: Rect, measure: TextMeasure): boolean {
  if (element.t !== "f") return intersects(inkBounds(element, measure), area);
  const reach = inkReach(element.sw);
  return (
    element.x - reach <= area.maxX &&
    element.x + element.w + reach >= area.minX &&
    element.y - reach <= area.maxY &&
    element.y + element.h + reach >= area.minY
  );
}

/** The union of the elements' ink bounds, or undefined for none. */
export function contentBounds(elements: Iterable<InkElement>, measure: TextMeasure): Rect | undefined {
  let bounds: Rect | undefined;
  for (const element of elements) {
    const b = inkBounds(element, measure);
    // A record with a coordinate that is not a number (never stored) must not make the whole export's page NaN.
    if (![b.minX, b.minY, b.maxX, b.maxY].every(Number.isFinite)) continue;
    bounds = bounds
      ? {
          minX: Math.min(bounds.minX, b.minX),
          minY: Math.min(bounds.minY, b.minY),
          maxX: Math.max(bounds.maxX, b.maxX),
          maxY: Math.max(bounds.maxY, b.maxY),
        }
      : b;
  }
  return bounds;
}

/** Elements in stacking order: by z, then by the seq that created them. */
export const byStacking = (a: InkElement, b: InkElement): number => a.z - b.z || a.s - b.s;
