/**
 * `make soak`: does anything grow that should not? 100 clients on 10 boards over 3 instances draw 30 lines a second
 * in all for SOAK_MINUTES (30), one event per pointer sample, every delivery checked (bench/lib/ledger.ts) in
 * windows of a minute. Every SAMPLE_SECONDS the instances' RSS and V8 heap and Redis's used memory are read; the
 * store's content is read at the end, for Redis bytes per stored stroke byte. Writes bench/soak.json and renders
 * bench/SOAK.md (slopes per minute from a linear fit).
 *
 * Options (environment): SOAK_MINUTES (30), CLIENTS (100), BOARDS (10), LINES_PER_SECOND (30), SAMPLES_PER_LINE
 * (16: a quarter-second stroke at 60 Hz), SAMPLE_SECONDS (30), WINDOW_SECONDS (60), WORKERS (2).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pidusage from "pidusage";
import { createClient } from "redis";
import { scrape } from "../local/metrics-reader";
import { redisTlsOptions } from "../service/redis-tls";
import { BenchTopology } from "./lib/bench-topology";
import { LoadWorkers } from "./lib/load-workers";
import { machineNow } from "./lib/machine";
import { CpuWindow } from "./lib/process-stats";
import { storedContent } from "./lib/protocol";
import { renderSoak } from "./lib/render-soak";
import { PIECES_STORED, sumOf } from "./lib/service-metrics";
import type { SoakResults, SoakSample, SoakWindow } from "./lib/results";

const settings: SoakResults["settings"] = {
  minutes: Number(process.env.SOAK_MINUTES ?? 30),
  clients: Number(process.env.CLIENTS ?? 100),
  boards: Number(process.env.BOARDS ?? 10),
  linesPerSecond: Number(process.env.LINES_PER_SECOND ?? 30),
  samplesPerLine: Number(process.env.SAMPLES_PER_LINE ?? 16),
  instances: 3,
  sampleSeconds: Number(process.env.SAMPLE_SECONDS ?? 30),
  windowSeconds: Number(process.env.WINDOW_SECONDS ?? 60),
};
const WORKERS = Number(process.env.WORKERS ?? 2);
const SAMPLE_INTERVAL_MS = 1000 / 60;
const MB = 1e6;

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);

async function main(): Promise<void> {
  const host = machineNow();
  // Each client draws a line every `cycle` ms, so that all of them together draw LINES_PER_SECOND.
  const cycleMs = (settings.clients / settings.linesPerSecond) * 1000;
  const pauseMs = Math.max(0, cycleMs - settings.samplesPerLine * SAMPLE_INTERVAL_MS);
  const linesPerBoard = (settings.linesPerSecond * settings.minutes * 60) / settings.boards;
  log(`starting Redis and ${settings.instances} instances`);
  const topology = await BenchTopology.start({
    instances: settings.instances,
    env: {
      LOG_LEVEL: "warn",
      MAX_SOCKETS_PER_ADDRESS: String(settings.clients),
      // A soak measures growth: the boards must hold everything drawn, whatever the run's length.
      MAX_ELEMENTS_PER_BOARD: String(Math.min(1_000_000, Math.max(100_000, Math.ceil(linesPerBoard * 1.5)))),
      // Every simulated user comes from 127.0.0.1: the per-address write budget is not what is measured.
      WRITE_BYTES_PER_ADDRESS_PER_SECOND: String(2 ** 30),
      WRITE_BYTES_PER_ADDRESS_BURST: String(2 ** 30),
      MAX_BOARD_BYTES: String(256 * 2 ** 20),
    },
  });
  const { url, password, caCert } = topology.redis.clientConfig;
  const redis = createClient({ url, password, socket: redisTlsOptions(caCert) });
  redis.on("error", () => undefined);
  await redis.connect();
  const redisUsedMb = async () => Number(/^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1] ?? 0) / MB;
  const workers = LoadWorkers.start(WORKERS);
  const samples: SoakSample[] = [];
  const windows: SoakWindow[] = [];
  const write = (results: SoakResults) => {
    writeFileSync(path.join(__dirname, "soak.json"), `${JSON.stringify(results, null, 1)}\n`);
    writeFileSync(path.join(__dirname, "SOAK.md"), renderSoak(results));
  };
  try {
    const boardOf = (i: number) => `soak-${i % settings.boards}`;
    log(`connecting ${settings.clients} clients on ${settings.boards} boards`);
    await workers.connect(
      "ours",
      "unbatched",
      Array.from({ length: settings.clients }, (_, i) => ({
        url: topology.instance(i % settings.instances).url,
        board: boardOf(i),
        draws: true,
      })),
    );
    const redisUsedStartMb = await redisUsedMb();
    const processes = new Map(topology.instances.map((instance) => [instance.name, instance.pid as number]));
    const cpu = await CpuWindow.start(processes);
    const started = Date.now();
    let piecesStored = 0;
    const piecesAtStart = (
      await Promise.all(topology.instances.map((i) => scrape(i.metricsUrl, 10_000).catch(() => undefined)))
    ).reduce((sum, m) => sum + ((m && sumOf(m, PIECES_STORED)) ?? 0), 0);
    /** Pieces stored so far: the instances' counter when they export it, else the windows' acknowledgements. */
    const sample = async () => {
      const at = (Date.now() - started) / 1000;
      const rss = await Promise.all(
        topology.instances.map((i) => pidusage(i.pid as number).then((u) => u.memory / MB)),
      );
      const metrics = await Promise.all(
        topology.instances.map((i) => scrape(i.metricsUrl, 10_000).catch(() => undefined)),
      );
      const counts = metrics.map((m) => m && sumOf(m, PIECES_STORED));
      const stored = counts.every((count) => count !== undefined)
        ? counts.reduce<number>((sum, count) => sum + (count ?? 0), 0) - piecesAtStart
        : piecesStored;
      samples.push({
        at,
        rssMb: rss,
        heapUsedMb: metrics.map((m) => (m ? m.sum("nodejs_heap_size_used_bytes") / MB : Number.NaN)),
        redisUsedMb: await redisUsedMb(),
        piecesStored: stored,
      });
    };
    await sample();
    const sampler = setInterval(() => void sample().catch(() => undefined), settings.sampleSeconds * 1000);
    try {
      while (Date.now() - started < settings.minutes * 60_000) {
        const at = (Date.now() - started) / 1000;
        const result = await workers.draw({
          drawers: Array.from({ length: settings.clients }, (_, i) => i),
          pattern: { samplesPerLine: settings.samplesPerLine, sampleIntervalMs: SAMPLE_INTERVAL_MS, pauseMs },
          durationMs: Math.min(settings.windowSeconds * 1000, settings.minutes * 60_000 - (Date.now() - started)),
          drain: { minMs: 500, quietMs: 500, maxMs: 10_000 },
        });
        piecesStored += result.piecesStored;
        windows.push({ at, result });
        const { delivery, latency } = result;
        log(
          `minute ${Math.round(at / 60)}: p50/p99 ${latency.p50}/${latency.p99} ms, delivered ${delivery.delivered}/${delivery.expected}, ` +
            `lost ${delivery.lost}, dup ${delivery.duplicates}, corrupt ${delivery.corrupt}; Redis ${samples.at(-1)?.redisUsedMb.toFixed(1)} MB`,
        );
      }
    } finally {
      clearInterval(sampler);
    }
    await sample();
    const instanceUsage = await cpu.stop();
    log("reading what the store holds");
    let records = 0;
    let recordBytes = 0;
    for (let board = 0; board < settings.boards; board += 1) {
      const content = await storedContent(topology.instance(0).url, boardOf(board));
      records += content.records;
      recordBytes += content.bytes;
    }
    const results: SoakResults = {
      generatedAt: new Date().toISOString(),
      machine: host,
      settings,
      samples,
      windows,
      stored: { records, recordBytes, redisUsedStartMb, redisUsedEndMb: await redisUsedMb() },
      instanceUsage,
    };
    write(results);
    log(
      `wrote bench/soak.json and bench/SOAK.md (load average now ${os
        .loadavg()
        .map((v) => v.toFixed(2))
        .join(", ")})`,
    );
  } finally {
    await workers.disconnect().catch(() => undefined);
    workers.stop();
    await redis.quit().catch(() => undefined);
    await topology.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
