/**
 * How the ink draws text (client/app/render.ts, TextPainter): every size in one canvas font, scaled by the transform,
 * so that no text pays a font size's first use (docs/rendering.md). A fake canvas context records what is asked of
 * it; the glyphs themselves are the browser's (./render.test.ts checks they land where the layout says). It runs in
 * Node, here for the DOM's types the ink's code is checked with (the root tsconfig has none).
 */
import { Raster } from "../../client/app/raster";
import { TextPainter, type Context2D, type RenderOptions } from "../../client/app/render";
import { MEASURE_SIZE, type TextLayout } from "../../client/app/shapes";

interface Call {
  font: string;
  transform: number[];
  text: string;
  /** Where the text's origin lands on the scratch canvas, pixels. */
  at: [number, number];
}

/** A context that records each `fillText` with the font and transform in force. */
function recordingContext(calls: Call[]): (width: number, height: number) => Context2D {
  return (width, height) => {
    let transform = [1, 0, 0, 1, 0, 0];
    const ctx = {
      canvas: { width, height },
      font: "",
      textBaseline: "",
      fillStyle: "",
      setTransform(...matrix: number[]) {
        transform = matrix;
      },
      clearRect() {},
      fillText(text: string, x: number, y: number) {
        const [a, , , d, e, f] = transform as [number, number, number, number, number, number];
        calls.push({ font: ctx.font, transform, text, at: [a * x + e, d * y + f] });
      },
      getImageData: (_x: number, _y: number, w: number, h: number) => ({ data: new Uint8ClampedArray(w * h * 4) }),
    };
    return ctx as unknown as Context2D;
  };
}

const options = (painter: TextPainter): RenderOptions => ({
  scale: 0.5,
  left: 10,
  top: 20,
  visible: { minX: -1e6, minY: -1e6, maxX: 1e6, maxY: 1e6 },
  measure: (text) => text.length * MEASURE_SIZE * 0.5,
  text: painter,
  compositing: "over",
});

const layout = (size: number, left: number, top: number): TextLayout => ({
  size,
  left,
  top,
  lines: [{ text: "Hello", width: size * 2.5 }],
});

test("texts of different sizes are drawn in one font, each scaled to its size where its layout puts it", () => {
  const calls: Call[] = [];
  const painter = new TextPainter(recordingContext(calls));
  const raster = new Raster(800, 400);
  for (const size of [192, 304]) painter.paint(raster, layout(size, 400, 200), "#000000", options(painter));

  expect(calls.map((call) => call.font)).toEqual([`${MEASURE_SIZE}px sans-serif`, `${MEASURE_SIZE}px sans-serif`]);
  // Glyphs `size` board units tall are `size` × scale pixels: the font's MEASURE_SIZE scaled by size / MEASURE_SIZE.
  expect(calls.map((call) => call.transform[0])).toEqual([(0.5 * 192) / MEASURE_SIZE, (0.5 * 304) / MEASURE_SIZE]);
  for (const [index, size] of [192, 304].entries()) {
    const call = calls[index] as Call;
    // The scratch canvas covers the text and half a font size around it: the origin is that margin in, and the
    // baseline (a line's top plus its ascent, ./shapes.ts) below.
    expect(call.at[0]).toBeCloseTo(0.5 * (size / 2), 6);
    expect(call.at[1]).toBeGreaterThan(0.5 * (size / 2));
  }
});
