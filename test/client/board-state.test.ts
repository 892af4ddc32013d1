/**
 * BoardState must converge to the store's board whatever order, duplication and mix of live operations and
 * snapshots the network delivers. The store is the memory store (the reference the Lua is tested against), driven by
 * random operations of every kind (adds of every element kind, appends, erase, restore, edits, moves to the front or
 * back, clears and their undoing); the client sees some of them live, in any order, and snapshots taken at any moment.
 * Converging means holding every record the store's snapshot holds, field for field, and showing exactly its visible
 * elements in its stacking order.
 */
import fc from "fast-check";
import { BoardState } from "../../client/core/board-state";
import type { BoardOp, ElementKind, ElementTuple, Snapshot } from "../../protocol/events";
import { ELEMENT_KINDS } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { elementId, elementInput, LIMITS, StoreBoard, type SnapshotPage } from "./store-board";

const USER = "user-aaaaaaaaaaaa";

type Action =
  | { kind: "add"; id: number; t: ElementKind }
  | { kind: "append"; id: number }
  | { kind: "visibility"; ids: number[]; show: boolean }
  | { kind: "edit"; id: number; patch: "move" | "colour" | "front" | "back" }
  | { kind: "clear" }
  | { kind: "unclear"; back: number };

const ID_COUNT = 10;
const anId = fc.integer({ min: 0, max: ID_COUNT - 1 });

export const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("add" as const), id: anId, t: fc.constantFrom(...ELEMENT_KINDS) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("append" as const), id: anId }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("visibility" as const),
      ids: fc.array(anId, { minLength: 1, maxLength: 3 }),
      show: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      id: anId,
      patch: fc.constantFrom("move" as const, "colour" as const, "front" as const, "back" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unclear" as const), back: fc.integer({ min: 0, max: 2 }) }) },
);

/** Runs an action against the store; returns the operations it stored. */
export async function perform(board: StoreBoard, act: Action, user = USER): Promise<BoardOp[]> {
  switch (act.kind) {
    case "add":
      return board.add(user, elementInput(act.id, act.t));
    case "append": {
      const held = (await board.truth()).records.get(elementId(act.id));
      const n = (held?.n ?? 0) + 1;
      return board.append(user, { i: elementId(act.id), n, d: encodeSamples([[n, 1, 3]]), b: [act.id, act.id, n, 1] });
    }
    case "visibility":
      return board.visibility(user, act.ids.map(elementId), act.show);
    case "edit": {
      const id = elementId(act.id);
      const patch =
        act.patch === "move"
          ? { x: act.id * 7, y: -act.id }
          : act.patch === "colour"
            ? { c: `#00000${act.id}` }
            : { o: act.patch === "front" ? (1 as const) : (-1 as const) };
      return board.edit(user, [[id, patch]]);
    }
    case "clear":
      return board.clear(user);
    case "unclear":
      return board.unclear(user, board.clears[board.clears.length - 1 - act.back] ?? 1);
  }
}

/** What the store produced: every operation in seq order, a full snapshot after each action, and the final board. */
interface Run {
  board: StoreBoard;
  ops: BoardOp[];
  snapshots: { pages: SnapshotPage[]; ops: BoardOp[] }[];
}

async function run(actions: readonly Action[]): Promise<Run> {
  const board = new StoreBoard();
  const snapshots: Run["snapshots"] = [];
  for (const act of actions) {
    await perform(board, act);
    snapshots.push(await board.snapshot());
  }
  return { board, ops: board.ops, snapshots };
}

function readSnapshot(state: BoardState, { pages }: Run["snapshots"][number]): void {
  const first = pages[0] as SnapshotPage;
  state.reset(first.e);
  for (const page of pages) state.applySnapshot(page.snapshot);
  state.finishSnapshot(first.s);
}

