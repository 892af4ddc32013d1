/**
 * Downloads of the whole board as everyone sees it (the visible elements on white, cropped to the content with a
 * margin), made in the page: a PNG drawn by the ink's renderer (./render.ts) and an SVG of one object per element
 * (./svg-export.ts), both from the same geometry, so they look alike and like the screen.
 */
import { UNITS_PER_PIXEL } from "../../protocol/events";
import { canvasMeasure, drawOnWhite } from "./render";
import { byStacking, type InkElement, type Rect, type TextMeasure } from "./shapes";
import { boardSvg, exportArea } from "./svg-export";

/** PNG pixels per CSS pixel of the board at 100%: sharp on a high-density screen. */
const PNG_DENSITY = 2;
/** The PNG's longer side at most, pixels (a larger board is scaled down to fit: 64 MB of pixels at most). */
const PNG_MAX_SIDE = 4_096;

let pageMeasure: TextMeasure | undefined;
/** Text is measured on one canvas of the page, for the PNG and the SVG alike. */
export function measureOnPage(): TextMeasure {
  if (!pageMeasure) {
    const ctx = document.createElement("canvas").getContext("2d");
    if (!ctx) throw new Error("this browser has no 2D canvas");
    pageMeasure = canvasMeasure(ctx);
  }
  return pageMeasure;
}

export interface Png {
  blob: Blob;
  /** The part of the board it shows, board units. */
  area: Rect;
  /** Its pixels per board unit. */
  scale: number;
}

/** The board as a PNG. */
export async function boardPng(elements: Iterable<InkElement>): Promise<Png> {
  const measure = measureOnPage();
  const stacked = [...elements].sort(byStacking);
  const area = exportArea(stacked, measure);
  const [width, height] = [area.maxX - area.minX, area.maxY - area.minY];
  const scale = Math.min(PNG_DENSITY / UNITS_PER_PIXEL, PNG_MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  drawOnWhite(ctx, stacked, { scale, left: -area.minX * scale, top: -area.minY * scale, measure });
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("the browser could not encode the PNG");
  return { blob, area, scale };
}

export function boardSvgText(elements: Iterable<InkElement>): string {
  return boardSvg(elements, measureOnPage());
}

export async function downloadPng(elements: Iterable<InkElement>, name: string): Promise<void> {
  download((await boardPng(elements)).blob, `${name}.png`);
}

export function downloadSvg(elements: Iterable<InkElement>, name: string): void {
  download(new Blob([boardSvgText(elements)], { type: "image/svg+xml" }), `${name}.svg`);
}

function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  // The click starts the download at once; the URL is released once the browser has read it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
