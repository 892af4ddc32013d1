/**
 * `make bench`, first part: this service against the plain Redis-adapter design (bench/baseline/server.ts) in the
 * same run, same machine, same load generator, same frames and the same checks on every delivery. Writes
 * bench/results.json (figures only); bench/report.ts renders bench/RESULTS.md from it.
 *
 * Per load (baseline; ours unbatched, one event per pointer sample; ours through the browser client's session)
 * and client count, on one board over 3 instances:
 * - a rate ladder: levels up to ALWAYS_UP_TO always run, higher ones while the step before held (p99 under
 *   100 ms, every delivery checked and intact, nothing refused or lost, no instance lost);
 * - the reference step (REFERENCE_CLIENTS clients, REFERENCE_RATE samples/s) run REPEATS times, for its spread;
 * - the overload step (OVERLOAD_CLIENTS clients, OVERLOAD_RATE samples/s from 8 drawers), whatever the ladder
 *   reached, on restarted instances if any died;
 * - for the session, the same drawing without and with every client moving its cursor;
 * then, on FRAMES_INSTANCES instances, the frames each client receives per second with the drawers on 1, 3 and
 * 6 of them.
 *
 * Options (environment): CLIENTS ("750,150"), LEVELS ("15,30,45,60,90,120,180,240,360,480,720,960,1440"),
 * ALWAYS_UP_TO (60), STEP_SECONDS (10), WORKERS (load processes, 3), LOADS ("baseline,unbatched,session"),
 * REPEATS (5), REFERENCE_CLIENTS and OVERLOAD_CLIENTS (750: the client count of those steps), CURSOR_HZ (15; 0 for none), CURSOR_LEVEL (120), FRAMES ("1,3,6"; "" for none), FRAMES_RATE (60).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "redis";
import { scrape, type MetricsSnapshot } from "../local/metrics-reader";
import { redisTlsOptions } from "../service/redis-tls";
import { sustained } from "./lib/analysis";
import { BenchTopology } from "./lib/bench-topology";
import { compiledServer } from "./lib/compiled-server";
import type { DrawingPattern } from "./lib/drawing";
import { LoadWorkers, type ClientPlacement } from "./lib/load-workers";
import { machineNow } from "./lib/machine";
import type { Input, System } from "./lib/load-worker";
import { CpuWindow, settledRssBytes } from "./lib/process-stats";
import { PROTOCOL_VERSION } from "./lib/protocol";
import { measureReceiverCost } from "./lib/receiver-cost";
import { STEP_COUNTERS, sumOf } from "./lib/service-metrics";
import type {
  CommandCount,
  CompareResults,
  CompareSettings,
  InstanceCounters,
  Load,
  Run,
  Step,
  StepKind,
} from "./lib/results";

const numbers = (text: string) => text.split(",").filter(Boolean).map(Number);
/** Options set to other than their defaults, as `NAME=value`: the report says the run was not the default one. */
const overrides: string[] = [];
function option(name: string, fallback: string): string {
  const value = process.env[name];
  if (value === undefined || value === fallback) return fallback;
  overrides.push(`${name}=${value}`);
  return value;
}
const SAMPLE_HZ = 60;
const settings: CompareSettings = {
  clients: numbers(option("CLIENTS", "750,150")),
  levels: numbers(option("LEVELS", "15,30,45,60,90,120,180,240,360,480,720,960,1440")),
  alwaysUpTo: Number(option("ALWAYS_UP_TO", "60")),
  seconds: Number(option("STEP_SECONDS", "10")),
  workers: Number(option("WORKERS", "3")),
  loads: option("LOADS", "baseline,unbatched,session").split(",") as Load[],
  instances: 3,
  // One-second lines of a 60 Hz pointer (in steps under 60 samples/s, one drawer sampling more slowly).
  samplesPerLine: SAMPLE_HZ,
  sampleHz: SAMPLE_HZ,
  referenceClients: Number(option("REFERENCE_CLIENTS", "750")),
  referenceRate: 60,
  repeats: Number(option("REPEATS", "5")),
  overloadClients: Number(option("OVERLOAD_CLIENTS", "750")),
  overloadRate: 480,
  cursorHz: Number(option("CURSOR_HZ", "15")),
  cursorLevel: Number(option("CURSOR_LEVEL", "120")),
  frames: {
    instances: 6,
    clients: 150,
    drawers: 6,
    rate: Number(option("FRAMES_RATE", "60")),
    placements: numbers(option("FRAMES", "1,3,6")),
  },
  drain: { minMs: 1_000, quietMs: 1_000, maxMs: 30_000 },
  protocolVersion: PROTOCOL_VERSION,
  overrides,
};

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;
const systemOf = (load: Load): System => (load === "baseline" ? "baseline" : "ours");
const inputOf = (load: Load): Input => (load === "session" ? "session" : "unbatched");

