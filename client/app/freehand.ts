/**
 * Freehand lines as ink: their samples placed in the element's box, and the outline perfect-freehand makes of them
 * (smoothed, its width following the pen's pressure, or a pressure simulated from the speed when the device reports
 * none), computed by ./stroke-outline.ts, the library's algorithm without its allocations. The screen, the PNG and
 * the SVG export all fill this same outline, at every zoom.
 *
 * Everything here is in board units, relative to the element's box corner (x, y), and independent of the zoom.
 * Drawing a board traces each line's outline into a reused buffer (`traceFreehand`): nothing is allocated or kept
 * per line, which is what lets a board of 100,000 lines be drawn in well under a second of script
 * (docs/rendering.md).
 */
import { UNITS_PER_PIXEL, type ElementRecord } from "../../protocol/events";
import { decodeSamples, MAX_PRESSURE } from "../../protocol/points";
import { traceStrokeOutline, type OutlineOptions, type Outline } from "./stroke-outline";

/** What drawing an element needs of its record. */
export type InkElement = Pick<ElementRecord, "i" | "s" | "z" | "t" | "x" | "y" | "w" | "h" | "c" | "sw" | "f" | "d">;

/**
 * The look of ink, as tldraw and Excalidraw tune perfect-freehand: the width follows pressure by half its range
 * (`thinning`), and the line is smoothed (`streamline` pulls each point toward the previous ones; `smoothing` softens
 * the outline's edges). A line is drawn as finished: the outline reaches its last sample.
 */
const INK_OPTIONS = { thinning: 0.5, smoothing: 0.5, streamline: 0.5 } as const;
/** The pressure of a sample the device reported none for, in a line that has some (a pen's first event may lack it). */
const MEDIUM_PRESSURE = 0.5;

/** A line's diameter at medium pressure, board units. */
const inkSize = (sw: number): number => sw * UNITS_PER_PIXEL;

/** The farthest the outline reaches from a sample, board units: its radius at full pressure, with room to spare. */
export const inkReach = (sw: number): number => inkSize(sw);

export interface FreehandSamples {
  /** `[x0, y0, p0, x1, y1, p1, ...]`, relative to the box's corner; pressure 0 (not reported) or 1..15. */
  points: Float32Array;
  /** The device reported no pressure for any sample: the outline simulates it from the speed. */
  simulated: boolean;
}

/** Samples placed in the box, as the outline takes them: `[x, y, pressure, ...]` (reused from line to line). */
let placed = new Float64Array(3 * 64);
interface Placed {
  count: number;
  simulated: boolean;
}
const placedCount: Placed = { count: 0, simulated: false };

const pressureOf = (pressure: number) => (pressure > 0 ? pressure / MAX_PRESSURE : MEDIUM_PRESSURE);

/**
 * Decodes a freehand element's samples into `placed`, placed in its box: scaled from their own bounding box to the
 * element's (a line resized or moved is drawn where its box is), centred along an axis where they have no extent;
 * pressures as stored (0..15) or as the outline takes them (0..1, medium where none was reported). Returns how many
 * samples, and whether the pressure is simulated; undefined for a `d` that does not decode (never the case for a
 * stored element), which draws nothing.
 */
function place(element: InkElement, forOutline: boolean): Placed | undefined {
  const flat = decodeSamples(element.d);
  if (typeof flat === "string") return undefined;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  let reported = false;
  for (let index = 0; index < flat.length; index += 3) {
    const x = flat[index] as number;
    const y = flat[index + 1] as number;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if ((flat[index + 2] as number) > 0) reported = true;
  }
  const fit = (span: number, size: number) => (span > 0 ? size / span : 0);
  const [scaleX, scaleY] = [fit(maxX - minX, element.w), fit(maxY - minY, element.h)];
  const [offsetX, offsetY] = [maxX > minX ? 0 : element.w / 2, maxY > minY ? 0 : element.h / 2];
  if (placed.length < flat.length) placed = new Float64Array(flat.length * 2);
  for (let index = 0; index < flat.length; index += 3) {
    // In single precision, as the exports' samples are kept (Float32Array): the screen's outline is theirs exactly.
    placed[index] = Math.fround(offsetX + ((flat[index] as number) - minX) * scaleX);
    placed[index + 1] = Math.fround(offsetY + ((flat[index + 1] as number) - minY) * scaleY);
    const pressure = flat[index + 2] as number;
    placed[index + 2] = forOutline ? pressureOf(pressure) : pressure;
  }
  placedCount.count = flat.length / 3;
  placedCount.simulated = !reported;
  return placedCount;
}

/** A freehand element's samples in its box (for the exports' and tests' use; drawing uses `traceFreehand`). */
export function placeSamples(element: InkElement): FreehandSamples {
  const result = place(element, false);
  if (!result) return { points: new Float32Array(0), simulated: true };
  return { points: Float32Array.from(placed.subarray(0, 3 * result.count)), simulated: result.simulated };
}

/** perfect-freehand's options for a line of width `sw` (one object, reused: drawing a line allocates nothing). */
const options: OutlineOptions = { ...INK_OPTIONS, size: 0, simulatePressure: false };
function strokeOptions(sw: number, simulated: boolean): OutlineOptions {
  options.size = inkSize(sw);
  options.simulatePressure = simulated;
  return options;
}

/**
 * The outline of a freehand line: a closed polygon `[x0, y0, x1, y1, ...]` relative to the box's corner, to be filled
 * with the line's colour (nonzero rule). Empty when the line has no samples.
 */
export function outlineOf(samples: FreehandSamples, sw: number): Float32Array {
  const { points, simulated } = samples;
  const count = points.length / 3;
  if (placed.length < points.length) placed = new Float64Array(points.length * 2);
  for (let index = 0; index < points.length; index += 3) {
    placed[index] = points[index] as number;
    placed[index + 1] = points[index + 1] as number;
    placed[index + 2] = pressureOf(points[index + 2] as number);
  }
  const outline = traceStrokeOutline(placed, count, strokeOptions(sw, simulated));
  return Float32Array.from(outline.points.subarray(0, 2 * outline.count));
}

const NO_OUTLINE: Outline = { points: new Float64Array(0), count: 0 };

/**
 * A freehand element's outline, relative to its box's corner, traced into a buffer that the next call reuses: for
 * drawing, which uses it at once. No points (a `d` that does not decode): no outline.
 */
export function traceFreehand(element: InkElement): Outline {
  const result = place(element, true);
  if (!result || result.count === 0) return NO_OUTLINE;
  return traceStrokeOutline(placed, result.count, strokeOptions(element.sw, result.simulated));
}
