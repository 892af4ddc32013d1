/**
 * The browser client in Debian's Chromium, against two real instances, pages of one board on different
 * instances: drawing with the mouse, reloading, drawing while the page's instance is down, a late joiner; undo and
 * redo of a line and of an eraser gesture, live cursors, pan and zoom that stay exact at any zoom, touch, the help,
 * the downloads, and undoing a clear.
 */
import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../../local/browser";
import { Topology } from "../../local/topology";
import { UNITS_PER_PIXEL, type ElementRecord } from "../../protocol/events";
import { decodeSamples } from "../../protocol/points";
import { eventually } from "../support/socket-client";
import { BoardPage, type OpenOptions } from "./board-page";

let topology: Topology;
let browser: Browser;
const pages: BoardPage[] = [];

beforeAll(async () => {
  // Clears may follow each other at once here: the least interval between them is the service's business.
  [topology, browser] = await Promise.all([
    Topology.start({ instances: 2, env: { CLEAR_INTERVAL_SECONDS: "0" } }),
    launchBrowser(),
  ]);
});

afterEach(async () => {
  const closing = pages.splice(0);
  await Promise.all(closing.map((page) => page.close()));
  expect(closing.flatMap((page) => page.refusedByPolicy)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

async function open(url: string, options: OpenOptions = {}): Promise<BoardPage> {
  const page = await BoardPage.open(browser, url, options);
  pages.push(page);
  return page;
}

const newBoard = (instance = 0, options: OpenOptions = {}) => open(`${topology.instance(instance).url}/`, options);
/** The same page's edit link on another instance. */
const on = (page: BoardPage, instance: number) => page.url.replace(/^http:\/\/[^/]+/, topology.instance(instance).url);

const ids = (elements: readonly ElementRecord[]) => elements.map((element) => element.i);

async function sameIds(page: BoardPage, expected: readonly string[]): Promise<void> {
  await page.waitForElements(
    `the page to show ${expected.length} elements`,
    (elements) => ids(elements).join() === expected.join(),
  );
}

/** Draws a horizontal line with the pen at height y, from x0 to x1 (fractions of the stage). */
async function drawLine(page: BoardPage, y: number, x0 = 0.2, x1 = 0.8): Promise<void> {
  await page.choose("Pen");
  await page.drag([await page.at([x0, y]), await page.at([x1, y])], 12);
}

test("a line drawn with the mouse on one instance's page appears on another's as one element", async () => {
  const left = await newBoard(0);
  const right = await open(on(left, 1));
  await drawLine(left, 0.5);
  const drawn = await left.settled();
  expect(drawn.map((element) => element.t)).toEqual(["f"]);
  await sameIds(right, ids(drawn));
});

test("after a reload the drawing is still there, and undo still takes back the last line", async () => {
  const page = await newBoard();
  await drawLine(page, 0.3);
  await drawLine(page, 0.6);
  const before = await page.settled();

  await page.page.reload();
  await page.connected();
  await sameIds(page, ids(before));
  await page.press("Control+z");
  await sameIds(page, ids(before).slice(0, 1));
});

test("lines drawn while the page's instance is down reach the other page and the board once each", async () => {
  const drawer = await newBoard(1);
  const watcher = await open(on(drawer, 0));
  await drawLine(drawer, 0.2);
  await drawer.settled();

  await topology.stopInstance(1);
  await drawer.page.waitForFunction(
    () => (window as unknown as { whiteboard: { connection(): string } }).whiteboard.connection() === "reconnecting",
  );
  await drawLine(drawer, 0.5);
  await drawLine(drawer, 0.7);
  const waiting = await drawer.read((whiteboard) => whiteboard.pendingCount());
  await topology.startInstance(1);

  const all = await drawer.settled();
  expect(waiting).toBeGreaterThan(0);
  expect(all).toHaveLength(3);
  await sameIds(watcher, ids(all));
});

test("a late joiner shows the whole board, and says when it was drawn", async () => {
  const a = await newBoard(0);
  const b = await open(on(a, 1));
  await drawLine(a, 0.25);
  await drawLine(b, 0.75);
  await Promise.all([a.settled(), b.settled()]);
  const all = await a.settled();

  const late = await open(on(a, 0));
  await sameIds(late, ids(all));
  await eventually(
    "the catch-up to be fully drawn",
    async () => (await late.read((whiteboard) => whiteboard.stats().fullyDrawnMs)) !== undefined,
  );
  const stats = await late.read((whiteboard) => whiteboard.stats());
  expect(await late.read((whiteboard) => whiteboard.elementIds().length)).toBe(all.length);
  expect(stats.firstPaintMs).toBeGreaterThan(0);
  // It was drawn by the ink's worker (which reported it drawn), and the worker runs the page's one script.
  const script = await late.page.evaluate(() => document.querySelector<HTMLScriptElement>("script[src]")?.src);
  expect(late.page.workers().map((worker) => worker.url())).toEqual([script]);
});

test("undo and redo of a line and of an eraser gesture reach every page, and never touch someone else's", async () => {
  const left = await newBoard(0);
  const right = await open(on(left, 1));
  await drawLine(left, 0.3);
  await drawLine(left, 0.6);
  const both = await left.settled();
  await sameIds(right, ids(both));

  await left.press("Control+z");
  await sameIds(right, ids(both).slice(0, 1));
  await left.click("Redo");
  await sameIds(right, ids(both));

  // The right page's eraser takes the upper line in one swipe; its undo brings it back; its own undo has nothing else.
  await right.choose("Eraser");
  await right.drag([await right.at([0.5, 0.2]), await right.at([0.5, 0.4])], 2);
  await sameIds(left, ids(both).slice(1));
  await right.press("Control+z");
  await sameIds(left, ids(both));
  await right.press("Control+z");
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(ids(await left.elements())).toEqual(ids(both));
});

test("a page shows the other user's cursor with their name, and never its own; a new name shows at once", async () => {
  const mover = await newBoard(0);
  const watcher = await open(on(mover, 1));
  const [x, y] = await mover.at([0.5, 0.5]);
  await mover.page.mouse.move(x - 50, y - 50);
  await mover.page.mouse.move(x, y, { steps: 5 });

  const name = await mover.page.locator("#me-name").textContent();
  const label = watcher.page.locator(".cursor-name");
  await label.waitFor();
  expect(await label.textContent()).toBe(name);
  // Both pages show the board alike (the same size, at 100% around the origin): the cursor is where the pointer is.
  await eventually("the cursor to reach the pointer's place", async () => {
    const box = await watcher.page.locator(".cursor").boundingBox();
    return box !== null && Math.abs(box.x - x) < 2 && Math.abs(box.y - y) < 2;
  });
  expect(await mover.page.locator(".cursor").count()).toBe(0);

  await mover.menu(name ?? "");
  await mover.page.getByRole("textbox", { name: "Name" }).fill("Ada Lovelace");
  await mover.page.getByRole("button", { name: "Save" }).click();
  await mover.page.mouse.move(x + 30, y, { steps: 3 });
  await eventually("the new name on the watcher's page", async () => (await label.textContent()) === "Ada Lovelace");
});

test.each([
  ["zoomed in", -600, 4],
  ["zoomed far out", 2_000, 0.05],
])("%s, a line lands at the board point under the pointer, at the zoom's scale", async (_, wheel, near) => {
  const page = await newBoard();
  const [x, y] = await page.at([0.4, 0.45]);
  await page.page.mouse.move(x, y);
  const under = await page.page.evaluate(
    ([px, py]: readonly [number, number]) => {
      const handle = (window as unknown as { whiteboard: { toPage(x: number, y: number): number[] } }).whiteboard;
      // The board point under (px, py): toPage is linear, so two probes give it.
      const [ox, oy] = handle.toPage(0, 0) as [number, number];
      const [ux, uy] = handle.toPage(1_000, 1_000) as [number, number];
      return [((px - ox) / (ux - ox)) * 1_000, ((py - oy) / (uy - oy)) * 1_000];
    },
    [x, y] as const,
  );
  await page.page.keyboard.down("Control");
  for (let step = 0; step < 5; step += 1) await page.page.mouse.wheel(0, wheel / 5);
  await page.page.keyboard.up("Control");
  await eventually("the zoom to change", async () => {
    const zoom = await page.read((whiteboard) => whiteboard.zoom());
    return near > 1 ? zoom > near * 0.5 : zoom < near * 2;
  });
  const zoom = await page.read((whiteboard) => whiteboard.zoom());
  await page.choose("Pen");
  await page.drag([
    [x, y],
    [x + 100, y],
  ]);
  const [line] = (await page.settled()) as [ElementRecord];
  const samples = decodeSamples(line.d) as number[];
  const unitsPerPixel = UNITS_PER_PIXEL / zoom;
  // Within a pixel's worth of units (plus a unit of rounding), at this zoom.
  const slack = unitsPerPixel + 1;
  expect(Math.abs((samples[0] as number) - (under[0] as number))).toBeLessThanOrEqual(slack);
  expect(Math.abs((samples[1] as number) - (under[1] as number))).toBeLessThanOrEqual(slack);
  expect(Math.abs((samples.at(-3) as number) - (samples[0] as number) - 100 * unitsPerPixel)).toBeLessThanOrEqual(
    slack,
  );

  await page.press("0");
  expect(await page.read((whiteboard) => whiteboard.zoom())).toBe(1);
});

test("on a touch screen one finger draws and two fingers pinch the board, without scrolling the page", async () => {
  const page = await newBoard(0, { touch: true });
  await page.choose("Pen");
  const line = await Promise.all([0.2, 0.4, 0.6, 0.8].map((x) => page.at([x, 0.5])));
  await page.touch([line]);
  const drawn = await page.settled();
  expect(drawn).toHaveLength(1);

  const [x, y] = await page.at([0.5, 0.3]);
  const steps = [20, 40, 60, 80].map((distance) => [[x - distance, y] as const, [x + distance, y] as const]);
  await page.touch([
    steps.map(([left]) => left as readonly [number, number]),
    steps.map(([, right]) => right as readonly [number, number]),
  ]);

  expect(await page.read((whiteboard) => whiteboard.zoom())).toBeCloseTo(4, 1);
  expect(ids(await page.settled())).toEqual(ids(drawn));
  expect(await page.page.evaluate(() => [scrollX, scrollY, visualViewport?.scale])).toEqual([0, 0, 1]);
});

test("the help opens with ? and closes with Escape, and every button has a name", async () => {
  const page = await newBoard(1);
  const help = page.page.locator("#help");
  await page.press("?");
  await help.waitFor();
  expect(await help.textContent()).toMatch(/Undo[\s\S]*Redo[\s\S]*paste[\s\S]*Zoom/);
  await page.press("Escape");
  await help.waitFor({ state: "hidden" });

  const unnamed = await page.page
    .locator("button")
    .evaluateAll((buttons) =>
      buttons
        .filter((button) => !(button.getAttribute("aria-label") ?? button.textContent ?? "").trim())
        .map((button) => button.outerHTML),
    );
  expect(unnamed).toEqual([]);
});

test("the PNG and SVG downloads hold the board", async () => {
  const page = await newBoard(1);
  await page.choose("red");
  await drawLine(page, 0.5, 0.1, 0.9);
  await page.choose("Rectangle");
  await page.dragOver([0.3, 0.2], [0.5, 0.3]);
  await page.settled();

  const download = async (name: string) => {
    const [file] = await Promise.all([page.page.waitForEvent("download"), page.menu(name)]);
    return readFile(await file.path());
  };
  const png = await download("Download as PNG");
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const svg = (await download("Download as SVG")).toString("utf8");
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain("#e03131");
});

test("after a clear every page offers to undo it, and undoing it brings everything back everywhere", async () => {
  const clearer = await newBoard(0);
  const other = await open(on(clearer, 1));
  await drawLine(clearer, 0.5);
  const drawn = await clearer.settled();
  await sameIds(other, ids(drawn));

  await clearer.menu("Clear the board");
  await sameIds(other, []);
  const offer = other.page.locator("#clear-offer");
  await offer.waitFor();
  expect(await offer.textContent()).toContain("cleared the board");
  await offer.getByRole("button", { name: "Undo clear" }).click();

  await sameIds(clearer, ids(drawn));
  await sameIds(other, ids(drawn));
  await offer.waitFor({ state: "hidden" });
});
