/**
 * When Redis loses writes (docs/protocol.md, "Epochs"), done for real: a Standard-tier pair whose replication link is
 * cut before a failover (local/standard-tier.ts: the primary acknowledged writes the promoted replica never got), a
 * Basic-tier stand-in without persistence that restarts empty, and one that restarts from an RDB snapshot taken
 * before the last writes (Memorystore's RDB persistence). Scripted users (the browser client's own session) draw
 * lines through the front on three instances; before the loss one of them erases lines and another clears the board,
 * and the loss takes those with it. In one scenario a page is offline through the loss (its network cut) and heals
 * seconds after the others, drawing all along.
 *
 * Each scenario ends with every user holding exactly the store's board, the store holding every element any user
 * held, every acknowledged element stored and visible unless the erase or the clear removed it, nothing the erase or
 * the clear removed back on the board, and no page showing an element disappear or a removed one come back at any
 * moment after the loss (sampled every 20 ms, what the page draws: the board with its unacknowledged writes on top).
 * With REDIS_WAIT_REPLICAS=1 a failover loses nothing acknowledged while the link is healthy; with the link cut, WAIT
 * times out, the writes are acknowledged anyway and healing restores them.
 *
 * Protocol 2: a line is one element, so what protocol 1 counted in chunks is counted in elements. Pages no longer hide
 * again what a store brought back (protocol 1's "re-hidden"): a page sends back what it knew with the version it knew,
 * and the store decides (docs/store.md, "Epochs and healing").
 */
import { scrape } from "../../local/metrics-reader";
import { waitFor } from "../../local/ports";
import type { RedisServer } from "../../local/redis-server";
import { StandardTierRedis } from "../../local/standard-tier";
import { TcpRelay } from "../../local/tcp-relay";
import { Topology, type TopologyOptions } from "../../local/topology";
import { converge, ScriptedUser } from "../support/scripted-user";
import { editableBoard } from "../support/socket-client";

const USERS = 9;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let topology: Topology | undefined;
let tier: StandardTierRedis | undefined;
let relay: TcpRelay | undefined;
let users: ScriptedUser[] = [];

afterEach(async () => {
  for (const user of users.splice(0)) user.close();
  await relay?.close();
  await topology?.stop();
  await tier?.stop();
  topology = undefined;
  tier = undefined;
  relay = undefined;
});

interface Figures {
  scenario: string;
  linesDrawn: number;
  /** Distinct elements acknowledged to their author. */
  elementsAcked: number;
  /** Socket.IO reconnects of all users together (the loss itself cuts no client connection). */
  reconnects: number;
  /** Elements held by some user when the store lost writes, and those of them the store no longer had. */
  held: number;
  lost: number;
  /** Of the lost, those acknowledged to their author. */
  ackedLost: number;
  /** Lost elements back in the store (visible, or hidden as they were) once every page converged. */
  healed: number;
  /** Elements the users sent back, all together (several pages send the same element; ids make it idempotent). */
  sentBack: number;
  /** Snapshots the pages read after the loss (a page that held more than the new history reads one aside). */
  snapshotsRead: number;
  /** From the store serving again (for an offline page: its network back) until the last page was live on the new epoch. */
  recoveredSeconds: number;
  /** From the end of drawing until every page held exactly the store's board. */
  convergeSeconds: number;
}
const figures: Figures[] = [];

afterAll(() => {
  const rows = figures.map(
    (f) =>
      `| ${f.scenario} | ${f.linesDrawn} | ${f.elementsAcked} | ${f.reconnects} | ${f.held} | ${f.lost} | ${f.ackedLost} | ${f.healed} | ${f.sentBack} | ${f.snapshotsRead} | ${f.recoveredSeconds.toFixed(2)} | ${f.convergeSeconds.toFixed(1)} |`,
  );
  console.log(
    [
      "| scenario | lines drawn | elements acked | reconnects | elements held | lost | acked lost | healed | sent back | snapshots read | pages recovered after (s) | converged after drawing (s) |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n"),
  );
});

