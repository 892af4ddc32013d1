/**
 * The browser whiteboard: the board named by the URL (`/b/<board>`, with `#edit=<key>` on an edit link), edited with
 * the tools, kept in step by client-core's session, drawn by the board view. This module only wires the parts
 * together.
 */
import "./styles.css";
import type { ElementRecord } from "../../protocol/events";
import { ID_PATTERN } from "../../protocol/events";
import { History } from "../core/history";
import { WhiteboardSession } from "../core/session";
import { SocketTransport } from "../core/socket-transport";
import { BoardView } from "./board-view";
import { StageCanvas } from "./canvas";
import { ClearOffer, unclearRefusal } from "./clear-offer";
import { Commands } from "./commands";
import { CursorLayer } from "./cursor-layer";
import { downloadPng, downloadSvg } from "./export";
import { loadUser } from "./identity";
import { IndexedDbPendingStore } from "./pending-store";
import type { Overlays } from "./overlays";
import { OWN_SCRIPT_URL } from "./own-script";
import { PointerInput, isTyping } from "./pointer-input";
import { ProfileDialog } from "./profile-dialog";
import { Selection } from "./selection";
import { SessionPort } from "./session-port";
import { editKeyFor, forgetEditKey, shareLinks } from "./share";
import { bindShortcuts } from "./shortcuts";
import { TextEditor } from "./text-editor";
import { Toolbar } from "./toolbar";
import type { Tool } from "./tools";

/** Zoom factor of one press of + or -, or of a zoom button. */
const ZOOM_STEP = 1.25;
/** Least time between two cursor positions sent: about 15 a second. */
const CURSOR_INTERVAL_MS = 66;
/** Where the pointer comes to rest is sent once more after this long (cursor messages may be dropped). */
const CURSOR_REST_MS = 400;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const board = /^\/b\/([^/]+)\/?$/.exec(location.pathname)?.[1] ?? "";
if (!ID_PATTERN.test(board)) {
  // The service serves the app only at valid board paths; anywhere else (a saved copy of the page) starts a new board.
  location.replace("/");
  throw new Error(`no board at ${location.pathname}: starting a new one`);
}
document.title = `Whiteboard · ${board.slice(0, 8)}`;

let user = loadUser();
let editKey = editKeyFor(board);
const stage = element("stage");

let recalled = false;
// The session reports only asynchronously (transport events), by which time everything below exists.
const session = new WhiteboardSession(
  {
    board,
    ...(editKey ? { edit: editKey } : {}),
    user,
    transport: new SocketTransport(),
    // What is drawn but not saved yet outlives a reload or a closed tab (docs/client.md, "Persistence").
    pendingStore: new IndexedDbPendingStore(() =>
      toolbar.notify("This browser does not keep drawings that are not saved yet: they will not outlive this page."),
    ),
  },
  {
    onChange: (change) => {
      history.observe(change);
      view.changed(change);
      // Elements that left the board leave the selection (someone erased them, an undo took them back).
      if (selection.size !== selection.elements().length || change.all)
        selection.set(selection.elements().map((e) => e.i));
      overlaysChanged();
    },
    onStatus: (status) => {
      toolbar.showConnection(status === "closed" ? "reconnecting" : status);
      // Once the board is read, this user's elements on it (from before a reload) can be undone.
      if (status === "connected" && !recalled) {
        recalled = true;
        history.recall();
        boardView.boardComplete();
      }
      if (status === "outdated") toolbar.notify("The whiteboard was updated: reload the page to go on.");
    },
    onYou: (you) => {
      toolbar.showUser(you.name, user.color);
      toolbar.showViewOnly(!you.edit);
      if (!you.edit && editKey) {
        // The key does not open this board (mistyped, or from another board): stop offering an edit link.
        forgetEditKey(board);
        editKey = undefined;
      }
    },
    onPresence: (count) => toolbar.showPresence(count),
    onCursors: (cursors) => cursorLayer.update(cursors),
    onClear: (op) => {
      clearOffer.apply(op);
      if (op.t === "u") history.clearUndone(op.of);
    },
    onNotice: (notice) => {
      if (notice.kind !== "view_only") toolbar.notify(notice.message);
    },
    onRecovered: ({ restored }) => {
      // The board has a new epoch: a clear offered or on the undo stack is named by a seq of the old one.
      clearOffer.withdraw();
      history.epochChanged();
      toolbar.notify(
        `The server lost recent changes; this page put back ${restored} element${restored === 1 ? "" : "s"}.`,
      );
    },
    onPending: () => overlaysChanged(),
  },
);
const history = new History(session, () => toolbar.showHistory(history.canUndo, history.canRedo));
const port = new SessionPort(session, history);

