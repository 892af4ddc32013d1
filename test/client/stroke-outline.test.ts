/**
 * The outline ink fills is perfect-freehand's, bit for bit: ./stroke-outline.ts computes getStroke without its
 * allocations, and is checked here against the library itself on lines of every shape the client meets (one sample,
 * two, repeated samples, scribbles that turn back at every sample, long smooth curves, pens and mice, thin and thick).
 */
import fc from "fast-check";
import { getStroke } from "perfect-freehand";
import { traceStrokeOutline } from "../../client/app/stroke-outline";

const OPTIONS = { thinning: 0.5, smoothing: 0.5, streamline: 0.5 } as const;

/** The library's outline, flattened, and ours. */
function both(samples: number[], size: number, simulated: boolean): [number[], number[]] {
  const triples: number[][] = [];
  for (let index = 0; index < samples.length; index += 3) triples.push(samples.slice(index, index + 3));
  const library = getStroke(triples, { ...OPTIONS, size, last: true, simulatePressure: simulated }).flat();
  const ours = traceStrokeOutline(samples, samples.length / 3, { ...OPTIONS, size, simulatePressure: simulated });
  return [library, Array.from(ours.points.subarray(0, 2 * ours.count))];
}

const coordinate = fc.integer({ min: -2_000, max: 2_000 });
/** A line: samples moving by small steps (scribbles) or along a gentle curve, some repeated. */
const line = fc
  .record({
    count: fc.integer({ min: 1, max: 60 }),
    start: fc.tuple(coordinate, coordinate),
    steps: fc.array(fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -40, max: 40 })), {
      minLength: 60,
      maxLength: 60,
    }),
    pressures: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 60, maxLength: 60 }),
    repeatEvery: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ count, start, steps, pressures, repeatEvery }) => {
    const samples: number[] = [];
    let [x, y] = start;
    for (let index = 0; index < count; index += 1) {
      samples.push(x, y, (pressures[index] as number) / 15);
      if (repeatEvery > 0 && index % repeatEvery === 0) continue;
      const [dx, dy] = steps[index] as [number, number];
      x += dx;
      y += dy;
    }
    return samples;
  });

test("the same points as perfect-freehand's getStroke, for any line, size and pressure", () => {
  fc.assert(
    fc.property(line, fc.constantFrom(1, 8, 16, 48, 128, 1_024), fc.boolean(), (samples, size, simulated) => {
      const [library, ours] = both(samples, size, simulated);
      expect(ours).toEqual(library);
    }),
    { numRuns: 2_000 },
  );
});

test("smooth handwriting, a dot and a two-sample dash are the library's too", () => {
  const curve: number[] = [];
  for (let index = 0; index < 200; index += 1)
    curve.push(index * 30, Math.sin(index / 10) * 400, 0.3 + 0.4 * Math.abs(Math.sin(index / 7)));
  const cases: [number[], number, boolean][] = [
    [curve, 48, false],
    [curve, 48, true],
    [[100, 100, 0.5], 32, true],
    [[100, 100, 0.5, 100, 100, 0.5, 100, 100, 0.5], 32, false],
    [[0, 0, 0.2, 500, 300, 0.9], 24, false],
  ];
  for (const [samples, size, simulated] of cases) {
    const [library, ours] = both(samples, size, simulated);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(library);
  }
});

test("no samples, no outline", () => {
  expect(traceStrokeOutline([], 0, { ...OPTIONS, size: 16, simulatePressure: true }).count).toBe(0);
});
