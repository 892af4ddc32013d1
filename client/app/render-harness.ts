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
import { boardElements, type BoardSpec } from "../../bench/boards";
import { BoardView, type PaintTimes, type Placement } from "./board-view";
import { boardPng, boardSvgText, measureOnPage } from "./export";
import { contentBounds, type InkElement } from "./shapes";

const FIRST_ANSWER_BYTES = 65_536;
const ANSWER_BYTES = 1_048_576;

/** The view a run draws: the whole content fitted to the stage, or a given placement. */
export type HarnessView = "fit" | Placement;

export interface HarnessStats extends PaintTimes {
  /** When the first elements were handed to the view (ms since navigation start). */
  startedMs?: number;
  /** How many elements were handed over. */
  elements: number;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the harness page`);
  return found as T;
}

/** Records as the store would hold them: created in this order (seq = z = position + 1). */
function asRecords(inputs: readonly ElementInput[]): ElementRecord[] {
  return inputs.map((input, index) => ({
    s: index + 1,
    g: 0,
    o: 0,
    v: 0,
    i: input.id,
    u: "harness",
    t: input.t,
    z: index + 1,
    x: input.b[0],
    y: input.b[1],
    w: input.b[2],
    h: input.b[3],
    c: input.c,
    sw: input.sw,
    f: input.f,
    n: 0,
    d: input.d,
  }));
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

let view: BoardView | undefined;
let records: ElementRecord[] = [];
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

function start(worker: boolean): BoardView {
  view ??= new BoardView(
    { stage: element("stage"), ink: element("ink"), overlay: element("overlay") },
    { elements: () => records, pending: () => [] },
    worker ? "/ink.js" : undefined,
  );
  return view;
}

const harness = {
  /** Makes a benchmark board (bench/boards.ts), not yet drawn; returns its size. */
  prepare(spec: BoardSpec): number {
    records = asRecords(boardElements(spec));
    return records.length;
  },
  /** Sets the board to these elements (tuples as the protocol sends them), not yet drawn. */
  load(inputs: ElementInput[]): number {
    records = asRecords(inputs);
    return records.length;
  },
  /** Draws the prepared board as a late joiner's catch-up; `stats()` tells when it reached the screen. */
  catchUp(options: { worker: boolean; view: HarnessView }): void {
    const board = start(options.worker);
    board.place(placementFor(options.view, records));
    const pages = answers(records);
    stats.elements = records.length;
    stats.startedMs = performance.now();
    const feed = (index: number) => {
      const page = pages[index];
      if (!page) return board.boardComplete();
      board.put(page.map((record) => toRecord(toTuple(record))));
      setTimeout(() => feed(index + 1), 0);
    };
    feed(0);
  },
  stats(): HarnessStats {
    return { ...stats, ...view?.paintTimes };
  },
  /** Elements added or changed as the session would report them (each replaces the record with its id). */
  put(changed: ElementRecord[]): void {
    const byId = new Map(records.map((record) => [record.i, record]));
    for (const record of changed) byId.set(record.i, record);
    records = [...byId.values()];
    view?.put(changed);
  },
  remove(ids: string[]): void {
    const gone = new Set(ids);
    records = records.filter((record) => !gone.has(record.i));
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
  /** The colours (RGBA) at points of an image given as a data: URL (a screenshot of this page), CSS pixels. */
  async colorsIn(url: string, points: [x: number, y: number][]): Promise<number[][]> {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    ctx.drawImage(image, 0, 0);
    return points.map(([x, y]) => Array.from(ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data));
  },
};

Object.assign(window, { renderHarness: harness });
export type RenderHarness = typeof harness;
