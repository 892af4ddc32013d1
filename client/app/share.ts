/**
 * Edit and view-only links. A board's id is derived from its edit key on the server, so the view-only link
 * (`/b/<board>`) cannot be turned into the edit link (`/b/<board>#edit=<key>`). The key travels in the fragment,
 * which browsers never send in a request; the page keeps it per board in localStorage, so a reload or a bookmark
 * without it keeps editing rights, and sends it in `join`.
 */
import { KEY_PATTERN } from "../../protocol/events";

const STORAGE_PREFIX = "whiteboard.edit.";

/** The edit key from the address (kept for next time), else the one kept for this board, else none: view only. */
export function editKeyFor(board: string): string | undefined {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("edit") ?? "";
  if (KEY_PATTERN.test(fromLink)) {
    store(board, fromLink);
    return fromLink;
  }
  try {
    const kept = localStorage.getItem(STORAGE_PREFIX + board) ?? "";
    return KEY_PATTERN.test(kept) ? kept : undefined;
  } catch {
    return undefined;
  }
}

/** The server said the key does not open this board: forget it, so the page stops offering an edit link. */
export function forgetEditKey(board: string): void {
  try {
    localStorage.removeItem(STORAGE_PREFIX + board);
  } catch {
    // Storage refused: nothing was kept.
  }
}

function store(board: string, key: string): void {
  try {
    localStorage.setItem(STORAGE_PREFIX + board, key);
  } catch {
    // Storage refused (some private modes): the key lasts as long as the address holds it.
  }
}

export interface ShareLinks {
  view: string;
  /** Present only where this page may edit. */
  edit?: string;
}

export function shareLinks(board: string, key: string | undefined): ShareLinks {
  const view = `${location.origin}/b/${board}`;
  return key ? { view, edit: `${view}#edit=${key}` } : { view };
}
