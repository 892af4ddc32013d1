/**
 * Undo and redo as operations in the board's log. The store is the memory store (the reference the Lua is
 * tested against), every page holds a real BoardState fed with the operations the store produced, and each
 * page's History acts through it, so the versions asked for are checked by the store itself.
 */
import { BoardState } from "../../client/core/board-state";
import { HISTORY_DEPTH, History, type HistoryTarget } from "../../client/core/history";
import type { BoardOp, UserInfo, WriteAck } from "../../protocol/events";
import { encodePoints } from "../../protocol/points";
import { strokeBody, type BoardLimits, type Written } from "../../service/store/board-store";
import { MemoryBoardStore } from "../../service/store/memory-board-store";

const BOARD = "history";
const LIMITS: BoardLimits = {
  maxStrokes: 10_000,
  maxBytes: 10_000_000,
  pageBytes: 2_000,
  logBytes: 1_000_000,
  readBytes: 100_000,
  idleTtlSeconds: 600,
  clearIntervalMs: 0,
  undoClearMs: 600_000,
};

/** One board in a memory store, and the pages open on it; every stored operation reaches every page. */
class Room {
  readonly store = new MemoryBoardStore(LIMITS);
  readonly log: BoardOp[] = [];
  readonly pages: Page[] = [];
  private lineCounter = 0;

  open(user: UserInfo): Page {
    const page = new Page(this, user);
    page.board.applyOps(this.log);
    this.pages.push(page);
    return page;
  }

  /** Stores a line of `chunks` chunks drawn by `user`; returns the chunk ids. */
  async draw(user: UserInfo, chunks = 2): Promise<string[]> {
    this.lineCounter += 1;
    const ids = Array.from({ length: chunks }, (_, index) => `line${this.lineCounter}-${index + 1}`);
    await this.stroke(user, ids);
    return ids;
  }

  async stroke(user: UserInfo, ids: readonly string[]): Promise<void> {
    const p = encodePoints([
      [100, 100],
      [200, 200],
    ]);
    this.deliver(
      await this.store.addStrokes(
        BOARD,
        user.id,
        ids.map((id) => ({ id, v: 0, body: strokeBody({ id, p, c: "#000000", w: 2 }, user.id) })),
      ),
    );
  }

  deliver(written: Written): void {
    const ops = JSON.parse(written.ops) as BoardOp[];
    this.log.push(...ops);
    for (const page of this.pages) page.board.applyOps(ops);
  }
}

/** A page as the History sees it: what WhiteboardSession offers, with writes that can be held back. */
class Page implements HistoryTarget {
  readonly board = new BoardState();
  readonly history: History;
  /** Writes not sent to the store yet (while `holding`), in order. */
  private readonly held: (() => Promise<void>)[] = [];
  holding = false;
  readonly sent: { kind: "erase" | "restore"; x: [string, number][] }[] = [];

  constructor(
    private readonly room: Room,
    readonly user: UserInfo,
  ) {
    this.history = new History(this);
  }

  erase(x: [string, number][]): void {
    // As the session does: strokes held are hidden at once, before the store answers.
    for (const [id, version] of x) this.board.hideLocally(id, version);
    this.visibility("erase", x);
  }

  restore(x: [string, number][]): void {
    this.visibility("restore", x);
  }

  async clear(): Promise<WriteAck> {
    const written = await this.room.store.clear(BOARD, this.user.id);
    this.room.deliver(written);
    return { ok: true, s: written.s };
  }

  async unclear(of: number): Promise<WriteAck> {
    const written = await this.room.store.unclear(BOARD, this.user.id, of);
    if (written.outcome === "gone") return { ok: false, code: "gone", error: "gone" };
    this.room.deliver(written);
    return { ok: true, s: written.s };
  }

  /** Sends the writes held back, in order. */
  async release(): Promise<void> {
    this.holding = false;
    for (const write of this.held.splice(0)) await write();
  }

  visible(ids: readonly string[]): boolean[] {
    return ids.map((id) => this.board.isVisible(id));
  }

