/**
 * `make bench`: this service against the plain Redis-adapter design (bench/baseline/server.ts), same
 * machine, same run, same load generator; then catch-up time for late joiners. Writes bench/RESULTS.md.
 *
 * Load, as users draw: everyone on one board, spread over three instances; a few drawers each make
 * pointer samples at 60 per second in continuous strokes, every other client watches. Latency is from a
 * pointer sample's scheduled time to its arrival at each remote client.
 *
 * Options (environment): CLIENTS (client counts to ramp at, "750,150"), LEVELS (drawers per step,
 * "1,2,3,4,6,8"), SECONDS per step (10), WORKERS (load processes, 3: one for the drawers, the rest watch),
 * CATCH_UP_ONLY=1 to measure only the late joiner's catch-up (prints, writes nothing).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { io } from "socket.io-client";
import { BoardState } from "../client/core/board-state";
import { Topology } from "../local/topology";
import { READER } from "../local/read-board";
import type { StrokeInput, SyncAck } from "../protocol/events";
import { encodePoints } from "../protocol/points";
import { createRedisConnections } from "../service/redis";
import { strokeBody } from "../service/store/board-store";
import { RedisBoardStore } from "../service/store/redis-board-store";
import { clock } from "./lib/latency";
import { LoadWorkers, type DrawResult } from "./lib/load-workers";
import type { System } from "./lib/load-worker";
import { CpuWindow, settledRssBytes, type ProcessUsage } from "./lib/process-stats";

const numbers = (text: string) => text.split(",").map(Number);
const CLIENT_COUNTS = numbers(process.env.CLIENTS ?? "750,150");
const LEVELS = numbers(process.env.LEVELS ?? "1,2,3,4,6,8");
const SECONDS = Number(process.env.SECONDS ?? 10);
const WORKERS = Number(process.env.WORKERS ?? 3);
const INSTANCES = 3;
const SAMPLE_HZ = 60;
const P99_LIMIT_MS = 100;
const CATCH_UP_SIZES = [10_000, 100_000];
const CATCH_UP_POINTS = [3, 8, 16];

interface Step {
  drawers: number;
  result: DrawResult;
  usage: ProcessUsage[];
  /** Processes that died during the step (an overloaded instance can crash). */
  died: string[];
}

interface SystemRun {
  system: System;
  clients: number;
  rssIdleMb: number[];
  rssConnectedMb: number[];
  kbPerConnection: number;
  steps: Step[];
}

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

