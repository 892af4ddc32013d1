/**
 * The client session against three real instances: gaps from out-of-order delivery fill by themselves
 * without a rejoin, and a stroke whose broadcast was lost is recovered through `head`.
 */
import pino from "pino";
import { Topology } from "../../local/topology";
import { createRedisConnections, type RedisConnections } from "../../service/redis";
import { strokeBody } from "../../service/store/board-store";
import { RedisBoardStore } from "../../service/store/redis-board-store";
import { converge, ScriptedUser } from "../support/scripted-user";
import { eventually, makeStroke } from "../support/socket-client";

let topology: Topology;
let redis: RedisConnections;
const users: ScriptedUser[] = [];

beforeAll(async () => {
  topology = await Topology.start({ instances: 3 });
  redis = createRedisConnections(topology.redis.clientConfig, pino({ level: "silent" }));
  await redis.connect();
});

afterEach(() => {
  for (const user of users.splice(0)) user.close();
});

afterAll(async () => {
  await redis?.close();
  await topology?.stop();
});

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
  expect(watcher.session.gapRejoins).toBe(1);
});
