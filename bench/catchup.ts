/**
 * `make bench-catchup` (and the catch-up section of `make bench`): how long a late joiner's page takes to draw a
 * large board in Chromium with software rasterization, written to bench/CATCHUP.md.
 *
 * - **Rendering alone** (always): the render harness (client/app/render-harness.ts) builds the board in the page and
 *   hands it to the page's own drawing code (BoardView, its ink worker) as the service pages a snapshot (newest
 *   first, a 64 KiB first answer, then 1 MiB answers, each in a task of its own), with no network, no session and no
 *   board state: what drawing costs, from the first elements handed over.
 * - **Through the service** (CATCHUP_SERVICE=1, once the service speaks protocol version 2): the board written with
 *   `add` through one instance (bench/catchup-service.ts), then the real page joins it as a late joiner; times from
 *   the `join` it sent, as v1's figures were.
 *
 * Boards (bench/boards.ts): N freehand lines of S samples (v1's scribbles, so the figures compare with v1's), and N
 * elements of mixed kinds. Views: the whole board fitted to the page (v1's view: every line in view, 3.8 pixels
 * wide, so outlined), the whole board at 50% (lines 1.5 pixels wide, so polylines: v1's drawing) and 400% at its
 * centre (a tenth of the board in view: culling). Ink: "worker", the page as it is
 * (its ink painted in a worker on an OffscreenCanvas); "page thread", the ink painted on the page's own thread, as in
 * a browser without OffscreenCanvas; "not rasterized", that with the canvas's drawing calls made no-ops, everything
 * but rasterizing (the difference to "page thread" is the rasterizing itself).
 *
 * Options (environment): CATCHUP_ELEMENTS ("10000,100000"), CATCHUP_SAMPLES ("16"), CATCHUP_MIXED ("0,1"),
 * CATCHUP_VIEWS ("fit,50,400"), CATCHUP_RUNS (5), CATCHUP_VARIANTS_FROM (100000: boards this big are also measured on
 * the page thread and without rasterizing), CATCHUP_VIEWPORT ("1280x800", CSS pixels at devicePixelRatio 1),
 * CATCHUP_SERVICE (0), CATCHUP_WRITE (1: write bench/CATCHUP.md).
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import type { HarnessStats, HarnessView, RenderHarness } from "../client/app/render-harness-api";
import { launchBrowser } from "../local/browser";
import { startRenderHarness } from "../local/render-harness";
import { Topology } from "../local/topology";
import { toTuple, type ElementInput } from "../protocol/events";
import { boardElements, FIELD, type BoardSpec } from "./boards";
import { BENCH_SERVICE_ENV, pageCatchUp, writeBoard, type PageCatchUp } from "./catchup-service";

const numbers = (text: string) => text.split(",").filter(Boolean).map(Number);

export interface CatchUpOptions {
  boards: BoardSpec[];
  /** "fit", or a zoom in percent at the board's centre. */
  views: string[];
  runs: number;
  variantsFrom: number;
  viewport: { width: number; height: number };
  service: boolean;
}

export function catchUpOptionsFromEnv(): CatchUpOptions {
  const [width, height] = (process.env.CATCHUP_VIEWPORT ?? "1280x800").split("x").map(Number);
  const boards: BoardSpec[] = [];
  for (const mixed of numbers(process.env.CATCHUP_MIXED ?? "0,1"))
    for (const samples of numbers(process.env.CATCHUP_SAMPLES ?? "16"))
      for (const elements of numbers(process.env.CATCHUP_ELEMENTS ?? "10000,100000"))
        boards.push({ elements, samples, mixed: mixed === 1 });
  return {
    boards,
    views: (process.env.CATCHUP_VIEWS ?? "fit,50,400").split(",").filter(Boolean),
    runs: Number(process.env.CATCHUP_RUNS ?? 5),
    variantsFrom: Number(process.env.CATCHUP_VARIANTS_FROM ?? 100_000),
    viewport: { width: width ?? 1280, height: height ?? 800 },
    service: process.env.CATCHUP_SERVICE === "1",
  };
}

