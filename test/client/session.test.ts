/**
 * The client session against three real instances: gaps from out-of-order delivery fill by themselves
 * without a rejoin, and a stroke whose broadcast was lost is recovered through `head`.
 */
import pino from "pino";
import type { ClearOp } from "../../client/core/board-state";
import { WhiteboardSession, type SessionListeners } from "../../client/core/session";
import { Topology } from "../../local/topology";
import type { CursorUpdate } from "../../protocol/events";
import { createRedisConnections, type RedisConnections } from "../../service/redis";
import { strokeBody } from "../../service/store/board-store";
import { RedisBoardStore } from "../../service/store/redis-board-store";
import { converge, ScriptedUser } from "../support/scripted-user";
import { eventually, makeStroke, makeUser } from "../support/socket-client";

let topology: Topology;
let redis: RedisConnections;
const users: ScriptedUser[] = [];
const sessions: WhiteboardSession[] = [];

beforeAll(async () => {
  // Clears may follow each other at once here: the interval between them is the service's business.
  topology = await Topology.start({ instances: 3, env: { CLEAR_INTERVAL_SECONDS: "0" } });
  redis = createRedisConnections(topology.redis.clientConfig, pino({ level: "silent" }));
  await redis.connect();
});

afterEach(() => {
  for (const user of users.splice(0)) user.close();
  for (const session of sessions.splice(0)) session.close();
});

afterAll(async () => {
  await redis?.close();
  await topology?.stop();
});

/** A session with listeners of the test's own, once it has joined. */
async function joined(instance: number, board: string, listeners: SessionListeners = {}): Promise<WhiteboardSession> {
  const session = new WhiteboardSession({ url: topology.instance(instance).url, board, user: makeUser() }, listeners);
  sessions.push(session);
  await eventually("the session to join", () => session.connection === "connected");
  return session;
}

function user(instance: number, board: string): ScriptedUser {
  const created = new ScriptedUser(topology.instance(instance).url, board);
  users.push(created);
  return created;
}

test("strokes from drawers on different instances arrive out of order, and the watcher never needs to rejoin", async () => {
  const board = "reordered";
  const drawers = [user(0, board), user(1, board)];
  const watcher = user(2, board);
  drawers.forEach((drawer) => drawer.startDrawing({ samples: 30, sampleMs: 8, pauseMs: 0 }));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await Promise.all(drawers.map((drawer) => drawer.stopDrawing()));
  const { stored } = await converge(users, topology.instance(0).url, board);

  expect(stored.length).toBeGreaterThan(100);
  expect(watcher.session.gapRejoins).toBe(0);
});

test("a stroke stored without a broadcast (as when an instance dies between the two) reaches clients through head", async () => {
  const board = "lost-broadcast";
  const drawer = user(0, board);
  const watcher = user(1, board);
  // The board exists (it has an epoch) once someone drew on it.
  drawer.session.begin([100, 100], { color: "#000000", width: 2 });
  drawer.session.end();
  await eventually("both to hold the first stroke", () => watcher.ids().length === 1 && drawer.idle);
  const store = new RedisBoardStore(redis.commands, {
    maxStrokes: 100,
    maxBytes: 1_000_000,
    pageBytes: 16_384,
    logBytes: 262_144,
    readBytes: 1_048_576,
    idleTtlSeconds: 60,
    clearIntervalMs: 0,
    undoClearMs: 0,
  });
  const orphan = makeStroke();
  await store.addStrokes(board, "someone", [{ id: orphan.id, v: 0, body: strokeBody(orphan, "someone") }]);

  await eventually("the watcher to hold the orphan stroke", () => watcher.ids().includes(orphan.id), 10_000);
  // Through a read: the gap `head` showed (or, when the machine is loaded enough that the connection was replaced
  // meanwhile, the rejoin's catch-up; the full suite did that once).
  expect(watcher.session.gapRejoins + watcher.session.reconnects).toBeGreaterThanOrEqual(1);
});

test("erase hides a stroke the page holds at once, before the store answers, then everywhere", async () => {
  const board = "erase-at-once";
  const drawer = await joined(0, board);
  let redraws = 0;
  const eraser = await joined(1, board, { onChange: (applied) => (redraws += applied.redraw ? 1 : 0) });
  drawer.begin([500, 500], { color: "#000000", width: 3 });
  const [id] = drawer.end() as [string];
  await eventually("the eraser's page to hold the stroke", () => eraser.board.isVisible(id));

  redraws = 0;
  eraser.erase([[id, 1]]);
  expect(eraser.board.isVisible(id)).toBe(false);
  expect(redraws).toBe(1);
  await eventually("the drawer's page to see it erased", () => !drawer.board.isVisible(id));
  expect(drawer.board.versionOf(id)).toBe(1);
});

test("every page hears of a clear and of its undoing, once each", async () => {
  const board = "clear-heard";
  const heard: ClearOp[][] = [[], []];
  const [first, second] = await Promise.all(
    [0, 2].map((instance, index) => joined(instance, board, { onClear: (op) => heard[index]?.push(op) })),
  );
  first!.begin([700, 700], { color: "#000000", width: 3 });
  first!.end();
  await eventually("the stroke to be stored", () => first!.outbox.size === 0);

  const cleared = await first!.clear();
  if (!cleared.ok) throw new Error(cleared.error);
  const uncleared = await second!.unclear(cleared.s);
  expect(uncleared.ok).toBe(true);
  await eventually("both pages to hear of both", () => heard.every((ops) => ops.length === 2));
  for (const ops of heard)
    expect(ops.map((op) => [op.t, op.t === "u" ? op.of : op.s])).toEqual([
      ["c", cleared.s],
      ["u", cleared.s],
    ]);
});

test("a new name from setUser reaches the others' cursors without a new connection", async () => {
  const board = "renamed";
  const seen: CursorUpdate[] = [];
  const mover = await joined(0, board);
  await joined(1, board, { onCursors: (cursors) => seen.push(...cursors) });
  const connections = mover.reconnects;

  mover.setUser({ ...mover.user, name: "Renamed", color: "#123456" });
  await eventually("a cursor with the new name", () => {
    mover.cursor([1_000, 2_000]);
    return seen.some((cursor) => cursor.n === "Renamed" && cursor.c === "#123456" && cursor.u === mover.user.id);
  });
  expect(mover.reconnects).toBe(connections);
  expect(() => mover.setUser({ ...mover.user, id: "someone-else" })).toThrow(/keeps its user id/);
});
