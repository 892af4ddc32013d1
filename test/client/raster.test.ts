/**
 * The ink's rasterizer (client/app/raster.ts): coverage of pixels cut by edges, the nonzero rule (a self-overlapping
 * outline is covered once, a ring has its hole), compositing over and under, clipping, and moving pixels for a pan.
 */
import { Raster, type Compositing, type Rgb } from "../../client/app/raster";

const RED: Rgb = { r: 255, g: 0, b: 0 };
const BLUE: Rgb = { r: 0, g: 0, b: 255 };

/** A polygon from corner points [x, y, ...], pixels. */
function fillPolygon(raster: Raster, points: number[], color = RED, compositing: Compositing = "over", alpha = 1) {
  raster.polygon(points, 0, points.length / 2, 1, 0, 0);
  return raster.fill(color, alpha, compositing);
}

const rect = (x0: number, y0: number, x1: number, y1: number) => [x0, y0, x1, y0, x1, y1, x0, y1];
const alphaAt = (raster: Raster, x: number, y: number) => raster.pixels[(y * raster.width + x) * 4 + 3] as number;
const pixelAt = (raster: Raster, x: number, y: number) =>
  Array.from(raster.pixels.subarray((y * raster.width + x) * 4, (y * raster.width + x) * 4 + 4));

describe("coverage", () => {
  test("a pixel's alpha is the share of it the polygon covers", () => {
    const raster = new Raster(8, 8);
    // From x 1.25 to 3.75, rows 1 and 2 whole, row 3 half (y 3 to 3.5).
    fillPolygon(raster, rect(1.25, 1, 3.75, 3.5));
    expect([0, 1, 2, 3, 4].map((x) => alphaAt(raster, x, 1))).toEqual([0, 191, 255, 191, 0]);
    expect(alphaAt(raster, 2, 2)).toBe(255);
    expect(alphaAt(raster, 2, 3)).toBe(128);
    expect(alphaAt(raster, 2, 4)).toBe(0);
    expect(pixelAt(raster, 2, 2)).toEqual([255, 0, 0, 255]);
  });

  test("a diagonal edge covers half of each pixel it halves", () => {
    const raster = new Raster(8, 8);
    // The triangle under the diagonal from (0, 0) to (8, 8).
    fillPolygon(raster, [0, 0, 8, 8, 0, 8]);
    for (let i = 0; i < 8; i += 1) expect(Math.abs(alphaAt(raster, i, i) - 128)).toBeLessThanOrEqual(4);
    expect(alphaAt(raster, 1, 6)).toBe(255);
    expect(alphaAt(raster, 6, 1)).toBe(0);
  });
});

describe("the nonzero rule", () => {
  test("two layers of one path are covered once: a shared edge is no darker than a single layer's", () => {
    const raster = new Raster(8, 8);
    raster.polygon(rect(0.5, 0, 6, 8), 0, 4, 1, 0, 0);
    raster.polygon(rect(0.5, 2, 6, 6), 0, 4, 1, 0, 0);
    raster.fill(RED, 1, "over");
    // Column 0 is half covered by both: half covered, as the canvas draws it (summing the layers would fill it).
    expect(alphaAt(raster, 0, 4)).toBe(128);
    expect(alphaAt(raster, 0, 0)).toBe(128);
    expect(alphaAt(raster, 3, 4)).toBe(255);
  });

  test("an inner ring traced the other way is a hole", () => {
    const raster = new Raster(10, 10);
    raster.polygon(rect(0, 0, 10, 10), 0, 4, 1, 0, 0);
    // The same rectangle's corners in the opposite order.
    raster.polygon([3, 3, 3, 7, 7, 7, 7, 3], 0, 4, 1, 0, 0);
    raster.fill(RED, 1, "over");
    expect(alphaAt(raster, 1, 5)).toBe(255);
    expect(alphaAt(raster, 5, 5)).toBe(0);
  });

  test("a polygon that loops over itself fills its loop (winding 2), as the canvas's default rule does", () => {
    const raster = new Raster(12, 12);
    // A rectangle traced twice around: winding 2 everywhere inside.
    fillPolygon(raster, [...rect(1, 1, 11, 11), ...rect(1, 1, 11, 11)]);
    expect(alphaAt(raster, 6, 6)).toBe(255);
    expect(alphaAt(raster, 0, 6)).toBe(0);
  });
});

