/**
 * The whiteboard across three real instances (separate processes) sharing one real redis-server.
 */
import { Topology } from "../../local/topology";
import { connectClient, eventually, makeStroke, type TestClient } from "../support/socket-client";

let topology: Topology;
const clients: TestClient[] = [];
let boardCounter = 0;
const newBoard = () => `board-${process.pid}-${++boardCounter}`;

async function client(instance: number): Promise<TestClient> {
  const connected = await connectClient(topology.instance(instance).url);
  clients.push(connected);
  return connected;
}

async function joined(instance: number, board: string): Promise<TestClient> {
  const c = await client(instance);
  expect(await c.join({ board })).toMatchObject({ ok: true });
  return c;
}

beforeAll(async () => {
  topology = await Topology.start({ instances: 3 });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await topology?.stop();
});

test("a stroke sent to instance A reaches the board's clients on B and C, and no client of another board", async () => {
  const board = newBoard();
  const [a, b, c] = [await joined(0, board), await joined(1, board), await joined(2, board)];
  const elsewhere = await joined(1, newBoard());

  const stroke = makeStroke();
  const ack = await a.stroke(stroke);

  expect(ack).toEqual({ ok: true, seq: 1 });
  await eventually("B and C to get the stroke", () => b.strokes.length === 1 && c.strokes.length === 1);
  expect(b.strokes[0]).toEqual({ ...stroke, seq: 1 });
  expect(c.strokes[0]).toEqual({ ...stroke, seq: 1 });
  // The sender learns its seq from the ack, not from an echo.
  expect(a.strokes).toEqual([]);
  // Give a stray broadcast time to arrive before asserting that none did.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(elsewhere.strokes).toEqual([]);
});

test("a late joiner gets the whole board in seq order, and a rejoin with `after` gets exactly what it missed", async () => {
  const board = newBoard();
  const a = await joined(0, board);
  const b = await joined(1, board);
  const sent = [];
  for (let i = 0; i < 10; i += 1) {
    const stroke = makeStroke();
    sent.push(stroke);
    await (i % 2 === 0 ? a : b).stroke(stroke);
  }

  const late = await client(2);
  const whole = await late.join({ board });
  expect(whole).toEqual({
    ok: true,
    board,
    seq: 10,
    reset: false,
    strokes: sent.map((stroke, index) => ({ ...stroke, seq: index + 1 })),
  });

  const rejoin = await late.join({ board, after: 7 });
  expect(rejoin).toMatchObject({ ok: true, seq: 10, reset: false });
  expect(rejoin.ok && rejoin.strokes.map((stroke) => stroke.seq)).toEqual([8, 9, 10]);

  const upToDate = await late.join({ board, after: 10 });
  expect(upToDate).toMatchObject({ ok: true, seq: 10, reset: false, strokes: [] });
});

test("a resent stroke id is stored and broadcast once, and both acks carry the same seq", async () => {
  const board = newBoard();
  const a = await joined(0, board);
  const b = await joined(1, board);
  const stroke = makeStroke();

  const first = await a.stroke(stroke);
  // The resend arrives through another instance, as after a reconnect.
  const a2 = await joined(2, board);
  const second = await a2.stroke(stroke);
  const next = await a.stroke(makeStroke());

  expect(first).toEqual({ ok: true, seq: 1 });
  expect(second).toEqual({ ok: true, seq: 1 });
  expect(next).toEqual({ ok: true, seq: 2 });
  await eventually("B to get stroke 2", () => b.strokes.some((s) => s.seq === 2));
  expect(b.strokes.map((s) => s.seq)).toEqual([1, 2]);
  const read = await b.join({ board });
  expect(read.ok && read.strokes.map((s) => s.id)).toEqual([stroke.id, expect.any(String)]);
});

test("clear reaches every other client as `cleared`, and a rejoin from before it gets `reset`", async () => {
  const board = newBoard();
  const a = await joined(0, board);
  const b = await joined(1, board);
  const c = await joined(2, board);
  await a.stroke(makeStroke());
  await b.stroke(makeStroke());

  const cleared = await c.clear();
  expect(cleared).toEqual({ ok: true, seq: 3 });
  await eventually("A and B to get `cleared`", () => a.cleared.length === 1 && b.cleared.length === 1);
  expect(a.cleared).toEqual([3]);
  expect(b.cleared).toEqual([3]);

  const after = makeStroke();
  expect(await a.stroke(after)).toEqual({ ok: true, seq: 4 });
  expect(await b.join({ board, after: 2 })).toEqual({ ok: true, board, seq: 4, reset: true, strokes: [{ ...after, seq: 4 }] });
  expect(await b.join({ board, after: 3 })).toEqual({ ok: true, board, seq: 4, reset: false, strokes: [{ ...after, seq: 4 }] });
});

test("a board that lost its data (store wiped or expired) tells a client holding more to reset", async () => {
  const board = newBoard();
  const a = await joined(0, board);
  expect(await a.join({ board, after: 5 })).toEqual({ ok: true, board, seq: 0, reset: true, strokes: [] });
});

test("joining another board leaves the first one", async () => {
  const first = newBoard();
  const second = newBoard();
  const mover = await joined(0, first);
  const stayer = await joined(1, first);
  expect(await mover.join({ board: second })).toMatchObject({ ok: true, board: second });

  await stayer.stroke(makeStroke());
  const onSecond = await joined(2, second);
  await onSecond.stroke(makeStroke());

  await eventually("the mover to get the second board's stroke", () => mover.strokes.length === 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(mover.strokes.map((s) => s.seq)).toEqual([1]);
  expect(mover.strokes[0]?.id).not.toBe(stayer.strokes[0]?.id);
});

test("presence counts a board's clients across every instance and follows joins and leaves", async () => {
  const board = newBoard();
  const a = await joined(0, board);
  await eventually("A to see itself", () => a.presence.at(-1) === 1);
  const b = await joined(1, board);
  const c = await joined(2, board);
  await eventually("everyone to count 3", () => [a, b, c].every((x) => x.presence.at(-1) === 3));

  c.close();
  await eventually("A and B to count 2 after C leaves", () => [a, b].every((x) => x.presence.at(-1) === 2));
  await b.join({ board: newBoard() });
  await eventually("A to count 1 after B moves away", () => a.presence.at(-1) === 1);
});
