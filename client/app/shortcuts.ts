/**
 * Keyboard shortcuts. The help panel (index.html, #help) lists exactly these; keep the two in step.
 */
export interface ShortcutActions {
  undo(): void;
  redo(): void;
  pen(): void;
  eraser(): void;
  zoomIn(): void;
  zoomOut(): void;
  resetView(): void;
  /** Pans so that the drawing moves by (dx, dy) CSS pixels. */
  pan(dx: number, dy: number): void;
  help(): void;
}

/** How far an arrow key pans, CSS pixels; with Shift, five times as far. */
const PAN_STEP_PX = 60;

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
    const letter = key.toLowerCase();
    if (letter === "z") return event.shiftKey ? actions.redo : actions.undo;
    if (letter === "y" && !event.shiftKey) return actions.redo;
    return undefined;
  }
  const step = event.shiftKey ? PAN_STEP_PX * 5 : PAN_STEP_PX;
  switch (key) {
    case "p":
    case "b":
      return actions.pen;
    case "e":
      return actions.eraser;
    case "+":
    case "=":
      return actions.zoomIn;
    case "-":
    case "_":
      return actions.zoomOut;
    case "0":
      return actions.resetView;
    // An arrow moves the view that way, so the drawing moves the other way.
    case "ArrowLeft":
      return () => actions.pan(step, 0);
    case "ArrowRight":
      return () => actions.pan(-step, 0);
    case "ArrowUp":
      return () => actions.pan(0, step);
    case "ArrowDown":
      return () => actions.pan(0, -step);
    case "?":
      return actions.help;
    default:
      return undefined;
  }
}

/** Keys typed into a field (the name box) are text, not shortcuts. */
function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

function inDialog(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest("dialog") !== null;
}
