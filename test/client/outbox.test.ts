/**
 * The outbox on its own: a line as one add and its appends, samples piling up in the open write while earlier ones
 * are in flight, the order rules between writes of one element, a refused line removed whole, what the board's
 * progress releases, and every write kept in the pending store until then.
 */
import { Outbox } from "../../client/core/outbox";
import { MemoryPendingStore } from "../../client/core/pending-store";
import type { ElementRecord } from "../../protocol/events";
import { decodeSamples, type Sample } from "../../protocol/points";
import { anyString } from "../support/matchers";

const BOARD = "board";
const pen = { c: "#ff0000", sw: 3 };
let counter = 0;
let pages = 0;

function outbox(options: { maxPointsPerWrite?: number; maxLineBytes?: number } = {}) {
  const store = new MemoryPendingStore();
  const box = new Outbox({
    board: BOARD,
    store,
    pageId: `page-${(pages += 1)}`,
    maxPointsPerWrite: options.maxPointsPerWrite ?? 100,
    maxLineBytes: options.maxLineBytes ?? 16_384,
    newId: () => `line-${String((counter += 1)).padStart(11, "0")}`,
  });
  return { box, store };
}

const samples = (from: number, count: number): Sample[] =>
  Array.from({ length: count }, (_, index) => [from + index, from + index, 1] as const);
const points = (d: string) => decodeSamples(d) as number[];
const board = (held: Partial<ElementRecord>[] = [], epoch = "E", watermark = 0) => ({
  epoch,
  watermark,
  get: (id: string) => held.find((record) => record.i === id) as ElementRecord | undefined,
  versionOf: (id: string) => {
    const record = held.find((candidate) => candidate.i === id);
    return record ? (record.v ?? 0) : undefined;
  },
});

test("samples pile up in the line's open write until it is taken for sending, then go into the next append", () => {
  const { box } = outbox();
  const id = box.begin([10, 10, 1], pen);
  box.extend(samples(11, 2));
  const add = box.next(4);
  expect(add?.write).toEqual({
    kind: "add",
    input: { id, t: "f", b: [10, 10, 2, 2], c: "#ff0000", sw: 3, f: "", d: anyString() },
  });
  box.extend(samples(13, 3));
  box.extend(samples(16, 1));
  const append = box.next(4);
  expect(append?.write).toMatchObject({ kind: "append", input: { i: id, n: 1, b: [10, 10, 6, 6] } });
  expect(box.next(4)).toBeUndefined();
  const line = box.line(id);
  expect(line && points(box.pointsOf(line))).toEqual(samples(10, 7).flat());
});

test("an open write never holds more than maxPointsPerWrite samples", () => {
  const { box } = outbox({ maxPointsPerWrite: 3 });
  box.begin([0, 0, 0], pen);
  box.extend(samples(1, 7));
  box.end();
  const writes = [box.next(9), box.next(9), box.next(9)].map((entry) => entry?.write);
  expect(writes.map((write) => write?.kind)).toEqual(["add", "append", "append"]);
  expect(writes.map((write) => (write?.kind === "append" ? write.input.n : 0))).toEqual([0, 1, 2]);
});

test("the window bounds what is in flight; a change waits for the add of the element it names", () => {
  const { box } = outbox();
  const [a, b] = ["shape-000000000001", "shape-000000000002"];
  box.add([{ id: a, t: "r", b: [0, 0, 1, 1], c: "#000000", sw: 1, f: "", d: "" }]);
  box.change({ kind: "erase", input: { ids: [a] } });
  box.add([{ id: b, t: "r", b: [0, 0, 1, 1], c: "#000000", sw: 1, f: "", d: "" }]);
  const first = box.next(1);
  expect(box.next(1)).toBeUndefined(); // the window is full
  // The erase of `a` may not overtake a's add; b's add may go past it.
  expect(box.next(3)?.write).toMatchObject({ kind: "add", input: { id: b } });
  box.acknowledge(first!, 1, "E");
  expect(box.next(3)?.write).toEqual({ kind: "erase", input: { ids: [a] } });
});

test("a retried write goes before later writes of its element; after a drop everything in flight goes again", () => {
  const { box } = outbox();
  const id = box.begin([0, 0, 0], pen);
  const add = box.next(4)!;
  box.extend(samples(1, 2));
  const append = box.next(4)!;
  box.retry(add);
  // The append is in flight already; the add goes again before anything else of the line.
  box.extend(samples(3, 1));
  expect(box.next(4)).toBe(add);
  box.unsendAll();
  expect([box.next(4), box.next(4), box.next(4)?.write.kind]).toEqual([add, append, "append"]);
  expect(box.line(id)?.appends).toBe(2);
});

