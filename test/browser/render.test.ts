/**
 * Every element kind drawn in Chromium by the page's own drawing code (client/app/render-harness.ts: BoardView, its
 * ink worker and the exports, without the service): each kind's pixels on the screen, in the ink worker and on the
 * page's thread, and in the PNG export; each kind's SVG element; hidden elements left out; stacking by (z, s) kept
 * when elements change, move, disappear or arrive between others. The page runs under the service's
 * Content-Security-Policy, and nothing it draws may be refused by it.
 */
import type { Browser, Page } from "playwright-core";
import { encodeText } from "../../bench/boards";
import type { RenderHarness } from "../../client/app/render-harness-api";
import { launchBrowser } from "../../local/browser";
import { startRenderHarness, type RenderHarnessServer } from "../../local/render-harness";
import type { ElementInput, ElementRecord } from "../../protocol/events";
import { encodeSamples, type Sample } from "../../protocol/points";
import { eventually } from "../support/socket-client";

let server: RenderHarnessServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startRenderHarness(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const RED = [0xd9, 0x30, 0x25];
const BLUE = [0x1a, 0x73, 0xe8];
const PALE_GREEN = [0xe6, 0xf4, 0xea];
const GREEN = [0x18, 0x80, 0x38];
const PURPLE = [0x93, 0x34, 0xe6];
const ORANGE = [0xe8, 0x71, 0x0a];
const NOTE_YELLOW = [0xff, 0xf1, 0xa8];
const BLACK = [0, 0, 0];
const WHITE = [0xff, 0xff, 0xff];

const line: Sample[] = Array.from({ length: 21 }, (_, i) => [i * 200, i * 20, 8]);
const id = (name: string) => `${name}`.padEnd(16, "-");

/** One element of each kind, and one more that the test hides; ids name them. Board units, 16 per CSS pixel. */
const ELEMENTS: ElementInput[] = [
  { id: id("freehand"), t: "f", b: [0, 0, 4_000, 400], c: "#d93025", sw: 8, f: "", d: encodeSamples(line) },
  { id: id("rectangle"), t: "r", b: [0, 1_000, 2_000, 1_000], c: "#1a73e8", sw: 4, f: "#e6f4ea", d: "" },
  { id: id("ellipse"), t: "e", b: [3_000, 1_000, 2_000, 1_000], c: "#188038", sw: 4, f: "", d: "" },
  { id: id("line"), t: "l", b: [0, 2_600, 2_000, 0], c: "#9334e6", sw: 6, f: "", d: "" },
  { id: id("arrow"), t: "a", b: [3_000, 2_600, 2_000, 0], c: "#e8710a", sw: 4, f: "", d: "" },
  { id: id("text"), t: "t", b: [0, 3_200, 3_000, 800], c: "#000000", sw: 24, f: "", d: encodeText("Hello ink") },
  { id: id("note"), t: "n", b: [3_500, 3_200, 2_000, 1_500], c: "#202124", sw: 16, f: "", d: encodeText("Note") },
  { id: id("hidden"), t: "r", b: [6_000, 0, 1_000, 1_000], c: "#000000", sw: 4, f: "#000000", d: "" },
];

/** Board points inside each kind's ink (or, for the ellipse, inside its empty middle), with the colour expected. */
const PROBES: [name: string, at: [number, number], color: number[]][] = [
  ["freehand line", [2_000, 200], RED],
  ["rectangle's stroke", [32, 1_500], BLUE],
  ["rectangle's fill", [1_000, 1_500], PALE_GREEN],
  ["ellipse's stroke", [3_032, 1_500], GREEN],
  ["ellipse's empty middle", [4_000, 1_500], WHITE],
  ["straight line", [1_000, 2_600], PURPLE],
  ["arrow's shaft", [4_000, 2_600], ORANGE],
  // Halfway along the head's upper arm: 4 widths (256 units) long at 30° from the tip (5000, 2600).
  ["arrow's head", [5_000 - 128 * Math.cos(Math.PI / 6), 2_600 - 64], ORANGE],
  ["note's paper", [3_550, 4_650], NOTE_YELLOW],
  ["hidden rectangle", [6_500, 500], WHITE],
  ["nothing", [2_000, 700], WHITE],
];

const near = (color: number[] | undefined, expected: number[], tolerance = 12) =>
  color !== undefined && expected.every((value, index) => Math.abs((color[index] ?? -1) - value) <= tolerance);

function record(input: ElementInput, s: number, z = s): ElementRecord {
  const [x, y, w, h] = input.b;
  return {
    s,
    g: 0,
    o: 0,
    v: 0,
    i: input.id,
    u: "test",
    t: input.t,
    z,
    x,
    y,
    w,
    h,
    c: input.c,
    sw: input.sw,
    f: input.f,
    n: 0,
    d: input.d,
    l: s,
  };
}

interface HarnessPage {
  page: Page;
  refused: string[];
}

async function openHarness(): Promise<HarnessPage> {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 }, deviceScaleFactor: 1 });
  const refused: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  page.on("pageerror", (error) => refused.push(`page error: ${error.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => "renderHarness" in globalThis);
  return { page, refused };
}

/** At 100% zoom with the board's origin 50 CSS pixels from the stage's corner. */
const PLACEMENT = { scale: 1 / 16, x: 50, y: 50 };
const onScreen = ([x, y]: [number, number]): [number, number] => [50 + x / 16, 50 + y / 16];

async function screenColors(harness: HarnessPage, points: [number, number][]): Promise<number[][]> {
  const shot = `data:image/png;base64,${(await harness.page.screenshot()).toString("base64")}`;
  return harness.page.evaluate(
    ([url, at]) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.colorsIn(url, at),
    [shot, points.map(onScreen)] as const,
  );
}

async function drawn(harness: HarnessPage, worker: boolean): Promise<void> {
  await harness.page.evaluate(
    ([elements, placement, inWorker]) => {
      const h = (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness;
      h.load(elements);
      h.remove(["hidden----------"]);
      // Not awaited in the page: the caller waits for the painting to be done (waitForFunction below).
      void h.catchUp({ worker: inWorker, view: placement });
    },
    [ELEMENTS, PLACEMENT, worker] as const,
  );
  await harness.page.waitForFunction(
    () => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.stats().fullyDrawnMs !== undefined,
  );
}

// Functions run in the page through page.evaluate, never strings: the page's policy forbids evaluating strings.

/** What the screen shows once it has settled: a repaint is drawn at the next frame, so look until it is there. */
async function expectScreen(harness: HarnessPage, probes: [string, [number, number], number[]][]): Promise<void> {
  let colors: number[][] = [];
  const wrong = () => probes.filter(([, , expected], index) => !near(colors[index], expected));
  await eventually(
    "the screen to show each probe's colour",
    async () => {
      colors = await screenColors(
        harness,
        probes.map(([, at]) => at),
      );
      return wrong().length === 0;
    },
    5_000,
  ).catch(() => {
    throw new Error(
      `wrong colours on screen: ${JSON.stringify(wrong().map(([name]) => [name, colors[probes.findIndex((p) => p[0] === name)]]))}`,
    );
  });
}

describe.each([
  ["in the ink worker", true],
  ["on the page's thread", false],
])("on screen, %s", (_name, worker) => {
  let harness: HarnessPage;
  beforeAll(async () => {
    harness = await openHarness();
    await drawn(harness, worker);
  });
  afterAll(async () => {
    await harness.page.close();
    expect(harness.refused).toEqual([]);
  });

  test("every kind is drawn where its geometry says, a hidden element is not, text has ink", async () => {
    await expectScreen(harness, PROBES);
    // The text's first line (24-pixel font from the box's top) has dark pixels; beside it, none.
    const row: [number, number][] = Array.from({ length: 60 }, (_, i) => [i * 40, 3_200 + 260]);
    const colors = await screenColors(harness, row);
    expect(colors.filter((color) => near(color, BLACK, 100)).length).toBeGreaterThan(3);
    // The note's text, on its paper (drawn beneath, the paper must not cover it).
    const noteRow: [number, number][] = Array.from({ length: 50 }, (_, i) => [3_628 + i * 16, 3_328 + 180]);
    const noteColors = await screenColors(harness, noteRow);
    expect(noteColors.filter((color) => near(color, [0x20, 0x21, 0x24], 100)).length).toBeGreaterThan(3);
  });

  test("a move repaints both places; a hidden element leaves white; one between others and one on top stack right", async () => {
    const [rectangle, ellipse] = [2, 3].map((s) => record(ELEMENTS[s - 1] as ElementInput, s));
    const moved = { ...(rectangle as ElementRecord), y: 5_000 };
    const below = record(
      { id: id("between"), t: "r", b: [800, 2_400, 400, 400], c: "#000000", sw: 1, f: "#000000", d: "" },
      100,
      3,
    );
    const above = record(
      { id: id("above"), t: "r", b: [100, 2_550, 200, 100], c: "#000000", sw: 1, f: "#000000", d: "" },
      101,
      1_000,
    );
    await harness.page.evaluate(
      ({ changes, gone }) => {
        const h = (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness;
        h.put(changes);
        h.remove(gone);
      },
      { changes: [moved, below, above], gone: [(ellipse as ElementRecord).i] },
    );
    await expectScreen(harness, [
      ["the rectangle's old place", [1_000, 1_500], WHITE],
      ["the rectangle's new place", [1_000, 5_500], PALE_GREEN],
      ["the hidden ellipse's stroke", [3_032, 1_500], WHITE],
      ["the straight line over the element below it", [1_000, 2_600], PURPLE],
      ["the element below the line, beside it", [1_000, 2_450], BLACK],
      ["the element on top of the line", [200, 2_600], BLACK],
      ["the line beside the element on top", [400, 2_600], PURPLE],
      ["the freehand line, untouched", [2_000, 200], RED],
    ]);
  });
});

test("a pan by whole pixels moves what is drawn and draws the strips uncovered: exactly what drawing the view afresh shows", async () => {
  const harness = await openHarness();
  try {
    // 20,000 lines at 100%, more than one frame draws: the pan comes while the catch-up may still be drawing.
    const view = { scale: 1 / 16, x: 0, y: 0 };
    await harness.page.evaluate(async (placement) => {
      const h = (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness;
      h.prepare({ elements: 20_000, samples: 16, mixed: true });
      await h.catchUp({ worker: true, view: placement });
    }, view);
    await harness.page.evaluate(
      (placement) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.place(placement),
      { ...view, x: -61, y: 37 },
    );
    const panned = `data:image/png;base64,${(await harness.page.screenshot()).toString("base64")}`;
    await harness.page.evaluate(() =>
      (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.redraw(),
    );
    const afresh = `data:image/png;base64,${(await harness.page.screenshot()).toString("base64")}`;
    const differing = await harness.page.evaluate(
      ([a, b]) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.differing(a, b, 2),
      [panned, afresh] as const,
    );
    expect(differing).toBe(0);
  } finally {
    await harness.page.close();
  }
  expect(harness.refused).toEqual([]);
});

describe("exports", () => {
  let harness: HarnessPage;
  beforeAll(async () => {
    harness = await openHarness();
    await harness.page.evaluate((elements) => {
      const h = (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness;
      h.load(elements);
      h.remove(["hidden----------"]);
    }, ELEMENTS);
  });
  afterAll(async () => {
    await harness.page.close();
    expect(harness.refused).toEqual([]);
  });

  test("the PNG shows every kind as the screen does, and not the hidden element", async () => {
    // The hidden rectangle lies outside the content, so outside the PNG: its width says it is not there.
    const probes = PROBES.filter(([name]) => name !== "hidden rectangle");
    const points = probes.map(([, at]) => at);
    const png = await harness.page.evaluate(
      (at) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.png(at),
      points,
    );
    // The content (0..5,500 × 0..4,700 units, the freehand line reaching past its box) with a 16-pixel margin, at 2
    // pixels per CSS pixel.
    expect(png.width).toBeGreaterThan(((5_500 + 512) / 16) * 2);
    expect(png.width).toBeLessThan(((5_500 + 1_024) / 16) * 2);
    const wrong = probes
      .map(([name, , expected], index) => [name, expected, png.colors[index]] as const)
      .filter(([, expected, color]) => !near(color, expected));
    expect(wrong).toEqual([]);
    const row: [number, number][] = Array.from({ length: 120 }, (_, i) => [i * 20, 3_200 + 260]);
    const textRow = await harness.page.evaluate(
      (at) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.png(at),
      row,
    );
    expect(textRow.colors.filter((color) => near(color, BLACK, 100)).length).toBeGreaterThan(5);
  });

  test("the SVG has one native element per element, in stacking order, and parses", async () => {
    const summary = await harness.page.evaluate(() => {
      const text = (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.svg();
      const svg = new DOMParser().parseFromString(text, "image/svg+xml");
      return {
        errors: svg.getElementsByTagName("parsererror").length,
        children: [...svg.documentElement.children].map((child) => ({
          tag: child.tagName,
          inner: [...child.children].map((inner) => inner.tagName),
          fill: child.getAttribute("fill"),
          stroke: child.getAttribute("stroke"),
          text: child.textContent,
        })),
      };
    });
    expect(summary.errors).toBe(0);
    expect(summary.children.map(({ tag, inner }) => [tag, inner])).toEqual([
      ["rect", []], // the white page
      ["path", []],
      ["rect", []],
      ["ellipse", []],
      ["line", []],
      ["g", ["line", "polyline"]],
      ["text", ["tspan"]],
      ["g", ["rect", "text"]],
    ]);
    expect(summary.children[1]).toMatchObject({ fill: "#d93025", stroke: null });
    expect(summary.children[2]).toMatchObject({ fill: "#e6f4ea", stroke: "#1a73e8" });
    expect(summary.children[6]?.text).toBe("Hello ink");
    expect(summary.children[7]?.text).toBe("Note");
  });
});
