/**
 * The board store contract, run against both implementations: Redis (a real redis-server running the Lua) and
 * memory. A property test checks that the two give identical answers to any sequence of operations.
 */
import fc from "fast-check";
import pino from "pino";
import { encodePoints } from "../../protocol/points";
import type { BoardOp, StrokeRecord, StrokeTuple } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { RedisServer } from "../../local/redis-server";
import { createRedisConnections, type RedisConnections } from "../../service/redis";
import {
  strokeBody,
  type BoardLimits,
  type BoardStore,
  type NewStroke,
  type ReadResult,
} from "../../service/store/board-store";
import { MemoryBoardStore } from "../../service/store/memory-board-store";
import { RedisBoardStore } from "../../service/store/redis-board-store";

const LIMITS: BoardLimits = {
  maxStrokes: 50,
  maxBytes: 20_000,
  pageBytes: 400,
  logBytes: 1_500,
  readBytes: 600,
  idleTtlSeconds: 60,
  clearIntervalMs: 0,
  undoClearMs: 60_000,
};
const USER = "user-0001";
let redisServer: RedisServer;
let connections: RedisConnections;
let boardCounter = 0;
const newBoard = () => `store-${process.pid}-${++boardCounter}`;

beforeAll(async () => {
  redisServer = await new RedisServer().start();
  connections = createRedisConnections(redisServer.clientConfig, pino({ level: "silent" }));
  await connections.connect();
});

afterAll(async () => {
  await connections?.close();
  await redisServer?.destroy();
});

const stroke = (
  id: string,
  v = 0,
  points: [number, number][] = [
    [10, 20],
    [30, 40],
  ],
): NewStroke => ({
  id,
  v,
  body: strokeBody({ id, p: encodePoints(points), c: "#123456", w: 4 }, USER),
});

const ops = (text: string) => JSON.parse(text) as BoardOp[];

/** Every visible record a fresh client would get, following snapshot pages to the end. */
async function snapshot(
  store: BoardStore,
  board: string,
): Promise<{ records: StrokeRecord[]; k: Record<string, number>; pages: number; s: number }> {
  const records: StrokeRecord[] = [];
  const k: Record<string, number> = {};
  let cursor: number | undefined;
  let pages = 0;
  let e: string | undefined;
  let s = 0;
  for (;;) {
    const result = await store.read(board, cursor === undefined ? {} : { e, at: s, cursor });
    if (!("snapshot" in result)) throw new Error("expected a snapshot");
    if (cursor === undefined) ({ e, s } = result);
    records.push(...(JSON.parse(result.snapshot.records) as StrokeTuple[]).map(toRecord));
    Object.assign(k, result.snapshot.k);
    pages += 1;
    if (result.snapshot.next === undefined) return { records, k, pages, s };
    cursor = result.snapshot.next;
  }
}

const ids = (records: readonly StrokeRecord[]) => records.map((record) => record.i).sort();

const implementations: [string, (limits: BoardLimits) => BoardStore][] = [
  ["redis", (limits) => new RedisBoardStore(connections.commands, limits)],
  ["memory", (limits) => new MemoryBoardStore(limits)],
];

