/**
 * The board store contract, run against both implementations: Redis (a real redis-server) and memory.
 * A property test also checks that the two give identical answers to any sequence of operations.
 */
import fc from "fast-check";
import pino from "pino";
import { RedisServer } from "../../local/redis-server";
import { createRedisConnections, type RedisConnections } from "../../service/redis";
import type { BoardLimits, BoardStore } from "../../service/store/board-store";
import { MemoryBoardStore } from "../../service/store/memory-board-store";
import { RedisBoardStore } from "../../service/store/redis-board-store";
import { makeStroke } from "../support/socket-client";

const LIMITS: BoardLimits = { maxStrokes: 5, idleTtlSeconds: 60 };
let redisServer: RedisServer;
let connections: RedisConnections;
let boardCounter = 0;
const newBoard = () => `store-${++boardCounter}`;

beforeAll(async () => {
  redisServer = await new RedisServer().start();
  connections = createRedisConnections(redisServer.clientConfig, pino({ level: "silent" }));
  await connections.connect();
});

afterAll(async () => {
  await connections?.close();
  await redisServer?.destroy();
});

/** A read with its strokes parsed, for comparing. */
async function read(store: BoardStore, board: string, after: number) {
  const { seq, reset, count, json } = await store.read(board, after);
  const strokes = JSON.parse(json) as unknown[];
  expect(strokes).toHaveLength(count);
  return { seq, reset, strokes };
}

const implementations: [string, (limits: BoardLimits) => BoardStore][] = [
  ["redis", (limits) => new RedisBoardStore(connections.commands, limits)],
  ["memory", (limits) => new MemoryBoardStore(limits)],
];

describe.each(implementations)("%s store", (_, create) => {
  test("each stroke and each clear takes the next seq; a read returns the strokes in seq order", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const [a, b, c] = [makeStroke(), makeStroke(), makeStroke()];
    expect(await store.addStroke(board, a)).toEqual({ kind: "stored", stroke: { seq: 1, ...a } });
    expect(await store.addStroke(board, b)).toEqual({ kind: "stored", stroke: { seq: 2, ...b } });
    expect(await store.clear(board)).toBe(3);
    expect(await store.addStroke(board, c)).toEqual({ kind: "stored", stroke: { seq: 4, ...c } });
    expect(await read(store, board, 0)).toEqual({ seq: 4, reset: true, strokes: [{ seq: 4, ...c }] });
    expect(await read(store, board, 3)).toEqual({ seq: 4, reset: false, strokes: [{ seq: 4, ...c }] });
    expect(await read(store, board, 4)).toEqual({ seq: 4, reset: false, strokes: [] });
    expect(await read(store, board, 9)).toEqual({ seq: 4, reset: true, strokes: [{ seq: 4, ...c }] });
  });

  test("a read from before a clear that landed between its two steps still matches one moment of the board", async () => {
    // Interleave reads and clears as fast as possible: every answer must be self-consistent.
    const store = create({ ...LIMITS, maxStrokes: 1_000 });
    const board = newBoard();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        if (i % 4 === 0) await store.clear(board);
        else await store.addStroke(board, makeStroke());
        const { seq, reset, strokes } = await read(store, board, 0);
        const seqs = (strokes as { seq: number }[]).map((stroke) => stroke.seq);
        // Strokes since the last clear are consecutive and end at the board's seq (or there are none).
        if (seqs.length > 0) expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => seq - seqs.length + 1 + k));
        expect(reset || seq === 0 || seqs.length === seq).toBe(true);
      }),
    );
  });

  test("a stroke id already stored returns its first seq and stores nothing", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const stroke = makeStroke();
    await store.addStroke(board, stroke);
    expect(await store.addStroke(board, { ...stroke, color: "#ffffff" })).toEqual({ kind: "duplicate", seq: 1 });
    expect((await read(store, board, 0)).strokes).toEqual([{ seq: 1, ...stroke }]);
  });

  test("only the protocol's fields are stored", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    const stroke = makeStroke();
    await store.addStroke(board, { ...stroke, extra: "<script>" } as typeof stroke);
    expect((await read(store, board, 0)).strokes).toEqual([{ seq: 1, ...stroke }]);
  });

  test("a full board refuses strokes without using a seq, until it is cleared", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    for (let i = 0; i < 5; i += 1) await store.addStroke(board, makeStroke());
    expect(await store.addStroke(board, makeStroke())).toEqual({ kind: "full" });
    expect(await store.clear(board)).toBe(6);
    expect(await store.addStroke(board, makeStroke())).toMatchObject({ kind: "stored", stroke: { seq: 7 } });
  });

  test("a board nobody touches for its idle TTL is gone; a board in use is kept", async () => {
    const store = create({ ...LIMITS, idleTtlSeconds: 1 });
    const [idle, busy] = [newBoard(), newBoard()];
    await store.addStroke(idle, makeStroke());
    await store.addStroke(busy, makeStroke());
    await new Promise((resolve) => setTimeout(resolve, 600));
    await read(store, busy, 0); // reading is activity
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await read(store, idle, 0)).toEqual({ seq: 0, reset: false, strokes: [] });
    expect((await read(store, busy, 0)).seq).toBe(1);
  });

  test("presence returns this instance's count and the board's seq", async () => {
    const store = create(LIMITS);
    const board = newBoard();
    await store.addStroke(board, makeStroke());
    expect(await store.presence(board, "a", 3, 10_000)).toEqual({ count: 3, seq: 1 });
    expect(await store.presence(board, "a", undefined, 10_000)).toEqual({ count: 3, seq: 1 });
    expect(await store.presence(board, "a", 0, 10_000)).toEqual({ count: 0, seq: 1 });
  });
});

