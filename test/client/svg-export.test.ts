/**
 * The SVG export: a white page around the content and one object per visible element, in stacking order, from the
 * same geometry the canvas draws: a freehand line is one filled outline path (a line is one element, whatever the
 * chunks it travelled in), shapes are native SVG elements, text wraps as on the canvas.
 */
import { encodeText } from "../../bench/boards";
import { outlineOf, placeSamples } from "../../client/app/freehand";
import { arrowHead, MEASURE_SIZE, type InkElement } from "../../client/app/shapes";
import { boardSvg, EXPORT_MARGIN } from "../../client/app/svg-export";
import type { ElementKind } from "../../protocol/events";
import { encodeSamples, type Sample } from "../../protocol/points";

/** Every character as wide as half the font size: wrapping becomes arithmetic. */
const measure = (text: string) => (text.length * MEASURE_SIZE) / 2;

let seq = 0;
function element(t: ElementKind, fields: Partial<InkElement> = {}): InkElement {
  seq += 1;
  return {
    i: `element-${seq}`.padEnd(16, "x"),
    s: seq,
    z: seq,
    t,
    x: 0,
    y: 0,
    w: 0,
    h: 0,
    c: "#1a73e8",
    sw: 2,
    f: "",
    d: "",
    ...fields,
  };
}

function freehand(samples: Sample[], fields: Partial<InkElement> = {}): InkElement {
  const xs = samples.map(([x]) => x);
  const ys = samples.map(([, y]) => y);
  const [x, y] = [Math.min(...xs), Math.min(...ys)];
  return element("f", {
    x,
    y,
    w: Math.max(...xs) - x,
    h: Math.max(...ys) - y,
    d: encodeSamples(samples),
    sw: 4,
    ...fields,
  });
}

/** The document's elements under the white page, as [tag, attributes] in order, nested ones flattened. */
function tags(svg: string): [string, Record<string, string>][] {
  const body = svg.split("\n").slice(2, -2).join("");
  return [...body.matchAll(/<(\w+)((?:\s+[\w:-]+="[^"]*")*)\s*\/?>/g)].map((match) => [
    match[1] as string,
    Object.fromEntries(
      [...(match[2] as string).matchAll(/([\w:-]+)="([^"]*)"/g)].map(([, name, value]) => [
        name as string,
        value as string,
      ]),
    ),
  ]);
}

const LINE: Sample[] = [
  [1_000, 1_000, 0],
  [1_400, 1_200, 0],
  [1_800, 1_100, 0],
  [2_400, 1_600, 0],
];

test("a freehand line is one path: its perfect-freehand outline in board units, filled with its colour", () => {
  const line = freehand(LINE);
  const [[tag, attributes]] = tags(boardSvg([line], measure)) as [[string, Record<string, string>]];
  expect(tag).toBe("path");
  expect(attributes.fill).toBe("#1a73e8");
  expect(attributes.stroke).toBeUndefined();
  const outline = outlineOf(placeSamples(line), line.sw);
  const numbers = (attributes.d as string).replace(/[MLZ]/g, " ").trim().split(/\s+/).map(Number);
  expect(numbers).toEqual(
    Array.from(outline, (value, index) => Math.round(value + (index % 2 === 0 ? line.x : line.y))),
  );
  expect(attributes.d).toMatch(/^M.*Z$/);
});

test("a line's points are scaled from their own bounding box to the element's box", () => {
  const line = freehand(LINE);
  const moved = { ...line, x: line.x + 5_000, y: line.y - 500, w: line.w * 2, h: line.h * 2 };
  const placed = placeSamples(moved).points;
  expect([placed[0], placed[1]]).toEqual([0, 0]);
  expect([placed[9], placed[10]]).toEqual([moved.w, moved.h]);
  const [[, path]] = tags(boardSvg([moved], measure)) as [[string, Record<string, string>]];
  const xs = (path.d as string)
    .replace(/[MLZ]/g, " ")
    .trim()
    .split(/\s+/)
    .map(Number)
    .filter((_, i) => i % 2 === 0);
  // The outline reaches around the box by about half the line's width, not more than its width.
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(moved.x - 64);
  expect(Math.max(...xs)).toBeLessThanOrEqual(moved.x + moved.w + 64);
  expect(Math.max(...xs)).toBeGreaterThan(moved.x + moved.w);
});

test("pressure changes the outline's width; without pressure it is simulated from the speed", () => {
  const width = (pressure: number) => {
    const samples: Sample[] = Array.from({ length: 12 }, (_, i) => [i * 200, 0, pressure]);
    const ys = Array.from(outlineOf(placeSamples(freehand(samples)), 4)).filter((_, i) => i % 2 === 1);
    return Math.max(...ys) - Math.min(...ys);
  };
  expect(width(15)).toBeGreaterThan(width(8));
  expect(width(8)).toBeGreaterThan(width(1));
  expect(width(15)).toBeLessThanOrEqual(4 * 16 * 1.5 + 1);
  expect(width(0)).toBeGreaterThan(0);
  expect(width(0)).not.toBe(width(8));
});

