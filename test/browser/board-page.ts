/**
 * A whiteboard page in Chromium as the browser tests use it: positions given as fractions of the stage (the board's
 * area on screen), mouse, touch and keyboard as a person would use them, and the page's automation handle
 * (`window.whiteboard`, see client/app/main.ts) to read what it holds.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { ElementRecord } from "../../protocol/events";
import { eventually } from "../support/socket-client";

/** What client/app/main.ts exposes on `window.whiteboard`. */
export interface WhiteboardHandle {
  board: string;
  userId(): string;
  canEdit(): boolean;
  elements(): ElementRecord[];
  elementIds(): string[];
  selectedIds(): string[];
  pendingCount(): number;
  connection(): string;
  zoom(): number;
  toPage(x: number, y: number): [number, number];
  stats(): { firstPaintMs?: number; caughtUpMs?: number; fullyDrawnMs?: number };
}

type Fraction = readonly [x: number, y: number];
type At = readonly [x: number, y: number];

export interface OpenOptions {
  touch?: boolean;
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
}

/** The desktop the issue names. */
export const DESKTOP = { width: 1440, height: 900 };
/** The phone the issue names. */
export const PHONE = { width: 390, height: 844 };

export class BoardPage {
  /** What the Content-Security-Policy refused (an inline style, say): there must be none. */
  readonly refusedByPolicy: string[] = [];

