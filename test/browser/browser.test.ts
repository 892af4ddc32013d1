/**
 * The browser client in Debian's Chromium, against three real instances: drawing with the mouse,
 * reloading, drawing while the instance is down, and a late joiner.
 */
import type { Browser, Page } from "playwright-core";
import { Topology } from "../../local/topology";
import { launchBrowser } from "../../local/browser";
import { readBoard } from "../../local/read-board";
import { eventually } from "../support/socket-client";

let topology: Topology;
let browser: Browser;
let boardCounter = 0;

interface WhiteboardHandle {
  strokeIds(): string[];
  pendingCount(): number;
  connection(): string;
}

beforeAll(async () => {
  [topology, browser] = await Promise.all([Topology.start({ instances: 3 }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

async function openBoard(instance: number, board: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  page.on("pageerror", (error) => {
    throw error;
  });
  await page.goto(`${topology.instance(instance).url}/b/${board}`);
  await waitForConnection(page);
  return page;
}



function strokeIds(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { whiteboard: WhiteboardHandle }).whiteboard.strokeIds());
}

function pendingCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { whiteboard: WhiteboardHandle }).whiteboard.pendingCount());
}

async function waitForConnection(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { whiteboard?: WhiteboardHandle }).whiteboard?.connection() === "connected");
}

/** Draws a horizontal line with the mouse across the middle of the board, from x0 to x1 (fractions). */
async function drawLine(page: Page, y: number, x0 = 0.2, x1 = 0.8): Promise<void> {
  const box = await page.locator("#board").boundingBox();
  if (!box) throw new Error("no board on the page");
  await page.mouse.move(box.x + box.width * x0, box.y + box.height * y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * x1, box.y + box.height * y, { steps: 12 });
  await page.mouse.up();
}

/** Whether the strokes canvas has ink (non-transparent pixels) along row y (a fraction of its height). */
function inkAt(page: Page, y: number): Promise<boolean> {
  return page.evaluate((row) => {
    const canvas = document.getElementById("strokes") as HTMLCanvasElement;
    const context = canvas.getContext("2d") as CanvasRenderingContext2D;
    const pixels = context.getImageData(0, Math.round(canvas.height * row), canvas.width, 1).data;
    for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 0) return true;
    return false;
  }, y);
}

/** Waits until the page has nothing left to send, and returns its stroke ids. */
async function settled(page: Page): Promise<string[]> {
  await eventually("the page to have every stroke acked", async () => (await pendingCount(page)) === 0);
  return strokeIds(page);
}

const newBoard = () => `browser-${process.pid}-${++boardCounter}`;

test("a line drawn with the mouse on one instance's page appears on another instance's page", async () => {
  const board = newBoard();
  const [left, right] = await Promise.all([openBoard(0, board), openBoard(1, board)]);
  expect(await inkAt(right, 0.5)).toBe(false);

  await drawLine(left, 0.5);

  const leftIds = await settled(left);
  await eventually("the right page to show the line", async () => (await strokeIds(right)).join() === leftIds.join());
  expect(await inkAt(right, 0.5)).toBe(true);
  expect(await inkAt(right, 0.25)).toBe(false);
  await Promise.all([left.close(), right.close()]);
});

test("after a reload the drawing is still there", async () => {
  const board = newBoard();
  const page = await openBoard(0, board);
  await drawLine(page, 0.3);
  await drawLine(page, 0.6);
  const before = await settled(page);

  await page.reload();
  await waitForConnection(page);

  expect(await strokeIds(page)).toEqual(before);
  expect(await inkAt(page, 0.3)).toBe(true);
  expect(await inkAt(page, 0.6)).toBe(true);
  await page.close();
});

test("lines drawn while the page's instance is down reach the other page and the store once each", async () => {
  const board = newBoard();
  const [drawer, watcher] = await Promise.all([openBoard(1, board), openBoard(0, board)]);
  await drawLine(drawer, 0.2);
  const online = await settled(drawer);

  await topology.stopInstance(1);
  await drawer.waitForFunction(() => (window as unknown as { whiteboard: WhiteboardHandle }).whiteboard.connection() === "reconnecting");
  await drawLine(drawer, 0.5);
  await drawLine(drawer, 0.7);
  const waiting = await pendingCount(drawer);
  await topology.startInstance(1);

  const all = await settled(drawer);
  await eventually("the watcher to get the offline lines", async () => (await strokeIds(watcher)).join() === all.join());
  const stored = (await readBoard(topology.instance(0).url, board)).map((stroke) => stroke.id);

  expect(waiting).toBeGreaterThan(0);
  expect(all.length).toBeGreaterThan(online.length);
  expect(stored).toEqual(all);
  expect(new Set(stored).size).toBe(stored.length);
  expect(await inkAt(watcher, 0.7)).toBe(true);
  await Promise.all([drawer.close(), watcher.close()]);
});

test("a late joiner on a third instance shows the whole board", async () => {
  const board = newBoard();
  const [a, b] = await Promise.all([openBoard(0, board), openBoard(1, board)]);
  await drawLine(a, 0.25);
  await drawLine(b, 0.75);
  await Promise.all([settled(a), settled(b)]);
  const stored = (await readBoard(topology.instance(0).url, board)).map((stroke) => stroke.id);

  const late = await openBoard(2, board);

  expect(await strokeIds(late)).toEqual(stored);
  expect(await inkAt(late, 0.25)).toBe(true);
  expect(await inkAt(late, 0.75)).toBe(true);
  await Promise.all([a.close(), b.close(), late.close()]);
});
