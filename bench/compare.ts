/**
 * `make bench`: this service against the plain Redis-adapter design (bench/baseline/server.ts), same machine,
 * same run, same load generator, under three loads; then the cursors' cost and a late joiner's catch-up (Node
 * and Chromium). Computes every target of issue 12 (and the cursor figures of issue 14) from this one run and
 * writes bench/RESULTS.md and bench/results.json.
 *
 * Loads, as users draw: everyone on one board, spread over three instances; a few drawers make pointer samples
 * (60 per second each, fewer in the lowest steps) in continuous one-second strokes, every other client watches:
 * - **baseline**: Socket.IO's whiteboard example against the baseline, one message per segment;
 * - **unbatched** (ours): one `stroke` event per pointer sample, sent without waiting for acknowledgements, as a
 *   third-party client or a script would: what the service must absorb whatever the client does;
 * - **session** (ours): the browser client's own session, which keeps a few chunks in flight and sends what was
 *   drawn meanwhile together: what the service's own client sends.
 * Latency is from a pointer sample's scheduled time to its arrival at each other client.
 *
 * Options (environment): CLIENTS ("750,150"), LEVELS (pointer samples per second in all, per step:
 * "15,30,60,120,180,240,360,480,720,960,1440"; a step up to 60 is one drawer at that rate, above it drawers of
 * 60 each; steps above 480 run only while the step before was sustained), SECONDS per step (10), WORKERS (load
 * processes, 3: one for the drawers, the rest watch), LOADS ("baseline,unbatched,session"), CURSOR_HZ (15; 0
 * for no cursor steps), CURSOR_LEVEL (120), and bench/catchup.ts's CATCHUP_* options. CATCH_UP_ONLY=1 runs
 * the catch-up alone (prints, writes nothing).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "redis";
import { scrape, type MetricsSnapshot } from "../local/metrics-reader";
import { Topology } from "../local/topology";
import { redisTlsOptions } from "../service/redis-tls";
import { catchUpOptionsFromEnv, catchUpTables, measureCatchUp, type CatchUp, type CatchUpOptions } from "./catchup";
import { LoadWorkers, type DrawResult } from "./lib/load-workers";
import type { Input, System } from "./lib/load-worker";
import { CpuWindow, settledRssBytes, type ProcessUsage } from "./lib/process-stats";

type Load = "baseline" | "unbatched" | "session";

const numbers = (text: string) => text.split(",").filter(Boolean).map(Number);
const CLIENT_COUNTS = numbers(process.env.CLIENTS ?? "750,150");
const LEVELS = numbers(process.env.LEVELS ?? "15,30,60,120,180,240,360,480,720,960,1440");
const SECONDS = Number(process.env.SECONDS ?? 10);
const WORKERS = Number(process.env.WORKERS ?? 3);
const LOADS = (process.env.LOADS ?? "baseline,unbatched,session").split(",") as Load[];
const CURSOR_HZ = Number(process.env.CURSOR_HZ ?? 15);
const CURSOR_LEVEL = Number(process.env.CURSOR_LEVEL ?? 120);
const INSTANCES = 3;
/** Pointer samples per second of one drawer, and per stroke (one-second strokes). */
const SAMPLE_HZ = 60;
const P99_LIMIT_MS = 100;
/** Steps above this run only while the load still sustains (p99 and delivery), to find its limit. */
const ALWAYS_UP_TO = 480;
/** The issue's reference step (60 unbatched events/s) and its overload step (8 unbatched drawers). */
const REFERENCE_RATE = 60;
const OVERLOAD_RATE = 480;
/** Issue 12's factors for the highest sustained load, by client count. */
const SUSTAINED_FACTOR: Record<number, number> = { 750: 5, 150: 3 };
const LATENCY_FACTOR = 5;
const DRAIN = { minMs: 1_000, quietMs: 1_000, maxMs: 30_000 };

interface CommandCount {
  calls: number;
  usec: number;
}

/** Instance counters summed over the three instances, over one step (ours only). */
interface InstanceCounters {
  strokesStored: number;
  storeCalls: number;
  refusals: Record<string, number>;
  opsMessages: number;
  opsRecipients: number;
  cursorMessages: number;
  cursorRecipients: number;
}

interface Step {
  /** Pointer samples per second in all, and how they are drawn. */
  rate: number;
  drawers: number;
  hz: number;
  cursorHz: number;
  result: DrawResult;
  usage: ProcessUsage[];
  /** Wall time of the CPU window (drawing and drain), s. */
  windowSeconds: number;
  /** Processes that died during the step (an overloaded instance can crash). */
  died: string[];
  /** Redis INFO commandstats over the step, the benchmark's own INFO left out. */
  redis: Record<string, CommandCount>;
  instances?: InstanceCounters;
  loadAverage: number;
}

interface LoadRun {
  load: Load;
  clients: number;
  memory?: { rssIdleMb: number[]; rssConnectedMb: number[]; kbPerConnection: number };
  steps: Step[];
  /** The cursor pair (session load): the same drawing without, then with, every client moving its cursor. */
  cursorSteps: Step[];
}

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;
const systemOf = (load: Load): System => (load === "baseline" ? "baseline" : "ours");

function split(rate: number): { drawers: number; hz: number } {
  const drawers = Math.max(1, Math.ceil(rate / SAMPLE_HZ));
  return { drawers, hz: rate / drawers };
}

