/**
 * The session's logic with a fake transport and a fake clock: no network, no real timers, every answer and every
 * millisecond chosen by the test. Joining and catching up, gaps, the outbox's window and retries, rotation,
 * `outdated`, view-only, epoch changes that lost nothing and ones that lost something, healing, refused lines and
 * the pending store. The end-to-end suite (session.test.ts) runs the same session against real instances.
 */
import { MemoryPendingStore } from "../../client/core/pending-store";
import type { BoardChange, Notice, SessionOptions, SessionStatus } from "../../client/core/session-api";
import { WhiteboardSession } from "../../client/core/session";
import type { BoardOp, ElementTuple, SyncAck, UserInput, You } from "../../protocol/events";
import { PROTOCOL_VERSION } from "../../protocol/events";
import { decodeSamples, type Sample } from "../../protocol/points";
import { FakeClock, FakeTransport, settle, tuple, type SentRequest } from "./fakes";

const USER: UserInput = { key: "a".repeat(22), name: "Ada", color: "#112233" };
const ADA: You = { id: "ada-id", name: "Ada", edit: true };
const BOARD = "board";

interface Harness {
  session: WhiteboardSession;
  transport: FakeTransport;
  clock: FakeClock;
  store: MemoryPendingStore;
  notices: Notice[];
  statuses: SessionStatus[];
  changes: BoardChange[];
  recovered: number[];
}

let ids = 0;
function start(options: Partial<SessionOptions> = {}): Harness {
  const transport = new FakeTransport();
  const clock = new FakeClock();
  const store = (options.pendingStore as MemoryPendingStore | undefined) ?? new MemoryPendingStore();
  const harness: Omit<Harness, "session"> = {
    transport,
    clock,
    store,
    notices: [],
    statuses: [],
    changes: [],
    recovered: [],
  };
  const session = new WhiteboardSession(
    {
      board: BOARD,
      edit: "e".repeat(22),
      user: USER,
      transport,
      clock,
      pendingStore: store,
      newId: () => `element-${String((ids += 1)).padStart(8, "0")}`,
      ...options,
    },
    {
      onNotice: (notice) => harness.notices.push(notice),
      onStatus: (status) => harness.statuses.push(status),
      onChange: (change) => harness.changes.push(change),
      onRecovered: ({ restored }) => harness.recovered.push(restored),
    },
  );
  return { ...harness, session };
}

const ok = (
  fields: { e: string; s: number; base?: number; you?: You },
  body: { ops: BoardOp[] } | { snapshot: { k: Record<string, number>; records: ElementTuple[]; next?: number } },
): SyncAck => ({
  ok: true,
  board: BOARD,
  ...fields,
  ...body,
});

/** Connects and answers the join with a one-page snapshot of `records` at epoch `e`, seq `s`. */
function joinWith(h: Harness, e: string, s: number, records: ElementTuple[], you: You = ADA): void {
  h.transport.connect();
  h.transport.next("join").answer(ok({ e, s, you }, { snapshot: { k: { "1": 0 }, records } }));
  expect(h.transport.next("read").payload).toEqual({ e, after: s });
  h.transport.next("read").answer(ok({ e, s }, { ops: [] }));
}

const shownIds = (session: WhiteboardSession) => session.elements().map((record) => record.i);
const points = (d: string, from?: [number, number]) => decodeSamples(d, Infinity, from) as number[];
const line = (from: number, count: number): Sample[] =>
  Array.from({ length: count }, (_, index) => [from + index, 2 * (from + index), 0] as const);

