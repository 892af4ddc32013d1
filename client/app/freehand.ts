/**
 * Freehand lines as ink: their samples placed in the element's box, and the outline perfect-freehand makes of them
 * (smoothed, its width following the pen's pressure, or a pressure simulated from the speed when the device reports
 * none). The screen, the PNG and the SVG export all draw this same outline; the screen alone may draw a polyline
 * instead where the outline could not be told apart from one (see `freehandDetail`).
 *
 * Everything here is in board units, relative to the element's box corner (x, y), and independent of the zoom, so
 * one computation serves every frame. Coordinates are kept as Float32Array: relative to the corner, a line's
 * coordinates stay far below 2^24, so single precision loses nothing visible and halves the memory of a large board.
 */
import { getStroke, type StrokeOptions } from "perfect-freehand";
import { UNITS_PER_PIXEL, type ElementRecord } from "../../protocol/events";
import { decodeSamples, MAX_PRESSURE } from "../../protocol/points";

/** What drawing an element needs of its record. */
export type InkElement = Pick<ElementRecord, "i" | "s" | "z" | "t" | "x" | "y" | "w" | "h" | "c" | "sw" | "f" | "d">;

/**
 * The look of ink, as tldraw and Excalidraw tune perfect-freehand: the width follows pressure by half its range
 * (`thinning`), and the line is smoothed (`streamline` pulls each point toward the previous ones; `smoothing` softens
 * the outline's edges). A line is drawn as finished (`last`): the outline reaches its last sample.
 */
const INK_OPTIONS = { thinning: 0.5, smoothing: 0.5, streamline: 0.5, last: true } as const;

/**
 * Below this width on the canvas (device pixels, the line's nominal width), a freehand line is drawn as a polyline
 * of that width. The outline's edges stray from the polyline's by at most a quarter of the width (`thinning` 0.5 moves
 * the radius between 0.25 and 0.75 of the width), so below 2 pixels by less than half a pixel: antialiasing, not
 * shape. Computing an outline costs 5 to 10 µs a line and filling it about as much as stroking the polyline, so a
 * board seen from afar, where hundreds of thousands of lines are a few pixels wide, draws as fast as plain lines.
 */
export const OUTLINE_MIN_PX = 2;

/** How a freehand line is drawn at a given zoom: its outline, or a polyline of its nominal width. */
export type FreehandDetail = "outline" | "polyline";

/** `scale`: device pixels per board unit. */
export function freehandDetail(sw: number, scale: number): FreehandDetail {
  return sw * UNITS_PER_PIXEL * scale >= OUTLINE_MIN_PX ? "outline" : "polyline";
}

/** A line's diameter at medium pressure, board units. */
const inkSize = (sw: number): number => sw * UNITS_PER_PIXEL;

/** The farthest the outline reaches from a sample, board units: its radius at full pressure, with room to spare. */
export const inkReach = (sw: number): number => inkSize(sw);

export interface FreehandSamples {
  /** `[x0, y0, p0, x1, y1, p1, ...]`, relative to the box's corner; pressure 0 (not reported) or 1..15. */
  points: Float32Array;
  /** The device reported no pressure for any sample: the outline simulates it from the speed. */
  simulated: boolean;
  /** The mean pressure, 0..1 (0.5 when simulated): the polyline that stands in for the outline has this width. */
  meanPressure: number;
}

const NO_SAMPLES: FreehandSamples = { points: new Float32Array(0), simulated: true, meanPressure: 0.5 };

/**
 * The samples of a freehand element placed in its box: scaled from their own bounding box to the element's (a line
 * resized or moved is drawn where its box is), centred along an axis where they have no extent. A `d` that does not
 * decode (never the case for a stored element) draws nothing.
 */
export function placeSamples(element: InkElement): FreehandSamples {
  const flat = decodeSamples(element.d);
  if (typeof flat === "string") return NO_SAMPLES;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  let pressureSum = 0;
  let reported = 0;
  for (let index = 0; index < flat.length; index += 3) {
    const x = flat[index] as number;
    const y = flat[index + 1] as number;
    const pressure = flat[index + 2] as number;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (pressure > 0) {
      pressureSum += pressure;
      reported += 1;
    }
  }
  const fit = (span: number, size: number) => (span > 0 ? size / span : 0);
  const [scaleX, scaleY] = [fit(maxX - minX, element.w), fit(maxY - minY, element.h)];
  const [offsetX, offsetY] = [maxX > minX ? 0 : element.w / 2, maxY > minY ? 0 : element.h / 2];
  const points = new Float32Array(flat.length);
  for (let index = 0; index < flat.length; index += 3) {
    points[index] = offsetX + ((flat[index] as number) - minX) * scaleX;
    points[index + 1] = offsetY + ((flat[index + 1] as number) - minY) * scaleY;
    points[index + 2] = flat[index + 2] as number;
  }
  return {
    points,
    simulated: reported === 0,
    meanPressure: reported === 0 ? 0.5 : pressureSum / reported / MAX_PRESSURE,
  };
}

/** perfect-freehand's options for a line of width `sw`. */
function strokeOptions(sw: number, simulated: boolean): StrokeOptions {
  return { ...INK_OPTIONS, size: inkSize(sw), simulatePressure: simulated };
}

/**
 * The outline of a freehand line: a closed polygon `[x0, y0, x1, y1, ...]` relative to the box's corner, to be filled
 * with the line's colour (nonzero rule). Empty when the line has no samples.
 */
export function outlineOf(samples: FreehandSamples, sw: number): Float32Array {
  const { points, simulated } = samples;
  if (points.length === 0) return new Float32Array(0);
  const input: [number, number, number][] = [];
  for (let index = 0; index < points.length; index += 3) {
    const pressure = points[index + 2] as number;
    // A sample without pressure in a line that has some (a pen's first event may lack it): medium pressure.
    input.push([points[index] as number, points[index + 1] as number, pressure > 0 ? pressure / MAX_PRESSURE : 0.5]);
  }
  const outline = getStroke(input, strokeOptions(sw, simulated));
  const flat = new Float32Array(outline.length * 2);
  outline.forEach(([x, y], index) => {
    flat[2 * index] = x;
    flat[2 * index + 1] = y;
  });
  return flat;
}

/**
 * The width of the polyline that stands in for the outline from afar: the outline's mean width, whose radius is
 * `size × (0.5 − thinning × (0.5 − pressure))` at a pressure (perfect-freehand's formula, linear easing).
 */
export function polylineWidth(samples: FreehandSamples, sw: number): number {
  return inkSize(sw) * (1 - INK_OPTIONS.thinning * (1 - 2 * samples.meanPressure));
}
