/**
 * `make bench-scale` (also part of `make bench`): does an instance's Redis traffic follow the boards it serves, or
 * the whole service's, and what does a stroke cost on an instance's subscriber connection?
 *
 * For 3 and 6 instances and two loads (60 boards of 10 users, 600 boards of 5 users; one drawer per board, a stroke
 * of 8 points every second), in the same run:
 * - "sharded": this service (boards stored in Redis, @socket.io/redis-adapter's sharded adapter with dynamic
 *   subscriptions: SPUBLISH/SSUBSCRIBE on one channel per board);
 * - "plain": the classic adapter (`createAdapter`, one channel every instance subscribes to), rooms per board,
 *   nothing stored (bench/scale/plain-server.ts), relaying the very frame ours broadcasts for the stroke.
 * Users land on instances at random, as Cloud Run spreads connections with no affinity. Per instance: boards served,
 * strokes of those boards, bytes Redis sent on its subscriber connection and on all its connections (a counting TCP
 * relay in front of Redis, TLS included), pub/sub payload bytes (the adapter's own count), CPU.
 *
 * Options (environment): SCALE_INSTANCES ("3,6"), SCALE_LOADS ("60x10,600x5": boards x users), SCALE_SECONDS (15), STROKE_MS (1000).
 * Writes bench/scale-out.json; bench/report.ts renders it into bench/RESULTS.md.
 */
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { scrape } from "../local/metrics-reader";
import { RedisServer } from "../local/redis-server";
import { ServiceInstance } from "../local/service-instance";
import { compiledServer } from "./lib/compiled-server";
import { machineNow } from "./lib/machine";
import { CpuWindow } from "./lib/process-stats";
import type { ScaleResults, ScaleRun } from "./lib/results";
import { CountingRelay, subscriberBytes } from "./scale/relay";
import type { ScaleClient, ScaleCommand, ScaleReport, ScaleSystem } from "./scale/worker";

const settings: ScaleResults["settings"] = {
  instances: (process.env.SCALE_INSTANCES ?? "3,6").split(",").map(Number),
  loads: (process.env.SCALE_LOADS ?? "60x10,600x5").split(","),
  seconds: Number(process.env.SCALE_SECONDS ?? 15),
  strokeMs: Number(process.env.STROKE_MS ?? 1000),
  pointsPerStroke: 8,
};
const WORKERS = 2;
const SYSTEMS: ScaleSystem[] = ["sharded", "plain"];

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);

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

/**
 * Ours' count of pub/sub payload bytes received (its adapter's metric); an overloaded instance may answer slowly, so
 * it is asked patiently. The plain adapter has no such count without reaching into its internals: undefined.
 */