describe("joining", () => {
  test("a first join names the protocol, board, edit key and user, reads the rest, and goes live", () => {
    const h = start();
    expect(h.session.status).toBe("connecting");
    h.transport.connect();
    expect(h.transport.next("join").payload).toEqual({
      pv: PROTOCOL_VERSION,
      board: BOARD,
      edit: "e".repeat(22),
      user: USER,
    });
    h.transport
      .next("join")
      .answer(
        ok(
          { e: "E1", s: 2, you: ADA },
          { snapshot: { k: { "1": 0 }, records: [tuple({ s: 1, i: "one" }), tuple({ s: 2, i: "two" })] } },
        ),
      );
    expect(h.session.status).toBe("syncing");
    expect(h.session.you).toEqual(ADA);
    // The operations after the snapshot's seq complete it.
    h.transport.next("read").answer(ok({ e: "E1", s: 3 }, { ops: [{ t: "a", s: 3, r: tuple({ s: 3, i: "three" }) }] }));
    expect(h.session.status).toBe("connected");
    expect(shownIds(h.session)).toEqual(["one", "two", "three"]);
    expect(h.session.board.watermark).toBe(3);
    expect(h.statuses).toEqual(["syncing", "connected"]);
  });

  test("a snapshot comes in pages, newest first; live operations during the read wait for its end", () => {
    const h = start();
    h.transport.connect();
    h.transport.next("join").answer(
      ok(
        { e: "E1", s: 4, you: ADA },
        {
          snapshot: {
            k: { "2": 0 },
            records: [tuple({ s: 3, i: "c", g: 2 }), tuple({ s: 4, i: "d", g: 2 })],
            next: 2,
          },
        },
      ),
    );
    // The first page shows at once: a late joiner sees the newest elements first.
    expect(shownIds(h.session)).toEqual(["c", "d"]);
    expect(h.transport.next("read").payload).toEqual({ e: "E1", at: 4, cursor: 2 });
    h.transport.on().ops({ e: "E1", ops: [{ t: "a", s: 5, r: tuple({ s: 5, i: "e", g: 2 }) }] });
    expect(shownIds(h.session)).toEqual(["c", "d"]);
    h.transport
      .next("read")
      .answer(
        ok(
          { e: "E1", s: 5 },
          { snapshot: { k: { "1": 0 }, records: [tuple({ s: 1, i: "a" }), tuple({ s: 2, i: "b" })] } },
        ),
      );
    expect(h.transport.next("read").payload).toEqual({ e: "E1", after: 4 });
    h.transport
      .next("read")
      .answer(ok({ e: "E1", s: 5 }, { ops: [{ t: "a", s: 5, r: tuple({ s: 5, i: "e", g: 2 }) }] }));
    expect(shownIds(h.session)).toEqual(["a", "b", "c", "d", "e"]);
    expect(h.session.status).toBe("connected");
  });

  test("after a reconnect the join names the epoch and watermark, and gets only what was missed", () => {
    const h = start();
    joinWith(h, "E1", 2, [tuple({ s: 1, i: "a" }), tuple({ s: 2, i: "b" })]);
    h.transport.drop();
    expect(h.session.status).toBe("reconnecting");
    h.transport.connect();
    expect(h.transport.next("join").payload).toMatchObject({ e: "E1", after: 2 });
    h.transport
      .next("join")
      .answer(ok({ e: "E1", s: 3, you: ADA }, { ops: [{ t: "v", s: 3, u: "x", x: [["a", 1]] }] }));
    expect(shownIds(h.session)).toEqual(["b"]);
    expect(h.session.snapshots).toBe(1);
    expect(h.session.reconnects).toBe(1);
  });

  test("a join the store cannot answer goes again after a backoff, or at once when the store shows signs of life", () => {
    const h = start();
    h.transport.connect();
    h.transport.next("join").answer({ ok: false, code: "unavailable", error: "store down" });
    expect(h.transport.waiting("join")).toHaveLength(0);
    // Full jitter: random 0.5 of the first ceiling (250 ms).
    h.clock.advance(124);
    expect(h.transport.waiting("join")).toHaveLength(0);
    h.clock.advance(1);
    h.transport.next("join").answer(undefined); // no answer in time
    h.clock.advance(249); // 0.5 of 500 ms
    expect(h.transport.waiting("join")).toHaveLength(0);
    h.transport.on().head({ e: "E1", s: 1 });
    expect(h.transport.waiting("join")).toHaveLength(1);
  });

  test("`outdated` stops the session: nothing more is sent, and the page is told to reload", () => {
    const h = start();
    h.session.begin([1, 1, 0], { c: "#000000", sw: 2 });
    h.transport.connect();
    h.transport.next("join").answer({ ok: false, code: "outdated", error: "reload" });
    expect(h.session.status).toBe("outdated");
    expect(h.transport.closed).toBe(true);
    h.session.end();
    h.clock.advance(60_000);
    expect(h.transport.sent.map((request) => request.name)).toEqual(["join"]);
  });
});

describe("gaps", () => {
  test("a gap that fills by itself within the grace period costs no read", () => {
    const h = start({ gapGraceMs: 300 });
    joinWith(h, "E1", 1, [tuple({ s: 1, i: "a" })]);
    h.transport.on().ops({ e: "E1", ops: [{ t: "a", s: 3, r: tuple({ s: 3, i: "c" }) }] });
    expect(h.session.board.hasGap).toBe(true);
    h.clock.advance(200);
    h.transport.on().ops({ e: "E1", ops: [{ t: "a", s: 2, r: tuple({ s: 2, i: "b" }) }] });
    h.clock.advance(1_000);
    expect(h.transport.waiting("read")).toHaveLength(0);
    expect(shownIds(h.session)).toEqual(["a", "b", "c"]);
  });

  test("a gap that stays open (a lost broadcast, seen through `head`) is read after the grace period", () => {
    const h = start({ gapGraceMs: 300 });
    joinWith(h, "E1", 1, [tuple({ s: 1, i: "a" })]);
    h.transport.on().head({ e: "E1", s: 2 });
    h.clock.advance(299);
    expect(h.transport.waiting("read")).toHaveLength(0);
    h.clock.advance(1);
    expect(h.transport.next("read").payload).toEqual({ e: "E1", after: 1 });
    h.transport.next("read").answer(ok({ e: "E1", s: 2 }, { ops: [{ t: "a", s: 2, r: tuple({ s: 2, i: "b" }) }] }));
    expect(shownIds(h.session)).toEqual(["a", "b"]);
    expect(h.session.gapReads).toBe(1);
    expect(h.session.board.hasGap).toBe(false);
  });
});

