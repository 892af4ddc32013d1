/**
 * The whiteboard across three real instances (separate processes) sharing one real Redis: the Memorystore for Redis
 * stand-in, and the Memorystore for Redis Cluster stand-in (three primaries with a replica each, IAM authentication),
 * every test against both.
 */
import type { BoardOp, StrokeRecord, SyncAck } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { Topology } from "../../local/topology";
import { addedIds, connectClient, eventually, makeStroke, type TestClient } from "../support/socket-client";

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

/** The stroke records of a snapshot answer, in seq order. */
function snapshotRecords(ack: SyncAck): StrokeRecord[] {
  if (!ack.ok || !("snapshot" in ack)) throw new Error(`expected a snapshot, got ${JSON.stringify(ack)}`);
  return ack.snapshot.records.map(toRecord).sort((a, b) => a.s - b.s);
}

function opsOf(ack: SyncAck): BoardOp[] {
  if (!ack.ok || !("ops" in ack)) throw new Error(`expected operations, got ${JSON.stringify(ack)}`);
  return ack.ops;
}

/** Each topology the stacks can deploy: one Redis (the default), or a Redis Cluster (`redis.engine`). */
const TOPOLOGIES = ["standalone", "cluster"] as const;

describe.each(TOPOLOGIES)("%s Redis", (redis) => {
  beforeAll(async () => {
    topology = await Topology.start({ instances: 3, redis, env: { CLEAR_INTERVAL_SECONDS: "0" } });
  }, 60_000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await topology?.stop();
  });

  test("a stroke sent to instance A reaches every client of the board on A, B and C, and no client of another board", async () => {
    const board = newBoard();
    const [a, b, c] = [await joined(0, board), await joined(1, board), await joined(2, board)];
    const elsewhere = await joined(1, newBoard());

    const stroke = makeStroke();
    const ack = await a.stroke(stroke);

    expect(ack).toEqual({ ok: true, s: 1 });
    await eventually("A, B and C to get the stroke", () => [a, b, c].every((x) => x.ops.length === 1));
    const expected = { t: "s", s: 1, r: [1, 1, 0, stroke.id, a.user.id, stroke.c, stroke.w, stroke.p] };
    for (const x of [a, b, c]) expect(x.ops).toEqual([expected]);
    expect(new Set([a, b, c].flatMap((x) => x.epochs)).size).toBe(1);
    // Give a stray broadcast time to arrive before asserting that none did.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(elsewhere.ops).toEqual([]);
  });

  test("a late joiner gets a snapshot of the board; a rejoin with its epoch and `after` gets exactly the operations it missed", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const sent = [];
    for (let i = 0; i < 10; i += 1) {
      const stroke = makeStroke();
      sent.push(stroke);
      expect(await (i % 2 === 0 ? a : b).stroke(stroke)).toEqual({ ok: true, s: i + 1 });
    }

    const late = await client(2);
    const whole = await late.join({ board });
    expect(whole).toMatchObject({ ok: true, board, s: 10 });
    expect(snapshotRecords(whole).map((record) => [record.s, record.i])).toEqual(
      sent.map((stroke, index) => [index + 1, stroke.id]),
    );
    const e = (whole as { e: string }).e;

    const rejoin = await late.join({ board, e, after: 7 });
    expect(opsOf(rejoin).map((op) => op.s)).toEqual([8, 9, 10]);
    expect(opsOf(await late.read({ e, after: 10 }))).toEqual([]);
    // Another epoch (a store that lost writes) gets a snapshot instead.
    expect(snapshotRecords(await late.join({ board, e: "not-this-one", after: 7 }))).toHaveLength(10);
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

    expect(first).toEqual({ ok: true, s: 1 });
    expect(second).toEqual({ ok: true, s: 1 });
    expect(next).toEqual({ ok: true, s: 2 });
    await eventually("B to get stroke 2", () => b.ops.some((op) => op.s === 2));
    expect(b.ops.map((op) => op.s)).toEqual([1, 2]);
  });

  test("erase and restore reach everyone; the snapshot leaves out what is erased and brings back what is restored", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const [x, y] = [makeStroke(), makeStroke()];
    await a.stroke(x);
    await a.stroke(y);

    expect(await b.erase([[x.id, 1]])).toEqual({ ok: true, s: 3 });
    await eventually("A to see the erase", () => a.ops.some((op) => op.t === "v"));
    expect(a.ops.find((op) => op.t === "v")).toEqual({ t: "v", s: 3, u: b.user.id, h: [[x.id, 1]], r: [] });
    expect(snapshotRecords(await (await client(2)).join({ board })).map((record) => record.i)).toEqual([y.id]);

    expect(await a.restore([[x.id, 2]])).toEqual({ ok: true, s: 4 });
    // A version already passed changes nothing and stores nothing.
    expect(await b.erase([[x.id, 1]])).toEqual({ ok: true, s: 4 });
    const restored = snapshotRecords(await (await client(2)).join({ board }));
    expect(restored.map((record) => [record.i, record.s, record.v])).toEqual([
      [x.id, 1, 2],
      [y.id, 2, 0],
    ]);
  });

  test("clear hides the board for everyone, and undoing it brings everything back", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const c = await joined(2, board);
    await a.stroke(makeStroke());
    await b.stroke(makeStroke());

    const cleared = await c.clear();
    expect(cleared).toEqual({ ok: true, s: 3 });
    await eventually("A and B to get the clear", () => [a, b].every((x) => x.ops.some((op) => op.t === "c")));
    expect(a.ops.find((op) => op.t === "c")).toEqual({ t: "c", s: 3, u: c.user.id, k: { "1": 1 } });
    expect(snapshotRecords(await (await client(0)).join({ board }))).toEqual([]);

    const after = makeStroke();
    expect(await a.stroke(after)).toEqual({ ok: true, s: 4 });
    expect(await b.unclear(3)).toEqual({ ok: true, s: 5 });
    expect(snapshotRecords(await (await client(1)).join({ board }))).toHaveLength(3);
    expect(await b.unclear(3)).toMatchObject({ ok: false, code: "gone" });
  });

  test("a board nobody wrote reads as epoch 0", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    expect(await a.join({ board })).toEqual({ ok: true, board, e: "0", s: 0, snapshot: { k: {}, records: [] } });
    expect(await a.join({ board, e: "0", after: 0 })).toEqual({ ok: true, board, e: "0", s: 0, ops: [] });
  });

  test("joining another board leaves the first one", async () => {
    const first = newBoard();
    const second = newBoard();
    const mover = await joined(0, first);
    const stayer = await joined(1, first);
    expect(await mover.join({ board: second })).toMatchObject({ ok: true, board: second });

    await stayer.stroke(makeStroke());
    const onSecond = await joined(2, second);
    const theirs = makeStroke();
    await onSecond.stroke(theirs);

    await eventually("the mover to get the second board's stroke", () => mover.ops.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(addedIds(mover.ops)).toEqual([theirs.id]);
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

  test("cursors reach the other instances' clients, coalesced, with the user's name and colour", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    for (let x = 0; x < 20; x += 1) {
      a.socket.emit("cursor", { x: 100 + x, y: 200 });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually("B to see A's cursor", () =>
      b.cursors.some((batch) => batch.some((cursor) => cursor.u === a.user.id)),
    );
    const last = b.cursors
      .flat()
      .filter((cursor) => cursor.u === a.user.id)
      .at(-1);
    expect(last).toMatchObject({ u: a.user.id, n: a.user.name, c: a.user.color, y: 200 });
    // 20 moves in about 100 ms reach B in a few messages, not 20.
    expect(b.cursors.length).toBeLessThan(6);
  });
});
