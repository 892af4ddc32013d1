/**
 * Where a catch-up's time goes in the renderer (docs/rendering.md): one catch-up of a benchmark board through the
 * render harness (unminified, so functions keep their names) under Chromium's tracing with the V8 sampling profiler
 * on every thread. Prints, for the page's thread and the ink worker, busy time, JavaScript self time by function,
 * and the rest (rasterizing, garbage collection, message passing) by trace event.
 *
 * With PROFILE_SERVICE=1, the real page instead, as a late joiner of the board written through one service instance
 * (bench/catchup-service.ts), traced from navigation to fully drawn (`CLIENT_MINIFY=0 node client/build.mjs` first, for names).
 *
 * Options (environment): PROFILE_ELEMENTS (100000), PROFILE_SAMPLES (16), PROFILE_MIXED (0), PROFILE_VIEW ("fit" or
 * a zoom in percent), PROFILE_WORKER (1: the ink in its worker; 0: on the page's thread), PROFILE_TOP (25 functions),
 * PROFILE_TRACE (a path: the raw trace is also written there), PROFILE_SERVICE (0).
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import type { HarnessStats, RenderHarness } from "../client/app/render-harness-api";
import { launchBrowser } from "../local/browser";
import { startRenderHarness } from "../local/render-harness";
import { Topology } from "../local/topology";
import { harnessView } from "./catchup";
import { boardElements, type BoardSpec } from "./boards";
import { BENCH_SERVICE_ENV, writeBoard } from "./catchup-service";

const CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8",
  "v8.execute",
  "blink",
  "cc",
  "toplevel",
  "disabled-by-default-v8.cpu_profiler",
];

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  id?: string;
  args?: {
    name?: string;
    data?: {
      cpuProfile?: {
        nodes?: {
          id: number;
          parent?: number;
          callFrame: { functionName: string; url?: string; lineNumber?: number };
        }[];
        samples?: number[];
      };
      timeDeltas?: number[];
    };
  };
}

interface ThreadProfile {
  name: string;
  /** Top-level tasks' wall time and thread (CPU) time, ms. */
  busyMs: number;
  cpuMs: number;
  /** Self time by function ("(program)": native work outside JavaScript, such as rasterizing), ms. */
  self: Map<string, number>;
  /** Trace events by name: wall time summed, ms (nested events counted in each of their ancestors). */
  events: Map<string, number>;
}

function analyse(events: TraceEvent[], from: number, to: number): ThreadProfile[] {
  const names = new Map<string, string>();
  for (const event of events)
    if (event.ph === "M" && event.name === "thread_name")
      names.set(`${event.pid}:${event.tid}`, event.args?.name ?? "");
  const threads = new Map<string, ThreadProfile>();
  const thread = (event: TraceEvent) => {
    const key = `${event.pid}:${event.tid}`;
    let found = threads.get(key);
    if (!found) {
      found = { name: names.get(key) ?? key, busyMs: 0, cpuMs: 0, self: new Map(), events: new Map() };
      threads.set(key, found);
    }
    return found;
  };
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  // The sampling profiler: nodes and samples arrive in chunks per profile id (one profile per thread).
  const profiles = new Map<
    string,
    { thread: ThreadProfile; nodes: Map<number, string>; time: number; lastNode?: number }
  >();
  for (const event of events) {
    if (event.name === "Profile") {
      profiles.set(`${event.pid}:${event.id}`, { thread: thread(event), nodes: new Map(), time: event.ts });
      continue;
    }
    if (event.name !== "ProfileChunk") continue;
    const profile = profiles.get(`${event.pid}:${event.id}`);
    const data = event.args?.data;
    if (!profile || !data) continue;
    for (const node of data.cpuProfile?.nodes ?? []) {
      const { functionName, url, lineNumber } = node.callFrame;
      const file = url?.split("/").pop() ?? "";
      profile.nodes.set(
        node.id,
        functionName.startsWith("(")
          ? functionName
          : file
            ? `${functionName || "(anonymous)"} ${file}:${(lineNumber ?? 0) + 1}`
            : `${functionName} (native)`,
      );
    }
    const samples = data.cpuProfile?.samples ?? [];
    const deltas = data.timeDeltas ?? [];
    samples.forEach((node, index) => {
      const previous = profile.time;
      profile.time += deltas[index] ?? 0;
      // A sample's node ran from the previous sample's time to this one's.
      if (profile.lastNode !== undefined && previous >= from && profile.time <= to)
        add(profile.thread.self, profile.nodes.get(profile.lastNode) ?? "?", (profile.time - previous) / 1000);
      profile.lastNode = node;
    });
  }
  for (const event of events) {
    if (event.ph !== "X" || event.ts < from || event.ts > to) continue;
    const profile = thread(event);
    add(profile.events, event.name, (event.dur ?? 0) / 1000);
    if (event.name === "ThreadControllerImpl::RunTask" || event.name === "RunTask") {
      profile.busyMs += (event.dur ?? 0) / 1000;
      profile.cpuMs += (event.tdur ?? 0) / 1000;
    }
  }
  return [...threads.values()].filter((profile) => profile.busyMs > 0 || profile.self.size > 0);
}

