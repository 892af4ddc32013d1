/**
 * Connections an attacker opens, directly and through the Cloud Run-like front: one WebSocket carries one socket
 * however many CONNECTs are packed into one write; sockets per client address and per instance are capped (and a
 * spoofed X-Forwarded-For does not escape the cap); a connection that joins nothing is closed; a refused join changes
 * nothing (no subscription churn in Redis); honest users keep connecting meanwhile. Client addresses are made on
 * loopback: 127.0.0.0/8 is all local.
 */
import { scrape, type MetricsSnapshot } from "../../local/metrics-reader";
import { Topology } from "../../local/topology";
import { openRawWebSocket, textFrames } from "../support/raw-websocket";
import type { SyncAck } from "../../protocol/events";
import { connectClient, editableBoard, eventually, makeLine, type TestClient } from "../support/socket-client";
import { LogLines, operatorRedis, processFigures, sleep, within } from "./support";
import { objectContaining } from "../support/matchers";

/** 8,000 Socket.IO CONNECT packets ("40"), one WebSocket frame each: 64,000 bytes. */
const FLOOD = textFrames(Array.from({ length: 8_000 }, () => "40"));
const MAX_SOCKETS = 20;
const PER_ADDRESS = 4;
const SHARED_BOARD = editableBoard();
const logs = new LogLines();
let topology: Topology;
const clients: TestClient[] = [];

