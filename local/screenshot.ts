/**
 * `make screenshot`: docs/screenshot.png, two browser pages side by side, each on a different service
 * instance of the same board, after each drew on it with the mouse, each showing the other's cursor with its
 * name (Debian's Chromium, real instances).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { launchBrowser } from "./browser";
import { Topology } from "./topology";

const OUTPUT = path.join(__dirname, "..", "docs", "screenshot.png");
const BOARD = "demo";
/** Who draws on each page: kept where the app keeps a browser's identity (client/app/identity.ts). */
const USERS = [
  { id: "screenshot-user-ada", name: "Ada", color: "#1a73e8" },
  { id: "screenshot-user-grace", name: "Grace", color: "#e8710a" },
];

/** Draws a polyline with the mouse; points are fractions of the board. */
async function drawPath(page: Page, points: readonly (readonly [number, number])[]): Promise<void> {
  const box = await page.locator("#paper").boundingBox();
  if (!box) throw new Error("no board on the page");
  const at = ([x, y]: readonly [number, number]) => [box.x + box.width * x, box.y + box.height * y] as const;
  const [first, ...rest] = points;
  if (!first) return;
  await page.mouse.move(...at(first));
  await page.mouse.down();
  for (const point of rest) await page.mouse.move(...at(point), { steps: 3 });
  await page.mouse.up();
}

const circle = (cx: number, cy: number, r: number, aspect: number) =>
  Array.from(
    { length: 33 },
    (_, i) =>
      [cx + (r / aspect) * Math.cos((i / 32) * 2 * Math.PI), cy + r * Math.sin((i / 32) * 2 * Math.PI)] as const,
  );

/** Moves the mouse over the board to a point (fractions of the board) and leaves it there. */
async function rest(page: Page, [x, y]: readonly [number, number]): Promise<void> {
  const box = await page.locator("#paper").boundingBox();
  if (!box) throw new Error("no board on the page");
  await page.mouse.move(box.x + box.width * x, box.y + box.height * y, { steps: 4 });
}

async function pick(page: Page, group: string, index: number): Promise<void> {
  await page.locator(`#${group} button`).nth(index).click();
}

async function main(): Promise<void> {
  const topology = await Topology.start({ instances: 2 });
  const browser = await launchBrowser();
  try {
    const pages = await Promise.all(
      topology.instances.map(async (instance, index) => {
        const page = await browser.newPage({ viewport: { width: 760, height: 560 }, deviceScaleFactor: 2 });
        await page.addInitScript((user) => localStorage.setItem("whiteboard.user", user), JSON.stringify(USERS[index]));
        await page.goto(`${instance.url}/b/${BOARD}`);
        await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "connected");
        return page;
      }),
    );
    const [left, right] = pages as [Page, Page];
    // Left: a house and a hill, in blue and green.
    await pick(left, "colors", 2);
    await pick(left, "widths", 2);
    await drawPath(left, [
      [0.15, 0.8],
      [0.15, 0.5],
      [0.3, 0.32],
      [0.45, 0.5],
      [0.45, 0.8],
      [0.15, 0.8],
    ]);
    await drawPath(left, [
      [0.26, 0.8],
      [0.26, 0.62],
      [0.34, 0.62],
      [0.34, 0.8],
    ]);
    await pick(left, "colors", 3);
    await drawPath(
      left,
      Array.from({ length: 21 }, (_, i) => [0.05 + i * 0.045, 0.88 - 0.05 * Math.sin((i / 20) * Math.PI)] as const),
    );
    // Right: the sun and its rays, in orange and red.
    await pick(right, "colors", 4);
    await pick(right, "widths", 3);
    await drawPath(right, circle(0.75, 0.25, 0.1, 1.6));
    await pick(right, "colors", 1);
    await pick(right, "widths", 1);
    for (let ray = 0; ray < 8; ray += 1) {
      const angle = (ray / 8) * 2 * Math.PI;
      const from = [0.75 + (0.14 / 1.6) * Math.cos(angle), 0.25 + 0.14 * Math.sin(angle)] as const;
      const to = [0.75 + (0.2 / 1.6) * Math.cos(angle), 0.25 + 0.2 * Math.sin(angle)] as const;
      await drawPath(right, [from, to]);
    }
    // Both pages hold the same board once everything is acknowledged and relayed.
    for (const page of pages)
      await page.waitForFunction(
        () => (window as unknown as { whiteboard: { pendingCount(): number } }).whiteboard.pendingCount() === 0,
      );
    // Each pointer comes to rest over the board: the other page shows it with its owner's name.
    await rest(left, [0.62, 0.62]);
    await rest(right, [0.3, 0.22]);
    await Promise.all(pages.map((page) => page.locator(".cursor-name").waitFor()));
    await new Promise((resolve) => setTimeout(resolve, 600));

    const shots = await Promise.all(pages.map((page) => page.screenshot({ type: "png" })));
    const sheet = await browser.newPage({ viewport: { width: 1560, height: 640 }, deviceScaleFactor: 1 });
    await sheet.setContent(`<body style="margin:0;padding:16px;background:#dadce0;font:15px system-ui;display:flex;gap:16px">
      ${shots
        .map(
          (
            shot,
            i,
          ) => `<figure style="margin:0"><img style="width:760px;display:block;border-radius:6px;box-shadow:0 1px 4px #0004" src="data:image/png;base64,${shot.toString("base64")}">
          <figcaption style="padding-top:6px">${USERS[i]?.name}'s page, on ${topology.instance(i).name}, board "${BOARD}"</figcaption></figure>`,
        )
        .join("")}</body>`);
    mkdirSync(path.dirname(OUTPUT), { recursive: true });
    await sheet.screenshot({ path: OUTPUT, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
  } finally {
    await browser.close();
    await topology.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