test("a refused line is dropped whole and erased where it may be stored; told once", () => {
  const { box, store } = outbox();
  const id = box.begin([0, 0, 0], pen);
  const add = box.next(4)!;
  box.acknowledge(add, 1, "E");
  box.extend(samples(1, 2));
  const first = box.next(4)!;
  box.extend(samples(3, 2));
  const second = box.next(4)!;
  expect(box.refuse(first, true)).toEqual({ ids: [id], element: true });
  expect(box.refuse(second, true)).toBeUndefined();
  // Samples drawn after the refusal go nowhere.
  box.extend(samples(5, 2));
  box.end();
  expect(box.entries.map((entry) => entry.write)).toEqual([{ kind: "erase", input: { ids: [id] } }]);
  expect(store.records(BOARD).map((record) => record.write.kind)).toEqual(["erase"]);
});

test("an acknowledged write stays until the board holds its effect, and is kept in the store until then", () => {
  const { box, store } = outbox();
  const id = box.begin([0, 0, 0], pen);
  const add = box.next(4)!;
  box.extend(samples(1, 1));
  box.end();
  const append = box.next(4)!;
  box.acknowledge(add, 5, "E");
  box.acknowledge(append, 6, "E");
  expect(box.size).toBe(0);
  expect(store.records(BOARD).map((record) => record.acked)).toEqual([
    { s: 5, e: "E" },
    { s: 6, e: "E" },
  ]);
  // The board holds the line but not its append yet.
  box.settle(board([{ i: id, n: 0 }]));
  expect(box.entries).toEqual([append]);
  // Past the append's seq in the same epoch, it is applied (or was cleared away): released.
  box.settle(board([], "E", 6));
  expect(box.entries).toEqual([]);
  expect(store.records(BOARD)).toEqual([]);
});

test("acknowledgements of another epoch are taken as knowledge for healing: the line as far as acknowledged", () => {
  const { box } = outbox({ maxPointsPerWrite: 2 });
  const id = box.begin([0, 0, 0], pen);
  box.extend(samples(1, 3));
  box.end();
  const [add, first, second] = [box.next(9)!, box.next(9)!, box.next(9)!];
  box.acknowledge(add, 1, "E1");
  box.acknowledge(first, 2, "E1");
  // The second append is not acknowledged: it stays, to go after the healed line.
  const known = box.takeStaleAcks("E2", "user-aaaaaaaaaaaa", () => undefined);
  expect(known).toHaveLength(1);
  expect(known[0]).toMatchObject({ epoch: "E1", version: 2, record: { i: id, n: 1, u: "user-aaaaaaaaaaaa" } });
  expect(points(known[0]?.record.d ?? "")).toEqual([0, 0, 0, ...samples(1, 3).flat()]);
  expect(box.entries).toEqual([second]);
});

test("a line continues as a new line before its points pass the line's size limit", () => {
  const { box } = outbox({ maxLineBytes: 9 });
  box.begin([0, 0, 1], pen);
  box.extend(samples(1, 4));
  const ids = box.end();
  expect(ids).toHaveLength(2);
  const [first, second] = ids.map((id) => box.line(id)!);
  expect(points(box.pointsOf(first!))).toEqual(samples(0, 3).flat());
  expect(points(box.pointsOf(second!))).toEqual(samples(2, 3).flat());
});

test("writes kept by an earlier page come first, as they were: lines whole, acknowledgements kept", async () => {
  const { box, store } = outbox();
  const id = box.begin([0, 0, 0], pen);
  box.extend(samples(1, 2));
  box.acknowledge(box.next(4)!, 3, "E");
  box.extend(samples(3, 2));
  const later = outbox();
  later.box.add([{ id: "shape-000000000001", t: "r", b: [0, 0, 1, 1], c: "#000000", sw: 1, f: "", d: "" }]);
  later.box.restore(await store.load(BOARD));
  expect(later.box.entries.map((entry) => [entry.write.kind, entry.state])).toEqual([
    ["add", "acked"],
    ["append", "queued"],
    ["add", "queued"],
  ]);
  const line = later.box.line(id);
  expect(line && points(later.box.pointsOf(line))).toEqual([0, 0, 0, ...samples(1, 4).flat()]);
  expect(later.box.next(4)?.write).toMatchObject({ kind: "append", input: { i: id, n: 1 } });
});
