/**
 * BoardState must converge to the server's board whatever order, duplication and mix of live events and
 * join acks the network delivers.
 */
import fc from "fast-check";
import { BoardState, type JoinSuccess } from "../../client/core/board-state";
import type { Stroke } from "../../protocol/events";

const stroke = (seq: number): Stroke => ({ id: `id${seq}`, seq, points: [[0, 0]], color: "#000000", width: 1 });

/** A model of the server's board: the operation at seq n is ops[n - 1]. */
type Op = "stroke" | "clear";

function boardAt(ops: readonly Op[], upTo: number): { strokes: Stroke[]; cleared: number } {
  let cleared = 0;
  ops.slice(0, upTo).forEach((op, index) => {
    if (op === "clear") cleared = index + 1;
  });
  const strokes = [];
  for (let seq = cleared + 1; seq <= upTo; seq += 1) strokes.push(stroke(seq));
  return { strokes, cleared };
}

/** The join ack the service would send at the moment the board's seq was `at` (see service/store/redis-scripts.ts, READ). */
function joinAck(ops: readonly Op[], at: number, after: number): JoinSuccess {
  const { strokes, cleared } = boardAt(ops, at);
  const reset = after < cleared || after > at;
  return { ok: true, board: "b", seq: at, reset, strokes: reset ? strokes : strokes.filter((s) => s.seq > after) };
}

/**
 * A live event, or a join that the client sends with its watermark as `after` and the server answers
 * when the board is at some seq between that and the end (`at` picks where, 0..1).
 */
type Delivery = { kind: "live"; seq: number } | { kind: "join"; at: number };

function deliver(state: BoardState, ops: readonly Op[], delivery: Delivery): void {
  if (delivery.kind === "join") {
    const after = state.watermark;
    state.applyJoin(joinAck(ops, after + Math.round(delivery.at * (ops.length - after)), after));
  } else if (ops[delivery.seq - 1] === "clear") state.applyClear(delivery.seq);
  else state.applyStroke(stroke(delivery.seq));
}

const ops = fc.array(fc.constantFrom<Op>("stroke", "stroke", "stroke", "clear"), { minLength: 1, maxLength: 40 });

test("live events delivered in any order, with duplicates, converge to the server's board", () => {
  fc.assert(
    fc.property(
      ops.chain((o) =>
        fc.tuple(
          fc.constant(o),
          fc.shuffledSubarray(o.map((_, i) => i + 1), { minLength: o.length, maxLength: o.length }),
          fc.array(fc.integer({ min: 1, max: o.length }), { maxLength: 10 }),
        ),
      ),
      ([o, order, duplicates]) => {
        const state = new BoardState();
        for (const seq of [...order, ...duplicates]) deliver(state, o, { kind: "live", seq });
        expect(state.strokes()).toEqual(boardAt(o, o.length).strokes);
        expect(state.watermark).toBe(o.length);
        expect(state.hasGap).toBe(false);
      },
    ),
  );
});

test("join acks taken at any moment, mixed with any subset of live events, converge after one final join", () => {
  fc.assert(
    fc.property(
      ops.chain((o) =>
        fc.tuple(
          fc.constant(o),
          fc.array(
            fc.oneof(
              fc.integer({ min: 1, max: o.length }).map((seq): Delivery => ({ kind: "live", seq })),
              fc.double({ min: 0, max: 1, noNaN: true }).map((at): Delivery => ({ kind: "join", at })),
            ),
            { maxLength: 30 },
          ),
        ),
      ),
      ([o, deliveries]) => {
        const state = new BoardState();
        for (const delivery of deliveries) deliver(state, o, delivery);
        // What the session does when it sees a gap or reconnects: rejoin after its watermark.
        deliver(state, o, { kind: "join", at: 1 });
        expect(state.strokes()).toEqual(boardAt(o, o.length).strokes);
        expect(state.watermark).toBe(o.length);
      },
    ),
  );
});

test("a stroke arriving below the top is reported out of order; a duplicate adds nothing", () => {
  const state = new BoardState();
  expect(state.applyStroke(stroke(1))).toEqual({ reset: false, added: [stroke(1)], outOfOrder: false });
  expect(state.applyStroke(stroke(3))).toEqual({ reset: false, added: [stroke(3)], outOfOrder: false });
  expect(state.hasGap).toBe(true);
  expect(state.watermark).toBe(1);
  expect(state.applyStroke(stroke(2))).toEqual({ reset: false, added: [stroke(2)], outOfOrder: true });
  expect(state.applyStroke(stroke(2))).toEqual({ reset: false, added: [], outOfOrder: false });
  expect(state.watermark).toBe(3);
  expect(state.strokes().map((s) => s.seq)).toEqual([1, 2, 3]);
});

test("a join ack with reset drops what it covers but keeps live strokes newer than the ack", () => {
  const state = new BoardState();
  state.applyStroke(stroke(1));
  state.applyStroke(stroke(2));
  state.applyStroke(stroke(6)); // arrived while the join was in flight
  expect(state.applyJoin({ ok: true, board: "b", seq: 5, reset: true, strokes: [stroke(5)] })).toEqual({
    reset: true,
    added: [stroke(5)],
    outOfOrder: true,
  });
  expect(state.strokes().map((s) => s.seq)).toEqual([5, 6]);
  expect(state.watermark).toBe(6);
  expect(state.has("id1")).toBe(false);
});

test("`head` above the watermark opens a gap until the missing strokes arrive", () => {
  const state = new BoardState();
  state.applyJoin({ ok: true, board: "b", seq: 2, reset: false, strokes: [stroke(1), stroke(2)] });
  state.applyHead(3);
  expect(state.hasGap).toBe(true);
  state.applyStroke(stroke(3));
  expect(state.hasGap).toBe(false);
});
