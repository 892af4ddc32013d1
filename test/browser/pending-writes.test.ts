/**
 * Lines not yet acknowledged survive a reload and a closed tab: drawn in Chromium while Redis is down, kept in
 * IndexedDB, shown again by the page that comes next (a reload, then another tab on another instance), and stored
 * once each, whole, when Redis is back. The page is the client core's own fixture (test/browser/fixtures/), served
 * from an origin of its own that the instances allow.
 */
import { createServer, type Server } from "node:http";
import path from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../../local/browser";
import { freePort } from "../../local/ports";
import { Topology } from "../../local/topology";
import { readStored } from "../support/scripted-user";
import { editableBoard, eventually } from "../support/socket-client";

/** What the fixture page exposes on `window.fixture`. */
interface Fixture {
  status(): string;
  pending(): number;
  shown(): string[];
  drawn(): { ids: string[]; points: string[] }[];
}

let server: Server;
let origin: string;
let topology: Topology;
let browser: Browser;

/** Bundles the fixture page and serves it, with an empty page around it, from a port of its own. */
async function serveFixture(): Promise<void> {
  const bundle = await build({
    entryPoints: [path.join(__dirname, "fixtures", "pending-page.ts")],
    bundle: true,
    write: false,
    format: "iife",
    target: "chrome110",
    logLevel: "warning",
  });
  const script = bundle.outputFiles[0]?.text ?? "";
  const html =
    '<!doctype html><html><body style="margin:0;height:100vh"><script src="/page.js"></script></body></html>';
  server = createServer((request, response) => {
    const isScript = request.url === "/page.js";
    response.writeHead(200, { "content-type": isScript ? "text/javascript" : "text/html" });
    response.end(isScript ? script : html);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  await serveFixture();
  topology = await Topology.start({ instances: 2, env: { ALLOWED_ORIGINS: origin } });
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await topology?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

const read = <T>(page: Page, what: (fixture: Fixture) => T): Promise<T> =>
  page.evaluate(`(${what.toString()})(window.fixture)`) as Promise<T>;

/** Draws a line across the page at height `y` (CSS pixels) with the mouse; returns its ids and points as shown. */
async function drawLine(page: Page, y: number): Promise<{ ids: string[]; points: string[] }> {
  await page.mouse.move(100, y);
  await page.mouse.down();
  for (let x = 120; x <= 600; x += 20) await page.mouse.move(x, y + (x % 60) / 6);
  await page.mouse.up();
  const drawn = await read(page, (fixture) => fixture.drawn());
  return drawn.at(-1) as { ids: string[]; points: string[] };
}

test("lines drawn while the store is away survive a reload and a closed tab, and are stored once each", async () => {
  const { board, edit } = editableBoard();
  const address = (instance: number) =>
    `${origin}/?board=${board}&edit=${edit}&service=${encodeURIComponent(topology.instance(instance).url)}`;
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  let page = await context.newPage();
  await page.goto(address(0));
  await eventually("the page to join", async () => (await read(page, (f) => f.status())) === "connected", 15_000);
  const lines = [await drawLine(page, 100)];
  await eventually("the first line to be stored", async () => (await read(page, (f) => f.pending())) === 0);

  await topology.redis.stop();
  lines.push(await drawLine(page, 200), await drawLine(page, 300));
  expect(await read(page, (f) => f.pending())).toBeGreaterThan(0);

  // A reload: the new page shows the lines the store never acknowledged, and goes on drawing.
  await page.reload();
  await eventually("the reloaded page to show the kept lines", async () => {
    const shown = await read(page, (f) => f.shown());
    return [lines[1], lines[2]].every((line) => line?.ids.every((id) => shown.includes(id)));
  });
  lines.push(await drawLine(page, 400));

  // The tab closed, another opened on another instance: it takes over what the closed one kept.
  await page.close();
  page = await context.newPage();
  await page.goto(address(1));
  await eventually("the new tab to show the kept lines", async () => {
    const shown = await read(page, (f) => f.shown());
    return lines.slice(1).every((line) => line.ids.every((id) => shown.includes(id)));
  });

  await topology.redis.start();
  await eventually("every line to be acknowledged", async () => (await read(page, (f) => f.pending())) === 0, 30_000);
  const stored = await readStored(topology.instance(0).url, board);
  const drawnIds = lines.flatMap((line) => line.ids);
  expect(stored.map((element) => element.i).sort()).toEqual([...drawnIds].sort());
  // Whole: every line's points as the page showed them when it was drawn.
  const points = new Map(lines.flatMap((line) => line.ids.map((id, index) => [id, line.points[index]] as const)));
  for (const element of stored) expect(element.d).toBe(points.get(element.i));
  await context.close();
}, 120_000);
