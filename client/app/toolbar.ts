/**
 * The toolbar and the status line: the tool, pen colour and width, the action buttons (wired by main.ts), the
 * zoom level, this user's name and colour, the online count, the connection state, and short notices.
 */
import type { UserInfo } from "../../protocol/events";
import { newBoardId } from "../../protocol/random-id";
import type { Pen } from "../core/outbox";
import type { ConnectionState } from "../core/session";
import type { Tool } from "./pointer-input";

const COLORS = ["#202124", "#d93025", "#1a73e8", "#188038", "#f29900", "#9334e6"];
const COLOR_NAMES = ["black", "red", "blue", "green", "orange", "purple"];
const WIDTHS = [2, 5, 10, 20];
const NOTICE_MS = 6_000;

/** Buttons whose clicks main.ts handles. */
export type ToolbarAction =
  | "undo"
  | "redo"
  | "clear"
  | "zoom-in"
  | "zoom-out"
  | "zoom-reset"
  | "export-png"
  | "export-svg"
  | "open-help"
  | "open-profile";

export class Toolbar {
  readonly pen: Pen = { color: COLORS[0] as string, width: WIDTHS[1] as number };
  private currentTool: Tool = "pen";
  private connection: ConnectionState = "connecting";
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly toolButtons: HTMLButtonElement[];

  constructor(
    private readonly find: <T extends HTMLElement>(id: string) => T,
    private readonly onToolChange: (tool: Tool) => void,
  ) {
    this.toolButtons = [...find("tools").querySelectorAll<HTMLButtonElement>("button[data-tool]")];
    for (const button of this.toolButtons)
      button.addEventListener("click", () => this.selectTool(button.dataset.tool as Tool));
    this.markTool(this.currentTool);
    radioGroup(
      find("colors"),
      COLORS,
      this.pen.color,
      (color, button, index) => {
        button.classList.add("swatch");
        label(button, `${COLOR_NAMES[index]} pen`);
        button.append(styledSpan((style) => (style.background = color)));
      },
      (color) => (this.pen.color = color),
    );
    radioGroup(
      find("widths"),
      WIDTHS,
      this.pen.width,
      (width, button) => {
        button.classList.add("width");
        label(button, `${width} px line`);
        button.append(styledSpan((style) => (style.height = `${Math.min(width, 20)}px`)));
      },
      (width) => (this.pen.width = width),
    );
    find("new-board").addEventListener("click", () => location.assign(`/b/${newBoardId()}`));
    find("share").addEventListener("click", () => void this.copyLink());
    addEventListener("online", () => this.renderConnection());
    addEventListener("offline", () => this.renderConnection());
  }

  get tool(): Tool {
    return this.currentTool;
  }

  on(action: ToolbarAction, handler: () => void): void {
    this.find(action).addEventListener("click", handler);
  }

  selectTool(tool: Tool): void {
    this.markTool(tool);
    this.onToolChange(tool);
  }

  showHistory(canUndo: boolean, canRedo: boolean): void {
    this.find<HTMLButtonElement>("undo").disabled = !canUndo;
    this.find<HTMLButtonElement>("redo").disabled = !canRedo;
  }

  showZoom(zoom: number): void {
    this.find("zoom-reset").textContent = `${Math.round(zoom * 100)}%`;
  }

  showUser(user: UserInfo): void {
    this.find("me-name").textContent = user.name;
    this.find("me-dot").style.setProperty("--me", user.color);
  }

  showConnection(state: ConnectionState): void {
    this.connection = state;
    this.renderConnection();
  }

  showPresence(count: number): void {
    this.find("presence").textContent = `${count} online`;
  }

  /** A short, polite message at the bottom of the screen. */
  notify(message: string): void {
    const notice = this.find("notice");
    notice.textContent = message;
    notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (notice.hidden = true), NOTICE_MS);
  }

  private markTool(tool: Tool): void {
    this.currentTool = tool;
    for (const button of this.toolButtons) button.setAttribute("aria-checked", String(button.dataset.tool === tool));
  }

  private renderConnection(): void {
    // The browser knows it has no network before the socket finds out.
    const state = navigator.onLine ? this.connection : "offline";
    const labels = {
      connecting: "connecting…",
      connected: "connected",
      reconnecting: "reconnecting…",
      offline: "offline",
    };
    const element = this.find("connection");
    element.dataset.state = state;
    element.textContent = labels[state];
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
  decorate: (value: T, button: HTMLButtonElement, index: number) => void,
  choose: (value: T) => void,
): void {
  values.forEach((value, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "radio");
    button.setAttribute("aria-checked", String(value === selected));
    decorate(value, button, index);
    button.addEventListener("click", () => {
      for (const other of container.children) other.setAttribute("aria-checked", "false");
      button.setAttribute("aria-checked", "true");
      choose(value);
    });
    container.append(button);
  });
}

/** A button showing only a picture: its name for assistive technology, and a tooltip. */
function label(button: HTMLButtonElement, name: string): void {
  button.setAttribute("aria-label", name);
  button.title = name;
}

/** Styles go through the CSSOM: the Content-Security-Policy allows no inline style attributes. */
function styledSpan(style: (declaration: CSSStyleDeclaration) => void): HTMLSpanElement {
  const span = document.createElement("span");
  style(span.style);
  return span;
}