test("redis presence sums the live instances' entries, and a killed instance's entry expires", async () => {
  const store = new RedisBoardStore(connections.commands, LIMITS);
  const board = newBoard();
  await store.presence(board, "a", 2, 300);
  await store.presence(board, "b", 5, 10_000);
  expect(await store.presence(board, "c", undefined, 10_000)).toEqual({ count: 7, seq: 0 });
  await new Promise((resolve) => setTimeout(resolve, 400)); // "a" stopped refreshing
  expect(await store.presence(board, "c", undefined, 10_000)).toEqual({ count: 5, seq: 0 });
});

test("reads across Redis's pages of strokes match memory from every starting point", async () => {
  // 128 strokes a page: 300 strokes, a clear, 150 more cross page boundaries before and after the clear.
  const limits = { maxStrokes: 1_000, idleTtlSeconds: 60 };
  const stores = implementations.map(([, create]) => create(limits));
  const board = newBoard();
  const strokes = Array.from({ length: 450 }, () => makeStroke());
  for (const [index, stroke] of strokes.entries()) {
    if (index === 300) await Promise.all(stores.map((store) => store.clear(board)));
    await Promise.all(stores.map((store) => store.addStroke(board, stroke)));
  }
  for (let after = 0; after <= 452; after += 1) {
    const [redis, memory] = await Promise.all(stores.map((store) => read(store, board, after)));
    expect([after, redis]).toEqual([after, memory]);
  }
  expect((await read(stores[0]!, board, 0)).strokes).toHaveLength(150);
});

type Op = { kind: "add"; id: number } | { kind: "clear" } | { kind: "read"; after: number };

test("both stores give the same answer to any sequence of operations", async () => {
  const op = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 7 }).map((id): Op => ({ kind: "add", id })), weight: 6 },
    { arbitrary: fc.constant<Op>({ kind: "clear" }), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 15 }).map((after): Op => ({ kind: "read", after })), weight: 2 },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
      const board = newBoard();
      const stores = implementations.map(([, create]) => create(LIMITS));
      const strokes = Array.from({ length: 8 }, () => makeStroke());
      for (const step of ops) {
        const answers = await Promise.all(
          stores.map((store) =>
            step.kind === "add" ? store.addStroke(board, strokes[step.id]!) : step.kind === "clear" ? store.clear(board) : read(store, board, step.after),
          ),
        );
        expect(answers[0]).toEqual(answers[1]);
      }
    }),
    { numRuns: 60 },
  );
});
