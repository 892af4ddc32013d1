/**
 * Amplification: small requests that make the instance send a lot. On the largest board the caps allow (MAX_BOARD_BYTES,
 * 16 MiB of lines of 1,000 points, built through the protocol by an instance with high write limits), ten clients
 * loop joins and reads: the instance writes no more than their read budgets allow (each socket's, or their address's
 * when they share one) and stays far under 256 MB RSS. A client that asks and never reads is cut once its send buffer
 * passes MAX_SEND_BUFFER_BYTES. Erasing and restoring everything in a loop (finding H1) costs listeners no more
 * than the restorer's write budget.
 */
import type { SyncAck } from "../../protocol/events";
import { scrape } from "../../local/metrics-reader";
import { ServiceInstance } from "../../local/service-instance";
import { Topology } from "../../local/topology";
import { openRawWebSocket } from "../support/raw-websocket";
import { PROTOCOL_VERSION } from "../../protocol/events";
import {
  connectClient,
  editableBoard,
  eventually,
  makeLine,
  makeUser,
  type TestClient,
} from "../support/socket-client";
import {
  bigLine,
  CLOUD_RUN_HEAP,
  LogLines,
  MIB,
  peakRss,
  processFigures,
  sleep,
  UNTHROTTLED_WRITES,
  within,
} from "./support";

// An eighth of the default rate and a thirty-second of the default burst: ten clients in this test's process (which
// parses every answer) overspend them even on a busy machine, and the test's traffic stays near 25 MiB. bench/abuse.ts
// runs the defaults.
const READ_BYTES_PER_SECOND = MIB / 4;
const READ_BYTES_BURST = MIB;
// Shared by all sockets of one address: twice one socket's rate, the same burst.
const READ_BYTES_PER_ADDRESS_PER_SECOND = MIB / 2;
const READ_BYTES_PER_ADDRESS_BURST = MIB;
const PAGE_BYTES = MIB; // CATCH_UP_PAGE_BYTES, the default
const SEND_BUFFER_BYTES = 4 * MIB; // MAX_SEND_BUFFER_BYTES, the default
const ATTACKERS = 10;
const ATTACK_SECONDS = 3;
const BOARD = editableBoard();

const logs = new LogLines();
let topology: Topology;
let builder: ServiceInstance;
const clients: TestClient[] = [];

beforeAll(async () => {
  topology = await Topology.start({
    instances: 1,
    env: {
      READ_BYTES_PER_SECOND: String(READ_BYTES_PER_SECOND),
      READ_BYTES_BURST: String(READ_BYTES_BURST),
      READ_BYTES_PER_ADDRESS_PER_SECOND: String(READ_BYTES_PER_ADDRESS_PER_SECOND),
      READ_BYTES_PER_ADDRESS_BURST: String(READ_BYTES_PER_ADDRESS_BURST),
      MAX_SOCKETS_PER_ADDRESS: "20",
    },
    nodeArgs: CLOUD_RUN_HEAP,
    onLine: logs.onLine,
  });
  // The board is built by another instance on the same Redis, whose write limits let it do so in seconds. It keeps
  // the default read budgets, for the client that never reads.
  builder = await ServiceInstance.create({
    name: "builder",
    nodeArgs: CLOUD_RUN_HEAP,
    onLine: (line) => logs.onLine("builder", line),
    env: {
      ...topology.redis.serviceEnv,
      ...UNTHROTTLED_WRITES,
    },
  });
  await builder.start();
  await buildLargestBoard(builder.url);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await builder?.stop();
  await topology?.stop();
});

/** Lines until the board refuses one with board_full: MAX_BOARD_BYTES less the append reserve, about 2,000 lines. */
async function buildLargestBoard(url: string): Promise<void> {
  const client = await connectClient(url);
  try {
    expect(await client.join(BOARD)).toMatchObject({ ok: true });
    for (let batch = 0; ; batch++) {
      const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => client.add(bigLine(batch * 100 + i))));
      const refused = acks.filter((ack) => !ack.ok);
      if (refused.length > 0) {
        expect(refused[0]).toMatchObject({ code: "board_full" });
        return;
      }
    }
  } finally {
    client.close();
  }
}

/** Joins and reads the whole board, again and again, as fast as the service answers, until `until`. */
async function loopCatchUps(client: TestClient, until: number): Promise<{ answers: number; refused: number }> {
  let [answers, refused] = [0, 0];
  const retry = async () => {
    refused += 1;
    await sleep(100);
  };
  while (Date.now() < until) {
    let ack: SyncAck = await client
      .join({ board: BOARD.board })
      .catch(() => ({ ok: false, code: "unavailable", error: "no answer" }));
    if (!ack.ok) {
      await retry();
      continue;
    }
    answers += 1;
    const at = ack.s;
    while (ack.ok && "snapshot" in ack && ack.snapshot.next !== undefined && Date.now() < until) {
      const next: SyncAck = await client
        .read({ e: ack.e, at, cursor: ack.snapshot.next })
        .catch(() => ({ ok: false, code: "unavailable", error: "no answer" }));
      if (!next.ok) {
        await retry();
        continue;
      }
      answers += 1;
      ack = next;
    }
  }
  return { answers, refused };
}

