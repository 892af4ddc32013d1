/**
 * Measures what the store costs Redis (docs/store.md, "Measured"): `npx tsx test/service/measure-redis-work.ts`.
 *
 * 1. Redis commands per stored append, one append per store call, through a real instance (its EVALSHA, the commands
 *    the script runs, the adapter's SPUBLISH, and whatever else the instance sends meanwhile: presence, PINGs), from
 *    INFO commandstats before and after, and the draw script's time per call: with the line alone on its page, and
 *    with 100 lines appended to in turn (a fuller open page, which each append searches and rewrites).
 * 2. Redis bytes per stored element byte: MEMORY USAGE of a board's keys against the bytes of its records (`by`), for
 *    a board of typical lines, and used_memory's growth for the same board.
 *
 * Needs redis-server (the local stand-in); takes about a minute.
 */
import { createClient } from "redis";
import { Topology } from "../../local/topology";
import { encodeSamples } from "../../protocol/points";
import { redisTlsOptions } from "../../service/redis-tls";
import { boardKeys } from "../../service/store/redis-scripts";
import { connectClient, editableBoard, makeLine } from "../support/socket-client";

type Operator = ReturnType<typeof createClient>;

interface Spent {
  calls: number;
  usec: number;
}

async function commandCounts(redis: Operator): Promise<Map<string, Spent>> {
  const counts = new Map<string, Spent>();
  const stats = (await redis.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm);
  for (const [, name, calls, usec] of stats) counts.set(name as string, { calls: Number(calls), usec: Number(usec) });
  return counts;
}

function difference(after: Map<string, Spent>, before: Map<string, Spent>): [string, Spent][] {
  return [...after]
    .map(([name, { calls, usec }]): [string, Spent] => {
      const was = before.get(name) ?? { calls: 0, usec: 0 };
      return [name, { calls: calls - was.calls, usec: usec - was.usec }];
    })
    .filter(([name, { calls }]) => calls > 0 && name !== "info")
    .sort((a, b) => b[1].calls - a[1].calls);
}

/** A line of `samples` pointer samples, as a pen draws it: small steps, pressure. */
function typicalLine(samples: number, seed: number) {
  let [x, y] = [(seed * 7_919) % 100_000, (seed * 104_729) % 100_000];
  const points: [number, number, number][] = [];
  for (let i = 0; i < samples; i += 1) {
    x += 20 + ((i * 7 + seed) % 40);
    y += ((i * 13 + seed) % 50) - 25;
    points.push([x, y, 4 + (i % 8)]);
  }
  return makeLine({ d: encodeSamples(points) });
}

/** CPU time the Redis process has used (user and system), from INFO cpu. */
async function redisCpuSeconds(redis: Operator): Promise<number> {
  const text = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

async function main(): Promise<void> {
  const topology = await Topology.start({ instances: 1, env: { LOG_LEVEL: "warn" } });
  const { url, password, caCert } = topology.redis.clientConfig;
  const redis: Operator = createClient({ url, password, socket: redisTlsOptions(caCert) });
  await redis.connect();
  try {
    const instance = topology.instance(0).url;
    const board = editableBoard();
    const drawer = await connectClient(instance);
    // A listener on the board, so that every append is published and delivered.
    const listener = await connectClient(instance);
    await drawer.join(board);
    await listener.join({ board: board.board });
    const APPENDS = 1_000;
    for (const count of [1, 100]) {
      const lines = Array.from({ length: count }, () => makeLine());
      for (const line of lines) await drawer.add(line);
      const before = await commandCounts(redis);
      const cpuBefore = await redisCpuSeconds(redis);
      const started = performance.now();
      for (let k = 0; k < APPENDS; k += 1) {
        const line = lines[k % count] as ReturnType<typeof makeLine>;
        const n = Math.floor(k / count) + 1;
        const ack = await drawer.append({ i: line.id, n, d: "CCC", b: line.b });
        if (!ack.ok) throw new Error(`append ${n} refused: ${JSON.stringify(ack)}`);
      }
      const seconds = (performance.now() - started) / 1000;
      const cpu = (await redisCpuSeconds(redis)) - cpuBefore;
      const spent = difference(await commandCounts(redis), before);
      const total = spent.reduce((sum, [, { calls }]) => sum + calls, 0);
      const script = spent.find(([name]) => name === "evalsha")?.[1] ?? { calls: 1, usec: 0 };
      console.log(
        `1. ${APPENDS} appends to ${count} line(s) in turn, one per call, in ${seconds.toFixed(1)} s: ` +
          `${(total / APPENDS).toFixed(2)} commands each; the draw script ${(script.usec / script.calls).toFixed(1)} µs a call; ` +
          `Redis's process CPU ${((cpu * 1e6) / APPENDS).toFixed(0)} µs an append`,
      );
      const open = Number(await redis.hStrLen(boardKeys(board.board)[0], "o"));
      console.log(`   ${spent.map(([name, { calls }]) => `${name} ${(calls / APPENDS).toFixed(2)}`).join(", ")}`);
      console.log(`   the open page is ${open} bytes`);
    }
    drawer.close();
    listener.close();

    // 2. Boards of 2,000 lines of 60 samples (a second of drawing each), and of 2,000 rectangles, drawn through the
    // service.
    const writers = await Promise.all(Array.from({ length: 4 }, () => connectClient(instance)));
    const boards: [string, (seed: number) => ReturnType<typeof makeLine>][] = [
      ["lines of 60 samples", (seed) => typicalLine(60, seed)],
      ["rectangles", () => makeLine({ t: "r", sw: 2, d: "" })],
    ];
    for (const [what, element] of boards) {
      const memoryBefore = Number(/^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1]);
      const big = editableBoard();
      for (const writer of writers) await writer.join(big);
      for (let i = 0; i < 2_000; i += 4) await Promise.all(writers.map((writer, w) => writer.add(element(i + w))));
      const keys = boardKeys(big.board);
      const usage = await Promise.all(keys.map(async (key) => [key, (await redis.memoryUsage(key)) ?? 0] as const));
      const recordBytes = Number(await redis.hGet(keys[0], "by"));
      const keyBytes = usage.reduce((sum, [, bytes]) => sum + bytes, 0);
      const memoryAfter = Number(/^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1]);
      console.log(
        `2. 2,000 ${what}: ${recordBytes} bytes of records; MEMORY USAGE of its keys ${keyBytes} ` +
          `(${(keyBytes / recordBytes).toFixed(2)} per record byte: ` +
          `${usage.map(([key, bytes]) => `${key.slice(-1)} ${bytes}`).join(", ")}); used_memory grew ` +
          `${memoryAfter - memoryBefore} (${((memoryAfter - memoryBefore) / recordBytes).toFixed(2)} per record byte)`,
      );
    }
    for (const writer of writers) writer.close();
  } finally {
    await redis.quit();
    await topology.stop();
  }
}

void main();
