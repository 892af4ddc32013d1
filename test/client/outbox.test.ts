import { Outbox } from "../../client/core/outbox";
import { decodePoints, encodePoints } from "../../protocol/points";

const pen = { color: "#ff0000", width: 3 };
let counter = 0;
const outbox = (maxPoints = 4) => new Outbox(maxPoints, () => `line${++counter}`);
const points = (p: string) => {
  const flat = decodePoints(p) as number[];
  return Array.from({ length: flat.length / 2 }, (_, index) => [flat[2 * index], flat[2 * index + 1]]);
};

test("a stroke being drawn grows its open chunk until the chunk is taken for sending", () => {
  const box = outbox(100);
  box.begin([10, 10], pen);
  box.extend([20, 20]);
  const first = box.next();
  expect(first).toEqual({
    id: `line${counter}-1`,
    p: encodePoints([
      [10, 10],
      [20, 20],
    ]),
    c: pen.color,
    w: pen.width,
  });

  // Points drawn while the first chunk is in flight pile up in the next one, starting where it ended.
  box.extend([30, 30]);
  box.extend([40, 40]);
  expect(box.pending.map((s) => points(s.p))).toEqual([
    [
      [10, 10],
      [20, 20],
    ],
    [
      [20, 20],
      [30, 30],
      [40, 40],
    ],
  ]);
  expect(box.inFlight).toBe(1);
  // With a window, the next chunk goes before the first is acknowledged.
  expect(box.next()?.id).toBe(`line${counter}-2`);
  expect(box.take(first!.id)).toEqual(first);
  expect(box.next()).toBeUndefined();
});

test("a chunk never holds more than the point limit; the next one continues from its last point", () => {
  const box = outbox(3);
  box.begin([0, 0], pen);
  for (let i = 1; i <= 4; i += 1) box.extend([i * 10, i * 10]);
  box.end();
  expect(box.pending.map((s) => points(s.p))).toEqual([
    [
      [0, 0],
      [10, 10],
      [20, 20],
    ],
    [
      [20, 20],
      [30, 30],
      [40, 40],
    ],
  ]);
  expect(box.drawing).toBe(false);
});

test("strokes stay in drawing order, and points after `end` go nowhere", () => {
  const box = outbox();
  box.begin([1, 1], pen);
  box.end();
  box.extend([9, 9]);
  box.begin([5, 5], { color: "#00ff00", width: 9 });
  box.end();
  expect(box.pending.map((s) => [points(s.p), s.c])).toEqual([
    [[[1, 1]], "#ff0000"],
    [[[5, 5]], "#00ff00"],
  ]);
  expect(new Set(box.pending.map((s) => s.id)).size).toBe(2);
});

test("after a lost connection everything goes again in order; a retried chunk goes with the next ones", () => {
  const box = outbox();
  box.begin([1, 1], pen);
  box.end();
  box.begin([2, 2], pen);
  box.end();
  const [a, b] = [box.next(), box.next()];
  expect(box.next()).toBeUndefined();
  box.resendAll();
  expect([box.next()?.id, box.next()?.id]).toEqual([a?.id, b?.id]);
  box.retry(a!.id);
  expect(box.next()?.id).toBe(a?.id);
});

test("strokes restored into a store that lost them queue as they are", () => {
  const box = outbox();
  const restored = { id: "theirs-1", p: encodePoints([[3, 4]]), c: "#123456", w: 2, v: 2, u: "someone-else" };
  box.enqueue([restored]);
  expect(box.next()).toEqual(restored);
});

test("end names every chunk of the line just finished, which is what undo hides", () => {
  const box = outbox(2);
  const line = box.begin([0, 0], pen);
  for (let i = 1; i <= 3; i += 1) box.extend([i, i]);
  expect(box.end()).toEqual([`${line}-1`, `${line}-2`, `${line}-3`]);
  expect(box.end()).toEqual([]);
});

test("an acknowledged chunk is never sent again and stays on the page until the board holds it", () => {
  const box = outbox(100);
  box.begin([10, 10], pen);
  box.extend([20, 20]);
  box.end();
  const chunk = box.next() as NonNullable<ReturnType<Outbox["next"]>>;
  expect(box.acknowledge(chunk.id, 7)).toEqual(chunk);
  // Its operation may arrive after the ack (the instance publishes it first), or wait behind a gap.
  expect(box.size).toBe(0);
  expect(box.inFlight).toBe(0);
  expect(box.pending.map((input) => input.id)).toEqual([chunk.id]);
  box.resendAll();
  expect(box.next()).toBeUndefined();
  expect(box.acknowledge(chunk.id, 7)).toBeUndefined(); // the ack and the broadcast each acknowledge it once
  expect(box.stored).toEqual([{ input: chunk, s: 7 }]);

  box.release(({ s }) => s > 7);
  expect(box.pending).toHaveLength(1);
  box.release(({ input }) => input.id === chunk.id);
  expect(box.pending).toHaveLength(0);
  expect(box.stored).toEqual([]);
});

test("healing sends again an acknowledged chunk the store lost before the board held it, and never shows a hidden one", () => {
  const box = outbox(100);
  box.begin([10, 10], pen);
  box.end();
  const own = box.next() as NonNullable<ReturnType<Outbox["next"]>>;
  box.acknowledge(own.id, 3);
  const hidden = { id: "cleared-1", p: own.p, c: "#000000", w: 2, u: "someone", v: 1 };
  const lost = { id: "lost-1", p: own.p, c: "#000000", w: 2, u: "someone" };
  box.enqueue([{ ...own, u: "me" }, hidden, lost]);

  expect(box.size).toBe(3);
  expect([box.next()?.id, box.next()?.id, box.next()?.id]).toEqual([own.id, "cleared-1", "lost-1"]);
  // A stroke restored hidden (the store lost the clear that hid it) is sent, but the page does not draw it.
  expect(box.pending.map((input) => input.id)).toEqual([own.id, "lost-1"]);
  // Queued or in flight already: not queued twice.
  box.enqueue([lost]);
  expect(box.size).toBe(3);
});