/** Ten clients looping catch-ups for ATTACK_SECONDS, an honest user drawing meanwhile: what the instance wrote, and its peak RSS. */
async function attack(addresses: (index: number) => string, honestAddress: string) {
  const pid = topology.instance(0).pid as number;
  const attackers = await Promise.all(
    Array.from({ length: ATTACKERS }, (_, i) =>
      connectClient(topology.instance(0).url, { localAddress: addresses(i) }),
    ),
  );
  clients.push(...attackers);
  const honest = await connectClient(topology.instance(0).url, { localAddress: honestAddress });
  clients.push(honest);
  expect(await honest.join(editableBoard())).toMatchObject({ ok: true });

  const before = processFigures(pid);
  const started = Date.now();
  const until = started + ATTACK_SECONDS * 1_000;
  const honestAcks: boolean[] = [];
  const { result, peakRssBytes } = await peakRss(pid, async () => {
    const drawing = (async () => {
      while (Date.now() < until) {
        honestAcks.push((await honest.add(makeLine())).ok);
        await sleep(50);
      }
    })();
    const loops = await Promise.all(attackers.map((client) => loopCatchUps(client, until)));
    await drawing;
    return loops;
  });
  for (const client of [...attackers, honest]) client.close();
  expect(honestAcks.length).toBeGreaterThan(0);
  expect(honestAcks.every(Boolean)).toBe(true);
  return {
    seconds: (Date.now() - started) / 1_000,
    written: processFigures(pid).writtenBytes - before.writtenBytes,
    answers: result.reduce((sum, loop) => sum + loop.answers, 0),
    refused: result.reduce((sum, loop) => sum + loop.refused, 0),
    peakRssBytes,
  };
}

// Besides the records: each answer's envelope, the honest user's traffic, Redis commands and log lines.
const SLACK = 2 * MIB;

test("ten clients from ten addresses looping catch-ups of the largest board: bytes written within their read budgets, RSS far under 256 MB", async () => {
  const { seconds, written, answers, refused, peakRssBytes } = await attack((i) => `127.0.7.${10 + i}`, "127.0.7.3");
  // Each client: its burst, its rate over the attack, and one answer of debt (a read is served while any budget is left).
  const budget = ATTACKERS * (READ_BYTES_BURST + READ_BYTES_PER_SECOND * seconds + PAGE_BYTES);
  console.log(
    `amplification, ${ATTACKERS} addresses: ${seconds.toFixed(1)} s, ${(written / MIB).toFixed(0)} MiB written (budget ${(budget / MIB).toFixed(0)} MiB), ` +
      `${answers} answers, ${refused} refusals, peak RSS ${(peakRssBytes / MIB).toFixed(0)} MiB`,
  );
  expect(written).toBeLessThan(budget + SLACK);
  // The budgets bound: the clients asked for more than they got.
  expect(refused).toBeGreaterThan(0);
  expect(peakRssBytes).toBeLessThan(256 * MIB);
});

test("ten clients from one address share its read budget: more sockets do not buy more bytes", async () => {
  const { seconds, written, answers, refused, peakRssBytes } = await attack(() => "127.0.7.30", "127.0.7.31");
  // The address's burst and rate, and one answer of debt per socket.
  const budget = READ_BYTES_PER_ADDRESS_BURST + READ_BYTES_PER_ADDRESS_PER_SECOND * seconds + ATTACKERS * PAGE_BYTES;
  console.log(
    `amplification, 1 address: ${seconds.toFixed(1)} s, ${(written / MIB).toFixed(0)} MiB written (budget ${(budget / MIB).toFixed(0)} MiB), ` +
      `${answers} answers, ${refused} refusals, peak RSS ${(peakRssBytes / MIB).toFixed(0)} MiB`,
  );
  expect(written).toBeLessThan(budget + SLACK);
  expect(refused).toBeGreaterThan(0);
  expect(peakRssBytes).toBeLessThan(256 * MIB);
});

