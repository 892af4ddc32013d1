/**
 * `make bench-scale`: does an instance's Redis traffic follow the boards it serves, or the whole service's?
 *
 * For 3, 6 and 12 instances and two loads (60 boards of 10 users, 600 boards of 5 users; one drawer per board, a
 * stroke of 8 points every second), in the same run:
 * - "sharded": this service (boards stored in Redis, @socket.io/redis-adapter's sharded adapter with dynamic
 *   subscriptions: SPUBLISH/SSUBSCRIBE on one channel per board);
 * - "plain": the classic adapter (`createAdapter`, one channel every instance subscribes to), rooms per board,
 *   nothing stored (bench/scale/plain-server.ts).
 * Users land on instances at random, as Cloud Run spreads connections with no affinity. Per instance: boards served,
 * pub/sub bytes received (the adapter's own count of message bytes), all bytes Redis sent it (a counting TCP relay
 * in front of Redis, TLS included), and CPU. One Redis (the Memorystore stand-in): which channels an instance
 * receives does not depend on how many shards carry them.
 *
 * Options (environment): INSTANCES ("3,6,12"), LOADS ("60x10,600x5": boards x users), SECONDS (15), STROKE_MS (1000).
 * Writes its section of bench/RESULTS.md (replacing the last one; the rest of the file is bench/compare.ts's) and
 * bench/scale-out.json.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { scrape } from "../local/metrics-reader";
import { RedisServer } from "../local/redis-server";
import { ServiceInstance } from "../local/service-instance";
import { CpuWindow } from "./lib/process-stats";
import { CountingRelay } from "./scale/relay";
import type { ScaleClient, ScaleCommand, ScaleReport, ScaleSystem } from "./scale/worker";

const INSTANCE_COUNTS = (process.env.INSTANCES ?? "3,6,12").split(",").map(Number);
const LOADS = (process.env.LOADS ?? "60x10,600x5").split(",").map((text) => {
  const [boards, users] = text.split("x").map(Number);
  return { boards: boards!, users: users! };
});
const SECONDS = Number(process.env.SECONDS ?? 15);
const STROKE_MS = Number(process.env.STROKE_MS ?? 1000);
const WORKERS = 2;
const SYSTEMS: ScaleSystem[] = ["sharded", "plain"];

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);

interface InstanceFigures {
  name: string;
  boards: number;
  pubsubBytesPerSecond: number;
  redisBytesPerSecond: number;
  cpuPercent: number;
}

interface Run {
  system: ScaleSystem;
  instances: number;
  boards: number;
  users: number;
  seconds: number;
  strokesPerSecond: number;
  deliveriesPerSecond: number;
  errors: number;
  redisCpuPercent: number;
  perInstance: InstanceFigures[];
}

/** A deterministic random sequence, so both systems get the same placement of users on instances. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

class Worker {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(path.join(__dirname, "scale", "worker.ts"), [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
  }
  get pid(): number {
    return this.child.pid as number;
  }
  request<T>(command: ScaleCommand, expect: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { kind: string; report?: ScaleReport; message?: string }) => {
        if (message.kind === "error") reject(new Error(message.message));
        else if (message.kind === expect) resolve(message as T);
        else return;
        this.child.off("message", onMessage);
      };
      this.child.on("message", onMessage);
      this.child.send(command);
    });
  }
  close(): void {
    this.child.send({ kind: "close" });
  }
}

/** The adapter's count of pub/sub bytes received; an overloaded instance may answer slowly, so it is asked patiently. */
async function pubsubBytes(system: ScaleSystem, instance: ServiceInstance): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (system === "sharded")
        return (await scrape(instance.metricsUrl, 20_000)).sum("whiteboard_redis_pubsub_received_bytes_total");
      const stats = (await (await fetch(`${instance.url}/stats`, { signal: AbortSignal.timeout(20_000) })).json()) as {
        pubsubBytes: number;
      };
      return stats.pubsubBytes;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function run(system: ScaleSystem, instanceCount: number, boards: number, users: number): Promise<Run> {
  log(`${system}: ${instanceCount} instances, ${boards} boards of ${users} users`);
  const redis = await new RedisServer().start();
  const relays = Array.from({ length: instanceCount }, () => new CountingRelay(redis.port));
  const relayPorts = await Promise.all(relays.map((relay) => relay.listen()));
  const instances = await Promise.all(
    relayPorts.map((port, index) =>
      ServiceInstance.create({
        name: `instance-${index}`,
        nodeArgs:
          system === "plain" ? ["--import", "tsx", path.join(__dirname, "scale", "plain-server.ts")] : undefined,
        env: {
          ...redis.serviceEnv,
          REDIS_PORT: String(port),
          LOG_LEVEL: "warn",
          // Measuring traffic, not the abuse limits: every simulated user comes from 127.0.0.1, up to 3,000 of them.
          JOINS_PER_SECOND: "100",
          JOIN_BURST: "100",
          MAX_SOCKETS: "5000",
          MAX_SOCKETS_PER_ADDRESS: "5000",
        },
      }),
    ),
  );
  const workers = Array.from({ length: WORKERS }, () => new Worker());
  try {
    await Promise.all(instances.map((instance) => instance.start(60_000)));
    // Each user lands on an instance at random; the first user of each board draws.
    const random = seeded(boards * 1_000 + users * 10 + instanceCount);
    const clients: ScaleClient[] = [];
    const served = instances.map(() => new Set<string>());
    for (let b = 0; b < boards; b += 1) {
      const board = `scale-${boards}-${b}`;
      for (let u = 0; u < users; u += 1) {
        const index = Math.floor(random() * instanceCount);
        served[index]!.add(board);
        clients.push({ url: instances[index]!.url, board, drawer: u === 0 });
      }
    }
    await Promise.all(
      workers.map((worker, w) =>
        worker.request({ kind: "connect", system, clients: clients.filter((_, i) => i % WORKERS === w) }, "connected"),
      ),
    );
    log(`${system}: ${clients.length} clients connected; drawing for ${SECONDS} s`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const names = new Map<string, number>(instances.map((instance) => [instance.name, instance.pid as number]));
    names.set("redis", redis.pid as number);
    const cpu = await CpuWindow.start(names);
    const before = {
      relay: relays.map((relay) => relay.bytes.fromRedis),
      pubsub: await Promise.all(instances.map((instance) => pubsubBytes(system, instance))),
    };
    const started = Date.now();
    const reports = await Promise.all(
      workers.map((worker) =>
        worker.request<{ report: ScaleReport }>(
          { kind: "draw", durationMs: SECONDS * 1000, strokeEveryMs: STROKE_MS },
          "report",
        ),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const usage = await cpu.stop();
    const after = {
      relay: relays.map((relay) => relay.bytes.fromRedis),
      pubsub: await Promise.all(instances.map((instance) => pubsubBytes(system, instance))),
    };
    const total = reports.reduce(
      (sum, { report }) => ({
        acked: sum.acked + report.strokesAcked,
        received: sum.received + report.received,
        errors: sum.errors + report.errors,
      }),
      { acked: 0, received: 0, errors: 0 },
    );
    return {
      system,
      instances: instanceCount,
      boards,
      users,
      seconds,
      strokesPerSecond: total.acked / seconds,
      deliveriesPerSecond: total.received / seconds,
      errors: total.errors,
      redisCpuPercent: usage.find((entry) => entry.name === "redis")?.cpuPercent ?? 0,
      perInstance: instances.map((instance, index) => ({
        name: instance.name,
        boards: served[index]!.size,
        pubsubBytesPerSecond: (after.pubsub[index]! - before.pubsub[index]!) / seconds,
        redisBytesPerSecond: (after.relay[index]! - before.relay[index]!) / seconds,
        cpuPercent: usage.find((entry) => entry.name === instance.name)?.cpuPercent ?? 0,
      })),
    };
  } finally {
    for (const worker of workers) worker.close();
    await Promise.all(instances.map((instance) => instance.stop(3_000)));
    await Promise.all(relays.map((relay) => relay.close()));
    await redis.destroy();
  }
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const stats = (values: number[]) => ({
  mean: values.reduce((a, b) => a + b, 0) / values.length,
  min: Math.min(...values),
  max: Math.max(...values),
});

const SECTION = "## Scale-out: Redis traffic per instance, sharded adapter against the plain adapter";
const RESULTS = path.join(__dirname, "RESULTS.md");

/** Puts `section` at the end of RESULTS.md in place of the previous scale-out section (a new file if there is none). */
function writeResultsSection(section: string): void {
  const existing = existsSync(RESULTS) ? readFileSync(RESULTS, "utf8") : "";
  const at = existing.indexOf(SECTION);
  const kept = (at >= 0 ? existing.slice(0, at) : existing).trimEnd();
  writeFileSync(RESULTS, `${kept ? `${kept}\n\n` : ""}${section}`);
}

/**
 * One row per run. "All boards' traffic" is one copy of every pub/sub message of every board: what each plain-adapter
 * instance receives (it gets everything), and, for the sharded adapter, the bytes per board served times the boards.
 */
function report(runs: Run[]): string {
  const lines = [
    "| Instances | Boards × users | Adapter | Boards served per instance (mean, min–max) | Share of all boards | Pub/sub KB/s received per instance (mean, min–max) | All boards' pub/sub KB/s | Received / all | Redis → instance KB/s (mean) | Instance CPU % (mean) | Redis CPU % | Strokes/s | Deliveries/s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of runs) {
    const boards = stats(r.perInstance.map((i) => i.boards));
    const pubsub = stats(r.perInstance.map((i) => i.pubsubBytesPerSecond));
    const perBoardServed =
      r.perInstance.reduce((sum, i) => sum + i.pubsubBytesPerSecond, 0) /
      Math.max(
        1,
        r.perInstance.reduce((sum, i) => sum + i.boards, 0),
      );
    const all = r.system === "plain" ? pubsub.mean : perBoardServed * r.boards;
    lines.push(
      `| ${r.instances} | ${r.boards} × ${r.users} | ${r.system} | ${boards.mean.toFixed(0)} (${boards.min}–${boards.max}) | ${((100 * boards.mean) / r.boards).toFixed(0)}% | ${kb(pubsub.mean)} (${kb(pubsub.min)}–${kb(pubsub.max)}) | ${kb(all)} | ${((100 * pubsub.mean) / Math.max(1, all)).toFixed(0)}% | ${kb(stats(r.perInstance.map((i) => i.redisBytesPerSecond)).mean)} | ${stats(r.perInstance.map((i) => i.cpuPercent)).mean.toFixed(1)} | ${r.redisCpuPercent.toFixed(1)} | ${r.strokesPerSecond.toFixed(0)} | ${r.deliveriesPerSecond.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const load = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(", ");
  log(`load average before: ${load}; ${os.cpus().length} CPUs`);
  const runs: Run[] = [];
  const failed: string[] = [];
  for (const { boards, users } of LOADS) {
    for (const instances of INSTANCE_COUNTS) {
      for (const system of SYSTEMS) {
        try {
          runs.push(await run(system, instances, boards, users));
        } catch (error) {
          // One row lost (an instance too loaded to answer) is reported; the others still count.
          failed.push(`${system}, ${instances} instances, ${boards} boards × ${users}: ${(error as Error).message}`);
          log(`failed: ${failed.at(-1)}`);
        }
        writeFileSync(
          path.join(__dirname, "scale-out.json"),
          `${JSON.stringify({ loadBefore: os.loadavg(), runs, failed }, null, 2)}\n`,
        );
      }
    }
  }
  const after = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(", ");
  writeFileSync(
    path.join(__dirname, "scale-out.json"),
    `${JSON.stringify({ loadBefore: load, loadAfter: after, runs, failed }, null, 2)}\n`,
  );
  const text = [
    SECTION,
    "",
    `Made by \`make bench-scale\` (bench/scale-out.ts, also the last part of \`make bench\`) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, load average ${load} before and ${after} after (1, 5, 15 min).`,
    `One drawer per board, a stroke of 8 points every ${STROKE_MS} ms; users placed on instances at random (the same placement for both systems); ${SECONDS} s measured per row.`,
    "Pub/sub bytes: message bytes the adapter received from Redis (both systems count them the same way, before decoding). Redis → instance: every byte Redis sent the instance on its connections (TLS records included; for the sharded system also the board scripts' replies).",
    "",
    report(runs),
    "",
    ...(failed.length > 0 ? ["Rows that could not be measured:", "", ...failed.map((line) => `- ${line}`), ""] : []),
  ].join("\n");
  writeResultsSection(text);
  console.log(text);
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
