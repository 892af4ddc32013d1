/**
 * The client session against three real instances and real Redis: gaps from out-of-order delivery fill by themselves
 * without a read, an element stored without a broadcast is recovered through `head`, an erase shows at once, clears
 * are heard once each, names change without a new connection, a view-only link writes nothing, and a Redis restart
 * that lost nothing costs a page no snapshot. (test/client/session-logic.test.ts covers the same logic with fakes.)
 */
import pino from "pino";
import type { ClearOp, SessionListeners } from "../../client/core/session-api";
import type { WhiteboardSession } from "../../client/core/session";
import { Topology } from "../../local/topology";
import type { CursorUpdate } from "../../protocol/events";
import { userIdOf } from "../../service/identity";
import { createRedisConnections, type RedisConnections } from "../../service/redis";
import { RedisBoardStore } from "../../service/store/redis-board-store";
import { converge, openSession, readStored, ScriptedUser } from "../support/scripted-user";
import { editableBoard, eventually, makeUser } from "../support/socket-client";

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
async function joined(
  instance: number,
  board: { board: string; edit?: string },
  listeners: SessionListeners = {},
  user = makeUser(),
): Promise<WhiteboardSession> {
  const session = openSession(topology.instance(instance).url, board.board, { ...board, user }, listeners);
  sessions.push(session);
  await eventually("the session to join", () => session.status === "connected");
  return session;
}

function user(instance: number, board: { board: string; edit: string }): ScriptedUser {
  const created = new ScriptedUser(topology.instance(instance).url, board.board, board.edit);
  users.push(created);
  return created;
}

test("lines from drawers on different instances arrive out of order, and the watcher never needs to read a gap", async () => {
  const board = editableBoard();
  const drawers = [user(0, board), user(1, board)];
  const watcher = user(2, board);
  drawers.forEach((drawer) => drawer.startDrawing({ samples: 30, sampleMs: 8, pauseMs: 0 }));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await Promise.all(drawers.map((drawer) => drawer.stopDrawing()));
  const { stored } = await converge(users, topology.instance(0).url, board.board);

  // Each line one element, however many appends it took.
  const drawn = drawers.reduce((sum, drawer) => sum + drawer.linesDrawn, 0);
  expect(drawn).toBeGreaterThan(5);
  expect(stored.length).toBe(drawn);
  expect(watcher.session.gapReads).toBe(0);
});

test("an element stored without a broadcast (as when an instance dies between the two) reaches clients through head", async () => {
  const board = editableBoard();
  const drawer = user(0, board);
  const watcher = user(1, board);
  // The board exists (it has an epoch) once someone drew on it.
  drawer.session.begin([100, 100, 0], { c: "#000000", sw: 2 });
  drawer.session.end();
  await eventually("both to hold the first line", () => watcher.ids().length === 1 && drawer.idle);
  // The instances' store generation is Redis's replication id: the same here, so the board keeps its epoch.
  const store = new RedisBoardStore(redis.commands, STORE_LIMITS, {
    generation: async () => /^master_replid:(\w+)/m.exec(await redis.commands.info("replication"))?.[1] ?? "-",
  });
  const id = "orphan-element-0001";
  const element = { id, t: "r" as const, b: [0, 0, 10, 10] as [number, number, number, number], c: "#000000", sw: 2 };
  await store.draw(board.board, [{ kind: "add", user: userIdOf("someone"), element: { ...element, f: "", d: "" } }]);

  await eventually("the watcher to hold the orphan element", () => watcher.ids().includes(id), 10_000);
  // Through a read: the gap `head` showed (or, when the machine is loaded enough that the connection was replaced
  // meanwhile, the rejoin's catch-up).
  expect(watcher.session.gapReads + watcher.session.reconnects).toBeGreaterThanOrEqual(1);
});

test("erase hides an element the page shows at once, before the store answers, then everywhere", async () => {
  const board = editableBoard();
  const drawer = await joined(0, board);
  const eraser = await joined(1, board);
  drawer.begin([500, 500, 0], { c: "#000000", sw: 3 });
  const [id] = drawer.end() as [string];
  await eventually("the eraser's page to show the line", () => eraser.element(id) !== undefined);

  eraser.erase([id]);
  expect(eraser.element(id)).toBeUndefined();
  await eventually("the drawer's page to see it erased", () => !drawer.board.isVisible(id));
  expect(drawer.board.versionOf(id)).toBe(1);
});