/** The client holds every record the store's live pages hold, as they are, and shows exactly the visible ones. */
async function expectConverged(state: BoardState, board: StoreBoard): Promise<void> {
  const truth = await board.truth();
  expect(state.elements().map((record) => record.i)).toEqual(truth.visible);
  for (const [id, record] of truth.records) expect(state.get(id)).toEqual(record);
  expect(state.hasGap).toBe(false);
}

/** The session's last step: the operations after its watermark, then a snapshot if an undone clear needs one. */
function catchUp(state: BoardState, r: Run): void {
  state.applyOps(r.ops.filter((op) => op.s > state.watermark));
  if (state.needsSnapshot) {
    readSnapshot(state, r.snapshots.at(-1) as Run["snapshots"][number]);
    state.applyOps(r.ops.filter((op) => op.s > state.watermark));
  }
}

const scenario = fc.array(action, { minLength: 1, maxLength: 30 });

test("live operations delivered in any order, with duplicates, converge to the store's board", async () => {
  await fc.assert(
    fc.asyncProperty(scenario, fc.array(fc.nat(), { maxLength: 60 }), async (actions, picks) => {
      const r = await run(actions);
      if (r.ops.length === 0) return;
      const state = new BoardState();
      state.reset(r.snapshots.at(-1)?.pages[0]?.e ?? "");
      const order = [...r.ops.keys()].sort((a, b) => ((picks[a] ?? a) % 7) - ((picks[b] ?? b) % 7));
      for (const index of [...order, ...picks.slice(0, 5).map((pick) => pick % r.ops.length)])
        state.applyOps([r.ops[index] as BoardOp]);
      expect(state.watermark).toBe(r.ops.at(-1)?.s);
      await expectConverged(state, r.board);
    }),
    { numRuns: 200 },
  );
});

test("snapshots taken at any moment, mixed with any subset of live operations, converge after the final catch-up", async () => {
  type Delivery = { kind: "op"; index: number } | { kind: "snapshot"; after: number };
  const delivery: fc.Arbitrary<Delivery> = fc.oneof(
    fc.nat().map((index): Delivery => ({ kind: "op", index })),
    fc.nat().map((after): Delivery => ({ kind: "snapshot", after })),
  );
  await fc.assert(
    fc.asyncProperty(scenario, fc.array(delivery, { maxLength: 40 }), async (actions, deliveries) => {
      const r = await run(actions);
      const written = r.snapshots.filter((snapshot) => snapshot.pages[0]?.e !== "0");
      if (written.length === 0) return;
      const state = new BoardState();
      readSnapshot(state, written[0] as Run["snapshots"][number]);
      for (const next of deliveries) {
        if (next.kind === "op") {
          const op = r.ops[next.index % Math.max(1, r.ops.length)];
          if (op) state.applyOps([op]);
        } else readSnapshot(state, written[next.after % written.length] as Run["snapshots"][number]);
      }
      catchUp(state, r);
      await expectConverged(state, r.board);
    }),
    { numRuns: 200 },
  );
});

test("a snapshot whose pages are read while the board changes, then replayed over, converges too", async () => {
  const step = fc.oneof({ weight: 3, arbitrary: action }, { weight: 2, arbitrary: fc.constant("page" as const) });
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 2, maxLength: 40 }),
      fc.array(fc.boolean(), { maxLength: 40 }),
      async (steps, live) => {
        const board = new StoreBoard("board", { ...LIMITS, readBytes: 150 });
        const state = new BoardState();
        let reading: { e: string; start: number; cursor: number } | undefined;
        let finished = false;
        for (const item of steps) {
          if (item !== "page") {
            const stored = await perform(board, item);
            // Some live operations arrive during the snapshot, in any order.
            if (reading && live[board.ops.length]) state.applyOps([...stored].reverse());
            continue;
          }
          if (finished) continue;
          const result = await board.store.read(
            board.board,
            reading ? { e: reading.e, at: reading.start, cursor: reading.cursor } : {},
          );
          if (!("snapshot" in result) || result.e === "0") continue;
          if (!reading || result.e !== reading.e) {
            state.reset(result.e);
            reading = { e: result.e, start: result.s, cursor: 0 };
          }
          const { k, next } = result.snapshot;
          state.applySnapshot({ k, records: JSON.parse(result.snapshot.records) as Snapshot["records"] });
          if (next === undefined) {
            state.finishSnapshot(reading.start);
            finished = true;
          } else reading.cursor = next;
        }
        if (!finished) return;
        state.applyOps(board.ops.filter((op) => op.s > state.watermark));
        if (state.needsSnapshot) return; // the session reads a fresh snapshot then (the test above)
        await expectConverged(state, board);
      },
    ),
    { numRuns: 200 },
  );
});

