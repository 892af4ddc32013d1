/**
 * Downloads of the whole board as everyone sees it (the visible strokes on white), made in the page: a PNG at
 * full resolution and an SVG with one path per stroke.
 */
import type { StrokeRecord } from "../../protocol/events";
import { BOARD_HEIGHT, BOARD_WIDTH } from "../../protocol/events";
import { boardSvg } from "../core/svg-export";
import { drawStrokes } from "./render";

/** The PNG's size: 5 board units per pixel, sharp on a 4K screen. */
const PNG_WIDTH = 3_200;
const PNG_HEIGHT = (PNG_WIDTH * BOARD_HEIGHT) / BOARD_WIDTH;

export async function downloadPng(strokes: readonly StrokeRecord[], name: string): Promise<void> {
  const canvas = document.createElement("canvas");
  canvas.width = PNG_WIDTH;
  canvas.height = PNG_HEIGHT;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, PNG_WIDTH, PNG_HEIGHT);
  const scale = PNG_WIDTH / BOARD_WIDTH;
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  drawStrokes(ctx, strokes, { pixel: 1 / scale });
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("the browser could not encode the PNG");
  download(blob, `${name}.png`);
}

export function downloadSvg(strokes: readonly StrokeRecord[], name: string): void {
  download(new Blob([boardSvg(strokes)], { type: "image/svg+xml" }), `${name}.svg`);
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