describe("the outbox", () => {
  test("a line is one element: its add, then appends numbered in order, never more than the window in flight", () => {
    const h = start({ window: 2 });
    joinWith(h, "E1", 0, []);
    const id = h.session.begin([0, 0, 0], { c: "#ff0000", sw: 3 }) as string;
    const add = h.transport.next("add");
    expect(add.payload).toMatchObject({ id, t: "f", c: "#ff0000", sw: 3, f: "", b: [0, 0, 0, 0] });
    // While the add is in flight, samples pile up in one open append...
    h.session.extend(...line(1, 5));
    const first = h.transport.next("append");
    expect(first.payload).toMatchObject({ i: id, n: 1 });
    // ...and with two in flight, in the next one, which waits.
    h.session.extend(...line(6, 3));
    expect(h.transport.pending).toHaveLength(2);
    add.answer({ ok: true, s: 1, e: "E1" });
    const second = h.transport.waiting("append")[1] as SentRequest<"append">;
    expect(second.payload).toMatchObject({ i: id, n: 2, b: [0, 0, 8, 16] });
    h.session.extend(...line(9, 1));
    h.session.end();
    first.answer({ ok: true, s: 2, e: "E1" });
    second.answer({ ok: true, s: 3, e: "E1" });
    const third = h.transport.next("append");
    expect(h.transport.pending).toHaveLength(1);
    expect(third.payload.n).toBe(3);
    // Joined, the writes' points are exactly the samples drawn, each append continuing from the one before.
    const d = add.payload.d + first.payload.d + second.payload.d + third.payload.d;
    expect(points(d)).toEqual(line(0, 10).flat());
    expect(h.session.element(id)?.d).toBe(d);
    // The board holds the line's add (the add leaves the outbox) while its last append is on its way: still whole.
    h.transport
      .on()
      .ops({ e: "E1", ops: [{ t: "a", s: 1, r: tuple({ s: 1, i: id, t: "f", u: ADA.id, d: add.payload.d }) }] });
    expect(h.session.board.get(id)?.d).toBe(add.payload.d);
    expect(h.session.element(id)?.d).toBe(d);
  });

  test("a line past its size limit continues as a new line from its last sample", () => {
    // Each sample of `line` costs 3 characters (x + 1, y + 2, pressure 0): 4 fit in 13.
    const h = start({ maxLineBytes: 13, maxPointsPerWrite: 100 });
    joinWith(h, "E1", 0, []);
    h.session.begin([0, 0, 0], { c: "#000000", sw: 2 });
    h.session.extend(...line(1, 5));
    const ids = h.session.end();
    expect(ids).toHaveLength(2);
    const adds = h.transport.all("add").map((request) => request.payload);
    expect(adds.map((input) => input.id)).toEqual(ids);
    const [first, second] = ids.map((id) => points(h.session.element(id)?.d ?? "")) as [number[], number[]];
    expect(first).toEqual(line(0, 4).flat());
    // It starts where the first one ended, so the two join up.
    expect(second).toEqual([...line(3, 1).flat(), ...line(4, 2).flat()]);
  });

  test("a write refused for now goes again after an exponential backoff with jitter; the whole outbox waits", () => {
    const h = start();
    joinWith(h, "E1", 0, []);
    const [id] = h.session.create([{ t: "r", b: [0, 0, 10, 10], c: "#000000", sw: 2, f: "", d: "" }]);
    h.transport.next("add").answer({ ok: false, code: "rate_limited", error: "slow down" });
    h.session.erase([id as string]);
    expect(h.transport.pending).toHaveLength(0);
    h.clock.advance(124); // 0.5 × 250 ms
    expect(h.transport.pending).toHaveLength(0);
    h.clock.advance(1);
    // The erase waits for the add it names to be acknowledged: the store ignores erasing an id it does not hold.
    expect(h.transport.pending.map((request) => request.name)).toEqual(["add"]);
    h.transport.next("add").answer({ ok: true, s: 1, e: "E1" });
    expect(h.transport.next("erase").payload).toEqual({ ids: [id] });
  });

  test("a full store: told once, and retried slowly", () => {
    const h = start();
    joinWith(h, "E1", 0, []);
    h.session.create([{ t: "r", b: [0, 0, 10, 10], c: "#000000", sw: 2, f: "", d: "" }]);
    h.transport.next("add").answer({ ok: false, code: "storage_full", error: "full" });
    h.clock.advance(22_499); // (0.5 + 0.5 / 2) × 30 s
    expect(h.transport.pending).toHaveLength(0);
    h.clock.advance(1);
    h.transport.next("add").answer({ ok: false, code: "storage_full", error: "full" });
    expect(h.notices.map((notice) => notice.kind)).toEqual(["storage_full"]);
    expect(h.notices[0]?.message).not.toMatch(/\d/);
  });

  test("what was in flight when the connection dropped goes again, in order, once the new one has joined", () => {
    const h = start();
    joinWith(h, "E1", 0, []);
    const id = h.session.begin([0, 0, 0], { c: "#000000", sw: 2 }) as string;
    h.session.extend(...line(1, 2));
    h.session.end();
    const before = h.transport.pending.map((request) => request.payload);
    h.transport.drop();
    h.session.erase([id]);
    h.transport.connect();
    expect(h.transport.pending.map((request) => request.name)).toEqual(["join"]);
    h.transport.next("join").answer(ok({ e: "E1", s: 0, you: ADA }, { ops: [] }));
    expect(h.transport.pending.map((request) => request.payload)).toEqual(before);
    h.transport.next("add").answer({ ok: true, s: 1, e: "E1" });
    expect(h.transport.pending.map((request) => request.name)).toEqual(["append", "erase"]);
  });

  test("a refused line is removed whole (erased where stored) and reported once, in words", () => {
    const h = start({ window: 4 });
    joinWith(h, "E1", 0, []);
    const id = h.session.begin([0, 0, 0], { c: "#000000", sw: 2 }) as string;
    h.transport.next("add").answer({ ok: true, s: 1, e: "E1" });
    h.session.extend(...line(1, 2));
    const first = h.transport.next("append");
    h.session.extend(...line(3, 2));
    const second = h.transport.waiting("append")[1] as SentRequest<"append">;
    first.answer({ ok: false, code: "board_full", error: "the board holds 16777216 bytes" });
    second.answer({ ok: false, code: "board_full", error: "the board holds 16777216 bytes" });
    h.session.extend(...line(5, 2));
    h.session.end();
    expect(h.notices).toHaveLength(1);
    expect(h.notices[0]).toMatchObject({ kind: "board_full", ids: [id] });
    expect(h.notices[0]?.message).not.toMatch(/\d|bytes/);
    expect(h.session.element(id)).toBeUndefined();
    expect(h.transport.waiting("append")).toHaveLength(0);
    expect(h.transport.next("erase").payload).toEqual({ ids: [id] });
  });

  test("acknowledged, an element and a move to the front or back show where the store put them, before the operation", () => {
    const h = start();
    joinWith(h, "E1", 2, [tuple({ s: 1, i: "one" }), tuple({ s: 2, i: "two" })]);
    const [id] = h.session.create([{ t: "r", b: [0, 0, 10, 10], c: "#000000", sw: 2, f: "", d: "" }]) as [string];
    // Unacknowledged: on top of everything, in a place of its own.
    expect(shownIds(h.session)).toEqual(["one", "two", id]);
    // Someone else's element is stored first (seq 3); this page's comes at seq 4, but its operation is late.
    h.transport.on().ops({ e: "E1", ops: [{ t: "a", s: 3, r: tuple({ s: 3, i: "three" }) }] });
    h.transport.next("add").answer({ ok: true, s: 4, e: "E1" });
    expect(h.session.element(id)).toMatchObject({ s: 4, z: 4 });
    h.session.edit([["one", { o: 1 }]]);
    h.transport.next("edit").answer({ ok: true, s: 5, e: "E1" });
    h.session.edit([["two", { o: -1 }]]);
    h.transport.next("edit").answer({ ok: true, s: 6, e: "E1" });
    const shown = h.session.elements().map(({ i, z }) => [i, z]);
    expect(shown).toEqual([
      ["two", -6],
      ["three", 3],
      [id, 4],
      ["one", 5],
    ]);
    // The operations change nothing of what shows.
    h.transport.on().ops({
      e: "E1",
      ops: [
        { t: "a", s: 4, r: tuple({ s: 4, i: id, u: ADA.id, box: [0, 0, 10, 10] }) },
        { t: "e", s: 5, u: ADA.id, x: [["one", 2, { z: 5 }]] },
        { t: "e", s: 6, u: ADA.id, x: [["two", 2, { z: -6 }]] },
      ],
    });
    expect(h.session.pendingWrites).toBe(0);
    expect(h.session.elements().map(({ i, z }) => [i, z])).toEqual(shown);
  });
});

