/**
 * Log lines an attacker can cause (finding M1): stored clears and their undos, large erasures, too many boards, a
 * full store. Each kind is sampled, at most 10 lines per 10 s on an instance, however often it is caused; the next
 * line after a full window says how many were left out. Counted on the instance's log.
 */
import { Topology } from "../../local/topology";
import { connectClient, editableBoard, makeLine, type TestClient } from "../support/socket-client";
import { LogLines, MIB, operatorRedis } from "./support";

const PER_WINDOW = 10;
const logs = new LogLines();
let topology: Topology;
const clients: TestClient[] = [];

beforeAll(async () => {
  topology = await Topology.start({
    instances: 1,
    onLine: logs.onLine,
    env: {
      CLEAR_INTERVAL_SECONDS: "0",
      RATE_LIMIT_PER_SECOND: "10000",
      RATE_LIMIT_BURST: "100000",
      JOINS_PER_SECOND: "1000",
      JOIN_BURST: "1000",
      BOARDS_PER_MINUTE: "5",
    },
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await topology?.stop();
});

async function attacker(localAddress: string): Promise<{ client: TestClient; board: { board: string; edit: string } }> {
  const client = await connectClient(topology.instance(0).url, { localAddress });
  clients.push(client);
  const board = editableBoard();
  expect(await client.join(board)).toMatchObject({ ok: true });
  return { client, board };
}

test("a hundred clears and undos, erasures of many elements, joins past the board limit: at most 10 lines of each kind", async () => {
  const since = logs.length;
  const started = performance.now();
  const { client } = await attacker("127.0.10.1");
  const lines = Array.from({ length: 11 }, () => makeLine());
  for (const line of lines) expect(await client.add(line)).toMatchObject({ ok: true });
  const ids = lines.map((line) => line.id);
  for (let i = 0; i < 100; i += 1) {
    const cleared = await client.clear();
    expect(cleared).toMatchObject({ ok: true });
    expect(await client.unclear((cleared as { s: number }).s)).toMatchObject({ ok: true });
    expect(await client.erase(ids)).toMatchObject({ ok: true });
    expect(await client.restore(ids)).toMatchObject({ ok: true });
  }
  let refusedJoins = 0;
  for (let i = 0; i < 100; i += 1) {
    const ack = await client.join({ board: editableBoard().board });
    if (!ack.ok) refusedJoins += 1;
  }
  expect(refusedJoins).toBeGreaterThan(90);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const count = (message: string) => logs.matching(message, since).length;
  const counts = {
    cleared: count("board cleared"),
    undone: count("clear undone"),
    erased: count("elements erased"),
    boards: count("too many boards joined"),
  };
  // A window opens with the first line of its kind: a slow run spans more than one.
  const windows = Math.floor((performance.now() - started) / 10_000) + 1;
  console.log(
    `M1: 100 clears, 100 undos, 100 large erasures, ${refusedJoins} refused joins in ${windows} window(s), logged as`,
    counts,
  );
  for (const lines of Object.values(counts)) {
    expect(lines).toBeGreaterThan(0);
    expect(lines).toBeLessThanOrEqual(PER_WINDOW * windows);
  }
  // Past a full window, a line says how many of its kind were left out.
  if (windows > 1)
    expect(logs.matching("board cleared", since).some((line) => Number(line.linesLeftOut) > 0)).toBe(true);
});

test("a full store refusing writes again and again logs at most 10 lines in a window", async () => {
  const since = logs.length;
  const { client } = await attacker("127.0.10.2");
  const redis = await operatorRedis(topology.redis);
  try {
    const used = Number(/^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1]);
    await redis.configSet("maxmemory", String(used + MIB / 4));
    let full = 0;
    for (let i = 0; i < 200 && full < 100; i += 1) {
      const acks = await Promise.all(Array.from({ length: 20 }, () => client.add(makeLine({ d: "A".repeat(3_000) }))));
      full += acks.filter((ack) => !ack.ok && ack.code === "storage_full").length;
    }
    expect(full).toBeGreaterThanOrEqual(100);
    const lines = logs.matching("store full: write refused", since);
    console.log(`M1: ${full} writes refused for a full store, ${lines.length} log lines`);
    expect(lines.length).toBeLessThanOrEqual(PER_WINDOW);
    expect(lines[0]).toMatchObject({ severity: "WARNING", address: "127.0.10.2", kind: "store_full" });
  } finally {
    await redis.configSet("maxmemory", "0");
    await redis.quit();
  }
});
