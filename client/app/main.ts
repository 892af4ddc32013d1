/**
 * The browser whiteboard: the board named by the URL (`/b/<board>`), drawn and erased with pointer events
 * (mouse, touch, pen), panned and zoomed, kept in step by a WhiteboardSession, with undo and redo of this
 * user's own actions. This module only wires the parts together.
 */
import "./styles.css";
import type { ErrorAck } from "../../protocol/events";
import { ID_PATTERN } from "../../protocol/events";
import { newBoardId } from "../../protocol/random-id";
import { History, type Outcome } from "../core/history";
import { WhiteboardSession } from "../core/session";
import { BoardView } from "./board-view";
import { ClearOffer, unclearRefusal } from "./clear-offer";
import { CursorLayer } from "./cursor-layer";
import { downloadPng, downloadSvg } from "./export";
import { loadUser } from "./identity";
import { PointerInput, type Tool } from "./pointer-input";
import { ProfileDialog } from "./profile-dialog";
import { bindShortcuts } from "./shortcuts";
import { Toolbar } from "./toolbar";

/** The ink worker's script, named by the build (client/build.mjs); undefined in a build without it. */
declare const INK_WORKER_URL: string | undefined;

/** Zoom factor of one press of + or -, or of a zoom button. */
const ZOOM_STEP = 1.25;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const board = /^\/b\/([^/]+)\/?$/.exec(location.pathname)?.[1] ?? "";
if (!ID_PATTERN.test(board)) {
  // The service serves the app only at valid board paths; anywhere else (a saved copy of the page) starts a new board.
  location.replace(`/b/${newBoardId()}`);
  throw new Error(`no board at ${location.pathname}: starting a new one`);
}
document.title = `Whiteboard · ${board.slice(0, 8)}`;

let user = loadUser();
const stage = element("stage");
const showTool = (tool: Tool) => {
  stage.classList.toggle("drawing", tool === "pen");
  stage.classList.toggle("erasing", tool === "eraser");
};
const toolbar = new Toolbar(element, (tool) => {
  showTool(tool);
  view.showEraser(undefined);
});
showTool(toolbar.tool);
toolbar.showUser(user);

// The session reports only asynchronously (socket events), by which time everything below exists.
let caughtUp = false;
const session = new WhiteboardSession(
  { board, user },
  {
    onChange: (applied) => view.apply(applied),
    onPending: () => view.pendingChanged(),
    onState: (state) => {
      toolbar.showConnection(state);
      if (state !== "connected" || caughtUp) return;
      caughtUp = true;
      history.recall();
      view.boardComplete();
    },
    onPresence: (count) => toolbar.showPresence(count),
    onCursors: (cursors) => cursorLayer.update(cursors),
    onClear: (op) => {
      clearOffer.apply(op);
      if (op.t === "u") history.clearUndone(op.of);
    },
    onRefused: (_stroke, ack) => toolbar.notify(`A stroke was not saved: ${ack.error}`),
    onStorageFull: () =>
      toolbar.notify("The whiteboard's storage is full: your strokes will be saved once space is freed."),
    onRecovered: ({ restored, rehidden }) => {
      // The board has a new epoch: a clear offered or on the undo stack is named by a seq of the old one.
      clearOffer.withdraw();
      history.epochChanged();
      const erased = rehidden > 0 ? ` and erased ${rehidden} again` : "";
      toolbar.notify(`The store lost recent changes; this page restored ${restored} strokes${erased}.`);
    },
  },
);
const history = new History(session, () => toolbar.showHistory(history.canUndo, history.canRedo));
const view = new BoardView(
  { stage, paper: element("paper"), ink: element("ink"), overlay: element("overlay") },
  {
    strokes: () => session.board.strokes(),
    // Chunks still on their way, less those the board holds already or that undo took back.
    pending: () => session.outbox.pending.filter((chunk) => !session.board.has(chunk.id) && !history.hides(chunk.id)),
  },
  () => {
    toolbar.showZoom(view.viewport.zoom);
    cursorLayer.reposition();
  },
  typeof INK_WORKER_URL === "string" ? INK_WORKER_URL : undefined,
);
const cursorLayer = new CursorLayer(element("cursors"), view.viewport, () => user.id);
const input = new PointerInput({
  surface: stage,
  view,
  session,
  history,
  tool: () => toolbar.tool,
  pen: () => toolbar.pen,
});
const clearOffer = new ClearOffer({
  bar: element("clear-offer"),
  text: element("clear-offer-text"),
  button: element("undo-clear"),
  unclear: (of) => session.unclear(of),
  describe: (userId) => (userId === user.id ? "You" : (cursorLayer.nameOf(userId) ?? "Someone")),
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
    toolbar.showUser(user);
  },
});