describe("rotation and view-only", () => {
  test("a rotation waits for a quiet moment: not while a line is drawn or a write awaits its answer", () => {
    const h = start();
    joinWith(h, "E1", 0, []);
    h.session.begin([0, 0, 0], { c: "#000000", sw: 2 });
    h.transport.on().rotate({ inMs: 60_000 });
    expect(h.transport.reconnects).toBe(0);
    h.session.end();
    expect(h.transport.reconnects).toBe(0);
    h.transport.next("add").answer({ ok: true, s: 1, e: "E1" });
    expect(h.transport.reconnects).toBe(1);
  });

  test("view-only: the page is told once, nothing is sent, and drawing does nothing", async () => {
    const h = start({ edit: undefined });
    h.transport.connect();
    expect(h.transport.next("join").payload).not.toHaveProperty("edit");
    h.transport.next("join").answer(ok({ e: "E1", s: 0, you: { ...ADA, edit: false } }, { ops: [] }));
    expect(h.session.canEdit).toBe(false);
    expect(h.session.begin([0, 0, 0], { c: "#000000", sw: 2 })).toBeUndefined();
    expect(h.session.create([{ t: "r", b: [0, 0, 1, 1], c: "#000000", sw: 1, f: "", d: "" }])).toEqual([]);
    h.session.erase(["x".repeat(16)]);
    await expect(h.session.clear()).resolves.toMatchObject({ ok: false, code: "forbidden" });
    expect(h.transport.sent.map((request) => request.name)).toEqual(["join"]);
    expect(h.notices.map((notice) => notice.kind)).toEqual(["view_only"]);
  });
});

