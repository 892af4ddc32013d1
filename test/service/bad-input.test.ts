/**
 * Malformed, hostile and excessive input: each gets its error, and the instance keeps serving everyone else.
 */
import { BOARD_WIDTH } from "../../protocol/events";
import { encodePoints } from "../../protocol/points";
import { Topology } from "../../local/topology";
import { connectClient, eventually, makeStroke, makeUser, type TestClient } from "../support/socket-client";

const LIMITS = {
  MAX_POINTS_PER_STROKE: "100",
  MAX_MESSAGE_BYTES: "20000",
  MAX_STROKES_PER_BOARD: "5",
  MAX_IDS_PER_CHANGE: "3",
  // Above what the other tests send in a second on one connection, so that only the burst test meets the limit.
  RATE_LIMIT_PER_SECOND: "100",
  RATE_LIMIT_BURST: "200",
  CLEAR_INTERVAL_SECONDS: "0",
  JOINS_PER_SECOND: "1000",
  JOIN_BURST: "1000",
  BOARDS_PER_MINUTE: "1000",
};

let topology: Topology;
let attacker: TestClient;
let watcher: TestClient;
const BOARD = `bad-input-${process.pid}`;

beforeAll(async () => {
  topology = await Topology.start({ instances: 2, env: LIMITS });
  attacker = await connectClient(topology.instance(0).url);
  watcher = await connectClient(topology.instance(1).url);
  await watcher.join({ board: BOARD });
});

afterAll(async () => {
  for (const c of [attacker, watcher]) c?.close();
  await topology?.stop();
});

/** The instance still accepts connections, stores and relays strokes for others, and is still alive and ready. */
async function expectStillServing(): Promise<void> {
  // A new bystander each time: one connection's rate limit would not last the whole suite.
  const bystander = await connectClient(topology.instance(0).url);
  try {
    expect(await bystander.join({ board: BOARD })).toMatchObject({ ok: true });
    const stroke = makeStroke();
    expect(await bystander.stroke(stroke)).toMatchObject({ ok: true });
    await eventually("the watcher to get the bystander's stroke", () =>
      watcher.ops.some((op) => op.t === "s" && op.r[3] === stroke.id),
    );
    expect((await fetch(`${topology.instance(0).url}/readyz`)).status).toBe(200);
    // The board holds at most MAX_STROKES_PER_BOARD: start each check from an empty board.
    expect(await bystander.clear()).toMatchObject({ ok: true });
  } finally {
    bystander.close();
  }
}

test("writes and reads before any join are refused with not_joined", async () => {
  expect(await attacker.raw("stroke", makeStroke())).toEqual({
    ok: false,
    code: "not_joined",
    error: "join a board first",
  });
  for (const [event, payload] of [
    ["clear", {}],
    ["erase", { x: [["a", 1]] }],
    ["unclear", { of: 1 }],
    ["read", { e: "x", after: 0 }],
  ] as const) {
    expect(await attacker.raw(event, payload)).toMatchObject({ ok: false, code: "not_joined" });
  }
});

const user = makeUser();
test.each<[string, unknown]>([
  ["no payload", undefined],
  ["a string", "board-1"],
  ["null", null],
  ["a number for board", { board: 42, user }],
  ["an empty board id", { board: "", user }],
  ["a board id of 65 characters", { board: "b".repeat(65), user }],
  ["a board id with a slash", { board: "../etc", user }],
  ["a board id with a space", { board: "my board", user }],
  ["no user", { board: "ok" }],
  ["a user id of 7 characters", { board: "ok", user: { ...user, id: "1234567" } }],
  ["an empty user name", { board: "ok", user: { ...user, name: "" } }],
  ["a user name of 41 characters", { board: "ok", user: { ...user, name: "n".repeat(41) } }],
  ["a user name with a control character", { board: "ok", user: { ...user, name: "bad\u0007" } }],
  ["a user name with a right-to-left override", { board: "ok", user: { ...user, name: "evil\u202e" } }],
  ["a user colour name", { board: "ok", user: { ...user, color: "red" } }],
  ["a negative after", { board: "ok", user, e: "abc", after: -1 }],
  ["a fractional after", { board: "ok", user, e: "abc", after: 1.5 }],
  ["NaN as after (sent as null)", { board: "ok", user, e: "abc", after: NaN }],
  ["a string as after", { board: "ok", user, e: "abc", after: "3" }],
  ["an epoch with a space", { board: "ok", user, e: "a b", after: 3 }],
  ["an unknown field", { board: "ok", user, admin: true }],
])("join with %s gets an invalid error", async (_, payload) => {
  const ack = await attacker.raw("join", payload);
  expect(ack).toMatchObject({ ok: false, code: "invalid", error: expect.any(String) });
});

