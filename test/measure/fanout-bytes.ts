/**
 * Bytes per stored operation on a subscribing instance's Redis wire, for the same `ops` events sent three ways:
 * - plain: @socket.io/redis-adapter's classic adapter (`createAdapter`: PUBLISH, every instance PSUBSCRIBEs), the
 *   event emitted as Socket.IO emits it (`io.to(room).emit("ops", { e, ops })`);
 * - sharded: @socket.io/redis-adapter's sharded adapter (dynamic), the same emit: what the service did before;
 * - board: this service's BoardAdapter (service/fanout/), the stored JSON behind a header of 10 bytes and the epoch.
 * The operations are real: freehand lines of 2, 8 and 32 samples stored one per call by the memory store (the Lua store
 * writes the same JSON). The subscriber's connection goes through a counting TCP relay (TLS included, as Memorystore
 * with in-transit encryption sends it); the figure is also given without TLS, as the message bytes the adapter
 * received.
 *
 *   npx tsx test/measure/fanout-bytes.ts        (OPS=400)
 */
import { connect, createServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import pino from "pino";
import { createClient } from "redis";
import { Server } from "socket.io";
import { RedisServer } from "../../local/redis-server";
import type { ElementInput } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import type { BoardAdapter } from "../../service/fanout/board-adapter";
import { BoardFanout } from "../../service/fanout/board-fanout";
import { redisTlsOptions } from "../../service/redis-tls";
import { MemoryBoardStore } from "../../service/store/memory-board-store";
import { boardRoom } from "../../service/sockets";

const OPS = Number(process.env.OPS ?? 400);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the bytes Redis sends through it. */
class Relay {
  fromRedis = 0;
  private readonly server: NetServer;
  private readonly sockets = new Set<Socket>();
  constructor(redisPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(redisPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("error", () => undefined);
      }
      upstream.on("data", (chunk: Buffer) => (this.fromRedis += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}

/** `count` operations, each one store call's JSON: strokes of `points` points. */
async function storedOps(points: number, count: number): Promise<{ e: string; ops: string[] }> {
  const store = new MemoryBoardStore({
    maxElements: 1_000_000,
    maxBytes: 1 << 30,
    appendReserveBytes: 1 << 27,
    maxLineBytes: 16_384,
    readBytes: 1 << 20,
    firstReadBytes: 1 << 16,
    idleTtlSeconds: 3_600,
    clearIntervalMs: 0,
    undoClearMs: 0,
    pageBytes: 16_384,
    logBytes: 1 << 18,
  });
  const ops: string[] = [];
  let e = "";
  for (let i = 0; i < count; i++) {
    const samples = Array.from({ length: points }, (_, p): [number, number, number] => [
      10_000 + i * 7 + p * 13,
      20_000 + ((i * 31 + p * 17) % 900),
      0,
    ]);
    const xs = samples.map(([x]) => x);
    const ys = samples.map(([, y]) => y);
    const [left, top] = [Math.min(...xs), Math.min(...ys)];
    const element: ElementInput = {
      id: `s${process.pid}-${i}-a1b2c3d4e5f6`,
      t: "f",
      b: [left, top, Math.max(...xs) - left, Math.max(...ys) - top],
      c: "#1a2b3c",
      sw: 4,
      f: "",
      d: encodeSamples(samples),
    };
    const written = await store.draw("board", [{ kind: "add", user: "user-abcdef12", element }]);
    ops.push(written.ops);
    e = written.e;
  }
  return { e, ops };
}

type System = "plain" | "sharded" | "board";

async function measure(redis: RedisServer, system: System, e: string, ops: string[]) {
  const { url, password, caCert } = redis.clientConfig;
  const relay = new Relay(redis.port);
  const relayPort = await relay.listen();
  const client = (port?: number) => {
    const made = createClient({
      ...(port ? { socket: { host: "127.0.0.1", port, ...redisTlsOptions(caCert) } } : { url }),
      ...(port ? {} : { socket: redisTlsOptions(caCert) }),
      password,
    });
    made.on("error", () => undefined);
    return made;
  };
  // Publisher's two, subscriber's two (its subscriber through the relay), and a listener that counts message bytes.
  const clients = [client(), client(), client(), client(relayPort), client()];
  await Promise.all(clients.map((made) => made.connect()));
  const [pubP, subP, pubS, subS, listener] = clients as [
    ReturnType<typeof client>,
    ReturnType<typeof client>,
    ReturnType<typeof client>,
    ReturnType<typeof client>,
    ReturnType<typeof client>,
  ];
  const room = boardRoom("board");
  const logger = pino({ level: "silent" });
  let publisher: Server;
  let subscriber: Server;
  let send: (ops: string) => void;
  let received: () => number;
  if (system === "board") {
    const fanout = (pub: typeof pubP, sub: typeof subP) =>
      new BoardFanout({
        frameIntervalMs: 0,
        redis: {
          publisher: { sPublish: (c, m) => pub.sPublish(c, m), shardSubscribers: () => Promise.resolve(2) },
          subscriber: {
            sSubscribe: (c, listener) => sub.sSubscribe(c, listener, true),
            sUnsubscribe: (c) => sub.sUnsubscribe(c),
          },
        },
        logger,
        emit: () => undefined,
        onRemoteCursors: () => undefined,
      });
    const pFanout = fanout(pubP, subP);
    const sFanout = fanout(pubS, subS);
    publisher = new Server({ adapter: pFanout.adapterClass });
    subscriber = new Server({ adapter: sFanout.adapterClass });
    send = (json) => pFanout.send(publisher.of("/").adapter, room, e, json, false);
    received = () => (subscriber.of("/").adapter as BoardAdapter).received.board;
  } else {
    const make = system === "plain" ? createAdapter : (pub: unknown, sub: unknown) => createShardedAdapter(pub, sub);
    publisher = new Server({ adapter: make(pubP, subP) });
    subscriber = new Server({ adapter: make(pubS, subS) });
    send = (json) => publisher.to(room).emit("ops", { e, ops: JSON.parse(json) as unknown });
    let bytes = 0;
    received = () => bytes;
    const count = (message: Buffer) => (bytes += message.length);
    if (system === "plain") await listener.pSubscribe("socket.io#/#*", count, true);
    else await listener.sSubscribe(`socket.io#/#${room}#`, count, true);
  }
  // A socket of the subscriber's in the room: the sharded adapters subscribe to the room's channel.
  await subscriber.of("/").adapter.addAll("a-socket-of-twenty-1", new Set([room]));
  await sleep(300);
  const [wireBefore, messagesBefore] = [relay.fromRedis, received()];
  for (const json of ops) {
    send(json);
    await sleep(1);
  }
  await sleep(500);
  const result = {
    system,
    wirePerOp: (relay.fromRedis - wireBefore) / ops.length,
    messagePerOp: (received() - messagesBefore) / ops.length,
  };
  // (Servers never attached to an HTTP server: only their adapters hold anything.)
  await Promise.all(
    [publisher, subscriber].map(async (server) => {
      await server.of("/").adapter.close();
    }),
  );
  await Promise.all(clients.map((made) => made.close().catch(() => undefined)));
  relay.close();
  return result;
}

async function main(): Promise<void> {
  const redis = await new RedisServer().start();
  try {
    console.log(
      "| points per stroke | stored op JSON, bytes | system | message bytes per op | wire bytes per op (TLS) |",
    );
    console.log("|---|---|---|---|---|");
    for (const points of [2, 8, 32]) {
      const { e, ops } = await storedOps(points, OPS);
      const jsonBytes = ops.reduce((sum, json) => sum + json.length, 0) / ops.length;
      for (const system of ["plain", "sharded", "board"] as const) {
        const { wirePerOp, messagePerOp } = await measure(redis, system, e, ops);
        console.log(
          `| ${points} | ${jsonBytes.toFixed(0)} | ${system} | ${messagePerOp.toFixed(0)} | ${wirePerOp.toFixed(0)} |`,
        );
      }
    }
  } finally {
    await redis.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
