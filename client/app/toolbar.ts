/**
 * The bars around the board: the tool, the style (colour, size, fill), undo and redo, zoom, the menu with
 * everything else, who is online, the connection, a view-only badge, and short notices. Each radio group (tools,
 * colours, sizes, fills) is one tab stop with arrow keys inside (./roving.ts). On a phone the tools sit in a bar at
 * the bottom, the style in a panel behind one button, and undo, the connection and the menu stay at the top
 * (styles.css); nothing needed to draw, undo or see the connection is ever off screen.
 */
import type { Style } from "./board-port";
import { rovingGroup } from "./roving";
import type { Tool } from "./tools";

const COLORS = ["#1e1e1e", "#e03131", "#1971c2", "#2f9e44", "#f08c00", "#9c36b5"];
const COLOR_NAMES = ["black", "red", "blue", "green", "orange", "purple"];
/** Sizes: a stroke width for lines and shapes, a font size for text and notes (CSS pixels at 100%). */
const SIZES = [
  { sw: 2, font: 16, name: "small" },
  { sw: 4, font: 24, name: "medium" },
  { sw: 8, font: 36, name: "large" },
  { sw: 16, font: 56, name: "extra large" },
];
const FILLS = ["", "#fff3bf", "#d0ebff", "#d3f9d8", "#ffe3e3"];
const FILL_NAMES = ["no fill", "yellow fill", "blue fill", "green fill", "red fill"];
/** Notes are never transparent: without a fill chosen they are yellow. */
const NOTE_FILL = "#fff3bf";
const NOTICE_MS = 6_000;

/** What the connection indicator shows. */
export type ConnectionShown = "connecting" | "syncing" | "connected" | "reconnecting" | "offline" | "outdated";

/** Buttons whose clicks main.ts handles. */
export type ToolbarAction =
  | "undo"
  | "redo"
  | "zoom-in"
  | "zoom-out"
  | "zoom-fit"
  | "zoom-selection"
  | "zoom-reset"
  | "duplicate"
  | "delete"
  | "bring-front"
  | "send-back"
  | "copy"
  | "cut"
  | "paste"
  | "select-all"
  | "export-png"
  | "export-svg"
  | "export-json"
  | "import-json"
  | "clear"
  | "new-board"
  | "share"
  | "open-help"
  | "open-profile";

export interface StyleChange {
  c?: string;
  sw?: number;
  fontSize?: number;
  f?: string;
}

export class Toolbar {
  private currentTool: Tool = "pen";
  private color = COLORS[0] as string;
  private size = SIZES[1] as (typeof SIZES)[number];
  private fill = "";
  private connection: ConnectionShown = "connecting";
  private presence: number | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly toolButtons: HTMLButtonElement[];

