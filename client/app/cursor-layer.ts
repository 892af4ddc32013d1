/**
 * Other people's pointers on the board, each with its owner's name and colour: shown where the service last
 * said they were, faded once idle for a few seconds, gone after ten. Never this user's own (the service sends
 * a board's cursors to everyone on it, the sender included, and the same user may have several pages open).
 */
import type { CursorUpdate } from "../../protocol/events";
import type { Viewport } from "../core/viewport";

const IDLE_MS = 3_000;
const GONE_MS = 10_000;
const CHECK_MS = 500;

interface Shown {
  element: HTMLElement;
  name: HTMLElement;
  x: number;
  y: number;
  seenAt: number;
}

export class CursorLayer {
  private readonly shown = new Map<string, Shown>();
  /** Names by user id, kept after their cursors go: "Ada cleared the board". */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly container: HTMLElement,
    private readonly viewport: Viewport,
    private readonly ownId: () => string,
  ) {
    setInterval(() => this.age(), CHECK_MS);
  }

  update(cursors: readonly CursorUpdate[]): void {
    const now = performance.now();
    for (const cursor of cursors) {
      this.names.set(cursor.u, cursor.n);
      if (cursor.u === this.ownId()) continue;
      const shown = this.shown.get(cursor.u) ?? this.create(cursor.u);
      Object.assign(shown, { x: cursor.x, y: cursor.y, seenAt: now });
      shown.name.textContent = cursor.n;
      shown.element.style.setProperty("--cursor-color", cursor.c);
      shown.element.classList.remove("idle");
      this.place(shown);
    }
  }

  /** The name someone last showed on their cursor, if they did while this page was open. */
  nameOf(userId: string): string | undefined {
    return this.names.get(userId);
  }

  /** The board moved on screen (pan, zoom, resize): cursors follow it. */
  reposition(): void {
    for (const shown of this.shown.values()) this.place(shown);
  }

  private create(userId: string): Shown {
    const element = document.createElement("div");
    element.className = "cursor";
    element.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "cursor-name";
    element.append(name);
    this.container.append(element);
    const shown = { element, name, x: 0, y: 0, seenAt: 0 };
    this.shown.set(userId, shown);
    return shown;
  }

  private place(shown: Shown): void {
    const [x, y] = this.viewport.toScreen(shown.x, shown.y);
    shown.element.style.transform = `translate(${x}px, ${y}px)`;
  }

  private age(): void {
    const now = performance.now();
    for (const [userId, shown] of this.shown) {
      if (now - shown.seenAt > GONE_MS) {
        shown.element.remove();
        this.shown.delete(userId);
      } else if (now - shown.seenAt > IDLE_MS) shown.element.classList.add("idle");
    }
  }
}
