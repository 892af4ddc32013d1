/**
 * Memory: sockets that ask for catch-ups and never read, from many addresses, reconnecting whenever they are cut.
 * What they can make an instance hold is bounded: its send buffers in all (Engine.IO's queues and the WebSockets'
 * buffers, MAX_SEND_BUFFER_TOTAL_BYTES), what the kernel holds for its sockets (their send queues), and its RSS,
 * with the heap it has on Cloud Run. Client addresses are made on loopback: 127.0.0.0/8 is all local.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { scrape } from "../../local/metrics-reader";
import { ServiceInstance } from "../../local/service-instance";
import { Topology } from "../../local/topology";
import { PROTOCOL_VERSION, type SyncAck } from "../../protocol/events";
import { openRawWebSocket, type RawWebSocket } from "../support/raw-websocket";
import { connectClient, editableBoard, eventually, makeLine, makeUser } from "../support/socket-client";
import { bigLine, CLOUD_RUN_HEAP, MIB, processFigures, sleep, UNTHROTTLED_WRITES } from "./support";

const ADDRESSES = 12;
const SOCKETS_PER_ADDRESS = 4;
const ATTACK_SECONDS = 20;
const TOTAL_BYTES = 32 * MIB; // MAX_SEND_BUFFER_TOTAL_BYTES
const { board: BOARD, edit: EDIT } = editableBoard();
const BOARD_BYTES = 4 * MIB;

let topology: Topology;
let builder: ServiceInstance;

beforeAll(async () => {
  topology = await Topology.start({
    instances: 1,
    env: { MAX_SEND_BUFFER_TOTAL_BYTES: String(TOTAL_BYTES), MAX_SOCKETS_PER_ADDRESS: "10" },
    nodeArgs: CLOUD_RUN_HEAP,
  });
  builder = await ServiceInstance.create({
    name: "builder",
    env: {
      ...topology.redis.serviceEnv,
      ...UNTHROTTLED_WRITES,
    },
  });
  await builder.start();
  const client = await connectClient(builder.url);
  expect(await client.join({ board: BOARD, edit: EDIT })).toMatchObject({ ok: true });
  for (let written = 0; written < BOARD_BYTES; written += 100 * 7_000) {
    const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => client.add(bigLine(written + i))));
    expect(acks.every((ack) => ack.ok)).toBe(true);
  }
  client.close();
  await builder.stop();
}, 120_000);

afterAll(async () => {
  await builder?.stop();
  await topology?.stop();
});

/** Bytes the kernel holds in the send queues of the instance's established connections on `port` (ss Send-Q). */
function kernelSendQueues(port: number): { bytes: number; sockets: number } {
  const out = execFileSync("ss", ["-tnH", "state", "established", "sport", "=", `:${port}`], { encoding: "utf8" });
  let bytes = 0;
  let sockets = 0;
  for (const line of out.split("\n")) {
    const [, sendQ] = line.trim().split(/\s+/);
    if (sendQ === undefined) continue;
    bytes += Number(sendQ);
    sockets += 1;
  }
  return { bytes, sockets };
}

/** One attacker socket: connect, join, stop reading, ask for a 1 MiB page of the board every 100 ms; again once cut. */
async function attack(url: string, address: string, until: number, counts: { connections: number; cut: number }) {
  while (Date.now() < until) {
    let ws: RawWebSocket;
    try {
      ws = await openRawWebSocket(url, { localAddress: address, collect: true });
    } catch {
      await sleep(200); // refused (too many from this address, or too fast): try again
      continue;
    }
    counts.connections += 1;
    ws.sendFrames(["40"]);
    const page = await (async () => {
      await eventually("the CONNECT answer", () => ws.frames.some((frame) => frame.startsWith("40{")));
      ws.sendFrames([`420["join",${JSON.stringify({ pv: PROTOCOL_VERSION, board: BOARD, user: makeUser() })}]`]);
      await eventually("the join's answer", () => ws.frames.some((frame) => frame.startsWith("430")), 10_000);
      const [ack] = JSON.parse((ws.frames.find((frame) => frame.startsWith("430")) as string).slice(3)) as SyncAck[];
      if (!ack?.ok || !("snapshot" in ack) || ack.snapshot.next === undefined) throw new Error("no snapshot page");
      return { e: ack.e, at: ack.s, cursor: ack.snapshot.next };
    })().catch(() => undefined);
    if (!page) {
      ws.close();
      continue;
    }
    ws.pause();
    let id = 1;
    let open = true;
    void ws.closed.then(() => (open = false));
    while (open && Date.now() < until) {
      if (ws.socket.writable) ws.sendFrames([`42${id++}["read",${JSON.stringify(page)}]`]);
      await sleep(100);
    }
    if (!open) counts.cut += 1;
    ws.close();
  }
}