describe("after joining", () => {
  beforeAll(async () => {
    expect(await attacker.join({ board: BOARD })).toMatchObject({ ok: true });
  });

  afterEach(expectStillServing);

  test.each<[string, Record<string, unknown>, string]>([
    ["a missing id", { id: undefined }, "id"],
    ["an id with a dot", { id: "a.b" }, "id"],
    ["an id of 65 characters", { id: "i".repeat(65) }, "id"],
    ["points that are not a string", { p: [[1, 2]] }, "p"],
    ["no points", { p: "" }, "p"],
    ["points that are not Base64", { p: "AA!!" }, "p"],
    ["a point off the board", { p: encodePoints([[BOARD_WIDTH + 1, 5]]) }, "p"],
    ["a number cut short", { p: "AAg" }, "p"],
    [
      "more points than the limit",
      { p: encodePoints(Array.from({ length: 101 }, (): [number, number] => [5, 5])) },
      "p",
    ],
    ["a colour name", { c: "red" }, "c"],
    ["a short colour", { c: "#12345" }, "c"],
    ["a width of 0", { w: 0 }, "w"],
    ["a width of 65", { w: 65 }, "w"],
    ["a fractional width", { w: 2.5 }, "w"],
    ["a width as a string", { w: "4" }, "w"],
    ["a negative version", { v: -1 }, "v"],
    ["an author id of 7 characters", { u: "1234567" }, "u"],
    ["an extra field", { s: 99 }, "payload"],
  ])("a stroke with %s gets an invalid error naming the field", async (_, change, field) => {
    const ack = await attacker.raw("stroke", { ...makeStroke(), ...change });
    expect(ack).toMatchObject({ ok: false, code: "invalid" });
    expect((ack as { error: string }).error).toMatch(new RegExp(`^${field.replace(/\./g, "\\.")}: `));
  });

  test("a stroke that is not an object gets an invalid error", async () => {
    expect(await attacker.raw("stroke", [1, 2, 3])).toMatchObject({ ok: false, code: "invalid" });
    expect(await attacker.raw("stroke", "x".repeat(1000))).toMatchObject({ ok: false, code: "invalid" });
  });

  test.each<[string, string, unknown]>([
    ["erase with an even version", "erase", { x: [["a", 2]] }],
    ["restore with an odd version", "restore", { x: [["a", 1]] }],
    ["erase of nothing", "erase", { x: [] }],
    [
      "erase of more strokes than the limit",
      "erase",
      {
        x: [
          ["a", 1],
          ["b", 1],
          ["c", 1],
          ["d", 1],
        ],
      },
    ],
    ["erase with a bad id", "erase", { x: [["a.b", 1]] }],
    ["erase with a huge version", "erase", { x: [["a", 2_000_001]] }],
    ["clear with a payload", "clear", { everything: true }],
    ["unclear of seq 0", "unclear", { of: 0 }],
    ["unclear without a seq", "unclear", {}],
    ["read with neither after nor cursor", "read", { e: "abc" }],
    ["read with a negative after", "read", { e: "abc", after: -5 }],
  ])("%s gets an invalid error", async (_, event, payload) => {
    expect(await attacker.raw(event, payload)).toMatchObject({ ok: false, code: "invalid" });
  });

  test("events without an ack callback, malformed cursors, and unknown events are ignored without harm", async () => {
    attacker.socket.emit("stroke", { garbage: true } as never, undefined as never);
    (attacker.socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit("drop_table", { all: true });
    attacker.socket.emit("cursor", { x: -1, y: "up" } as never);
    attacker.socket.emit("join", { board: BOARD } as never, 42 as never);
    // The connection is still usable afterwards (once the ack-less join's read is done: one read at a time).
    await eventually("a join to succeed", async () => (await attacker.join({ board: BOARD })).ok);
  });

  test("a full board refuses strokes with board_full; a clear makes room", async () => {
    const board = `full-${process.pid}`;
    expect(await attacker.join({ board })).toMatchObject({ ok: true });
    for (let i = 1; i <= 5; i += 1) expect(await attacker.stroke(makeStroke())).toEqual({ ok: true, s: i });
    const refused = await attacker.stroke(makeStroke());
    expect(refused).toMatchObject({
      ok: false,
      code: "board_full",
      error: expect.stringMatching(/maximum of 5 strokes/),
    });
    // A refused stroke takes no seq: the next accepted operation is seq 6.
    expect(await attacker.clear()).toEqual({ ok: true, s: 6 });
    expect(await attacker.stroke(makeStroke())).toEqual({ ok: true, s: 7 });
    expect(await attacker.join({ board: BOARD })).toMatchObject({ ok: true });
  });

  test("a burst over the rate limit gets rate_limited acks, and the connection recovers as tokens refill", async () => {
    // Let the bucket fill up after the previous tests.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const started = performance.now();
    const acks = await Promise.all(
      Array.from({ length: 400 }, () => attacker.raw("erase", { x: [["nothing-here", 1]] })),
    );
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
    expect(await attacker.join({ board: BOARD })).toMatchObject({ ok: true });
  });
});

test("a message over MAX_MESSAGE_BYTES closes only the sender's connection", async () => {
  const oversize = await connectClient(topology.instance(0).url);
  expect(await oversize.join({ board: BOARD })).toMatchObject({ ok: true });
  const closed = new Promise<string>((resolve) => oversize.socket.once("disconnect", resolve));
  oversize.socket.emit("stroke", { ...makeStroke(), c: "x".repeat(30_000) }, () => undefined);
  expect(await closed).toBe("transport close");
  await expectStillServing();
});