test("a client that asks for catch-ups and never reads is cut once its send buffer passes MAX_SEND_BUFFER_BYTES", async () => {
  // The other instance: default read budgets (32 MiB at once), so that the buffers fill in a moment.
  const instance = builder;
  const before = await scrape(instance.metricsUrl);
  const linesBefore = logs.length;
  const ws = await openRawWebSocket(instance.url, { localAddress: "127.0.7.2", collect: true });
  // Socket.IO closes a connection that sends events before its CONNECT is answered.
  ws.sendFrames(["40"]);
  await eventually("the CONNECT answer", () => ws.frames.some((frame) => frame.startsWith("40{")));
  ws.pause();
  ws.sendFrames([`420["join",${JSON.stringify({ pv: PROTOCOL_VERSION, board: BOARD.board, user: makeUser() })}]`]);
  const { peakRssBytes } = await peakRss(instance.pid as number, async () => {
    // One read every 30 ms: each is answered (one at a time) with a snapshot page of about 1 MiB that is never read.
    let id = 1;
    const timer = setInterval(
      () => ws.socket.writable && ws.sendFrames([`42${id++}["read",{"e":"stale","after":0}]`]),
      30,
    );
    try {
      await within(ws.closed, 20_000, "the client to be cut");
    } finally {
      clearInterval(timer);
    }
  });
  const after = await scrape(instance.metricsUrl);
  expect(
    after.sum("whiteboard_connections_cut_total", { reason: "send_buffer" }) -
      before.sum("whiteboard_connections_cut_total", { reason: "send_buffer" }),
  ).toBe(1);
  const [line] = logs.matching("connection closed: send buffer", linesBefore, "builder");
  expect(line).toMatchObject({ severity: "WARNING", address: "127.0.7.2" });
  expect(line?.bufferedBytes as number).toBeGreaterThan(SEND_BUFFER_BYTES);
  expect(line?.bufferedBytes as number).toBeLessThan(SEND_BUFFER_BYTES + 2 * PAGE_BYTES);
  expect(peakRssBytes).toBeLessThan(256 * MIB);
  // The instance still serves others.
  const bystander = await connectClient(instance.url, { localAddress: "127.0.7.4" });
  clients.push(bystander);
  expect(await bystander.join(editableBoard())).toMatchObject({ ok: true });
});

test("erase-all / restore-all in a loop, a clear between: listeners get no more than the restorer's write budget (H1)", async () => {
  // 200 big lines (about 1.4 MB), drawn through the builder; the attack runs on the instance with default budgets.
  const board = editableBoard();
  const drawer = await connectClient(builder.url);
  clients.push(drawer);
  expect(await drawer.join(board)).toMatchObject({ ok: true });
  const ids: string[] = [];
  for (let i = 0; i < 200; i += 1) {
    const line = bigLine(i);
    expect(await drawer.add(line)).toMatchObject({ ok: true });
    ids.push(line.id);
  }
  // A listener that reads everything it is sent, counting the bytes.
  const listener = await openRawWebSocket(topology.instance(0).url, { localAddress: "127.0.7.40", collect: true });
  listener.sendFrames(["40"]);
  await eventually("the CONNECT answer", () => listener.frames.some((frame) => frame.startsWith("40{")));
  listener.sendFrames([
    `420["join",${JSON.stringify({ pv: PROTOCOL_VERSION, board: board.board, user: makeUser() })}]`,
  ]);
  await eventually("the join's answer", () => listener.frames.some((frame) => frame.startsWith("430")));
  await sleep(200);
  const attacker = await connectClient(topology.instance(0).url, { localAddress: "127.0.7.41" });
  clients.push(attacker);
  expect(await attacker.join(board)).toMatchObject({ ok: true });

  const receivedBefore = listener.received();
  const started = performance.now();
  let sent = 0;
  const send = async (event: string, payload: unknown) => {
    sent += JSON.stringify(payload).length;
    return (await attacker.raw(event, payload)) as { ok: boolean; code?: string };
  };
  let limited = 0;
  // A stroke of v1 that named an existing id with a higher even version restored it: a heal is taken only from a
  // history the board knows, so these store and send nothing.
  for (const id of ids.slice(0, 50))
    await send("add", { ...bigLine(0), id, h: "made-up", v: 1_000_000, u: attacker.id });
  expect((await send("clear", {})).ok).toBe(true);
  while (performance.now() - started < ATTACK_SECONDS * 1_000) {
    for (const event of ["restore", "erase"]) {
      const ack = await send(event, { ids });
      if (!ack.ok) limited += 1;
    }
  }
  const seconds = (performance.now() - started) / 1_000;
  await sleep(300);
  const received = listener.received() - receivedBefore;
  listener.close();
  // The budget: burst, rate over the attack, and the one restore that overdrew it (the whole board, moved and sent).
  const boardBytes = 200 * 7_400;
  const budget = MIB + 64 * 1024 * seconds + boardBytes;
  console.log(
    `restore loop: ${(sent / 1024).toFixed(0)} KiB sent, ${(received / 1024).toFixed(0)} KiB to a listener ` +
      `(budget ${(budget / 1024).toFixed(0)} KiB) in ${seconds.toFixed(1)} s, ${limited} refused`,
  );
  expect(received).toBeLessThan(budget);
  // The loop was refused for lack of budget, not allowed to go on.
  expect(limited).toBeGreaterThan(0);
});