describe("epochs", () => {
  test("an epoch change that lost nothing: no snapshot, only the operations after the watermark", () => {
    const h = start();
    joinWith(h, "E1", 2, [tuple({ s: 1, i: "a" }), tuple({ s: 2, i: "b" })]);
    h.transport.on().head({ e: "E2", s: 3 });
    expect(h.transport.next("read").payload).toEqual({ e: "E1", after: 2 });
    h.transport
      .next("read")
      .answer(ok({ e: "E2", s: 3, base: 2 }, { ops: [{ t: "a", s: 3, r: tuple({ s: 3, i: "c" }) }] }));
    expect(h.session.board.epoch).toBe("E2");
    expect(shownIds(h.session)).toEqual(["a", "b", "c"]);
    expect(h.session.snapshots).toBe(1); // the first join's only
    expect(h.session.epochChanges).toBe(1);
    expect(h.transport.waiting("add")).toHaveLength(0);
  });

  test("an epoch change that lost something: read aside (the page keeps showing), then heal what the store lacks", () => {
    const h = start();
    const mine = tuple({ s: 3, i: "mine", u: ADA.id, t: "f", n: 1, d: "AAAC", v: 2 });
    joinWith(h, "E1", 4, [
      tuple({ s: 1, i: "kept" }),
      tuple({ s: 2, i: "erased", o: 1, v: 1 }),
      mine,
      tuple({ s: 4, i: "moved", v: 2, box: [50, 50, 10, 10] }),
    ]);
    const before = shownIds(h.session);
    h.transport.on().ops({ e: "E2", ops: [] });
    h.transport.next("read").answer(
      ok(
        { e: "E2", s: 3, base: 1 },
        {
          snapshot: {
            k: { "1": 0 },
            records: [tuple({ s: 1, i: "kept" }), tuple({ s: 2, i: "erased" }), tuple({ s: 3, i: "moved" })],
            next: 1,
          },
        },
      ),
    );
    expect(shownIds(h.session)).toEqual(before);
    h.transport.next("read").answer(ok({ e: "E2", s: 3 }, { snapshot: { k: {}, records: [] } }));
    h.transport.next("read").answer(ok({ e: "E2", s: 3 }, { ops: [] }));
    expect(h.session.board.epoch).toBe("E2");
    const healed = h.transport.all("add").map((request) => request.payload);
    // The store holds "kept" as known; "erased" shown (lower version than the hidden 1); "moved" at 0 < 2; lacks "mine".
    expect(healed.map((input) => [input.id, input.v, input.h, input.u])).toEqual([
      ["erased", 1, "E1", "someone-else"],
      ["mine", 2, "E1", ADA.id],
      ["moved", 2, "E1", "someone-else"],
    ]);
    expect(healed.find((input) => input.id === "mine")).toMatchObject({ t: "f", n: 1, d: "AAAC" });
    expect(healed.find((input) => input.id === "moved")?.b).toEqual([50, 50, 10, 10]);
    expect(h.recovered).toEqual([3]);
    // While the store decides, the page goes on showing what it knew.
    expect(shownIds(h.session).sort()).toEqual(before.sort());
  });

  test("a heal answered before its operation arrives: the page shows what it knew until the board holds the healed version", () => {
    const h = start();
    // "cleared" was hidden by a clear (its page flipped) that the new history lacks: there it is shown, at version 0.
    joinWith(h, "E1", 3, [tuple({ s: 1, i: "kept" }), tuple({ s: 2, i: "cleared", o: 1, v: 1 })]);
    const before = shownIds(h.session);
    h.transport.on().ops({ e: "E2", ops: [] });
    h.transport
      .next("read")
      .answer(
        ok(
          { e: "E2", s: 2, base: 2 },
          { snapshot: { k: { "1": 0 }, records: [tuple({ s: 1, i: "kept" }), tuple({ s: 2, i: "cleared" })] } },
        ),
      );
    h.transport.next("read").answer(ok({ e: "E2", s: 2 }, { ops: [] }));
    const heal = h.transport.next("add");
    expect(heal.payload).toMatchObject({ id: "cleared", v: 1, h: "E1" });
    expect(shownIds(h.session)).toEqual(before);
    // The service answers a write before its own broadcast reaches the writer: the store took the heal at seq 3.
    heal.answer({ ok: true, s: 3, e: "E2" });
    expect(shownIds(h.session)).toEqual(before);
    h.transport.on().ops({ e: "E2", ops: [{ t: "a", s: 3, r: tuple({ s: 2, i: "cleared", o: 1, v: 1 }) }] });
    expect(shownIds(h.session)).toEqual(before);
    expect(h.session.pendingWrites).toBe(0);
    expect(h.session.elements()).toBe(h.session.board.elements());
  });

  test("an append refused out_of_order by a store of another epoch waits for the heal, which goes before it", () => {
    const h = start({ window: 1 });
    joinWith(h, "E1", 0, []);
    const id = h.session.begin([0, 0, 0], { c: "#000000", sw: 2 }) as string;
    h.transport.next("add").answer({ ok: true, s: 1, e: "E1" });
    h.transport.on().ops({ e: "E1", ops: [{ t: "a", s: 1, r: tuple({ s: 1, i: id, t: "f", u: ADA.id, d: "AAA" }) }] });
    h.session.extend(...line(1, 2));
    // The store restarted empty: it lost the line. Its answer names its new epoch, which this page has not heard of:
    // that is no overtaking, whatever the number of tries, and the page reads the new history at once.
    for (let attempt = 0; attempt < 15; attempt += 1) {
      h.transport.next("append").answer({ ok: false, code: "out_of_order", error: "not there", e: "E2" });
      if (attempt === 0) {
        expect(h.transport.next("read").payload).toEqual({ e: "E1", after: 1 });
        // The store is slow to answer that read: the append goes on being tried meanwhile.
        h.transport.pending.splice(h.transport.pending.indexOf(h.transport.next("read")), 1);
      }
      h.clock.advance(5_000);
    }
    expect(h.notices).toEqual([]);
    h.transport.drop();
    h.transport.connect();
    h.transport.next("join").answer(ok({ e: "E2", s: 0, base: 0, you: ADA }, { ops: [] }));
    // Its board held more than base 0: it reads the new history aside, and heals.
    h.transport.next("join").answer(ok({ e: "E2", s: 0, you: ADA }, { snapshot: { k: {}, records: [] } }));
    h.transport.next("read").answer(ok({ e: "E2", s: 0 }, { ops: [] }));
    // The line's add goes back first, then its append (one write in flight at a time).
    expect(h.transport.pending.map((request) => request.name)).toEqual(["add"]);
    expect(h.transport.next("add").payload).toMatchObject({ id, h: "E1", v: 0 });
    h.transport.next("add").answer({ ok: true, s: 1, e: "E2" });
    expect(h.transport.next("append").payload).toMatchObject({ i: id, n: 1 });
    h.transport.next("append").answer({ ok: true, s: 2, e: "E2" });
    h.session.end();
    expect(h.notices).toEqual([]);
  });

  test("an append refused because a healer put the line back as its own continues as a new line: nothing drawn is lost", () => {
    const h = start({ window: 1, maxPointsPerWrite: 2 });
    joinWith(h, "E1", 0, []);
    const id = h.session.begin([0, 0, 0], { c: "#000000", sw: 2 }) as string;
    const add = h.transport.next("add");
    add.answer({ ok: true, s: 1, e: "E1" });
    h.session.extend(...line(1, 2));
    const first = h.transport.next("append");
    first.answer({ ok: true, s: 2, e: "E1" });
    const stored = add.payload.d + first.payload.d;
    const mine = tuple({ s: 1, i: id, t: "f", u: ADA.id, n: 1, d: stored, v: 2 });
    h.transport.on().ops({ e: "E1", ops: [{ t: "a", s: 1, r: mine }] });
    h.transport.on().ops({ e: "E1", ops: [{ t: "p", s: 2, i: id, n: 1, d: first.payload.d, b: [0, 0, 2, 4], v: 2 }] });
    h.session.extend(...line(3, 3));
    // The store restarted empty, and another page healed the line first, as its own (the store no longer knows the
    // history it came from). This page reads the new history aside: the line is there at the version it knew.
    const healed = tuple({ s: 1, i: id, t: "f", u: "healer", n: 1, d: stored, v: 2 });
    h.transport.on().ops({ e: "E2", ops: [{ t: "a", s: 1, r: healed }] });
    h.transport.next("append").answer({ ok: false, code: "out_of_order", error: "not there", e: "E2" });
    h.transport.next("read").answer(ok({ e: "E2", s: 1, base: 0 }, { ops: [] }));
    h.transport
      .next("join")
      .answer(ok({ e: "E2", s: 1, you: ADA }, { snapshot: { k: { "1": 0 }, records: [healed] } }));
    h.transport.next("read").answer(ok({ e: "E2", s: 1 }, { ops: [] }));
    expect(h.transport.waiting("add")).toHaveLength(0);
    h.clock.advance(5_000);
    h.transport.next("append").answer({ ok: false, code: "forbidden", error: "only the line's author can add to it" });
    expect(h.notices).toEqual([]);
    // The rest continues as a new line from the last point stored, and the stroke goes on in it.
    h.session.extend(...line(6, 1));
    const ids = h.session.end();
    expect(ids).toEqual([id, expect.any(String)]);
    const continued = h.transport.next("add").payload;
    expect(continued.id).toBe(ids[1]);
    h.transport.next("add").answer({ ok: true, s: 2, e: "E2" });
    let d = continued.d;
    for (let seq = 3, request = h.transport.waiting("append")[0]; request; request = h.transport.waiting("append")[0]) {
      d += request.payload.d;
      request.answer({ ok: true, s: (seq += 1), e: "E2" });
    }
    expect(points(d)).toEqual(line(2, 5).flat());
    expect([...points(stored), ...points(d).slice(3)]).toEqual(line(0, 7).flat());
    expect(h.session.element(id)?.d).toBe(stored);
  });

  test("a first snapshot given up when the epoch changes in the middle mixes no histories: it heals from what it read", () => {
    const h = start();
    h.transport.connect();
    h.transport
      .next("join")
      .answer(
        ok(
          { e: "E1", s: 2, you: ADA },
          { snapshot: { k: { "2": 0 }, records: [tuple({ s: 2, i: "b", g: 2 })], next: 2 } },
        ),
      );
    // The store restarts empty before the next page: the read finds another epoch, which never knew E1.
    h.transport
      .next("read")
      .answer(ok({ e: "E2", s: 1, base: 0 }, { ops: [{ t: "a", s: 1, r: tuple({ s: 1, i: "c" }) }] }));
    // Half a snapshot is no prefix of anything: a fresh one, read aside.
    expect(h.transport.next("join").payload).not.toHaveProperty("e");
    h.transport
      .next("join")
      .answer(ok({ e: "E2", s: 1, you: ADA }, { snapshot: { k: { "1": 0 }, records: [tuple({ s: 1, i: "c" })] } }));
    h.transport.next("read").answer(ok({ e: "E2", s: 1 }, { ops: [] }));
    expect(h.session.board.epoch).toBe("E2");
    expect([...h.session.board.records()].map((record) => record.i)).toEqual(["c"]);
    expect(h.transport.all("add").map((request) => [request.payload.id, request.payload.h])).toEqual([["b", "E1"]]);
  });

  test("a late healer (offline through the loss) learns `base` on its join and heals then", () => {
    const h = start();
    joinWith(h, "E1", 2, [tuple({ s: 1, i: "a" }), tuple({ s: 2, i: "b" })]);
    h.transport.drop();
    h.clock.advance(3_600_000);
    h.transport.connect();
    expect(h.transport.next("join").payload).toMatchObject({ e: "E1", after: 2 });
    h.transport
      .next("join")
      .answer(
        ok({ e: "E2", s: 9, base: 1, you: ADA }, { snapshot: { k: { "1": 0 }, records: [tuple({ s: 1, i: "a" })] } }),
      );
    h.transport.next("read").answer(ok({ e: "E2", s: 9 }, { ops: [] }));
    expect(h.transport.all("add").map((request) => [request.payload.id, request.payload.h])).toEqual([["b", "E1"]]);
  });

  test("this page's own acknowledged element, lost with the store before the page saw it, is healed", () => {
    const h = start();
    joinWith(h, "E1", 1, [tuple({ s: 1, i: "a" })]);
    const [id] = h.session.create([{ t: "e", b: [1, 2, 3, 4], c: "#000000", sw: 2, f: "#ffffff", d: "" }]);
    h.transport.next("add").answer({ ok: true, s: 2, e: "E1" });
    // Its broadcast was lost with the store; the new epoch's base is 1.
    h.transport.on().head({ e: "E2", s: 1 });
    expect(h.transport.next("read").payload).toEqual({ e: "E1", after: 1 });
    // Its board held nothing past base 1: only the operations after its watermark, no snapshot. Its own
    // acknowledgement of seq 2 is of the old epoch: the element is not on the caught-up board, so it is healed.
    h.transport.next("read").answer(ok({ e: "E2", s: 1, base: 1 }, { ops: [] }));
    expect(h.session.snapshots).toBe(1);
    const heal = h.transport.next("add").payload;
    expect(heal).toMatchObject({ id, t: "e", b: [1, 2, 3, 4], f: "#ffffff", h: "E1", v: 0, u: ADA.id });
    expect(h.session.element(id as string)).toBeDefined();
  });

  test("an acknowledgement that arrives after the new epoch was heard belongs to the epoch it names", () => {
    const h = start();
    joinWith(h, "E1", 0, []);
    const [id] = h.session.create([{ t: "r", b: [1, 2, 3, 4], c: "#000000", sw: 2, f: "", d: "" }]) as [string];
    const add = h.transport.next("add");
    // The store took the element at seq 1 and then restarted from a snapshot taken before it: epoch E2, base 0, where
    // someone else's element took seq 1. This page hears of E2 before the answer to its add comes.
    h.transport.on().head({ e: "E2", s: 1 });
    add.answer({ ok: true, s: 1, e: "E1" });
    h.transport
      .next("read")
      .answer(ok({ e: "E2", s: 1, base: 0 }, { ops: [{ t: "a", s: 1, r: tuple({ s: 1, i: "theirs" }) }] }));
    // Seq 1 of E2 is not this page's element: it was lost, and is sent back.
    expect(h.transport.next("add").payload).toMatchObject({ id, h: "E1", v: 0, u: ADA.id });
    expect(shownIds(h.session)).toEqual(["theirs", id]);
  });
});