describe.each(implementations)("%s store", (_, create) => {
  test("a board nobody wrote has epoch 0 and nothing in it, and reading it creates nothing", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    expect(await store.read(board, {})).toEqual({ e: "0", s: 0, rotated: false, snapshot: { k: {}, records: "[]" } });
    const written = await store.addStrokes(board, USER, [stroke("a")]);
    expect(written).toMatchObject({ s: 1, rotated: true, outcomes: [{ kind: "stored", s: 1 }] });
    expect(written.e).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  test("strokes take consecutive seqs; a resent id gets its first seq and stores nothing", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const first = await store.addStrokes(board, USER, [stroke("a"), stroke("b"), stroke("a")]);
    expect(first.outcomes).toEqual([
      { kind: "stored", s: 1 },
      { kind: "stored", s: 2 },
      { kind: "duplicate", s: 1 },
    ]);
    expect(ops(first.ops)).toEqual([
      {
        t: "s",
        s: 1,
        r: [
          1,
          1,
          0,
          "a",
          USER,
          "#123456",
          4,
          encodePoints([
            [10, 20],
            [30, 40],
          ]),
        ],
      },
      {
        t: "s",
        s: 2,
        r: [
          2,
          1,
          0,
          "b",
          USER,
          "#123456",
          4,
          encodePoints([
            [10, 20],
            [30, 40],
          ]),
        ],
      },
    ]);
    const again = await store.addStrokes(board, USER, [stroke("b")]);
    expect(again).toMatchObject({
      e: first.e,
      s: 2,
      rotated: false,
      ops: "[]",
      outcomes: [{ kind: "duplicate", s: 2 }],
    });
  });

  test("erase hides, a higher even version shows again with the original seq, and lower versions change nothing", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    await store.addStrokes(board, USER, [stroke("a"), stroke("b")]);
    const erased = await store.setVisibility(board, "eraser-01", [["a", 1]]);
    expect(ops(erased.ops)).toEqual([{ t: "v", s: 3, u: "eraser-01", h: [["a", 1]], r: [] }]);
    expect(ids((await snapshot(store, board)).records)).toEqual(["b"]);
    expect((await store.setVisibility(board, USER, [["a", 1]])).ops).toBe("[]");
    const restored = ops((await store.setVisibility(board, USER, [["a", 2]])).ops);
    expect(restored).toEqual([
      { t: "v", s: 4, u: USER, h: [], r: [[1, 1, 2, "a", USER, "#123456", 4, expect.any(String)]] },
    ]);
    expect((await snapshot(store, board)).records.map((record) => [record.i, record.s, record.v])).toEqual(
      expect.arrayContaining([
        ["a", 1, 2],
        ["b", 2, 0],
      ]),
    );
    expect(
      (
        await store.setVisibility(board, USER, [
          ["a", 1],
          ["b", 0],
        ])
      ).ops,
    ).toBe("[]");
  });

  test("a version that arrives before its stroke is kept: the stroke is stored hidden", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    expect((await store.setVisibility(board, USER, [["late", 3]])).ops).toBe("[]");
    const added = await store.addStrokes(board, USER, [stroke("late")]);
    expect(ops(added.ops)).toEqual([{ t: "s", s: 1, r: [1, 1, 3, "late", USER, "#123456", 4, expect.any(String)] }]);
    expect((await snapshot(store, board)).records).toEqual([]);
  });

  test("clear hides every page and undoing it shows them again; a second undo is gone", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    await store.addStrokes(
      board,
      USER,
      ["a", "b", "c", "d", "e", "f"].map((id) => stroke(id)),
    );
    const cleared = await store.clear(board, USER);
    expect(cleared.outcome).toBe("stored");
    const [clearOp] = ops(cleared.ops);
    expect(clearOp).toMatchObject({ t: "c", s: 7, u: USER });
    expect((await snapshot(store, board)).records).toEqual([]);
    await store.addStrokes(board, USER, [stroke("after")]);
    const undone = await store.unclear(board, USER, 7);
    expect(undone.outcome).toBe("stored");
    expect(ops(undone.ops)).toEqual([{ t: "u", s: 9, u: USER, of: 7, k: expect.any(Object) }]);
    const after = await snapshot(store, board);
    expect(ids(after.records)).toEqual(["a", "after", "b", "c", "d", "e", "f"]);
    expect(Object.values(after.k).every((k) => k % 2 === 0)).toBe(true);
    expect((await store.unclear(board, USER, 7)).outcome).toBe("gone");
    expect((await store.clear(newBoard(), USER)).outcome).toBe("unchanged");
  });

  test("a hard clear (the store nearly full) deletes at once: nothing to undo, and the room is free", async () => {
    const store = create({ ...LIMITS, maxStrokes: 3 });
    const board = newBoard();
    await store.addStrokes(
      board,
      USER,
      ["a", "b", "c"].map((id) => stroke(id)),
    );
    const { s, outcome } = await store.clear(board, USER, true);
    expect(outcome).toBe("stored");
    expect((await store.unclear(board, USER, s)).outcome).toBe("gone");
    expect(
      (
        await store.addStrokes(
          board,
          USER,
          ["d", "e", "f"].map((id) => stroke(id)),
        )
      ).outcomes.map((o) => o.kind),
    ).toEqual(["stored", "stored", "stored"]);
  });

  test("a stroke erased before a clear stays hidden when the clear is undone", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    await store.addStrokes(board, USER, [stroke("a"), stroke("b")]);
    await store.setVisibility(board, USER, [["a", 1]]);
    const { s } = await store.clear(board, USER);
    await store.unclear(board, USER, s);
    expect(ids((await snapshot(store, board)).records)).toEqual(["b"]);
  });

  test("clears of one board are spaced by clearIntervalMs, and so are undos, but an undo may follow a clear at once", async () => {
    const store = create({ ...LIMITS, clearIntervalMs: 60_000 });
    const board = newBoard();
    await store.addStrokes(board, USER, [stroke("a")]);
    const first = await store.clear(board, USER);
    await store.addStrokes(board, USER, [stroke("b")]);
    expect((await store.clear(board, USER)).outcome).toBe("rate_limited");
    expect((await store.unclear(board, USER, first.s)).outcome).toBe("stored");
    expect((await store.unclear(board, USER, first.s)).outcome).toBe("rate_limited");
  });

  test("a board full by count or by bytes refuses strokes; a clear makes room at once (its undo is then gone)", async () => {
    const store = create({ ...LIMITS, maxStrokes: 3 });
    const board = newBoard();
    const added = await store.addStrokes(
      board,
      USER,
      ["a", "b", "c", "d"].map((id) => stroke(id)),
    );
    expect(added.outcomes.map((outcome) => outcome.kind)).toEqual(["stored", "stored", "stored", "full"]);
    const { s } = await store.clear(board, USER);
    expect((await store.addStrokes(board, USER, [stroke("e")])).outcomes).toEqual([{ kind: "stored", s: s + 1 }]);
    expect((await store.unclear(board, USER, s)).outcome).toBe("gone");

    const big = create({ ...LIMITS, maxBytes: 1_000 });
    const long = Array.from({ length: 60 }, (_, index): [number, number] => [index * 10, index * 5]);
    const outcomes = (
      await big.addStrokes(
        newBoard(),
        USER,
        Array.from({ length: 8 }, (_, index) => stroke(`x${index}`, 0, long)),
      )
    ).outcomes;
    expect(outcomes.filter((outcome) => outcome.kind === "full").length).toBeGreaterThan(0);
  });

  test("a snapshot comes in pages of about readBytes, newest first, and holds every visible stroke once", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const all = Array.from({ length: 40 }, (_, index) => `s${index}`);
    await store.addStrokes(
      board,
      USER,
      all.map((id) => stroke(id)),
    );
    await store.setVisibility(board, USER, [
      ["s3", 1],
      ["s30", 1],
    ]);
    const { records, pages } = await snapshot(store, board);
    expect(pages).toBeGreaterThan(2);
    expect(ids(records)).toEqual(all.filter((id) => id !== "s3" && id !== "s30").sort());
    const first = await store.read(board, {});
    expect("snapshot" in first && (JSON.parse(first.snapshot.records) as StrokeTuple[])[0]?.[0]).toBeGreaterThan(30);
  });

  test("a snapshot's first read holds about firstReadBytes (the newest strokes), the next ones about readBytes", async () => {
    const store = create({ ...LIMITS, pageBytes: 100, readBytes: 600, firstReadBytes: 150 });
    const board = newBoard();
    const all = Array.from({ length: 40 }, (_, index) => `s${index}`);
    await store.addStrokes(
      board,
      USER,
      all.map((id) => stroke(id)),
    );
    const first = await store.read(board, {});
    if (!("snapshot" in first)) throw new Error("expected a snapshot");
    expect(first.snapshot.next).toBeDefined();
    const firstRecords = JSON.parse(first.snapshot.records) as StrokeTuple[];
    const second = await store.read(board, { e: first.e, at: first.s, cursor: first.snapshot.next as number });
    if (!("snapshot" in second)) throw new Error("expected the snapshot's next page");
    const secondRecords = JSON.parse(second.snapshot.records) as StrokeTuple[];
    // Pages close at about 100 bytes (a record here is about 70): 2 pages first, then about 6 per read.
    expect(first.snapshot.records.length).toBeLessThan(400);
    expect(second.snapshot.records.length).toBeGreaterThan(500);
    expect(Math.min(...firstRecords.map((record) => record[0]))).toBeGreaterThan(
      Math.max(...secondRecords.map((record) => record[0])),
    );
    expect(ids((await snapshot(store, board)).records)).toEqual([...all].sort());
  });

  test("a client within the log gets the operations after its seq; one behind the log, or of another epoch, a snapshot", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const { e } = await store.addStrokes(board, USER, [stroke("a"), stroke("b")]);
    const result = await store.read(board, { e, after: 1 });
    expect("ops" in result && ops(result.ops).map((op) => op.s)).toEqual([2]);
    expect(await store.read(board, { e, after: 2 })).toEqual({ e, s: 2, rotated: false, ops: "[]" });
    expect("snapshot" in (await store.read(board, { e: "another", after: 1 }))).toBe(true);
    expect("snapshot" in (await store.read(board, { e, after: 3 }))).toBe(true);
    await store.addStrokes(
      board,
      USER,
      Array.from({ length: 30 }, (_, index) => stroke(`more${index}`)),
    );
    expect("snapshot" in (await store.read(board, { e, after: 1 }))).toBe(true);
  });

  test("presence counts clients and reports the board's epoch and seq", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const { e } = await store.addStrokes(board, USER, [stroke("a")]);
    expect(await store.presence(board, "instance-a", 3, 10_000)).toEqual({ count: 3, s: 1, e });
    expect(await store.presence(board, "instance-a", undefined, 10_000)).toEqual({ count: 3, s: 1, e });
    expect(await store.presence(board, "instance-a", 0, 10_000)).toEqual({ count: 0, s: 1, e });
  });
});

