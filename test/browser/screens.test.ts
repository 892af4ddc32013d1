/**
 * The page on every screen and for every kind of visitor, in Chromium against real instances: a phone (390×844,
 * touch) with every control needed to draw, undo and see the connection on screen; a tablet's pen and hand; the
 * keyboard (one tab stop per tool group, arrow keys inside); dark mode; a view-only link that hides editing and
 * changes nothing; an edit link that keeps its rights across a reload; export and import of a board file; a bad
 * board address.
 */
import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../../local/browser";
import { Topology } from "../../local/topology";
import type { ElementRecord } from "../../protocol/events";
import { decodeSamples } from "../../protocol/points";
import { eventually } from "../support/socket-client";
import { BoardPage, PHONE, type OpenOptions } from "./board-page";

let topology: Topology;
let browser: Browser;
const pages: BoardPage[] = [];

beforeAll(async () => {
  [topology, browser] = await Promise.all([Topology.start({ instances: 2 }), launchBrowser()]);
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

const newBoard = (options: OpenOptions = {}) => open(`${topology.instance(0).url}/`, options);
/** The view-only link of a page's board (its address without the edit key), on instance 1. */
const viewLink = (page: BoardPage) =>
  page.url.replace(/#.*$/, "").replace(topology.instance(0).url, topology.instance(1).url);

/** Whether an element is wholly inside the window and shown. */
async function onScreen(page: BoardPage, selector: string, size: { width: number; height: number }) {
  const locator = page.page.locator(selector).first();
  const box = await locator.boundingBox();
  return (
    (await locator.isVisible()) &&
    box !== null &&
    box.x >= 0 &&
    box.y >= 0 &&
    box.x + box.width <= size.width &&
    box.y + box.height <= size.height
  );
}

test("on a phone the board fills the screen, and every control needed to draw, undo and see the connection is on it", async () => {
  const page = await newBoard({ viewport: PHONE, touch: true });
  const needed = [
    "#undo",
    "#redo",
    "#connection",
    "#menu-button",
    "#style-button",
    ...["select", "pen", "rect", "ellipse", "line", "arrow", "text", "note", "eraser"].map(
      (tool) => `button[data-tool="${tool}"]`,
    ),
  ];
  for (const selector of needed) expect([selector, await onScreen(page, selector, PHONE)]).toEqual([selector, true]);
  // Nothing scrolls sideways, and the board takes most of the screen.
  expect(await page.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  const stage = await page.stage();
  expect(stage.width).toBe(PHONE.width);
  expect(stage.height).toBeGreaterThan(PHONE.height * 0.8);

  // Draw with a finger, undo with the button, the style panel opens and closes on screen.
  await page.page.locator('button[data-tool="pen"]').tap();
  const line = await Promise.all([0.2, 0.4, 0.6, 0.8].map((x) => page.at([x, 0.5])));
  await page.touch([line]);
  expect((await page.settled()).map((element) => element.t)).toEqual(["f"]);
  await page.page.locator("#undo").tap();
  await page.waitForElements("the line to be undone", (elements) => elements.length === 0);
  await page.page.locator("#style-button").tap();
  expect(await onScreen(page, '[aria-label="red"]', PHONE)).toBe(true);
  await page.page.locator("#menu-button").tap();
  expect(await onScreen(page, "#export-json", PHONE)).toBe(true);
});

test("on a tablet the pen draws with its pressure, fingers then pan instead of drawing, and a palm is ignored", async () => {
  const page = await newBoard({ touch: true });
  await page.choose("Pen");
  const points = await Promise.all([0.3, 0.4, 0.5, 0.6].map((x) => page.at([x, 0.4])));
  await page.pen(points, [0.2, 0.5, 0.8, 1]);
  const [line] = (await page.settled()) as [ElementRecord];
  const samples = decodeSamples(line.d) as number[];
  const pressures = samples.filter((_, index) => index % 3 === 2);
  expect(Math.min(...pressures)).toBeGreaterThanOrEqual(1);
  expect(Math.max(...pressures)).toBeGreaterThan(Math.min(...pressures));

  // A pen has been seen: one finger now moves the board and draws nothing.
  const before = await page.toPage(line.x, line.y);
  const finger = await Promise.all([0.5, 0.55, 0.6, 0.65].map((y) => page.at([0.5, y])));
  await page.touch([finger]);
  expect(await page.settled()).toHaveLength(1);
  const after = await page.toPage(line.x, line.y);
  expect(after[1] - before[1]).toBeGreaterThan(50);
});

test("each tool group is one tab stop, and arrow keys move within it", async () => {
  const page = await newBoard();
  const tabStops = await page.page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[role="radiogroup"]')].map((group) => ({
      group: group.getAttribute("aria-label"),
      stops: [...group.querySelectorAll("button")].filter((button) => button.tabIndex === 0).length,
    })),
  );
  expect(tabStops).toEqual(["Colour", "Size", "Fill", "Tool"].map((group) => ({ group, stops: 1 })));

  const origin = await page.toPage(0, 0);
  await page.page.locator('button[data-tool="pen"]').focus();
  await page.press("ArrowRight");
  await page.press("ArrowRight");
  const focused = await page.page.evaluate(() => (document.activeElement as HTMLElement).dataset.tool);
  expect(focused).toBe("ellipse");
  expect(await page.page.locator('button[data-tool="ellipse"]').getAttribute("aria-checked")).toBe("true");
  // The arrows moved the focus, not the board.
  expect(await page.toPage(0, 0)).toEqual(origin);
});

