/**
 * Connection churn: ten addresses open connections in a loop, each joining a board and leaving at once. Every
 * admission takes a token of its address's connection rate (CONNECTIONS_PER_ADDRESS_PER_SECOND), so the instance
 * accepts no more than the addresses' bursts and rates allow, and a board's channel lingers after its last socket
 * left, so Redis sees no more SSUBSCRIBE than boards joined and no SUNSUBSCRIBE for a board that is rejoined
 * meanwhile (INFO commandstats). Client addresses are made on loopback: 127.0.0.0/8 is all local.
 */
import { scrape } from "../../local/metrics-reader";
import { Topology } from "../../local/topology";
import { LINGER_MS } from "../../service/fanout/board-adapter";
import { openRawWebSocket } from "../support/raw-websocket";
import { PROTOCOL_VERSION } from "../../protocol/events";
import { connectClient, editableBoard, eventually, makeUser } from "../support/socket-client";
import { operatorRedis, sleep } from "./support";

const ADDRESSES = 10;
const PER_SECOND = 2;
const BURST = 5;
const ATTACK_SECONDS = 6;
/** Loops per address at once: more than one connection's round trip apart, so that the rate is what holds them. */
const LOOPS = 8;

let topology: Topology;
let redis: Awaited<ReturnType<typeof operatorRedis>>;

beforeAll(async () => {
  topology = await Topology.start({
    instances: 1,
    env: { CONNECTIONS_PER_ADDRESS_PER_SECOND: String(PER_SECOND), CONNECTIONS_PER_ADDRESS_BURST: String(BURST) },
  });
  redis = await operatorRedis(topology.redis);
});

afterAll(async () => {
  redis?.destroy();
  await topology?.stop();
});

async function commandCalls(command: string): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
}

/** A board id (of the service's shape) for each name the attack gives a board: the same name, the same board. */
const boardIds = new Map<string, string>();
const boardId = (name: string) => boardIds.get(name) ?? boardIds.set(name, editableBoard().board).get(name)!;

/** Connects, joins `board(n)` and leaves, again and again from `address`, until `until`: a WebSocket made by hand. */
async function churn(address: string, board: (n: number) => string, until: number) {
  const counts = { accepted: 0, refused: 0 };
  while (Date.now() < until) {
    const ws = await openRawWebSocket(topology.instance(0).url, { localAddress: address, collect: true }).catch(
      () => undefined,
    );
    if (!ws) {
      counts.refused += 1;
      await sleep(20);
      continue;
    }
    counts.accepted += 1;
    const join = { pv: PROTOCOL_VERSION, board: boardId(board(counts.accepted)), user: makeUser() };
    // Socket.IO closes a connection that sends an event before its CONNECT is answered.
    ws.sendFrames(["40"]);
    const answered = (prefix: string) => () => ws.frames.some((frame) => frame.startsWith(prefix));
    await eventually("the CONNECT answer", answered("40{"))
      .then(() => ws.sendFrames([`420["join",${JSON.stringify(join)}]`]))
      .then(() => eventually("the join's answer", answered("430")))
      .catch(() => undefined);
    ws.close();
  }
  return counts;
}

async function attack(board: (address: number, n: number) => string) {
  const before = {
    subscribes: await commandCalls("ssubscribe"),
    unsubscribes: await commandCalls("sunsubscribe"),
    refusals: (await scrape(topology.instance(0).metricsUrl)).sum("whiteboard_connections_refused_total", {
      reason: "address_rate",
    }),
  };
  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: ADDRESSES * LOOPS }, (_, i) =>
      churn(
        `127.0.12.${10 + (i % ADDRESSES)}`,
        (n) => board(i % ADDRESSES, n * LOOPS + Math.floor(i / ADDRESSES)),
        started + ATTACK_SECONDS * 1_000,
      ),
    ),
  );
  const seconds = (Date.now() - started) / 1_000;
  // The instance's unsubscriptions come LINGER_MS after each board's last socket left.
  await sleep(LINGER_MS + 1_000);
  const accepted = results.reduce((sum, result) => sum + result.accepted, 0);
  const refused = results.reduce((sum, result) => sum + result.refused, 0);
  return {
    seconds,
    accepted,
    refused,
    refusalsCounted:
      (await scrape(topology.instance(0).metricsUrl)).sum("whiteboard_connections_refused_total", {
        reason: "address_rate",
      }) - before.refusals,
    subscribes: (await commandCalls("ssubscribe")) - before.subscribes,
    unsubscribes: (await commandCalls("sunsubscribe")) - before.unsubscribes,
  };
}

test("ten addresses looping connections, a new board each: accepted connections within their rates, one SSUBSCRIBE and one SUNSUBSCRIBE per board", async () => {
  const result = await attack((a, n) => `churn-${process.pid}-${a}-${n}`);
  console.log(`churn, a board per connection: ${JSON.stringify(result)}`);
  // Each address: its burst, then its rate.
  expect(result.accepted).toBeLessThanOrEqual(ADDRESSES * (BURST + PER_SECOND * result.seconds));
  expect(result.refused).toBeGreaterThan(0);
  expect(result.refusalsCounted).toBe(result.refused);
  expect(result.subscribes).toBeGreaterThan(0);
  expect(result.subscribes).toBeLessThanOrEqual(result.accepted);
  expect(result.unsubscribes).toBe(result.subscribes);
}, 60_000);

test("ten addresses looping connections to one board each: a board's channel is subscribed once while it is rejoined", async () => {
  const result = await attack((a) => `churn-same-${process.pid}-${a}`);
  console.log(`churn, one board per address: ${JSON.stringify(result)}`);
  expect(result.accepted).toBeLessThanOrEqual(ADDRESSES * (BURST + PER_SECOND * result.seconds));
  expect(result.accepted).toBeGreaterThan(ADDRESSES * BURST);
  // Rejoined well within the linger: subscribed once, unsubscribed once after the attack.
  expect(result.subscribes).toBe(ADDRESSES);
  expect(result.unsubscribes).toBe(ADDRESSES);
}, 60_000);

test("an honest client from another address connects during the churn", async () => {
  const until = Date.now() + 3_000;
  const churning = Promise.all(
    Array.from({ length: ADDRESSES * LOOPS }, (_, i) =>
      churn(`127.0.12.${10 + (i % ADDRESSES)}`, () => `churn-h-${process.pid}`, until),
    ),
  );
  await sleep(500);
  const honest = await connectClient(topology.instance(0).url, { localAddress: "127.0.12.250" });
  expect(await honest.join(editableBoard())).toMatchObject({ ok: true });
  honest.close();
  await churning;
}, 30_000);
