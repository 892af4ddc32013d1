/**
 * What interaction (the tools, the selection, the text editor) shows above the stored elements, and what it asks of
 * the stage: ./canvas.ts maps both onto the board view (previews as its pending elements, hidden elements taken off
 * its ink) and draws the selection's chrome itself. The text constants say how text is laid out, so that the text
 * editor over the canvas and the drawn text wrap alike.
 */
import type { ElementRecord } from "../../protocol/events";
import type { Rect, Viewport } from "../core/viewport";

/** A selection handle's side, CSS pixels on screen at any zoom. */
export const HANDLE_PX = 10;

/** Handles of a selection's bounds, by compass point (corners and edge middles). */
export type HandleName = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w";

export interface Handle {
  name: HandleName;
  /** Its centre, board units. */
  x: number;
  y: number;
}

/** What the board view draws above the stored elements, all in board units. */
export interface Overlays {
  /**
   * Elements drawn on top of the board as given: the one being made (a shape being dragged out, a note), and the
   * selected ones while they are moved or resized (their new place, before the edit is stored).
   */
  previews: readonly ElementRecord[];
  /** Stored elements not to draw: a preview stands in for them, or the text editor shows their text. */
  hidden: ReadonlySet<string>;
  /** The selection: an outline around each selected element, one around them all, and its handles. */
  selection: { outlines: readonly Rect[]; bounds: Rect; handles: readonly Handle[] } | undefined;
  /** The rubber band of a box selection. */
  marquee: Rect | undefined;
  /** The eraser's reach around the pointer. */
  eraser: { x: number; y: number; reach: number } | undefined;
}

/** What interaction asks of the stage. */
export interface BoardCanvas {
  /** The view's pan and zoom, which interaction changes (then calls `viewChanged`). */
  readonly viewport: Viewport;
  /** The viewport moved (pan, zoom, fit): draw the board there, and tell whatever follows it on screen. */
  viewChanged(): void;
  /** The overlays changed: draw them again (at the next frame). */
  overlaysChanged(): void;
  /** A pointer's CSS-pixel position in the stage. */
  stagePoint(event: { clientX: number; clientY: number }): [x: number, y: number];
}

/**
 * Text layout, shared by the text editor and the renderer: font size `sw` CSS pixels at 100%, this family, lines
 * LINE_HEIGHT font sizes apart, wrapped at the element's box width less TEXT_PADDING on each side (in font sizes).
 * Notes pad their text by NOTE_PADDING font sizes.
 */
export const TEXT_FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", sans-serif';
export const LINE_HEIGHT = 1.25;
export const TEXT_PADDING = 0;
export const NOTE_PADDING = 0.5;
