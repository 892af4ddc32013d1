/**
 * Measures the board writer's pacing (docs/store.md, "Write pacing"): `npx tsx test/service/measure-write-pacing.ts`.
 *
 * One board on the Redis store (the local stand-in, TLS), drawers appending to their lines at 60 Hz without waiting
 * for acknowledgements (as the browser's outbox does), for 5 s: a light load (1 drawer) and a heavy one (8 drawers,
 * 480 events a second). For each pacing (interval, burst) it reports the time from write to acknowledgement (p50,
 * p99), the store calls a second (the broadcasts, and so the frames each client of the board gets from this
 * instance) and the appends per call. "33 ms, burst 1" is protocol 1's fixed interval.
 */
import pino from "pino";
import { RedisServer } from "../../local/redis-server";
import { BoardWriter } from "../../service/board-writer";
import { createRedisConnections } from "../../service/redis";
import type { BoardLimits } from "../../service/store/board-store";
import { RedisBoardStore } from "../../service/store/redis-board-store";
import { makeLine } from "../support/socket-client";

const LIMITS: BoardLimits = {
  maxElements: 100_000,
  maxBytes: 64 * 2 ** 20,
  appendReserveBytes: 2 ** 20,
  maxLineBytes: 16_384,
  pageBytes: 16_384,
  logBytes: 262_144,
  readBytes: 2 ** 20,
  idleTtlSeconds: 600,
  clearIntervalMs: 10_000,
  undoClearMs: 3_600_000,
};
const SECONDS = 5;
const PACINGS: [intervalMs: number, burst: number][] = [
  [33, 1],
  [33, 3],
  [16, 4],
  [0, 1],
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main(): Promise<void> {
  const server = await new RedisServer().start();
  const connections = createRedisConnections(server.clientConfig, pino({ level: "silent" }));
  await connections.connect();
  const store = new RedisBoardStore(connections.commands, LIMITS, { generation: () => Promise.resolve("measure") });
  try {
    for (const drawers of [1, 8]) {
      for (const [intervalMs, burst] of PACINGS) {
        let calls = 0;
        const writer = new BoardWriter({
          store,
          maxBatch: 64,
          intervalMs,
          burst,
          clearsDelete: () => false,
          broadcast: () => (calls += 1),
        });
        const board = `pacing-${drawers}-${intervalMs}-${burst}`;
        const latencies: number[] = [];
        const started = performance.now();
        await Promise.all(
          Array.from({ length: drawers }, async (_, index) => {
            const user = `drawer-${index}`.padEnd(16, "0");
            const line = makeLine();
            await writer.write(board, { kind: "add", user, element: line });
            const pending: Promise<void>[] = [];
            for (let n = 1; performance.now() - started < SECONDS * 1000; n += 1) {
              const sent = performance.now();
              pending.push(
                writer
                  .write(board, { kind: "append", user, points: { i: line.id, n, d: "CCC", b: line.b } })
                  .then(() => void latencies.push(performance.now() - sent)),
              );
              await new Promise((resolve) => setTimeout(resolve, 1000 / 60));
            }
            await Promise.all(pending);
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        latencies.sort((a, b) => a - b);
        console.log(
          `${drawers} drawer(s), pacing ${intervalMs} ms / burst ${burst}: ack p50 ${percentile(latencies, 0.5)?.toFixed(1)} ms, ` +
            `p99 ${percentile(latencies, 0.99)?.toFixed(1)} ms; ${(calls / seconds).toFixed(0)} calls/s, ` +
            `${(latencies.length / calls).toFixed(1)} appends per call`,
        );
      }
    }
  } finally {
    await connections.close();
    await server.destroy();
  }
}

void main();
