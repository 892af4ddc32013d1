/**
 * A page that draws boards straight into the drawing code (BoardView, its ink worker, the exports), without the
 * session or the service: the catch-up benchmark measures rendering alone with it (bench/catchup.ts), and the
 * browser tests draw every element kind with it (test/browser/render.test.ts). Served by local/render-harness.ts;
 * never part of the shipped page.
 *
 * A catch-up is handed over as the service pages a snapshot: newest elements first, a first answer of at most
 * 64 KiB of records, then answers of 1 MiB, each in a task of its own.
 */
import { toRecord, toTuple, type ElementInput, type ElementRecord } from "../../protocol/events";
import { asRecords, boardElements, type BoardSpec } from "../../bench/boards";
import { BoardView, type Placement } from "./board-view";
import type { HarnessStats, HarnessView, RenderHarness } from "./render-harness-api";
import { boardPng, boardSvgText, measureOnPage } from "./export";
import { contentBounds, type InkElement } from "./shapes";

const FIRST_ANSWER_BYTES = 65_536;
const ANSWER_BYTES = 1_048_576;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the harness page`);
  return found as T;
}

/** Newest first, cut as the service cuts a snapshot into answers (by the records' JSON bytes). */
function answers(records: readonly ElementRecord[]): ElementRecord[][] {
  const pages: ElementRecord[][] = [];
  let page: ElementRecord[] = [];
  let bytes = 0;
  for (let index = records.length - 1; index >= 0; index -= 1) {
    const record = records[index] as ElementRecord;
    const size = JSON.stringify(toTuple(record)).length;
    const limit = pages.length === 0 ? FIRST_ANSWER_BYTES : ANSWER_BYTES;
    if (page.length > 0 && bytes + size > limit) {
      pages.push(page);
      [page, bytes] = [[], 0];
    }
    page.push(record);
    bytes += size;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

/** An image (a data: URL) on a canvas, to read its pixels. */
async function imageOf(url: string): Promise<OffscreenCanvasRenderingContext2D> {
  const image = new Image();
  image.src = url;
  await image.decode();
  const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2D canvas");
  ctx.drawImage(image, 0, 0);
  return ctx;
}

async function pixelsOf(url: string): Promise<Uint8ClampedArray> {
  const ctx = await imageOf(url);
  return ctx.getImageData(0, 0, ctx.canvas.width, ctx.canvas.height).data;
}

let view: BoardView | undefined;
let records: ElementRecord[] = [];
/** The board cut as the service would answer it (made before a catch-up, not part of its measured work). */
let pages: ElementRecord[][] | undefined;
const stats: HarnessStats = { elements: 0 };

function placementFor(wanted: HarnessView, elements: readonly InkElement[]): Placement {
  if (wanted !== "fit") return wanted;
  const stage = element("stage");
  const bounds = contentBounds(elements, measureOnPage()) ?? { minX: 0, minY: 0, maxX: 1, maxY: 1 };
  const [width, height] = [bounds.maxX - bounds.minX, bounds.maxY - bounds.minY];
  const scale = Math.min(stage.clientWidth / width, stage.clientHeight / height);
  return {
    scale,
    x: (stage.clientWidth - width * scale) / 2 - bounds.minX * scale,
    y: (stage.clientHeight - height * scale) / 2 - bounds.minY * scale,
  };
}

/** The view, its ink ready: a row query answers only once the ink (in its worker) holds the canvas. */
async function ready(worker: boolean): Promise<BoardView> {
  view ??= new BoardView(
    { stage: element("stage"), ink: element("ink"), overlay: element("overlay") },
    { elements: () => records, pending: () => [] },
    worker ? "/ink.js" : undefined,
  );
  await view.inkOnRow(0);
  return view;
}

const harness: RenderHarness = {
  /** Makes a benchmark board (bench/boards.ts), not yet drawn; returns its size. */
  prepare(spec: BoardSpec): number {
    records = asRecords(boardElements(spec));
    pages = answers(records);
    return records.length;
  },
  /** Sets the board to these elements (tuples as the protocol sends them), not yet drawn. */
  load(inputs: ElementInput[]): number {
    records = asRecords(inputs);
    pages = answers(records);
    return records.length;
  },
  /** Draws the prepared board as a late joiner's catch-up; `stats()` tells when it reached the screen. */
  async catchUp(options: { worker: boolean; view: HarnessView }): Promise<void> {
    // As on the page, the view and its ink worker exist before the board arrives.
    const board = await ready(options.worker);
    board.place(placementFor(options.view, records));
    const answered = (pages ??= answers(records));
    stats.elements = records.length;
    stats.startedMs = performance.now();
    const feed = (index: number) => {
      const page = answered[index];
      if (!page) return board.boardComplete();
      board.put(page.map((record) => toRecord(toTuple(record))));
      setTimeout(() => feed(index + 1), 0);
    };
    feed(0);
  },
  /** Places the view again (everything is drawn again); resolves once drawn. */
  async place(wanted: HarnessView): Promise<void> {
    const board = await ready(true);
    board.place(placementFor(wanted, records));
    await board.drawn();
  },
  /** Draws every element again, as after a new epoch's snapshot; resolves once drawn. */
  async redraw(): Promise<void> {
    const board = await ready(true);
    board.redraw();
    await board.drawn();
  },
  /** How many pixels of two images (data: URLs of one size) differ by more than `tolerance` in a channel. */
  async differing(a: string, b: string, tolerance: number): Promise<number> {
    const [first, second] = await Promise.all([pixelsOf(a), pixelsOf(b)]);
    let count = 0;
    for (let index = 0; index < first.length; index += 4) {
      for (let channel = 0; channel < 3; channel += 1) {
        if (Math.abs((first[index + channel] ?? 0) - (second[index + channel] ?? 0)) > tolerance) {
          count += 1;
          break;
        }
      }
    }
    return count;
  },
  stats(): HarnessStats {
    return { ...stats, ...view?.paintTimes };
  },
  /** Elements added or changed as the session would report them (each replaces the record with its id). */
  put(changed: ElementRecord[]): void {
    const byId = new Map(records.map((record) => [record.i, record]));
    for (const record of changed) byId.set(record.i, record);
    records = [...byId.values()];
    pages = undefined;
    view?.put(changed);
  },
  remove(ids: string[]): void {
    const gone = new Set(ids);
    records = records.filter((record) => !gone.has(record.i));
    pages = undefined;
    view?.remove(ids);
  },
  inkOnRow: (y: number): Promise<boolean> => view?.inkOnRow(y) ?? Promise.resolve(false),
  /**
   * The PNG export, decoded: its size in pixels and the colour (RGBA) of the pixel at each board point asked
   * (undefined outside the image).
   */
  async png(points: [x: number, y: number][]): Promise<{ width: number; height: number; colors: number[][] }> {
    const png = await boardPng(records);
    const bitmap = await createImageBitmap(png.blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    ctx.drawImage(bitmap, 0, 0);
    const colors = points.map(([x, y]) => {
      const [px, py] = [Math.floor((x - png.area.minX) * png.scale), Math.floor((y - png.area.minY) * png.scale)];
      if (px < 0 || py < 0 || px >= bitmap.width || py >= bitmap.height) return [];
      return Array.from(ctx.getImageData(px, py, 1, 1).data);
    });
    return { width: bitmap.width, height: bitmap.height, colors };
  },
  svg: (): string => boardSvgText(records),
  async colorsIn(url: string, points: [x: number, y: number][]): Promise<number[][]> {
    const image = await imageOf(url);
    return points.map(([x, y]) => Array.from(image.getImageData(Math.floor(x), Math.floor(y), 1, 1).data));
  },
};

Object.assign(window, { renderHarness: harness });
