/**
 * The board writer's pacing and coalescing, on the memory store: a quiet board's write goes at once; a board that
 * keeps writing spends its burst, then makes at most one draw call (and one broadcast) per interval, the adds and
 * appends that arrived meanwhile together in it, each with its own seq and acknowledged once stored.
 */
import type { BoardOp } from "../../protocol/events";
import { BoardWriter, type DrawResult } from "../../service/board-writer";
import { MemoryBoardStore } from "../../service/store/memory-board-store";
import { makeLine } from "../support/socket-client";

const INTERVAL_MS = 40;
const BURST = 3;
const USER = "writer-000000000";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function writerOnMemory(intervalMs = INTERVAL_MS, burst = BURST, now?: () => number) {
  const broadcasts: BoardOp[][] = [];
  /** When each draw call started: what the pacing spaces out. */
  const callStarts: number[] = [];
  const store = new MemoryBoardStore({
    maxElements: 1_000,
    maxBytes: 1_000_000,
    appendReserveBytes: 0,
    maxLineBytes: 16_384,
    pageBytes: 16_384,
    logBytes: 262_144,
    readBytes: 1_048_576,
    idleTtlSeconds: 60,
    clearIntervalMs: 0,
    undoClearMs: 60_000,
  });
  const draw = store.draw.bind(store);
  store.draw = (...args) => {
    callStarts.push(performance.now());
    return draw(...args);
  };
  const writer = new BoardWriter({
    store,
    maxBatch: 64,
    intervalMs,
    burst,
    clearsDelete: () => false,
    ...(now ? { now } : {}),
    broadcast: (_board, _e, ops) => broadcasts.push(JSON.parse(ops) as BoardOp[]),
  });
  return { writer, broadcasts, callStarts };
}

const seqOf = (result: DrawResult) => (result.outcome.kind === "stored" ? result.outcome.s : undefined);
const addLine = (writer: BoardWriter, board: string) =>
  writer.write(board, { kind: "add", user: USER, element: makeLine() });

test("a quiet board's writes go at once, one call each, as long as its burst lasts", async () => {
  const { writer, broadcasts, callStarts } = writerOnMemory(2_000);
  const started = performance.now();
  for (let i = 1; i <= BURST; i += 1) expect(seqOf(await addLine(writer, "quiet"))).toBe(i);
  expect(broadcasts).toHaveLength(BURST);
  expect(callStarts).toHaveLength(BURST);
  expect(performance.now() - started).toBeLessThan(1_000);
});

test("one event per pointer sample (every 5 ms) makes at most one call and one broadcast per interval once the burst is spent", async () => {
  const { writer, broadcasts, callStarts } = writerOnMemory();
  const writes: Promise<DrawResult>[] = [];
  const started = performance.now();
  for (let i = 0; i < 60; i += 1) {
    writes.push(addLine(writer, "busy"));
    await sleep(5);
  }
  const results = await Promise.all(writes);
  const elapsed = performance.now() - started;
  // Every element stored once, in order, each with its own seq.
  expect(results.map(seqOf)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  expect(broadcasts.flatMap((ops) => ops.map((op) => op.s))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  // One broadcast per call; past the burst, calls about an interval apart, no more than the elapsed time allows.
  expect(broadcasts).toHaveLength(callStarts.length);
  // In any stretch of the paced calls, no more than a burst and one per interval: a rate, not a gap between two calls
  // (a timer that fires late under load lets the next call come on schedule, a short gap that is no burst).
  const paced = callStarts.slice(BURST);
  paced.forEach((from, i) =>
    paced.slice(i + 1).forEach((to, k) => expect(k + 1).toBeLessThanOrEqual(BURST + (to - from) / INTERVAL_MS + 1)),
  );
  expect(callStarts.length).toBeLessThanOrEqual(BURST + Math.ceil(elapsed / INTERVAL_MS) + 1);
  expect(callStarts.length).toBeLessThan(60 / 3);
});

test("appends and adds of several users go in one call, each answered with its own outcome", async () => {
  const { writer, callStarts } = writerOnMemory(1_000, 1);
  const line = makeLine();
  await writer.write("mixed", { kind: "add", user: USER, element: line });
  // The bucket is empty now: these four wait for the next token, and go together.
  const [own, stranger, next, skipped] = await Promise.all([
    writer.write("mixed", { kind: "append", user: USER, points: { i: line.id, n: 1, d: "AAA", b: line.b } }),
    writer.write("mixed", {
      kind: "append",
      user: "someone-else0000",
      points: { i: line.id, n: 2, d: "AAA", b: line.b },
    }),
    addLine(writer, "mixed"),
    writer.write("mixed", { kind: "append", user: USER, points: { i: line.id, n: 3, d: "AAA", b: line.b } }),
  ]);
  expect(callStarts).toHaveLength(2);
  expect([own, stranger, next, skipped].map((result) => result.outcome.kind)).toEqual([
    "stored",
    "forbidden",
    "stored",
    "out_of_order",
  ]);
});

test("erasures are not paced: each goes as soon as the call before it ends", async () => {
  // An interval of a second: paced, 20 erasures would take 17 s.
  const { writer } = writerOnMemory(1_000);
  const started = performance.now();
  const erases = Array.from({ length: 20 }, (_, i) =>
    writer.write("erasing", {
      kind: "visibility",
      user: USER,
      ids: [`nothing-here-${i}`.padEnd(16, "0")],
      show: false,
    }),
  );
  await Promise.all(erases);
  expect(performance.now() - started).toBeLessThan(1_000);
});

test("a board's bucket refills while it is quiet: after a pause, a burst goes at once again", async () => {
  // The bucket reads this clock; a call that had to wait for a token would wait a real second.
  let clock = 0;
  const { writer, callStarts } = writerOnMemory(1_000, 2, () => clock);
  await Promise.all(Array.from({ length: 3 }, () => addLine(writer, "refill")));
  expect(callStarts).toHaveLength(2);
  clock += 2_000;
  const started = performance.now();
  await addLine(writer, "refill");
  await addLine(writer, "refill");
  expect(callStarts).toHaveLength(4);
  expect(performance.now() - started).toBeLessThan(900);
});