test("operations waiting behind a gap when the store fails count in what the client knew", async () => {
  const board = new StoreBoard();
  const state = new BoardState();
  const ops = [
    ...(await board.add(USER, elementInput(1, "r"))),
    ...(await board.add(USER, elementInput(2, "e"))),
    ...(await board.add(USER, elementInput(3, "n"))),
    ...(await board.visibility(USER, [elementId(3)], false)),
  ];
  state.reset("E1");
  // Seq 2's broadcast died with the store; 3 and the erase of it wait behind it.
  state.applyOps([ops[0], ops[2], ops[3]] as BoardOp[]);
  expect(state.hasGap).toBe(true);
  expect(state.knownSeq).toBe(4);
  expect(state.has(elementId(3))).toBe(false);

  const known = state.knowledge().map(({ record, version }) => [record.i, version]);
  expect(known).toEqual([
    [elementId(1), 0],
    [elementId(3), 1],
  ]);
});

test("clears and undone clears are reported once each, in seq order, however they are delivered", async () => {
  const board = new StoreBoard();
  const [add] = await board.add(USER, elementInput(1, "r"));
  const [clear] = await board.clear(USER);
  const [unclear] = await board.unclear(USER, board.clears[0] as number);
  const state = new BoardState();
  state.reset("e");
  expect(state.applyOps([unclear, add] as BoardOp[]).clears).toEqual([]); // waiting for seq 2
  expect(state.applyOps([clear, add, clear] as BoardOp[]).clears).toEqual([clear, unclear]);
  expect(state.applyOps([clear, unclear] as BoardOp[]).clears).toEqual([]);
  expect(state.isVisible(elementId(1))).toBe(true);
});

test("an undo of a clear this client never saw the pages of asks for a snapshot", async () => {
  const board = new StoreBoard();
  await board.add(USER, elementInput(1, "r"));
  await board.clear(USER);
  const after = await board.snapshot();
  const state = new BoardState();
  readSnapshot(state, after);
  expect(state.has(elementId(1))).toBe(false);
  state.applyOps(await board.unclear(USER, board.clears[0] as number));
  expect(state.needsSnapshot).toBe(true);
  readSnapshot(state, await board.snapshot());
  expect(state.isVisible(elementId(1))).toBe(true);
});

test("a new element on top is added to the drawing order without sorting; one placed lower takes its place", () => {
  const state = new BoardState();
  state.reset("e");
  const tuple = (s: number, z: number): ElementTuple => [
    s,
    1,
    0,
    0,
    elementId(s),
    USER,
    "r",
    z,
    0,
    0,
    1,
    1,
    "#000000",
    2,
    "",
    0,
    "",
    s,
  ];
  state.applyOps([
    { t: "a", s: 1, r: tuple(1, 1) },
    { t: "a", s: 2, r: tuple(2, 2) },
  ]);
  const before = state.elements();
  state.applyOps([{ t: "a", s: 3, r: tuple(3, 3) }]);
  expect(state.elements()).toBe(before); // the same array, grown
  state.applyOps([{ t: "e", s: 4, u: USER, x: [[elementId(3), 2, { z: -4 }]] }]);
  expect(state.elements().map((record) => record.i)).toEqual([elementId(3), elementId(1), elementId(2)]);
});