async function step(direction: "undo" | "redo"): Promise<void> {
  // A line or an eraser stroke still under the pointer is not finished: nothing to undo yet.
  if (input.busy) return;
  const outcome: Outcome = direction === "undo" ? await history.undo() : await history.redo();
  if (!outcome.ok) toolbar.notify(direction === "undo" ? unclearRefusal(outcome) : clearRefusal(outcome));
}

function clearRefusal(ack: ErrorAck): string {
  return ack.code === "rate_limited"
    ? `Not cleared: ${ack.error}. Try again in a few seconds.`
    : `Not cleared: ${ack.error}`;
}

async function clearBoard(): Promise<void> {
  if (session.board.strokes().length === 0) return toolbar.notify("The board is already empty.");
  if (!confirm("Clear the board for everyone? Anyone on it can undo this for a minute.")) return;
  const ack = await session.clear();
  if (ack.ok) history.cleared(ack.s);
  else toolbar.notify(clearRefusal(ack));
}

function zoomBy(factor: number): void {
  const { width, height } = view.viewport.size;
  view.zoomAt(width / 2, height / 2, factor);
}

const help = element<HTMLDialogElement>("help");
const toggleHelp = () => (help.open ? help.close() : help.showModal());
const exportName = `whiteboard-${board}`;

toolbar.on("undo", () => void step("undo"));
toolbar.on("redo", () => void step("redo"));
toolbar.on("clear", () => void clearBoard());
toolbar.on("zoom-in", () => zoomBy(ZOOM_STEP));
toolbar.on("zoom-out", () => zoomBy(1 / ZOOM_STEP));
toolbar.on("zoom-reset", () => view.resetView());
toolbar.on("export-png", () => void downloadPng(session.board.strokes(), exportName));
toolbar.on("export-svg", () => downloadSvg(session.board.strokes(), exportName));
toolbar.on("open-help", toggleHelp);
toolbar.on("open-profile", () => profile.open());
element("close-help").addEventListener("click", () => help.close());
bindShortcuts({
  undo: () => void step("undo"),
  redo: () => void step("redo"),
  pen: () => toolbar.selectTool("pen"),
  eraser: () => toolbar.selectTool("eraser"),
  zoomIn: () => zoomBy(ZOOM_STEP),
  zoomOut: () => zoomBy(1 / ZOOM_STEP),
  resetView: () => view.resetView(),
  pan: (dx, dy) => view.panBy(dx, dy),
  help: toggleHelp,
});

// A read-only handle for automation: the browser tests and the catch-up benchmark read the page through it.
Object.assign(window, {
  whiteboard: {
    board,
    userId: () => user.id,
    strokeIds: () => session.board.strokes().map((stroke) => stroke.i),
    pendingCount: () => session.outbox.size,
    connection: () => session.connection,
    zoom: () => view.viewport.zoom,
    /**
     * When the catch-up reached the screen (ms since navigation start), and the visible strokes, counted once
     * the board is read (counting sorts the board: polling it earlier would slow the catch-up it measures).
     */
    stats: () => ({ strokes: caughtUp ? session.board.strokes().length : undefined, ...view.paintTimes }),
    /** Whether the ink canvas has ink along the board's row at `y` (a fraction of its height); asks the ink's worker. */
    inkAt: (y: number) => view.inkAt(y),
  },
});
