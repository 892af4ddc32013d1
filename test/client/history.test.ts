/**
 * Undo and redo as writes in the board's log, per user, on elements. Every page is a real WhiteboardSession on the
 * fake service over the memory store (the reference the Lua is tested against), so what each undo sends is checked
 * by the store itself and reaches the other pages as operations.
 */
import { History } from "../../client/core/history";
import { HISTORY_DEPTH } from "../../client/core/history";
import type { NewElement } from "../../client/core/session-api";
import { WhiteboardSession } from "../../client/core/session";
import type { UserInput } from "../../protocol/events";
import { FakeClock } from "./fakes";
import { FakeService } from "./fake-service";

const ada: UserInput = { key: "ada-key-aaaaaaaaaaaaaaaa", name: "Ada", color: "#112233" };
const bob: UserInput = { key: "bob-key-bbbbbbbbbbbbbbbb", name: "Bob", color: "#445566" };

interface Page {
  session: WhiteboardSession;
  history: History;
}

let service: FakeService;
let clock: FakeClock;
beforeEach(() => {
  service = new FakeService();
  clock = new FakeClock();
});

async function open(user: UserInput): Promise<Page> {
  const link = service.transport();
  const page: Partial<Page> = {};
  const session = new WhiteboardSession(
    { board: service.boardId, edit: service.editKey, user, transport: link, clock },
    { onChange: (change) => page.history?.observe(change) },
  );
  page.session = session;
  page.history = new History(session);
  link.connect();
  await service.drain();
  page.history.recall();
  return page as Page;
}

/** Runs `action` while the service does its work (a clear's undo waits for the store's answer). */
async function run<T>(action: () => Promise<T>): Promise<T> {
  let done = false;
  const result = action().finally(() => (done = true));
  while (!done) {
    await service.drain();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await service.drain();
  return result;
}

/** A line of a few samples, finished: its ids, recorded as one action. */
async function draw(page: Page, y = 100): Promise<string[]> {
  page.session.begin([0, y, 0], { c: "#000000", sw: 2 });
  page.session.extend([50, y, 0], [100, y + 10, 0]);
  const ids = page.session.end();
  page.history.drew(ids);
  await service.drain();
  return ids;
}

const shape: NewElement = { t: "r", b: [0, 0, 100, 100], c: "#000000", sw: 2, f: "", d: "" };
const shown = (page: Page, ids: readonly string[]) => ids.map((id) => page.session.element(id) !== undefined);

test("undoing a line hides it for everyone; redo shows it again", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const line = await draw(page);
  expect(shown(other, line)).toEqual([true]);

  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "draw" });
  expect(shown(other, line)).toEqual([false]);
  expect(await run(() => page.history.redo())).toEqual({ ok: true, kind: "draw" });
  expect(shown(other, line)).toEqual([true]);
});

test("undo goes back one action at a time, most recent first", async () => {
  const page = await open(ada);
  const first = await draw(page, 100);
  const second = await draw(page, 200);
  await run(() => page.history.undo());
  expect([...shown(page, first), ...shown(page, second)]).toEqual([true, false]);
  await run(() => page.history.undo());
  expect(shown(page, first)).toEqual([false]);
  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "nothing" });
});

test("an eraser gesture is one action: undo brings back exactly what it erased, anyone's, and nothing else", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const bobs = await draw(other, 100);
  const adas = await draw(page, 200);
  const untouched = await draw(other, 300);

  const gesture = page.history.startErasing();
  expect(gesture.erase([...bobs, ...adas])).toEqual([...bobs, ...adas]);
  // Touching an element already erased in this gesture again changes nothing.
  expect(gesture.erase(bobs)).toEqual([]);
  await service.drain();
  expect(shown(other, [...bobs, ...adas, ...untouched])).toEqual([false, false, true]);

  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "erase" });
  expect(shown(other, [...bobs, ...adas, ...untouched])).toEqual([true, true, true]);
  // Undoing the erase leaves this user's line itself on the stack.
  expect(page.history.canUndo).toBe(true);
  expect(await run(() => page.history.redo())).toEqual({ ok: true, kind: "erase" });
  expect(shown(other, [...bobs, ...adas])).toEqual([false, false]);
});

test("undo never hides someone else's element, and skips a line someone else already erased", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const older = await draw(page, 100);
  const newer = await draw(page, 200);
  const bobs = await draw(other, 300);
  other.history.startErasing().erase(newer);
  await service.drain();

  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "draw" });
  expect(shown(other, [...older, ...newer, ...bobs])).toEqual([false, false, true]);
});

test("undo, redo and undo again before the store answers: the page shows each at once, and the store ends hidden", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const line = await draw(page);
  const before = other.session.board.versionOf(line[0] as string) as number;
  await page.history.undo();
  expect(shown(page, line)).toEqual([false]);
  await page.history.redo();
  expect(shown(page, line)).toEqual([true]);
  await page.history.undo();
  expect(shown(page, line)).toEqual([false]);
  await service.drain();
  expect(shown(other, line)).toEqual([false]);
  // Hidden, shown, hidden: three changes, each raising the version by one.
  expect(other.session.board.versionOf(line[0] as string)).toBe(before + 3);
});

test("a line undone before the store has it is stored, then hidden, in that order", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  page.session.begin([0, 0, 0], { c: "#000000", sw: 2 });
  const line = page.session.end();
  page.history.drew(line);
  await page.history.undo();
  expect(shown(page, line)).toEqual([false]);
  await service.drain();
  expect(other.session.board.has(line[0] as string)).toBe(true);
  expect(shown(other, line)).toEqual([false]);
});