async function runSystem(system: System, workers: LoadWorkers, clientCount: number): Promise<SystemRun> {
  log(`${system}, ${clientCount} clients: starting Redis and ${INSTANCES} instances`);
  // The last lines each instance wrote, to say why one died.
  const lastLines = new Map<string, string[]>();
  const topology = await Topology.start({
    onLine: (source, line) => lastLines.set(source, [...(lastLines.get(source) ?? []), line].slice(-5)),
    instances: INSTANCES,
    nodeArgs: system === "baseline" ? ["--import", "tsx", path.join(__dirname, "baseline", "server.ts")] : undefined,
    // The benchmark measures throughput; the per-connection abuse limit is not what is being compared.
    // Every simulated user comes from 127.0.0.1, up to 250 of them on each instance.
    env: { LOG_LEVEL: "warn", RATE_LIMIT_PER_SECOND: "1000", RATE_LIMIT_BURST: "2000", MAX_SOCKETS: "1000", MAX_SOCKETS_PER_ADDRESS: "1000" },
  });
  try {
    const pids = () => topology.instances.map((instance) => instance.pid as number);
    log(`${system}: connecting ${clientCount} clients`);
    const drawerSlots = Math.max(...LEVELS);
    const clients = Array.from({ length: clientCount }, (_, i) => ({
      url: topology.instance(i % INSTANCES).url,
      board: "bench",
      draws: i < drawerSlots,
    }));
    // Memory per connection is the difference of two RSS readings. A first round of connections grows each
    // heap to its working size, so that growth is not counted as the connections' own.
    await workers.connect(system, clients);
    await workers.disconnect();
    const rssIdle = await Promise.all(pids().map((pid) => settledRssBytes(pid)));
    await workers.connect(system, clients);
    const rssConnected = await Promise.all(pids().map((pid) => settledRssBytes(pid, 10_000)));
    const perConnection = rssConnected.reduce((sum, rss, i) => sum + rss - (rssIdle[i] ?? 0), 0) / clientCount;

    const steps: Step[] = [];
    for (const drawers of LEVELS) {
      const processes = new Map<string, number>([
        ...topology.instances.map((instance) => [instance.name, instance.pid as number] as const),
        ["redis", topology.redis.pid as number],
        ...workers.pids.map((pid, i) => [`load-${i + 1}`, pid] as const),
      ]);
      const cpu = await CpuWindow.start(processes);
      const result = await workers.draw(
        Array.from({ length: drawers }, (_, i) => i),
        { samplesPerStroke: SAMPLE_HZ, sampleIntervalMs: 1000 / SAMPLE_HZ, pauseMs: 0 },
        SECONDS * 1000,
      );
      const usage = await cpu.stop();
      const died = usage.filter((u) => u.died).map((u) => u.name);
      steps.push({ drawers, result, usage, died });
      log(`${system}: ${drawers} drawers: p99 ${result.latency.p99} ms, delivered ${(result.deliveredFraction * 100).toFixed(2)}%`);
      if (died.length > 0) {
        log(`${system}: ${died.join(", ")} died under this load; no higher step. Its last words:`);
        for (const name of died) for (const line of lastLines.get(name) ?? []) log(`  ${name}: ${line.slice(0, 300)}`);
        break;
      }
      if (system === "ours") await workers.clear(); // next step starts from an empty board
    }
    await workers.disconnect();
    return {
      system,
      clients: clientCount,
      rssIdleMb: rssIdle.map(mb),
      rssConnectedMb: rssConnected.map(mb),
      kbPerConnection: Math.round(perConnection / 100) / 10,
      steps,
    };
  } finally {
    await topology.stop();
  }
}

interface CatchUp {
  strokes: number;
  points: number;
  megabytes: number;
  joinAckMs: number;
  withApplyMs: number;
}

/**
 * Time for a late joiner to receive (and apply) boards of each size, with strokes of each point count. The
 * browser client's chunks hold 2 to 3 points on a fast connection (a chunk goes out per pointer sample or two),
 * more on a slow one; 16 points stands for long strokes.
 */
async function measureCatchUp(sizes: readonly number[], pointCounts: readonly number[]): Promise<CatchUp[]> {
  const topology = await Topology.start({ instances: 1, env: { LOG_LEVEL: "warn", MAX_STROKES_PER_BOARD: "1000000", MAX_BOARD_BYTES: String(256 * 2 ** 20) } });
  const redis = createRedisConnections(topology.redis.clientConfig, pino({ level: "silent" }));
  await redis.connect();
  const store = new RedisBoardStore(redis.commands, {
    maxStrokes: 1_000_000,
    maxBytes: 256 * 2 ** 20,
    pageBytes: 16_384,
    logBytes: 262_144,
    readBytes: 2 ** 20,
    idleTtlSeconds: 3600,
    clearIntervalMs: 0,
    undoClearMs: 0,
  });
  const results: CatchUp[] = [];
  try {
    for (const points of pointCounts) for (const size of sizes) {
      const board = `catch-up-${size}-${points}`;
      log(`catch-up: filling a board with ${size} strokes of ${points} points`);
      for (let start = 0; start < size; start += 500) {
        const strokes = Array.from({ length: Math.min(500, size - start) }, (_, i) => {
          const stroke: StrokeInput = {
            id: `s${start + i}`,
            p: encodePoints(Array.from({ length: points }, (_, p) => [((start + i) % 97) * 160 + p * 16, 5_000 + p * 100])),
            c: "#202124",
            w: 3,
          };
          return { id: stroke.id, v: 0, body: strokeBody(stroke, READER.id) };
        });
        await store.addStrokes(board, READER.id, strokes);
      }
      const runs: { ack: number; total: number; bytes: number }[] = [];
      for (let run = 0; run < 5; run += 1) {
        const socket = io(topology.instance(0).url, { transports: ["websocket"], forceNew: true });
        await new Promise((resolve) => socket.once("connect", () => resolve(undefined)));
        const started = clock();
        const state = new BoardState();
        let bytes = 0;
        let lastReceived = started;
        let ack = (await socket.timeout(30_000).emitWithAck("join", { board, user: READER })) as SyncAck;
        for (;;) {
          lastReceived = clock();
          if (!ack.ok || !("snapshot" in ack)) throw new Error(`catch-up read failed: ${JSON.stringify(ack).slice(0, 200)}`);
          if (state.epoch !== ack.e) state.reset(ack.e);
          state.applySnapshot(ack.snapshot);
          bytes += JSON.stringify(ack.snapshot.records).length;
          if (ack.snapshot.next === undefined) break;
          ack = (await socket.timeout(30_000).emitWithAck("read", { e: ack.e, at: ack.s, cursor: ack.snapshot.next })) as SyncAck;
        }
        runs.push({ ack: lastReceived - started, total: clock() - started, bytes });
        socket.close();
      }
      const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
      results.push({
        strokes: size,
        points,
        megabytes: Math.round((runs[0]?.bytes ?? 0) / 1e5) / 10,
        joinAckMs: Math.round(median(runs.map((r) => r.ack))),
        withApplyMs: Math.round(median(runs.map((r) => r.total))),
      });
      log(`catch-up: ${size} strokes of ${points} points in ${results.at(-1)?.withApplyMs} ms`);
    }
  } finally {
    await redis.close();
    await topology.stop();
  }
  return results;
}

