/**
 * `make bench-catchup` (and the catch-up section of `make bench`): how long a late joiner takes to have a large
 * board, in Node.js (the client's own session: read and applied) and in Chromium (the browser client: read,
 * applied and drawn on the canvas). Prints a table; `make bench` writes the same figures into bench/RESULTS.md.
 *
 * The boards are written straight into the store (the same Lua script the service runs), then read through one
 * service instance over the Memorystore stand-in (TLS, AUTH), as a late joiner reads them. Their strokes are
 * scribbles: each starts at a random place on the board and moves by -20..20 units on each axis per point (at the
 * whole-board view a unit is 0.08 CSS pixel, a step about a pixel), in lines of 5 chunks, two colours alternating
 * by line, 3 CSS pixels wide: what random handwriting at the whole-board view looks like, and the costliest kind
 * of stroke to rasterize for its size (few points are close enough to leave out).
 *
 * Options (environment): CATCHUP_STROKES ("10000,100000"), CATCHUP_POINTS ("3,16"), CATCHUP_RUNS (5 in Node, the
 * same in Chromium), CATCHUP_CHROMIUM (1; 0 for Node only), CATCHUP_VARIANTS_FROM (100000: boards this big are also
 * measured with the ink on the page thread and without rasterizing), CATCHUP_VIEWPORT ("1280x800", CSS pixels at
 * devicePixelRatio 1).
 */
import pino from "pino";
import { launchBrowser } from "../local/browser";
import { READER } from "../local/read-board";
import { Topology } from "../local/topology";
import type { StrokeInput } from "../protocol/events";
import { encodePoints } from "../protocol/points";
import { WhiteboardSession } from "../client/core/session";
import { createRedisConnections } from "../service/redis";
import { strokeBody } from "../service/store/board-store";
import { RedisBoardStore } from "../service/store/redis-board-store";

const numbers = (text: string) => text.split(",").filter(Boolean).map(Number);

export interface CatchUpOptions {
  sizes: readonly number[];
  points: readonly number[];
  runs: number;
  chromium: boolean;
  viewport: { width: number; height: number };
}

/** Milliseconds; medians of the runs. */
export interface NodeCatchUp {
  /** Session created (connection opened, join sent) to the first snapshot page applied: the most recent strokes. */
  firstPageMs: number;
  /** Session created to caught up: every page read and applied, the operations since read, the session `connected`. */
  caughtUpMs: number;
}

/**
 * Milliseconds; medians of the runs. The page's own clock (performance.now(), from navigation start); `join`
 * is when the page sent `join` on its WebSocket (after loading the page and its script and opening the socket).
 */
export interface BrowserCatchUp {
  /** Navigation start to the `join` sent. */
  joinMs: number;
  /** Navigation start to the first frame that drew strokes (window.whiteboard.stats().firstPaintMs). */
  firstPaintMs: number;
  /** Navigation start to the whole board read and applied (stats().caughtUpMs). */
  caughtUpMs: number;
  /** Navigation start to the first frame after that which left nothing to draw (stats().fullyDrawnMs). */
  fullyDrawnMs: number;
  /** The same three from the `join` sent: the catch-up itself. */
  fromJoin: { firstPaintMs: number; caughtUpMs: number; fullyDrawnMs: number };
  /**
   * CPU time of the page's renderer process (every thread: the page's, the ink worker's, the canvas's), from its
   * start to fully drawn: the browser's work, whatever else the machine runs.
   */
  rendererCpuMs: number;
}

export interface CatchUp {
  strokes: number;
  points: number;
  /** Stroke records' JSON, as sent. */
  megabytes: number;
  pages: number;
  node: NodeCatchUp;
  /** The page as it is: the ink painted in a worker (client/app/ink.ts). */
  chromium?: BrowserCatchUp;
  /**
   * Boards of 100,000 strokes and more, also: `pageThread`, the ink painted on the page's own thread (as in a
   * browser without OffscreenCanvas); `withoutRaster`, the same with the canvas's stroke() a no-op, everything the
   * page does but rasterize (the difference to `pageThread` is the rasterizing itself).
   */
  pageThread?: BrowserCatchUp;
  withoutRaster?: BrowserCatchUp;
}

/** How the page is run: as it is, with its ink on the page's thread, or that without rasterizing. */
type PageMode = "worker" | "pageThread" | "withoutRaster";