/** Element ids stored on a board in any state (visible or hidden), read from Redis directly: its id index. */
async function storedIds(server: RedisServer, board: string): Promise<Set<string>> {
  const ids = (await server.command(["HKEYS", `w2:{${board}}:i`])) as string[];
  // `_` is the placeholder every hash of a board is made with (docs/store.md), not an element.
  return new Set(ids.filter((id) => id !== "_"));
}

/**
 * Samples, every few milliseconds, what each page shows (`elements()`: the board with the page's unacknowledged
 * writes on top, as the browser draws it) and when each page is live on a new epoch. Nothing in these scenarios erases
 * after the loss, so an element shown must never disappear (a lost element blinking out while the page re-reads the
 * board, a user's own line between its acknowledgement and its broadcast), and nothing the erase or the clear removed
 * may ever be shown again.
 */
class PageWatch {
  /** Elements that disappeared from a page: for how long (ms), or for good (Infinity). */
  readonly vanished: { user: number; id: string; ms: number }[] = [];
  /** Removed elements a page showed again. */
  readonly resurrected: { user: number; id: string }[] = [];
  /** When each page was first live (connected) on an epoch other than the one it held when the watch began. */
  readonly onNewEpochAt: (number | undefined)[];
  private readonly epochs: (string | undefined)[];
  private readonly shown = users.map(() => new Set<string>());
  private readonly gone = users.map(() => new Map<string, number>());
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly removed: ReadonlySet<string>,
    everyMs = 20,
  ) {
    this.epochs = users.map((user) => user.session.board.epoch);
    this.onNewEpochAt = users.map(() => undefined);
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
    this.gone.forEach((gone, user) => gone.forEach((_, id) => this.vanished.push({ user, id, ms: Infinity })));
  }

  private sample(): void {
    const now = Date.now();
    users.forEach((user, index) => {
      const { session } = user;
      if (
        this.onNewEpochAt[index] === undefined &&
        session.status === "connected" &&
        session.board.epoch !== this.epochs[index]
      )
        this.onNewEpochAt[index] = now;
      const before = this.shown[index] as Set<string>;
      const gone = this.gone[index] as Map<string, number>;
      const shown = new Set(session.elements().map((element) => element.i));
      for (const id of before) if (!shown.has(id) && !gone.has(id)) gone.set(id, now);
      for (const [id, since] of gone) {
        if (!shown.has(id)) continue;
        gone.delete(id);
        this.vanished.push({ user: index, id, ms: now - since });
      }
      for (const id of shown) {
        before.add(id);
        if (this.removed.has(id) && !this.resurrected.some((entry) => entry.user === index && entry.id === id))
          this.resurrected.push({ user: index, id });
      }
    });
  }
}

/** Erases three lines (user 0), then clears the board (user 1), each acknowledged; returns every id they hid. */
async function eraseThenClear(): Promise<Set<string>> {
  const [eraser, clearer] = users as [ScriptedUser, ScriptedUser];
  const targets = eraser.session.board
    .elements()
    .slice(-3)
    .map((record) => record.i);
  expect(targets).toHaveLength(3);
  eraser.session.erase(targets);
  // Stored once another page (on whatever instance) sees them hidden: pages hear only of what is stored.
  await waitFor(
    "the erase to reach another page",
    () => targets.every((id) => !clearer.session.board.isVisible(id)),
    5_000,
  );
  const ack = await clearer.session.clear();
  if (!ack.ok) throw new Error(`clear refused: ${ack.error}`);
  await waitFor("the clear to reach its page", () => clearer.session.board.watermark >= ack.s, 5_000);
  const { board } = clearer.session;
  const removed = new Set([...board.records()].filter((record) => !board.isVisible(record.i)).map(({ i }) => i));
  for (const id of targets) expect(removed.has(id)).toBe(true);
  return removed;
}

interface Store {
  name: string;
  topology: Pick<TopologyOptions, "redisEnv" | "redisOptions">;
  /** Where the board lives now. */
  server(): RedisServer;
  /** Just after the users start drawing. */
  beforeLoss?(): Promise<void> | void;
  /** Loses writes; returns the ids the store has when it serves again, before any page could heal it. */
  lose(board: string): Promise<Set<string>>;
  /** Awaited before the pages are expected to converge. */
  afterLoss?(): Promise<void>;
}

