/**
 * Pan and zoom over an infinite canvas: which part of the board a screen area shows, and the mapping between the
 * two. There is no sheet: the view may go anywhere within the protocol's coordinate range (±COORD_LIMIT board
 * units, a million CSS pixels each way at 100%), at any zoom from MIN_ZOOM to MAX_ZOOM. Zoom 1 (100%) shows
 * UNITS_PER_PIXEL board units per CSS pixel.
 *
 * Screen positions are CSS pixels from the area's top-left corner; board positions are board units. The view is
 * held as the board point at the area's centre (a float) and the zoom, so mapping back and forth is exact at any
 * zoom: a pan or a zoom never drifts the drawing under the pointer.
 */
import { COORD_LIMIT, UNITS_PER_PIXEL } from "../../protocol/events";

/** 2%: a board a hundred screens wide still fits. */
export const MIN_ZOOM = 0.02;
/** 3200%: half a board unit per CSS pixel. */
export const MAX_ZOOM = 32;
/** Room left around what `fit` shows, CSS pixels. */
export const FIT_MARGIN = 32;

/** A rectangle on the board, in board units. */
export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const clampZoom = (zoom: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
const clampCoord = (value: number) => Math.min(COORD_LIMIT, Math.max(-COORD_LIMIT, value));

export class Viewport {
  private zoomLevel = 1;
  /** The board point shown at the centre of the area. */
  private centerX = 0;
  private centerY = 0;
  private width = 1;
  private height = 1;

  /** 1 is 100%. */
  get zoom(): number {
    return this.zoomLevel;
  }

  /** CSS pixels per board unit. */
  get scale(): number {
    return this.zoomLevel / UNITS_PER_PIXEL;
  }

  get size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  /** The board point at the centre of the area. */
  get center(): [x: number, y: number] {
    return [this.centerX, this.centerY];
  }

  /** The size of the screen area, CSS pixels; the board point at its centre stays there. */
  resize(width: number, height: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
  }

  /** The board point under a screen position, in whole units within the coordinate range (what is sent). */
  toBoard(screenX: number, screenY: number): [x: number, y: number] {
    const [x, y] = this.toBoardExact(screenX, screenY);
    return [Math.round(clampCoord(x)), Math.round(clampCoord(y))];
  }

  /** The board point under a screen position, unrounded. */
  toBoardExact(screenX: number, screenY: number): [x: number, y: number] {
    const { scale } = this;
    return [this.centerX + (screenX - this.width / 2) / scale, this.centerY + (screenY - this.height / 2) / scale];
  }

  /** Where a board point appears on screen. */
  toScreen(boardX: number, boardY: number): [x: number, y: number] {
    const { scale } = this;
    return [this.width / 2 + (boardX - this.centerX) * scale, this.height / 2 + (boardY - this.centerY) * scale];
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
    this.zoomLevel = clampZoom(this.zoomLevel * factor);
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

  /** 100%, centred on the board's origin: where a new board starts. */
  reset(): void {
    this.zoomLevel = 1;
    this.centerX = 0;
    this.centerY = 0;
  }

  /**
   * Shows `rect` whole and centred, as large as fits with FIT_MARGIN around it, but never past `maxZoom` (a single
   * small element is not blown up to fill the screen) nor outside the zoom range.
   */
  fit(rect: Rect, maxZoom = 1): void {
    const spanX = Math.max(1, rect.maxX - rect.minX);
    const spanY = Math.max(1, rect.maxY - rect.minY);
    const room = (extent: number) => Math.max(1, extent - 2 * FIT_MARGIN);
    const fits = Math.min(room(this.width) / spanX, room(this.height) / spanY) * UNITS_PER_PIXEL;
    this.zoomLevel = clampZoom(Math.min(fits, Math.max(maxZoom, MIN_ZOOM)));
    this.centerX = (rect.minX + rect.maxX) / 2;
    this.centerY = (rect.minY + rect.maxY) / 2;
    this.clamp();
  }

  /** Keeps the centre within the coordinate range: further out there can be nothing to see. */
  private clamp(): void {
    this.centerX = clampCoord(this.centerX);
    this.centerY = clampCoord(this.centerY);
  }
}
