/**
 * The metrics of a running instance, scraped from its own port as the Prometheus sidecar scrapes them: two real
 * instances on one real Redis, clients drawing lines on one of them as a pointer does (an add, then an append per
 * sample), and test clients doing what drawers do not (erase, edit, clear, undo, cursors, bad input). Every metric
 * docs/operations.md lists must be there and move under that load.
 */
import pino from "pino";
import { createRedisConnections } from "../../service/redis";
import { waitFor } from "../../local/ports";
import { type MetricsSnapshot, quantile, scrape } from "../../local/metrics-reader";
import { Topology } from "../../local/topology";
import { connectClient, editableBoard, makeLine, type TestClient } from "../support/socket-client";

const BOARD = editableBoard();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let topology: Topology;
/** Each instance's last log lines, shown when its exit is not the expected one. */
const lastLines = new Map<string, string[]>();
const clients: TestClient[] = [];

/** Draws lines as a pointer does until stopped: an add, then an append every 16 ms, 8 of them, then a pause. */
function drawing(client: TestClient): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) {
      const line = makeLine();
      if (!(await client.add(line)).ok) return;
      for (let n = 1; n <= 8 && running; n += 1) {
        await sleep(16);
        await client.append({ i: line.id, n, d: "CCC", b: line.b });
      }
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

beforeAll(async () => {
  topology = await Topology.start({
    instances: 2,
    onLine: (source, line) => lastLines.set(source, [...(lastLines.get(source) ?? []), line].slice(-12)),
    env: {
      // Connections rotate within the test; writes wait (briefly) for a replica there is not, so WAIT falls short.
      REQUEST_TIMEOUT_SECONDS: "4",
      REDIS_WAIT_REPLICAS: "1",
      REDIS_WAIT_TIMEOUT_MS: "1",
      CLEAR_INTERVAL_SECONDS: "0",
      METRICS_FINAL_SCRAPE_SECONDS: "3",
    },
  });
  // A memory limit, as Memorystore has, so that the memory ratio exists.
  const redis = createRedisConnections(topology.redis.clientConfig, pino({ level: "silent" }));
  await redis.connect();
  await redis.commands.configSet("maxmemory", String(64 * 1024 * 1024));
  await redis.close();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await topology?.stop();
});

test("every metric of docs/operations.md's table is exported and moves under load; nothing is labelled per board, socket or user", async () => {
  const [a, b] = [topology.instance(0), topology.instance(1)];
  const before = await scrape(a.metricsUrl);
  const beforeB = await scrape(b.metricsUrl);

  // Load: four users drawing on instance A; a watcher of the same board on B (so A's operations fan out through Redis).
  const watcher = await connectClient(b.url);
  clients.push(watcher);
  await watcher.join({ board: BOARD.board });
  const drawers = await Promise.all(Array.from({ length: 4 }, () => connectClient(a.url)));
  clients.push(...drawers);
  for (const drawer of drawers) expect(await drawer.join(BOARD)).toMatchObject({ ok: true });
  const drawings = drawers.map(drawing);

  // What users do besides drawing, and what broken clients do.
  const other = await connectClient(a.url);
  clients.push(other);
  const joined = await other.join(BOARD);
  const line = makeLine();
  expect(await other.add(line)).toEqual(expect.objectContaining({ ok: true }));
  expect(await other.erase([line.id])).toEqual(expect.objectContaining({ ok: true }));
  expect(await other.edit([[line.id, { x: 5 }]])).toEqual(expect.objectContaining({ ok: true }));
  const cleared = await other.clear();
  expect(cleared.ok).toBe(true);
  expect(await other.unclear((cleared as { s: number }).s)).toEqual(expect.objectContaining({ ok: true }));
  if (joined.ok) expect((await other.join({ ...BOARD, e: joined.e, after: joined.s })).ok).toBe(true); // from the log
  expect(await other.raw("add", { id: "bad id!" })).toEqual(expect.objectContaining({ ok: false, code: "invalid" }));
  const stranger = await connectClient(a.url);
  clients.push(stranger);
  expect(await stranger.add(makeLine())).toEqual(expect.objectContaining({ ok: false, code: "not_joined" }));
  for (let index = 0; index < 10; index++) {
    other.socket.emit("cursor", { x: 100 * index, y: 100 });
    await sleep(80);
  }

  // Long enough for the 4 s request timeout to ask every connection to rotate at least once.
  await sleep(5_000);
  await Promise.all(drawings.map((drawer) => drawer.stop()));
  const after = await scrape(a.metricsUrl);
  const afterB = await scrape(b.metricsUrl);

  const grew = (
    name: string,
    labels: Record<string, string> = {},
    then: MetricsSnapshot = before,
    now: MetricsSnapshot = after,
  ) => {
    const [from, to] = [then.sum(name, labels), now.sum(name, labels)];
    if (!(to > from)) throw new Error(`${name}${JSON.stringify(labels)} did not grow under load: ${from} then ${to}`);
  };

  // Connections and boards: levels that rose from nothing.
  expect(before.sum("whiteboard_sockets")).toBe(0);
  expect(after.sum("whiteboard_sockets")).toBeGreaterThanOrEqual(5);
  expect(after.sum("whiteboard_boards")).toBe(1);
  expect(afterB.sum("whiteboard_boards")).toBe(1);

  // Operations stored, by kind; refusals by code.
  for (const kind of ["add", "append", "visibility", "edit", "clear", "unclear"]) {
    grew("whiteboard_operations_stored_total", { kind });
  }
  grew("whiteboard_refusals_total", { event: "add", code: "invalid" });
  grew("whiteboard_refusals_total", { event: "add", code: "not_joined" });

  // Store latency by script, coalescing, catch-up answers from snapshots and from the log.
  for (const script of ["draw", "set_visibility", "edit", "clear", "unclear", "read", "presence"]) {
    grew("whiteboard_store_call_seconds_count", { script });
  }
  expect(quantile(0.99, after, "whiteboard_store_call_seconds", { script: "draw" }, before)).toBeGreaterThan(0);
  grew("whiteboard_draw_items_per_store_call_count");
  expect(after.sum("whiteboard_draw_items_per_store_call_sum")).toBeGreaterThanOrEqual(
    after.sum("whiteboard_draw_items_per_store_call_count"),
  );
  for (const kind of ["snapshot", "log"]) {
    grew("whiteboard_catchup_seconds_count", { kind });
    grew("whiteboard_catchup_bytes_count", { kind });
  }

  // Fan-out: A's own broadcasts, and B relaying them to its watcher.
  grew("whiteboard_broadcast_messages_total", { event: "ops" });
  grew("whiteboard_broadcast_recipients_total", { event: "ops" });
  grew("whiteboard_broadcast_recipients_total", { event: "ops" }, beforeB, afterB);
  expect(
    after.sum("whiteboard_broadcast_recipients_total", { event: "ops" }) -
      before.sum("whiteboard_broadcast_recipients_total", { event: "ops" }),
  ).toBeGreaterThan(
    after.sum("whiteboard_broadcast_messages_total", { event: "ops" }) -
      before.sum("whiteboard_broadcast_messages_total", { event: "ops" }),
  );
  // B serves the board, so A's broadcasts reach it on the board's own channel.
  grew("whiteboard_redis_pubsub_received_bytes_total", { channel: "board" }, beforeB, afterB);
  grew("whiteboard_cursor_messages_total");
  grew("whiteboard_broadcast_messages_total", { event: "cursors" });

  // Epochs, rotations, replicas, Redis.
  grew("whiteboard_board_epoch_changes_total");
  grew("whiteboard_rotations_asked_total");
  grew("whiteboard_replica_wait_shortfalls_total");
  grew("whiteboard_redis_ping_seconds_count");
  expect(
    after
      .select("whiteboard_redis_connection_up")
      .map((sample) => [sample.labels.role, sample.value])
      .sort(),
  ).toEqual([
    ["commands", 1],
    ["subscriber", 1],
  ]);
  const ratio = (snapshot: MetricsSnapshot) => snapshot.select("whiteboard_redis_memory_ratio")[0]?.value ?? NaN;
  expect(ratio(after)).toBeGreaterThan(ratio(before));
  expect(ratio(after)).toBeLessThan(1);

  // The process: event-loop lag from prom-client's default metrics.
  expect(after.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
  expect(after.sum("nodejs_eventloop_lag_p99_seconds")).toBeGreaterThan(0);

  // Bounded cardinality: no label value names a board, a socket or a user, and no label is one of those.
  const values = after.samples.flatMap((sample) => Object.entries(sample.labels));
  expect(values.filter(([key]) => ["board", "socket", "user", "id", "instance"].includes(key))).toEqual([]);
  const userIds = drawers.map((drawer) => drawer.id);
  expect(values.filter(([, value]) => value.includes(BOARD.board) || userIds.includes(value))).toEqual([]);
});

test("the public port does not serve the metrics", async () => {
  const instance = topology.instance(0);
  expect((await fetch(`${instance.url}/metrics`)).status).toBe(404);
  expect((await fetch(instance.metricsUrl)).headers.get("content-type")).toContain("text/plain");
});

test("a Redis outage shows in the connection gauge and the reconnect count", async () => {
  const a = topology.instance(0);
  const before = await scrape(a.metricsUrl);
  await topology.redis.stop();
  await waitFor(
    "the command connection to be reported down",
    async () => (await scrape(a.metricsUrl)).sum("whiteboard_redis_connection_up", { role: "commands" }) === 0,
    5_000,
  );
  await topology.redis.start();
  await waitFor(
    "both connections to be reported up again",
    async () => (await scrape(a.metricsUrl)).sum("whiteboard_redis_connection_up") === 2,
    10_000,
  );
  const after = await scrape(a.metricsUrl);
  expect(after.sum("whiteboard_redis_reconnects_total", { role: "commands" })).toBeGreaterThan(
    before.sum("whiteboard_redis_reconnects_total", { role: "commands" }),
  );
});

test("a stopping instance counts its drain and waits for one last scrape before it exits", async () => {
  const b = topology.instance(1);
  const started = Date.now();
  let exited = false;
  const stopped = topology.stopInstance(1).finally(() => (exited = true));
  // Scrape as the sidecar would, until the process is gone; the last answer is its final figures.
  let last: MetricsSnapshot | undefined;
  while (!exited) {
    last = (await scrape(b.metricsUrl, 500).catch(() => undefined)) ?? last;
    await sleep(20);
  }
  const exit = await stopped;
  expect({ ...exit, log: exit.code === 0 ? [] : lastLines.get(b.name) }).toEqual({ code: 0, signal: null, log: [] });
  expect(last?.sum("whiteboard_drains_total")).toBe(1);
  expect(last?.sum("whiteboard_sockets")).toBe(0);
  // It left once scraped after the drain, well before METRICS_FINAL_SCRAPE_SECONDS (3 s) ran out.
  expect(Date.now() - started).toBeLessThan(2_500);
});