/** How the page paints: as it is, with its ink on the page's thread, or that without rasterizing. */
export type InkMode = "worker" | "pageThread" | "withoutRaster";
const MODE_NAMES: Record<InkMode, string> = {
  worker: "worker",
  pageThread: "page thread",
  withoutRaster: "**not rasterized**",
};
/** No OffscreenCanvas: the page paints its ink on its own thread (client/app/ink.ts falls back to it). */
const PAGE_THREAD = "delete HTMLCanvasElement.prototype.transferControlToOffscreen;";
/** The canvas's drawing calls made no-ops: paths are still built and text laid out, nothing is rasterized. */
const NO_RASTER = `for (const name of ["stroke", "fill", "fillRect", "strokeRect", "fillText", "clearRect"])
  CanvasRenderingContext2D.prototype[name] = function () {};`;

/** Milliseconds from the first elements handed to the view; medians of the runs. */
export interface RenderRun {
  view: string;
  mode: InkMode;
  firstPaintMs: number;
  /** Every answer handed over (the page's work of receiving the board). */
  handedOverMs: number;
  /** The whole board on screen, some freehand lines perhaps as polylines still waiting for their outline. */
  shownMs: number;
  /** Every outline in place: nothing left to draw. */
  fullyDrawnMs: number;
  /** CPU time of the page's renderer process (all its threads) from the first elements handed over to fully drawn. */
  rendererCpuMs: number;
}

export interface CatchUp {
  board: BoardSpec;
  /** Records' JSON, as the service sends them. */
  megabytes: number;
  rendering: RenderRun[];
  /** Through the service (CATCHUP_SERVICE=1), the view the page opens with. */
  service?: PageCatchUp;
  /** The machine's 1-minute load average before and after this board's runs. */
  load: [before: number, after: number];
}

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0);
const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;

/** A view as the harness takes it: fitted, or a zoom (percent) at the field's centre. */
export function harnessView(view: string, viewport: CatchUpOptions["viewport"]): HarnessView {
  if (view === "fit") return "fit";
  const scale = Number(view) / 100 / 16;
  return {
    scale,
    x: viewport.width / 2 - (FIELD.width / 2) * scale,
    y: viewport.height / 2 - (FIELD.height / 2) * scale,
  };
}