function split(rate: number): { drawers: number; hz: number } {
  const drawers = Math.max(1, Math.ceil(rate / SAMPLE_HZ));
  return { drawers, hz: rate / drawers };
}

const pattern = (hz: number): DrawingPattern => ({
  samplesPerLine: settings.samplesPerLine,
  sampleIntervalMs: 1000 / hz,
  pauseMs: 0,
});

// --- Redis and instance counters -----------------------------------------------------------------------------------

type RedisClient = ReturnType<typeof createClient>;

async function commandStats(client: RedisClient): Promise<Map<string, CommandCount>> {
  const text = await client.info("commandstats");
  const stats = new Map<string, CommandCount>();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

function commandDelta(
  before: Map<string, CommandCount>,
  after: Map<string, CommandCount>,
): Record<string, CommandCount> {
  const delta: Record<string, CommandCount> = {};
  for (const [name, count] of after) {
    const was = before.get(name) ?? { calls: 0, usec: 0 };
    // The INFO that took `before` is counted in `after`.
    const calls = count.calls - was.calls - (name === "info" ? 1 : 0);
    if (calls > 0) delta[name] = { calls, usec: count.usec - was.usec };
  }
  return delta;
}

async function scrapeAll(topology: BenchTopology): Promise<(MetricsSnapshot | undefined)[]> {
  return Promise.all(topology.instances.map((instance) => scrape(instance.metricsUrl).catch(() => undefined)));
}

function counterDelta(
  before: (MetricsSnapshot | undefined)[],
  after: (MetricsSnapshot | undefined)[],
): InstanceCounters {
  const counters: InstanceCounters = { refusals: {} };
  for (const [key, series] of Object.entries(STEP_COUNTERS)) {
    const now = after.map((snapshot) => snapshot && sumOf(snapshot, series));
    if (now.every((sum) => sum === undefined)) continue;
    const was = (i: number) => {
      const snapshot = before[i];
      return (snapshot && sumOf(snapshot, series)) ?? 0;
    };
    counters[key as keyof typeof STEP_COUNTERS] = now.reduce<number>(
      (total, sum, i) => (sum === undefined ? total : total + sum - was(i)),
      0,
    );
  }
  for (const [i, snapshot] of after.entries()) {
    for (const sample of snapshot?.select("whiteboard_refusals_total") ?? []) {
      const was = before[i]?.select("whiteboard_refusals_total", sample.labels)[0]?.value ?? 0;
      const key = `${sample.labels.event}:${sample.labels.code}`;
      if (sample.value > was) counters.refusals[key] = (counters.refusals[key] ?? 0) + sample.value - was;
    }
  }
  return counters;
}

// --- One system under one load -----------------------------------------------------------------------------------

/** A system's topology with the load generator's clients connected to it, and one step at a time measured on it. */
class Bench {
  private readonly lastLines = new Map<string, string[]>();
  private topology!: BenchTopology;
  private redis!: RedisClient;
  private placements: ClientPlacement[] = [];

  constructor(
    private readonly load: Load,
    private readonly workers: LoadWorkers,
    private readonly instanceCount: number,
  ) {}

  get system(): System {
    return systemOf(this.load);
  }

  async start(): Promise<void> {
    const baselineArgs = this.system === "baseline" ? await compiledServer("baseline/server.ts") : undefined;
    log(`${this.load}: starting Redis and ${this.instanceCount} instances`);
    this.topology = await BenchTopology.start({
      onLine: (source, line) => this.lastLines.set(source, [...(this.lastLines.get(source) ?? []), line].slice(-5)),
      instances: this.instanceCount,
      nodeArgs: baselineArgs,
      // The per-connection abuse limits are not what is compared (a drawer sends up to 60 events a second, the
      // session a few more when acks come fast); every simulated user comes from 127.0.0.1; the board is cleared
      // between steps, whatever the clear interval.
      env: {
        LOG_LEVEL: "warn",
        RATE_LIMIT_PER_SECOND: "1000",
        RATE_LIMIT_BURST: "2000",
        MAX_SOCKETS: "1000",
        MAX_SOCKETS_PER_ADDRESS: "1000",
        WRITE_BYTES_PER_ADDRESS_PER_SECOND: String(2 ** 30),
        WRITE_BYTES_PER_ADDRESS_BURST: String(2 ** 30),
        CLEAR_INTERVAL_SECONDS: "0",
        // A clear deletes what the clear before it hid (its undo window over): the board stays small step after step.
        UNDO_CLEAR_SECONDS: "0",
      },
    });
    const { url, password, caCert } = this.topology.redis.clientConfig;
    this.redis = createClient({ url, password, socket: redisTlsOptions(caCert) });
    this.redis.on("error", () => undefined);
    await this.redis.connect();
  }

  async stop(): Promise<void> {
    await this.workers.disconnect().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
    await this.topology.stop();
  }

  url(instance: number): string {
    return this.topology.instance(instance).url;
  }

  get instancePids(): number[] {
    return this.topology.instances.map((instance) => instance.pid as number);
  }

  async connect(placements: ClientPlacement[]): Promise<void> {
    this.placements = placements;
    await this.workers.connect(this.system, inputOf(this.load), placements);
  }

  /** Restarts instances that died (and reconnects everyone): the overload step runs on whole instances. */
  async heal(): Promise<void> {
    const dead = this.topology.instances.flatMap((instance, index) => (instance.running ? [] : [index]));
    if (dead.length === 0) return;
    log(`${this.load}: restarting ${dead.map((index) => this.topology.instance(index).name).join(", ")}`);
    await this.workers.disconnect().catch(() => undefined);
    for (const index of dead) await this.topology.restart(index);
    await this.connect(this.placements);
  }

  /** A short drawing whose figures are not kept: JIT, heaps and connections' buffers warmed up. */
  async warmUp(): Promise<void> {
    await this.workers.draw({ drawers: [0], pattern: pattern(SAMPLE_HZ), durationMs: 2_000, drain: settings.drain });
    if (this.system === "ours") await this.workers.clear();
  }

  async step(kind: StepKind, rate: number, drawers: number[], cursorHz = 0): Promise<Step> {
    const hz = rate / drawers.length;
    const processes = new Map<string, number>([
      ...this.topology.instances.map((instance) => [instance.name, instance.pid as number] as const),
      ["redis", this.topology.redis.pid as number],
      ...this.workers.pids.map((pid, i) => [`load-${i + 1}`, pid] as const),
    ]);
    const redisBefore = await commandStats(this.redis);
    const metricsBefore = this.system === "ours" ? await scrapeAll(this.topology) : undefined;
    const started = Date.now();
    const cpu = await CpuWindow.start(processes);
    const result = await this.workers.draw({
      drawers,
      pattern: pattern(hz),
      durationMs: settings.seconds * 1000,
      drain: settings.drain,
      cursorHz,
    });
    const usage = await cpu.stop();
    const windowSeconds = (Date.now() - started) / 1000;
    const redisAfter = await commandStats(this.redis);
    const metricsAfter = metricsBefore ? await scrapeAll(this.topology) : undefined;
    const died = usage.filter((u) => u.died).map((u) => u.name);
    const step: Step = {
      kind,
      rate,
      drawers: drawers.length,
      hz,
      drawerInstances: new Set(drawers.map((id) => this.placements[id]?.url)).size,
      cursorHz,
      result,
      usage,
      windowSeconds,
      died,
      redis: commandDelta(redisBefore, redisAfter),
      ...(metricsBefore && metricsAfter ? { instances: counterDelta(metricsBefore, metricsAfter) } : {}),
      loadAverage: round(os.loadavg()[0] ?? 0, 1),
    };
    const { delivery, latency } = result;
    log(
      `${this.load}, ${kind} ${rate}/s${cursorHz ? `, cursors ${cursorHz} Hz` : ""}: p50/p99 ${latency.p50}/${latency.p99} ms, ` +
        `delivered ${delivery.delivered}/${delivery.expected}, lost ${delivery.lost}, dup ${delivery.duplicates}, ` +
        `corrupt ${delivery.corrupt}, frames/client/s ${round(result.framesPerReceiverPerSecond, 1)}, drained in ${result.drainedMs} ms`,
    );
    if (died.length > 0) {
      log(`${this.load}: ${died.join(", ")} died under this load. Its last words:`);
      for (const name of died)
        for (const line of this.lastLines.get(name) ?? []) log(`  ${name}: ${line.slice(0, 300)}`);
    }
    if (this.system === "ours" && died.length === 0) await this.workers.clear(); // the next step starts empty
    return step;
  }
}

/** One board, 3 instances: memory per connection, the ladder, the reference repeats, the overload, cursors. */
async function runLadder(load: Load, workers: LoadWorkers, clients: number, measureMemory: boolean): Promise<Run> {
  const bench = new Bench(load, workers, settings.instances);
  await bench.start();
  try {
    const overload = clients === settings.overloadClients;
    const neededDrawers = (rates: readonly number[]) =>
      Math.max(
        ...rates.map((rate) => split(rate).drawers),
        overload ? split(settings.overloadRate).drawers : 1,
        settings.cursorHz ? split(settings.cursorLevel).drawers : 1,
      );
    let drawerSlots = neededDrawers(settings.levels.filter((rate) => rate <= settings.overloadRate));
    const placements = () =>
      Array.from({ length: clients }, (_, i) => ({
        url: bench.url(i % settings.instances),
        board: "bench",
        draws: i < drawerSlots,
      }));
    log(`${load}: connecting ${clients} clients`);
    let memory: Run["memory"];
    if (measureMemory) {
      // Memory per connection is the difference of two RSS readings. A first round of connections grows each
      // heap to its working size, so that growth is not counted as the connections' own.
      await bench.connect(placements());
      await workers.disconnect();
      const rssIdle = await Promise.all(bench.instancePids.map((pid) => settledRssBytes(pid)));
      await bench.connect(placements());
      const rssConnected = await Promise.all(bench.instancePids.map((pid) => settledRssBytes(pid, 10_000)));
      const perConnection = rssConnected.reduce((sum, rss, i) => sum + rss - (rssIdle[i] ?? 0), 0) / clients;
      memory = {
        rssIdleMb: rssIdle.map(mb),
        rssConnectedMb: rssConnected.map(mb),
        kbPerConnection: round(perConnection / 1000, 1),
      };
    } else {
      await bench.connect(placements());
    }
    await bench.warmUp();

    const drawerIds = (count: number) => Array.from({ length: count }, (_, i) => i);
    const steps: Step[] = [];
    for (const rate of settings.levels) {
      const previous = steps.at(-1);
      if (previous && (previous.died.length > 0 || (rate > settings.alwaysUpTo && !sustained(previous)))) break;
      if (split(rate).drawers > drawerSlots) {
        drawerSlots = neededDrawers(settings.levels);
        log(`${load}: reconnecting with ${drawerSlots} drawing clients`);
        await workers.disconnect();
        await bench.connect(placements());
        await bench.warmUp();
      }
      const reference = clients === settings.referenceClients && rate === settings.referenceRate;
      for (let run = 0; run < (reference ? settings.repeats : 1); run += 1) {
        const step = await bench.step(run === 0 ? "ladder" : "repeat", rate, drawerIds(split(rate).drawers));
        steps.push(step);
        if (step.died.length > 0) break;
      }
    }
    if (overload && !steps.some((step) => step.rate === settings.overloadRate)) {
      await bench.heal();
      steps.push(await bench.step("overload", settings.overloadRate, drawerIds(split(settings.overloadRate).drawers)));
    }
    if (load === "session" && settings.cursorHz > 0) {
      await bench.heal();
      const drawers = drawerIds(split(settings.cursorLevel).drawers);
      steps.push(await bench.step("cursors", settings.cursorLevel, drawers, 0));
      steps.push(await bench.step("cursors", settings.cursorLevel, drawers, settings.cursorHz));
    }
    return { load, clients, instances: settings.instances, ...(memory ? { memory } : {}), steps };
  } finally {
    await bench.stop();
  }
}

/** Frames per client per second with the drawers on 1, 3 or 6 of FRAMES_INSTANCES instances. */
async function runFrames(load: Load, workers: LoadWorkers): Promise<Run> {
  const { instances, clients, drawers, rate, placements } = settings.frames;
  const bench = new Bench(load, workers, instances);
  await bench.start();
  try {
    const steps: Step[] = [];
    for (const spread of placements) {
      log(`${load}: ${clients} clients on ${instances} instances, ${drawers} drawers on ${spread} of them`);
      // Drawer d on instance d mod `spread`; everyone else spread evenly over all instances.
      await bench.connect(
        Array.from({ length: clients }, (_, i) => ({
          url: bench.url(i < drawers ? i % spread : i % instances),
          board: "frames",
          draws: i < drawers,
        })),
      );
      await bench.warmUp();
      steps.push(
        await bench.step(
          "frames",
          rate,
          Array.from({ length: drawers }, (_, i) => i),
        ),
      );
      await workers.disconnect();
    }
    return { load, clients, instances, steps };
  } finally {
    await bench.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const host = machineNow();
  log(`load average ${host.loadBefore.join(", ")}`);
  const receiverCost = measureReceiverCost();
  log(`checking a delivery costs a receiver ${receiverCost.usPerSample} µs (decode and check, no network)`);
  const workers = LoadWorkers.start(settings.workers);
  const runs: Run[] = [];
  const write = () => {
    const results: CompareResults = {
      generatedAt: new Date().toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine: host,
      settings,
      receiverCost,
      runs,
    };
    writeFileSync(path.join(__dirname, "results.json"), `${JSON.stringify(results, null, 1)}\n`);
  };
  try {
    for (const [index, clients] of settings.clients.entries()) {
      for (const load of settings.loads) {
        runs.push(await runLadder(load, workers, clients, index === 0 && load !== "session"));
        write(); // what is measured so far survives a later failure
      }
    }
    if (settings.frames.placements.length > 0) {
      for (const load of settings.loads.filter((load) => load !== "session")) {
        runs.push(await runFrames(load, workers));
        write();
      }
    }
    write();
    log(`wrote bench/results.json; bench/report.ts renders it into bench/RESULTS.md`);
  } finally {
    workers.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
