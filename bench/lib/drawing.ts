/**
 * What the load generator draws, independent of any wire protocol: every sample's content is a function of its
 * identity (sender, line, index), so a receiver can check every field of what it got against what was drawn, and
 * can tell which sample a point is from its x coordinate alone (a protocol may pack several samples into one
 * message).
 */

/** A point in board units. */
export type Point = [x: number, y: number];

/** The pen of a sender: the colour and width every one of its lines has. */
export interface Style {
  color: string;
  width: number;
}

/** Sample i of every line is drawn at x = X0 + i × DX. */
const X0 = 800;
const DX = 16;
/** Lines stay inside x ≤ X0 + (MAX_SAMPLES_PER_LINE - 1) × DX, within the smallest board of any protocol version. */
const MAX_SAMPLES_PER_LINE = 900;
/** y of a line's samples: a base per line plus a pattern per index, distinct for 101 consecutive indices. */
const Y_BASE_MIN = 200;
const Y_BASE_SPAN = 9_400;
const yBase = (sender: number, line: number) => Y_BASE_MIN + ((sender * 7_919 + line * 104_729) % Y_BASE_SPAN);
const yPattern = (index: number) => (index * 37) % 101;
/** The least and greatest pattern value over indices 0..i: a line's box in O(1), as receivers check it per delivery. */
const patternLow = new Int32Array(MAX_SAMPLES_PER_LINE);
const patternHigh = new Int32Array(MAX_SAMPLES_PER_LINE);
for (let index = 0; index < MAX_SAMPLES_PER_LINE; index += 1) {
  patternLow[index] = Math.min(yPattern(index), index > 0 ? (patternLow[index - 1] as number) : Infinity);
  patternHigh[index] = Math.max(yPattern(index), index > 0 ? (patternHigh[index - 1] as number) : -Infinity);
}

const COLORS = ["#1a73e8", "#d93025", "#188038", "#f9ab00", "#8430ce", "#12b5cb", "#e8710a"];

const colorOf = (sender: number) => COLORS[sender % COLORS.length] as string;
const widthOf = (sender: number) => 1 + (sender % 5);
const yOf = (sender: number, line: number, index: number) => yBase(sender, line) + yPattern(index);

export function styleOf(sender: number): Style {
  return { color: colorOf(sender), width: widthOf(sender) };
}

export function samplePoint(sender: number, line: number, index: number): Point {
  return [X0 + index * DX, yOf(sender, line, index)];
}

/** The bounding box `[x, y, w, h]` of samples 0..`last` of a line. */
export function lineBox(sender: number, line: number, last: number): [x: number, y: number, w: number, h: number] {
  const low = patternLow[last] as number;
  return [X0, yBase(sender, line) + low, last * DX, (patternHigh[last] as number) - low];
}

/** The index a point's x stands for, or -1 when no sample is drawn at that x. */
export function indexOfX(x: number): number {
  const offset = x - X0;
  if (offset < 0 || offset % DX !== 0) return -1;
  const index = offset / DX;
  return index < MAX_SAMPLES_PER_LINE ? index : -1;
}

/** Whether a decoded sample is exactly what was drawn at that identity (allocates nothing: it runs per delivery). */
export function isIntact(
  sender: number,
  line: number,
  index: number,
  x: number,
  y: number,
  color: string,
  width: number,
): boolean {
  return (
    x === X0 + index * DX && y === yOf(sender, line, index) && color === colorOf(sender) && width === widthOf(sender)
  );
}

/** How a sender draws: lines of `samplesPerLine` samples every `sampleIntervalMs`, then `pauseMs` before the next. */
export interface DrawingPattern {
  samplesPerLine: number;
  sampleIntervalMs: number;
  pauseMs: number;
}

function cycleMs(pattern: DrawingPattern): number {
  return pattern.samplesPerLine * pattern.sampleIntervalMs + pattern.pauseMs;
}

/**
 * Most lines one sender can begin in `durationMs`: a line begins only before the end, and the first may begin at
 * once.
 */
export function linesWithin(pattern: DrawingPattern, durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs / cycleMs(pattern)) + 1);
}

/**
 * Where sender `sender` begins its first line. Senders that draw without pause all begin within one sample
 * interval, so that they do not sample in lockstep and all draw from the start; senders that pause between lines
 * begin spread over a whole cycle, so that lines begin at a steady rate rather than in bursts.
 */
export function phaseMs(sender: number, pattern: DrawingPattern): number {
  const spread = pattern.pauseMs > 0 ? cycleMs(pattern) : pattern.sampleIntervalMs;
  return (((sender * 7_919) % 1_000) / 1_000) * spread;
}
