/**
 * The board store contract, run against both implementations: Redis (a real redis-server running the Lua) and
 * memory. A property test checks that the two give identical answers to any sequence of operations, losses of
 * writes (the store cut back to an earlier state, as a restart from an older snapshot does) and heals included.
 */
import fc from "fast-check";
import pino from "pino";
import type { BoardOp, ElementInput, ElementRecord, ElementTuple } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { encodeText } from "../../protocol/schema";
import { RedisServer } from "../../local/redis-server";
import { createRedisConnections, type RedisConnections } from "../../service/redis";
import { decodeOps, newOrigin, opsHead } from "../../service/fanout/messages";
import type {
  Announcement,
  BoardLimits,
  BoardStore,
  DrawItem,
  ReadResult,
  Written,
} from "../../service/store/board-store";
import { MemoryBoardStore } from "../../service/store/memory-board-store";
import { RedisBoardStore } from "../../service/store/redis-board-store";
import { boardKeys } from "../../service/store/redis-scripts";
import { anyNumber, anyObject, anyString, anything, arrayContaining } from "../support/matchers";

const LIMITS: BoardLimits = {
  maxElements: 50,
  maxBytes: 20_000,
  appendReserveBytes: 2_000,
  maxLineBytes: 400,
  pageBytes: 400,
  logBytes: 1_500,
  readBytes: 600,
  idleTtlSeconds: 600,
  clearIntervalMs: 0,
  undoClearMs: 60_000,
};
const ALICE = "alice-0000000000";
const BOB = "bob-000000000000";

let redisServer: RedisServer;
let connections: RedisConnections;
let boardCounter = 0;
const newBoard = () => `store-${process.pid}-${++boardCounter}`;
let idCounter = 0;
const newId = () => `el-${++idCounter}`.padEnd(16, "0");

/** The clock and the store generation both stores read: tests move time on, and play a restart. */
let clock = 1_700_000_000_000;
let generation = "generation-1";

beforeAll(async () => {
  redisServer = await new RedisServer().start();
  connections = createRedisConnections(redisServer.clientConfig, pino({ level: "silent" }));
  await connections.connect();
});

afterAll(async () => {
  await connections?.close();
  await redisServer?.destroy();
});

/**
 * A store, and what a test needs to play a loss on it: save a board's state, and put it back later. A store shared by
 * instances also publishes what its writes store: `listen` hears a board's channel until `heard` is called.
 */
interface Subject {
  store: BoardStore;
  save(board: string): Promise<unknown>;
  restore(board: string, saved: unknown): Promise<void>;
  listen?(board: string): Promise<{ announce: Announcement; heard(): Promise<{ e: string; ops: string }[]> }>;
}

function memorySubject(limits: BoardLimits): Subject {
  const store = new MemoryBoardStore(limits, { now: () => clock, generation: () => generation });
  return {
    store,
    save: () => Promise.resolve(store.saved()),
    restore: (_board, saved) => Promise.resolve(store.restore(saved as ReturnType<MemoryBoardStore["saved"]>)),
  };
}

function redisSubject(limits: BoardLimits): Subject {
  const { commands } = connections;
  const store = new RedisBoardStore(commands, limits, {
    now: () => clock,
    generation: () => Promise.resolve(generation),
  });
  return {
    store,
    async save(board) {
      const [m, g, p, i, l] = boardKeys(board);
      return {
        hashes: await Promise.all([m, g, p, i].map(async (key) => [key, await commands.hGetAll(key)] as const)),
        log: [l, await commands.lRange(l, 0, -1)] as const,
      };
    },
    async restore(board, saved) {
      const { hashes, log } = saved as {
        hashes: (readonly [string, Record<string, string>])[];
        log: readonly [string, string[]];
      };
      await commands.del([...boardKeys(board)]);
      for (const [key, fields] of hashes) if (Object.keys(fields).length > 0) await commands.hSet(key, fields);
      if (log[1].length > 0) await commands.rPush(log[0], log[1]);
    },
    async listen(board) {
      const channel = `test#${board}#`;
      const heard: { e: string; ops: string }[] = [];
      await connections.subscriber.sSubscribe(
        channel,
        (message: Buffer) => heard.push(decodeOps(message) ?? { e: "malformed", ops: message.toString() }),
        true,
      );
      return {
        announce: { channel, head: opsHead(newOrigin()) },
        async heard() {
          // Redis answers the unsubscribe after every message it sent before it.
          await connections.subscriber.sUnsubscribe(channel);
          return heard;
        },
      };
    },
  };
}

const subjects: [string, (limits: BoardLimits) => Subject][] = [
  ["redis", redisSubject],
  ["memory", memorySubject],
];

const POINTS: [number, number, number][] = [
  [10, 20, 0],
  [30, 40, 0],
];

function line(id = newId(), points = POINTS): ElementInput {
  return { id, t: "f", b: [10, 20, 20, 20], c: "#123456", sw: 4, f: "", d: encodeSamples(points) };
}