export function catchUpOptionsFromEnv(): CatchUpOptions {
  const [width, height] = (process.env.CATCHUP_VIEWPORT ?? "1280x800").split("x").map(Number);
  return {
    sizes: numbers(process.env.CATCHUP_STROKES ?? "10000,100000"),
    points: numbers(process.env.CATCHUP_POINTS ?? "3,16"),
    runs: Number(process.env.CATCHUP_RUNS ?? 5),
    chromium: process.env.CATCHUP_CHROMIUM !== "0",
    viewport: { width: width ?? 1280, height: height ?? 800 },
  };
}

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0);

/** A deterministic random sequence, so that every run and both systems get the same board. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
}

function scribble(next: () => number, points: number): [number, number][] {
  let [x, y] = [Math.floor(next() * 15_000) + 500, Math.floor(next() * 9_000) + 500];
  const list: [number, number][] = [];
  for (let index = 0; index < points; index += 1) {
    list.push([x, y]);
    x += Math.floor(next() * 41) - 20;
    y += Math.floor(next() * 41) - 20;
  }
  return list;
}

const COLORS = ["#202124", "#1a73e8"];
/** Boards at least this big are also measured with the ink on the page's thread, and without rasterizing. */
const VARIANTS_FROM = Number(process.env.CATCHUP_VARIANTS_FROM ?? 100_000);
/** No OffscreenCanvas: the page paints its ink on its own thread (client/app/ink.ts falls back to it). */
const PAGE_THREAD = "delete HTMLCanvasElement.prototype.transferControlToOffscreen;";
/** The canvas's stroke() a no-op: paths are still built, nothing is rasterized. */
const NO_RASTER = "CanvasRenderingContext2D.prototype.stroke = function () {};";

/** Records the page's WebSocket: when it was made and when `join` went out on it (before any page script runs). */
const SOCKET_PROBE = `(() => {
  const Native = window.WebSocket;
  const times = (window.__socketTimes = {});
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); times.created ??= performance.now(); }
    send(data) {
      if (typeof data === "string" && data.includes('"join"')) times.join ??= performance.now();
      return super.send(data);
    }
  };
})();`;

export async function measureCatchUp(options: CatchUpOptions): Promise<CatchUp[]> {
  const MIB = 2 ** 20;
  const topology = await Topology.start({
    instances: 1,
    env: { LOG_LEVEL: "warn", MAX_STROKES_PER_BOARD: "1000000", MAX_BOARD_BYTES: String(256 * MIB) },
  });
  const redis = createRedisConnections(topology.redis.clientConfig, pino({ level: "silent" }));
  await redis.connect();
  const store = new RedisBoardStore(redis.commands, {
    maxStrokes: 1_000_000,
    maxBytes: 256 * MIB,
    pageBytes: 16_384,
    logBytes: 262_144,
    readBytes: MIB,
    idleTtlSeconds: 3600,
    clearIntervalMs: 0,
    undoClearMs: 0,
  });
  const browser = options.chromium ? await launchBrowser() : undefined;
  const results: CatchUp[] = [];
  const url = topology.instance(0).url;
  try {
    for (const points of options.points) {
      for (const size of options.sizes) {
        const board = `catch-up-${size}-${points}`;
        log(`catch-up: filling a board with ${size} strokes of ${points} points`);
        const next = random(size + points);
        for (let start = 0; start < size; start += 500) {
          const strokes = Array.from({ length: Math.min(500, size - start) }, (_, i) => {
            const index = start + i;
            const line = Math.floor(index / 5);
            const stroke: StrokeInput = {
              id: `L${line}-${(index % 5) + 1}`,
              p: encodePoints(scribble(next, points)),
              c: COLORS[line % 2] as string,
              w: 3,
            };
            return { id: stroke.id, v: 0, body: strokeBody(stroke, READER.id) };
          });
          await store.addStrokes(board, READER.id, strokes);
        }
        const read = await store.read(board, {});
        let bytes = 0;
        let pages = 0;
        for (let cursor: number | undefined = 0; cursor !== undefined;) {
          const page = await store.read(board, cursor === 0 ? {} : { e: read.e, at: read.s, cursor });
          if (!("snapshot" in page)) break;
          bytes += page.snapshot.records.length;
          pages += 1;
          cursor = page.snapshot.next;
        }

        const nodeRuns: NodeCatchUp[] = [];
        for (let run = 0; run < options.runs; run += 1) nodeRuns.push(await nodeCatchUp(url, board, size));
        const node = {
          firstPageMs: median(nodeRuns.map((r) => r.firstPageMs)),
          caughtUpMs: median(nodeRuns.map((r) => r.caughtUpMs)),
        };
        log(
          `catch-up: ${size} strokes of ${points} points, Node: first page ${node.firstPageMs} ms, caught up ${node.caughtUpMs} ms`,
        );

        const chromium: Partial<Record<PageMode, BrowserCatchUp>> = {};
        if (browser) {
          const measure = async (mode: PageMode) => {
            const runs: BrowserCatchUp[] = [];
            for (let run = 0; run < options.runs; run += 1)
              runs.push(await browserCatchUp(browser, options.viewport, url, board, size, mode));
            const pick = (figure: (r: BrowserCatchUp) => number) => median(runs.map(figure));
            const figures: BrowserCatchUp = {
              joinMs: pick((r) => r.joinMs),
              firstPaintMs: pick((r) => r.firstPaintMs),
              caughtUpMs: pick((r) => r.caughtUpMs),
              fullyDrawnMs: pick((r) => r.fullyDrawnMs),
              fromJoin: {
                firstPaintMs: pick((r) => r.fromJoin.firstPaintMs),
                caughtUpMs: pick((r) => r.fromJoin.caughtUpMs),
                fullyDrawnMs: pick((r) => r.fromJoin.fullyDrawnMs),
              },
              rendererCpuMs: pick((r) => r.rendererCpuMs),
            };
            log(
              `catch-up: ${size} strokes of ${points} points, Chromium (${MODE_NAMES[mode].replace(/\*/g, "")}) from join: first paint ${figures.fromJoin.firstPaintMs} ms, ` +
                `caught up ${figures.fromJoin.caughtUpMs} ms, fully drawn ${figures.fromJoin.fullyDrawnMs} ms (join at ${figures.joinMs} ms)`,
            );
            return figures;
          };
          chromium.worker = await measure("worker");
          if (size >= VARIANTS_FROM) {
            chromium.pageThread = await measure("pageThread");
            chromium.withoutRaster = await measure("withoutRaster");
          }
        }
        results.push({
          strokes: size,
          points,
          megabytes: Math.round(bytes / 1e5) / 10,
          pages,
          node,
          ...(chromium.worker ? { chromium: chromium.worker } : {}),
          ...(chromium.pageThread ? { pageThread: chromium.pageThread } : {}),
          ...(chromium.withoutRaster ? { withoutRaster: chromium.withoutRaster } : {}),
        });
      }
    }
  } finally {
    await browser?.close();
    await redis.close();
    await topology.stop();
  }
  return results;
}