const top = (map: Map<string, number>, count: number) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);

async function main(): Promise<void> {
  const board: BoardSpec = {
    elements: Number(process.env.PROFILE_ELEMENTS ?? 100_000),
    samples: Number(process.env.PROFILE_SAMPLES ?? 16),
    mixed: process.env.PROFILE_MIXED === "1",
  };
  const view = process.env.PROFILE_VIEW ?? "fit";
  const worker = process.env.PROFILE_WORKER !== "0";
  const count = Number(process.env.PROFILE_TOP ?? 25);
  const viewport = { width: 1280, height: 800 };
  const harness = await startRenderHarness({ minify: false });
  const browser = await launchBrowser();
  const topology =
    process.env.PROFILE_SERVICE === "1" ? await Topology.start({ instances: 1, env: BENCH_SERVICE_ENV }) : undefined;
  try {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    if (!worker)
      await page.addInitScript({ content: "delete HTMLCanvasElement.prototype.transferControlToOffscreen;" });
    let stats: HarnessStats;
    let load: number;
    if (topology) {
      const url = topology.instance(0).url;
      const id = await writeBoard(url, boardElements(board));
      load = loadavg()[0] ?? 0;
      await browser.startTracing(page, { categories: CATEGORIES });
      await page.goto(`${url}/b/${id}`);
      const done = () =>
        (globalThis as unknown as { whiteboard?: { stats(): HarnessStats } }).whiteboard?.stats().fullyDrawnMs !==
        undefined;
      await page.waitForFunction(done, undefined, { timeout: 600_000, polling: 50 });
      stats = await page.evaluate(() => {
        const shown = (globalThis as unknown as { whiteboard: { stats(): HarnessStats } }).whiteboard.stats();
        return { ...shown, startedMs: 0 };
      });
    } else {
      await page.goto(harness.url);
      await page.waitForFunction(() => "renderHarness" in globalThis);
      await page.evaluate(
        (spec) => (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.prepare(spec),
        board,
      );
      load = loadavg()[0] ?? 0;
      await browser.startTracing(page, { categories: CATEGORIES });
      await page.evaluate(
        ({ inWorker, chosen }) =>
          (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.catchUp({
            worker: inWorker,
            view: chosen,
          }),
        { inWorker: worker, chosen: harnessView(view, viewport) },
      );
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.stats().fullyDrawnMs !== undefined,
        undefined,
        { timeout: 600_000, polling: 50 },
      );
      stats = await page.evaluate(() =>
        (globalThis as unknown as { renderHarness: RenderHarness }).renderHarness.stats(),
      );
    }
    const buffer = await browser.stopTracing();
    if (process.env.PROFILE_TRACE) await writeFile(process.env.PROFILE_TRACE, buffer);
    const { traceEvents } = JSON.parse(buffer.toString()) as { traceEvents: TraceEvent[] };
    const from = Math.min(...traceEvents.filter((event) => event.ts > 0).map((event) => event.ts));
    const threads = analyse(traceEvents, from, Infinity);
    const started = stats.startedMs ?? 0;
    console.log(
      `${board.elements} ${board.mixed ? "mixed" : "freehand"} × ${board.samples}, ${topology ? "the page through the service (from navigation)" : `view ${view}`}, ink ${worker ? "in a worker" : "on the page's thread"}, load ${load.toFixed(1)}: ` +
        `first paint ${Math.round((stats.firstPaintMs ?? 0) - started)} ms, handed over ${Math.round((stats.caughtUpMs ?? 0) - started)} ms, ` +
        `shown ${Math.round((stats.shownMs ?? 0) - started)} ms, fully drawn ${Math.round((stats.fullyDrawnMs ?? 0) - started)} ms`,
    );
    for (const profile of threads.sort((a, b) => b.cpuMs - a.cpuMs)) {
      if (profile.cpuMs < 20) continue;
      console.log(
        `\n## ${profile.name}: tasks ${Math.round(profile.busyMs)} ms wall, ${Math.round(profile.cpuMs)} ms CPU`,
      );
      const jsTotal = [...profile.self.values()].reduce((a, b) => a + b, 0);
      console.log(`JavaScript profiler samples: ${Math.round(jsTotal)} ms (idle excluded below)`);
      for (const [name, ms] of top(profile.self, count)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
      console.log("trace events (wall, nested included):");
      for (const [name, ms] of top(profile.events, count)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
    }
  } finally {
    await browser.close();
    await harness.close();
    await topology?.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