test("a healed element put under a clear this client joined after is left out with the rest of that page, and the undo reads a snapshot", () => {
  const state = new BoardState();
  state.reset("e");
  const record = (s: number, g: number, v: number): ElementTuple =>
    [s, g, 0, v, elementId(s), USER, "r", s, 0, 0, 1, 1, "#000000", 2, "", 0, "", s] satisfies ElementTuple;
  // Joined after the clear at seq 4 hid page 1 (element 3 on it): the snapshot holds page 2 only.
  state.applySnapshot({ k: { "2": 0 }, records: [record(5, 2, 0)] });
  state.finishSnapshot(5);
  // A late healer's element goes under that clear (page 1 was cleared, restored and cleared again: its count is 3):
  // hidden with it. Its `v` is negative: its version is v + k = 1. This client holds nothing else of page 1.
  state.applyOps([{ t: "a", s: 6, r: record(1, 1, -2), k: { "1": 3 } }]);
  expect(state.watermark).toBe(6);
  expect(state.isVisible(elementId(1))).toBe(false);
  expect(state.needsSnapshot).toBe(false);
  // The undo shows page 1 whole, element 3 with the healed one: only a snapshot has it all.
  state.applyOps([{ t: "u", s: 7, u: USER, of: 4, k: { "1": 4 } }]);
  expect(state.needsSnapshot).toBe(true);
  state.reset("e");
  state.applySnapshot({ k: { "1": 4, "2": 0 }, records: [record(5, 2, 0), record(3, 1, -4), record(1, 1, -4)] });
  state.finishSnapshot(7);
  expect(state.elements().map((element) => element.i)).toEqual([elementId(1), elementId(3), elementId(5)]);
});

test("a healed element put under a clear this client saw is held hidden, and shows with its undo", () => {
  const state = new BoardState();
  state.reset("e");
  const record = (s: number, g: number, v: number): ElementTuple =>
    [s, g, 0, v, elementId(s), USER, "r", s, 0, 0, 1, 1, "#000000", 2, "", 0, "", s] satisfies ElementTuple;
  state.applySnapshot({ k: { "1": 0 }, records: [record(3, 1, 0)] });
  state.finishSnapshot(3);
  state.applyOps([
    { t: "c", s: 4, u: USER, k: { "1": 1 } },
    { t: "a", s: 5, r: record(1, 1, 0), k: { "1": 1 } },
  ]);
  expect(state.isVisible(elementId(1))).toBe(false);
  state.applyOps([{ t: "u", s: 6, u: USER, of: 4, k: { "1": 2 } }]);
  expect(state.needsSnapshot).toBe(false);
  expect(state.elements().map((element) => element.i)).toEqual([elementId(1), elementId(3)]);
});

test("a snapshot's page names the elements it brought, so that a catch-up does not redraw the board for each answer", () => {
  const state = new BoardState();
  state.reset("e");
  const record = (s: number, g: number): ElementTuple =>
    [s, g, 0, 0, elementId(s), USER, "r", s, 0, 0, 1, 1, "#000000", 2, "", 0, "", s] satisfies ElementTuple;
  const newest = state.applySnapshot({ k: { "2": 0 }, records: [record(5, 2), record(4, 2)] });
  expect(newest.all).toBe(false);
  expect([...newest.ids].sort()).toEqual([elementId(4), elementId(5)]);
  const older = state.applySnapshot({ k: { "1": 0 }, records: [record(3, 1)] });
  expect(older.all).toBe(false);
  expect([...older.ids]).toEqual([elementId(3)]);
  expect(state.elements().map((element) => element.i)).toEqual([elementId(3), elementId(4), elementId(5)]);
  // A page's flip count that hides what the client holds of it changes more than the page brought: everything.
  const flipped = state.applySnapshot({ k: { "2": 1 }, records: [] });
  expect(flipped.all).toBe(true);
  expect(state.elements().map((element) => element.i)).toEqual([elementId(3)]);
});