/** Answers with epochs replaced by their order of appearance, so two stores' answers can be compared. */
function normalized(answers: unknown[]): unknown[] {
  const epochs = new Map<string, string>();
  return JSON.parse(
    JSON.stringify(answers, (key, value: unknown) => {
      if (key !== "e" || typeof value !== "string" || value === "0") return value;
      if (!epochs.has(value)) epochs.set(value, `epoch${epochs.size}`);
      return epochs.get(value);
    }),
  ) as unknown[];
}

type Action =
  | { kind: "add"; ids: number[]; v: number }
  | { kind: "set"; changes: [number, number][] }
  | { kind: "clear" }
  | { kind: "unclear"; back: number }
  | { kind: "read"; after: number | undefined; cursor: boolean };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      ids: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
      v: fc.constantFrom(0, 0, 0, 1, 2),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      changes: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 6 })), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unclear" as const), back: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      after: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
      cursor: fc.boolean(),
    }),
  },
);

async function run(store: BoardStore, board: string, actions: readonly Action[]): Promise<unknown[]> {
  const answers: unknown[] = [];
  const clears: number[] = [];
  let e: string | undefined;
  let next: number | undefined;
  for (const act of actions) {
    switch (act.kind) {
      case "add": {
        const written = await store.addStrokes(
          board,
          USER,
          act.ids.map((id) => stroke(`id${id}`, act.v, [[id * 7, id * 3]])),
        );
        e = written.e;
        answers.push(written);
        break;
      }
      case "set":
        answers.push(
          await store.setVisibility(
            board,
            USER,
            act.changes.map(([id, v]) => [`id${id}`, v] as const),
          ),
        );
        break;
      case "clear": {
        const cleared = await store.clear(board, USER);
        if (cleared.outcome === "stored") clears.push(cleared.s);
        answers.push(cleared);
        break;
      }
      case "unclear":
        answers.push(await store.unclear(board, USER, clears[clears.length - 1 - act.back] ?? 1));
        break;
      case "read": {
        const result: ReadResult = await store.read(
          board,
          act.cursor && next ? { e, at: act.after, cursor: next } : { e, after: act.after },
        );
        next = "snapshot" in result ? result.snapshot.next : undefined;
        answers.push(result);
        break;
      }
    }
  }
  return answers;
}

test("the Redis store and the memory store answer any sequence of operations identically", async () => {
  await fc.assert(
    // With and without a smaller first snapshot read.
    fc.asyncProperty(
      fc.array(action, { minLength: 1, maxLength: 30 }),
      fc.constantFrom(undefined, 200),
      async (actions, firstReadBytes) => {
        const board = newBoard();
        const limits = firstReadBytes === undefined ? LIMITS : { ...LIMITS, firstReadBytes };
        const redis = new RedisBoardStore(connections.commands, limits);
        const memory = new MemoryBoardStore(limits);
        expect(normalized(await run(redis, board, actions))).toEqual(normalized(await run(memory, board, actions)));
      },
    ),
    { numRuns: 150 },
  );
});
