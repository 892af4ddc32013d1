import { highestSustained, linearFit, problems, sustained } from "../../bench/lib/analysis";
import { step } from "./fixtures";

describe("bench analysis", () => {
  it("holds a step only with every delivery intact, nothing refused or lost, and p99 under 100 ms", () => {
    expect(sustained(step({ p99: 99.9 }))).toBe(true);
    expect(sustained(step({ p99: 100 }))).toBe(false);
    expect(sustained(step({ lost: 1 }))).toBe(false);
    expect(sustained(step({ duplicates: 1 }))).toBe(false);
    expect(sustained(step({ corrupt: 1 }))).toBe(false);
    expect(sustained(step({ refusedBy: { rate_limited: 1 } }))).toBe(false);
    expect(sustained(step({ died: ["instance-a"] }))).toBe(false);
    expect(sustained(step({ awaiting: 1 }))).toBe(false);
    expect(sustained(step({ expected: 0, delivered: 0 }))).toBe(false);
    // A late sample of an earlier step is noted, not held against this one.
    expect(sustained(step({ stray: 3 }))).toBe(true);
    expect(problems(step({ stray: 3 }))).toEqual(["3 samples of an earlier step"]);
  });

  it("finds the highest rate held with every lower rate held too, every run of a rate counted", () => {
    expect(
      highestSustained([step({ rate: 15 }), step({ rate: 30 }), step({ rate: 60, p99: 150 }), step({ rate: 90 })]),
    ).toBe(30);
    expect(
      highestSustained([step({ rate: 15 }), step({ rate: 30 }), step({ rate: 30, kind: "repeat", lost: 2 })]),
    ).toBe(15);
    expect(highestSustained([step({ rate: 15, p99: 200 })])).toBeUndefined();
    // The overload step is not part of the ladder.
    expect(highestSustained([step({ rate: 15 }), step({ rate: 480, kind: "overload" })])).toBe(15);
  });

  it("fits a line by least squares", () => {
    const fit = linearFit([
      [0, 1],
      [1, 3],
      [2, 5],
      [3, 7],
    ]);
    expect(fit.slope).toBeCloseTo(2);
    expect(fit.intercept).toBeCloseTo(1);
    expect(fit.r2).toBeCloseTo(1);
    const flat = linearFit([
      [0, 4],
      [1, 4],
    ]);
    expect(flat).toEqual({ slope: 0, intercept: 4, r2: 0 });
  });
});
