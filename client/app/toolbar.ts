/**
 * The toolbar and status line: pen colour and width, clear, new board, copy link, the online count and
 * the connection state.
 */
import type { Pen } from "../core/outbox";
import type { ConnectionState } from "../core/session";

const COLORS = ["#202124", "#d93025", "#1a73e8", "#188038", "#f29900", "#9334e6"];
const WIDTHS = [2, 5, 10, 20];
const NOTICE_MS = 5_000;

export interface ToolbarElements {
  colors: HTMLElement;
  widths: HTMLElement;
  clear: HTMLButtonElement;
  newBoard: HTMLButtonElement;
  share: HTMLButtonElement;
  presence: HTMLElement;
  connection: HTMLElement;
  notice: HTMLElement;
}

export class Toolbar {
  readonly pen: Pen = { color: COLORS[0] as string, width: WIDTHS[1] as number };
  private connection: ConnectionState = "connecting";
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly elements: ToolbarElements) {
    radioGroup(elements.colors, COLORS, this.pen.color, (color, button) => {
      button.classList.add("swatch");
      button.title = color;
      button.append(styledSpan((style) => (style.background = color)));
    }, (color) => (this.pen.color = color));
    radioGroup(elements.widths, WIDTHS, this.pen.width, (width, button) => {
      button.classList.add("width");
      button.title = `${width} px`;
      button.append(styledSpan((style) => (style.height = `${Math.min(width, 20)}px`)));
    }, (width) => (this.pen.width = width));
    elements.newBoard.addEventListener("click", () => location.assign(`/b/${newBoardId()}`));
    elements.share.addEventListener("click", () => void this.copyLink());
    addEventListener("online", () => this.renderConnection());
    addEventListener("offline", () => this.renderConnection());
  }

  onClear(handler: () => void): void {
    this.elements.clear.addEventListener("click", handler);
  }

  showConnection(state: ConnectionState): void {
    this.connection = state;
    this.renderConnection();
  }

  showPresence(count: number): void {
    this.elements.presence.textContent = `${count} online`;
  }

  notify(message: string): void {
    const { notice } = this.elements;
    notice.textContent = message;
    notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (notice.hidden = true), NOTICE_MS);
  }

  private renderConnection(): void {
    // The browser knows it has no network before the socket finds out.
    const state = navigator.onLine ? this.connection : "offline";
    const labels = { connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", offline: "offline" };
    this.elements.connection.dataset.state = state;
    this.elements.connection.textContent = labels[state];
  }

  private async copyLink(): Promise<void> {
    try {
      await navigator.clipboard.writeText(location.href);
      this.notify("Link copied: anyone with it can draw on this board.");
    } catch {
      // Clipboard access needs a secure context and permission; showing the link always works.
      this.notify(location.href);
    }
  }
}

function radioGroup<T>(
  container: HTMLElement,
  values: readonly T[],
  selected: T,
  decorate: (value: T, button: HTMLButtonElement) => void,
  choose: (value: T) => void,
): void {
  for (const value of values) {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "radio");
    button.setAttribute("aria-checked", String(value === selected));
    decorate(value, button);
    button.addEventListener("click", () => {
      for (const other of container.children) other.setAttribute("aria-checked", "false");
      button.setAttribute("aria-checked", "true");
      choose(value);
    });
    container.append(button);
  }
}

/** Styles go through the CSSOM: the Content-Security-Policy allows no inline style attributes. */
function styledSpan(style: (declaration: CSSStyleDeclaration) => void): HTMLSpanElement {
  const span = document.createElement("span");
  style(span.style);
  return span;
}

function newBoardId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (byte) => byte.toString(36).padStart(2, "0")).join("").slice(0, 12);
}
