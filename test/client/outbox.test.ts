import { Outbox } from "../../client/core/outbox";

const pen = { color: "#ff0000", width: 3 };
let counter = 0;
const outbox = (maxPoints = 4) => new Outbox(maxPoints, () => `stroke${++counter}`);

test("a stroke being drawn grows its open chunk until the chunk is taken for sending", () => {
  const box = outbox(100);
  box.begin([0.1, 0.1], pen);
  box.extend([0.2, 0.2]);
  const first = box.next();
  expect(first).toEqual({ id: `stroke${counter}-1`, points: [[0.1, 0.1], [0.2, 0.2]], ...pen });

  // Points drawn while the first chunk is in flight pile up in the next one, starting where it ended.
  box.extend([0.3, 0.3]);
  box.extend([0.4, 0.4]);
  expect(box.pending.map((s) => s.points)).toEqual([
    [[0.1, 0.1], [0.2, 0.2]],
    [[0.2, 0.2], [0.3, 0.3], [0.4, 0.4]],
  ]);
  box.remove(first!.id);
  expect(box.next()?.id).toBe(`stroke${counter}-2`);
});

test("a chunk never holds more than the point limit; the next one continues from its last point", () => {
  const box = outbox(3);
  box.begin([0, 0], pen);
  for (let i = 1; i <= 4; i += 1) box.extend([i / 10, i / 10]);
  box.end();
  expect(box.pending.map((s) => s.points)).toEqual([
    [[0, 0], [0.1, 0.1], [0.2, 0.2]],
    [[0.2, 0.2], [0.3, 0.3], [0.4, 0.4]],
  ]);
  expect(box.drawing).toBe(false);
});

test("strokes stay in drawing order, and points after `end` go nowhere", () => {
  const box = outbox();
  box.begin([0.1, 0.1], pen);
  box.end();
  box.extend([0.9, 0.9]);
  box.begin([0.5, 0.5], { color: "#00ff00", width: 9 });
  box.end();
  expect(box.pending.map((s) => [s.points, s.color])).toEqual([
    [[[0.1, 0.1]], "#ff0000"],
    [[[0.5, 0.5]], "#00ff00"],
  ]);
  expect(new Set(box.pending.map((s) => s.id)).size).toBe(2);
});
