/**
 * Lines not yet acknowledged survive a reload and a closed tab: drawn on the whiteboard page in Chromium while Redis is
 * down, kept in IndexedDB, shown again by the page that comes next (a reload, then another tab), and stored once each,
 * whole, when Redis is back. The pages reach the instances through the Cloud Run-like front, one origin for every
 * instance as in production (IndexedDB is kept per origin), so a tab may reach another instance than the last one.
 */
import type { Browser, BrowserContext } from "playwright-core";
import type { ElementRecord } from "../../protocol/events";
import { launchBrowser } from "../../local/browser";
import { Topology } from "../../local/topology";
import { readStored } from "../support/scripted-user";
import { eventually } from "../support/socket-client";
import { BoardPage, DESKTOP } from "./board-page";

let topology: Topology;
let browser: Browser;

beforeAll(async () => {
  [topology, browser] = await Promise.all([Topology.start({ instances: 2, front: { port: 0 } }), launchBrowser()]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

/** A line drawn with the pen across the board at a fraction `y` of its height: its id and points as the page shows them. */
async function drawLine(page: BoardPage, y: number): Promise<{ id: string; d: string }> {
  const before = new Set(await page.read((whiteboard) => whiteboard.elementIds()));
  await page.choose("Pen");
  const points = await Promise.all([0.2, 0.35, 0.5, 0.65, 0.8].map((x) => page.at([x, y + (x % 0.3) / 10])));
  await page.drag(points, 4);
  const drawn = (await page.elements()).filter((element) => !before.has(element.i));
  expect(drawn.map((element) => element.t)).toEqual(["f"]);
  const [{ i, d }] = drawn as [ElementRecord];
  return { id: i, d };
}

const shownIds = (page: BoardPage) => page.read((whiteboard) => whiteboard.elementIds());
const pending = (page: BoardPage) => page.read((whiteboard) => whiteboard.pendingCount());

test("lines drawn while the store is away survive a reload and a closed tab, and are stored once each, whole", async () => {
  const context: BrowserContext = await browser.newContext({ viewport: DESKTOP });
  let page = await BoardPage.openIn(context, `${topology.url}/`);
  const editLink = page.url;
  const board = new URL(editLink).pathname.split("/").at(-1) as string;
  const lines = [await drawLine(page, 0.2)];
  await page.settled();

  await topology.redis.stop();
  lines.push(await drawLine(page, 0.35), await drawLine(page, 0.5));
  expect(await pending(page)).toBeGreaterThan(0);

  // A reload: the page shows the lines the store never acknowledged (the one it did is the store's to give back, once
  // it serves again), and goes on drawing.
  await page.page.reload();
  await eventually("the reloaded page to show the kept lines", async () => {
    const shown = await shownIds(page);
    return lines.slice(1).every(({ id }) => shown.includes(id));
  });
  lines.push(await drawLine(page, 0.65));

  // The tab closed, another opened: it takes over what the closed one kept.
  await page.page.close();
  page = await BoardPage.openIn(context, editLink, { connected: false });
  await eventually("the new tab to show the kept lines", async () => {
    const shown = await shownIds(page);
    return lines.slice(1).every(({ id }) => shown.includes(id));
  });

  await topology.redis.start();
  await eventually("every line to be acknowledged", async () => (await pending(page)) === 0, 30_000);
  const stored = await readStored(topology.instance(0).url, board);
  expect(stored.map((element) => element.i).sort()).toEqual(lines.map(({ id }) => id).sort());
  // Whole: every line's points as the page showed them when it was drawn.
  const points = new Map(lines.map(({ id, d }) => [id, d]));
  for (const element of stored) expect(element.d).toBe(points.get(element.i));
  await context.close();
}, 120_000);
