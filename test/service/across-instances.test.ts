/**
 * The whiteboard across three real instances (separate processes) sharing one real Redis: the Memorystore for Redis
 * stand-in, and the Memorystore for Redis Cluster stand-in (three primaries with a replica each, IAM authentication),
 * every test against both.
 */
import type { BoardOp, ElementRecord, SyncAck } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { Topology } from "../../local/topology";
import {
  addedIds,
  connectClient,
  editableBoard,
  eventually,
  makeLine,
  type TestClient,
} from "../support/socket-client";
import { anyString } from "../support/matchers";

let topology: Topology;
const clients: TestClient[] = [];
/** Boards by id, with their edit keys: every client here joins as an editor. */
const editKeys = new Map<string, string>();
function newBoard(): string {
  const { board, edit } = editableBoard();
  editKeys.set(board, edit);
  return board;
}

async function client(instance: number): Promise<TestClient> {
  const connected = await connectClient(topology.instance(instance).url);
  clients.push(connected);
  return connected;
}

async function joined(instance: number, board: string): Promise<TestClient> {
  const c = await client(instance);
  expect(await c.join({ board, edit: editKeys.get(board) })).toMatchObject({ ok: true });
  return c;
}

/** The element records of a snapshot answer, in seq order. */
function snapshotRecords(ack: SyncAck): ElementRecord[] {
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

  test("a line sent to instance A reaches every client of the board on A, B and C, and no client of another board", async () => {
    const board = newBoard();
    const [a, b, c] = [await joined(0, board), await joined(1, board), await joined(2, board)];
    const elsewhere = await joined(1, newBoard());

    const line = makeLine();
    const ack = await a.add(line);

    expect(ack).toEqual({ ok: true, s: 1, e: anyString() });
    await eventually("A, B and C to get the line", () => [a, b, c].every((x) => x.ops.length === 1));
    const expected = {
      t: "a",
      s: 1,
      r: [1, 1, 0, 0, line.id, a.id, "f", 1, ...line.b, line.c, line.sw, "", 0, line.d, 1],
    };
    for (const x of [a, b, c]) expect(x.ops).toEqual([expected]);
    // The acknowledgement names the epoch of the history its seq belongs to: the one the broadcast carries.
    expect([...new Set([a, b, c].flatMap((x) => x.epochs))]).toEqual([ack.ok && ack.e]);
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
      const line = makeLine();
      sent.push(line);
      expect(await (i % 2 === 0 ? a : b).add(line)).toEqual({ ok: true, s: i + 1, e: anyString() });
    }

    const late = await client(2);
    const whole = await late.join({ board });
    expect(whole).toMatchObject({ ok: true, board, s: 10 });
    expect(snapshotRecords(whole).map((record) => [record.s, record.i])).toEqual(
      sent.map((line, index) => [index + 1, line.id]),
    );
    const e = (whole as { e: string }).e;

    const rejoin = await late.join({ board, e, after: 7 });
    expect(opsOf(rejoin).map((op) => op.s)).toEqual([8, 9, 10]);
    expect(opsOf(await late.read({ e, after: 10 }))).toEqual([]);
    // An epoch the board does not know (it lost writes, and that history with them) has base 0: a snapshot.
    const unknown = await late.join({ board, e: "not-this-one", after: 7 });
    expect(unknown).toMatchObject({ base: 0 });
    expect(snapshotRecords(unknown)).toHaveLength(10);
  });

  test("a line grows by appends from any instance's client, and every client sees one element", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const line = makeLine();
    expect(await a.add(line)).toEqual({ ok: true, s: 1, e: anyString() });
    // The author's next connection may reach another instance.
    const again = await connectClient(topology.instance(2).url, { user: a.user });
    clients.push(again);
    expect(await again.join({ board, edit: editKeys.get(board) })).toMatchObject({ ok: true });
    expect(await a.append({ i: line.id, n: 1, d: "CCC", b: line.b })).toEqual({
      ok: true,
      s: 2,
      e: anyString(),
    });
    expect(await again.append({ i: line.id, n: 2, d: "EEE", b: line.b })).toEqual({
      ok: true,
      s: 3,
      e: anyString(),
    });
    await eventually("B to get both appends", () => b.ops.filter((op) => op.t === "p").length === 2);
    expect(b.ops.filter((op) => op.t === "p")).toEqual([
      { t: "p", s: 2, i: line.id, n: 1, v: 2, d: "CCC", b: line.b },
      { t: "p", s: 3, i: line.id, n: 2, v: 4, d: "EEE", b: line.b },
    ]);
    const records = snapshotRecords(await (await client(1)).join({ board }));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ i: line.id, n: 2, d: `${line.d}CCCEEE`, v: 4 });
  });

  test("a resent element id is stored and broadcast once, and both acks carry the same seq", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const line = makeLine();

    const first = await a.add(line);
    // The resend arrives through another instance, as after a reconnect.
    const a2 = await joined(2, board);
    const second = await a2.add(line);
    const next = await a.add(makeLine());

    expect(first).toEqual({ ok: true, s: 1, e: anyString() });
    expect(second).toEqual({ ok: true, s: 1, e: anyString() });
    expect(next).toEqual({ ok: true, s: 2, e: anyString() });
    await eventually("B to get element 2", () => b.ops.some((op) => op.s === 2));
    expect(b.ops.map((op) => op.s)).toEqual([1, 2]);
  });

  test("erase and restore reach everyone, as versions; the snapshot holds hidden elements at their versions", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const [x, y] = [makeLine(), makeLine()];
    await a.add(x);
    await a.add(y);

    expect(await b.erase([x.id])).toEqual({ ok: true, s: 3, e: anyString() });
    await eventually("A to see the erase", () => a.ops.some((op) => op.t === "v"));
    expect(a.ops.find((op) => op.t === "v")).toEqual({ t: "v", s: 3, u: b.id, x: [[x.id, 1]] });
    const erased = snapshotRecords(await (await client(2)).join({ board }));
    expect(erased.map((record) => [record.i, record.o, record.v])).toEqual([
      [x.id, 1, 1],
      [y.id, 0, 0],
    ]);

    expect(await a.restore([x.id])).toEqual({ ok: true, s: 4, e: anyString() });
    // Erasing what is already hidden, or restoring what is shown, changes nothing and stores nothing.
    expect(await b.restore([x.id, y.id])).toEqual({ ok: true, s: 4, e: anyString() });
    const restored = snapshotRecords(await (await client(2)).join({ board }));
    expect(restored.map((record) => [record.i, record.s, record.o, record.v])).toEqual([
      [x.id, 1, 0, 2],
      [y.id, 2, 0, 0],
    ]);
  });

  test("edits reach everyone and converge per field: the store's order decides, last writer per field wins", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const note = makeLine({ t: "n", sw: 16, f: "#ffee00", d: "aGk" });
    await a.add(note);
    // Two users change the same note at once, different fields and one field both.
    const [moved, recoloured] = await Promise.all([
      a.edit([[note.id, { x: 500, y: 600, c: "#111111" }]]),
      b.edit([[note.id, { c: "#222222", f: "#333333", o: 1 }]]),
    ]);
    expect([moved.ok, recoloured.ok]).toEqual([true, true]);
    const last = Math.max((moved as { s: number }).s, (recoloured as { s: number }).s);
    await eventually("both to see both edits", () =>
      [a, b].every((x) => x.ops.filter((op) => op.t === "e").length === 2),
    );
    const [record] = snapshotRecords(await (await client(2)).join({ board }));
    expect(record).toMatchObject({
      x: 500,
      y: 600,
      f: "#333333",
      c: last === (moved as { s: number }).s ? "#111111" : "#222222",
      z: (recoloured as { s: number }).s,
      v: 4,
    });
  });

  test("clear hides the board for everyone, and undoing it brings everything back", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    const c = await joined(2, board);
    await a.add(makeLine());
    await b.add(makeLine());

    const cleared = await c.clear();
    expect(cleared).toEqual({ ok: true, s: 3, e: anyString() });
    await eventually("A and B to get the clear", () => [a, b].every((x) => x.ops.some((op) => op.t === "c")));
    expect(a.ops.find((op) => op.t === "c")).toEqual({ t: "c", s: 3, u: c.id, k: { "1": 1 } });
    expect(snapshotRecords(await (await client(0)).join({ board }))).toEqual([]);

    const after = makeLine();
    expect(await a.add(after)).toEqual({ ok: true, s: 4, e: anyString() });
    expect(await b.unclear(3)).toEqual({ ok: true, s: 5, e: anyString() });
    expect(snapshotRecords(await (await client(1)).join({ board }))).toHaveLength(3);
    expect(await b.unclear(3)).toMatchObject({ ok: false, code: "gone" });
  });

  test("a board nobody wrote reads as epoch 0", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const you = { id: a.id, name: a.user.name, edit: false };
    expect(await a.join({ board })).toEqual({ ok: true, board, e: "0", s: 0, you, snapshot: { k: {}, records: [] } });
    expect(await a.join({ board, e: "0", after: 0 })).toEqual({ ok: true, board, e: "0", s: 0, you, ops: [] });
  });

  test("joining another board leaves the first one", async () => {
    const first = newBoard();
    const second = newBoard();
    const mover = await joined(0, first);
    const stayer = await joined(1, first);
    expect(await mover.join({ board: second })).toMatchObject({ ok: true, board: second });

    await stayer.add(makeLine());
    const onSecond = await joined(2, second);
    const theirs = makeLine();
    await onSecond.add(theirs);

    await eventually("the mover to get the second board's line", () => mover.ops.length === 1);
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

  test("cursors reach the other instances' clients, coalesced, with the user's derived id, name and colour", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    for (let x = 0; x < 20; x += 1) {
      a.socket.emit("cursor", { x: 100 + x, y: 200 });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually("B to see A's cursor", () => b.cursors.some((batch) => batch.some((cursor) => cursor.u === a.id)));
    const last = b.cursors
      .flat()
      .filter((cursor) => cursor.u === a.id)
      .at(-1);
    expect(last).toMatchObject({ u: a.id, n: a.user.name, c: a.user.color, y: 200 });
    // 20 moves in about 100 ms reach B in a few messages, not 20.
    expect(b.cursors.length).toBeLessThan(6);
  });
});