const toolbar = new Toolbar(
  element,
  (tool) => chooseTool(tool),
  (change) => commands.restyle(change),
);
toolbar.showUser(user.name, user.color);

const boardView: BoardView = new BoardView(
  { stage, ink: element("ink"), overlay: element("overlay") },
  { elements: () => port.elements(), pending: (): readonly ElementRecord[] => view.pending() },
  OWN_SCRIPT_URL, // the ink worker runs this very script (./page-script.ts)
);
const view = new StageCanvas({
  stage,
  chrome: element("chrome"),
  view: boardView,
  elements: () => port.elements(),
  element: (id) => port.element(id),
  overlays: () => overlays(),
  onViewChange: () => {
    toolbar.showZoom(view.viewport.zoom);
    cursorLayer.reposition();
    textEditor.reposition();
  },
});
const overlaysChanged = () => view.overlaysChanged();
const selection = new Selection(port, () => {
  toolbar.showSelection(selection.size);
  overlaysChanged();
});
const cursorLayer = new CursorLayer(element("cursors"), view.viewport, () => port.userId);
const textEditor = new TextEditor({
  stage,
  canvas: view,
  board: port,
  textStyle: () => toolbar.textStyle(),
  noteStyle: () => toolbar.noteStyle(),
  changed: overlaysChanged,
});
let cursorAt: readonly [number, number] | undefined;
let cursorTimer: ReturnType<typeof setTimeout> | undefined;
let restTimer: ReturnType<typeof setTimeout> | undefined;
/** Sends this user's pointer at most every CURSOR_INTERVAL_MS, the latest position always, and once more at rest. */
function sendCursor(point: readonly [number, number]): void {
  cursorAt = point;
  clearTimeout(restTimer);
  restTimer = setTimeout(() => session.cursor(point), CURSOR_REST_MS);
  cursorTimer ??= setTimeout(() => {
    cursorTimer = undefined;
    if (cursorAt) session.cursor(cursorAt);
  }, CURSOR_INTERVAL_MS);
}
const input = new PointerInput({
  surface: stage,
  canvas: view,
  board: port,
  selection,
  tool: () => toolbar.tool,
  style: () => toolbar.style(),
  editText: (target) => textEditor.open(target),
  cursor: sendCursor,
  overlaysChanged,
});
const commands = new Commands({
  board: port,
  selection,
  canvas: view,
  notify: (message) => toolbar.notify(message),
  fileName: `whiteboard-${board}`,
});

/** What the board view draws above the board: the gesture's previews, the text being edited, the selection. */
function overlays(): Overlays {
  const gesture = input.overlays();
  const hidden = new Set(gesture.hidden);
  const editing = textEditor.editingId;
  if (editing) hidden.add(editing);
  return { ...gesture, hidden, selection: selection.overlay(gesture.previews, input.handlesShown) };
}

function chooseTool(tool: Tool): void {
  stage.dataset.tool = tool;
  input.cancel();
  if (tool !== "select") selection.clear();
  overlaysChanged();
}
chooseTool(toolbar.tool);