test("an edit's undo sets back the fields it changed, as a new edit; redo sets them again", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const [id] = page.session.create([shape]) as [string];
  page.history.drew([id]);
  await service.drain();
  page.history.edit([[id, { x: 500, c: "#ff0000" }]]);
  // Shown moved at once, before the store answers.
  expect(page.session.element(id)).toMatchObject({ x: 500, c: "#ff0000" });
  await service.drain();
  // Someone else changes another field meanwhile: the undo leaves it be (last writer per field).
  other.session.edit([[id, { w: 300 }]]);
  await service.drain();

  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "edit" });
  expect(other.session.element(id)).toMatchObject({ x: 0, c: "#000000", w: 300 });
  expect(await run(() => page.history.redo())).toEqual({ ok: true, kind: "edit" });
  expect(other.session.element(id)).toMatchObject({ x: 500, c: "#ff0000", w: 300 });
});

test("deleting a selection is one action; its undo brings the elements back", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const ids = page.session.create([shape, { ...shape, t: "e" }]);
  page.history.drew(ids);
  await service.drain();
  page.history.remove(ids);
  await service.drain();
  expect(shown(other, ids)).toEqual([false, false]);
  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "erase" });
  expect(shown(other, ids)).toEqual([true, true]);
});

test("undoing a clear undoes it for everyone; redo clears again, and that clear can be undone in turn", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const line = await draw(other);
  const cleared = await run(() => page.session.clear());
  if (!cleared.ok) throw new Error(cleared.error);
  page.history.cleared(cleared.s);
  expect(shown(other, line)).toEqual([false]);

  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "clear" });
  expect(shown(other, line)).toEqual([true]);
  expect(await run(() => page.history.redo())).toEqual({ ok: true, kind: "clear" });
  expect(shown(other, line)).toEqual([false]);
  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "clear" });
  expect(shown(other, line)).toEqual([true]);
});

test("a clear someone else undid leaves the stack; one the store no longer has is dropped with its refusal", async () => {
  const [page, other] = [await open(ada), await open(bob)];
  const line = await draw(page);
  const first = (await run(() => page.session.clear())) as { s: number };
  page.history.cleared(first.s);
  await run(() => other.session.unclear(first.s));
  page.history.clearUndone(first.s); // as the page does when the undone clear reaches it
  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "draw" });
  expect(shown(other, line)).toEqual([false]);

  await draw(page, 300);
  const second = (await run(() => page.session.clear())) as { s: number };
  page.history.cleared(second.s);
  await run(() => other.session.unclear(second.s)); // undone from elsewhere, the page not told
  expect(await run(() => page.history.undo())).toMatchObject({ ok: false, code: "gone" });
});

test("after the store lost writes (a new epoch) a clear is no longer undone by its old seq; lines still are", async () => {
  const page = await open(ada);
  const cleared = (await run(() => page.session.clear())) as { s: number };
  page.history.cleared(cleared.s);
  await draw(page);
  page.history.epochChanged();
  expect(await run(() => page.history.undo())).toEqual({ ok: true, kind: "draw" });
  expect(page.history.canUndo).toBe(false);
});

test("a new action empties the redo stack", async () => {
  const page = await open(ada);
  await draw(page);
  await run(() => page.history.undo());
  expect(page.history.canRedo).toBe(true);
  await draw(page);
  expect(page.history.canRedo).toBe(false);
});

test("after a reload the stack holds this user's visible elements, most recent on top, and nobody else's", async () => {
  const first = await open(ada);
  const line = await draw(first, 100);
  const [note] = first.session.create([{ ...shape, t: "n", sw: 16, f: "#ffee00" }]) as [string];
  await draw(await open(bob), 200);
  const erased = await draw(first, 300);
  first.history.startErasing().erase(erased);
  await service.drain();
  first.session.close();

  const reloaded = await open(ada);
  await run(() => reloaded.history.undo());
  expect([...shown(reloaded, line), ...shown(reloaded, [note])]).toEqual([true, false]);
  await run(() => reloaded.history.undo());
  expect(shown(reloaded, line)).toEqual([false]);
  expect(await run(() => reloaded.history.undo())).toEqual({ ok: true, kind: "nothing" });
});

test("a second tab of the same user undoes the first tab's lines without a reload", async () => {
  const [first, second] = [await open(ada), await open(ada)];
  const line = await draw(first);
  expect(second.history.canUndo).toBe(true);
  expect(await run(() => second.history.undo())).toEqual({ ok: true, kind: "draw" });
  expect(shown(first, line)).toEqual([false]);
  // Another user's line never joins the stack.
  await draw(await open(bob));
  expect(second.history.canUndo).toBe(false);
});

test("recall puts earlier elements beneath what was done since the page opened, and keeps the stack's depth", async () => {
  const first = await open(ada);
  first.session.create(Array.from({ length: HISTORY_DEPTH + 5 }, () => shape));
  await service.drain();
  first.session.close();
  const page = await open(ada);
  const since = await draw(page);
  page.history.recall();

  await run(() => page.history.undo());
  expect(shown(page, since)).toEqual([false]);
  let undone = 1;
  while (page.history.canUndo && (await run(() => page.history.undo())).ok) undone += 1;
  expect(undone).toBe(HISTORY_DEPTH);
});