/** A run without the acked-id lists (tens of thousands of ids, not figures). */
function withoutAcks(run: SystemRun) {
  return { ...run, steps: run.steps.map((step) => ({ ...step, result: { ...step.result, acked: step.result.acked.length } })) };
}

function sustained(run: SystemRun): Step | undefined {
  return run.steps
    .filter((step) => step.result.latency.p99 < P99_LIMIT_MS && step.result.deliveredFraction >= 0.999 && step.died.length === 0)
    .at(-1);
}

/** The table of one client count: every step of both systems side by side. */
function resultsTable(baseline: SystemRun, ours: SystemRun): string {
  const cpu = (step: Step, prefix: string) =>
    step.usage.filter((u) => u.name.startsWith(prefix)).map((u) => u.cpuPercent).join(" / ");
  /** "baseline / ours" for one figure of a step; "–" where a system stopped before that step. */
  const pair = (level: number, figure: (step: Step) => string | number) =>
    [baseline, ours]
      .map((run) => {
        const step = run.steps.find((s) => s.drawers === level);
        return step ? String(figure(step)) : "–";
      })
      .join(" / ");
  const rows = LEVELS.map((drawers) => {
    const samplesPerSecond = drawers * SAMPLE_HZ;
    const b = baseline.steps.find((step) => step.drawers === drawers);
    const o = ours.steps.find((step) => step.drawers === drawers);
    return [
      drawers,
      samplesPerSecond,
      Math.round(samplesPerSecond * (baseline.clients - 1)),
      pair(drawers, (step) => `${(step.result.deliveredFraction * 100).toFixed(2)}%${step.died.length ? ` (${step.died.join(", ")} died)` : ""}`),
      pair(drawers, (step) => step.result.latency.p50),
      pair(drawers, (step) => step.result.latency.p95),
      pair(drawers, (step) => step.result.latency.p99),
      pair(drawers, (step) => step.result.latency.max),
      b && o ? (o.result.latency.p99 / b.result.latency.p99).toFixed(2) : "–",
      pair(drawers, (step) => Math.round(step.result.messagesSent / SECONDS)),
      pair(drawers, (step) => cpu(step, "instance")),
      pair(drawers, (step) => cpu(step, "redis")),
      pair(drawers, (step) => cpu(step, "load")),
      pair(drawers, (step) => step.result.samplerLagP99),
    ].join(" | ");
  });
  const best = (run: SystemRun) => {
    const step = sustained(run);
    return step
      ? `${step.drawers * SAMPLE_HZ} samples/s in, ${Math.round(step.drawers * SAMPLE_HZ * (run.clients - 1))} deliveries/s out (${step.drawers} drawers)`
      : `none: p99 over ${P99_LIMIT_MS} ms from the lowest step`;
  };
  const errors = (run: SystemRun) => run.steps.map((step) => JSON.stringify(step.result.errors)).join(", ");
  return `### ${baseline.clients} clients (${Math.round(baseline.clients / INSTANCES)} per instance)
| drawers | samples/s in | deliveries/s expected | delivered | p50 ms | p95 ms | p99 ms | max ms | p99 ours/baseline | messages/s sent | instance CPU % | Redis CPU % | load-gen CPU % | sampler lag p99 ms |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.map((row) => `| ${row} |`).join("\n")}

Highest sustained load (p99 under ${P99_LIMIT_MS} ms, at least 99.9% delivered, no instance lost):
baseline ${best(baseline)}; ours ${best(ours)}.
Errors per step: baseline ${errors(baseline)}; ours ${errors(ours)}.
`;
}

