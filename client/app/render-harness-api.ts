/**
 * What the render harness page (./render-harness.ts) exposes on `window.renderHarness`, DOM-free so that Node.js
 * code driving the page (the benchmark, the browser tests) can name it.
 */
import type { BoardSpec } from "../../bench/boards";
import type { ElementInput, ElementRecord } from "../../protocol/events";

/** The view a catch-up draws: the whole content fitted to the stage, or a placement (see BoardView's `place`). */
export type HarnessView = "fit" | { scale: number; x: number; y: number };

/** Milliseconds since navigation start. */
export interface HarnessStats {
  /** When the first elements were handed to the view. */
  startedMs?: number;
  /** After the first frame that drew. */
  firstPaintMs?: number;
  /** When the last answer was handed over. */
  caughtUpMs?: number;
  /** After the frame that put the last of the board on screen (some lines perhaps polylines awaiting outlines). */
  shownMs?: number;
  /** After the frame that drew the last of the board, every outline in place. */
  fullyDrawnMs?: number;
  /** How many elements were handed over. */
  elements: number;
}

export interface RenderHarness {
  /** Makes a benchmark board (bench/boards.ts), not yet drawn; returns its size. */
  prepare(spec: BoardSpec): number;
  /** Sets the board to these elements (seq = z = position + 1), not yet drawn. */
  load(inputs: ElementInput[]): number;
  /**
   * Draws the board as a late joiner's catch-up, once the view and its ink are ready (as on the page, before the
   * board arrives); resolves when the first answer is handed over. `stats()` tells when it reached the screen.
   */
  catchUp(options: { worker: boolean; view: HarnessView }): Promise<void>;
  /** Places the view again (everything is drawn again, in the ink worker); resolves once drawn. */
  place(view: HarnessView): Promise<void>;
  /** Draws every element again, as after a new epoch's snapshot; resolves once drawn. */
  redraw(): Promise<void>;
  /** How many pixels of two images (data: URLs of one size) differ by more than `tolerance` in a colour channel. */
  differing(a: string, b: string, tolerance: number): Promise<number>;
  stats(): HarnessStats;
  /** Elements added or changed as the session would report them (each replaces the record with its id). */
  put(changed: ElementRecord[]): void;
  remove(ids: string[]): void;
  /** Whether the ink has any ink along the stage's row `y`, CSS pixels. */
  inkOnRow(y: number): Promise<boolean>;
  /** The PNG export: its size, and the colour (RGBA) at each board point asked ([] outside it). */
  png(points: [x: number, y: number][]): Promise<{ width: number; height: number; colors: number[][] }>;
  /** The SVG export's text. */
  svg(): string;
  /** The colours (RGBA) at points of an image given as a data: URL (a screenshot of this page), CSS pixels. */
  colorsIn(url: string, points: [x: number, y: number][]): Promise<number[][]>;
}