  private constructor(readonly page: Page) {
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) this.refusedByPolicy.push(message.text());
    });
  }

  /**
   * Opens `url` (an edit link, a view-only link, or the service's root, which makes a new board) in a context of its
   * own (its own localStorage: its own user), and waits until it is connected.
   */
  static async open(browser: Browser, url: string, options: OpenOptions = {}): Promise<BoardPage> {
    const context = await browser.newContext({
      viewport: options.viewport ?? DESKTOP,
      acceptDownloads: true,
      hasTouch: options.touch ?? false,
      isMobile: options.touch ?? false,
      colorScheme: options.colorScheme ?? "light",
    });
    return BoardPage.openIn(context, url);
  }

  /**
   * Opens `url` in a new tab of `context` (its storage shared with the context's other tabs), and waits until it is
   * connected unless `connected` is false (the service's store away).
   */
  static async openIn(context: BrowserContext, url: string, { connected = true } = {}): Promise<BoardPage> {
    const page = await context.newPage();
    page.on("pageerror", (error) => {
      throw error;
    });
    // Clear asks for confirmation; the tests mean it.
    page.on("dialog", (dialog) => void dialog.accept());
    const opened = new BoardPage(page);
    await page.goto(url);
    if (connected) await opened.connected();
    return opened;
  }

  /** This page's address as an edit link (with `#edit=`), or as it is. */
  get url(): string {
    return this.page.url();
  }

  /** Reads the automation handle. */
  read<T>(read: (whiteboard: WhiteboardHandle) => T): Promise<T> {
    return this.page.evaluate<T>(`(${read.toString()})(window.whiteboard)`);
  }

  elements(): Promise<ElementRecord[]> {
    return this.read((whiteboard) => whiteboard.elements());
  }

  async connected(): Promise<void> {
    await this.page.waitForFunction(
      () => (window as unknown as { whiteboard?: WhiteboardHandle }).whiteboard?.connection() === "connected",
    );
  }

  /** Waits until the page has nothing left to send, and returns its elements. */
  async settled(): Promise<ElementRecord[]> {
    await eventually(
      "the page to have every write acknowledged",
      async () => (await this.read((whiteboard) => whiteboard.pendingCount())) === 0,
    );
    return this.elements();
  }

  /** Waits until the page shows elements that `check` accepts, and returns them. */
  async waitForElements(what: string, check: (elements: ElementRecord[]) => boolean): Promise<ElementRecord[]> {
    let last: ElementRecord[] = [];
    await eventually(what, async () => check((last = await this.elements())));
    return last;
  }

  /** The stage (the board's area) on the page, CSS pixels. */
  async stage(): Promise<{ x: number; y: number; width: number; height: number }> {
    const box = await this.page.locator("#stage").boundingBox();
    if (!box) throw new Error("no stage on the page");
    return box;
  }

  /** Page coordinates of a point given as fractions of the stage. */
  async at([x, y]: Fraction): Promise<[number, number]> {
    const stage = await this.stage();
    return [Math.round(stage.x + stage.width * x), Math.round(stage.y + stage.height * y)];
  }

  /** Page coordinates of a board point (board units). */
  toPage(x: number, y: number): Promise<[number, number]> {
    return this.page.evaluate(
      ([bx, by]) => (window as unknown as { whiteboard: WhiteboardHandle }).whiteboard.toPage(bx, by),
      [x, y] as const,
    );
  }

  /** Page coordinates of an element's centre. */
  async centreOf(element: Pick<ElementRecord, "x" | "y" | "w" | "h">): Promise<[number, number]> {
    return this.toPage(element.x + element.w / 2, element.y + element.h / 2);
  }

  /** Drags the mouse through points given in page coordinates (the current tool acts). */
  async drag(points: readonly At[], steps = 6, modifiers: ("Shift" | "Control")[] = []): Promise<void> {
    const [first, ...rest] = points;
    if (!first) return;
    for (const key of modifiers) await this.page.keyboard.down(key);
    await this.page.mouse.move(first[0], first[1]);
    await this.page.mouse.down();
    for (const point of rest) await this.page.mouse.move(point[0], point[1], { steps });
    await this.page.mouse.up();
    for (const key of modifiers) await this.page.keyboard.up(key);
  }

  /** Drags the current tool from one fraction of the stage to another. */
  async dragOver(from: Fraction, to: Fraction): Promise<void> {
    await this.drag([await this.at(from), await this.at(to)], 8);
  }

  /** Clicks the board at a fraction of the stage. */
  async clickAt(at: Fraction, options: { shift?: boolean } = {}): Promise<void> {
    const [x, y] = await this.at(at);
    if (options.shift) await this.page.keyboard.down("Shift");
    await this.page.mouse.click(x, y);
    if (options.shift) await this.page.keyboard.up("Shift");
  }

  /**
   * Touches the board with one finger per track, moving all of them together through their points (page
   * coordinates; every track as long as the first), then lifts them.
   */
  async touch(tracks: readonly (readonly At[])[]): Promise<void> {
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

  /** Draws with a pen (pointerType "pen") through page points, with a pressure for each. */
  async pen(points: readonly At[], pressures: readonly number[]): Promise<void> {
    const cdp = await this.page.context().newCDPSession(this.page);
    const event = (type: "mousePressed" | "mouseMoved" | "mouseReleased", index: number, buttons: number) => ({
      type,
      x: points[index]?.[0] ?? 0,
      y: points[index]?.[1] ?? 0,
      button: "left" as const,
      buttons,
      clickCount: 1,
      pointerType: "pen" as const,
      force: pressures[index] ?? 0.5,
    });
    await cdp.send("Input.dispatchMouseEvent", event("mousePressed", 0, 1));
    for (let index = 1; index < points.length; index += 1)
      await cdp.send("Input.dispatchMouseEvent", event("mouseMoved", index, 1));
    await cdp.send("Input.dispatchMouseEvent", event("mouseReleased", points.length - 1, 0));
    await cdp.detach();
  }

  /** Clicks a button by its accessible name. */
  async click(name: string): Promise<void> {
    await this.page.getByRole("button", { name, exact: true }).click();
  }

  /** Picks a tool, a colour, a size or a fill by its accessible name. */
  async choose(name: string): Promise<void> {
    await this.page.getByRole("radio", { name, exact: true }).click();
  }

  /** Opens the menu and picks an item. */
  async menu(name: string): Promise<void> {
    await this.click("Menu");
    await this.page.locator("#menu").getByRole("button", { name, exact: true }).click();
  }

  async press(keys: string): Promise<void> {
    await this.page.keyboard.press(keys);
  }

  /** Types text into the text editor and finishes with Escape. */
  async type(text: string): Promise<void> {
    const editor = this.page.locator(".text-editor");
    await editor.waitFor();
    await editor.fill(text);
    await this.press("Escape");
    await editor.waitFor({ state: "hidden" });
  }

  close(): Promise<void> {
    return this.page.context().close();
  }
}