test("every page hears of a clear and of its undoing, once each", async () => {
  const board = editableBoard();
  const heard: ClearOp[][] = [[], []];
  const [first, second] = await Promise.all(
    [0, 2].map((instance, index) => joined(instance, board, { onClear: (op) => heard[index]?.push(op) })),
  );
  first!.begin([700, 700, 0], { c: "#000000", sw: 3 });
  first!.end();
  await eventually("the line to be stored", () => first!.pendingWrites === 0);

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
  const board = editableBoard();
  const seen: CursorUpdate[] = [];
  const me = makeUser();
  const mover = await joined(0, board, {}, me);
  await joined(1, board, { onCursors: (cursors) => seen.push(...cursors) });
  const connections = mover.reconnects;

  mover.setUser({ ...me, name: "Renamed", color: "#123456" });
  await eventually("a cursor with the new name", () => {
    mover.cursor([1_000, 2_000]);
    return seen.some((cursor) => cursor.n === "Renamed" && cursor.c === "#123456" && cursor.u === mover.you?.id);
  });
  expect(mover.reconnects).toBe(connections);
  expect(() => mover.setUser({ ...me, key: makeUser().key })).toThrow(/keeps its user key/);
});

test("the view-only link: the page is told, and nothing it draws reaches the board", async () => {
  const board = editableBoard();
  const editor = await joined(0, board);
  editor.begin([10, 10, 0], { c: "#000000", sw: 2 });
  editor.end();
  const notices: string[] = [];
  const viewer = await joined(1, { board: board.board }, { onNotice: (notice) => notices.push(notice.kind) });
  expect(viewer.you?.edit).toBe(false);
  expect(notices).toEqual(["view_only"]);
  expect(viewer.begin([20, 20, 0], { c: "#000000", sw: 2 })).toBeUndefined();
  expect((await viewer.clear()).ok).toBe(false);
  await eventually("the editor's line to be stored", () => editor.pendingWrites === 0);
  expect((await readStored(topology.instance(2).url, board.board)).length).toBe(1);
});

test("a Redis restart that lost nothing: a new epoch, and the open pages read only what followed, no snapshot", async () => {
  const board = editableBoard();
  const drawer = user(0, board);
  const watcher = user(1, board);
  drawer.startDrawing({ samples: 6, sampleMs: 8, pauseMs: 20 });
  await new Promise((resolve) => setTimeout(resolve, 800));
  await drawer.stopDrawing();
  await converge(users, topology.instance(0).url, board.board);
  const epoch = watcher.session.board.epoch;
  const snapshots = [drawer.session.snapshots, watcher.session.snapshots];

  // A graceful stop flushes the append-only file: everything comes back, under a new replication id.
  await topology.redis.stop();
  await topology.redis.start();
  drawer.startDrawing({ samples: 6, sampleMs: 8, pauseMs: 20 });
  await new Promise((resolve) => setTimeout(resolve, 800));
  await drawer.stopDrawing();
  await converge(users, topology.instance(0).url, board.board, 60_000);

  expect(watcher.session.board.epoch).not.toBe(epoch);
  expect([drawer.session.epochChanges, watcher.session.epochChanges]).toEqual([1, 1]);
  expect([drawer.session.snapshots, watcher.session.snapshots]).toEqual(snapshots);
  expect(drawer.recoveries).toEqual([]);
}, 90_000);

/** Limits for the test's own store, which only adds one element. */
const STORE_LIMITS = {
  maxElements: 100,
  maxBytes: 1_000_000,
  appendReserveBytes: 10_000,
  maxLineBytes: 16_384,
  pageBytes: 16_384,
  logBytes: 262_144,
  readBytes: 1_048_576,
  idleTtlSeconds: 60,
  clearIntervalMs: 0,
  undoClearMs: 0,
};
