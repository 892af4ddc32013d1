/**
 * BoardState must converge to the store's board whatever order, duplication and mix of live operations and
 * snapshots the network delivers. The store here is the memory store (the reference the Lua is tested against),
 * driven by random operations; the client sees some of them live, in any order, and snapshots taken at any moment.
 */
import fc from "fast-check";
import { BoardState } from "../../client/core/board-state";
import type { BoardOp, StrokeRecord, StrokeTuple } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { encodePoints } from "../../protocol/points";
import { strokeBody, type BoardLimits } from "../../service/store/board-store";
import { MemoryBoardStore } from "../../service/store/memory-board-store";

const LIMITS: BoardLimits = {
  maxStrokes: 40,
  maxBytes: 100_000,
  pageBytes: 300,
  logBytes: 100_000,
  readBytes: 400,
  idleTtlSeconds: 600,
  clearIntervalMs: 0,
  undoClearMs: 600_000,
};
const USER = "user-0001";
const BOARD = "b";

type Action =
  | { kind: "add"; id: number; v: number }
  | { kind: "set"; id: number; v: number }
  | { kind: "clear" }
  | { kind: "unclear"; back: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      id: fc.integer({ min: 0, max: 15 }),
      v: fc.constantFrom(0, 0, 0, 1, 2),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      id: fc.integer({ min: 0, max: 15 }),
      v: fc.integer({ min: 0, max: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unclear" as const), back: fc.integer({ min: 0, max: 2 }) }) },
);

interface SnapshotPage {
  s: number;
  e: string;
  k: Record<string, number>;
  records: StrokeTuple[];
  last: boolean;
}

/** What the store produced: every operation in seq order, and a full snapshot (its pages) after each action. */
interface History {
  ops: BoardOp[];
  /** snapshots[i]: the pages of a snapshot started after action i. */
  snapshots: SnapshotPage[][];
  final: StrokeRecord[];
}

async function readSnapshot(store: MemoryBoardStore): Promise<SnapshotPage[]> {
  const pages: SnapshotPage[] = [];
  let cursor: number | undefined;
  let start = 0;
  for (;;) {
    const result = await store.read(BOARD, cursor === undefined ? {} : { e: pages[0]?.e, at: start, cursor });
    if (!("snapshot" in result)) throw new Error("expected a snapshot");
    if (cursor === undefined) start = result.s;
    const records = JSON.parse(result.snapshot.records) as StrokeTuple[];
    pages.push({ s: start, e: result.e, k: result.snapshot.k, records, last: result.snapshot.next === undefined });
    if (result.snapshot.next === undefined) return pages;
    cursor = result.snapshot.next;
  }
}

async function history(actions: readonly Action[]): Promise<History> {
  const store = new MemoryBoardStore(LIMITS);
  const ops: BoardOp[] = [];
  const clears: number[] = [];
  const snapshots: SnapshotPage[][] = [];
  for (const act of actions) {
    let written;
    switch (act.kind) {
      case "add":
        written = await store.addStrokes(BOARD, USER, [
          {
            id: `id${act.id}`,
            v: act.v,
            body: strokeBody({ id: `id${act.id}`, p: encodePoints([[act.id, act.id]]), c: "#000000", w: 1 }, USER),
          },
        ]);
        break;
      case "set":
        written = await store.setVisibility(BOARD, USER, [[`id${act.id}`, act.v]]);
        break;
      case "clear":
        written = await store.clear(BOARD, USER);
        if (written.outcome === "stored") clears.push(written.s);
        break;
      case "unclear":
        written = await store.unclear(BOARD, USER, clears[clears.length - 1 - act.back] ?? 1);
        break;
    }
    ops.push(...(JSON.parse(written.ops) as BoardOp[]));
    snapshots.push(await readSnapshot(store));
  }
  const final = (await readSnapshot(store)).flatMap((page) => page.records.map(toRecord));
  return { ops, snapshots, final };
}

const visible = (records: readonly StrokeRecord[]) => records.map((record) => `${record.i}@${record.s}`).sort();

/** A delivery: a live op (by index), or the snapshot taken after some action, applied whole. */
type Delivery = { kind: "op"; index: number } | { kind: "snapshot"; after: number };

function deliver(state: BoardState, h: History, delivery: Delivery): void {
  if (delivery.kind === "op") {
    const op = h.ops[delivery.index];
    if (op) state.applyOps([op]);
    return;
  }
  const pages = h.snapshots[delivery.after];
  if (!pages?.[0] || pages[0].e === "0") return;
  state.reset(pages[0].e);
  for (const page of pages) state.applySnapshot({ k: page.k, records: page.records });
  state.finishSnapshot(pages[0].s);
}

/** What the session does last: the operations after its watermark, from the log. */
function catchUp(state: BoardState, h: History): void {
  state.applyOps(h.ops.filter((op) => op.s > state.watermark));
}

const scenario = fc.array(action, { minLength: 1, maxLength: 30 });

test("live operations delivered in any order, with duplicates, converge to the store's board", async () => {
  await fc.assert(
    fc.asyncProperty(scenario, fc.array(fc.nat(), { maxLength: 60 }), async (actions, picks) => {
      const h = await history(actions);
      if (h.ops.length === 0) return;
      const state = new BoardState();
      state.reset(h.snapshots.find((pages) => pages[0]?.e !== "0")?.[0]?.e ?? "");
      const order = [...h.ops.keys()].sort((a, b) => ((picks[a] ?? a) % 7) - ((picks[b] ?? b) % 7));
      for (const index of [...order, ...picks.slice(0, 5).map((pick) => pick % h.ops.length)])
        deliver(state, h, { kind: "op", index });
      expect(visible(state.strokes())).toEqual(visible(h.final));
      expect(state.watermark).toBe(h.ops.at(-1)?.s);
      expect(state.hasGap).toBe(false);
    }),
    { numRuns: 300 },
  );
});

test("snapshots taken at any moment, mixed with any subset of live operations, converge after the final catch-up", async () => {
  await fc.assert(
    fc.asyncProperty(
      scenario,
      fc.array(
        fc.oneof(
          fc.nat().map((n): Delivery => ({ kind: "op", index: n })),
          fc.nat().map((n): Delivery => ({ kind: "snapshot", after: n })),
        ),
        {
          maxLength: 40,
        },
      ),
      async (actions, raw) => {
        const h = await history(actions);
        const firstEpoch = h.snapshots.find((pages) => pages[0]?.e !== "0")?.[0];
        if (!firstEpoch) return;
        const state = new BoardState();
        deliver(state, h, {
          kind: "snapshot",
          after: h.snapshots.indexOf(h.snapshots.find((pages) => pages[0]?.e !== "0") as SnapshotPage[]),
        });
        for (const delivery of raw) {
          deliver(
            state,
            h,
            delivery.kind === "op"
              ? { kind: "op", index: delivery.index % Math.max(1, h.ops.length) }
              : { kind: "snapshot", after: delivery.after % h.snapshots.length },
          );
        }
        catchUp(state, h);
        if (state.needsSnapshot) {
          // An undo of a clear this client never saw: the session reads a snapshot, as here.
          deliver(state, h, { kind: "snapshot", after: h.snapshots.length - 1 });
          catchUp(state, h);
        }
        expect(visible(state.strokes())).toEqual(visible(h.final));
        expect(state.hasGap).toBe(false);
      },
    ),
    { numRuns: 300 },
  );
});

test("a snapshot whose pages are read while the board changes, then replayed over, converges too", async () => {
  const step = fc.oneof({ weight: 3, arbitrary: action }, { weight: 2, arbitrary: fc.constant("page" as const) });
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 2, maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      async (steps, shuffle) => {
        const store = new MemoryBoardStore({ ...LIMITS, readBytes: 120 });
        const state = new BoardState();
        const ops: BoardOp[] = [];
        const clears: number[] = [];
        let snapshot: { e: string; start: number; cursor: number } | undefined;
        let finished = false;
        for (const item of steps) {
          if (item === "page") {
            if (finished) continue;
            const result = await store.read(
              BOARD,
              snapshot ? { e: snapshot.e, at: snapshot.start, cursor: snapshot.cursor } : {},
            );
            if (!("snapshot" in result) || result.e === "0") continue;
            if (!snapshot || result.e !== snapshot.e) {
              state.reset(result.e);
              snapshot = { e: result.e, start: result.s, cursor: 0 };
            }
            state.applySnapshot({
              k: result.snapshot.k,
              records: JSON.parse(result.snapshot.records) as StrokeTuple[],
            });
            if (result.snapshot.next === undefined) {
              state.finishSnapshot(snapshot.start);
              finished = true;
            } else snapshot.cursor = result.snapshot.next;
            continue;
          }
          const written =
            item.kind === "add"
              ? await store.addStrokes(BOARD, USER, [
                  {
                    id: `id${item.id}`,
                    v: item.v,
                    body: strokeBody({ id: `id${item.id}`, p: "AA", c: "#000000", w: 1 }, USER),
                  },
                ])
              : item.kind === "set"
                ? await store.setVisibility(BOARD, USER, [[`id${item.id}`, item.v]])
                : item.kind === "clear"
                  ? await store.clear(BOARD, USER)
                  : await store.unclear(BOARD, USER, clears[clears.length - 1 - item.back] ?? 1);
          if (item.kind === "clear" && written.ops !== "[]") clears.push(written.s);
          const stored = JSON.parse(written.ops) as BoardOp[];
          ops.push(...stored);
          // Some live operations arrive during the snapshot, in any order.
          if (snapshot && (shuffle[ops.length] ?? 0) % 2 === 0) state.applyOps([...stored].reverse());
        }
        if (!finished) return;
        state.applyOps(ops.filter((op) => op.s > state.watermark));
        const result = await store.read(BOARD, {});
        if (!("snapshot" in result)) throw new Error("expected a snapshot");
        let expected = (JSON.parse(result.snapshot.records) as StrokeTuple[]).map(toRecord);
        for (let next = result.snapshot.next; next !== undefined;) {
          const page = await store.read(BOARD, { e: result.e, at: result.s, cursor: next });
          if (!("snapshot" in page)) throw new Error("expected a snapshot page");
          expected = expected.concat((JSON.parse(page.snapshot.records) as StrokeTuple[]).map(toRecord));
          next = page.snapshot.next;
        }
        if (state.needsSnapshot) return; // the session reads a fresh snapshot then (the test above)
        expect(visible(state.strokes())).toEqual(visible(expected));
        expect(state.hasGap).toBe(false);
      },
    ),
    { numRuns: 300 },
  );
});

