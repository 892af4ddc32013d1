/**
 * `make screenshot`: README's pictures of the page, made with Debian's Chromium against two real instances of one
 * board: docs/screenshot.png, a desktop page (1440×900) where Ada drew shapes, a note, text and a freehand line, with
 * Grace's cursor and name; docs/screenshot-phone.png, Grace's phone (390×844, touch) on the other instance, showing
 * the same board zoomed to fit, with what she drew by hand.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { launchBrowser } from "./browser";
import { Topology } from "./topology";

const DOCS = path.join(__dirname, "..", "docs");
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
/** Who draws on each page: kept where the app keeps a browser's identity (client/app/identity.ts). */
const ADA = { key: "screenshot-key-ada-0000000", name: "Ada", color: "#1967d2" };
const GRACE = { key: "screenshot-key-grace-000000", name: "Grace", color: "#b05a00" };

type At = readonly [x: number, y: number];

/** A point given as fractions of the page's board area. */
async function at(page: Page, [x, y]: At): Promise<[number, number]> {
  const box = await page.locator("#stage").boundingBox();
  if (!box) throw new Error("no board on the page");
  return [box.x + box.width * x, box.y + box.height * y];
}

async function drag(page: Page, points: readonly At[], steps = 4): Promise<void> {
  const [first, ...rest] = points;
  if (!first) return;
  await page.mouse.move(...(await at(page, first)));
  await page.mouse.down();
  for (const point of rest) await page.mouse.move(...(await at(page, point)), { steps });
  await page.mouse.up();
}

const choose = (page: Page, name: string) => page.getByRole("radio", { name, exact: true }).click();

async function type(page: Page, where: At, text: string): Promise<void> {
  await page.mouse.click(...(await at(page, where)));
  await page.locator(".text-editor").fill(text);
  await page.keyboard.press("Escape");
}

async function open(page: Page, url: string, user: typeof ADA): Promise<void> {
  await page.addInitScript((stored) => localStorage.setItem("whiteboard.user", stored), JSON.stringify(user));
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "connected");
}

async function main(): Promise<void> {
  const topology = await Topology.start({ instances: 2 });
  const browser = await launchBrowser();
  try {
    const desktop = await (await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 })).newPage();
    await open(desktop, `${topology.instance(0).url}/`, ADA);
    const editLink = desktop.url();
    const phone = await (
      await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, hasTouch: true, isMobile: true })
    ).newPage();
    await open(phone, editLink.replace(topology.instance(0).url, topology.instance(1).url), GRACE);

    // Ada: a small plan, boxes joined by arrows, a sticky note and a title.
    await choose(desktop, "blue");
    await choose(desktop, "blue fill");
    await choose(desktop, "Rectangle");
    await drag(desktop, [
      [0.14, 0.3],
      [0.3, 0.45],
    ]);
    await choose(desktop, "green fill");
    await choose(desktop, "Ellipse");
    await drag(desktop, [
      [0.42, 0.28],
      [0.58, 0.47],
    ]);
    await choose(desktop, "no fill");
    await choose(desktop, "black");
    await choose(desktop, "Arrow");
    await drag(desktop, [
      [0.31, 0.375],
      [0.41, 0.375],
    ]);
    await drag(desktop, [
      [0.5, 0.48],
      [0.5, 0.62],
    ]);
    await choose(desktop, "red");
    await choose(desktop, "Rectangle");
    await drag(desktop, [
      [0.42, 0.63],
      [0.58, 0.78],
    ]);
    await choose(desktop, "black");
    await choose(desktop, "large size");
    await choose(desktop, "Text");
    await type(desktop, [0.14, 0.16], "Launch plan");
    await choose(desktop, "medium size");
    await choose(desktop, "Sticky note");
    await type(desktop, [0.75, 0.4], "Ask Grace about\nthe venue");

    // Grace, on her phone: a freehand circle round the plan's end, drawn with a finger.
    await choose(phone, "Pen");
    const [cx, cy] = await phone.evaluate(() => {
      const handle = (window as unknown as { whiteboard: { toPage(x: number, y: number): number[] } }).whiteboard;
      return handle.toPage(0, 0);
    });
    const cdp = await phone.context().newCDPSession(phone);
    const ring = Array.from({ length: 40 }, (_, i) => {
      const angle = (i / 39) * 2 * Math.PI * 1.05;
      return { x: (cx as number) + 150 * Math.cos(angle), y: (cy as number) + 260 + 60 * Math.sin(angle), id: 0 };
    });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: ring.slice(0, 1) });
    for (const point of ring.slice(1))
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [point] });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });

    for (const page of [desktop, phone])
      await page.waitForFunction(
        () => (window as unknown as { whiteboard: { pendingCount(): number } }).whiteboard.pendingCount() === 0,
      );
    // The phone shows the whole board; Grace's finger rests on the desktop's board, where Ada sees her name.
    await phone.getByRole("button", { name: "Menu" }).tap();
    await phone.getByRole("button", { name: "Zoom to fit everything" }).tap();
    await desktop.mouse.move(...(await at(desktop, [0.66, 0.7])), { steps: 4 });
    // Grace points just below Ada's note: the same board point on both screens.
    const [toX, toY] = await phone.evaluate(() => {
      const handle = (
        window as unknown as {
          whiteboard: {
            elements(): { t: string; x: number; y: number; h: number }[];
            toPage(x: number, y: number): number[];
          };
        }
      ).whiteboard;
      const note = handle.elements().find((element) => element.t === "n");
      return note ? handle.toPage(note.x + 200, note.y + note.h + 600) : [0, 0];
    });
    await phone.mouse.move(toX as number, toY as number, { steps: 4 });
    await desktop.locator(".cursor-name").waitFor();
    await new Promise((resolve) => setTimeout(resolve, 800));

    mkdirSync(DOCS, { recursive: true });
    await desktop.screenshot({ path: path.join(DOCS, "screenshot.png") });
    await phone.screenshot({ path: path.join(DOCS, "screenshot-phone.png") });
    console.log("wrote docs/screenshot.png and docs/screenshot-phone.png");
  } finally {
    await browser.close();
    await topology.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