function shape(t: "r" | "e" | "l" | "t" | "n", id = newId()): ElementInput {
  const text = t === "t" || t === "n";
  return { id, t, b: [0, 0, 100, 50], c: "#654321", sw: text ? 16 : 2, f: "", d: text ? encodeText("hello") : "" };
}

const add = (user: string, element: ElementInput): DrawItem => ({ kind: "add", user, element });
const append = (user: string, i: string, n: number, d = encodeSamples([[35, 45, 3]], [30, 40])): DrawItem => ({
  kind: "append",
  user,
  points: { i, n, d, b: [10, 20, 25, 25] },
});

const ops = (text: string) => JSON.parse(text) as BoardOp[];

/** Every record a fresh client would get (live pages, hidden elements included), following snapshot pages to the end. */
async function snapshot(store: BoardStore, board: string) {
  const records: ElementRecord[] = [];
  const k: Record<string, number> = {};
  let cursor: number | undefined;
  let pages = 0;
  let e: string | undefined;
  let s = 0;
  for (;;) {
    const result = await store.read(board, cursor === undefined ? {} : { e, at: s, cursor });
    if (!("snapshot" in result)) throw new Error("expected a snapshot");
    if (cursor === undefined) ({ e, s } = result);
    records.push(...(JSON.parse(result.snapshot.records) as ElementTuple[]).map(toRecord));
    Object.assign(k, result.snapshot.k);
    pages += 1;
    if (result.snapshot.next === undefined) return { records, k, pages, s, e: e as string };
    cursor = result.snapshot.next;
  }
}

const versionOf = (record: ElementRecord, k: Record<string, number>) =>
  record.o === 1 ? record.v : record.v + (k[String(record.g)] ?? 0);

/** Ids of the elements a fresh client shows. */
async function shown(store: BoardStore, board: string): Promise<string[]> {
  const { records, k } = await snapshot(store, board);
  return records
    .filter((record) => versionOf(record, k) % 2 === 0)
    .map((record) => record.i)
    .sort();
}