/** Each target of the benchmark, met or not, from the figures of this run. */
function targets(pairs: readonly [SystemRun, SystemRun][], catchUp: readonly CatchUp[]): string {
  const mark = (met: boolean) => (met ? "met" : "**missed**");
  const [baseline, ours] = pairs[0] as [SystemRun, SystemRun];
  const p99Worse = ours.steps.filter((step) => {
    const other = baseline.steps.find((b) => b.drawers === step.drawers);
    return other !== undefined && step.result.latency.p99 > other.result.latency.p99;
  });
  const allDelivered = ours.steps.every((step) => step.result.deliveredFraction === 1);
  /** The highest step with everything delivered and no instance lost, whatever the latency. */
  const survived = (run: SystemRun) =>
    run.steps.filter((step) => step.result.deliveredFraction >= 0.999 && step.died.length === 0).at(-1)?.drawers ?? 0;
  const sustainedLine = ([b, o]: [SystemRun, SystemRun]) => {
    const [sb, so] = [sustained(b)?.drawers ?? 0, sustained(o)?.drawers ?? 0];
    return `  - ${o.clients} clients: p99 under ${P99_LIMIT_MS} ms up to ${so * SAMPLE_HZ} samples/s for ours, ${sb * SAMPLE_HZ} for the baseline: ${mark(so >= sb)}; everything delivered with no instance lost up to ${survived(o) * SAMPLE_HZ} samples/s for ours, ${survived(b) * SAMPLE_HZ} for the baseline: ${mark(survived(o) >= survived(b))}.`;
  };
  const big = catchUp.filter((c) => c.strokes === 100_000);
  return [
    `- 100% delivery (ours, every step at ${ours.clients} clients): ${mark(allDelivered)}.`,
    `- p99 no worse than the baseline's at ${ours.clients} clients: ${mark(p99Worse.length === 0)}` +
      (p99Worse.length ? ` (worse at ${p99Worse.map((step) => `${step.drawers} drawers`).join(", ")})` : "") + ".",
    "- Highest sustained pointer-sample throughput at least the baseline's:",
    ...pairs.map(sustainedLine),
    `- Catch-up of 100,000 strokes under 1 s: ${big.map((c) => `${c.points} points ${c.withApplyMs} ms, ${mark(c.withApplyMs < 1000)}`).join("; ")}.`,
    "  Where it is missed, the time is the late joiner's own JSON.parse of the ack (about 50 ms per MB of JSON on",
    "  this machine, the same parser as Chrome's), not the service: profiled, the service reads the board (an HMGET",
    "  and a MULTI over pages of 128 strokes) and starts sending in about 200 ms for 19 MB, splicing the stored JSON",
    "  into the packet without parsing it. Fewer bytes per stroke is what helps: the browser client rounds points to",
    "  1/10,000 of the board, and its chunks hold 2 to 3 points when the connection is fast.",
    "- Runs on this shared two-core machine differ by tens of percent (p99 most); compare systems within one run.",
  ].join("\n");
}

