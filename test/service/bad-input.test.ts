/**
 * Malformed, hostile and excessive input: each gets its error, and the instance keeps serving everyone else.
 */
import { Topology } from "../../local/topology";
import { connectClient, eventually, makeStroke, type TestClient } from "../support/socket-client";

const LIMITS = {
  MAX_POINTS_PER_STROKE: "100",
  MAX_MESSAGE_BYTES: "20000",
  MAX_STROKES_PER_BOARD: "5",
  RATE_LIMIT_PER_SECOND: "20",
  RATE_LIMIT_BURST: "40",
};

let topology: Topology;
let attacker: TestClient;
let bystander: TestClient;
let watcher: TestClient;
const BOARD = `bad-input-${process.pid}`;

beforeAll(async () => {
  topology = await Topology.start({ instances: 2, env: LIMITS });
  attacker = await connectClient(topology.instance(0).url);
  bystander = await connectClient(topology.instance(0).url);
  watcher = await connectClient(topology.instance(1).url);
  await bystander.join({ board: BOARD });
  await watcher.join({ board: BOARD });
});

afterAll(async () => {
  for (const c of [attacker, bystander, watcher]) c?.close();
  await topology?.stop();
});

/** The instance still stores and relays strokes for others, and is still alive and ready. */
async function expectStillServing(): Promise<void> {
  const before = watcher.strokes.length;
  const ack = await bystander.stroke(makeStroke());
  expect(ack).toMatchObject({ ok: true });
  await eventually("the watcher to get the bystander's stroke", () => watcher.strokes.length === before + 1);
  expect((await fetch(`${topology.instance(0).url}/readyz`)).status).toBe(200);
  // The bystander's stroke count is bounded by MAX_STROKES_PER_BOARD: start each check from an empty board.
  expect(await bystander.clear()).toMatchObject({ ok: true });
}

const point = (x: unknown, y: unknown) => [x, y];

test("a stroke before any join is refused with not_joined", async () => {
  expect(await attacker.raw("stroke", makeStroke())).toEqual({ ok: false, code: "not_joined", error: "join a board before drawing" });
  expect(await attacker.raw("clear", {})).toMatchObject({ ok: false, code: "not_joined" });
});

test.each<[string, unknown]>([
  ["no payload", undefined],
  ["a string", "board-1"],
  ["null", null],
  ["a number for board", { board: 42 }],
  ["an empty board id", { board: "" }],
  ["a board id of 65 characters", { board: "b".repeat(65) }],
  ["a board id with a slash", { board: "../etc" }],
  ["a board id with a space", { board: "my board" }],
  ["a negative after", { board: "ok", after: -1 }],
  ["a fractional after", { board: "ok", after: 1.5 }],
  ["NaN as after (sent as null)", { board: "ok", after: NaN }],
  ["a string as after", { board: "ok", after: "3" }],
  ["an unknown field", { board: "ok", admin: true }],
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
    ["points that are not an array", { points: "0.1,0.2" }, "points"],
    ["no points", { points: [] }, "points"],
    ["a point above 1", { points: [point(0.5, 1.5)] }, "points.0.1"],
    ["a negative point", { points: [point(-0.1, 0.5)] }, "points.0.0"],
    ["NaN in a point (sent as null)", { points: [point(NaN, 0.5)] }, "points.0.0"],
    ["Infinity in a point (sent as null)", { points: [point(0.5, Infinity)] }, "points.0.1"],
    ["a string in a point", { points: [point("0.5", 0.5)] }, "points.0.0"],
    ["a point of three numbers", { points: [[0.1, 0.2, 0.3]] }, "points.0"],
    ["more points than the limit", { points: Array.from({ length: 101 }, () => point(0.5, 0.5)) }, "points"],
    ["a colour name", { color: "red" }, "color"],
    ["a short colour", { color: "#12345" }, "color"],
    ["a width of 0", { width: 0 }, "width"],
    ["a width of 65", { width: 65 }, "width"],
    ["a width as a string", { width: "4" }, "width"],
    ["an extra field", { seq: 99 }, "payload"],
  ])("a stroke with %s gets an invalid error naming the field", async (_, change, field) => {
    const ack = await attacker.raw("stroke", { ...makeStroke(), ...change });
    expect(ack).toMatchObject({ ok: false, code: "invalid" });
    expect((ack as { error: string }).error).toMatch(new RegExp(`^${field.replace(/\./g, "\\.")}: `));
  });

  test("a stroke that is not an object gets an invalid error", async () => {
    expect(await attacker.raw("stroke", [1, 2, 3])).toMatchObject({ ok: false, code: "invalid" });
    expect(await attacker.raw("stroke", "x".repeat(1000))).toMatchObject({ ok: false, code: "invalid" });
  });

  test("clear with a non-empty payload gets an invalid error", async () => {
    expect(await attacker.raw("clear", { everything: true })).toMatchObject({ ok: false, code: "invalid" });
  });

  test("events without an ack callback, and unknown events, are ignored without harm", async () => {
    attacker.socket.emit("stroke", { garbage: true } as never, undefined as never);
    (attacker.socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit("drop_table", { all: true });
    attacker.socket.emit("join", { board: BOARD } as never, 42 as never);
    // The connection is still usable afterwards.
    expect(await attacker.join({ board: BOARD })).toMatchObject({ ok: true });
  });

  test("a full board refuses strokes with board_full until it is cleared", async () => {
    const board = `full-${process.pid}`;
    expect(await attacker.join({ board })).toMatchObject({ ok: true });
    for (let i = 1; i <= 5; i += 1) expect(await attacker.stroke(makeStroke())).toEqual({ ok: true, seq: i });
    const refused = await attacker.stroke(makeStroke());
    expect(refused).toEqual({ ok: false, code: "board_full", error: "board full: it holds its maximum of 5 strokes" });
    // A refused stroke takes no seq: the next accepted operation is seq 6.
    expect(await attacker.clear()).toEqual({ ok: true, seq: 6 });
    expect(await attacker.stroke(makeStroke())).toEqual({ ok: true, seq: 7 });
    expect(await attacker.join({ board: BOARD })).toMatchObject({ ok: true });
  });

  test("a burst over the rate limit gets rate_limited acks, and the connection recovers as tokens refill", async () => {
    // Let the bucket fill up after the previous tests.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const started = performance.now();
    const acks = await Promise.all(Array.from({ length: 80 }, () => attacker.raw("join", { board: BOARD })));
    const seconds = (performance.now() - started) / 1000;
    const limited = acks.filter((ack) => (ack as { code?: string }).code === "rate_limited");
    // The burst of 40 passes, plus what refills at 20 per second while the burst is being served.
    expect(acks.length - limited.length).toBeGreaterThanOrEqual(40);
    expect(acks.length - limited.length).toBeLessThanOrEqual(40 + Math.ceil(20 * seconds));
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toEqual({ ok: false, code: "rate_limited", error: "more than 20 events per second; slow down" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await attacker.join({ board: BOARD })).toMatchObject({ ok: true });
  });
});

test("a message over MAX_MESSAGE_BYTES closes only the sender's connection", async () => {
  const oversize = await connectClient(topology.instance(0).url);
  expect(await oversize.join({ board: BOARD })).toMatchObject({ ok: true });
  const closed = new Promise<string>((resolve) => oversize.socket.once("disconnect", resolve));
  oversize.socket.emit("stroke", { ...makeStroke(), color: "x".repeat(30_000) }, () => undefined);
  expect(await closed).toBe("transport close");
  await expectStillServing();
});
