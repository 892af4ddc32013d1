/**
 * Malformed, hostile, forbidden and excessive input: each gets its error, and the instance keeps serving everyone else.
 */
import { COORD_LIMIT, MAX_LINE_BYTES } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { encodeText } from "../../protocol/schema";
import { Topology } from "../../local/topology";
import {
  connectClient,
  editableBoard,
  eventually,
  makeLine,
  makeUser,
  newElementId,
  type TestClient,
} from "../support/socket-client";
import { anyString, stringMatching } from "../support/matchers";

const LIMITS = {
  MAX_POINTS_PER_EVENT: "100",
  MAX_MESSAGE_BYTES: "20000",
  MAX_ELEMENTS_PER_BOARD: "5",
  MAX_IDS_PER_CHANGE: "3",
  MAX_TEXT_LENGTH: "50",
  // Above what the other tests send in a second on one connection, so that only the burst test meets the limit.
  RATE_LIMIT_PER_SECOND: "100",
  RATE_LIMIT_BURST: "200",
  CLEAR_INTERVAL_SECONDS: "0",
  JOINS_PER_SECOND: "1000",
  JOIN_BURST: "1000",
  BOARDS_PER_MINUTE: "1000",
  // Each check of the instance opens a new bystander on instance 0: dozens of connections in a few seconds from one
  // address, past the default 50 at once and 5 a second when the suite runs fast (a clean clone's CI once refused
  // one: "websocket error"). test/abuse/connections.test.ts tests that limit.
  CONNECTIONS_PER_ADDRESS_PER_SECOND: "1000",
  CONNECTIONS_PER_ADDRESS_BURST: "1000",
};

let topology: Topology;
let attacker: TestClient;
let watcher: TestClient;
const BOARD = editableBoard();

beforeAll(async () => {
  topology = await Topology.start({ instances: 2, env: LIMITS });
  attacker = await connectClient(topology.instance(0).url);
  watcher = await connectClient(topology.instance(1).url);
  await watcher.join({ board: BOARD.board });
});

afterAll(async () => {
  for (const c of [attacker, watcher]) c?.close();
  await topology?.stop();
});

/** The instance still accepts connections, stores and relays elements for others, and is still alive and ready. */
async function expectStillServing(): Promise<void> {
  // A new bystander each time: one connection's rate limit would not last the whole suite.
  const bystander = await connectClient(topology.instance(0).url);
  try {
    expect(await bystander.join(BOARD)).toMatchObject({ ok: true });
    const line = makeLine();
    expect(await bystander.add(line)).toMatchObject({ ok: true });
    await eventually("the watcher to get the bystander's line", () =>
      watcher.ops.some((op) => op.t === "a" && op.r[4] === line.id),
    );
    expect((await fetch(`${topology.instance(0).url}/readyz`)).status).toBe(200);
    // A board holds at most MAX_ELEMENTS_PER_BOARD, cleared ones included: each check starts on a new one.
    Object.assign(BOARD, editableBoard());
    await watcher.join({ board: BOARD.board });
  } finally {
    bystander.close();
  }
}

const WRITES: [string, unknown][] = [
  ["add", makeLine()],
  ["append", { i: newElementId(), n: 1, d: "AAA", b: [0, 0, 1, 1] }],
  ["erase", { ids: [newElementId()] }],
  ["restore", { ids: [newElementId()] }],
  ["edit", { x: [[newElementId(), { x: 1 }]] }],
  ["clear", {}],
  ["unclear", { of: 1 }],
];

test("writes and reads before any join are refused with not_joined", async () => {
  for (const [event, payload] of [...WRITES, ["read", { e: "x", after: 0 }] as const]) {
    expect(await attacker.raw(event, payload)).toEqual({ ok: false, code: "not_joined", error: "join a board first" });
  }
});

test("a join in another protocol version (or none: a page from before version 2) is told to reload", async () => {
  const user = makeUser();
  for (const payload of [
    { board: BOARD.board, user },
    { pv: 1, board: BOARD.board, user },
    { pv: 3, board: BOARD.board, user },
    { board: BOARD.board, user: { id: "user-0000", name: "Old page", color: "#000000" } },
  ]) {
    expect(await attacker.raw("join", payload)).toMatchObject({ ok: false, code: "outdated" });
  }
});

