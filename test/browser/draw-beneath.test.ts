/**
 * Drawing beneath (a catch-up, newest first) skips what could not show: an element whose ink bounds are opaque
 * already, and a polygon's pixel rows opaque already (client/app/render.ts `hiddenBeneath`, client/app/raster.ts
 * `covered`). The pixels must be exactly those of drawing everything. It runs in Node, here for the DOM's types the
 * ink's code is checked with (the root tsconfig has none).
 */
import { asRecords, boardElements, encodeText } from "../../bench/boards";
import { Raster } from "../../client/app/raster";
import { drawElements, TextPainter, type Context2D, type RenderOptions } from "../../client/app/render";
import { contentBounds, MEASURE_SIZE, type InkElement } from "../../client/app/shapes";

/** A raster that never finds anything covered: everything is drawn. */
class DrawEverything extends Raster {
  override covered(): boolean {
    return false;
  }
}

/**
 * A canvas whose text is a solid block over the whole area read back: the most a text can cover, so a text skipped
 * while any of its area could show makes a difference.
 */
function blockTextContext(width: number, height: number): Context2D {
  const canvas = { width, height };
  const context = {
    canvas,
    setTransform() {},
    clearRect() {},
    fillText() {},
    getImageData(_x: number, _y: number, w: number, h: number) {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let at = 3; at < data.length; at += 4) data[at] = 255;
      return { data };
    },
  };
  return context as unknown as Context2D;
}

const measure = (text: string) => (text.length * MEASURE_SIZE) / 2;

function board(mixed: boolean): InkElement[] {
  return asRecords(boardElements({ elements: 3_000, samples: 16, mixed }));
}

/** The board newest first onto a raster, in slices as the ink draws beneath; returns how many elements were drawn. */
function drawBeneath(raster: Raster, elements: readonly InkElement[], zoom: number): number {
  const bounds = contentBounds(elements, measure);
  if (!bounds) throw new Error("an empty board");
  const scale =
    zoom * Math.min(raster.width / (bounds.maxX - bounds.minX), raster.height / (bounds.maxY - bounds.minY));
  const options: RenderOptions = {
    scale,
    left: -bounds.minX * scale,
    top: -bounds.minY * scale,
    measure,
    text: new TextPainter(blockTextContext),
    compositing: "under",
  };
  const newestFirst = [...elements].reverse();
  let drawn = 0;
  for (let from = 0; from < newestFirst.length; from += 64)
    drawn += drawElements(raster, newestFirst.slice(from, from + 64), options);
  return drawn;
}

describe.each([
  ["mixed kinds", true],
  ["freehand lines", false],
])("a board of %s drawn beneath", (_name, mixed) => {
  const elements = board(mixed);

  test.each([1, 4, 30])("at %d× the whole board's scale: the same pixels as drawing every element", (zoom) => {
    const skipping = new Raster(320, 200);
    const everything = new DrawEverything(320, 200);
    const drawn = drawBeneath(skipping, elements, zoom);
    drawBeneath(everything, elements, zoom);
    expect(skipping.pixels).toEqual(everything.pixels);
    // Seen whole, a crowded board hides most of what lies beneath.
    if (zoom === 1 && mixed) expect(drawn).toBeLessThan(elements.length / 2);
  });
});

test("a text under an opaque box that hides its lines is still drawn where its glyphs may reach past them", () => {
  // 16 board units a pixel; a 16-pixel font, two characters of half its size each: lines 20..36 px wide, 20..40 high.
  const units = (px: number) => px * 16;
  const text: InkElement = {
    ...{ s: 1, i: "text", z: 1, t: "t", c: "#0000ff", sw: 16, f: "", d: encodeText("ab") },
    ...{ x: units(20), y: units(20), w: units(60), h: units(20) },
  };
  // Newest, so drawn first: opaque over the text's box and a pixel around it.
  const box: InkElement = {
    ...{ s: 2, i: "box", z: 2, t: "r", c: "#ff0000", sw: 1, f: "#ff0000", d: "" },
    ...{ x: units(19), y: units(19), w: units(62), h: units(22) },
  };
  const draw = (raster: Raster) =>
    drawElements(raster, [box, text], {
      ...{ scale: 1 / 16, left: 0, top: 0, measure, compositing: "under" },
      text: new TextPainter(blockTextContext),
    });
  const [skipping, everything] = [new Raster(100, 100), new DrawEverything(100, 100)];
  expect(draw(skipping)).toBe(2);
  draw(everything);
  expect(skipping.pixels).toEqual(everything.pixels);
});