beforeAll(async () => {
  topology = await Topology.start({
    instances: 2,
    env: { MAX_SOCKETS: String(MAX_SOCKETS), MAX_SOCKETS_PER_ADDRESS: String(PER_ADDRESS), JOIN_TIMEOUT_SECONDS: "1" },
    // More slots than the instances take, so that the instances' own caps are what refuses.
    front: { port: 0, maxConcurrency: 2 * MAX_SOCKETS },
    onLine: logs.onLine,
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  // Every connection of a test is gone before the next test counts its own.
  await eventually("every socket to close", async () =>
    (await Promise.all(topology.instances.map((instance) => scrape(instance.metricsUrl)))).every(
      (m) => m.sum("whiteboard_sockets") === 0,
    ),
  );
  await eventually("the front to release every slot", () =>
    Object.values(topology.frontStats()?.active ?? {}).every((count) => count === 0),
  );
  await sleep(100);
});

afterAll(async () => {
  await topology?.stop();
});

const metrics = (index: number) => scrape(topology.instance(index).metricsUrl);
const grewBy = (after: MetricsSnapshot, before: MetricsSnapshot, name: string, labels: Record<string, string>) =>
  after.sum(name, labels) - before.sum(name, labels);

/** Opens a socket and joins; undefined when the connection is refused. */
async function tryConnect(
  url: string,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<TestClient | undefined> {
  const client = await connectClient(url, { localAddress, headers }).catch(() => undefined);
  if (!client) return undefined;
  clients.push(client);
  expect(await client.join(SHARED_BOARD)).toMatchObject({ ok: true });
  return client;
}

async function tryMany(
  url: string,
  addresses: readonly string[],
  headers: (index: number) => Record<string, string> = () => ({}),
) {
  const results = [];
  // One after another: each admission sees the ones before it.
  for (const [index, address] of addresses.entries()) results.push(await tryConnect(url, address, headers(index)));
  return { accepted: results.filter(Boolean).length, refused: results.filter((client) => !client).length };
}

describe("one WebSocket, one socket", () => {
  test("8,000 CONNECTs packed in one TCP write: the connection is cut before a second socket exists, at almost no cost", async () => {
    const instance = topology.instance(0);
    const pid = instance.pid as number;
    const before = await metrics(0);
    const linesBefore = logs.length;
    const ws = await openRawWebSocket(instance.url, { localAddress: "127.0.1.1", collect: true });
    await eventually("the Engine.IO open packet", () => ws.frames.length === 1);
    const receivedBefore = ws.received();
    const cpuBefore = processFigures(pid).cpuMs;

    ws.sendRaw(FLOOD);
    await within(ws.closed, 3_000, "the connection to be cut");
    await sleep(200);

    const cpuMs = processFigures(pid).cpuMs - cpuBefore;
    const after = await metrics(0);
    // What the instance sent back: at most the first socket's CONNECT answer and a close frame, no 8,000 answers.
    expect(ws.received() - receivedBefore).toBeLessThan(200);
    expect(ws.frames.filter((frame) => frame.startsWith("40")).length).toBeLessThanOrEqual(1);
    expect(after.sum("whiteboard_sockets")).toBe(0);
    expect(grewBy(after, before, "whiteboard_connections_cut_total", { reason: "second_socket" })).toBe(1);
    // One log line for the whole attack (the cut), none per CONNECT.
    expect(logs.matching(/./, linesBefore, instance.name)).toEqual([
      expect.objectContaining({ message: "connection closed: second socket", address: "127.0.1.1" }),
    ]);
    // Before, this made 8,000 sockets with handlers, timers and two log lines each. Now: parsing 64 KB of frames.
    expect(cpuMs).toBeLessThan(500);
  });

  test("16 WebSockets of 8,000 CONNECTs each: no socket survives, 16 cuts, a bounded number of log lines", async () => {
    const instance = topology.instance(1);
    const before = await metrics(1);
    const linesBefore = logs.length;
    const sockets = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        openRawWebSocket(instance.url, { localAddress: `127.0.1.${10 + i}`, collect: true }),
      ),
    );
    await eventually("every open packet", () => sockets.every((ws) => ws.frames.length === 1));
    for (const ws of sockets) ws.sendRaw(FLOOD);
    await Promise.all(sockets.map((ws) => ws.closed));
    await sleep(200);
    const after = await metrics(1);
    expect(after.sum("whiteboard_sockets")).toBe(0);
    expect(grewBy(after, before, "whiteboard_connections_cut_total", { reason: "second_socket" })).toBe(16);
    // At most 10 lines of one kind per 10 s (the metric counts them all).
    expect(logs.matching(/./, linesBefore, instance.name).length).toBeLessThanOrEqual(10);
  });

  test("through the front: the flood is cut, and the front's one slot is released", async () => {
    const ws = await openRawWebSocket(topology.url, { localAddress: "127.0.1.40", collect: true });
    await eventually("the Engine.IO open packet", () => ws.frames.length === 1);
    ws.sendRaw(FLOOD);
    await ws.closed;
  });
});

describe("sockets per client address", () => {
  test(`directly: ${PER_ADDRESS} sockets from one address, then refusals; other addresses are served; a closed socket frees its place`, async () => {
    const url = topology.instance(0).url;
    const before = await metrics(0);
    const linesBefore = logs.length;
    expect(
      await tryMany(
        url,
        Array.from({ length: PER_ADDRESS + 3 }, () => "127.0.2.1"),
      ),
    ).toEqual({ accepted: PER_ADDRESS, refused: 3 });
    expect(await tryConnect(url, "127.0.2.2")).toBeDefined();

    const after = await metrics(0);
    expect(grewBy(after, before, "whiteboard_connections_refused_total", { reason: "address_full" })).toBe(3);
    expect(logs.matching("connection refused: address full", linesBefore)).toEqual(
      Array.from({ length: 3 }, () =>
        objectContaining({ severity: "WARNING", address: "127.0.2.1", open: PER_ADDRESS }),
      ),
    );

    clients.find((client) => client.socket.connected)?.close();
    await eventually("a place to free up", async () => (await tryConnect(url, "127.0.2.1")) !== undefined);
  });

  test(`through the front, with a made-up X-Forwarded-For on every socket: ${PER_ADDRESS} per instance, and page loads still work`, async () => {
    const attacker = Array.from({ length: 30 }, () => "127.0.4.1");
    const spoofed = (index: number) => ({ "x-forwarded-for": `198.51.100.${index}` });
    expect(await tryMany(topology.url, attacker, spoofed)).toEqual({
      accepted: 2 * PER_ADDRESS,
      refused: 30 - 2 * PER_ADDRESS,
    });
    await eventually(
      "the refused WebSockets to leave the front",
      () => Object.values(topology.frontStats()?.active ?? {}).reduce((a, b) => a + b, 0) === 2 * PER_ADDRESS,
    );

    // An honest user from another address connects, draws, and loads pages.
    const honest = await tryConnect(topology.url, "127.0.4.2");
    expect(await honest?.add(makeLine())).toMatchObject({ ok: true });
    expect((await fetch(`${topology.url}/b/honest-page`)).status).toBe(200);
  });
});

describe("sockets per instance", () => {
  test(`directly: ${MAX_SOCKETS} sockets from as many addresses, then refusals`, async () => {
    const before = await metrics(1);
    const addresses = Array.from({ length: MAX_SOCKETS + 2 }, (_, i) => `127.0.3.${i + 1}`);
    expect(await tryMany(topology.instance(1).url, addresses)).toEqual({ accepted: MAX_SOCKETS, refused: 2 });
    expect(grewBy(await metrics(1), before, "whiteboard_connections_refused_total", { reason: "instance_full" })).toBe(
      2,
    );
  });

  test("through the front: the front holds one slot per socket, as many as the instances admit", async () => {
    const addresses = Array.from({ length: 2 * MAX_SOCKETS + 6 }, (_, i) => `127.0.5.${i + 1}`);
    expect(await tryMany(topology.url, addresses)).toEqual({ accepted: 2 * MAX_SOCKETS, refused: 6 });
    const sockets = (await Promise.all([metrics(0), metrics(1)])).map((m) => m.sum("whiteboard_sockets"));
    expect(sockets).toEqual([MAX_SOCKETS, MAX_SOCKETS]);
    await eventually("the front's slots to match the sockets", () => {
      const active = topology.frontStats()?.active ?? {};
      return Object.values(active).reduce((a, b) => a + b, 0) === 2 * MAX_SOCKETS;
    });
  });
});

describe("joins", () => {
  /** Sharded subscriptions and unsubscriptions Redis has served so far: what a join costs it. */
  async function subscriptionCalls(): Promise<number> {
    const redis = await operatorRedis(topology.redis);
    try {
      const stats = await redis.info("commandstats");
      return [...stats.matchAll(/^cmdstat_s(?:un)?subscribe:calls=(\d+)/gm)].reduce((sum, [, n]) => sum + Number(n), 0);
    } finally {
      await redis.quit();
    }
  }

  test("a refused join changes nothing: no subscription in Redis, and the socket stays on its board (M3)", async () => {
    const url = topology.instance(0).url;
    const socket = await connectClient(url, { localAddress: "127.0.6.10" });
    clients.push(socket);
    const boards = Array.from({ length: 41 }, editableBoard);
    expect(await socket.join(boards[0] as (typeof boards)[number])).toMatchObject({ ok: true });
    const before = await subscriptionCalls();
    // Forty joins of other boards at once, then more one after another: one read at a time, then the join rate
    // (JOIN_BURST 5, one a second) refuse most of them.
    const atOnce = await Promise.all(boards.slice(1, 31).map(({ board }) => socket.join({ board })));
    const inTurn: SyncAck[] = [];
    for (const { board } of boards.slice(31)) inTurn.push(await socket.join({ board }));
    const acks = [...atOnce, ...inTurn];
    const accepted = acks.flatMap((ack) => (ack.ok ? [ack.board] : []));
    const calls = (await subscriptionCalls()) - before;
    console.log(`40 joins: ${accepted.length} accepted, ${calls} (un)subscriptions in Redis`);
    expect(acks.filter((ack) => !ack.ok).map((ack) => !ack.ok && ack.code)).toEqual(
      Array.from({ length: 40 - accepted.length }, () => "rate_limited"),
    );
    expect(accepted.length).toBeLessThanOrEqual(6);
    // Each accepted join leaves one board and hears another; a refused one costs Redis nothing.
    expect(calls).toBeLessThanOrEqual(2 * accepted.length);
    // Still on the last board it was let into: what is drawn there reaches it.
    const last = boards.find(({ board }) => board === accepted.at(-1)) as (typeof boards)[number];
    const drawer = await connectClient(url, { localAddress: "127.0.6.11" });
    clients.push(drawer);
    expect(await drawer.join(last)).toMatchObject({ ok: true });
    const line = makeLine();
    expect(await drawer.add(line)).toMatchObject({ ok: true });
    await eventually("the socket to get the line", () => socket.ops.some((op) => op.t === "a" && op.r[4] === line.id));
  });
});

describe("connections that join nothing", () => {
  test("a socket that joins no board within JOIN_TIMEOUT_SECONDS (1 s) is closed; one that joins stays", async () => {
    const before = await metrics(0);
    const linesBefore = logs.length;
    const idle = await connectClient(topology.instance(0).url, { localAddress: "127.0.6.1" });
    clients.push(idle);
    const joined = await tryConnect(topology.instance(0).url, "127.0.6.2");
    const started = performance.now();
    const reason = await new Promise<string>((resolve) => idle.socket.once("disconnect", resolve));
    const seconds = (performance.now() - started) / 1000;
    expect(reason).toBe("io server disconnect");
    expect(seconds).toBeGreaterThan(0.8);
    expect(seconds).toBeLessThan(2.5);
    await sleep(1_000);
    expect(joined?.socket.connected).toBe(true);
    expect(grewBy(await metrics(0), before, "whiteboard_connections_cut_total", { reason: "join_timeout" })).toBe(1);
    expect(logs.matching("connection closed: join timeout", linesBefore)).toEqual([
      expect.objectContaining({ address: "127.0.6.1" }),
    ]);
  });

  test("a WebSocket that opens no socket is closed after the same time, and cut 2 s later if it ignores the close", async () => {
    // This client never answers a closing handshake, so its TCP connection lasts until the service cuts it.
    const ws = await openRawWebSocket(topology.instance(1).url, { localAddress: "127.0.6.3" });
    const started = performance.now();
    await ws.closed;
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(2.8);
    expect(seconds).toBeLessThan(4.5);
  });

  test("connection logs stay at debug: nothing was logged per connection at info", () => {
    expect(logs.matching(/client (connected|disconnected)|joined/)).toEqual([]);
  });
});