/** One late joiner in Node.js: the browser client's session, without the page. */
function nodeCatchUp(url: string, board: string, size: number): Promise<NodeCatchUp> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstPageMs: number | undefined;
    const timeout = setTimeout(() => reject(new Error(`no catch-up of ${board} within 60 s`)), 60_000);
    const session: WhiteboardSession = new WhiteboardSession(
      { url, board, user: { id: `reader-${Math.round(started)}`, name: "reader", color: "#000000" } },
      {
        onChange: (applied) => {
          if (firstPageMs === undefined && applied.added.length > 0) firstPageMs = performance.now() - started;
        },
        onState: (state) => {
          if (state !== "connected") return;
          const caughtUpMs = performance.now() - started;
          clearTimeout(timeout);
          const held = session.board.strokes().length;
          session.close();
          if (held !== size) reject(new Error(`caught up with ${held} strokes of ${size}`));
          else resolve({ firstPageMs: firstPageMs ?? caughtUpMs, caughtUpMs });
        },
      },
    );
  });
}

interface Stats {
  strokes?: number;
  firstPaintMs: number;
  caughtUpMs: number;
  fullyDrawnMs: number;
}

/** What the page exposes: window.whiteboard (client/app/main.ts) and the socket probe's times. */
interface PageHandle {
  whiteboard?: { stats(): Partial<Stats> };
  __socketTimes: { created?: number; join?: number };
}

const MODE_NAMES: Record<PageMode, string> = {
  worker: "worker",
  pageThread: "page thread",
  withoutRaster: "**not rasterized**",
};

