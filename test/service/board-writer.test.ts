/**
 * The board writer's coalescing, on the memory store: a quiet board's write goes at once; writes arriving faster
 * than WRITE_INTERVAL_MS go together, at most one store call and one broadcast per interval, each still with its own
 * seq and acknowledged once stored.
 */
import type { BoardOp } from "../../protocol/events";
import { BoardWriter, type WriteResult } from "../../service/board-writer";
import { MemoryBoardStore } from "../../service/store/memory-board-store";
import { makeStroke } from "../support/socket-client";

const INTERVAL_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function writerOnMemory(intervalMs = INTERVAL_MS) {
  const broadcasts: BoardOp[][] = [];
  /** When each store call of strokes started: what the interval spaces out. */
  const callStarts: number[] = [];
  const store = new MemoryBoardStore({
    maxStrokes: 1_000,
    maxBytes: 1_000_000,
    pageBytes: 16_384,
    logBytes: 262_144,
    readBytes: 1_048_576,
    idleTtlSeconds: 60,
    clearIntervalMs: 0,
    undoClearMs: 60_000,
  });
  const addStrokes = store.addStrokes.bind(store);
  store.addStrokes = (...args) => {
    callStarts.push(performance.now());
    return addStrokes(...args);
  };
  const writer = new BoardWriter({
    store,
    maxBatch: 64,
    minIntervalMs: intervalMs,
    clearsDelete: () => false,
    broadcast: (_board, _e, ops) => broadcasts.push(JSON.parse(ops) as BoardOp[]),
  });
  return { writer, broadcasts, callStarts };
}

const seqOf = (result: WriteResult) =>
  result.kind === "stroke" && result.outcome.kind !== "full" ? result.outcome.s : undefined;

test("a quiet board's write is stored and broadcast at once, not after an interval", async () => {
  const { writer, broadcasts } = writerOnMemory(2_000);
  const started = performance.now();
  const result = await writer.write("quiet", { kind: "stroke", user: "u", input: makeStroke() });
  expect(seqOf(result)).toBe(1);
  expect(broadcasts).toHaveLength(1);
  expect(performance.now() - started).toBeLessThan(1_000);
});

test("one event per pointer sample (every 5 ms) makes at most one store call and one broadcast per interval", async () => {
  const { writer, broadcasts, callStarts } = writerOnMemory();
  const writes: Promise<WriteResult>[] = [];
  const started = performance.now();
  for (let i = 0; i < 40; i += 1) {
    writes.push(writer.write("busy", { kind: "stroke", user: "u", input: makeStroke() }));
    await sleep(5);
  }
  const results = await Promise.all(writes);
  const elapsed = performance.now() - started;
  // Every stroke stored once, in order, each with its own seq.
  expect(results.map(seqOf)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  expect(broadcasts.flatMap((ops) => ops.map((op) => op.s))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  // One broadcast per store call; calls about an interval apart (the writer times the interval from where it takes
  // the batch, a little before the store is called: a pause in between, such as a first compile, shortens a gap
  // here; without the interval the gaps would be the 5 ms between writes), and no more than the elapsed time allows.
  expect(broadcasts).toHaveLength(callStarts.length);
  const gaps = callStarts.slice(1).map((at, i) => at - (callStarts[i] as number));
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL_MS / 2);
  expect(callStarts.length).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 1);
  expect(callStarts.length).toBeLessThan(40 / 4);
});

test("erasures are not held to the interval: each goes as soon as the call before it ends", async () => {
  // An interval of a second: held to it, 20 erasures would take 19 s.
  const { writer } = writerOnMemory(1_000);
  const started = performance.now();
  const erases = Array.from({ length: 20 }, (_, i) =>
    writer.write("erasing", { kind: "visibility", user: "u", changes: [[`nothing-${i}`, 1]] }),
  );
  await Promise.all(erases);
  expect(performance.now() - started).toBeLessThan(1_000);
});