interface ScenarioOptions {
  env?: Record<string, string>;
  eraseAndClear: boolean;
  /**
   * The last user's page is offline through the loss: its network is cut 1 s before it (it goes on drawing), and
   * back this long after the store serves again, once the other pages have healed.
   */
  offlineForMs?: number;
}

async function lossScenario(store: Store, options: ScenarioOptions) {
  const running = await Topology.start({
    instances: 3,
    ...store.topology,
    env: { CLEAR_INTERVAL_SECONDS: "0", ...options.env },
    front: { port: 0 },
  });
  topology = running;
  const { board, edit } = editableBoard();
  const offline = options.offlineForMs !== undefined;
  if (offline) relay = await TcpRelay.listen({ port: Number(new URL(running.url).port) });
  users = Array.from(
    { length: USERS },
    (_, index) =>
      new ScriptedUser(offline && index === USERS - 1 ? `http://127.0.0.1:${relay?.port}` : running.url, board, edit),
  );
  await waitFor("every user to join", () => users.every((user) => user.session.status === "connected"), 10_000);
  users.forEach((user) => user.startDrawing());

  await sleep(1_000);
  await store.beforeLoss?.();
  await sleep(500);
  const removed = options.eraseAndClear ? await eraseThenClear() : new Set<string>();
  await sleep(1_000);
  const late = users[USERS - 1] as ScriptedUser;
  const ackedOnline = new Set(late.acked.keys());
  if (offline) {
    // No route to the service: the open connection breaks and new ones never complete, as on a train in a tunnel.
    relay?.partition();
    relay?.cutAll();
    await sleep(1_000);
  }

  // What the pages hold when the store loses writes.
  const heldVisible = new Set(users.flatMap((user) => user.ids()));
  const held = new Set(users.flatMap((user) => [...user.session.board.records()].map((record) => record.i)));
  const acked = new Set(users.flatMap((user) => [...user.acked.keys()]));
  const snapshotsBefore = users.reduce((sum, user) => sum + user.session.snapshots, 0);
  // WAITs that ended short of the replicas asked for, until now.
  const snapshots = await Promise.all(running.instances.map((instance) => scrape(instance.metricsUrl)));
  const shortfalls = snapshots.reduce(
    (sum, snapshot) => sum + snapshot.sum("whiteboard_replica_wait_shortfalls_total"),
    0,
  );
  const watch = new PageWatch(removed);
  const survivors = await store.lose(board);
  const backAt = Date.now();
  let reachableAt = users.map(() => backAt);
  if (offline) {
    await sleep(options.offlineForMs as number);
    relay?.heal();
    reachableAt = users.map((_, index) => (index === USERS - 1 ? Date.now() : backAt));
  }

  await sleep(2_500);
  await store.afterLoss?.();
  await Promise.all(users.map((user) => user.stopDrawing()));
  const { stored, seconds } = await converge(users, running.url, board);
  watch.stop();

  const final = await storedIds(store.server(), board);
  const visible = new Set(stored.map((record) => record.i));
  const lost = [...held].filter((id) => !survivors.has(id));
  const everAcked = new Set(users.flatMap((user) => [...user.acked.keys()]));
  const result: Figures = {
    scenario: store.name,
    linesDrawn: users.reduce((sum, user) => sum + user.linesDrawn, 0),
    elementsAcked: everAcked.size,
    reconnects: users.reduce((sum, user) => sum + user.session.reconnects, 0),
    held: held.size,
    lost: lost.length,
    ackedLost: [...acked].filter((id) => !survivors.has(id)).length,
    healed: lost.filter((id) => final.has(id)).length,
    sentBack: users.reduce(
      (sum, user) => sum + user.recoveries.reduce((total, recovery) => total + recovery.restored, 0),
      0,
    ),
    snapshotsRead: users.reduce((sum, user) => sum + user.session.snapshots, 0) - snapshotsBefore,
    recoveredSeconds:
      Math.max(...users.map((_, index) => (watch.onNewEpochAt[index] ?? Infinity) - (reachableAt[index] as number))) /
      1000,
    convergeSeconds: seconds,
  };
  figures.push(result);
  console.log(`${store.name}: ${JSON.stringify(result)}`);
  // Every page noticed that the store lost writes (or may have), and was live on the new epoch (having read what it
  // missed, or the new history aside and healed it) within one heartbeat (`head`, 5 s) of reaching the store again,
  // however long the backoff it had grown during the outage.
  for (const user of users) expect(user.session.epochChanges).toBeGreaterThanOrEqual(1);
  expect(result.recoveredSeconds).toBeLessThan(5);
  // Every element any page held is back in the store, and every one a page showed is visible there...
  expect(lost.filter((id) => !final.has(id))).toEqual([]);
  expect([...heldVisible].filter((id) => !visible.has(id))).toEqual([]);
  // ...as is every element ever acknowledged, but for what the erase and the clear removed, which stays removed.
  expect([...everAcked].filter((id) => !removed.has(id) && !visible.has(id))).toEqual([]);
  expect([...removed].filter((id) => visible.has(id))).toEqual([]);
  // No page showed an element disappear, its own or another's, nor anything the erase or the clear removed.
  if (watch.vanished.length > 0) {
    const longest = Math.max(...watch.vanished.map((entry) => entry.ms));
    console.log(
      `elements that disappeared from a page: ${watch.vanished.length}, on ${new Set(watch.vanished.map((entry) => entry.user)).size} pages, the longest for ${longest} ms`,
    );
  }
  expect(watch.vanished).toEqual([]);
  expect(watch.resurrected).toEqual([]);
  const notices = users.flatMap((user) =>
    user.notices.map((notice) => `${notice.kind}: ${notice.message} ${notice.ids.join()}`),
  );
  if (notices.length > 0) console.log(`notices: ${notices.join("; ")}`);
  expect(users.reduce((sum, user) => sum + user.refused, 0)).toBe(0);
  // Elements the last page had acknowledged once it was back (with `offlineForMs`: drawn offline, or after).
  const offlineAcks = [...late.acked.keys()].filter((id) => !ackedOnline.has(id)).length;
  return { result, removed, shortfalls, offlineAcks };
}