  private visibility(kind: "erase" | "restore", x: [string, number][]): void {
    this.sent.push({ kind, x });
    const write = async () => this.room.deliver(await this.room.store.setVisibility(BOARD, this.user.id, x));
    if (this.holding) this.held.push(write);
    else void write();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const ada: UserInfo = { id: "ada-00000001", name: "Ada", color: "#112233" };
const bob: UserInfo = { id: "bob-00000001", name: "Bob", color: "#445566" };

let room: Room;
beforeEach(() => {
  room = new Room();
});

test("undoing a line hides every chunk of it for everyone; redo shows it again", async () => {
  const [page, other] = [room.open(ada), room.open(bob)];
  const line = await room.draw(ada, 3);
  page.history.drew(line);

  expect(await page.history.undo()).toEqual({ ok: true, kind: "draw" });
  await settle();
  expect(other.visible(line)).toEqual([false, false, false]);
  expect(page.history.canRedo).toBe(true);

  expect(await page.history.redo()).toEqual({ ok: true, kind: "draw" });
  await settle();
  expect(other.visible(line)).toEqual([true, true, true]);
  expect(line.map((id) => other.board.versionOf(id))).toEqual([2, 2, 2]);
});

test("undo goes back one action at a time, most recent first", async () => {
  const page = room.open(ada);
  const first = await room.draw(ada);
  page.history.drew(first);
  const second = await room.draw(ada);
  page.history.drew(second);

  await page.history.undo();
  await settle();
  expect([...page.visible(first), ...page.visible(second)]).toEqual([true, true, false, false]);
  await page.history.undo();
  await settle();
  expect(page.visible(first)).toEqual([false, false]);
  expect(await page.history.undo()).toEqual({ ok: true, kind: "nothing" });
});

test("an eraser gesture is one action: undo brings back exactly what it erased, anyone's, and nothing else", async () => {
  const [page, other] = [room.open(ada), room.open(bob)];
  const bobs = await room.draw(bob, 1);
  const adas = await room.draw(ada, 1);
  const untouched = await room.draw(bob, 1);

  const gesture = page.history.startErasing();
  expect(gesture.erase([...bobs, ...adas])).toEqual([...bobs, ...adas]);
  // Touching a stroke already erased in this gesture again changes nothing.
  expect(gesture.erase(bobs)).toEqual([]);
  await settle();
  expect(other.visible([...bobs, ...adas, ...untouched])).toEqual([false, false, true]);

  expect(await page.history.undo()).toEqual({ ok: true, kind: "erase" });
  await settle();
  expect(other.visible([...bobs, ...adas, ...untouched])).toEqual([true, true, true]);
  expect(page.history.canUndo).toBe(false);

  expect(await page.history.redo()).toEqual({ ok: true, kind: "erase" });
  await settle();
  expect(other.visible([...bobs, ...adas])).toEqual([false, false]);
});

test("undo never hides someone else's stroke, and skips a line someone else already erased", async () => {
  const [page, other] = [room.open(ada), room.open(bob)];
  const older = await room.draw(ada, 1);
  page.history.drew(older);
  const newer = await room.draw(ada, 1);
  page.history.drew(newer);
  const bobs = await room.draw(bob, 1);
  other.history.startErasing().erase(newer);
  await settle();

  // The newer line is gone already: undo passes over it and takes back the older one.
  expect(await page.history.undo()).toEqual({ ok: true, kind: "draw" });
  await settle();
  expect(other.visible([...older, ...newer, ...bobs])).toEqual([false, false, true]);
  expect(page.sent.flatMap((change) => change.x.map(([id]) => id))).toEqual(older);
});

test("undo, redo and undo again before the store answers ask for versions 1, 2 and 3, and the store ends hidden", async () => {
  const page = room.open(ada);
  const line = await room.draw(ada, 1);
  page.history.drew(line);
  page.holding = true;

  await page.history.undo();
  await page.history.redo();
  await page.history.undo();
  expect(page.sent.map((change) => [change.kind, change.x])).toEqual([
    ["erase", [[line[0], 1]]],
    ["restore", [[line[0], 2]]],
    ["erase", [[line[0], 3]]],
  ]);
  await page.release();
  expect(page.visible(line)).toEqual([false]);
  expect(page.board.versionOf(line[0] as string)).toBe(3);
});

test("a line undone before its chunks are stored is stored hidden", async () => {
  const [page, other] = [room.open(ada), room.open(bob)];
  const chunks = ["early-1", "early-2"];
  page.history.drew(chunks);

  await page.history.undo();
  await settle();
  expect(page.history.hides("early-1")).toBe(true);
  await room.stroke(ada, chunks);

  expect(other.board.versionOf("early-1")).toBe(1);
  expect(other.visible(chunks)).toEqual([false, false]);
});

test("undoing a clear undoes it for everyone; redo clears again, and that clear can be undone in turn", async () => {
  const [page, other] = [room.open(ada), room.open(bob)];
  const line = await room.draw(bob, 2);
  const cleared = await page.clear();
  page.history.cleared((cleared as { s: number }).s);
  expect(other.visible(line)).toEqual([false, false]);

  expect(await page.history.undo()).toEqual({ ok: true, kind: "clear" });
  expect(other.visible(line)).toEqual([true, true]);
  expect(await page.history.redo()).toEqual({ ok: true, kind: "clear" });
  expect(other.visible(line)).toEqual([false, false]);
  expect(await page.history.undo()).toEqual({ ok: true, kind: "clear" });
  expect(other.visible(line)).toEqual([true, true]);
});

test("a clear someone else undid leaves the stack; one the store forgot is dropped with its refusal", async () => {
  const page = room.open(ada);
  const line = await room.draw(ada, 1);
  page.history.drew(line);
  const first = (await page.clear()) as { s: number };
  page.history.cleared(first.s);

  await room.open(bob).unclear(first.s);
  page.history.clearUndone(first.s); // as the page does when the undone clear reaches it
  expect(await page.history.undo()).toEqual({ ok: true, kind: "draw" });

  await room.draw(ada, 1);
  const second = (await page.clear()) as { s: number };
  page.history.cleared(second.s);
  await room.open(bob).unclear(second.s); // undone from elsewhere, the page not told
  expect(await page.history.undo()).toMatchObject({ ok: false, code: "gone" });
  expect(page.history.canUndo).toBe(false);
});

test("after the store lost writes (a new epoch) a clear is no longer undone by its old seq; lines still are", async () => {
  const page = room.open(ada);
  const cleared = (await page.clear()) as { s: number };
  page.history.cleared(cleared.s);
  page.history.drew(await room.draw(ada, 1));

  page.history.epochChanged();
  // The clear's seq names another operation now: the line drawn after it is undone, then nothing is left.
  expect(await page.history.undo()).toEqual({ ok: true, kind: "draw" });
  expect(page.history.canUndo).toBe(false);
});

test("a new action empties the redo stack", async () => {
  const page = room.open(ada);
  page.history.drew(await room.draw(ada));
  await page.history.undo();
  expect(page.history.canRedo).toBe(true);
  page.history.drew(await room.draw(ada));
  expect(page.history.canRedo).toBe(false);
});

test("after a reload the stack holds this user's visible lines, one action per line, most recent on top", async () => {
  const first = await room.draw(ada, 3);
  await room.draw(bob, 1);
  const second = await room.draw(ada, 2);
  const erased = await room.draw(ada, 1);
  await room.open(bob).history.startErasing().erase(erased);
  await settle();

  const reloaded = room.open(ada);
  reloaded.history.recall();
  await reloaded.history.undo();
  await settle();
  expect([...reloaded.visible(first), ...reloaded.visible(second)]).toEqual([true, true, true, false, false]);
  await reloaded.history.undo();
  await settle();
  expect(reloaded.visible(first)).toEqual([false, false, false]);
  expect(await reloaded.history.undo()).toEqual({ ok: true, kind: "nothing" });
  expect(reloaded.sent.flatMap((change) => change.x.map(([id]) => id)).sort()).toEqual([...first, ...second].sort());
});

test("recall puts earlier lines beneath what was done since the page opened, and keeps the stack's depth", async () => {
  for (let line = 0; line < HISTORY_DEPTH + 5; line += 1) await room.draw(ada, 1);
  const page = room.open(ada);
  const since = await room.draw(ada, 1);
  page.history.drew(since);
  page.history.recall();

  await page.history.undo();
  await settle();
  expect(page.visible(since)).toEqual([false]);
  let undone = 1;
  while (page.history.canUndo && (await page.history.undo()).ok) undone += 1;
  expect(undone).toBe(HISTORY_DEPTH);
});
