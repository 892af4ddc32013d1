/**
 * A whiteboard page in Chromium as the browser tests use it: positions given as fractions of the board (the
 * white paper), mouse and keyboard as a person would use them, and the page's automation handle
 * (`window.whiteboard`, see client/app/main.ts) to read what it holds.
 */
import type { Browser, Page } from "playwright-core";
import { eventually } from "../support/socket-client";

/** What client/app/main.ts exposes on `window.whiteboard`. */
export interface WhiteboardHandle {
  board: string;
  userId(): string;
  strokeIds(): string[];
  pendingCount(): number;
  connection(): string;
  zoom(): number;
  stats(): { strokes?: number; firstPaintMs?: number; caughtUpMs?: number; fullyDrawnMs?: number };
  /** Whether the ink canvas has ink along the board's row at y (a fraction of its height), read where it is painted. */
  inkAt(y: number): Promise<boolean>;
}

type Fraction = readonly [x: number, y: number];

export class BoardPage {
  /** What the Content-Security-Policy refused (an inline style, say): there must be none. */
  readonly refusedByPolicy: string[] = [];

  private constructor(readonly page: Page) {
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) this.refusedByPolicy.push(message.text());
    });
  }

  /** Opens `url` (a board's address) in a context of its own (its own localStorage: its own user). */
  static async open(browser: Browser, url: string, options: { touch?: boolean } = {}): Promise<BoardPage> {
    const page = await browser.newPage({
      viewport: { width: 900, height: 640 },
      acceptDownloads: true,
      hasTouch: options.touch ?? false,
    });
    page.on("pageerror", (error) => {
      throw error;
    });
    // Clear asks for confirmation; the tests mean it.
    page.on("dialog", (dialog) => void dialog.accept());
    const opened = new BoardPage(page);
    await page.goto(url);
    await opened.connected();
    return opened;
  }

  /** Reads the automation handle. */
  read<T>(read: (whiteboard: WhiteboardHandle) => T): Promise<T> {
    return this.page.evaluate(`(${read.toString()})(window.whiteboard)`) as Promise<T>;
  }

  strokeIds(): Promise<string[]> {
    return this.read((whiteboard) => whiteboard.strokeIds());
  }

  async connected(): Promise<void> {
    await this.page.waitForFunction(
      () => (window as unknown as { whiteboard?: WhiteboardHandle }).whiteboard?.connection() === "connected",
    );
  }

  /** Waits until the page has nothing left to send, and returns its stroke ids. */
  async settled(): Promise<string[]> {
    await eventually(
      "the page to have every stroke acked",
      async () => (await this.read((whiteboard) => whiteboard.pendingCount())) === 0,
    );
    return this.strokeIds();
  }

  /** The board's rectangle on the page, CSS pixels. */
  async paper(): Promise<{ x: number; y: number; width: number; height: number }> {
    const box = await this.page.locator("#paper").boundingBox();
    if (!box) throw new Error("no board on the page");
    return box;
  }

  /** Page coordinates of a point given as fractions of the board as shown now. */
  async at([x, y]: Fraction): Promise<[number, number]> {
    const paper = await this.paper();
    return [paper.x + paper.width * x, paper.y + paper.height * y];
  }

  /** Drags the mouse through points given in page coordinates (the current tool draws or erases). */
  async drag(points: readonly (readonly [number, number])[], steps = 6): Promise<void> {
    const [first, ...rest] = points;
    if (!first) return;
    await this.page.mouse.move(first[0], first[1]);
    await this.page.mouse.down();
    for (const point of rest) await this.page.mouse.move(point[0], point[1], { steps });
    await this.page.mouse.up();
  }

  /** Draws a horizontal line with the mouse at height y, from x0 to x1 (fractions of the board). */
  async drawLine(y: number, x0 = 0.2, x1 = 0.8): Promise<void> {
    await this.drag([await this.at([x0, y]), await this.at([x1, y])], 12);
  }

  /**
   * Whether the ink canvas has any ink along the board's row at height y (a fraction of the board). The ink may be
   * painted in a worker (an OffscreenCanvas the page cannot read), so the page asks it.
   */
  inkAt(y: number): Promise<boolean> {
    return this.page.evaluate(
      (row) => (window as unknown as { whiteboard: WhiteboardHandle }).whiteboard.inkAt(row),
      y,
    );
  }

  /** Waits until the page draws (or stops drawing) ink along row y. */
  async waitForInk(y: number, expected: boolean): Promise<void> {
    await eventually(`ink at ${y} to be ${expected}`, async () => (await this.inkAt(y)) === expected);
  }

  /**
   * Touches the board with one finger per track, moving all of them together through their points (page
   * coordinates; every track as long as the first), then lifts them.
   */
  async touch(tracks: readonly (readonly (readonly [number, number])[])[]): Promise<void> {
    const cdp = await this.page.context().newCDPSession(this.page);
    const at = (step: number) =>
      tracks.map((track, id) => ({ x: track[step]?.[0] ?? 0, y: track[step]?.[1] ?? 0, id }));
    const steps = tracks[0]?.length ?? 0;
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: at(0) });
    for (let step = 1; step < steps; step += 1)
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: at(step) });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await cdp.detach();
  }

  /** Clicks a button by its accessible name. */
  async click(name: string): Promise<void> {
    await this.page.getByRole("button", { name, exact: true }).click();
  }

  /** Picks a tool, a colour or a width by its accessible name. */
  async choose(name: string): Promise<void> {
    await this.page.getByRole("radio", { name, exact: true }).click();
  }

  async press(keys: string): Promise<void> {
    await this.page.keyboard.press(keys);
  }

  close(): Promise<void> {
    return this.page.close();
  }
}