const clearOffer = new ClearOffer({
  bar: element("clear-offer"),
  text: element("clear-offer-text"),
  button: element("undo-clear"),
  unclear: (of) => session.unclear(of),
  describe: (userId) => (userId === port.userId ? "You" : (cursorLayer.nameOf(userId) ?? "Someone")),
  notify: (message) => toolbar.notify(message),
});
const profile = new ProfileDialog({
  dialog: element("profile"),
  form: element("profile-form"),
  name: element("profile-name"),
  color: element("profile-color"),
  cancel: element("profile-cancel"),
  user: () => user,
  changed: (updated) => {
    user = updated;
    session.setUser(user);
    toolbar.showUser(user.name, user.color);
  },
});

async function step(direction: "undo" | "redo"): Promise<void> {
  // What is still under the pointer is not finished: nothing to undo yet.
  if (input.busy) return;
  textEditor.finish();
  const outcome = direction === "undo" ? await port.undo() : await port.redo();
  if (!outcome.ok) toolbar.notify(direction === "undo" ? unclearRefusal(outcome) : `Not redone: ${outcome.error}`);
}

async function clearBoard(): Promise<void> {
  if (port.elements().length === 0) return toolbar.notify("The board is already empty.");
  if (!confirm("Clear the board for everyone? Anyone on it can undo this for a minute.")) return;
  const ack = await port.clear();
  if (!ack.ok)
    toolbar.notify(
      ack.code === "rate_limited"
        ? `Not cleared: ${ack.error}. Try again in a few seconds.`
        : `Not cleared: ${ack.error}`,
    );
}

function zoomBy(factor: number): void {
  const { width, height } = view.viewport.size;
  view.viewport.zoomAt(width / 2, height / 2, factor);
  view.viewChanged();
}

/** Arrow keys: the selection moves (one edit per press), or the view pans when nothing is selected. */
function nudge(dx: number, dy: number): void {
  const selected = selection.elements();
  if (selected.length === 0 || !port.canEdit) {
    view.viewport.panBy(-dx * 5, -dy * 5);
    return view.viewChanged();
  }
  const scale = view.viewport.scale;
  const [ux, uy] = [Math.round(dx / scale), Math.round(dy / scale)];
  port.edit(selected.map((element) => [element.i, { x: element.x + ux, y: element.y + uy }]));
}

const help = element<HTMLDialogElement>("help");
const toggleHelp = () => (help.open ? help.close() : help.showModal());
const exportName = `whiteboard-${board}`;
const shareDialog = element<HTMLDialogElement>("share-dialog");

function openShare(): void {
  const links = shareLinks(board, port.canEdit ? editKey : undefined);
  element<HTMLInputElement>("view-link").value = links.view;
  element("edit-link-row").hidden = links.edit === undefined;
  element<HTMLInputElement>("edit-link").value = links.edit ?? "";
  shareDialog.showModal();
}

async function copyLink(input: HTMLInputElement, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(input.value);
    toolbar.notify(`${what} copied.`);
  } catch {
    // Clipboard access needs permission; the link is selected for Ctrl+C instead.
    input.select();
  }
}

