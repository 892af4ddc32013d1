/**
 * perfect-freehand's `getStroke` (1.2.3, MIT, the library tldraw and Excalidraw use) for the options ink uses, as one
 * allocation-free pass over flat arrays. The library builds a few small arrays per sample and per outline point and
 * calls Math.sin and Math.cos for every point of every round corner: 24 to 34 µs a line of 16 samples, over 2 s for a
 * board of 100,000 lines (docs/rendering.md). This computes the same numbers, operation for operation in the same
 * order (the rotations' sines and cosines from tables made with the library's own loops), so the outline is
 * identical to the library's, bit for bit: test/client/stroke-outline.test.ts checks it against the library.
 *
 * Options fixed by ink (./freehand.ts): `thinning`, `smoothing` and `streamline` as given, linear easing, round caps
 * at both ends, no taper, `last` (the line is finished: it reaches its last sample).
 */

export interface OutlineOptions {
  /** The line's diameter at medium pressure. */
  size: number;
  thinning: number;
  smoothing: number;
  streamline: number;
  /** Pressure simulated from the speed (the device reported none). */
  simulatePressure: boolean;
}

// The library's constants (src/constants.ts).
const RATE_OF_PRESSURE_CHANGE = 0.275;
const FIXED_PI = Math.PI + 0.0001;
const START_CAP_SEGMENTS = 13;
const END_CAP_SEGMENTS = 29;
const CORNER_CAP_SEGMENTS = 13;
const END_NOISE_THRESHOLD = 3;
const MIN_STREAMLINE_T = 0.15;
const STREAMLINE_T_RANGE = 0.85;
const MIN_RADIUS = 0.01;
const DEFAULT_PRESSURE = 0.5;

/**
 * Sines and cosines of the angles the library turns by, for t stepping as its loop `for (t = from; t <= 1 (or < 1);
 * t += 1 / segments)` steps (the same additions, so the same values of t).
 */
function rotations(segments: number, from: number, inclusive: boolean, angle: (t: number) => number): Float64Array {
  const table: number[] = [];
  const step = 1 / segments;
  for (let t = from; inclusive ? t <= 1 : t < 1; t += step) table.push(Math.sin(angle(t)), Math.cos(angle(t)));
  return Float64Array.from(table);
}

/** A sharp corner's left side turns by FIXED_PI × t, its right side by FIXED_PI × -t. */
const CORNER_LEFT = rotations(CORNER_CAP_SEGMENTS, 0, true, (t) => FIXED_PI * t);
const CORNER_RIGHT = rotations(CORNER_CAP_SEGMENTS, 0, true, (t) => FIXED_PI * -t);
const START_CAP = rotations(START_CAP_SEGMENTS, 1 / START_CAP_SEGMENTS, true, (t) => FIXED_PI * t);
const END_CAP = rotations(END_CAP_SEGMENTS, 1 / END_CAP_SEGMENTS, false, (t) => FIXED_PI * 3 * t);
const DOT = rotations(START_CAP_SEGMENTS, 1 / START_CAP_SEGMENTS, true, (t) => FIXED_PI * 2 * t);

/** Scratch space, grown as needed: stroke points (x, y, pressure, vector x, vector y, distance, running length). */
const STRIDE = 7;
let strokePoints = new Float64Array(64 * STRIDE);
let left = new Float64Array(512);
let right = new Float64Array(512);

function grow(array: Float64Array, needed: number): Float64Array {
  if (needed <= array.length) return array;
  const bigger = new Float64Array(Math.max(needed, array.length * 2));
  bigger.set(array);
  return bigger;
}

/**
 * getStrokePoints: the samples streamlined, with their vectors and distances. `samples` is `[x, y, pressure, ...]`
 * with pressures already 0..1. Returns how many stroke points were made.
 */
