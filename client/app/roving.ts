/**
 * A group of buttons that is one tab stop (WAI-ARIA's roving tabindex): Tab reaches the group at its chosen (or
 * first) button, arrow keys move within it (and, in a radio group, choose), Home and End go to its ends.
 */
const NEXT_KEYS = new Set(["ArrowRight", "ArrowDown"]);
const PREVIOUS_KEYS = new Set(["ArrowLeft", "ArrowUp"]);

export function rovingGroup(container: HTMLElement, selectOnMove: boolean): { refresh(): void } {
  const buttons = () =>
    [...container.querySelectorAll<HTMLButtonElement>("button")].filter((button) => !button.hidden && !button.disabled);
  const refresh = () => {
    const all = buttons();
    const current = all.find((button) => button.getAttribute("aria-checked") === "true") ?? all[0];
    for (const button of all) button.tabIndex = button === current ? 0 : -1;
  };
  container.addEventListener("keydown", (event) => {
    const all = buttons();
    const index = all.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    let next: number;
    if (NEXT_KEYS.has(event.key)) next = (index + 1) % all.length;
    else if (PREVIOUS_KEYS.has(event.key)) next = (index - 1 + all.length) % all.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = all.length - 1;
    else return;
    event.preventDefault();
    // Arrow keys here move within the group, never pan the board.
    event.stopPropagation();
    const target = all[next] as HTMLButtonElement;
    for (const button of all) button.tabIndex = button === target ? 0 : -1;
    target.focus();
    if (selectOnMove) target.click();
  });
  container.addEventListener("click", () => refresh());
  refresh();
  return { refresh };
}