async function pubsubBytes(system: ScaleSystem, instance: ServiceInstance): Promise<number | undefined> {
  if (system === "plain") return undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (await scrape(instance.metricsUrl, 20_000)).sum("whiteboard_redis_pubsub_received_bytes_total");
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function run(system: ScaleSystem, instanceCount: number, boards: number, users: number): Promise<ScaleRun> {
  log(`${system}: ${instanceCount} instances, ${boards} boards of ${users} users`);
  const redis = await new RedisServer().start();
  const relays = Array.from({ length: instanceCount }, () => new CountingRelay(redis.port));
  const relayPorts = await Promise.all(relays.map((relay) => relay.listen()));
  const plainArgs = system === "plain" ? await compiledServer("scale/plain-server.ts") : undefined;
  const instances = await Promise.all(
    relayPorts.map((port, index) =>
      ServiceInstance.create({
        name: `instance-${index}`,
        nodeArgs: plainArgs,
        env: {
          ...redis.serviceEnv,
          REDIS_PORT: String(port),
          LOG_LEVEL: "warn",
          // Measuring traffic, not the abuse limits: every simulated user comes from 127.0.0.1, up to 3,000 of them.
          JOINS_PER_SECOND: "100",
          JOIN_BURST: "100",
          MAX_SOCKETS: "5000",
          MAX_SOCKETS_PER_ADDRESS: "5000",
          CONNECTIONS_PER_ADDRESS_PER_SECOND: "10000",
          CONNECTIONS_PER_ADDRESS_BURST: "100000",
          WRITE_BYTES_PER_ADDRESS_PER_SECOND: String(2 ** 30),
          WRITE_BYTES_PER_ADDRESS_BURST: String(2 ** 30),
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
    const share = Math.ceil(clients.length / WORKERS);
    await Promise.all(
      workers.map((worker, w) =>
        worker.request(
          { kind: "connect", system, clients: clients.slice(w * share, (w + 1) * share), first: w * share },
          "connected",
        ),
      ),
    );
    log(`${system}: ${clients.length} clients connected; drawing for ${settings.seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const names = new Map<string, number>(instances.map((instance) => [instance.name, instance.pid as number]));
    names.set("redis", redis.pid as number);
    const cpu = await CpuWindow.start(names);
    const before = {
      relay: relays.map((relay) => relay.reading()),
      pubsub: await Promise.all(instances.map((instance) => pubsubBytes(system, instance))),
    };
    const started = Date.now();
    const reports = await Promise.all(
      workers.map((worker) =>
        worker.request<{ report: ScaleReport }>(
          {
            kind: "draw",
            durationMs: settings.seconds * 1000,
            strokeEveryMs: settings.strokeMs,
            pointsPerStroke: settings.pointsPerStroke,
          },
          "report",
        ),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const usage = await cpu.stop();
    const after = {
      relay: relays.map((relay) => relay.reading()),
      pubsub: await Promise.all(instances.map((instance) => pubsubBytes(system, instance))),
    };
    const storedByBoard = new Map<string, number>();
    for (const { report } of reports)
      for (const [board, count] of Object.entries(report.storedByBoard))
        storedByBoard.set(board, (storedByBoard.get(board) ?? 0) + count);
    const sum = (pick: (report: ScaleReport) => number) =>
      reports.reduce((total, { report }) => total + pick(report), 0);
    const fromRedis = (reading: { fromRedis: number }[]) =>
      reading.reduce((total, bytes) => total + bytes.fromRedis, 0);
    return {
      system,
      instances: instanceCount,
      boards,
      users,
      seconds,
      pieces: sum((report) => report.strokesStored),
      deliveries: sum((report) => report.received),
      errors: sum((report) => report.errors),
      redisCpuPercent: usage.find((entry) => entry.name === "redis")?.cpuPercent ?? 0,
      perInstance: instances.map((instance, index) => {
        const [was, now] = [before.pubsub[index], after.pubsub[index]];
        return {
          name: instance.name,
          boards: served[index]!.size,
          piecesOnServedBoards: [...served[index]!].reduce(
            (total, board) => total + (storedByBoard.get(board) ?? 0),
            0,
          ),
          subscriberWireBytes: subscriberBytes(before.relay[index]!, after.relay[index]!),
          ...(was !== undefined && now !== undefined ? { pubsubBytes: now - was } : {}),
          redisBytes: fromRedis(after.relay[index]!) - fromRedis(before.relay[index]!),
          cpuPercent: usage.find((entry) => entry.name === instance.name)?.cpuPercent ?? 0,
        };
      }),
    };
  } finally {
    for (const worker of workers) worker.close();
    await Promise.all(instances.map((instance) => instance.stop(3_000)));
    await Promise.all(relays.map((relay) => relay.close()));
    await redis.destroy();
  }
}

async function main(): Promise<void> {
  const host = machineNow();
  log(`load average before: ${host.loadBefore.join(", ")}; ${host.cpus} CPUs`);
  const results: ScaleResults = {
    generatedAt: new Date().toISOString(),
    machine: host,
    settings,
    runs: [],
    failed: [],
    loadAfter: [],
  };
  const write = () => {
    results.loadAfter = os.loadavg().map((value) => Math.round(value * 100) / 100);
    writeFileSync(path.join(__dirname, "scale-out.json"), `${JSON.stringify(results, null, 1)}\n`);
  };
  for (const load of settings.loads) {
    const [boards, users] = load.split("x").map(Number) as [number, number];
    for (const instances of settings.instances) {
      for (const system of SYSTEMS) {
        try {
          const measured = await run(system, instances, boards, users);
          results.runs.push(measured);
          const wire = measured.perInstance.reduce((total, instance) => total + instance.subscriberWireBytes, 0);
          const strokes = measured.perInstance.reduce(
            (total, instance) => total + (system === "plain" ? measured.pieces : instance.piecesOnServedBoards),
            0,
          );
          log(
            `${system}, ${instances} instances: ${Math.round(wire / Math.max(1, strokes))} B per stroke received on the subscriber's wire`,
          );
        } catch (error) {
          // One row lost (an instance too loaded to answer) is reported; the others still count.
          results.failed.push(
            `${system}, ${instances} instances, ${boards} boards × ${users}: ${(error as Error).message}`,
          );
          log(`failed: ${results.failed.at(-1)}`);
        }
        write();
      }
    }
  }
  log("wrote bench/scale-out.json; bench/report.ts renders it into bench/RESULTS.md");
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