function strokePointsOf(samples: ArrayLike<number>, count: number, options: OutlineOptions): number {
  const t = MIN_STREAMLINE_T + (1 - options.streamline) * STREAMLINE_T_RANGE;
  const { size } = options;
  // The library's input as (x, y, pressure) triples: two samples become five, one sample two.
  let input: ArrayLike<number> = samples;
  let inputs = count;
  if (count === 2) {
    const [x0, y0, p0] = [samples[0] as number, samples[1] as number, samples[2] as number];
    const [x1, y1] = [samples[3] as number, samples[4] as number];
    const five = [x0, y0, p0];
    // lrp(A, B, i / 4): its points carry no pressure, so they get the default.
    for (let i = 1; i < 5; i++) five.push(x0 + (x1 - x0) * (i / 4), y0 + (y1 - y0) * (i / 4), DEFAULT_PRESSURE);
    [input, inputs] = [five, 5];
  } else if (count === 1) {
    const [x0, y0, p0] = [samples[0] as number, samples[1] as number, samples[2] as number];
    [input, inputs] = [[x0, y0, p0, x0 + 1, y0 + 1, p0], 2];
  }
  strokePoints = grow(strokePoints, inputs * STRIDE);
  const points = strokePoints;
  points[0] = input[0] as number;
  points[1] = input[1] as number;
  points[2] = input[2] as number;
  points[3] = 1;
  points[4] = 1;
  points[5] = 0;
  points[6] = 0;
  let made = 1;
  let reachedMinimumLength = false;
  let runningLength = 0;
  let [prevX, prevY] = [points[0], points[1]];
  const max = inputs - 1;
  for (let i = 1; i < inputs; i++) {
    const inX = input[3 * i] as number;
    const inY = input[3 * i + 1] as number;
    // The last sample as it is (`last`), the others streamlined: lrp(prev, sample, t).
    const x = i === max ? inX : prevX + (inX - prevX) * t;
    const y = i === max ? inY : prevY + (inY - prevY) * t;
    if (prevX === x && prevY === y) continue;
    const distance = Math.hypot(y - prevY, x - prevX);
    runningLength += distance;
    if (i < max && !reachedMinimumLength) {
      if (runningLength < size) continue;
      reachedMinimumLength = true;
    }
    const dx = prevX - x;
    const dy = prevY - y;
    const length = Math.hypot(dx, dy);
    const at = made * STRIDE;
    points[at] = x;
    points[at + 1] = y;
    points[at + 2] = input[3 * i + 2] as number;
    points[at + 3] = dx / length;
    points[at + 4] = dy / length;
    points[at + 5] = distance;
    points[at + 6] = runningLength;
    made += 1;
    prevX = x;
    prevY = y;
  }
  // The first point's vector is the second's (or none).
  points[3] = made > 1 ? (points[STRIDE + 3] as number) : 0;
  points[4] = made > 1 ? (points[STRIDE + 4] as number) : 0;
  return made;
}

function simulatePressure(prevPressure: number, distance: number, size: number): number {
  const sp = Math.min(1, distance / size);
  const rp = Math.min(1, 1 - sp);
  return Math.min(1, prevPressure + (rp - prevPressure) * (sp * RATE_OF_PRESSURE_CHANGE));
}

const radiusOf = (size: number, thinning: number, pressure: number) => size * (0.5 - thinning * (0.5 - pressure));

/** An outline: `count` points `[x0, y0, x1, y1, ...]` at the start of `points`. */
export interface Outline {
  points: Float64Array;
  count: number;
}

/** The last outline traced (its buffer is reused by the next). */
const traced: Outline = { points: new Float64Array(1024), count: 0 };

/**
 * The outline of a finished stroke through `count` samples `[x, y, pressure 0..1, ...]`: a closed polygon, getStroke's
 * points. The result is valid until the next call (its buffer is reused): no allocation per line.
 */
