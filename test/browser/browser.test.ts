/**
 * The browser client in Debian's Chromium, against three real instances, pages of one board on different
 * instances: drawing with the mouse, reloading, drawing while the page's instance is down, a late joiner;
 * undo and redo, the eraser, live cursors, zoom, export, and undoing a clear.
 */
import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../../local/browser";
import { readBoard } from "../../local/read-board";
import { Topology } from "../../local/topology";
import { BOARD_HEIGHT, BOARD_WIDTH, type StrokeRecord } from "../../protocol/events";
import { decodePoints } from "../../protocol/points";
import { eventually } from "../support/socket-client";
import { BoardPage } from "./board-page";

let topology: Topology;
let browser: Browser;
let boardCounter = 0;
const pages: BoardPage[] = [];

beforeAll(async () => {
  // Clears may follow each other at once here: the least interval between them is the service's business.
  [topology, browser] = await Promise.all([
    Topology.start({ instances: 3, env: { CLEAR_INTERVAL_SECONDS: "0" } }),
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

const newBoard = () => `browser-${process.pid}-${++boardCounter}`;

async function open(instance: number, board: string, options: { touch?: boolean } = {}): Promise<BoardPage> {
  const page = await BoardPage.open(browser, `${topology.instance(instance).url}/b/${board}`, options);
  pages.push(page);
  return page;
}

async function stored(board: string): Promise<StrokeRecord[]> {
  return (await readBoard(topology.instance(0).url, board)).records;
}

async function sameStrokes(page: BoardPage, ids: readonly string[]): Promise<void> {
  await eventually(
    `the page to show ${ids.length} strokes`,
    async () => (await page.strokeIds()).join() === ids.join(),
  );
}

const lineOf = (chunkId: string) => chunkId.replace(/-\d+$/, "");

test("a line drawn with the mouse on one instance's page appears on another instance's page", async () => {
  const board = newBoard();
  const [left, right] = await Promise.all([open(0, board), open(1, board)]);
  expect(await right.inkAt(0.5)).toBe(false);

  await left.drawLine(0.5);

  await sameStrokes(right, await left.settled());
  await right.waitForInk(0.5, true);
  expect(await right.inkAt(0.25)).toBe(false);
});

test("after a reload the drawing is still there, and undo still takes back the last line", async () => {
  const board = newBoard();
  const page = await open(0, board);
  await page.drawLine(0.3);
  await page.drawLine(0.6);
  const before = await page.settled();

  await page.page.reload();
  await page.connected();
  expect(await page.strokeIds()).toEqual(before);
  await page.waitForInk(0.3, true);
  await page.waitForInk(0.6, true);

  await page.press("Control+z");
  await page.waitForInk(0.6, false);
  expect(await page.inkAt(0.3)).toBe(true);
});

test("lines drawn while the page's instance is down reach the other page and the store once each", async () => {
  const board = newBoard();
  const [drawer, watcher] = await Promise.all([open(1, board), open(0, board)]);
  await drawer.drawLine(0.2);
  const online = await drawer.settled();

  await topology.stopInstance(1);
  await drawer.page.waitForFunction(
    () => (window as unknown as { whiteboard: { connection(): string } }).whiteboard.connection() === "reconnecting",
  );
  await drawer.drawLine(0.5);
  await drawer.drawLine(0.7);
  const waiting = await drawer.read((whiteboard) => whiteboard.pendingCount());
  await topology.startInstance(1);

  const all = await drawer.settled();
  await sameStrokes(watcher, all);
  const ids = (await stored(board)).map((record) => record.i);

  expect(waiting).toBeGreaterThan(0);
  expect(all.length).toBeGreaterThan(online.length);
  expect(ids).toEqual(all);
  expect(new Set(ids).size).toBe(ids.length);
  await watcher.waitForInk(0.7, true);
});

test("a late joiner on a third instance shows the whole board, and says when it was drawn", async () => {
  const board = newBoard();
  const [a, b] = await Promise.all([open(0, board), open(1, board)]);
  await a.drawLine(0.25);
  await b.drawLine(0.75);
  await Promise.all([a.settled(), b.settled()]);
  const ids = (await stored(board)).map((record) => record.i);

  const late = await open(2, board);

  expect(await late.strokeIds()).toEqual(ids);
  await late.waitForInk(0.25, true);
  await late.waitForInk(0.75, true);
  await eventually(
    "the catch-up to be fully drawn",
    async () => (await late.read((whiteboard) => whiteboard.stats().fullyDrawnMs)) !== undefined,
  );
  const stats = await late.read((whiteboard) => whiteboard.stats());
  expect(stats.strokes).toBe(ids.length);
  expect(stats.firstPaintMs).toBeGreaterThan(0);
  expect(stats.fullyDrawnMs).toBeGreaterThanOrEqual(stats.firstPaintMs as number);
});

test("undo and redo take back and bring back one's own last line on every page, and never someone else's", async () => {
  const board = newBoard();
  const [left, right] = await Promise.all([open(0, board), open(1, board)]);
  await left.drawLine(0.3);
  await left.drawLine(0.6);
  const both = await left.settled();
  await sameStrokes(right, both);
  const first = both.filter((id) => lineOf(id) === lineOf(both[0] as string));

  await left.press("Control+z");
  await sameStrokes(right, first);
  await right.waitForInk(0.6, false);
  expect(await right.inkAt(0.3)).toBe(true);

  await left.press("Control+Shift+Z");
  await sameStrokes(right, both);
  await left.click("Undo");
  await sameStrokes(right, first);
  await left.press("Control+y");
  await sameStrokes(right, both);
  await right.waitForInk(0.6, true);

  // The right page drew nothing: its undo has nothing to take back.
  await right.press("Control+z");
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await left.strokeIds()).toEqual(both);
});

test("the eraser removes a stroke from the other page too, and undo brings it back", async () => {
  const board = newBoard();
  const [drawer, eraser] = await Promise.all([open(0, board), open(2, board)]);
  await drawer.drawLine(0.4);
  await drawer.drawLine(0.7);
  const all = await drawer.settled();
  await sameStrokes(eraser, all);

  await eraser.choose("Eraser");
  // A quick vertical swipe across the upper line only.
  await eraser.drag([await eraser.at([0.5, 0.3]), await eraser.at([0.5, 0.5])], 2);
  const lower = all.filter((id) => lineOf(id) === lineOf(all.at(-1) as string));
  await sameStrokes(drawer, lower);
  await drawer.waitForInk(0.4, false);
  expect(await drawer.inkAt(0.7)).toBe(true);

  await eraser.press("Control+z");
  await sameStrokes(drawer, all);
  await drawer.waitForInk(0.4, true);
});

test("a page shows the other user's cursor with their name, and never its own; a new name shows at once and stays", async () => {
  const board = newBoard();
  const [mover, watcher] = await Promise.all([open(0, board), open(1, board)]);
  const [x, y] = await mover.at([0.5, 0.5]);
  await mover.page.mouse.move(x - 50, y - 50);
  await mover.page.mouse.move(x, y, { steps: 5 });

  const name = await mover.page.locator("#me-name").textContent();
  const label = watcher.page.locator(".cursor-name");
  await label.waitFor();
  expect(await label.textContent()).toBe(name);
  // It comes to rest where the mover's pointer did, on the watcher's board (both pages show the whole board alike).
  await eventually("the cursor to reach the pointer's place", async () => {
    const box = await watcher.page.locator(".cursor").boundingBox();
    return box !== null && Math.abs(box.x - x) < 2 && Math.abs(box.y - y) < 2;
  });
  expect(await mover.page.locator(".cursor").count()).toBe(0);

  await mover.click("Your name and colour");
  await mover.page.getByRole("textbox", { name: "Name" }).fill("Ada Lovelace");
  await mover.page.getByRole("button", { name: "Save" }).click();
  await mover.page.mouse.move(x + 30, y, { steps: 3 });
  await eventually("the new name on the watcher's page", async () => (await label.textContent()) === "Ada Lovelace");
  await mover.page.reload();
  await mover.connected();
  expect(await mover.page.locator("#me-name").textContent()).toBe("Ada Lovelace");
});

test("zoomed in, a line lands at the board point under the pointer, at the zoom's scale", async () => {
  const board = newBoard();
  const page = await open(0, board);
  const paper = await page.paper();
  // Whole pixels: the browser reports pointer positions in them.
  const [x, y] = (await page.at([0.3, 0.4])).map(Math.round) as [number, number];
  const under = [((x - paper.x) / paper.width) * BOARD_WIDTH, ((y - paper.y) / paper.height) * BOARD_HEIGHT];

  await page.page.mouse.move(x, y);
  await page.page.keyboard.down("Control");
  await page.page.mouse.wheel(0, -400);
  await page.page.keyboard.up("Control");
  await eventually("the board to zoom in", async () => (await page.read((whiteboard) => whiteboard.zoom())) > 1.5);
  const zoom = await page.read((whiteboard) => whiteboard.zoom());
  await page.drag([
    [x, y],
    [x + 100, y],
  ]);
  await page.settled();

  // The line's chunks, end to end.
  const points = (await stored(board)).flatMap((record) => decodePoints(record.p) as number[]);
  const unitsPerPixel = BOARD_WIDTH / paper.width / zoom;
  // Within a board unit or two: a pixel is about 18 units at zoom 1, 9 at zoom 2.
  expect(Math.abs((points[0] as number) - (under[0] as number))).toBeLessThanOrEqual(2);
  expect(Math.abs((points[1] as number) - (under[1] as number))).toBeLessThanOrEqual(2);
  expect(Math.abs((points.at(-2) as number) - (points[0] as number) - 100 * unitsPerPixel)).toBeLessThanOrEqual(2);
  expect(points.at(-1)).toBe(points[1]);

  await page.press("0");
  expect(await page.read((whiteboard) => whiteboard.zoom())).toBe(1);
});

test("on a touch screen one finger draws and two fingers pinch the board, without scrolling the page", async () => {
  const board = newBoard();
  const page = await open(0, board, { touch: true });
  const line = await Promise.all([0.2, 0.4, 0.6, 0.8].map((x) => page.at([x, 0.5])));
  await page.touch([line]);
  const drawn = await page.settled();
  expect(drawn.length).toBeGreaterThan(0);
  await page.waitForInk(0.5, true);

  const [x, y] = await page.at([0.5, 0.3]);
  const spread = (distance: number) => [[x - distance, y] as const, [x + distance, y] as const];
  const steps = [20, 40, 60, 80].map(spread);
  await page.touch([
    steps.map(([left]) => left as readonly [number, number]),
    steps.map(([, right]) => right as readonly [number, number]),
  ]);

  expect(await page.read((whiteboard) => whiteboard.zoom())).toBeCloseTo(4, 1);
  // A pinch draws nothing, and the page itself neither scrolled nor zoomed.
  expect(await page.settled()).toEqual(drawn);
  expect((await stored(board)).map((record) => record.i)).toEqual(drawn);
  expect(await page.page.evaluate(() => [scrollX, scrollY, visualViewport?.scale])).toEqual([0, 0, 1]);
});

test("the help panel opens with ? and closes with Escape, and every toolbar button has a name", async () => {
  const page = await open(1, newBoard());
  const help = page.page.locator("#help");
  await page.press("?");
  await help.waitFor();
  expect(await help.textContent()).toMatch(/Undo[\s\S]*Redo[\s\S]*Eraser[\s\S]*Zoom in/);
  await page.press("Escape");
  await help.waitFor({ state: "hidden" });

  const unnamed = await page.page
    .locator(".toolbar button")
    .evaluateAll((buttons) =>
      buttons
        .filter((button) => !(button.getAttribute("aria-label") ?? button.textContent ?? "").trim())
        .map((button) => button.outerHTML),
    );
  expect(unnamed).toEqual([]);
});

test("the PNG and SVG downloads show the whole board: the strokes on white", async () => {
  const board = newBoard();
  const page = await open(1, board);
  await page.choose("red pen");
  await page.drawLine(0.5, 0.1, 0.9);
  await page.choose("blue pen");
  await page.drawLine(0.25, 0.4, 0.6);
  const ids = await page.settled();

  const download = async (name: string) => {
    const [file] = await Promise.all([page.page.waitForEvent("download"), page.click(name)]);
    return readFile(await file.path());
  };
  const [png, svg] = [await download("Download as PNG"), (await download("Download as SVG")).toString("utf8")];

  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const image = await decodePng(png, [
    [0.5, 0.5],
    [0.5, 0.25],
    [0.5, 0.75],
    [0.05, 0.5],
  ]);
  expect([image.width, image.height]).toEqual([3_200, 2_000]);
  expect(image.samples).toEqual([
    [217, 48, 37, 255], // #d93025, the red line
    [26, 115, 232, 255], // #1a73e8, the blue one
    [255, 255, 255, 255],
    [255, 255, 255, 255], // left of the red line's start
  ]);

  const paths = [...svg.matchAll(/<path d="M([^"]+)" stroke="(#[0-9a-f]{6})"/g)];
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(paths).toHaveLength(ids.length);
  const records = await stored(board);
  paths.forEach((path, index) => {
    const points = (path[1] as string).replace("L", " ").split(" ").map(Number);
    const record = records[index] as StrokeRecord;
    const expected = decodePoints(record.p) as number[];
    // A chunk of one point is written as a dot, its point twice.
    expect(points).toEqual(expected.length === 2 ? [...expected, ...expected] : expected);
    expect(path[2]).toBe(record.c);
  });
});

test("after a clear every page offers to undo it, and undoing it brings the strokes back everywhere", async () => {
  const board = newBoard();
  const [clearer, other] = await Promise.all([open(0, board), open(1, board)]);
  await clearer.drawLine(0.5);
  const ids = await clearer.settled();
  await sameStrokes(other, ids);

  await clearer.click("Clear the board");
  await sameStrokes(other, []);
  const offer = other.page.locator("#clear-offer");
  await offer.waitFor();
  expect(await offer.textContent()).toContain("cleared the board");
  await other.page.locator("#clear-offer").getByRole("button", { name: "Undo clear" }).click();

  await sameStrokes(clearer, ids);
  await sameStrokes(other, ids);
  await clearer.waitForInk(0.5, true);
  await clearer.page.locator("#clear-offer").waitFor({ state: "hidden" });
  await offer.waitFor({ state: "hidden" });
});

/** Decodes a PNG in Chromium and returns its size and the RGBA of the pixels at some fractions of it. */
async function decodePng(png: Buffer, at: readonly (readonly [number, number])[]) {
  const decoder = await browser.newPage();
  try {
    return await decoder.evaluate(
      async ({ base64, at }) => {
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext("2d") as OffscreenCanvasRenderingContext2D;
        context.drawImage(bitmap, 0, 0);
        const samples = at.map(([x, y]) => [
          ...context.getImageData(Math.round(x * bitmap.width), Math.round(y * bitmap.height), 1, 1).data,
        ]);
        return { width: bitmap.width, height: bitmap.height, samples };
      },
      { base64: png.toString("base64"), at },
    );
  } finally {
    await decoder.close();
  }
}