describe("a view-only socket (joined without the edit key)", () => {
  let viewer: TestClient;
  beforeAll(async () => {
    viewer = await connectClient(topology.instance(0).url);
    expect(await viewer.join({ board: BOARD.board })).toMatchObject({ ok: true, you: { edit: false } });
  });
  afterAll(() => viewer.close());

  test.each(WRITES)("is refused every write with forbidden: %s", async (event, payload) => {
    expect(await viewer.raw(event, payload)).toEqual({
      ok: false,
      code: "forbidden",
      error: "this link is view-only: drawing needs the board's edit link",
    });
  });

  test("reads, and a wrong edit key is refused without leaving the board", async () => {
    expect(await viewer.read({ e: "0", after: 0 })).toMatchObject({ ok: true });
    const other = editableBoard();
    expect(await viewer.join({ board: BOARD.board, edit: other.edit })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    // Still on its board: it reads it.
    expect(await viewer.read({ e: "0", after: 0 })).toMatchObject({ ok: true, board: BOARD.board });
  });
});

const user = makeUser();
test.each<[string, unknown]>([
  ["no payload", undefined],
  ["a string", "board-1"],
  ["null", null],
  ["a number for board", { pv: 2, board: 42, user }],
  ["an empty board id", { pv: 2, board: "", user }],
  ["a board id of 65 characters", { pv: 2, board: "b".repeat(65), user }],
  ["a board id with a slash", { pv: 2, board: "../etc", user }],
  ["a board id with a space", { pv: 2, board: "my board", user }],
  ["no user", { pv: 2, board: "ok" }],
  ["a user key of 21 characters", { pv: 2, board: "ok", user: { ...user, key: "k".repeat(21) } }],
  ["a user id instead of a key", { pv: 2, board: "ok", user: { id: "user-0001", name: "x", color: "#000000" } }],
  ["an empty user name", { pv: 2, board: "ok", user: { ...user, name: "" } }],
  ["a user name of 41 characters", { pv: 2, board: "ok", user: { ...user, name: "n".repeat(41) } }],
  ["a user name of invisible fillers only", { pv: 2, board: "ok", user: { ...user, name: "\u3164\u3164\u200b" } }],
  ["a user name of control characters only", { pv: 2, board: "ok", user: { ...user, name: "\u0007\u202e" } }],
  ["a user colour name", { pv: 2, board: "ok", user: { ...user, color: "red" } }],
  ["an edit key of 10 characters", { pv: 2, board: "ok", edit: "k".repeat(10), user }],
  ["a negative after", { pv: 2, board: "ok", user, e: "abc", after: -1 }],
  ["a fractional after", { pv: 2, board: "ok", user, e: "abc", after: 1.5 }],
  ["NaN as after (sent as null)", { pv: 2, board: "ok", user, e: "abc", after: NaN }],
  ["a string as after", { pv: 2, board: "ok", user, e: "abc", after: "3" }],
  ["an epoch with a space", { pv: 2, board: "ok", user, e: "a b", after: 3 }],
  ["an unknown field", { pv: 2, board: "ok", user, admin: true }],
])("join with %s gets an invalid error", async (_, payload) => {
  const ack = await attacker.raw("join", payload);
  expect(ack).toMatchObject({ ok: false, code: "invalid", error: anyString() });
});

test("names are normalized, not refused: whitespace collapsed, controls and fillers dropped, zalgo trimmed", async () => {
  const client = await connectClient(topology.instance(0).url, {
    user: { ...makeUser(), name: "  Ann\u3164\t\u202e Lee\u200b e\u0300\u0301\u0302\u0303 " },
  });
  expect(await client.join({ board: BOARD.board })).toMatchObject({
    ok: true,
    you: { id: client.id, name: "Ann Lee e\u0300\u0301".normalize("NFC"), edit: false },
  });
  client.close();
});

describe("after joining", () => {
  beforeAll(async () => {
    expect(await attacker.join(BOARD)).toMatchObject({ ok: true, you: { id: attacker.id, edit: true } });
  });

  beforeEach(async () => {
    expect(await attacker.join(BOARD)).toMatchObject({ ok: true });
  });

  afterEach(expectStillServing);

  test.each<[string, Record<string, unknown>, string]>([
    ["a missing id", { id: undefined }, "id"],
    ["an id of 15 characters (guessable)", { id: "i".repeat(15) }, "id"],
    ["an id with a dot", { id: "a.bcdefghijklmnop" }, "id"],
    ["an id of 65 characters", { id: "i".repeat(65) }, "id"],
    ["an unknown kind", { t: "x" }, "t"],
    ["a box of three numbers", { b: [1, 2, 3] }, "b"],
    ["a box past the canvas", { b: [COORD_LIMIT + 1, 0, 1, 1] }, "b.0"],
    ["a fractional box", { b: [1.5, 0, 1, 1] }, "b.0"],
    ["a negative width for a line's box", { b: [0, 0, -5, 5] }, "b"],
    ["points that are not a string", { d: [[1, 2]] }, "d"],
    ["no points", { d: "" }, "d"],
    ["points that are not Base64", { d: "AA!!" }, "d"],
    ["a point off the canvas", { d: encodeSamples([[COORD_LIMIT + 1, 5, 0]]) }, "d"],
    ["a pressure past 15", { d: encodeSamples([[1, 5, 16]]) }, "d"],
    ["a number cut short", { d: "AAg" }, "d"],
    [
      "more points than the limit",
      { d: encodeSamples(Array.from({ length: 101 }, (): [number, number, number] => [5, 5, 0])) },
      "d",
    ],
    ["a colour name", { c: "red" }, "c"],
    ["a short colour", { c: "#12345" }, "c"],
    ["a width of 0", { sw: 0 }, "sw"],
    ["a width of 65 for a line", { sw: 65 }, "sw"],
    ["a fractional width", { sw: 2.5 }, "sw"],
    ["a width as a string", { sw: "4" }, "sw"],
    ["a fill on a line", { f: "#ffffff" }, "f"],
    ["a version without healing", { v: 3 }, "v"],
    ["an author without healing", { u: "someone-else0000" }, "u"],
    ["a heal without a version", { h: "some-epoch", u: "someone-else0000" }, "h"],
    ["a negative version", { h: "e", v: -1, u: "someone-else0000" }, "v"],
    ["a heal with a short author", { h: "e", v: 1, u: "short" }, "u"],
    ["an extra field", { s: 99 }, "payload"],
  ])("an add with %s gets an invalid error naming the field", async (_, change, field) => {
    const ack = await attacker.raw("add", { ...makeLine(), ...change });
    expect(ack).toMatchObject({ ok: false, code: "invalid" });
    expect((ack as { error: string }).error).toMatch(new RegExp(`^${field.replace(/\./g, "\\.")}: `));
  });

  test.each<[string, Record<string, unknown>, string]>([
    ["a font size of 7", { t: "t", sw: 7, d: encodeText("hi") }, "sw"],
    ["text that is not base64url", { t: "t", sw: 16, d: "a+b/" }, "d"],
    ["text past MAX_TEXT_LENGTH", { t: "n", sw: 16, d: encodeText("x".repeat(51)) }, "d"],
    ["data on a rectangle", { t: "r", sw: 2, d: "AAA" }, "d"],
    ["a fill on text", { t: "t", sw: 16, f: "#ffffff", d: encodeText("hi") }, "f"],
  ])("a shape or text with %s gets an invalid error naming the field", async (_, change, field) => {
    const ack = await attacker.raw("add", { ...makeLine(), ...change });
    expect(ack).toMatchObject({ ok: false, code: "invalid" });
    expect((ack as { error: string }).error).toMatch(new RegExp(`^${field}: `));
  });

  test("an element that is not an object gets an invalid error", async () => {
    expect(await attacker.raw("add", [1, 2, 3])).toMatchObject({ ok: false, code: "invalid" });
    expect(await attacker.raw("add", "x".repeat(1000))).toMatchObject({ ok: false, code: "invalid" });
  });

  test("appends: someone else's line is forbidden, a gap is out_of_order, a line past its bytes too_large", async () => {
    const line = makeLine();
    expect(await attacker.add(line)).toMatchObject({ ok: true });
    const points = (n: number, d = "AAA") => ({ i: line.id, n, d, b: line.b });
    const stranger = await connectClient(topology.instance(0).url);
    expect(await stranger.join(BOARD)).toMatchObject({ ok: true });
    expect(await stranger.append(points(1))).toEqual({
      ok: false,
      code: "forbidden",
      error: "only the line's author can add to it",
    });
    stranger.close();
    const skipped = await attacker.append(points(2));
    const { s, e } = (await attacker.append(points(1))) as { s: number; e: string };
    // out_of_order names the board's epoch: a client of another epoch learns that the store lost the line.
    expect(skipped).toMatchObject({ ok: false, code: "out_of_order", e });
    // A resend is acknowledged and changes nothing.
    expect(await attacker.append(points(1))).toEqual({ ok: true, s, e: anyString() });
    const big = "A".repeat(297); // 99 samples of three zeros
    let n = 2;
    let refused: unknown;
    while (!refused && n < MAX_LINE_BYTES / big.length + 3) {
      const ack = await attacker.append(points(n, big));
      if (ack.ok) n += 1;
      else refused = ack;
    }
    expect(refused).toMatchObject({ ok: false, code: "too_large" });
  });

  test.each<[string, string, unknown]>([
    ["an append with n 0", "append", { i: newElementId(), n: 0, d: "AAA", b: [0, 0, 1, 1] }],
    ["an append without a box", "append", { i: newElementId(), n: 1, d: "AAA" }],
    ["an append of bad points", "append", { i: newElementId(), n: 1, d: "A!", b: [0, 0, 1, 1] }],
    ["erase of nothing", "erase", { ids: [] }],
    ["erase of more elements than the limit", "erase", { ids: Array.from({ length: 4 }, newElementId) }],
    ["erase with a bad id", "erase", { ids: ["a.b"] }],
    ["erase in the old format", "erase", { x: [[newElementId(), 1]] }],
    ["restore with a number for an id", "restore", { ids: [42] }],
    ["an edit of nothing", "edit", { x: [] }],
    ["an edit that changes nothing", "edit", { x: [[newElementId(), {}]] }],
    ["an edit of an unknown field", "edit", { x: [[newElementId(), { u: "me" }]] }],
    ["an edit moving by 2", "edit", { x: [[newElementId(), { o: 2 }]] }],
    [
      "an edit of more elements than the limit",
      "edit",
      { x: Array.from({ length: 4 }, () => [newElementId(), { x: 1 }]) },
    ],
    ["clear with a payload", "clear", { everything: true }],
    ["unclear of seq 0", "unclear", { of: 0 }],
    ["unclear without a seq", "unclear", {}],
    ["read with neither after nor cursor", "read", { e: "abc" }],
    ["read with a negative after", "read", { e: "abc", after: -5 }],
  ])("%s gets an invalid error", async (_, event, payload) => {
    expect(await attacker.raw(event, payload)).toMatchObject({ ok: false, code: "invalid" });
  });

  test("an edit that does not fit its element's kind is refused whole, naming the patch", async () => {
    const [note, line] = [makeLine({ t: "n", sw: 16, d: encodeText("note") }), makeLine()];
    expect(await attacker.add(note)).toMatchObject({ ok: true });
    expect(await attacker.add(line)).toMatchObject({ ok: true });
    expect(
      await attacker.edit([
        [line.id, { x: 5 }],
        [note.id, { sw: 2 }],
      ]),
    ).toEqual({ ok: false, code: "invalid", error: "x.1.1.sw: must be a font size from 8 to 256" });
    expect(await attacker.edit([[line.id, { d: encodeText("text") }]])).toMatchObject({
      ok: false,
      error: "x.0.1.d: only text and notes have text to edit",
    });
  });

  test("events without an ack callback, malformed cursors, and unknown events are ignored without harm", async () => {
    attacker.socket.emit("add", { garbage: true } as never, undefined as never);
    (attacker.socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit("drop_table", { all: true });
    attacker.socket.emit("cursor", { x: -1.5, y: "up" } as never);
    attacker.socket.emit("cursor", { x: COORD_LIMIT + 1, y: 0 });
    attacker.socket.emit("join", { pv: 2, board: BOARD.board } as never, 42 as never);
    // The connection is still usable afterwards (once the ack-less join's read is done: one read at a time).
    await eventually("a join to succeed", async () => (await attacker.join(BOARD)).ok);
  });

  test("a full board refuses new elements with board_full, and a refused add takes no seq", async () => {
    const full = editableBoard();
    expect(await attacker.join(full)).toMatchObject({ ok: true });
    for (let i = 1; i <= 5; i += 1) expect(await attacker.add(makeLine())).toEqual({ ok: true, s: i, e: anyString() });
    const refused = await attacker.add(makeLine());
    expect(refused).toMatchObject({ ok: false, code: "board_full", error: stringMatching(/5 elements/) });
    // The next accepted operation is seq 6.
    expect(await attacker.clear()).toEqual({ ok: true, s: 6, e: anyString() });
  });

  test("a burst over the rate limit gets rate_limited acks, and the connection recovers as tokens refill", async () => {
    // Let the bucket fill up after the previous tests.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const started = performance.now();
    const acks = await Promise.all(Array.from({ length: 400 }, () => attacker.raw("erase", { ids: [newElementId()] })));
    const seconds = (performance.now() - started) / 1000;
    const limited = acks.filter((ack) => (ack as { code?: string }).code === "rate_limited");
    // The burst of 200 passes, plus what refills at 100 per second while the burst is being served.
    expect(acks.length - limited.length).toBeGreaterThanOrEqual(200);
    expect(acks.length - limited.length).toBeLessThanOrEqual(200 + Math.ceil(100 * seconds));
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toEqual({
      ok: false,
      code: "rate_limited",
      error: "more than 100 events per second; slow down",
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await attacker.join(BOARD)).toMatchObject({ ok: true });
  });
});

test("a message over MAX_MESSAGE_BYTES closes only the sender's connection", async () => {
  const oversize = await connectClient(topology.instance(0).url);
  expect(await oversize.join(BOARD)).toMatchObject({ ok: true });
  const closed = new Promise<string>((resolve) => oversize.socket.once("disconnect", resolve));
  oversize.socket.emit("add", { ...makeLine(), c: "x".repeat(30_000) }, () => undefined);
  expect(await closed).toBe("transport close");
  await expectStillServing();
});