test("a client that held strokes a store lost sends back exactly those, at the versions it knew", () => {
  const record = (i: string, s: number): StrokeTuple => [s, 1, 0, i, USER, "#000000", 1, "AA"];
  const before = new BoardState();
  before.reset("old");
  before.applySnapshot({
    k: { "1": 0 },
    records: [record("kept", 1), record("lost", 2), record("erased", 3), record("erased-lost", 4)],
  });
  before.finishSnapshot(4);
  before.applyOps([
    {
      t: "v",
      s: 5,
      u: USER,
      h: [
        ["erased", 1],
        ["erased-lost", 1],
      ],
      r: [],
    },
  ]);
  const known = before.known();

  // The store came back from a failover holding only what it had before the erase.
  const after = new BoardState();
  after.reset("new");
  after.applySnapshot({ k: { "1": 0 }, records: [record("kept", 1), record("erased", 3)] });
  after.finishSnapshot(3);
  const healing = after.heal(known);
  expect(healing.strokes.map((stroke) => [stroke.id, stroke.v])).toEqual([
    ["lost", undefined],
    ["erased-lost", 1],
  ]);
  expect(healing.hide).toEqual([["erased", 1]]);
});

test("operations waiting behind a gap when the store fails count in what the client knew, and are healed", () => {
  const record = (i: string, s: number): StrokeTuple => [s, 1, 0, i, USER, "#000000", 1, "AA"];
  const before = new BoardState();
  before.reset("old");
  before.applySnapshot({ k: { "1": 0 }, records: [record("kept", 1)] });
  before.finishSnapshot(1);
  // Seq 2's broadcast died with the store; 3 (this client's own, acknowledged) and an erase of it wait behind it.
  before.applyOps([
    { t: "s", s: 3, r: record("behind-gap", 3) },
    { t: "s", s: 4, r: record("erased-behind-gap", 4) },
    { t: "v", s: 5, u: USER, h: [["erased-behind-gap", 1]], r: [] },
  ]);
  expect(before.hasGap).toBe(true);
  expect(before.has("behind-gap")).toBe(false);

  before.applyWaiting();
  expect(before.hasGap).toBe(false);
  expect(before.known().map(({ record: { i }, version }) => [i, version])).toEqual([
    ["kept", 0],
    ["behind-gap", 0],
    ["erased-behind-gap", 1],
  ]);

  const after = new BoardState();
  after.reset("new");
  after.applySnapshot({ k: { "1": 0 }, records: [record("kept", 1)] });
  after.finishSnapshot(1);
  expect(after.heal(before.known()).strokes.map((stroke) => [stroke.id, stroke.v])).toEqual([
    ["behind-gap", undefined],
    ["erased-behind-gap", 1],
  ]);
});

test("clears and undone clears are reported once each, in seq order, however they are delivered", () => {
  const state = new BoardState();
  state.reset("e");
  const stroke: BoardOp = { t: "s", s: 1, r: [1, 1, 0, "a", USER, "#000000", 1, "AA"] };
  const clear: BoardOp = { t: "c", s: 2, u: USER, k: { "1": 1 } };
  const unclear: BoardOp = { t: "u", s: 3, u: USER, of: 2, k: { "1": 2 } };

  expect(state.applyOps([unclear, stroke]).clears).toBeUndefined(); // waiting for seq 2
  const applied = state.applyOps([clear, stroke, clear]);
  expect(applied.clears).toEqual([clear, unclear]);
  expect(state.applyOps([clear, unclear]).clears).toBeUndefined();
  expect(state.isVisible("a")).toBe(true);
});