async function commandStats(client: { info(section: string): Promise<string> }): Promise<Map<string, CommandCount>> {
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

async function scrapeAll(topology: Topology): Promise<(MetricsSnapshot | undefined)[]> {
  return Promise.all(topology.instances.map((instance) => scrape(instance.metricsUrl).catch(() => undefined)));
}

function counterDelta(
  before: (MetricsSnapshot | undefined)[],
  after: (MetricsSnapshot | undefined)[],
): InstanceCounters {
  const sum = (name: string, labels: Record<string, string> = {}) =>
    after.reduce(
      (total, snapshot, i) => total + (snapshot ? snapshot.sum(name, labels) - (before[i]?.sum(name, labels) ?? 0) : 0),
      0,
    );
  const refusals: Record<string, number> = {};
  for (const [i, snapshot] of after.entries()) {
    for (const sample of snapshot?.select("whiteboard_refusals_total") ?? []) {
      const was = before[i]?.select("whiteboard_refusals_total", sample.labels)[0]?.value ?? 0;
      const key = `${sample.labels.event}:${sample.labels.code}`;
      if (sample.value > was) refusals[key] = (refusals[key] ?? 0) + sample.value - was;
    }
  }
  return {
    strokesStored: sum("whiteboard_operations_stored_total", { kind: "stroke" }),
    storeCalls: sum("whiteboard_strokes_per_store_call_count"),
    refusals,
    opsMessages: sum("whiteboard_broadcast_messages_total", { event: "ops" }),
    opsRecipients: sum("whiteboard_broadcast_recipients_total", { event: "ops" }),
    cursorMessages: sum("whiteboard_broadcast_messages_total", { event: "cursors" }),
    cursorRecipients: sum("whiteboard_broadcast_recipients_total", { event: "cursors" }),
  };
}

async function runLoad(
  load: Load,
  workers: LoadWorkers,
  clientCount: number,
  measureMemory: boolean,
): Promise<LoadRun> {
  const system = systemOf(load);
  log(`${load}, ${clientCount} clients: starting Redis and ${INSTANCES} instances`);
  // The last lines each instance wrote, to say why one died.
  const lastLines = new Map<string, string[]>();
  const topology = await Topology.start({
    onLine: (source, line) => lastLines.set(source, [...(lastLines.get(source) ?? []), line].slice(-5)),
    instances: INSTANCES,
    nodeArgs: system === "baseline" ? ["--import", "tsx", path.join(__dirname, "baseline", "server.ts")] : undefined,
    // The per-connection abuse limits are not what is compared (a drawer sends up to 60 events a second, and the
    // session a few more when acks come fast); every simulated user comes from 127.0.0.1, up to 250 of them on each
    // instance; the board is cleared between steps, whatever the clear interval.
    env: {
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_SECOND: "1000",
      RATE_LIMIT_BURST: "2000",
      MAX_SOCKETS: "1000",
      MAX_SOCKETS_PER_ADDRESS: "1000",
      CLEAR_INTERVAL_SECONDS: "0",
    },
  });
  const { url, password, caCert } = topology.redis.clientConfig;
  const redis = createClient({ url, password, socket: redisTlsOptions(caCert) });
  redis.on("error", () => undefined);
  await redis.connect();
  try {
    const pids = () => topology.instances.map((instance) => instance.pid as number);
    // The drawers' process holds as many drawing clients as the steps up to ALWAYS_UP_TO need (each also receives
    // everything); a higher step, reached only while the load holds, reconnects everyone with more.
    const slotsFor = (rates: readonly number[]) =>
      Math.max(...rates.map((rate) => split(rate).drawers), split(CURSOR_LEVEL).drawers);
    let drawerSlots = slotsFor(LEVELS.filter((rate) => rate <= ALWAYS_UP_TO));
    const specs = () =>
      Array.from({ length: clientCount }, (_, i) => ({
        url: topology.instance(i % INSTANCES).url,
        board: "bench",
        draws: i < drawerSlots,
      }));
    const clients = specs();
    const input: Input | undefined = system === "ours" ? (load as Input) : undefined;
    log(`${load}: connecting ${clientCount} clients`);
    let memory: LoadRun["memory"];
    if (measureMemory) {
      // Memory per connection is the difference of two RSS readings. A first round of connections grows each
      // heap to its working size, so that growth is not counted as the connections' own.
      await workers.connect(system, clients, input);
      await workers.disconnect();
      const rssIdle = await Promise.all(pids().map((pid) => settledRssBytes(pid)));
      await workers.connect(system, clients, input);
      const rssConnected = await Promise.all(pids().map((pid) => settledRssBytes(pid, 10_000)));
      const perConnection = rssConnected.reduce((sum, rss, i) => sum + rss - (rssIdle[i] ?? 0), 0) / clientCount;
      memory = {
        rssIdleMb: rssIdle.map(mb),
        rssConnectedMb: rssConnected.map(mb),
        kbPerConnection: round(perConnection / 1000, 1),
      };
    } else {
      await workers.connect(system, clients, input);
    }

    const processes = new Map<string, number>([
      ...topology.instances.map((instance) => [instance.name, instance.pid as number] as const),
      ["redis", topology.redis.pid as number],
      ...workers.pids.map((pid, i) => [`load-${i + 1}`, pid] as const),
    ]);
    const runStep = async (rate: number, cursorHz: number): Promise<Step> => {
      const { drawers, hz } = split(rate);
      const redisBefore = await commandStats(redis);
      const metricsBefore = system === "ours" ? await scrapeAll(topology) : undefined;
      const started = Date.now();
      const cpu = await CpuWindow.start(processes);
      const result = await workers.draw(
        Array.from({ length: drawers }, (_, i) => i),
        { samplesPerStroke: SAMPLE_HZ, sampleIntervalMs: 1000 / hz, pauseMs: 0 },
        SECONDS * 1000,
        DRAIN,
        cursorHz,
      );
      const usage = await cpu.stop();
      const windowSeconds = (Date.now() - started) / 1000;
      const redisAfter = await commandStats(redis);
      const metricsAfter = metricsBefore ? await scrapeAll(topology) : undefined;
      const died = usage.filter((u) => u.died).map((u) => u.name);
      const step: Step = {
        rate,
        drawers,
        hz,
        cursorHz,
        result,
        usage,
        windowSeconds,
        died,
        redis: commandDelta(redisBefore, redisAfter),
        ...(metricsBefore && metricsAfter ? { instances: counterDelta(metricsBefore, metricsAfter) } : {}),
        loadAverage: round(os.loadavg()[0] ?? 0, 1),
      };
      log(
        `${load}, ${clientCount} clients, ${rate} samples/s${cursorHz ? `, cursors at ${cursorHz} Hz` : ""}: p99 ${result.latency.p99} ms, ` +
          `delivered ${(result.deliveredFraction * 100).toFixed(2)}%, refused ${result.errors.refused}, drained in ${result.drainedMs} ms`,
      );
      if (died.length > 0) {
        log(`${load}: ${died.join(", ")} died under this load. Its last words:`);
        for (const name of died) for (const line of lastLines.get(name) ?? []) log(`  ${name}: ${line.slice(0, 300)}`);
      }
      if (system === "ours" && died.length === 0) await workers.clear(); // the next step starts from an empty board
      return step;
    };

    // A first round of drawing warms up every process (JIT, heaps, connections' buffers); its figures are not kept.
    await workers.draw(
      [0],
      { samplesPerStroke: SAMPLE_HZ, sampleIntervalMs: 1000 / SAMPLE_HZ, pauseMs: 0 },
      2_000,
      DRAIN,
    );
    if (system === "ours") await workers.clear();
    const steps: Step[] = [];
    for (const rate of LEVELS) {
      const previous = steps.at(-1);
      if (rate > ALWAYS_UP_TO && previous && !sustained(previous)) break;
      if (split(rate).drawers > drawerSlots) {
        drawerSlots = slotsFor(LEVELS);
        log(`${load}: reconnecting with ${drawerSlots} drawing clients`);
        await workers.disconnect();
        await workers.connect(system, specs(), input);
        await workers.draw(
          [0],
          { samplesPerStroke: SAMPLE_HZ, sampleIntervalMs: 1000 / SAMPLE_HZ, pauseMs: 0 },
          2_000,
          DRAIN,
        );
        if (system === "ours") await workers.clear();
      }
      const step = await runStep(rate, 0);
      steps.push(step);
      if (step.died.length > 0) break;
    }
    const cursorSteps: Step[] = [];
    if (load === "session" && CURSOR_HZ > 0 && steps.every((step) => step.died.length === 0)) {
      for (const hz of [0, CURSOR_HZ]) cursorSteps.push(await runStep(CURSOR_LEVEL, hz));
    }
    await workers.disconnect();
    return { load, clients: clientCount, ...(memory ? { memory } : {}), steps, cursorSteps };
  } finally {
    await redis.close().catch(() => undefined);
    await topology.stop();
  }
}

// --- Figures of a step -------------------------------------------------------------------------------------------

const deliveriesPerSecond = (rate: number, clients: number) => rate * (clients - 1);
const allDelivered = (step: Step) => step.result.deliveredFraction >= 0.99995;
/** Nothing refused, nothing unanswered, no connection lost, no instance lost. */
const clean = (step: Step) =>
  step.died.length === 0 &&
  step.result.errors.refused === 0 &&
  step.result.errors.unanswered === 0 &&
  step.result.errors.disconnects === 0 &&
  step.result.errors.connectErrors === 0 &&
  Object.keys(step.instances?.refusals ?? {}).length === 0;
function sustained(step: Step): boolean {
  return step.result.latency.p99 < P99_LIMIT_MS && allDelivered(step) && clean(step);
}
const instanceCpuMs = (step: Step) =>
  step.usage.filter((u) => u.name.startsWith("instance")).reduce((sum, u) => sum + u.cpuMs, 0);
/** Instance CPU (all three) per point delivered, microseconds. */
const cpuPerDelivery = (step: Step) =>
  step.result.delivered > 0 ? (instanceCpuMs(step) * 1000) / step.result.delivered : Infinity;
const cpuOf = (step: Step, prefix: string) =>
  step.usage.filter((u) => u.name.startsWith(prefix)).reduce((sum, u) => sum + u.cpuPercent, 0);

function problems(step: Step): string {
  const list: string[] = [];
  if (step.died.length) list.push(`${step.died.join(", ")} died`);
  const { refused, unanswered, disconnects, connectErrors } = step.result.errors;
  if (refused)
    list.push(
      `${refused} refused (${Object.entries(step.result.refusedBy)
        .map(([code, n]) => `${code} ${n}`)
        .join(", ")})`,
    );
  const serverRefusals = Object.entries(step.instances?.refusals ?? {});
  if (serverRefusals.length)
    list.push(`instances refused ${serverRefusals.map(([key, n]) => `${key} ${n}`).join(", ")}`);
  if (unanswered) list.push(`${unanswered} unanswered`);
  if (disconnects) list.push(`${disconnects} disconnects`);
  if (connectErrors) list.push(`${connectErrors} connect errors`);
  return list.join("; ") || "none";
}

const LOAD_NAMES: Record<Load, string> = {
  baseline: "baseline",
  unbatched: "ours, unbatched",
  session: "ours, session",
};
const fmt = (value: number) => value.toLocaleString("en-US");

// --- Report ------------------------------------------------------------------------------------------------------

function findRun(runs: readonly LoadRun[], load: Load, clients: number): LoadRun | undefined {
  return runs.find((run) => run.load === load && run.clients === clients);
}

/** The tables of one client count: every step of every load side by side. */
function resultsTables(runs: readonly LoadRun[], clients: number): string {
  const present = LOADS.filter((load) => findRun(runs, load, clients));
  const levels = [
    ...new Set(present.flatMap((load) => findRun(runs, load, clients)?.steps.map((step) => step.rate) ?? [])),
  ].sort((a, b) => a - b);
  const cells = (rate: number, figure: (step: Step, run: LoadRun) => string | number) =>
    present
      .map((load) => {
        const run = findRun(runs, load, clients) as LoadRun;
        const step = run.steps.find((s) => s.rate === rate);
        return step ? String(figure(step, run)) : "–";
      })
      .join(" / ");
  const header = present.map((load) => LOAD_NAMES[load]).join(" / ");
  const latencyRows = levels.map((rate) => {
    const { drawers, hz } = split(rate);
    return [
      `${rate} (${drawers} × ${round(hz)})`,
      fmt(deliveriesPerSecond(rate, clients)),
      cells(rate, (step) => `${(step.result.deliveredFraction * 100).toFixed(2)}%`),
      cells(rate, (step) => step.result.latency.p50),
      cells(rate, (step) => step.result.latency.p99),
      cells(rate, (step) => step.result.latency.max),
      cells(rate, (step) => (sustained(step) ? "yes" : "no")),
      cells(rate, (step) => (clean(step) ? "–" : problems(step))),
      cells(rate, (step) => step.result.drainedMs),
    ].join(" | ");
  });
  const costRows = levels.map((rate) =>
    [
      rate,
      cells(rate, (step) => Math.round(step.result.messagesSent / SECONDS)),
      cells(rate, (step) => (step.instances ? round(step.instances.opsRecipients / clients / SECONDS, 1) : "–")),
      cells(rate, (step) =>
        step.instances && step.instances.storeCalls
          ? round(step.instances.strokesStored / step.instances.storeCalls, 1)
          : "–",
      ),
      cells(rate, (step) => cpuOf(step, "instance")),
      cells(rate, (step) => round(cpuPerDelivery(step), 2)),
      cells(rate, (step) => cpuOf(step, "redis")),
      cells(rate, (step) =>
        fmt(Math.round(Object.values(step.redis).reduce((sum, c) => sum + c.calls, 0) / step.windowSeconds)),
      ),
      cells(rate, (step) => cpuOf(step, "load")),
      cells(rate, (step) => step.result.samplerLagP99),
      cells(rate, (step) => step.loadAverage),
    ].join(" | "),
  );
  const best = (load: Load) => {
    const run = findRun(runs, load, clients);
    if (!run) return undefined;
    const step = highestSustained(run);
    return `${LOAD_NAMES[load]} ${step ? `${fmt(deliveriesPerSecond(step.rate, clients))} point-deliveries/s (${step.rate} samples/s in)` : `none (not even ${run.steps[0]?.rate ?? "–"} samples/s)`}`;
  };
  return `### ${clients} clients (${Math.round(clients / INSTANCES)} per instance)
Each cell: ${header}. Samples/s in: drawers × samples per second each. Point-deliveries/s: every sample to every other
client. Sustained: p99 under ${P99_LIMIT_MS} ms, 100% delivered, nothing refused or unanswered, no connection or
instance lost. Drain: how long the last deliveries took to arrive after drawing stopped.

| samples/s in | point-deliveries/s | delivered | p50 ms | p99 ms | max ms | sustained | refusals, losses | drain ms |
|---|---|---|---|---|---|---|---|---|
${latencyRows.map((row) => `| ${row} |`).join("\n")}

Cost. Messages/s: relayed \`drawing\` messages (baseline) or stored \`stroke\` events (ours). Frames/client/s: \`ops\`
messages each client received. Strokes/call: strokes per store call (the writer's coalescing). CPU: percent of one
core over the step and its drain, the three instances summed; µs/delivery: instance CPU time per point delivered.
Load-gen: the ${WORKERS} load processes summed. Load avg: the machine's 1-minute load average after the step.

| samples/s in | messages/s | frames/client/s | strokes/call | instance CPU % | µs/delivery | Redis CPU % | Redis commands/s | load-gen CPU % | sampler lag p99 ms | load avg |
|---|---|---|---|---|---|---|---|---|---|---|
${costRows.map((row) => `| ${row} |`).join("\n")}

Highest sustained load: ${present.map(best).filter(Boolean).join("; ")}.
`;
}

function highestSustained(run: LoadRun): Step | undefined {
  // The highest step sustained with every step below it sustained too.
  let best: Step | undefined;
  for (const step of run.steps) {
    if (!sustained(step)) break;
    best = step;
  }
  return best;
}

/** What commands Redis ran, per stored stroke (ours) or per relayed message (baseline), and why. */
const COMMAND_REASONS: Record<string, string> = {
  evalsha:
    "one per store call: the board's Lua script (wbAddStrokes for a batch of strokes; also wbPresence every 5 s per board and instance, wbRead per join or read); the commands marked (Lua) run inside one",
  info: "(Lua) `INFO replication` at the start of every script: the board's `gen` against Redis's replication id, to notice a Redis that lost writes",
  hmget: "(Lua) the board's meta hash (`wb:{b}:m`), once per script",
  hget: "(Lua) per stroke, its id in `wb:{b}:i` (a resend gets its first seq); per call, the open page's text (`wb:{b}:p`), to append to; per page closed, the live-page list",
  hset: "(Lua) per stroke, its id entry (`wb:{b}:i`); per call, the open page's text, its size (`z<p>`) and the meta hash; per page closed, the live-page list; per presence write, the instance's entry",
  expire: "(Lua) per write call, the idle TTL of the board's five keys (five commands), refreshed by every write",
  rpush: "(Lua) per call, the operations appended to the board's log (`wb:{b}:l`)",
  lpop: "(Lua) the oldest log entries dropped to keep the log under 256 KiB: one per entry, about one per stroke once the log is full",
  spublish:
    "per store call, the batch's `ops` to the board's sharded channel (the adapter), received by every instance with a client on the board; also each instance's cursor messages (one per board every 66 ms while cursors move) and presence news",
  publish: "the baseline: one per relayed message, the Redis adapter's broadcast to every instance",
  time: "(Lua) the clock of the presence script",
  hgetall: "(Lua) the presence hash, per presence call",
  hdel: "(Lua) expired presence entries",
  pexpire: "(Lua) the presence hash's TTL, per presence write",
  ping: "node-redis's keep-alive on each instance's command connection and the metrics' PING probe, every 5 s each",
  ssubscribe: "an instance subscribing to the board's channel when its first client joins",
  sunsubscribe: "an instance leaving the board's channel when its last client leaves",
  del: "(Lua) a board's keys when it is new",
  lrange: "(Lua) a log read (a client catching up from the log)",
};

function redisTable(runs: readonly LoadRun[], clients: number, rate: number): string {
  const entries = LOADS.map((load) => ({
    load,
    step: findRun(runs, load, clients)?.steps.find((s) => s.rate === rate),
  })).filter((entry): entry is { load: Load; step: Step } => entry.step !== undefined);
  if (entries.length === 0) return "(no step at this load)";
  const per = (step: Step, load: Load) =>
    load === "baseline" ? step.result.messagesSent : step.result.messagesSent || 1;
  const names = [...new Set(entries.flatMap(({ step }) => Object.keys(step.redis)))].sort(
    (a, b) =>
      Math.max(...entries.map(({ step }) => step.redis[b]?.calls ?? 0)) -
      Math.max(...entries.map(({ step }) => step.redis[a]?.calls ?? 0)),
  );
  const rows = names.map((name) => {
    const figures = entries.map(({ load, step }) => {
      const calls = step.redis[name]?.calls ?? 0;
      return calls ? round(calls / per(step, load), 2) : "–";
    });
    return `| ${name} | ${figures.join(" | ")} | ${COMMAND_REASONS[name] ?? "**not explained**"} |`;
  });
  const totals = entries.map(({ load, step }) =>
    round(Object.values(step.redis).reduce((sum, c) => sum + c.calls, 0) / per(step, load), 2),
  );
  // Redis's own CPU time (TLS, the scripts, fan-out to subscribers, its timers): commandstats' times are wall
  // times, inflated whenever the process waits for a core on this shared machine.
  const redisCpu = entries.map(({ load, step }) =>
    round(((step.usage.find((u) => u.name === "redis")?.cpuMs ?? 0) * 1000) / per(step, load)),
  );
  return `| command | ${entries.map(({ load }) => `${LOAD_NAMES[load]} (per ${load === "baseline" ? "message" : "stored stroke"})`).join(" | ")} | why |
|---|${entries.map(() => "---|").join("")}---|
${rows.join("\n")}
| **all** | ${totals.join(" | ")} | |
| Redis CPU µs (the process, over the step) | ${redisCpu.join(" | ")} | |`;
}

function cursorTable(runs: readonly LoadRun[]): string {
  const rows = runs
    .filter((run) => run.cursorSteps.length === 2)
    .flatMap((run) =>
      run.cursorSteps.map((step) => {
        const positionsSent = step.result.cursors.sent / SECONDS;
        const counters = step.instances;
        return [
          run.clients,
          `${step.rate} (${step.drawers} × ${round(step.hz)})`,
          step.cursorHz ? `${step.cursorHz} Hz` : "none",
          step.result.latency.p99,
          `${(step.result.deliveredFraction * 100).toFixed(2)}%`,
          step.cursorHz ? `${fmt(Math.round(positionsSent))} of ${fmt(run.clients * step.cursorHz)}` : "0",
          counters ? fmt(Math.round(counters.cursorMessages / step.windowSeconds)) : "–",
          fmt(Math.round(step.result.cursors.messages / step.windowSeconds)),
          fmt(Math.round(step.result.cursors.positions / step.windowSeconds)),
          counters ? fmt(Math.round(counters.opsRecipients / step.windowSeconds)) : "–",
          cpuOf(step, "instance"),
          round(cpuPerDelivery(step), 2),
          cpuOf(step, "redis"),
          cpuOf(step, "load"),
          step.loadAverage,
          clean(step) ? "–" : problems(step),
        ].join(" | ");
      }),
    );
  if (rows.length === 0) return "(not run)";
  return `| clients | samples/s in (session drawers) | cursors | drawers' p99 ms | delivered | positions sent/s (of those meant) | cursor messages sent by instances/s | cursor frames received/s (all clients) | positions received/s | ops frames/s | instance CPU % | µs/delivery | Redis CPU % | load-gen CPU % | load avg | problems |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.map((row) => `| ${row} |`).join("\n")}`;
}

/** Each target of issue 12 (and issue 14's cursor figures), met or not, from the figures of this run. */
function targets(runs: readonly LoadRun[], catchUp: readonly CatchUp[]): string {
  const mark = (met: boolean | undefined) => (met === undefined ? "not measured" : met ? "**met**" : "**missed**");
  const lines: string[] = [];
  const sustainedFigure = (run: LoadRun | undefined) => {
    const step = run && highestSustained(run);
    return step ? deliveriesPerSecond(step.rate, run.clients) : 0;
  };

  lines.push(
    "1. **Highest sustained load, unbatched input** (p99 under 100 ms, 100% delivered, nothing refused), in point-deliveries/s:",
  );
  for (const clients of CLIENT_COUNTS) {
    const baseline = findRun(runs, "baseline", clients);
    const factor = SUSTAINED_FACTOR[clients];
    for (const load of ["unbatched", "session"] as const) {
      const ours = findRun(runs, load, clients);
      if (!ours || !baseline) continue;
      const [o, b] = [sustainedFigure(ours), sustainedFigure(baseline)];
      const lowest = baseline.steps[0] ? deliveriesPerSecond(baseline.steps[0].rate, clients) : 0;
      const top = ours.steps.at(-1);
      const ceiling =
        top && highestSustained(ours) === top && top.rate === LEVELS.at(-1)
          ? " (the highest step run: the limit is higher)"
          : "";
      let ratio: string;
      let met: boolean;
      if (b > 0) {
        ratio = `${round(o / b, 2)}×`;
        met = o / b >= (factor ?? 1);
      } else {
        // The baseline sustained not even the lowest step: its limit is below it, so the ratio is above this.
        ratio =
          o > 0
            ? `more than ${round(o / lowest, 2)}× (the baseline sustained not even the lowest step, ${fmt(lowest)})`
            : "– (neither sustained the lowest step)";
        met = o > 0 && o / lowest >= (factor ?? 1);
      }
      lines.push(
        `   - ${clients} clients, ${LOAD_NAMES[load]}: ${fmt(o)}${ceiling} against the baseline's ${fmt(b)}: ${ratio}` +
          (factor && load === "unbatched" ? `; target ${factor}×: ${mark(met)}` : "") +
          ".",
      );
    }
  }

  lines.push(`2. **Same load, lower latency**:`);
  const at = (load: Load, clients: number, rate: number) =>
    findRun(runs, load, clients)?.steps.find((step) => step.rate === rate);
  for (const load of ["unbatched", "session"] as const) {
    const b = at("baseline", 750, REFERENCE_RATE);
    const o = at(load, 750, REFERENCE_RATE);
    if (b && o) {
      const ratio = b.result.latency.p99 / o.result.latency.p99;
      lines.push(
        `   - 750 clients, ${REFERENCE_RATE} samples/s, ${LOAD_NAMES[load]}: p99 ${o.result.latency.p99} ms against the baseline's ${b.result.latency.p99} ms, ` +
          `${round(ratio, 2)} times lower` +
          (load === "unbatched" ? `; target at most a fifth: ${mark(ratio >= LATENCY_FACTOR)}` : "") +
          ".",
      );
    }
  }
  for (const load of ["unbatched", "session"] as const) {
    const ours = findRun(runs, load, 150);
    const baseline = findRun(runs, "baseline", 150);
    if (!ours || !baseline) continue;
    const compared = ours.steps
      .filter((step) => step.rate <= ALWAYS_UP_TO)
      .map((step) => ({ step, other: baseline.steps.find((b) => b.rate === step.rate) }))
      .filter((pair): pair is { step: Step; other: Step } => pair.other !== undefined);
    const worse = compared.filter(({ step, other }) => step.result.latency.p99 > other.result.latency.p99);
    const ratios = compared.map(({ step, other }) => step.result.latency.p99 / other.result.latency.p99);
    lines.push(
      `   - 150 clients, every step up to ${ALWAYS_UP_TO} samples/s, ${LOAD_NAMES[load]}: p99 ours/baseline ${round(Math.min(...ratios), 2)} to ${round(Math.max(...ratios), 2)}` +
        (worse.length
          ? `, above the baseline's at ${worse.map(({ step, other }) => `${step.rate} (${step.result.latency.p99} against ${other.result.latency.p99} ms)`).join(", ")}`
          : ", never above the baseline's") +
        (load === "unbatched"
          ? `; target at or below at every step: ${mark(worse.length === 0 && compared.length > 0)}`
          : "") +
        ".",
    );
  }

  lines.push(
    `3. **Overload** (750 clients, ${OVERLOAD_RATE} samples/s, ${fmt(deliveriesPerSecond(OVERLOAD_RATE, 750))} point-deliveries/s):`,
  );
  for (const load of LOADS) {
    const step = at(load, 750, OVERLOAD_RATE);
    const run = findRun(runs, load, 750);
    if (!run) continue;
    if (!step) {
      const last = run.steps.at(-1);
      lines.push(
        `   - ${LOAD_NAMES[load]}: not run${last?.died.length ? ` (${last.died.join(", ")} died at ${last.rate} samples/s)` : ""}${load === "unbatched" ? `: ${mark(false)}` : ""}.`,
      );
      continue;
    }
    const ok = allDelivered(step) && clean(step);
    lines.push(
      `   - ${LOAD_NAMES[load]}: ${(step.result.deliveredFraction * 100).toFixed(2)}% delivered (p99 ${fmt(step.result.latency.p99)} ms, the last ${fmt(step.result.drainedMs)} ms after drawing stopped), problems: ${problems(step)}` +
        (load === "unbatched" ? `; target 100% delivered, no crash, no refusal: ${mark(ok)}` : "") +
        ".",
    );
  }

  lines.push("4. **Cost per stroke**:");
  for (const clients of CLIENT_COUNTS) {
    const baseline = findRun(runs, "baseline", clients);
    for (const load of ["unbatched", "session"] as const) {
      const ours = findRun(runs, load, clients);
      if (!ours || !baseline) continue;
      const pairs = ours.steps
        .map((step) => ({ step, other: baseline.steps.find((b) => b.rate === step.rate && b.died.length === 0) }))
        .filter((pair): pair is { step: Step; other: Step } => pair.other !== undefined && pair.step.died.length === 0);
      if (pairs.length === 0) continue;
      const ratios = pairs.map(({ step, other }) => cpuPerDelivery(step) / cpuPerDelivery(other));
      const above = pairs.filter((_, i) => (ratios[i] as number) > 1);
      lines.push(
        `   - ${clients} clients, ${LOAD_NAMES[load]}: instance CPU per point delivered ${round(Math.min(...ratios), 2)} to ${round(Math.max(...ratios), 2)} times the baseline's over ${pairs.length} steps both completed` +
          (above.length ? ` (above it at ${above.map(({ step }) => step.rate).join(", ")} samples/s)` : "") +
          (load === "unbatched" ? `; target at or below: ${mark(above.length === 0)}` : "") +
          ".",
      );
    }
  }
  const reference = at("unbatched", 750, REFERENCE_RATE);
  const referenceSession = at("session", 750, REFERENCE_RATE);
  const perStroke = (step: Step | undefined) =>
    step && step.result.messagesSent
      ? round(Object.values(step.redis).reduce((sum, c) => sum + c.calls, 0) / step.result.messagesSent, 1)
      : undefined;
  lines.push(
    `   - Redis commands per stored stroke at 750 clients, ${REFERENCE_RATE} samples/s: ${perStroke(reference) ?? "–"} unbatched, ${perStroke(referenceSession) ?? "–"} with the session's batching ` +
      `(command by command in [Redis work per stroke](#redis-work-per-stroke)).`,
  );

  const big = (points: number) => catchUp.find((c) => c.strokes === 100_000 && c.points === points);
  const [sixteen, three] = [big(16), big(3)];
  lines.push("5. **Catch-up** of 100,000 strokes (details in [Late joiner catch-up](#late-joiner-catch-up)):");
  const drawn = (c: CatchUp | undefined) =>
    c?.chromium
      ? `${c.chromium.fromJoin.fullyDrawnMs} ms after \`join\` (${c.chromium.fullyDrawnMs} ms after navigation start; ink on the page's thread ` +
        `${c.pageThread?.fromJoin.fullyDrawnMs ?? "–"} ms, and without rasterizing ${c.withoutRaster?.fromJoin.fullyDrawnMs ?? "–"} ms)`
      : "–";
  lines.push(
    `   - 16 points, Node caught up in ${sixteen?.node.caughtUpMs ?? "–"} ms: ${mark(sixteen && sixteen.node.caughtUpMs < 500)}; ` +
      `Chromium fully drawn ${drawn(sixteen)}, target 500 ms: ${mark(sixteen?.chromium && sixteen.chromium.fromJoin.fullyDrawnMs < 500)}.`,
  );
  lines.push(
    `   - 3 points, faster than 520 ms: Node ${three?.node.caughtUpMs ?? "–"} ms: ${mark(three && three.node.caughtUpMs < 520)}; ` +
      `Chromium fully drawn ${drawn(three)}: ${mark(three?.chromium && three.chromium.fromJoin.fullyDrawnMs < 520)}.`,
  );
  lines.push(
    `   - First paint of the most recent strokes under 100 ms (16 points): Chromium ${sixteen?.chromium?.fromJoin.firstPaintMs ?? "–"} ms after \`join\`: ${mark(sixteen?.chromium && sixteen.chromium.fromJoin.firstPaintMs < 100)}; ` +
      `Node's first page applied ${sixteen?.node.firstPageMs ?? "–"} ms after the session started.`,
  );

  lines.push('6. **With the session\'s own batching**: the same figures, in every table ("ours, session") and above.');
  const cursorRuns = runs.filter((run) => run.cursorSteps.length === 2);
  for (const run of cursorRuns) {
    const [without, withCursors] = run.cursorSteps as [Step, Step];
    lines.push(
      `- **Cursors** (issue 14), ${run.clients} clients, every client moving its cursor at ${withCursors.cursorHz} Hz while ${withCursors.drawers} session drawers draw: ` +
        `drawers' p99 ${without.result.latency.p99} → ${withCursors.result.latency.p99} ms, instance CPU ${cpuOf(without, "instance")}% → ${cpuOf(withCursors, "instance")}%, ` +
        `${fmt(Math.round(withCursors.result.cursors.messages / withCursors.windowSeconds))} cursor frames/s received in all, delivered ${(withCursors.result.deliveredFraction * 100).toFixed(2)}%.`,
    );
  }
  lines.push(
    "- Runs on this shared two-core machine differ by tens of percent (p99 most); compare systems within one run.",
  );
  return lines.join("\n");
}

function report(
  runs: LoadRun[],
  catchUp: CatchUp[],
  catchUpOptions: CatchUpOptions,
  seconds: number,
  loadBefore: number[],
): string {
  const redisVersion = execFileSync("redis-server", ["--version"]).toString().trim();
  const memoryRuns = runs.filter((run) => run.memory);
  const referenceClients = CLIENT_COUNTS.includes(750) ? 750 : (CLIENT_COUNTS[0] as number);
  return `# Benchmark results: this service against the plain Redis-adapter design

Generated by \`make bench\` (bench/compare.ts) on ${new Date().toISOString().slice(0, 10)}; the run took ${Math.round(seconds / 60)} min.
Do not edit by hand: run it again.

## Machine and command
- ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}
- Load average before the run: ${loadBefore.map((value) => round(value, 2)).join(", ")} (1, 5, 15 min); each step's is in its table.
- Node.js ${process.version}; ${redisVersion}; Chromium: \`/usr/bin/chromium\` (${chromiumVersion()})
- Everything on this machine: Redis (the Memorystore stand-in: TLS, AUTH), ${INSTANCES} instances of the system under
  test, ${WORKERS} load-generator processes (the drawers in one, the watchers in the others). The systems run one after
  the other, never together, each on a fresh Redis and fresh instances.
- Command: \`CLIENTS=${CLIENT_COUNTS.join(",")} LEVELS=${LEVELS.join(",")} SECONDS=${SECONDS} WORKERS=${WORKERS} LOADS=${LOADS.join(",")} CURSOR_HZ=${CURSOR_HZ} CURSOR_LEVEL=${CURSOR_LEVEL} make bench\`

## Loads
All clients on one board, spread evenly over ${INSTANCES} instances, WebSocket only. In each step some clients draw
continuous one-second strokes (${SAMPLE_HZ} pointer samples per second each; in steps under ${SAMPLE_HZ} samples/s one
drawer samples more slowly) for ${SECONDS} s; everyone else watches.
- **Baseline** (bench/baseline/server.ts): Socket.IO's whiteboard example, one \`drawing\` message per segment, relayed
  by \`socket.broadcast.emit\` through @socket.io/redis-adapter; nothing stored, validated or acknowledged.
- **Ours, unbatched**: each drawer is a plain socket that sends one \`stroke\` event per pointer sample (the first
  sample of a stroke as a dot, each next one as the segment from the one before) without waiting for
  acknowledgements: what a third-party client or a script sends, and the least favourable honest load for this
  service, which stores every event before anyone hears of it.
- **Ours, session**: each drawer runs the browser client's own session (client/core/session.ts), which keeps ${4}
  chunks in flight and sends the points drawn meanwhile together.
- Ours' watchers are plain sockets joined to the board that time each stroke event, as light as the baseline's.
- Latency: from a sample's scheduled time to its arrival at each other client, so any lateness of the generator
  counts against the system (its own lag is the sampler-lag column). After drawing, each load process waits until
  nothing has arrived for ${DRAIN.quietMs / 1000} s (at most ${DRAIN.maxMs / 1000} s): a late delivery counts, with its latency.
- Between steps ours' board is cleared. Per-connection rate limits are raised (\`RATE_LIMIT_PER_SECOND=1000\`):
  the benchmark compares fan-out, not abuse limits.

## Targets (issue 12; cursors: issue 14)
${targets(runs, catchUp)}

## Results
${CLIENT_COUNTS.map((clients) => resultsTables(runs, clients)).join("\n")}
## Redis work per stroke
Redis \`INFO commandstats\` before and after the ${referenceClients}-client step at ${REFERENCE_RATE} samples/s (the benchmark's
own INFO left out), divided by the strokes stored (ours: \`stroke\` events acknowledged) or the messages relayed
(baseline). Commands a Lua script runs count one each, as Redis counts them.

${redisTable(runs, referenceClients, REFERENCE_RATE)}

## Cursors (issue 14)
The same drawing twice in a row, without then with every client (drawers and watchers) moving its cursor at
${CURSOR_HZ} Hz (\`cursor\` events, volatile). Each instance sends a board's cursors at most every 66 ms
(\`CURSOR_INTERVAL_MS\`), as one volatile message to every client of the board on every instance. Positions sent
short of those meant show a load generator too busy (its clients receive every cursor message) to move them all.

${cursorTable(runs)}

## Memory (RSS per instance)
Each reading is the lowest of readings every 250 ms (over 5 s idle, 10 s connected), taken after a first round of
connections has grown the heap to its working size; the difference of two readings is noisy to a few KB.

| system | clients | idle MB | connected MB | per connection KB |
|---|---|---|---|---|
${memoryRuns.map((run) => `| ${LOAD_NAMES[run.load]} | ${run.clients} | ${run.memory?.rssIdleMb.join(" / ")} | ${run.memory?.rssConnectedMb.join(" / ")} | ${run.memory?.kbPerConnection} |`).join("\n")}

## Late joiner catch-up
Ours only: the baseline keeps nothing, so a late joiner sees a blank board. ${catchUpBoardDescription}

${catchUpTables(catchUp, catchUpOptions)}`;
}

const catchUpBoardDescription = `Boards of N strokes of P points written straight into the store, then read through one
instance; each stroke a scribble (random start, -20..20 units per axis per point, about a CSS pixel per step at the
whole-board view), in lines of 5 chunks, two colours, 3 CSS pixels wide (bench/catchup.ts).`;

function chromiumVersion(): string {
  try {
    return execFileSync("/usr/bin/chromium", ["--version"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "not found";
  }
}

/** A run without the acked-id lists (tens of thousands of ids, not figures). */
function withoutAcks(run: LoadRun) {
  const strip = (step: Step) => ({ ...step, result: { ...step.result, acked: step.result.acked.length } });
  return { ...run, steps: run.steps.map(strip), cursorSteps: run.cursorSteps.map(strip) };
}

async function main(): Promise<void> {
  const catchUpOptions = catchUpOptionsFromEnv();
  if (process.env.CATCH_UP_ONLY) {
    console.log(catchUpTables(await measureCatchUp(catchUpOptions), catchUpOptions));
    return;
  }
  const started = Date.now();
  const loadBefore = os.loadavg();
  log(`load average ${loadBefore.map((value) => value.toFixed(2)).join(", ")}`);
  const workers = LoadWorkers.start(WORKERS);
  try {
    const runs: LoadRun[] = [];
    for (const [index, clients] of CLIENT_COUNTS.entries()) {
      for (const load of LOADS) runs.push(await runLoad(load, workers, clients, index === 0 && load !== "session"));
    }
    const catchUp = await measureCatchUp(catchUpOptions);
    const text = report(runs, catchUp, catchUpOptions, (Date.now() - started) / 1000, loadBefore);
    writeFileSync(path.join(__dirname, "RESULTS.md"), text);
    // The raw figures behind the tables (histograms summarized), for anyone who wants other cuts.
    writeFileSync(
      path.join(__dirname, "results.json"),
      `${JSON.stringify({ loadBefore, runs: runs.map(withoutAcks), catchUp }, null, 1)}\n`,
    );
    console.log(text);
  } finally {
    workers.stop();
  }
}

main().catch((error: Error) => {
  console.error(error.stack);
  process.exit(1);
});
