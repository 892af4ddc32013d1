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

function writerOnMemory() {
  const broadcasts: { at: number; ops: BoardOp[] }[] = [];
  const writer = new BoardWriter({
    store: new MemoryBoardStore({
      maxStrokes: 1_000,
      maxBytes: 1_000_000,
      pageBytes: 16_384,
      logBytes: 262_144,
      readBytes: 1_048_576,
      idleTtlSeconds: 60,
      clearIntervalMs: 0,
      undoClearMs: 60_000,
    }),
    maxBatch: 64,
    minIntervalMs: INTERVAL_MS,
    clearsDelete: () => false,
    broadcast: (_board, _e, ops) => broadcasts.push({ at: performance.now(), ops: JSON.parse(ops) as BoardOp[] }),
  });
  return { writer, broadcasts };
}

const seqOf = (result: WriteResult) => (result.kind === "stroke" && result.outcome.kind !== "full" ? result.outcome.s : undefined);

test("a quiet board's write is stored and broadcast at once", async () => {
  const { writer, broadcasts } = writerOnMemory();
  const started = performance.now();
  const result = await writer.write("quiet", { kind: "stroke", user: "u", input: makeStroke() });
  expect(seqOf(result)).toBe(1);
  expect(broadcasts).toHaveLength(1);
  expect(performance.now() - started).toBeLessThan(INTERVAL_MS / 2);
});

test("one event per pointer sample (every 5 ms) makes at most one store call and one broadcast per interval", async () => {
  const { writer, broadcasts } = writerOnMemory();
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
  expect(broadcasts.flatMap((broadcast) => broadcast.ops.map((op) => op.s))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  // Broadcasts at least an interval apart (timers may fire a little early), and so no more than the elapsed time allows.
  const gaps = broadcasts.slice(1).map((broadcast, i) => broadcast.at - (broadcasts[i] as { at: number }).at);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL_MS - 2);
  expect(broadcasts.length).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 1);
  expect(broadcasts.length).toBeLessThan(40 / 4);
});

test("erasures are not held to the interval: each goes as soon as the call before it ends", async () => {
  const { writer } = writerOnMemory();
  await writer.write("erasing", { kind: "stroke", user: "u", input: makeStroke() });
  const started = performance.now();
  const erases = Array.from({ length: 20 }, (_, i) => writer.write("erasing", { kind: "visibility", user: "u", changes: [[`nothing-${i}`, 1]] }));
  await Promise.all(erases);
  expect(performance.now() - started).toBeLessThan(INTERVAL_MS * 2);
});
