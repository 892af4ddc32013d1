/**
 * Measures what the store costs Redis (docs/store.md, "Measured"): `npx tsx test/service/measure-redis-work.ts`.
 *
 * 1. Redis commands per stored append, one append per store call, through a real instance (its EVALSHA, the commands
 *    the script runs, the adapter's SPUBLISH, and whatever else the instance sends meanwhile: presence, PINGs), from
 *    INFO commandstats before and after.
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

async function commandCounts(redis: Operator): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, name, calls] of (await redis.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    counts.set(name as string, Number(calls));
  return counts;
}

function difference(after: Map<string, number>, before: Map<string, number>): [string, number][] {
  return [...after]
    .map(([name, calls]): [string, number] => [name, calls - (before.get(name) ?? 0)])
    .filter(([name, calls]) => calls > 0 && name !== "info")
    .sort((a, b) => b[1] - a[1]);
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
    const line = makeLine();
    await drawer.add(line);
    // Past the first minute's TTL refresh, as a board in use is.
    const APPENDS = 1_000;
    const before = await commandCounts(redis);
    const started = performance.now();
    for (let n = 1; n <= APPENDS; n += 1) {
      const ack = await drawer.append({ i: line.id, n, d: "CCC", b: line.b });
      if (!ack.ok) throw new Error(`append ${n} refused: ${JSON.stringify(ack)}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const spent = difference(await commandCounts(redis), before);
    const total = spent.reduce((sum, [, calls]) => sum + calls, 0);
    console.log(
      `1. ${APPENDS} appends, one per call, in ${seconds.toFixed(1)} s: ${(total / APPENDS).toFixed(2)} commands each`,
    );
    console.log(`   ${spent.map(([name, calls]) => `${name} ${(calls / APPENDS).toFixed(2)}`).join(", ")}`);
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