test("dark mode follows the system", async () => {
  const page = await newBoard({ colorScheme: "dark" });
  const background = await page.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number) as [number, number, number];
  expect(r + g + b).toBeLessThan(150);
});

test("a view-only link hides the editing tools, says it is view-only, and changes nothing", async () => {
  const editor = await newBoard();
  await editor.choose("Rectangle");
  await editor.dragOver([0.3, 0.3], [0.5, 0.5]);
  const board = await editor.settled();

  const viewer = await open(viewLink(editor));
  expect(viewer.url).not.toContain("edit=");
  await viewer.waitForElements("the viewer to show the board", (elements) => elements.length === board.length);
  expect(await viewer.read((whiteboard) => whiteboard.canEdit())).toBe(false);
  await viewer.page.locator("#view-only").waitFor();
  for (const hidden of ["#tools", "#undo", "#style"]) expect(await viewer.page.locator(hidden).isVisible()).toBe(false);

  // Drags, keys and pastes do nothing.
  await viewer.dragOver([0.1, 0.1], [0.2, 0.2]);
  await viewer.press("Control+a");
  await viewer.press("Delete");
  await viewer.press("r");
  await viewer.dragOver([0.6, 0.6], [0.7, 0.7]);
  expect(await viewer.read((whiteboard) => whiteboard.pendingCount())).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await editor.elements()).map((element) => element.i)).toEqual(board.map((element) => element.i));

  // Its share dialog offers only the view-only link.
  await viewer.click("Share");
  expect(await viewer.page.locator("#edit-link-row").isVisible()).toBe(false);
  expect(await viewer.page.locator("#view-link").inputValue()).toBe(viewer.url);
});

test("the edit link's key is kept: a reload without it still edits; the share dialog offers both links", async () => {
  const page = await newBoard();
  const editLink = page.url;
  await page.page.goto(editLink.replace(/#.*$/, ""));
  await page.connected();
  expect(await page.read((whiteboard) => whiteboard.canEdit())).toBe(true);
  await page.click("Share");
  expect(await page.page.locator("#edit-link").inputValue()).toBe(editLink);
  expect(await page.page.locator("#view-link").inputValue()).toBe(editLink.replace(/#.*$/, ""));
});

test("a board exported as a file and imported into another board gives the same elements", async () => {
  const source = await newBoard();
  await source.choose("Pen");
  await source.dragOver([0.1, 0.1], [0.3, 0.2]);
  await source.choose("Ellipse");
  await source.dragOver([0.4, 0.4], [0.6, 0.6]);
  await source.choose("Sticky note");
  await source.clickAt([0.7, 0.3]);
  await source.type("kept");
  const elements = await source.settled();

  const [download] = await Promise.all([source.page.waitForEvent("download"), source.menu("Export board file")]);
  const file = await readFile(await download.path());
  expect(download.suggestedFilename()).toMatch(/\.json$/);

  const target = await open(`${topology.instance(1).url}/`);
  const [chooser] = await Promise.all([target.page.waitForEvent("filechooser"), target.menu("Import board file…")]);
  await chooser.setFiles({ name: "board.json", mimeType: "application/json", buffer: file });
  const imported = await target.waitForElements("the import", (shown) => shown.length === elements.length);
  await target.settled();
  const look = ({ t, x, y, w, h, c, sw, f }: ElementRecord) => ({ t, x, y, w, h, c, sw, f });
  expect(imported.map(look)).toEqual(elements.map(look));
  // A freehand line keeps its points and pressures; text keeps its text.
  expect(imported.map((element) => decodeSamples(element.d))).toEqual(
    elements.map((element) => decodeSamples(element.d)),
  );
});

test("'N online' is not shown while reconnecting, and an idle cursor's name stays readable", async () => {
  const page = await newBoard();
  await eventually("the online count", () => page.page.locator("#presence").isVisible());
  await topology.stopInstance(0);
  await page.page.waitForFunction(() => document.querySelector("#connection")?.textContent === "reconnecting…");
  expect(await page.page.locator("#presence").isVisible()).toBe(false);
  await topology.startInstance(0);
  await page.connected();

  const watcher = await open(page.url.replace(topology.instance(0).url, topology.instance(1).url));
  const [x, y] = await page.at([0.5, 0.5]);
  await page.page.mouse.move(x, y, { steps: 4 });
  const label = watcher.page.locator(".cursor-name");
  await label.waitFor();
  await watcher.page.locator(".cursor.idle").waitFor({ state: "attached", timeout: 10_000 });
  expect(Number(await label.evaluate((element) => getComputedStyle(element).opacity))).toBe(1);
  expect(Number(await label.evaluate((element) => getComputedStyle(element.parentElement as Element).opacity))).toBe(1);
}, 90_000);

test("a bad board address gets a page that says so and offers a new board", async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const response = await page.goto(`${topology.instance(0).url}/b/not a board!`);
    expect(response?.status()).toBe(404);
    await page.getByRole("heading", { name: "There is no board at this address" }).waitFor();
    await page.getByRole("link", { name: "Start a new board" }).click();
    await page.waitForURL(/\/b\/[A-Za-z0-9_-]+/);
  } finally {
    await context.close();
  }
});