describe.each(subjects)("%s store", (_, create) => {
  let subject: Subject;
  let store: BoardStore;
  beforeEach(() => {
    subject = create(LIMITS);
    store = subject.store;
  });

  test("a board nobody wrote has epoch 0 and nothing in it, and reading or erasing in it creates nothing", async () => {
    const board = newBoard();
    expect(await store.read(board, {})).toEqual({ e: "0", s: 0, rotated: false, snapshot: { k: {}, records: "[]" } });
    expect(await store.setVisibility(board, ALICE, [newId()], false)).toEqual({
      e: "0",
      s: 0,
      rotated: false,
      ops: "[]",
    });
    expect(await store.draw(board, [append(ALICE, newId(), 1)])).toMatchObject({ e: "0", s: 0, ops: "[]" });
    expect(await connections.commands.exists([...boardKeys(board)])).toBe(0);
    const written = await store.draw(board, [add(ALICE, line())]);
    expect(written).toMatchObject({ s: 1, rotated: true, outcomes: [{ kind: "stored", s: 1 }] });
    expect(written.e).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  test("adds take consecutive seqs, as records in the documented layout; a resent id gets its first seq and stores nothing", async () => {
    const board = newBoard();
    const [a, b] = [line(), shape("r")];
    const first = await store.draw(board, [add(ALICE, a), add(BOB, b), add(ALICE, a)]);
    expect(first.outcomes).toEqual([
      { kind: "stored", s: 1, bytes: anyNumber() },
      { kind: "stored", s: 2, bytes: anyNumber() },
      { kind: "duplicate", s: 1 },
    ]);
    const [opA, opB] = ops(first.ops);
    expect(opA).toEqual({
      t: "a",
      s: 1,
      r: [1, 1, 0, 0, a.id, ALICE, "f", 1, 10, 20, 20, 20, "#123456", 4, "", 0, a.d, 1],
    });
    expect(opB).toEqual({
      t: "a",
      s: 2,
      r: [2, 1, 0, 0, b.id, BOB, "r", 2, 0, 0, 100, 50, "#654321", 2, "", 0, "", 2],
    });
    expect(first.outcomes[0]).toMatchObject({ bytes: JSON.stringify(opA).length });
    const again = await store.draw(board, [add(ALICE, b)]);
    expect(again).toMatchObject({
      e: first.e,
      s: 2,
      rotated: false,
      ops: "[]",
      outcomes: [{ kind: "duplicate", s: 2 }],
    });
  });

  test("appends grow the line in place: its author's only, idempotent by n, in order, within the line's bytes", async () => {
    const board = newBoard();
    const a = line();
    await store.draw(board, [add(ALICE, a), add(BOB, shape("r"))]);
    const grown = await store.draw(board, [append(ALICE, a.id, 1)]);
    expect(ops(grown.ops)).toEqual([{ t: "p", s: 3, i: a.id, n: 1, v: 2, d: "KKG", b: [10, 20, 25, 25] }]);
    expect(grown.outcomes).toEqual([{ kind: "stored", s: 3, bytes: grown.ops.length - 2 }]);
    const outcomes = await store.draw(board, [
      append(ALICE, a.id, 1), // a resend
      append(ALICE, a.id, 3), // skips 2
      append(BOB, a.id, 2), // not Bob's
      append(ALICE, newId(), 1), // no such line
      append(ALICE, a.id, 2, "A".repeat(400)), // past maxLineBytes
    ]);
    expect(outcomes.outcomes).toEqual([
      { kind: "duplicate", s: 3 },
      { kind: "out_of_order" },
      { kind: "forbidden" },
      { kind: "out_of_order" },
      { kind: "too_large" },
    ]);
    expect(outcomes.ops).toBe("[]");
    const { records } = await snapshot(store, board);
    // One record per element, whatever was appended.
    expect(records.map((record) => record.i)).toHaveLength(2);
    expect(records.find((record) => record.i === a.id)).toMatchObject({ n: 1, v: 2, d: `${a.d}KKG`, w: 25, l: 3 });
    const shapeId = records.find((record) => record.t === "r")?.i as string;
    expect((await store.draw(board, [append(BOB, shapeId, 1)])).outcomes).toEqual([{ kind: "invalid" }]);
  });

  test("an append finds its line outside the open page too", async () => {
    const board = newBoard();
    const a = line();
    await store.draw(board, [add(ALICE, a)]);
    // Fill the page so that the line's page closes.
    await store.draw(
      board,
      Array.from({ length: 6 }, () => add(BOB, shape("r"))),
    );
    const { records } = await snapshot(store, board);
    expect(new Set(records.map((record) => record.g)).size).toBeGreaterThan(1);
    expect((await store.draw(board, [append(ALICE, a.id, 1)])).outcomes).toEqual([
      { kind: "stored", s: 8, bytes: anyNumber() },
    ]);
    expect((await snapshot(store, board)).records.find((record) => record.i === a.id)).toMatchObject({ n: 1 });
  });

  test("erase raises a shown element's version by 1, restore a hidden one's; others, and unknown ids, change nothing", async () => {
    const board = newBoard();
    const [a, b] = [line(), line()];
    await store.draw(board, [add(ALICE, a), add(ALICE, b)]);
    const erased = await store.setVisibility(board, BOB, [a.id, newId()], false);
    expect(ops(erased.ops)).toEqual([{ t: "v", s: 3, u: BOB, x: [[a.id, 1]] }]);
    expect(await shown(store, board)).toEqual([b.id]);
    expect((await store.setVisibility(board, BOB, [a.id], false)).ops).toBe("[]");
    expect(ops((await store.setVisibility(board, ALICE, [a.id, b.id], true)).ops)).toEqual([
      { t: "v", s: 4, u: ALICE, x: [[a.id, 2]] },
    ]);
    expect(await shown(store, board)).toEqual([a.id, b.id].sort());
    // Made-up ids store nothing at all (finding C1): no entry for them anywhere.
    const unknown = Array.from({ length: 20 }, newId);
    expect((await store.setVisibility(board, BOB, unknown, false)).ops).toBe("[]");
    expect((await store.setVisibility(board, BOB, unknown, true)).ops).toBe("[]");
    const [, , , index] = boardKeys(board);
    expect(await connections.commands.hLen(index)).toBeLessThanOrEqual(3);
  });

  test("edits set fields in place, raise versions by 2, move to the front or back; misfits and full boards change nothing", async () => {
    const board = newBoard();
    const [a, note] = [shape("r"), shape("n")];
    await store.draw(board, [add(ALICE, a), add(ALICE, note)]);
    const edited = await store.edit(board, BOB, [
      [a.id, { x: 5, y: -7, c: "#000000", o: 1 }],
      [note.id, { d: encodeText("bye"), sw: 24, f: "#ffee00", o: -1 }],
      [newId(), { x: 1 }],
    ]);
    expect(edited.outcome).toEqual({ kind: "stored" });
    expect(ops(edited.ops)).toEqual([
      {
        t: "e",
        s: 3,
        u: BOB,
        x: [
          [a.id, 2, { x: 5, y: -7, c: "#000000", z: 3 }],
          [note.id, 2, { sw: 24, f: "#ffee00", d: encodeText("bye"), z: -3 }],
        ],
      },
    ]);
    const { records } = await snapshot(store, board);
    expect(records.find((record) => record.i === a.id)).toMatchObject({ x: 5, y: -7, c: "#000000", z: 3, v: 2, l: 3 });
    expect(records.find((record) => record.i === note.id)).toMatchObject({ sw: 24, z: -3, d: encodeText("bye") });
    expect(await store.edit(board, BOB, [[a.id, { d: encodeText("no") }]])).toMatchObject({
      ops: "[]",
      outcome: { kind: "invalid", index: 0, reason: "d: only text and notes have text to edit" },
    });
    expect((await store.edit(board, BOB, [[note.id, { sw: 2 }]])).outcome).toMatchObject({ kind: "invalid" });
    expect((await store.edit(board, BOB, [[a.id, { w: -1 }]])).outcome).toMatchObject({ kind: "invalid" });
    expect((await store.edit(board, BOB, [[newId(), { x: 1 }]])).outcome).toEqual({ kind: "unchanged" });
    const tight = create({ ...LIMITS, maxBytes: 600, appendReserveBytes: 100 }).store;
    const small = newBoard();
    await tight.draw(small, [add(ALICE, note)]);
    expect((await tight.edit(small, ALICE, [[note.id, { d: encodeText("x".repeat(400)) }]])).outcome).toEqual({
      kind: "full",
    });
  });

  test("clear hides every page and its undo shows them again; a second undo is gone; what was erased stays erased", async () => {
    const board = newBoard();
    const ids = Array.from({ length: 6 }, newId);
    await store.draw(
      board,
      ids.map((id) => add(ALICE, line(id))),
    );
    await store.setVisibility(board, ALICE, [ids[0] as string], false);
    const cleared = await store.clear(board, BOB);
    expect(cleared.outcome).toBe("stored");
    expect(ops(cleared.ops)).toEqual([{ t: "c", s: 8, u: BOB, k: anyObject() }]);
    expect((await snapshot(store, board)).records).toEqual([]);
    const after = line();
    await store.draw(board, [add(ALICE, after)]);
    const undone = await store.unclear(board, ALICE, 8);
    expect(undone.outcome).toBe("stored");
    expect(ops(undone.ops)).toEqual([{ t: "u", s: 10, u: ALICE, of: 8, k: anyObject() }]);
    expect(await shown(store, board)).toEqual([...ids.slice(1), after.id].sort());
    expect((await store.unclear(board, ALICE, 8)).outcome).toBe("gone");
    expect((await store.clear(newBoard(), ALICE)).outcome).toBe("unchanged");
  });

  test("restoring an element a clear hid moves it to a live page, sent whole, and deletes its old copy", async () => {
    const board = newBoard();
    const [a, b] = [line(), line()];
    await store.draw(board, [add(ALICE, a), add(ALICE, b)]);
    const { s } = await store.clear(board, ALICE);
    const restored = ops((await store.setVisibility(board, ALICE, [a.id], true)).ops);
    expect(restored).toEqual([
      {
        t: "v",
        s: s + 1,
        u: ALICE,
        x: [[a.id, 2]],
        r: [[1, 2, 0, 2, a.id, ALICE, "f", 1, 10, 20, 20, 20, "#123456", 4, "", 0, a.d, s + 1]],
      },
    ]);
    expect(await shown(store, board)).toEqual([a.id]);
    // The undo of the clear brings b back, and a is there once.
    await store.unclear(board, ALICE, s);
    const { records } = await snapshot(store, board);
    expect(records.map((record) => record.i).sort()).toEqual([a.id, b.id].sort());
  });

  test("clears of one board are spaced by clearIntervalMs, and so are undos, but an undo may follow a clear at once", async () => {
    const spaced = create({ ...LIMITS, clearIntervalMs: 60_000 }).store;
    const board = newBoard();
    await spaced.draw(board, [add(ALICE, line())]);
    const first = await spaced.clear(board, ALICE);
    await spaced.draw(board, [add(ALICE, line())]);
    expect((await spaced.clear(board, ALICE)).outcome).toBe("rate_limited");
    expect((await spaced.unclear(board, ALICE, first.s)).outcome).toBe("stored");
    expect((await spaced.unclear(board, ALICE, first.s)).outcome).toBe("rate_limited");
    clock += 60_000;
    expect((await spaced.clear(board, ALICE)).outcome).toBe("stored");
  });

  test("a board full by count or by bytes refuses new elements; appends may use the reserve; a hard clear frees it", async () => {
    const counted = create({ ...LIMITS, maxElements: 3 }).store;
    const board = newBoard();
    const outcomes = await counted.draw(
      board,
      [1, 2, 3, 4].map(() => add(ALICE, line())),
    );
    expect(outcomes.outcomes.map((outcome) => outcome.kind)).toEqual(["stored", "stored", "stored", "full"]);
    const { s } = await counted.clear(board, ALICE, true);
    expect((await counted.unclear(board, ALICE, s)).outcome).toBe("gone");
    expect((await counted.draw(board, [add(ALICE, line())])).outcomes).toMatchObject([{ kind: "stored" }]);

    // Bytes: new elements stop short of the reserve; the line drawn last is finished inside it.
    const sized = create({ ...LIMITS, maxBytes: 1_000, appendReserveBytes: 300 }).store;
    const bytes = newBoard();
    const drawn: string[] = [];
    for (;;) {
      const element = line();
      const [outcome] = (await sized.draw(bytes, [add(ALICE, element)])).outcomes;
      if (outcome?.kind === "full") break;
      drawn.push(element.id);
    }
    expect(drawn.length).toBeGreaterThan(3);
    const last = drawn.at(-1) as string;
    const appended = await sized.draw(bytes, [append(ALICE, last, 1, "A".repeat(150))]);
    expect(appended.outcomes).toMatchObject([{ kind: "stored" }]);
    expect((await sized.draw(bytes, [append(ALICE, last, 2, "A".repeat(200))])).outcomes).toEqual([{ kind: "full" }]);
  });

  test("a cleared board stays undoable for undoClearMs whatever is written after it: new writes are refused instead (H2)", async () => {
    const sized = create({ ...LIMITS, maxBytes: 1_500, appendReserveBytes: 0 }).store;
    const board = newBoard();
    const drawn: string[] = [];
    while ((await sized.draw(board, [add(ALICE, line(newId()))])).outcomes[0]?.kind === "stored") drawn.push("x");
    const { s } = await sized.clear(board, BOB);
    // The board is full of cleared elements: a new one is refused, and the clear can still be undone.
    expect((await sized.draw(board, [add(ALICE, line())])).outcomes).toEqual([{ kind: "full" }]);
    clock += LIMITS.undoClearMs / 2;
    expect((await sized.draw(board, [add(ALICE, line())])).outcomes).toEqual([{ kind: "full" }]);
    expect((await sized.unclear(board, ALICE, s)).outcome).toBe("stored");
    expect((await shown(sized, board)).length).toBe(drawn.length);
    // Once the window is over, the next clear deletes the old one's pages.
    const again = await sized.clear(board, BOB);
    clock += LIMITS.undoClearMs + 1;
    expect((await sized.clear(board, BOB)).outcome).toBe("unchanged");
    expect((await sized.unclear(board, ALICE, again.s)).outcome).toBe("gone");
    expect((await sized.draw(board, [add(ALICE, line())])).outcomes).toMatchObject([{ kind: "stored" }]);
  });

  test("a snapshot comes in pages of about readBytes, newest first, holding hidden elements, each once", async () => {
    const board = newBoard();
    const all = Array.from({ length: 30 }, newId);
    await store.draw(
      board,
      all.map((id) => add(ALICE, line(id))),
    );
    await store.setVisibility(board, ALICE, [all[3] as string], false);
    const { records, pages } = await snapshot(store, board);
    expect(pages).toBeGreaterThan(2);
    expect(records.map((record) => record.i).sort()).toEqual([...all].sort());
    const first = await store.read(board, {});
    expect("snapshot" in first && (JSON.parse(first.snapshot.records) as ElementTuple[])[0]?.[0]).toBeGreaterThan(20);
  });

  test("a snapshot's first read holds about firstReadBytes, the next ones about readBytes", async () => {
    const paged = create({ ...LIMITS, pageBytes: 150, readBytes: 600, firstReadBytes: 150 }).store;
    const board = newBoard();
    await paged.draw(
      board,
      Array.from({ length: 30 }, () => add(ALICE, line())),
    );
    const first = await paged.read(board, {});
    if (!("snapshot" in first)) throw new Error("expected a snapshot");
    const second = await paged.read(board, { e: first.e, at: first.s, cursor: first.snapshot.next });
    if (!("snapshot" in second)) throw new Error("expected the snapshot's next page");
    expect(first.snapshot.records.length).toBeLessThan(400);
    expect(second.snapshot.records.length).toBeGreaterThan(500);
    const seqs = (text: string) => (JSON.parse(text) as ElementTuple[]).map((record) => record[0]);
    expect(Math.min(...seqs(first.snapshot.records))).toBeGreaterThan(Math.max(...seqs(second.snapshot.records)));
  });

  test("a client within the log gets the operations after its seq; one behind the trimmed log gets a snapshot", async () => {
    const board = newBoard();
    const { e } = await store.draw(board, [add(ALICE, line()), add(ALICE, line())]);
    const result = await store.read(board, { e, after: 1 });
    expect("ops" in result && ops(result.ops).map((op) => op.s)).toEqual([2]);
    expect(await store.read(board, { e, after: 2 })).toEqual({ e, s: 2, rotated: false, ops: "[]" });
    expect("snapshot" in (await store.read(board, { e, after: 3 }))).toBe(true);
    await store.draw(
      board,
      Array.from({ length: 20 }, () => add(ALICE, line())),
    );
    expect("snapshot" in (await store.read(board, { e, after: 1 }))).toBe(true);
    // The log is trimmed by bytes, 8 entries at a time, to at most three quarters of logBytes: a contiguous tail.
    const tail = await store.read(board, { e, after: 16 });
    expect("ops" in tail && ops(tail.ops).map((op) => op.s)).toEqual([17, 18, 19, 20, 21, 22]);
    expect("snapshot" in (await store.read(board, { e, after: 15 }))).toBe(true);
  });

  test("a loss gives the board a new epoch that keeps the log and the seq; an older epoch's client learns its base", async () => {
    const board = newBoard();
    const { e: first } = await store.draw(board, [add(ALICE, line()), add(ALICE, line())]);
    const saved = await subject.save(board);
    await store.draw(board, [add(ALICE, line())]);
    // Redis comes back from its snapshot (the third element is lost) as another server.
    await subject.restore(board, saved);
    generation = `generation-${boardCounter}`;
    const read = await store.read(board, { e: first, after: 1 });
    expect(read).toMatchObject({ s: 2, rotated: true, base: 2 });
    expect(read.e).not.toBe(first);
    expect("ops" in read && ops(read.ops).map((op) => op.s)).toEqual([2]);
    // A client that held the lost seq 3 gets a snapshot (and heals); one of an unknown epoch has base 0.
    expect(await store.read(board, { e: first, after: 3 })).toMatchObject({ base: 2, snapshot: anything() });
    expect(await store.read(board, { e: "unknown", after: 0 })).toMatchObject({ base: 0, ops: anyString() });
    expect((await store.draw(board, [add(ALICE, line())])).outcomes).toEqual([
      { kind: "stored", s: 3, bytes: anyNumber() },
    ]);
  });

  describe("healing after a loss", () => {
    /** A board with `a` and `b`, its epoch, a save made then, and the store cut back to it as another server. */
    async function lossAfter(
      board: string,
      before: (a: ElementInput, b: ElementInput) => Promise<void>,
      lost: (a: ElementInput, b: ElementInput) => Promise<void>,
    ) {
      const [a, b] = [line(), line()];
      await store.draw(board, [add(ALICE, a), add(ALICE, b)]);
      await before(a, b);
      const saved = await subject.save(board);
      const { e } = await store.read(board, {});
      await lost(a, b);
      await subject.restore(board, saved);
      generation = `generation-${boardCounter}-${idCounter}`;
      const { e: now } = await store.read(board, {});
      return { a, b, old: e, now };
    }
    const heal = (element: ElementInput, h: string, v: number, n = 0, u = ALICE): DrawItem =>
      add(BOB, { ...element, h, v, u, n });

    test("a version the store lost comes back; a change made after the loss is never reverted (the late heal)", async () => {
      const board = newBoard();
      const { a, b, old } = await lossAfter(
        board,
        () => Promise.resolve(),
        async (a, b) => {
          await store.setVisibility(board, ALICE, [a.id, b.id], false);
          await store.setVisibility(board, ALICE, [a.id, b.id], true);
        },
      );
      // After the loss, b is erased at version 1; a late healer knew both at version 2.
      await store.setVisibility(board, BOB, [b.id], false);
      const healed = await store.draw(board, [heal(a, old, 2), heal(b, old, 2)]);
      // A heal not taken is answered with the board's seq (not b's, 2): the board as of it shows b as the store holds
      // it, which is what the healer waits for before it stops showing what it sent back.
      expect(healed.outcomes).toEqual([
        { kind: "stored", s: 4, bytes: anyNumber() },
        { kind: "duplicate", s: 4 },
      ]);
      expect(ops(healed.ops)).toEqual([{ t: "a", s: 4, r: arrayContaining([a.id]) }]);
      const { records, k } = await snapshot(store, board);
      expect(records.map((record) => [record.i, versionOf(record, k)])).toEqual(
        expect.arrayContaining([
          [a.id, 2],
          [b.id, 1],
        ]),
      );
    });

    test("lost appends come back whole from the line's author's copy", async () => {
      const board = newBoard();
      const { a, old } = await lossAfter(
        board,
        () => Promise.resolve(),
        async (a) => {
          await store.draw(board, [append(ALICE, a.id, 1)]);
        },
      );
      const whole = { ...a, d: `${a.d}KKG`, b: [10, 20, 25, 25] as ElementInput["b"] };
      expect((await store.draw(board, [heal(whole, old, 2, 1)])).outcomes).toMatchObject([{ kind: "stored" }]);
      expect((await snapshot(store, board)).records.find((record) => record.i === a.id)).toMatchObject({
        n: 1,
        d: whole.d,
        u: ALICE,
      });
      expect((await store.draw(board, [append(ALICE, a.id, 2)])).outcomes).toMatchObject([{ kind: "stored" }]);
    });

    test("an element the store lacks is created; under a clear made after the loss it is hidden with the clear's elements", async () => {
      const board = newBoard();
      const { old } = await lossAfter(
        board,
        () => Promise.resolve(),
        () => Promise.resolve(),
      );
      const [lostOne, lostTwo] = [line(), line()];
      expect((await store.draw(board, [heal(lostOne, old, 0)])).outcomes).toMatchObject([{ kind: "stored" }]);
      const { s: clearSeq } = await store.clear(board, BOB);
      expect((await store.draw(board, [heal(lostTwo, old, 2)])).outcomes).toMatchObject([{ kind: "stored" }]);
      expect(await shown(store, board)).toEqual([]);
      await store.unclear(board, ALICE, clearSeq);
      expect((await shown(store, board)).filter((id) => id === lostOne.id || id === lostTwo.id)).toEqual(
        [lostOne.id, lostTwo.id].sort(),
      );
    });

    test("a second healer with later knowledge of the same history still heals what a first healer put back", async () => {
      const board = newBoard();
      const { a, old } = await lossAfter(
        board,
        () => Promise.resolve(),
        () => Promise.resolve(),
      );
      const first = await store.draw(board, [heal(a, old, 2)]);
      // Its last change is the healer's base, not the heal's seq: the heal is as old as the healer's knowledge.
      expect(ops(first.ops)).toEqual([{ t: "a", s: 3, r: arrayContaining([a.id]) }]);
      expect((ops(first.ops)[0] as { r: ElementTuple }).r[17]).toBe(2);
      const later = await store.draw(board, [heal({ ...a, b: [99, 99, 20, 20] }, old, 4)]);
      expect(later.outcomes).toMatchObject([{ kind: "stored", s: 4 }]);
      expect((await snapshot(store, board)).records.find((record) => record.i === a.id)).toMatchObject({ x: 99, v: 4 });
    });

    test("a heal that would show an element goes under a clear made after the loss, its page's flip count in the op", async () => {
      const board = newBoard();
      const { a, old } = await lossAfter(
        board,
        () => Promise.resolve(),
        () => Promise.resolve(),
      );
      const missing = line();
      const { s: clearSeq } = await store.clear(board, BOB);
      // The first healer knew the missing element hidden, the second shown, and a hidden one shown.
      await store.draw(board, [heal(missing, old, 1)]);
      const shownAgain = await store.draw(board, [heal(missing, old, 2), heal(a, old, 2)]);
      expect(shownAgain.outcomes).toEqual([
        { kind: "stored", s: clearSeq + 2, bytes: anyNumber() },
        { kind: "duplicate", s: clearSeq + 2 },
      ]);
      expect(ops(shownAgain.ops)).toEqual([{ t: "a", s: clearSeq + 2, r: anything(), k: { "1": 1 } }]);
      expect(await shown(store, board)).toEqual([]);
      await store.unclear(board, ALICE, clearSeq);
      const back = await shown(store, board);
      expect(back).toHaveLength(3);
      expect(back).toEqual(expect.arrayContaining([a.id, missing.id]));
    });

    test("a heal of an unknown epoch only creates what is missing, as the healer's own; versions are capped", async () => {
      const board = newBoard();
      const a = line();
      await store.draw(board, [add(ALICE, a)]);
      await store.setVisibility(board, ALICE, [a.id], false);
      const missing = line();
      const outcomes = await store.draw(board, [
        heal(a, "never-seen", 4),
        heal(missing, "never-seen", Number.MAX_SAFE_INTEGER - 1, 0, ALICE),
      ]);
      expect(outcomes.outcomes).toEqual([
        { kind: "duplicate", s: 2 },
        { kind: "stored", s: 3, bytes: anyNumber() },
      ]);
      const created = (await snapshot(store, board)).records.find((record) => record.i === missing.id);
      expect(created).toMatchObject({ u: BOB, o: 0, v: 2 ** 20 });
    });
  });

  test("presence counts clients and reports the board's epoch and seq", async () => {
    const board = newBoard();
    const { e } = await store.draw(board, [add(ALICE, line())]);
    expect(await store.presence(board, "instance-a", 3, 10_000)).toEqual({ count: 3, s: 1, e });
    expect(await store.presence(board, "instance-a", undefined, 10_000)).toEqual({ count: 3, s: 1, e });
    expect(await store.presence(board, "instance-a", 0, 10_000)).toEqual({ count: 0, s: 1, e });
  });
});

/** Answers with epochs replaced by their order of appearance, so two stores' answers can be compared. */
function normalized(answers: unknown[]): unknown[] {
  const epochs = new Map<string, string>();
  return JSON.parse(
    JSON.stringify(answers, (key, value: unknown) => {
      if (key !== "e" || typeof value !== "string" || value === "0") return value;
      if (!epochs.has(value)) epochs.set(value, `epoch${epochs.size}`);
      return epochs.get(value);
    }),
  ) as unknown[];
}

const KINDS = ["f", "r", "t"] as const;
const USERS = [ALICE, BOB] as const;
const PATCHES = [
  { x: 7 },
  { o: 1 as const },
  { o: -1 as const },
  { c: "#abcdef", y: -3 },
  { d: encodeText("changed") },
  { sw: 30 },
  { w: -5 },
];

type Action =
  | { kind: "add"; items: { id: number; user: number }[] }
  | { kind: "append"; id: number; user: number; n: number; big: boolean }
  | { kind: "heal"; id: number; epoch: number; v: number; n: number; user: number }
  | { kind: "visibility"; ids: number[]; show: boolean }
  | { kind: "edit"; items: [id: number, patch: number][] }
  | { kind: "clear"; hard: boolean }
  | { kind: "unclear"; back: number }
  | { kind: "read"; after: number | undefined; cursor: boolean; epoch: number }
  | { kind: "time"; ms: number }
  | { kind: "loss"; back: number };

const elementId = fc.integer({ min: 0, max: 12 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      items: fc.array(fc.record({ id: elementId, user: fc.integer({ min: 0, max: 1 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      id: elementId,
      user: fc.integer({ min: 0, max: 1 }),
      n: fc.integer({ min: 1, max: 4 }),
      big: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("heal" as const),
      id: elementId,
      epoch: fc.integer({ min: -1, max: 3 }),
      v: fc.integer({ min: 0, max: 7 }),
      n: fc.integer({ min: 0, max: 3 }),
      user: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("visibility" as const),
      ids: fc.array(elementId, { minLength: 1, maxLength: 3 }),
      show: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      items: fc.array(fc.tuple(elementId, fc.integer({ min: 0, max: PATCHES.length - 1 })), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const), hard: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unclear" as const), back: fc.integer({ min: 0, max: 3 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      after: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
      cursor: fc.boolean(),
      epoch: fc.integer({ min: -1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("time" as const), ms: fc.constantFrom(1_000, 70_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("loss" as const), back: fc.integer({ min: 1, max: 6 }) }) },
);

/** The element of number `id`: its kind follows from the number, so that every run makes the same one. */
function elementOf(id: number): ElementInput {
  const t = KINDS[id % KINDS.length] as (typeof KINDS)[number];
  return t === "f" ? line(`element-${id}`.padEnd(16, "0")) : shape(t, `element-${id}`.padEnd(16, "0"));
}

let losses = 0;

async function run(subject: Subject, board: string, actions: readonly Action[]): Promise<unknown[]> {
  const { store } = subject;
  const answers: unknown[] = [];
  const clears: number[] = [];
  const epochs: string[] = [];
  const history: unknown[] = [await subject.save(board)];
  let next: number | undefined;
  clock = 1_700_000_000_000;
  const seen = (answer: { e: string }) => {
    if (answer.e !== "0" && !epochs.includes(answer.e)) epochs.push(answer.e);
  };
  const epochAt = (index: number) => (index < 0 ? undefined : (epochs[index] ?? "unknown-epoch"));
  // What the writes stored, which a shared store must have published as it stored it, in the same order.
  const listener = await subject.listen?.(board);
  const announce = listener?.announce;
  const stored: { e: string; ops: string }[] = [];
  const wrote = <T extends Written>(written: T): T => {
    if (written.ops !== "[]") stored.push({ e: written.e, ops: written.ops });
    return written;
  };
  for (const act of actions) {
    let answer: { e: string };
    switch (act.kind) {
      case "add":
        answer = wrote(
          await store.draw(
            board,
            act.items.map(({ id, user }) => add(USERS[user] as string, elementOf(id))),
            announce,
          ),
        );
        break;
      case "append": {
        const d = act.big ? "A".repeat(150) : encodeSamples([[act.n, act.n, 1]], [30, 40]);
        const item = append(USERS[act.user] as string, elementOf(act.id).id, act.n, d);
        answer = wrote(await store.draw(board, [item], announce));
        break;
      }
      case "heal":
        answer = wrote(
          await store.draw(
            board,
            [
              add(USERS[act.user] as string, {
                ...elementOf(act.id),
                h: epochAt(act.epoch) ?? "unknown-epoch",
                v: act.v,
                u: ALICE,
                n: act.id % KINDS.length === 0 ? act.n : 0,
              }),
            ],
            announce,
          ),
        );
        break;
      case "visibility":
        answer = wrote(
          await store.setVisibility(
            board,
            BOB,
            act.ids.map((id) => elementOf(id).id),
            act.show,
            announce,
          ),
        );
        break;
      case "edit":
        answer = wrote(
          await store.edit(
            board,
            ALICE,
            act.items.map(([id, patch]) => [elementOf(id).id, PATCHES[patch] as (typeof PATCHES)[number]] as const),
            announce,
          ),
        );
        break;
      case "clear": {
        const cleared = wrote(await store.clear(board, ALICE, act.hard, announce));
        if (cleared.outcome === "stored") clears.push(cleared.s);
        answer = cleared;
        break;
      }
      case "unclear":
        answer = wrote(await store.unclear(board, BOB, clears[clears.length - 1 - act.back] ?? 1, announce));
        break;
      case "read": {
        const e = epochAt(act.epoch);
        const result: ReadResult = await store.read(
          board,
          act.cursor && next ? { e, at: act.after ?? 0, cursor: next } : { e, after: act.after },
        );
        next = "snapshot" in result ? result.snapshot.next : undefined;
        answer = result;
        break;
      }
      case "time":
        clock += act.ms;
        answer = { e: "0" };
        break;
      case "loss":
        // Redis comes back with what it had a few operations ago, as another server.
        await subject.restore(board, history[Math.max(0, history.length - act.back)]);
        generation = `generation-loss-${++losses}`;
        answer = { e: "0" };
        break;
    }
    seen(answer);
    answers.push(answer);
    history.push(await subject.save(board));
  }
  if (listener) expect(await listener.heard()).toEqual(stored);
  // The whole board at the end, as a fresh client reads it.
  answers.push(await snapshot(store, board).catch(() => "no snapshot"));
  return answers;
}

test("the Redis store and the memory store answer any sequence of operations, losses and heals identically", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(action, { minLength: 1, maxLength: 40 }),
      fc.constantFrom(undefined, 250),
      async (actions, firstReadBytes) => {
        const board = newBoard();
        const limits = {
          ...LIMITS,
          maxBytes: 4_000,
          appendReserveBytes: 500,
          ...(firstReadBytes ? { firstReadBytes } : {}),
        };
        const fromRedis = normalized(await run(redisSubject(limits), board, actions));
        const fromMemory = normalized(await run(memorySubject(limits), board, actions));
        expect(fromRedis).toEqual(fromMemory);
      },
    ),
    { numRuns: Number(process.env.STORE_RUNS ?? 200) },
  );
}, 120_000);