  constructor(
    private readonly find: <T extends HTMLElement>(id: string) => T,
    private readonly onToolChange: (tool: Tool) => void,
    /** A colour, size or fill was chosen: it applies to the selection too. */
    private readonly onStyleChange: (change: StyleChange) => void,
  ) {
    this.toolButtons = [...find("tools").querySelectorAll<HTMLButtonElement>("button[data-tool]")];
    for (const button of this.toolButtons)
      button.addEventListener("click", () => this.selectTool(button.dataset.tool as Tool));
    rovingGroup(find("tools"), true);
    this.markTool(this.currentTool);
    radioGroup(
      find("colors"),
      COLORS,
      this.color,
      (color, button, index) => {
        button.classList.add("swatch");
        label(button, `${COLOR_NAMES[index]}`);
        button.append(styledSpan((style) => (style.background = color)));
      },
      (color) => {
        this.color = color;
        this.showStyle();
        this.onStyleChange({ c: color });
      },
    );
    radioGroup(
      find("sizes"),
      SIZES,
      this.size,
      (size, button) => {
        button.classList.add("size");
        label(button, `${size.name} size`);
        button.append(styledSpan((style) => (style.height = `${Math.min(size.sw + 1, 14)}px`)));
      },
      (size) => {
        this.size = size;
        this.onStyleChange({ sw: size.sw, fontSize: size.font });
      },
    );
    radioGroup(
      find("fills"),
      FILLS,
      this.fill,
      (fill, button, index) => {
        button.classList.add("swatch", fill === "" ? "no-fill" : "fill");
        label(button, `${FILL_NAMES[index]}`);
        button.append(styledSpan((style) => (style.background = fill || "transparent")));
      },
      (fill) => {
        this.fill = fill;
        this.onStyleChange({ f: fill });
      },
    );
    this.showStyle();
    const menu = find("menu");
    const menuButton = find("menu-button");
    const toggle = (open: boolean) => {
      menu.hidden = !open;
      menuButton.setAttribute("aria-expanded", String(open));
    };
    menuButton.addEventListener("click", () => toggle(menu.hidden));
    // A choice in the menu closes it; so does a click or a key elsewhere.
    menu.addEventListener("click", (event) => {
      if ((event.target as Element).closest("button")) toggle(false);
    });
    addEventListener("pointerdown", (event) => {
      if (!menu.hidden && !menu.contains(event.target as Node) && !menuButton.contains(event.target as Node))
        toggle(false);
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      toggle(false);
      menuButton.focus();
    });
    const stylePanel = find("style");
    find("style-button").addEventListener("click", () => stylePanel.classList.toggle("open"));
    addEventListener("online", () => this.renderConnection());
    addEventListener("offline", () => this.renderConnection());
  }

  get tool(): Tool {
    return this.currentTool;
  }

  /** The style of what the pen and the shape tools make. */
  style(): Style {
    return { c: this.color, sw: this.size.sw, f: this.fill };
  }

  textStyle(): Style {
    return { c: this.color, sw: this.size.font, f: "" };
  }

  noteStyle(): Style {
    return { c: COLORS[0] as string, sw: Math.round(this.size.font * 0.75), f: this.fill || NOTE_FILL };
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

  /** Whether anything is selected: the selection's actions are offered only then. */
  showSelection(count: number): void {
    for (const id of ["duplicate", "delete", "bring-front", "send-back", "copy", "cut", "zoom-selection"])
      this.find<HTMLButtonElement>(id).disabled = count === 0;
  }

  showUser(name: string, color: string): void {
    this.find("me-name").textContent = name;
    this.find("me-dot").style.setProperty("--me", color);
  }

  /** A view-only page: no editing tools, and it says so. */
  showViewOnly(viewOnly: boolean): void {
    document.body.classList.toggle("view-only", viewOnly);
    this.find("view-only").hidden = !viewOnly;
    if (viewOnly) this.selectTool("select");
  }

  showConnection(state: Exclude<ConnectionShown, "offline">): void {
    this.connection = state;
    this.renderConnection();
  }

  showPresence(count: number): void {
    this.presence = count;
    this.renderConnection();
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
    for (const button of this.toolButtons) {
      const chosen = button.dataset.tool === tool;
      button.setAttribute("aria-checked", String(chosen));
      button.tabIndex = chosen ? 0 : -1;
    }
  }

  /** The style button (on a phone, where the style is a panel) shows the current colour. */
  private showStyle(): void {
    this.find("style-button").style.setProperty("--current", this.color);
  }

  private renderConnection(): void {
    // The browser knows it has no network before the socket finds out.
    const state: ConnectionShown = navigator.onLine ? this.connection : "offline";
    const labels: Record<ConnectionShown, string> = {
      connecting: "connecting…",
      syncing: "loading…",
      connected: "connected",
      reconnecting: "reconnecting…",
      offline: "offline",
      outdated: "new version: reload",
    };
    const element = this.find("connection");
    element.dataset.state = state;
    element.textContent = labels[state];
    // Who is online is known only while connected: a stale count while reconnecting would mislead.
    const presence = this.find("presence");
    presence.hidden = state !== "connected" || this.presence === undefined;
    presence.textContent = `${this.presence ?? 0} online`;
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
  rovingGroup(container, true);
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