test(`${ADDRESSES * SOCKETS_PER_ADDRESS} sockets from ${ADDRESSES} addresses asking for catch-ups and never reading: send buffers, kernel queues and RSS stay bounded`, async () => {
  const instance = topology.instance(0);
  const pid = instance.pid as number;
  const port = Number(new URL(instance.url).port);
  const honest = await connectClient(instance.url, { localAddress: "127.0.9.250" });
  expect(await honest.join(editableBoard())).toMatchObject({ ok: true });

  const peak = { rss: 0, kernel: 0, kernelSockets: 0, buffered: 0, tcpMemory: 0 };
  const sampler = setInterval(() => {
    peak.rss = Math.max(peak.rss, processFigures(pid).rssBytes);
    const kernel = kernelSendQueues(port);
    peak.kernel = Math.max(peak.kernel, kernel.bytes);
    peak.kernelSockets = Math.max(peak.kernelSockets, kernel.sockets);
    const tcpPages = Number(/^TCP:.* mem (\d+)/m.exec(readFileSync("/proc/net/sockstat", "utf8"))?.[1] ?? 0);
    peak.tcpMemory = Math.max(peak.tcpMemory, tcpPages * 4096);
  }, 100);
  // One scrape after another (an instance under attack may take seconds to answer one).
  let scrapes = 0;
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      const metrics = await scrape(instance.metricsUrl, 10_000).catch(() => undefined);
      if (metrics) {
        scrapes += 1;
        peak.buffered = Math.max(peak.buffered, metrics.sum("whiteboard_send_buffer_bytes"));
      }
      await sleep(200);
    }
  })();
  const counts = { connections: 0, cut: 0 };
  const writtenBefore = processFigures(pid).writtenBytes;
  const until = Date.now() + ATTACK_SECONDS * 1_000;
  const honestAcks: boolean[] = [];
  try {
    const drawing = (async () => {
      while (Date.now() < until) {
        honestAcks.push((await honest.add(makeLine()).catch(() => ({ ok: false }))).ok);
        await sleep(100);
      }
    })();
    await Promise.all(
      Array.from({ length: ADDRESSES * SOCKETS_PER_ADDRESS }, (_, i) =>
        attack(instance.url, `127.0.9.${10 + (i % ADDRESSES)}`, until, counts),
      ),
    );
    await drawing;
  } finally {
    clearInterval(sampler);
    scraping = false;
    await scraper;
    honest.close();
  }
  const written = processFigures(pid).writtenBytes - writtenBefore;
  console.log(
    `memory attack: ${(written / MIB).toFixed(0)} MiB written, ${counts.connections} connections, ${counts.cut} cut; peak RSS ${(peak.rss / MIB).toFixed(0)} MiB, ` +
      `peak send buffers ${(peak.buffered / MIB).toFixed(1)} MiB, peak kernel send queues ${(peak.kernel / MIB).toFixed(1)} MiB ` +
      `over ${peak.kernelSockets} sockets, TCP memory of the machine ${(peak.tcpMemory / MIB).toFixed(0)} MiB; honest acks ${honestAcks.filter(Boolean).length}/${honestAcks.length}`,
  );
  // The attack filled what it could: sockets were cut, and the kernel held at least half of the bound at some point.
  expect(counts.cut).toBeGreaterThan(0);
  expect(peak.kernel).toBeGreaterThan(TOTAL_BYTES / 2);
  // The instance's own count (in the process and the kernel), and the kernel's (ss), within the bound and a packet.
  expect(scrapes).toBeGreaterThan(3);
  expect(peak.buffered).toBeLessThanOrEqual(TOTAL_BYTES + 2 * MIB);
  expect(peak.kernel).toBeLessThanOrEqual(TOTAL_BYTES + 2 * MIB);
  expect(peak.rss).toBeLessThan(256 * MIB);
}, 120_000);