test("shapes are native elements: rect, ellipse and line, the stroke inside the box; an arrow a shaft and a head", () => {
  const svg = boardSvg(
    [
      element("r", { x: 100, y: 200, w: 1_000, h: 500, sw: 4, f: "#e6f4ea" }),
      element("e", { x: 2_000, y: 200, w: 800, h: 400, sw: 2 }),
      element("l", { x: 0, y: 3_000, w: 1_000, h: -500, sw: 3, c: "#d93025" }),
      element("a", { x: 0, y: 4_000, w: 2_000, h: 0, sw: 2 }),
    ],
    measure,
  );
  const arrow = element("a", { x: 0, y: 4_000, w: 2_000, h: 0, sw: 2 });
  const head = arrowHead(arrow);
  const [leftX, leftY, tipX, tipY, rightX, rightY] = [
    Math.round(head[0]),
    Math.round(head[1]),
    Math.round(head[2]),
    Math.round(head[3]),
    Math.round(head[4]),
    Math.round(head[5]),
  ];
  expect(tags(svg)).toEqual([
    [
      "rect",
      { x: "132", y: "232", width: "936", height: "436", fill: "#e6f4ea", stroke: "#1a73e8", "stroke-width": "64" },
    ],
    ["ellipse", { cx: "2400", cy: "400", rx: "384", ry: "184", fill: "none", stroke: "#1a73e8", "stroke-width": "32" }],
    [
      "line",
      {
        x1: "0",
        y1: "3000",
        x2: "1000",
        y2: "2500",
        stroke: "#d93025",
        "stroke-width": "48",
        "stroke-linecap": "round",
      },
    ],
    [
      "g",
      { fill: "none", stroke: "#1a73e8", "stroke-width": "32", "stroke-linecap": "round", "stroke-linejoin": "round" },
    ],
    ["line", { x1: "0", y1: "4000", x2: "2000", y2: "4000" }],
    ["polyline", { points: `${leftX},${leftY} ${tipX},${tipY} ${rightX},${rightY}` }],
  ]);
  // The head points back along the shaft, symmetric about it, 4 stroke widths long (at least 10 CSS pixels).
  expect(tipX).toBe(2_000);
  expect(leftX).toBe(rightX);
  expect(leftY + rightY).toBe(2 * tipY);
  expect(Math.hypot(tipX - leftX, tipY - leftY)).toBeCloseTo(Math.max(4 * 32, 160), 0);
});

test("text wraps at its box's width in its font size; a note is its paper and its text inside a margin", () => {
  // Font size 10 CSS pixels = 160 units, a character 80 units wide: 12 characters fit a 1,000-unit box.
  const text = element("t", {
    x: 0,
    y: 0,
    w: 1_000,
    h: 400,
    sw: 10,
    c: "#202124",
    d: encodeText("hello big world\nok"),
  });
  const note = element("n", { x: 5_000, y: 0, w: 1_200, h: 1_200, sw: 10, f: "", d: encodeText('a <b> & "c"') });
  const found = tags(boardSvg([text, note], measure));
  expect(found.map(([tag]) => tag)).toEqual(["text", "tspan", "tspan", "tspan", "g", "rect", "text", "tspan"]);
  expect(found[0]?.[1]).toMatchObject({ "font-size": "160", fill: "#202124", "xml:space": "preserve" });
  const svg = boardSvg([text, note], measure);
  expect([...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1])).toEqual([
    "hello big",
    "world",
    "ok",
    "a &lt;b&gt; &amp; &quot;c&quot;",
  ]);
  // Baselines a line height (1.25 font sizes) apart; the note's text starts half a font size inside its paper.
  expect(found.filter(([tag]) => tag === "tspan").map(([, a]) => [a.x, a.y])).toEqual([
    ["0", "160"],
    ["0", "360"],
    ["0", "560"],
    ["5080", "240"],
  ]);
  expect(found[5]?.[1]).toMatchObject({ x: "5000", width: "1200", fill: "#fff1a8" });
});

test("a word wider than the box is broken between characters", () => {
  const text = element("t", { w: 400, sw: 10, d: encodeText("abcdefghij") });
  const lines = [...boardSvg([text], measure).matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]);
  expect(lines).toEqual(["abcde", "fghij"]);
});

test("elements are stacked by z, then seq, whatever order they come in", () => {
  const low = element("r", { z: 1, s: 50, w: 10, h: 10, c: "#000001" });
  const middle = element("r", { z: 5, s: 2, w: 10, h: 10, c: "#000002" });
  const high = element("r", { z: 5, s: 3, w: 10, h: 10, c: "#000003" });
  expect(tags(boardSvg([high, low, middle], measure)).map(([, a]) => a.stroke)).toEqual([
    "#000001",
    "#000002",
    "#000003",
  ]);
});

test("the page is the content's bounds with a margin, in board units shown at 100%; an empty board is a white page", () => {
  const svg = boardSvg([element("r", { x: -3_000, y: 1_000, w: 2_000, h: 1_000 })], measure);
  const [width, height] = [2_000 + 2 * EXPORT_MARGIN, 1_000 + 2 * EXPORT_MARGIN];
  expect(svg).toMatch(
    new RegExp(
      `^<svg xmlns="http://www.w3.org/2000/svg" viewBox="${-3_000 - EXPORT_MARGIN} ${1_000 - EXPORT_MARGIN} ${width} ${height}" width="${width / 16}" height="${height / 16}">`,
    ),
  );
  expect(svg.split("\n")[1]).toBe(
    `<rect x="${-3_000 - EXPORT_MARGIN}" y="${1_000 - EXPORT_MARGIN}" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  const empty = boardSvg([], measure);
  expect(tags(empty)).toEqual([]);
  expect(empty).toContain('fill="#ffffff"');
});

test("nothing the store holds can put markup into the file", () => {
  const svg = boardSvg(
    [
      element("r", { w: 10, h: 10, c: '"/><script>alert(1)</script>', f: "red" }),
      element("t", { w: 10_000, sw: 10, d: encodeText("</text><script>x</script>\u0001\u0007") }),
      { ...element("e", { w: 10, h: 10 }), x: '"><script>' as unknown as number },
    ],
    measure,
  );
  expect(svg).not.toContain("<script");
  expect(svg.includes("\u0001") || svg.includes("\u0007")).toBe(false);
  expect(tags(svg)[0]?.[1]).toMatchObject({ stroke: "#000000", fill: "#000000" });
});