async function browserCatchUp(
  browser: Awaited<ReturnType<typeof launchBrowser>>,
  viewport: CatchUpOptions["viewport"],
  url: string,
  board: string,
  size: number,
  mode: PageMode,
): Promise<BrowserCatchUp> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await page.addInitScript({ content: SOCKET_PROBE });
    if (mode !== "worker") await page.addInitScript({ content: PAGE_THREAD });
    if (mode === "withoutRaster") await page.addInitScript({ content: NO_RASTER });
    await page.goto(`${url}/b/${board}`);
    // Functions, not strings: the page's Content-Security-Policy forbids evaluating strings.
    await page.waitForFunction(
      () => (globalThis as unknown as PageHandle).whiteboard?.stats().fullyDrawnMs !== undefined,
      undefined,
      {
        timeout: 120_000,
        polling: 100,
      },
    );
    const { stats, join } = await page.evaluate(() => {
      const handle = globalThis as unknown as PageHandle;
      return { stats: handle.whiteboard?.stats() as Stats, join: handle.__socketTimes.join as number };
    });
    if (stats.strokes !== size) throw new Error(`the page shows ${stats.strokes} strokes of ${size}`);
    await cdp.send("Performance.enable");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const processSeconds = metrics.find((metric) => metric.name === "ProcessTime")?.value ?? Number.NaN;
    return {
      rendererCpuMs: Math.round(processSeconds * 1000),
      joinMs: join,
      firstPaintMs: stats.firstPaintMs,
      caughtUpMs: stats.caughtUpMs,
      fullyDrawnMs: stats.fullyDrawnMs,
      fromJoin: {
        firstPaintMs: stats.firstPaintMs - join,
        caughtUpMs: stats.caughtUpMs - join,
        fullyDrawnMs: stats.fullyDrawnMs - join,
      },
    };
  } finally {
    await context.close();
  }
}

/** The tables of RESULTS.md's catch-up section (also what `make bench-catchup` prints). */
export function catchUpTables(results: readonly CatchUp[], options: CatchUpOptions): string {
  const node = results.map(
    (c) =>
      `| ${c.strokes} | ${c.points} | ${c.megabytes} | ${c.pages} | ${c.node.firstPageMs} | ${c.node.caughtUpMs} |`,
  );
  const row = (c: CatchUp, b: BrowserCatchUp, mode: PageMode) =>
    `| ${c.strokes} | ${c.points} | ${MODE_NAMES[mode]} | ${b.joinMs} | ${b.fromJoin.firstPaintMs} | ${b.fromJoin.caughtUpMs} | ${b.fromJoin.fullyDrawnMs} | ${b.firstPaintMs} / ${b.caughtUpMs} / ${b.fullyDrawnMs} | ${b.rendererCpuMs} |`;
  const chromium = results.flatMap((c) => [
    ...(c.chromium ? [row(c, c.chromium, "worker")] : []),
    ...(c.pageThread ? [row(c, c.pageThread, "pageThread")] : []),
    ...(c.withoutRaster ? [row(c, c.withoutRaster, "withoutRaster")] : []),
  ]);
  return `Node.js (the browser client's own session, socket.io-client): ms from the session's creation (connection
opened, \`join\` sent) to the first snapshot page applied (the most recent strokes) and to caught up (every page
read and applied, the operations since read: the session reports \`connected\`); median of ${options.runs}.

| strokes | points each | records MB | snapshot pages | first page ms | caught up ms |
|---|---|---|---|---|---|
${node.join("\n")}
${
  chromium.length === 0
    ? ""
    : `
Chromium ${options.viewport.width}×${options.viewport.height} CSS pixels at devicePixelRatio 1, software rasterization
(\`--disable-gpu\`, local/browser.ts), the whole board in view; a fresh page per run, median of ${options.runs}. The page's
own clock: \`join\` is when the page sent \`join\` on its WebSocket (from navigation start: the page, its script and the
connection); from there, first paint (the first frame that drew strokes: the newest page's), caught up (the whole board
read and applied) and fully drawn (the first frame after that with nothing left to draw), from
\`window.whiteboard.stats()\` (a paint time is the start of the frame after the one that drew, by when the canvas
has rasterized it). The last column has the same three from navigation start. Ink: "worker", the page as it is (its
ink painted in a worker on an OffscreenCanvas); "page thread", the ink painted on the page's own thread, as in a browser
without OffscreenCanvas; "not rasterized", that with the canvas's \`stroke()\` made a no-op (paths are still built):
everything the page does but rasterize, what a browser whose canvas cost nothing would show, so the difference to
"page thread" is the rasterizing itself. Renderer CPU: CPU time of the page's renderer process (all its threads: the
page's, the ink worker's, the canvas's) from its start to fully drawn, the browser's work whatever else the machine runs.

| strokes | points each | ink | join sent ms | first paint ms | caught up ms | fully drawn ms | from navigation start ms | renderer CPU ms |
|---|---|---|---|---|---|---|---|---|
${chromium.join("\n")}
`
}`;
}

if (require.main === module) {
  const options = catchUpOptionsFromEnv();
  measureCatchUp(options)
    .then((results) => console.log(`\n${catchUpTables(results, options)}`))
    .catch((error: Error) => {
      console.error(error.stack);
      process.exit(1);
    });
}
