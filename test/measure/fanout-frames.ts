/**
 * How `ops` reach a board's clients: frames per client per second, and the latency of a stroke from its send to its
 * arrival at every other client, with drawers on 1, 3 and 6 instances. Real Redis, real instances, one board.
 *
 *   npx tsx test/measure/fanout-frames.ts
 *
 * Environment: INSTANCES ("1,3,6"), RECEIVERS (60: spread over the instances), RATE (60: strokes a second per drawer,
 * one event per pointer sample, and as many cursor moves), LIGHT_RATE (4: the light load, one drawer), SECONDS (10).
 * Prints one line per run and a Markdown table (docs/fanout.md keeps the figures).
 */
import { RedisServer } from "../../local/redis-server";
import { ServiceInstance } from "../../local/service-instance";
import { processFigures } from "../abuse/support";
import { connectClient, editableBoard, makeLine, type TestClient } from "../support/socket-client";

const INSTANCES = (process.env.INSTANCES ?? "1,3,6").split(",").map(Number);
const RECEIVERS = Number(process.env.RECEIVERS ?? 60);
const RATE = Number(process.env.RATE ?? 60);
const LIGHT_RATE = Number(process.env.LIGHT_RATE ?? 4);
const SECONDS = Number(process.env.SECONDS ?? 10);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  instances: number;
  drawers: number;
  rate: number;
  framesPerClientPerSecond: number;
  cursorFramesPerClientPerSecond: number;
  opsPerClientPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Instance CPU time per delivered op, in microseconds (all instances together). */
  cpuUsPerDelivery: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function measure(
  servers: readonly ServiceInstance[],
  drawerInstances: number,
  rate: number,
  { board, edit }: { board: string; edit: string },
): Promise<Run> {
  const instances = servers.length;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let measuring = false;
  const frames = new Map<TestClient, number>();
  let cursorFrames = 0;
  const receivers: TestClient[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const client = await connectClient((servers[i % instances] as ServiceInstance).url);
    frames.set(client, 0);
    client.socket.on("cursors", () => {
      if (measuring) cursorFrames += 1;
    });
    client.socket.on("ops", ({ ops }) => {
      if (!measuring) return;
      frames.set(client, (frames.get(client) ?? 0) + 1);
      const now = performance.now();
      for (const op of ops) {
        const sent = op.t === "a" ? sentAt.get(op.r[4]) : undefined;
        if (sent !== undefined) latencies.push(now - sent);
      }
    });
    receivers.push(client);
  }
  const drawers = await Promise.all(
    Array.from({ length: drawerInstances }, (_, i) => connectClient((servers[i] as ServiceInstance).url)),
  );
  await Promise.all([...receivers, ...drawers].map((client) => client.join({ board, edit })));
  // The drawers do not count as receivers: their own strokes come back to them too.
  let stopped = false;
  const draw = async (drawer: TestClient) => {
    const period = 1_000 / rate;
    let next = performance.now();
    while (!stopped) {
      const line = makeLine();
      sentAt.set(line.id, performance.now());
      drawer.add(line).catch(() => undefined);
      drawer.socket.emit("cursor", { x: Math.floor(next) % 10_000, y: 100 });
      next += period;
      await sleep(Math.max(0, next - performance.now()));
    }
  };
  const drawing = Promise.all(drawers.map(draw));
  await sleep(1_000);
  const pids = servers.map((instance) => instance.pid as number);
  const cpuBefore = pids.map((pid) => processFigures(pid).cpuMs);
  measuring = true;
  const started = performance.now();
  await sleep(SECONDS * 1_000);
  measuring = false;
  const seconds = (performance.now() - started) / 1_000;
  const cpuMs = pids.reduce((sum, pid, i) => sum + processFigures(pid).cpuMs - (cpuBefore[i] as number), 0);
  stopped = true;
  await drawing;
  for (const client of [...receivers, ...drawers]) client.close();
  const sorted = latencies.sort((a, b) => a - b);
  const totalFrames = [...frames.values()].reduce((sum, count) => sum + count, 0);
  return {
    instances,
    drawers: drawerInstances,
    rate,
    framesPerClientPerSecond: totalFrames / RECEIVERS / seconds,
    cursorFramesPerClientPerSecond: cursorFrames / RECEIVERS / seconds,
    opsPerClientPerSecond: latencies.length / RECEIVERS / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    cpuUsPerDelivery: (cpuMs * 1_000) / Math.max(1, latencies.length),
  };
}

async function main(): Promise<void> {
  const runs: { load: string; run: Run }[] = [];
  const redis = await new RedisServer().start();
  try {
    for (const count of INSTANCES) {
      // One after another, each given a minute to be ready: a loaded machine starts six slowly.
      const servers: ServiceInstance[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const server = await ServiceInstance.create({
            name: `instance-${i}`,
            env: {
              ...redis.serviceEnv,
              RATE_LIMIT_PER_SECOND: "10000",
              RATE_LIMIT_BURST: "100000",
              MAX_SOCKETS: "1000",
              MAX_SOCKETS_PER_ADDRESS: "1000",
              CONNECTIONS_PER_ADDRESS_PER_SECOND: "10000",
              CONNECTIONS_PER_ADDRESS_BURST: "100000",
              LOG_LEVEL: "warn",
              ...(process.env.FRAME_INTERVAL_MS ? { FRAME_INTERVAL_MS: process.env.FRAME_INTERVAL_MS } : {}),
            },
          });
          servers.push(server);
          await server.start(60_000);
        }
        const loads = [
          { load: "light", drawers: 1, rate: LIGHT_RATE },
          { load: "heavy", drawers: count, rate: RATE },
        ];
        for (const { load, drawers, rate } of loads) {
          const run = await measure(servers, drawers, rate, editableBoard());
          runs.push({ load, run });
          console.log(
            `${count} instance(s), ${load}: ${drawers} drawer(s) × ${rate}/s, ${RECEIVERS} receivers: ` +
              `${run.framesPerClientPerSecond.toFixed(1)} ops frames/client/s, ${run.opsPerClientPerSecond.toFixed(1)} ops/client/s, ` +
              `${run.cursorFramesPerClientPerSecond.toFixed(1)} cursor frames/client/s, ` +
              `p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms, ${run.cpuUsPerDelivery.toFixed(1)} µs CPU per delivery`,
          );
          await sleep(500);
        }
      } finally {
        await Promise.all(servers.map((server) => server.stop(3_000)));
      }
    }
  } finally {
    await redis.destroy();
  }
  console.log(
    "\n| instances | drawers × rate | ops frames/client/s | ops/client/s | cursor frames/client/s | p50 / p99 ms | instance CPU µs per delivery |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const { run } of runs) {
    console.log(
      `| ${run.instances} | ${run.drawers} × ${run.rate}/s | ${run.framesPerClientPerSecond.toFixed(1)} | ` +
        `${run.opsPerClientPerSecond.toFixed(1)} | ${run.cursorFramesPerClientPerSecond.toFixed(1)} | ` +
        `${run.p50Ms.toFixed(1)} / ${run.p99Ms.toFixed(1)} | ${run.cpuUsPerDelivery.toFixed(1)} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