describe("the pending store", () => {
  test("writes not acknowledged are kept, and a page opened later sends them; acknowledged ones leave once held", async () => {
    const store = new MemoryPendingStore();
    const first = start({ pendingStore: store });
    joinWith(first, "E1", 0, []);
    const id = first.session.begin([0, 0, 0], { c: "#000000", sw: 2 }) as string;
    first.session.extend(...line(1, 3));
    const [shape] = first.session.create([{ t: "n", b: [0, 0, 5, 5], c: "#000000", sw: 16, f: "#ffee00", d: "aGk" }]);
    // The page goes away before any answer, in the middle of the line.
    first.transport.drop();
    expect(store.records(BOARD).map((record) => record.write.kind)).toEqual(["add", "append", "add"]);

    const second = start({ pendingStore: store });
    await settle();
    expect(second.session.pendingWrites).toBe(3);
    // Shown at once, before the store has them.
    expect(second.session.element(id)?.d).toBeDefined();
    expect(points(second.session.element(id)?.d ?? "")).toEqual(line(0, 4).flat());
    joinWith(second, "E1", 0, []);
    const [add, append] = [second.transport.next("add"), second.transport.next("append")];
    expect(add.payload.id).toBe(id);
    expect(append.payload).toMatchObject({ i: id, n: 1 });
    add.answer({ ok: true, s: 1, e: "E1" });
    append.answer({ ok: true, s: 2, e: "E1" });
    second.transport.next("add").answer({ ok: true, s: 3, e: "E1" });
    expect(second.session.pendingWrites).toBe(0);
    // Acknowledged but not on the board yet: still kept (the store might lose them before the page sees them).
    expect(store.records(BOARD)).toHaveLength(3);
    second.transport.on().ops({
      e: "E1",
      ops: [
        { t: "a", s: 1, r: tuple({ s: 1, i: id, t: "f", u: ADA.id, d: add.payload.d }) },
        { t: "p", s: 2, i: id, n: 1, v: 2, d: append.payload.d, b: append.payload.b },
        { t: "a", s: 3, r: tuple({ s: 3, i: shape as string, t: "n", u: ADA.id }) },
      ],
    });
    expect(store.records(BOARD)).toHaveLength(0);
    expect(points(second.session.element(id)?.d ?? "")).toEqual(line(0, 4).flat());
  });
});
