import { indexOfX, isIntact, lineBox, linesWithin, phaseMs, samplePoint, styleOf } from "../../bench/lib/drawing";

describe("bench drawing", () => {
  it("tells a sample's index from its x, and nothing from an x no sample is drawn at", () => {
    for (const index of [0, 1, 59, 899]) expect(indexOfX(samplePoint(3, 4, index)[0])).toBe(index);
    expect(indexOfX(samplePoint(3, 4, 1)[0] + 1)).toBe(-1);
    expect(indexOfX(samplePoint(3, 4, 900)[0])).toBe(-1);
    expect(indexOfX(0)).toBe(-1);
  });

  it("gives consecutive samples of a line distinct content, and checks every field", () => {
    const ys = Array.from({ length: 101 }, (_, index) => samplePoint(2, 9, index)[1]);
    expect(new Set(ys).size).toBe(101);
    const [x, y] = samplePoint(2, 9, 5);
    const { color, width } = styleOf(2);
    expect(isIntact(2, 9, 5, x, y, color, width)).toBe(true);
    expect(isIntact(2, 9, 5, x, y, color, width + 1)).toBe(false);
    expect(isIntact(2, 9, 5, x, y, styleOf(3).color, width)).toBe(false);
    expect(isIntact(2, 8, 5, x, y, color, width)).toBe(false);
  });

  it("gives a line's box up to any sample: the bounding box of the samples drawn so far", () => {
    for (const last of [0, 1, 7, 59, 899]) {
      const points = Array.from({ length: last + 1 }, (_, index) => samplePoint(5, 11, index));
      const xs = points.map(([x]) => x);
      const ys = points.map(([, y]) => y);
      const [minX, minY] = [Math.min(...xs), Math.min(...ys)];
      expect(lineBox(5, 11, last)).toEqual([minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY]);
    }
  });

  it("starts continuous drawers within one sample interval, pausing ones over a whole cycle", () => {
    const continuous = { samplesPerLine: 60, sampleIntervalMs: 100, pauseMs: 0 };
    const pausing = { samplesPerLine: 16, sampleIntervalMs: 1000 / 60, pauseMs: 3_000 };
    const phases = (pattern: typeof continuous) => Array.from({ length: 50 }, (_, sender) => phaseMs(sender, pattern));
    expect(Math.max(...phases(continuous))).toBeLessThan(100);
    expect(Math.max(...phases(pausing))).toBeGreaterThan(1_000);
    expect(linesWithin(continuous, 10_000)).toBe(3);
  });
});