toolbar.on("undo", () => void step("undo"));
toolbar.on("redo", () => void step("redo"));
toolbar.on("zoom-in", () => zoomBy(ZOOM_STEP));
toolbar.on("zoom-out", () => zoomBy(1 / ZOOM_STEP));
toolbar.on("zoom-reset", () => zoomBy(1 / view.viewport.zoom));
toolbar.on("zoom-fit", () => commands.zoomToFit());
toolbar.on("zoom-selection", () => commands.zoomToSelection());
toolbar.on("duplicate", () => commands.duplicate());
toolbar.on("delete", () => commands.deleteSelection());
toolbar.on("bring-front", () => commands.restack(1));
toolbar.on("send-back", () => commands.restack(-1));
toolbar.on("copy", () => void commands.copyToClipboard(false));
toolbar.on("cut", () => void commands.copyToClipboard(true));
toolbar.on("paste", () => void commands.pasteFromClipboard());
toolbar.on("select-all", () => {
  toolbar.selectTool("select");
  commands.selectAll();
});
toolbar.on("export-png", () => void downloadPng(port.elements(), exportName));
toolbar.on("export-svg", () => downloadSvg(port.elements(), exportName));
toolbar.on("export-json", () => commands.exportFile());
toolbar.on("import-json", () => element("import-file").click());
toolbar.on("clear", () => void clearBoard());
toolbar.on("new-board", () => location.assign("/"));
toolbar.on("share", openShare);
toolbar.on("open-help", toggleHelp);
toolbar.on("open-profile", () => profile.open());
element("close-help").addEventListener("click", () => help.close());
element("close-share").addEventListener("click", () => shareDialog.close());
element("copy-edit-link").addEventListener("click", () => void copyLink(element("edit-link"), "Edit link"));
element("copy-view-link").addEventListener("click", () => void copyLink(element("view-link"), "View-only link"));
element<HTMLInputElement>("import-file").addEventListener("change", (event) => {
  const picker = event.target as HTMLInputElement;
  const file = picker.files?.[0];
  picker.value = "";
  if (file) void commands.importFile(file);
});

// The system clipboard's own events: Ctrl+C/X/V and the browser's menu, with no permission prompt.
const clipboardIsOurs = (event: Event) =>
  !isTyping(event.target) && !(event.target as Element | null)?.closest?.("dialog");
addEventListener("copy", (event) => clipboardIsOurs(event) && commands.copyEvent(event, false));
addEventListener("cut", (event) => clipboardIsOurs(event) && port.canEdit && commands.copyEvent(event, true));
addEventListener("paste", (event) => {
  if (!clipboardIsOurs(event) || !port.canEdit) return;
  const text = event.clipboardData?.getData("text/plain");
  if (!text) return;
  event.preventDefault();
  commands.paste(text);
});

bindShortcuts({
  undo: () => void step("undo"),
  redo: () => void step("redo"),
  tool: (tool) => port.canEdit && toolbar.selectTool(tool),
  zoomIn: () => zoomBy(ZOOM_STEP),
  zoomOut: () => zoomBy(1 / ZOOM_STEP),
  zoomReset: () => zoomBy(1 / view.viewport.zoom),
  zoomToFit: () => commands.zoomToFit(),
  zoomToSelection: () => commands.zoomToSelection(),
  duplicate: () => commands.duplicate(),
  deleteSelection: () => commands.deleteSelection(),
  selectAll: () => {
    toolbar.selectTool("select");
    commands.selectAll();
  },
  restack: (direction) => commands.restack(direction),
  escape: () => {
    input.cancel();
    selection.clear();
  },
  nudge,
  help: toggleHelp,
});

// A read-only handle for automation: the browser tests and the catch-up benchmark read the page through it.
Object.assign(window, {
  whiteboard: {
    board,
    userId: () => port.userId,
    canEdit: () => port.canEdit,
    elements: () => port.elements(),
    elementIds: () => port.elements().map((element) => element.i),
    selectedIds: () => selection.elements().map((element) => element.i),
    pendingCount: () => session.pendingWrites,
    connection: () => session.status,
    zoom: () => view.viewport.zoom,
    /** Board point (units) to page position (CSS pixels), for tests that point at elements. */
    toPage: (x: number, y: number) => {
      const [sx, sy] = view.viewport.toScreen(x, y);
      const rect = stage.getBoundingClientRect();
      return [rect.left + sx, rect.top + sy];
    },
    /**
     * When the catch-up reached the screen (ms since navigation start). Reads nothing of the board, so that polling it
     * while a large board arrives does not slow that down (the board's elements are sorted when first asked for).
     */
    stats: () => ({ ...boardView.paintTimes }),
  },
});
