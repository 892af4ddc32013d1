/**
 * Pan and zoom: which part of the board a screen area shows, and the mapping between the two. At zoom 1 the
 * whole board fits the area, centred; at zoom z it is z times bigger and the view can move over it, never past
 * its edges. Screen positions are CSS pixels from the area's top-left corner; board positions are board units.
 */
import { BOARD_HEIGHT, BOARD_WIDTH } from "../../protocol/events";
import type { Rect } from "./stroke-geometry";

const MIN_ZOOM = 1;
export const MAX_ZOOM = 8;
/** Room around the board at zoom 1, CSS pixels, so its edge stays visible. */
const MARGIN = 8;

export class Viewport {
  private zoomLevel = MIN_ZOOM;
  /** The board point shown at the centre of the area. */
  private centerX = BOARD_WIDTH / 2;
  private centerY = BOARD_HEIGHT / 2;
  private width = 1;
  private height = 1;

  get zoom(): number {
    return this.zoomLevel;
  }

  /** CSS pixels per board unit. */
  get scale(): number {
    const fit = Math.min((this.width - 2 * MARGIN) / BOARD_WIDTH, (this.height - 2 * MARGIN) / BOARD_HEIGHT);
    return Math.max(fit, 1e-4) * this.zoomLevel;
  }

  /** The size of the screen area, CSS pixels. */
  resize(width: number, height: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.clamp();
  }

  get size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  /** The board point under a screen position, in whole units, kept on the board. */
  toBoard(screenX: number, screenY: number): [x: number, y: number] {
    const [x, y] = this.toBoardExact(screenX, screenY);
    return [Math.round(Math.min(BOARD_WIDTH, Math.max(0, x))), Math.round(Math.min(BOARD_HEIGHT, Math.max(0, y)))];
  }

  /** Where a board point appears on screen. */
  toScreen(boardX: number, boardY: number): [x: number, y: number] {
    const { scale } = this;
    return [this.width / 2 + (boardX - this.centerX) * scale, this.height / 2 + (boardY - this.centerY) * scale];
  }

  /** The board's rectangle on screen (it may extend past the area when zoomed in). */
  boardOnScreen(): { left: number; top: number; width: number; height: number } {
    const [left, top] = this.toScreen(0, 0);
    return { left, top, width: BOARD_WIDTH * this.scale, height: BOARD_HEIGHT * this.scale };
  }

  /** The part of the board the area shows. */
  visible(): Rect {
    const [minX, minY] = this.toBoardExact(0, 0);
    const [maxX, maxY] = this.toBoardExact(this.width, this.height);
    return { minX, minY, maxX, maxY };
  }

  /** Zooms by `factor`, keeping the board point under the screen position where it is (a pinch, a wheel). */
  zoomAt(screenX: number, screenY: number, factor: number): void {
    const [boardX, boardY] = this.toBoardExact(screenX, screenY);
    this.zoomLevel = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoomLevel * factor));
    const { scale } = this;
    this.centerX = boardX - (screenX - this.width / 2) / scale;
    this.centerY = boardY - (screenY - this.height / 2) / scale;
    this.clamp();
  }

  /** Moves the view so that the drawing moves by (dx, dy) CSS pixels on screen. */
  panBy(dx: number, dy: number): void {
    this.centerX -= dx / this.scale;
    this.centerY -= dy / this.scale;
    this.clamp();
  }

  /** The whole board, fitted. */
  reset(): void {
    this.zoomLevel = MIN_ZOOM;
    this.centerX = BOARD_WIDTH / 2;
    this.centerY = BOARD_HEIGHT / 2;
  }

  private toBoardExact(screenX: number, screenY: number): [x: number, y: number] {
    const { scale } = this;
    return [this.centerX + (screenX - this.width / 2) / scale, this.centerY + (screenY - this.height / 2) / scale];
  }

  /** Keeps the view on the board: centred along a side the area is wider than, else within the edges. */
  private clamp(): void {
    const { scale } = this;
    const keep = (center: number, extent: number, span: number) => {
      const half = span / 2 / scale;
      return half * 2 >= extent ? extent / 2 : Math.min(extent - half, Math.max(half, center));
    };
    this.centerX = keep(this.centerX, BOARD_WIDTH, this.width);
    this.centerY = keep(this.centerY, BOARD_HEIGHT, this.height);
  }
}
