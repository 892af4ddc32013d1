/**
 * Faults of the platform: Redis restarting under live traffic, and Cloud Run stopping an instance
 * (SIGTERM at scale-in). Real processes throughout, users connected through the Cloud Run-like front.
 */
import { Topology } from "../../local/topology";
import { converge, ScriptedUser } from "../support/scripted-user";
import { makeStroke, connectClient } from "../support/socket-client";

let topology: Topology;
let users: ScriptedUser[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status;

beforeEach(async () => {
  topology = await Topology.start({ instances: 3, front: { port: 0 } });
});

afterEach(async () => {
  for (const user of users.splice(0)) user.close();
  await topology?.stop();
});

function startUsers(board: string, count: number): ScriptedUser[] {
  users = Array.from({ length: count }, (_, index) => new ScriptedUser(topology.url, board, `user${index}`));
  return users;
}

function expectEveryAckedStrokeStored(stored: readonly { id: string; seq: number }[]): void {
  const storedSeq = new Map(stored.map((stroke) => [stroke.id, stroke.seq]));
  for (const user of users) {
    for (const [id, seq] of user.acked) expect([id, storedSeq.get(id)]).toEqual([id, seq]);
  }
}

test("Redis restarted mid-session: instances stay up, /readyz goes false then true, strokes flow again, nothing acked is lost", async () => {
  const board = "redis-restart";
  startUsers(board, 6).forEach((user) => user.startDrawing(60));
  await sleep(800);

  await topology.redis.stop();
  const duringOutage = await Promise.all(topology.instances.map((instance) => readyz(instance.url)));
  const probe = await connectClient(topology.instance(0).url);
  await probe.join({ board }).catch(() => undefined);
  const refused = await probe.stroke(makeStroke());
  await sleep(1_000);
  await topology.redis.start();
  await Promise.all(topology.instances.map((instance) => instance.ready()));
  await sleep(800);
  users.forEach((user) => user.stopDrawing());

  const { stored } = await converge(users, topology.url, board);
  probe.close();

  expect(duringOutage).toEqual([503, 503, 503]);
  expect(refused).toMatchObject({ ok: false });
  expect(topology.instances.every((instance) => instance.running)).toBe(true);
  expect(await Promise.all(topology.instances.map((instance) => readyz(instance.url)))).toEqual([200, 200, 200]);
  // Everything drawn was eventually acked (retried through the outage), and every ack is in the store.
  const drawnChunks = users.reduce((sum, user) => sum + user.acked.size, 0);
  expect(drawnChunks).toBe(stored.length);
  expect(users.every((user) => user.session.outbox.size === 0)).toBe(true);
  expectEveryAckedStrokeStored(stored);
  // Strokes made after the restart crossed instances again (pub/sub restored, not only catch-up by join).
  expect(stored.at(-1)?.seq).toBe(stored.length);
});

test("SIGTERM on one instance: it drains within 8 s, its users reconnect to the others and catch up", async () => {
  const board = "scale-in";
  startUsers(board, 6).forEach((user) => user.startDrawing(60));
  await sleep(800);

  const started = Date.now();
  const exit = await topology.stopInstance(1);
  const drainMs = Date.now() - started;
  await sleep(800);
  users.forEach((user) => user.stopDrawing());
  const { stored } = await converge(users, topology.url, board);

  expect(exit).toEqual({ code: 0, signal: null });
  expect(drainMs).toBeLessThan(8_000);
  // Round robin put two users on the stopped instance; both came back through the front.
  expect(users.reduce((sum, user) => sum + user.session.reconnects, 0)).toBeGreaterThanOrEqual(2);
  expectEveryAckedStrokeStored(stored);
  expect(users.every((user) => user.session.outbox.size === 0)).toBe(true);
});