export function traceStrokeOutline(samples: ArrayLike<number>, count: number, options: OutlineOptions): Outline {
  const { size, thinning, smoothing } = options;
  traced.count = 0;
  if (count === 0 || size <= 0) return traced;
  const n = strokePointsOf(samples, count, options);
  const points = strokePoints;
  const simulate = options.simulatePressure;
  const last = (n - 1) * STRIDE;
  const totalLength = points[last + 6] as number;
  const minDistance = Math.pow(size * smoothing, 2);
  left = grow(left, n * 2 * 2 * 16);
  right = grow(right, n * 2 * 2 * 16);
  let leftCount = 0;
  let rightCount = 0;

  // The initial pressure: the first ten points averaged, so that lines do not start fat.
  let prevPressure = points[2] as number;
  for (let i = 0; i < Math.min(10, n); i++) {
    let pressure = points[i * STRIDE + 2] as number;
    if (simulate) pressure = simulatePressure(prevPressure, points[i * STRIDE + 5] as number, size);
    prevPressure = (prevPressure + pressure) / 2;
  }
  let radius = radiusOf(size, thinning, points[last + 2] as number);
  let firstRadius: number | undefined;
  let [prevVectorX, prevVectorY] = [points[3] as number, points[4] as number];
  let [prevLeftX, prevLeftY] = [points[0] as number, points[1] as number];
  let [prevRightX, prevRightY] = [prevLeftX, prevLeftY];
  let [tempLeftX, tempLeftY, tempRightX, tempRightY] = [prevLeftX, prevLeftY, prevRightX, prevRightY];
  let prevSharp = false;

  for (let i = 0; i < n; i++) {
    const at = i * STRIDE;
    let pressure = points[at + 2] as number;
    const x = points[at] as number;
    const y = points[at + 1] as number;
    const vectorX = points[at + 3] as number;
    const vectorY = points[at + 4] as number;
    const runningLength = points[at + 6] as number;
    const isLast = i === n - 1;
    if (!isLast && totalLength - runningLength < END_NOISE_THRESHOLD) continue;
    if (thinning) {
      if (simulate) pressure = simulatePressure(prevPressure, points[at + 5] as number, size);
      radius = radiusOf(size, thinning, pressure);
    } else radius = size / 2;
    if (firstRadius === undefined) firstRadius = radius;
    // No taper: both strengths are 1.
    radius = Math.max(MIN_RADIUS, radius * Math.min(1, 1));

    const next = isLast ? at : at + STRIDE;
    const nextVectorX = points[next + 3] as number;
    const nextVectorY = points[next + 4] as number;
    const nextDpr = !isLast ? vectorX * nextVectorX + vectorY * nextVectorY : 1.0;
    const prevDpr = vectorX * prevVectorX + vectorY * prevVectorY;
    const sharp = prevDpr < 0 && !prevSharp;
    const nextSharp = nextDpr < 0;

    if (sharp || nextSharp) {
      // A sharp corner: a half circle on each side.
      const offsetX = prevVectorY * radius;
      const offsetY = -prevVectorX * radius;
      // rotAround(point ∓ offset, point, angle): the differences to the point are the same at every angle.
      const leftDX = x - offsetX - x;
      const leftDY = y - offsetY - y;
      const rightDX = x + offsetX - x;
      const rightDY = y + offsetY - y;
      for (let k = 0; k < CORNER_LEFT.length; k += 2) {
        let s = CORNER_LEFT[k] as number;
        let c = CORNER_LEFT[k + 1] as number;
        tempLeftX = leftDX * c - leftDY * s + x;
        tempLeftY = leftDX * s + leftDY * c + y;
        left[leftCount++] = tempLeftX;
        left[leftCount++] = tempLeftY;
        s = CORNER_RIGHT[k] as number;
        c = CORNER_RIGHT[k + 1] as number;
        tempRightX = rightDX * c - rightDY * s + x;
        tempRightY = rightDX * s + rightDY * c + y;
        right[rightCount++] = tempRightX;
        right[rightCount++] = tempRightY;
      }
      prevLeftX = tempLeftX;
      prevLeftY = tempLeftY;
      prevRightX = tempRightX;
      prevRightY = tempRightY;
      if (nextSharp) prevSharp = true;
      continue;
    }
    prevSharp = false;

    if (isLast) {
      const offsetX = vectorY * radius;
      const offsetY = -vectorX * radius;
      left[leftCount++] = x - offsetX;
      left[leftCount++] = y - offsetY;
      right[rightCount++] = x + offsetX;
      right[rightCount++] = y + offsetY;
      continue;
    }

    // lrp(next, vector, nextDpr), turned a quarter, times the radius.
    const lerpX = nextVectorX + (vectorX - nextVectorX) * nextDpr;
    const lerpY = nextVectorY + (vectorY - nextVectorY) * nextDpr;
    const offsetX = lerpY * radius;
    const offsetY = -lerpX * radius;
    tempLeftX = x - offsetX;
    tempLeftY = y - offsetY;
    let dx = prevLeftX - tempLeftX;
    let dy = prevLeftY - tempLeftY;
    if (i <= 1 || dx * dx + dy * dy > minDistance) {
      left[leftCount++] = tempLeftX;
      left[leftCount++] = tempLeftY;
      prevLeftX = tempLeftX;
      prevLeftY = tempLeftY;
    }
    tempRightX = x + offsetX;
    tempRightY = y + offsetY;
    dx = prevRightX - tempRightX;
    dy = prevRightY - tempRightY;
    if (i <= 1 || dx * dx + dy * dy > minDistance) {
      right[rightCount++] = tempRightX;
      right[rightCount++] = tempRightY;
      prevRightX = tempRightX;
      prevRightY = tempRightY;
    }
    prevPressure = pressure;
    prevVectorX = vectorX;
    prevVectorY = vectorY;
  }

  const [firstX, firstY] = [points[0] as number, points[1] as number];
  if (n === 1) return dot(firstX, firstY, firstRadius || radius);
  const [lastX, lastY] = [points[last] as number, points[last + 1] as number];
  traced.points = grow(traced.points, leftCount + END_CAP.length + rightCount + START_CAP.length);
  const out = traced.points;
  let o = 0;
  for (let k = 0; k < leftCount; k++) out[o++] = left[k] as number;
  // The end cap: one and a half turns around the last point, from its side.
  const directionX = -(points[last + 4] as number);
  const directionY = -(-(points[last + 3] as number));
  const startX = lastX + directionX * radius;
  const startY = lastY + directionY * radius;
  o = rotateInto(out, o, END_CAP, startX, startY, lastX, lastY);
  for (let k = rightCount - 2; k >= 0; k -= 2) {
    out[o++] = right[k] as number;
    out[o++] = right[k + 1] as number;
  }
  // The start cap: half a turn around the first point, from the first right point.
  o = rotateInto(out, o, START_CAP, right[0] as number, right[1] as number, firstX, firstY);
  traced.count = o / 2;
  return traced;
}

/** rotAround(A, C, angle) for each angle of a table, written from `o`; returns the next index. */
function rotateInto(out: Float64Array, o: number, table: Float64Array, ax: number, ay: number, cx: number, cy: number) {
  const px = ax - cx;
  const py = ay - cy;
  for (let k = 0; k < table.length; k += 2) {
    const s = table[k] as number;
    const c = table[k + 1] as number;
    out[o++] = px * c - py * s + cx;
    out[o++] = px * s + py * c + cy;
  }
  return o;
}

/** A line that never moved: a dot (drawDot). */
function dot(x: number, y: number, radius: number): Outline {
  const [offsetX, offsetY] = [x + 1, y + 1];
  const [dx, dy] = [x - offsetX, y - offsetY];
  const [perX, perY] = [dy, -dx];
  const length = Math.hypot(perX, perY);
  const startX = x + (perX / length) * -radius;
  const startY = y + (perY / length) * -radius;
  traced.count = rotateInto(traced.points, 0, DOT, startX, startY, x, y) / 2;
  return traced;
}
