/**
 * Keyboard shortcuts. The help panel (index.html, #help) lists exactly these; keep the two in step. Keys typed into
 * a field (the text editor, the name box) are text; arrow keys inside a toolbar group move within it (./roving.ts).
 */
import { isTyping } from "./pointer-input";
import { TOOL_KEYS, type Tool } from "./tools";

/** Callbacks, called without a `this`. */
export interface ShortcutActions {
  undo: () => void;
  redo: () => void;
  tool: (tool: Tool) => void;
  zoomIn: () => void;
  zoomOut: () => void;
  zoomReset: () => void;
  zoomToFit: () => void;
  zoomToSelection: () => void;
  duplicate: () => void;
  deleteSelection: () => void;
  selectAll: () => void;
  restack: (direction: 1 | -1) => void;
  /** Escape: drop the gesture and the selection. */
  escape: () => void;
  /** Arrow keys: the selection moves by (dx, dy) CSS pixels, or, with nothing selected, the view pans. */
  nudge: (dx: number, dy: number) => void;
  help: () => void;
}

/** How far an arrow key moves, CSS pixels; with Shift, ten times as far. */
const STEP_PX = 8;

export function bindShortcuts(actions: ShortcutActions): void {
  addEventListener("keydown", (event) => {
    if (event.defaultPrevented || isTyping(event.target) || event.altKey) return;
    const action = shortcutFor(event, actions);
    // In an open dialog only the help key works (to close the help); Esc is the dialog's own.
    if (!action || (inDialog(event.target) && action !== actions.help)) return;
    event.preventDefault();
    action();
  });
}

function shortcutFor(event: KeyboardEvent, actions: ShortcutActions): (() => void) | undefined {
  const key = event.key;
  if (event.ctrlKey || event.metaKey) {
    switch (key.toLowerCase()) {
      case "z":
        return event.shiftKey ? actions.redo : actions.undo;
      case "y":
        return event.shiftKey ? undefined : actions.redo;
      case "d":
        return actions.duplicate;
      case "a":
        return actions.selectAll;
      default:
        // Copy, cut and paste are the browser's clipboard events (main.ts), not keys.
        return undefined;
    }
  }
  const step = event.shiftKey ? STEP_PX * 10 : STEP_PX;
  const tool = TOOL_KEYS[key.toLowerCase()];
  if (tool && !event.shiftKey) return () => actions.tool(tool);
  switch (key) {
    case "+":
    case "=":
      return actions.zoomIn;
    case "-":
    case "_":
      return actions.zoomOut;
    case "0":
      return actions.zoomReset;
    case "!":
      return actions.zoomToFit;
    case "@":
      return actions.zoomToSelection;
    case "Delete":
    case "Backspace":
      return actions.deleteSelection;
    case "]":
      return () => actions.restack(1);
    case "[":
      return () => actions.restack(-1);
    case "Escape":
      return actions.escape;
    case "ArrowLeft":
      return () => actions.nudge(-step, 0);
    case "ArrowRight":
      return () => actions.nudge(step, 0);
    case "ArrowUp":
      return () => actions.nudge(0, -step);
    case "ArrowDown":
      return () => actions.nudge(0, step);
    case "?":
      return actions.help;
    default:
      return undefined;
  }
}

function inDialog(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest("dialog") !== null;
}