async function renderOnce(
  browser: Browser,
  url: string,
  options: CatchUpOptions,
  board: BoardSpec,
  view: string,
  mode: InkMode,
): Promise<Omit<RenderRun, "view" | "mode">> {
  const context = await browser.newContext({ viewport: options.viewport, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    if (mode !== "worker") await page.addInitScript({ content: PAGE_THREAD });
    if (mode === "withoutRaster") await page.addInitScript({ content: NO_RASTER });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const cpu = async () =>
      (await cdp.send("Performance.getMetrics")).metrics.find((metric) => metric.name === "ProcessTime")?.value ?? 0;
    await page.goto(url);
    // Functions, not strings: the page's Content-Security-Policy forbids evaluating strings.
    await page.waitForFunction(() => "renderHarness" in globalThis);
    await page.evaluate(
      (spec) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.prepare(spec),
      board,
    );
    const before = await cpu();
    await page.evaluate(
      ({ worker, chosen }) =>
        (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.catchUp({ worker, view: chosen }),
      { worker: mode === "worker", chosen: harnessView(view, options.viewport) },
    );
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.stats().fullyDrawnMs !== undefined,
      undefined,
      { timeout: 300_000, polling: 20 },
    );
    const after = await cpu();
    const stats: HarnessStats = await page.evaluate(() =>
      (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.stats(),
    );
    if (stats.elements !== board.elements) throw new Error(`the harness drew ${stats.elements} of ${board.elements}`);
    const from = stats.startedMs ?? Number.NaN;
    return {
      firstPaintMs: (stats.firstPaintMs ?? Number.NaN) - from,
      handedOverMs: (stats.caughtUpMs ?? Number.NaN) - from,
      shownMs: (stats.shownMs ?? Number.NaN) - from,
      fullyDrawnMs: (stats.fullyDrawnMs ?? Number.NaN) - from,
      rendererCpuMs: (after - before) * 1000,
    };
  } finally {
    await context.close();
  }
}

/** The bytes of an element's record as the service sends it (its tuple's JSON, and a comma). */
function recordBytes(input: ElementInput, seq: number): number {
  const [x, y, w, h] = input.b;
  const author = "u".repeat(22);
  const record = {
    s: seq,
    g: 0,
    o: 0 as const,
    v: 0,
    i: input.id,
    u: author,
    t: input.t,
    z: seq,
    x,
    y,
    w,
    h,
    c: input.c,
    sw: input.sw,
    f: input.f,
    n: 0,
    d: input.d,
    l: seq,
  };
  return JSON.stringify(toTuple(record)).length + 1;
}

const boardName = (board: BoardSpec) =>
  `${board.elements} ${board.mixed ? "elements of mixed kinds" : "freehand lines"} (${board.samples} samples a line)`;

export async function measureCatchUp(options: CatchUpOptions): Promise<CatchUp[]> {
  const harness = await startRenderHarness();
  const browser = await launchBrowser();
  const topology = options.service ? await Topology.start({ instances: 1, env: BENCH_SERVICE_ENV }) : undefined;
  const results: CatchUp[] = [];
  try {
    for (const board of options.boards) {
      const loadBefore = load1();
      const elements = boardElements(board);
      const bytes = elements.reduce((sum, input, index) => sum + recordBytes(input, index), 0);
      const rendering: RenderRun[] = [];
      for (const view of options.views) {
        const modes: InkMode[] =
          board.elements >= options.variantsFrom ? ["worker", "pageThread", "withoutRaster"] : ["worker"];
        for (const mode of modes) {
          const runs: Omit<RenderRun, "view" | "mode">[] = [];
          for (let run = 0; run < options.runs; run += 1)
            runs.push(await renderOnce(browser, harness.url, options, board, view, mode));
          const pick = (figure: (r: Omit<RenderRun, "view" | "mode">) => number) => median(runs.map(figure));
          const result: RenderRun = {
            view,
            mode,
            firstPaintMs: pick((r) => r.firstPaintMs),
            handedOverMs: pick((r) => r.handedOverMs),
            shownMs: pick((r) => r.shownMs),
            fullyDrawnMs: pick((r) => r.fullyDrawnMs),
            rendererCpuMs: pick((r) => r.rendererCpuMs),
          };
          log(
            `catch-up: ${boardName(board)}, view ${view}, ${MODE_NAMES[mode].replace(/\*/g, "")}: first paint ${result.firstPaintMs} ms, ` +
              `handed over ${result.handedOverMs} ms, all shown ${result.shownMs} ms, fully drawn ${result.fullyDrawnMs} ms, renderer CPU ${result.rendererCpuMs} ms`,
          );
          rendering.push(result);
        }
      }
      let service: PageCatchUp | undefined;
      if (topology) {
        const url = topology.instance(0).url;
        log(`catch-up: writing ${boardName(board)} through the service`);
        const id = await writeBoard(url, elements);
        const runs: PageCatchUp[] = [];
        for (let run = 0; run < options.runs; run += 1)
          runs.push(await pageCatchUp(browser, options.viewport, url, id, board.elements));
        const pick = (figure: (r: PageCatchUp) => number) => median(runs.map(figure));
        service = {
          joinMs: pick((r) => r.joinMs),
          firstPaintMs: pick((r) => r.firstPaintMs - r.joinMs),
          caughtUpMs: pick((r) => r.caughtUpMs - r.joinMs),
          fullyDrawnMs: pick((r) => r.fullyDrawnMs - r.joinMs),
          rendererCpuMs: pick((r) => r.rendererCpuMs),
        };
      }
      results.push({
        board,
        megabytes: Math.round(bytes / 1e5) / 10,
        rendering,
        ...(service ? { service } : {}),
        load: [loadBefore, load1()],
      });
    }
  } finally {
    await browser.close();
    await harness.close();
    await topology?.stop();
  }
  return results;
}

/** The tables of bench/CATCHUP.md (also what `make bench-catchup` prints, and RESULTS.md's catch-up section). */
export function catchUpTables(results: readonly CatchUp[], options: CatchUpOptions): string {
  const rendering = results.flatMap((c) =>
    c.rendering.map(
      (r) =>
        `| ${c.board.elements} | ${c.board.mixed ? "mixed" : "freehand"} | ${c.megabytes} | ${r.view === "fit" ? "whole board" : `${r.view}%`} | ${MODE_NAMES[r.mode]} | ${r.firstPaintMs} | ${r.handedOverMs} | ${r.shownMs} | ${r.fullyDrawnMs} | ${r.rendererCpuMs} | ${c.load[0]} → ${c.load[1]} |`,
    ),
  );
  const service = results.filter((c) => c.service);
  return `Rendering alone (the render harness: the page's drawing code in Chromium ${options.viewport.width}×${options.viewport.height} CSS
pixels at devicePixelRatio 1, software rasterization, \`--disable-gpu\`): ms from the first elements handed to the view
to the first frame that drew (first paint), every answer handed over, the frame after the one that put the last of the
board on screen (all shown) and the first frame after the last one that drew with nothing left to draw (fully
drawn: the same moment since the ink draws every outline at once, client/app/raster.ts; before, outlines replaced
polyline stand-ins after all was shown); a paint time is the start of the frame after the one that drew, by when the
canvas has rasterized it. No network, session or board state: add those (v1: about 300 ms for 100,000 lines in
Node.js) for a late joiner's figure. Renderer CPU: CPU time of the page's renderer process (all its threads) over the
same span, the browser's work whatever else the machine runs. A fresh page per run, median of ${options.runs}. Load: the
machine's 1-minute load average before and after the board's runs (2 cores).

v1 for comparison (README, through the service, from \`join\`, 1280×800, the whole board in view): 100,000 strokes of
16 points first painted in 117 ms and fully drawn in 2,388 ms (1,110 ms without rasterizing).

| elements | kinds | records MB | view | ink | first paint ms | handed over ms | all shown ms | fully drawn ms | renderer CPU ms | load |
|---|---|---|---|---|---|---|---|---|---|---|
${rendering.join("\n")}
${
  service.length === 0
    ? "\nThrough the service: not measured in this run (CATCHUP_SERVICE=1).\n"
    : `
Through the service: the board written with \`add\` through one instance, then the real page as a late joiner (its
opening view); ms from the \`join\` the page sent (join: from navigation start).

| elements | kinds | join sent ms | first paint ms | caught up ms | fully drawn ms | renderer CPU ms |
|---|---|---|---|---|---|---|
${service.map((c) => `| ${c.board.elements} | ${c.board.mixed ? "mixed" : "freehand"} | ${c.service?.joinMs} | ${c.service?.firstPaintMs} | ${c.service?.caughtUpMs} | ${c.service?.fullyDrawnMs} | ${c.service?.rendererCpuMs} |`).join("\n")}
`
}`;
}

if (require.main === module) {
  const options = catchUpOptionsFromEnv();
  measureCatchUp(options)
    .then(async (results) => {
      const tables = catchUpTables(results, options);
      console.log(`\n${tables}`);
      if (process.env.CATCHUP_WRITE === "0") return;
      const file = path.join(__dirname, "CATCHUP.md");
      const header = `# Catch-up: a large board drawn by a late joiner\n\nMade by \`make bench-catchup\` (bench/catchup.ts) on ${new Date().toISOString().slice(0, 10)}.\n\n`;
      await writeFile(file, `${header}${tables}`);
      log(`catch-up: written to ${file}`);
    })
    .catch((error: Error) => {
      console.error(error.stack);
      process.exit(1);
    });
}