function report(runs: SystemRun[], catchUp: CatchUp[], seconds: number): string {
  const redisVersion = execFileSync("redis-server", ["--version"]).toString().trim();
  const pairs = CLIENT_COUNTS.map((clients) => runs.filter((run) => run.clients === clients) as [SystemRun, SystemRun]);
  const [baseline, ours] = pairs[0] as [SystemRun, SystemRun];
  return `# Benchmark results: this service against the plain Redis-adapter design

Generated by \`make bench\` (bench/compare.ts) on ${new Date().toISOString().slice(0, 10)}; the run took ${Math.round(seconds)} s.
Do not edit by hand: run it again.

## Machine and command
- ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}
- Node.js ${process.version}; ${redisVersion}
- Everything on this machine: Redis, ${INSTANCES} instances of the system under test, ${WORKERS} load-generator processes
  (the drawers in one, the watchers in the others). The systems run one after the other, never together.
- Command: \`CLIENTS=${CLIENT_COUNTS.join(",")} LEVELS=${LEVELS.join(",")} SECONDS=${SECONDS} WORKERS=${WORKERS} make bench\`

## Load
All clients on one board, spread evenly over ${INSTANCES} instances, WebSocket only. Each step has some clients draw
continuous strokes of ${SAMPLE_HZ} pointer samples per second for ${SECONDS} s; everyone else watches. **Baseline**
(bench/baseline/server.ts): one \`drawing\` message per segment, relayed by \`socket.broadcast.emit\` through
@socket.io/redis-adapter, as Socket.IO's whiteboard example. **Ours**: the browser client's own session, which stores
every chunk in Redis before broadcasting it, and sends the next chunk when the previous one is acknowledged (points
drawn meanwhile go together); its watchers are plain sockets joined to the board, as light as the baseline's. Latency: from a sample's scheduled time to its arrival at each remote client, so any
lateness of the generator counts against the system (its own lag is the last column).

## Results (each cell: baseline / ours)
CPU is a percentage of one core, per process (instances a / b / c, load generators 1 / 2 / 3). The machine has
${os.cpus().length} cores in all, shared by every process.

${pairs.map(([b, o]) => resultsTable(b, o)).join("\n")}
## Targets
${targets(pairs, catchUp)}

## Memory (RSS per instance at ${baseline.clients} clients)
Each reading is the lowest of readings every 250 ms (over 5 s idle, 10 s connected), taken after a first round of
connections has grown the heap to its working size; the difference of two readings is noisy to a few KB.
| | idle MB | with ${Math.round(baseline.clients / INSTANCES)} connections MB | per connection KB |
|---|---|---|---|
| baseline | ${baseline.rssIdleMb.join(" / ")} | ${baseline.rssConnectedMb.join(" / ")} | ${baseline.kbPerConnection} |
| ours | ${ours.rssIdleMb.join(" / ")} | ${ours.rssConnectedMb.join(" / ")} | ${ours.kbPerConnection} |

## Late joiner catch-up (ours; the baseline keeps nothing, so a late joiner sees a blank board)
A fresh client (socket.io-client in Node.js, the same V8 JSON parser as Chrome) joins a board of N strokes of
P points: time to the join ack, and to the ack applied to the client's board state (median of 5). The browser
client's chunks hold 2 to 3 points when the connection is fast; 16 points stands for long strokes.

| strokes | points each | ack size MB | join ack ms | ack + apply ms |
|---|---|---|---|---|
${catchUp.map((c) => `| ${c.strokes} | ${c.points} | ${c.megabytes} | ${c.joinAckMs} | ${c.withApplyMs} |`).join("\n")}
`;
}

async function main(): Promise<void> {
  if (process.env.CATCH_UP_ONLY) {
    console.log(await measureCatchUp(CATCH_UP_SIZES, CATCH_UP_POINTS));
    return;
  }
  const started = Date.now();
  const workers = LoadWorkers.start(WORKERS);
  try {
    const runs: SystemRun[] = [];
    for (const clients of CLIENT_COUNTS) {
      for (const system of ["baseline", "ours"] as const) runs.push(await runSystem(system, workers, clients));
    }
    const catchUp = await measureCatchUp(CATCH_UP_SIZES, CATCH_UP_POINTS);
    const text = report(runs, catchUp, (Date.now() - started) / 1000);
    writeFileSync(path.join(__dirname, "RESULTS.md"), text);
    // The raw figures behind the tables (histograms summarized), for anyone who wants other cuts.
    writeFileSync(path.join(__dirname, "results.json"), `${JSON.stringify({ runs: runs.map(withoutAcks), catchUp }, null, 1)}\n`);
    console.log(text);
  } finally {
    workers.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