/**
 * A Standard-tier pair behind one address; the loss is a failover, after `partition` (or not) of the replication link.
 * With `newReplica`, the promoted primary gets a replica again right after, as Memorystore gives it one.
 */
function failover(name: string, partition: boolean, newReplica = false): Store & { tier: () => StandardTierRedis } {
  const current = () => tier as StandardTierRedis;
  let replicaBack: Promise<unknown> = Promise.resolve();
  return {
    afterLoss: async () => {
      await replicaBack;
    },
    name,
    topology: { redisEnv: current().serviceEnv },
    tier: current,
    server: () => current().primary,
    beforeLoss: () => {
      if (partition) current().partitionReplication();
    },
    async lose(board) {
      await current().killPrimary();
      await sleep(500);
      const promoted = await current().promoteReplica();
      // Read before the address moves: no instance can reach the promoted replica yet.
      const survivors = await storedIds(promoted, board);
      current().moveAddress();
      if (newReplica) replicaBack = current().addReplica();
      return survivors;
    },
  };
}

/**
 * The Basic-tier stand-in without an append-only file. With `snapshot`, it saves an RDB snapshot (SAVE) just after
 * the users start drawing, and the loss is a crash (SIGKILL) and a restart from that file, 1 s later: what Memorystore
 * with RDB persistence comes back with. Without, it restarts with nothing.
 */
function basicTier(name: string, snapshot: boolean): Store {
  const server = () => (topology as Topology).redis;
  return {
    name,
    topology: { redisOptions: { persistence: false } },
    server,
    beforeLoss: async () => {
      if (snapshot) await server().command(["SAVE"]);
    },
    async lose(board) {
      if (snapshot) await server().kill();
      else await server().stop();
      await sleep(1_000);
      await server().start();
      return storedIds(server(), board);
    },
  };
}

test("failover after the replication link was cut: the pages restore what the promoted replica lacks", async () => {
  tier = await StandardTierRedis.start();
  const { result, removed } = await lossScenario(failover("failover, replication cut 2.5 s before", true), {
    eraseAndClear: true,
  });
  // The failover really lost acknowledged writes, the erase and the clear among them.
  expect(result.ackedLost).toBeGreaterThan(0);
  expect(removed.size).toBeGreaterThan(3);
  expect(result.healed).toBe(result.lost);
}, 60_000);