describe("compositing", () => {
  test("over: the colour replaces what is under a covered pixel, and blends into a partly covered one", () => {
    const raster = new Raster(4, 1);
    fillPolygon(raster, rect(0, 0, 4, 1), BLUE);
    fillPolygon(raster, rect(0, 0, 1.5, 1), RED);
    expect(pixelAt(raster, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(pixelAt(raster, 1, 0)).toEqual([128, 0, 128, 255]);
    expect(pixelAt(raster, 2, 0)).toEqual([0, 0, 255, 255]);
  });

  test("under: an opaque pixel stays as it is; a transparent one takes the colour; a partial one shows it through", () => {
    const raster = new Raster(4, 1);
    fillPolygon(raster, rect(0, 0, 1.5, 1), RED);
    fillPolygon(raster, rect(0, 0, 4, 1), BLUE, "under");
    expect(pixelAt(raster, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(pixelAt(raster, 1, 0)).toEqual([128, 0, 127, 255]);
    expect(pixelAt(raster, 2, 0)).toEqual([0, 0, 255, 255]);
  });

  test("a colour at partial alpha, over nothing, keeps its colour and that alpha", () => {
    const raster = new Raster(2, 1);
    fillPolygon(raster, rect(0, 0, 2, 1), BLUE, "over", 0.35);
    expect(pixelAt(raster, 0, 0)).toEqual([0, 0, 255, 89]);
  });
});

describe("clipping", () => {
  test("inside the clip, pixels are as without it; outside, untouched, even for edges beyond the clip", () => {
    const shape = [-3.3, 2.2, 14.7, 0.4, 9.1, 11.6, 1.2, 9.9];
    const whole = new Raster(12, 12);
    fillPolygon(whole, shape);
    const clipped = new Raster(12, 12);
    clipped.setClip({ left: 2, top: 3, right: 9, bottom: 8 });
    fillPolygon(clipped, shape);
    for (let y = 0; y < 12; y += 1)
      for (let x = 0; x < 12; x += 1) {
        const inside = x >= 2 && x < 9 && y >= 3 && y < 8;
        expect([x, y, alphaAt(clipped, x, y)]).toEqual([x, y, inside ? alphaAt(whole, x, y) : 0]);
      }
  });

  test("coordinates that are not numbers draw nothing", () => {
    const raster = new Raster(4, 4);
    expect(fillPolygon(raster, [0, 0, Number.NaN, 3, 3, Infinity])).toBe(0);
    expect(raster.pixels.every((value) => value === 0)).toBe(true);
  });
});

test("clearing changes pixels only when something was drawn since the raster was made or cleared whole", () => {
  const raster = new Raster(6, 5);
  raster.clearRect(raster.whole());
  expect(raster.takeChanged()).toBeUndefined();
  fillPolygon(raster, rect(1, 1, 3, 3));
  raster.takeChanged();
  raster.clearRect({ left: 0, top: 0, right: 2, bottom: 5 });
  expect(raster.takeChanged()).toEqual({ left: 0, top: 0, right: 2, bottom: 5 });
  // Part of the polygon is still there: clearing the whole raster clears it.
  expect(alphaAt(raster, 2, 2)).toBe(255);
  raster.clearRect(raster.whole());
  expect(raster.takeChanged()).toEqual({ left: 0, top: 0, right: 6, bottom: 5 });
  expect(raster.pixels.every((value) => value === 0)).toBe(true);
  raster.clearRect({ left: 0, top: 0, right: 3, bottom: 3 });
  expect(raster.takeChanged()).toBeUndefined();
});

test("a shift moves every pixel and leaves the uncovered ones transparent; the change covers the raster", () => {
  const raster = new Raster(6, 5);
  fillPolygon(raster, rect(1, 1, 2, 2));
  raster.takeChanged();
  raster.shift(3, -1);
  expect(alphaAt(raster, 4, 0)).toBe(255);
  expect(alphaAt(raster, 1, 1)).toBe(0);
  expect([...raster.pixels].filter((value, index) => index % 4 === 3 && value > 0)).toHaveLength(1);
  expect(raster.takeChanged()).toEqual({ left: 0, top: 0, right: 6, bottom: 5 });
  raster.shift(-6, 0);
  expect(raster.pixels.every((value) => value === 0)).toBe(true);
});

describe("covered", () => {
  test("a rectangle is covered only where every pixel in it, within the clip, is opaque", () => {
    const raster = new Raster(8, 8);
    fillPolygon(raster, rect(0, 0, 4, 4));
    expect(raster.covered({ left: 0, top: 0, right: 4, bottom: 4 })).toBe(true);
    expect(raster.covered({ left: 1, top: 1, right: 5, bottom: 3 })).toBe(false);
    fillPolygon(raster, rect(4, 0, 8, 4), BLUE, "over", 0.5);
    expect(raster.covered({ left: 3, top: 0, right: 5, bottom: 1 })).toBe(false);
    raster.setClip({ left: 0, top: 0, right: 4, bottom: 8 });
    expect(raster.covered({ left: 2, top: 2, right: 6, bottom: 4 })).toBe(true);
  });

  test("an area found opaque is known so only until pixels in it are cleared or moved", () => {
    // 20 × 20: tiles of 8 pixels, the last ones partial.
    const raster = new Raster(20, 20);
    const whole = raster.whole();
    fillPolygon(raster, rect(0, 0, 20, 20));
    expect(raster.covered(whole)).toBe(true);
    raster.clearRect({ left: 9, top: 9, right: 10, bottom: 10 });
    expect(raster.covered(whole)).toBe(false);
    expect(raster.covered({ left: 0, top: 0, right: 8, bottom: 8 })).toBe(true);
    expect(raster.covered({ left: 8, top: 8, right: 9, bottom: 16 })).toBe(true);
    expect(raster.covered({ left: 8, top: 8, right: 16, bottom: 16 })).toBe(false);
    fillPolygon(raster, rect(9, 9, 10, 10));
    expect(raster.covered(whole)).toBe(true);
    raster.shift(0, 1);
    expect(raster.covered({ left: 0, top: 1, right: 20, bottom: 20 })).toBe(true);
    expect(raster.covered({ left: 17, top: 0, right: 18, bottom: 1 })).toBe(false);
  });
});
