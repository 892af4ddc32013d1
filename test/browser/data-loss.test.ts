/**
 * The browser client when Redis loses everything: the Memorystore stand-in without persistence (a Basic tier after
 * maintenance) restarted empty under two open Chromium pages on two instances. The pages keep what they showed,
 * put it back into the store (a line undone before the loss stays undone), say so, and a page loaded afterwards
 * shows the restored board.
 */
import type { Browser } from "playwright-core";
import { launchBrowser } from "../../local/browser";
import { readBoard } from "../../local/read-board";
import { Topology } from "../../local/topology";
import { eventually } from "../support/socket-client";
import { BoardPage } from "./board-page";

let topology: Topology;
let browser: Browser;
const pages: BoardPage[] = [];

beforeAll(async () => {
  [topology, browser] = await Promise.all([
    Topology.start({ instances: 3, redisOptions: { persistence: false } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await Promise.all(pages.map((page) => page.close()));
  await browser?.close();
  await topology?.stop();
});

async function open(instance: number, board: string): Promise<BoardPage> {
  const page = await BoardPage.open(browser, `${topology.instance(instance).url}/b/${board}`);
  pages.push(page);
  return page;
}

const storedIds = async (board: string) =>
  (await readBoard(topology.instance(0).url, board)).records.map((record) => record.i);

test("after Redis restarts empty, the open pages keep and restore their board, say so, and a new page shows it", async () => {
  const board = `data-loss-${process.pid}`;
  const [left, right] = await Promise.all([open(0, board), open(1, board)]);
  await left.drawLine(0.3);
  await right.drawLine(0.6);
  await left.drawLine(0.8);
  await left.press("Control+z"); // undone before the loss: it must stay undone
  await left.settled();
  await right.settled();
  await eventually(
    "both pages to show the two lines",
    async () => (await left.strokeIds()).join() === (await right.strokeIds()).join(),
  );
  const before = await left.strokeIds();
  expect(await storedIds(board)).toEqual(before);

  await topology.redis.stop();
  // Drawn while the store is away: it waits on the page, and must never leave it.
  await left.drawLine(0.45);
  await topology.redis.start();

  for (const page of [left, right]) {
    const notice = page.page.locator("#notice");
    await notice.waitFor({ state: "visible", timeout: 15_000 });
    expect(await notice.textContent()).toMatch(/lost recent changes; this page restored \d+ strokes/);
  }
  const restored = await left.settled();
  await eventually(
    "the store to hold the restored board",
    async () => (await storedIds(board)).join() === restored.join(),
  );
  await eventually("the other page to show it", async () => (await right.strokeIds()).join() === restored.join());
  expect(restored.length).toBeGreaterThan(before.length);
  for (const id of before) expect(restored).toContain(id);

  const late = await open(2, board);
  expect(await late.strokeIds()).toEqual(restored);
  for (const page of [left, right, late]) {
    await page.waitForInk(0.3, true);
    await page.waitForInk(0.6, true);
    await page.waitForInk(0.45, true);
    expect(await page.inkAt(0.8)).toBe(false);
  }
  expect(pages.flatMap((page) => page.refusedByPolicy)).toEqual([]);
}, 90_000);
