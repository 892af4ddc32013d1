/**
 * The browser whiteboard: the board named by the URL (`/b/<board>`, or the default board at `/`), drawn
 * with pointer events (mouse, touch, pen), kept in step by a WhiteboardSession.
 */
import "./styles.css";
import { ID_PATTERN } from "../../protocol/events";
import { WhiteboardSession } from "../core/session";
import { BoardView } from "./board-view";
import { Toolbar } from "./toolbar";

const DEFAULT_BOARD = "lobby";

function boardFromLocation(): string {
  const match = /^\/b\/([^/]+)\/?$/.exec(location.pathname);
  const board = match?.[1] ?? DEFAULT_BOARD;
  return ID_PATTERN.test(board) ? board : DEFAULT_BOARD;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const board = boardFromLocation();
document.title = board === DEFAULT_BOARD ? "Whiteboard" : `${board} · Whiteboard`;
const toolbar = new Toolbar({
  colors: element("colors"),
  widths: element("widths"),
  clear: element("clear"),
  newBoard: element("new-board"),
  share: element("share"),
  presence: element("presence"),
  connection: element("connection"),
  notice: element("notice"),
});

// The session reports only asynchronously (socket events), by which time `view` exists.
const session = new WhiteboardSession(
  { board },
  {
    onRedraw: () => view.invalidate(),
    onAppend: (strokes, outOfOrder) => {
      view.append(strokes);
      if (outOfOrder) view.invalidateSoon(); // restore the stacking once the burst is over
    },
    onPending: () => view.pendingChanged(),
    onState: (state) => toolbar.showConnection(state),
    onPresence: (count) => toolbar.showPresence(count),
    onRefused: (_stroke, ack) => toolbar.notify(`Stroke not saved: ${ack.error}`),
  },
);
const view = new BoardView(element("stage"), element("board"), element("strokes"), element("pending"), {
  strokes: () => session.board.strokes(),
  pending: () => session.outbox.pending.filter((stroke) => !session.board.has(stroke.id)),
});

toolbar.onClear(async () => {
  if (!confirm("Clear the board for everyone?")) return;
  const ack = await session.clear();
  if (!ack.ok) toolbar.notify(`Not cleared: ${ack.error}`);
});

const surface = element("board");
let activePointer: number | undefined;
surface.addEventListener("pointerdown", (event) => {
  if (activePointer !== undefined || event.button > 0) return;
  activePointer = event.pointerId;
  surface.setPointerCapture(event.pointerId);
  session.begin(view.toPoint(event), toolbar.pen);
});
surface.addEventListener("pointermove", (event) => {
  if (event.pointerId !== activePointer) return;
  // Coalesced events carry every sample the hardware made since the last frame: smoother lines.
  for (const sample of event.getCoalescedEvents?.() ?? [event]) session.extend(view.toPoint(sample));
});
for (const type of ["pointerup", "pointercancel"] as const) {
  surface.addEventListener(type, (event) => {
    if (event.pointerId !== activePointer) return;
    activePointer = undefined;
    session.end();
  });
}

// A read-only handle for automation (the browser tests read the rendered stroke list through it).
Object.assign(window, {
  whiteboard: {
    board,
    strokeIds: () => session.board.strokes().map((stroke) => stroke.id),
    pendingCount: () => session.outbox.size,
    connection: () => session.connection,
  },
});
