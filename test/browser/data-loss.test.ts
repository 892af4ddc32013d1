/**
 * The browser client when Redis loses everything: the Memorystore stand-in without persistence (a Basic tier after
 * maintenance) restarted empty under two open Chromium pages on two instances. The pages keep what they showed,
 * put it back into the store (a line undone before the loss stays undone), the one that put it back says so, and a
 * page loaded afterwards shows the restored board.
 */
import type { Browser } from "playwright-core";
import { launchBrowser } from "../../local/browser";
import { Topology } from "../../local/topology";
import { eventually } from "../support/socket-client";
import { BoardPage } from "./board-page";

let topology: Topology;
let browser: Browser;
const pages: BoardPage[] = [];

beforeAll(async () => {
  [topology, browser] = await Promise.all([
    Topology.start({ instances: 2, redisOptions: { persistence: false } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await Promise.all(pages.map((page) => page.close()));
  await browser?.close();
  await topology?.stop();
});

async function open(url: string): Promise<BoardPage> {
  const page = await BoardPage.open(browser, url);
  pages.push(page);
  return page;
}

const ids = (elements: readonly { i: string }[]) => elements.map((element) => element.i).join();

async function drawLine(page: BoardPage, y: number): Promise<void> {
  await page.choose("Pen");
  await page.drag([await page.at([0.2, y]), await page.at([0.8, y])], 12);
}

test("after Redis restarts empty, the open pages keep and restore their board, the restorer says so, and a new page shows it", async () => {
  const left = await open(`${topology.instance(0).url}/`);
  const right = await open(left.url.replace(topology.instance(0).url, topology.instance(1).url));
  await drawLine(left, 0.3);
  await drawLine(right, 0.6);
  await drawLine(left, 0.8);
  await left.press("Control+z"); // undone before the loss: it must stay undone
  const before = await left.settled();
  await right.waitForElements("both pages to show the two lines", (elements) => ids(elements) === ids(before));
  expect(before).toHaveLength(2);

  await topology.redis.stop();
  // Drawn while the store is away: it waits on the page, and must never leave it.
  await drawLine(left, 0.45);
  await topology.redis.start();

  // The page that puts the board back says so. Whichever heals second finds the board whole again and has nothing to
  // say (its user lost nothing), so which one speaks depends on timing; at least one must.
  const notices = () => Promise.all([left, right].map((page) => page.page.locator("#notice").textContent()));
  await eventually(
    "a page to say it put the board back",
    async () =>
      (await notices()).some((text) => /lost recent changes; this page put back \d+ element/.test(text ?? "")),
    15_000,
  );
  const restored = await left.settled();
  await right.waitForElements(
    "the other page to show the restored board",
    (elements) => ids(elements) === ids(restored),
  );
  expect(restored).toHaveLength(3);
  for (const element of before) expect(ids(restored)).toContain(element.i);

  const late = await open(left.url);
  await late.waitForElements("a new page to show the restored board", (elements) => ids(elements) === ids(restored));
  expect(pages.flatMap((page) => page.refusedByPolicy)).toEqual([]);
}, 90_000);