test("restart without persistence (a Basic tier after maintenance): the store comes back empty and the pages refill it", async () => {
  const { result } = await lossScenario(basicTier("restart without persistence, down 1 s", false), {
    eraseAndClear: true,
  });
  expect(result.lost).toBeGreaterThan(result.held * 0.9);
  expect(result.healed).toBe(result.lost);
}, 60_000);

test("restart from an older RDB snapshot: the store comes back as it was seconds earlier, without the erase and the clear, and the pages restore the rest", async () => {
  const { result, removed } = await lossScenario(basicTier("restart from an RDB snapshot ~3 s old, down 1 s", true), {
    eraseAndClear: true,
  });
  // Some of what the pages held survived in the snapshot, and some was lost with the erase and the clear.
  expect(result.lost).toBeGreaterThan(0);
  expect(result.lost).toBeLessThan(result.held);
  expect(result.ackedLost).toBeGreaterThan(0);
  expect(removed.size).toBeGreaterThan(3);
  expect(result.healed).toBe(result.lost);
}, 60_000);

test("a page offline through a restart from an older RDB snapshot, drawing all along, catches up when it is back 4 s later and its lines are stored", async () => {
  const { result, offlineAcks } = await lossScenario(
    basicTier("restart from an RDB snapshot, one page offline through it", true),
    { eraseAndClear: true, offlineForMs: 4_000 },
  );
  expect(result.healed).toBe(result.lost);
  const late = users[USERS - 1] as ScriptedUser;
  // It came back to a new epoch whose history lacked what it held: it read that history aside (never showing the
  // store's board without what it held: the page watch), then sent what it drew offline, stored and visible.
  expect(late.session.reconnects).toBeGreaterThanOrEqual(1);
  expect(late.session.epochChanges).toBeGreaterThanOrEqual(1);
  expect(late.session.snapshots).toBeGreaterThanOrEqual(2);
  expect(offlineAcks).toBeGreaterThan(0);
}, 60_000);

test("REDIS_WAIT_REPLICAS=1 with a healthy replication link: a failover loses nothing acknowledged, and nothing needs healing", async () => {
  tier = await StandardTierRedis.start();
  // A timeout no replica on a loaded test machine reaches: the claim is about a WAIT that did not time out. Without
  // a replica every write would wait that long: the promoted primary gets one, as Memorystore gives it one.
  const { result, shortfalls } = await lossScenario(
    failover("failover with REDIS_WAIT_REPLICAS=1, link healthy", false, true),
    {
      env: { REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "3000" },
      eraseAndClear: false,
    },
  );
  expect(shortfalls).toBe(0);
  expect(result.ackedLost).toBe(0);
  expect(result.lost).toBe(0);
  expect(result.sentBack).toBe(0);
  // Nothing lost, nothing re-read: each page held no more than the new history's base and read only what followed.
  expect(result.snapshotsRead).toBe(0);
}, 60_000);

test("REDIS_WAIT_REPLICAS=1 with the link cut: WAIT times out, writes are acknowledged anyway, and healing restores them", async () => {
  tier = await StandardTierRedis.start();
  const store = failover("failover with REDIS_WAIT_REPLICAS=1, link cut", true);
  let ackedAtCut = new Set<string>();
  store.beforeLoss = () => {
    ackedAtCut = new Set(users.flatMap((user) => [...user.acked.keys()]));
    store.tier().partitionReplication();
  };
  const { result, shortfalls } = await lossScenario(store, {
    env: { REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "100" },
    eraseAndClear: false,
  });
  console.log(`WAIT shortfalls before the failover: ${shortfalls}`);
  expect(shortfalls).toBeGreaterThan(0);
  // Acknowledged during the cut, though the replica never got them: the failover lost them, and the pages healed them.
  expect(result.ackedLost).toBeGreaterThan(0);
  expect(users.every((user) => [...user.acked.keys()].some((id) => !ackedAtCut.has(id)))).toBe(true);
  expect(result.healed).toBe(result.lost);
}, 60_000);
