/**
 * `make bench-replication`: what REDIS_WAIT_REPLICAS=1 costs. One Standard-tier pair (a primary and a replica over
 * TLS, local/standard-tier.ts) serves three deployments of two instances each, identical but for the setting:
 * REDIS_WAIT_REPLICAS=0, =1, =1 with the replication link delayed by 1 ms each way (a replica in another zone; an
 * assumed figure, not a measured Memorystore one), and =1 with the link cut (every WAIT runs to its timeout, as
 * while a failed-over primary has no replica yet). A few drawers send a stroke every 16 ms (a 60 Hz pointer)
 * straight to the instances and time each acknowledgement. The deployments take turns, several rounds each, so
 * that the machine's other work falls on all of them alike, after a warm-up round each. Writes bench/REPLICATION.md.
 *
 * Options (environment): DRAWERS (6), BOARDS (2), ROUND_SECONDS (6), ROUNDS (3).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import { scrape } from "../local/metrics-reader";
import { StandardTierRedis } from "../local/standard-tier";
import { Topology } from "../local/topology";
import type { ClientToServerEvents, ServerToClientEvents } from "../protocol/events";
import { encodePoints } from "../protocol/points";
import { clock, createHistogram, summarize, type Histogram } from "./lib/latency";

const DRAWERS = Number(process.env.DRAWERS ?? 6);
const BOARDS = Number(process.env.BOARDS ?? 2);
const ROUND_SECONDS = Number(process.env.ROUND_SECONDS ?? 6);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SAMPLE_MS = 16;
const REPLICA_DELAY_MS = 1;

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Deployment {
  name: string;
  tag: string;
  env: Record<string, string>;
  replicaDelayMs: number;
  /** The replication link is cut during this setting's turns (the replica unreachable: every WAIT times out). */
  partition?: boolean;
  topology?: Topology;
  latency: Histogram;
  refused: number;
}

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

async function connect(url: string, board: string, index: number): Promise<Client> {
  const socket: Client = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  const ack = await socket
    .timeout(10_000)
    .emitWithAck("join", { board, user: { id: `drawer-${index}`.padEnd(8, "0"), name: "Drawer", color: "#224466" } });
  if (!ack.ok) throw new Error(`join refused: ${ack.error}`);
  return socket;
}

/** Every drawer sends a two-point stroke every SAMPLE_MS, on the clock, for `ms`, and times each acknowledgement. */
async function draw(deployment: Deployment, round: number, ms: number, record = true): Promise<void> {
  const instances = (deployment.topology as Topology).instances;
  // Boards and stroke ids of their own: a stroke id stored before is a duplicate, which stores nothing and waits for nothing.
  const tag = `${deployment.tag}-${round}`;
  const clients = await Promise.all(
    Array.from({ length: DRAWERS }, (_, index) =>
      connect((instances[index % instances.length] as { url: string }).url, `bench-${tag}-${index % BOARDS}`, index),
    ),
  );
  const pending: Promise<void>[] = [];
  const start = clock();
  let tick = 0;
  while (clock() - start < ms) {
    tick += 1;
    clients.forEach((socket, index) => {
      const x = 1_000 + ((tick * 37 + index * 1_000) % 14_000);
      const sent = clock();
      pending.push(
        socket
          .timeout(10_000)
          .emitWithAck("stroke", {
            id: `${tag}-d${index}-${tick}`,
            p: encodePoints([
              [x, 5_000],
              [x + 40, 5_040],
            ]),
            c: "#224466",
            w: 2,
          })
          .then(
            (ack) => {
              if (!record) return;
              if (ack.ok) deployment.latency.recordValue(Math.max(1, Math.round((clock() - sent) * 1000)));
              else deployment.refused += 1;
            },
            () => void (deployment.refused += 1),
          ),
      );
    });
    const next = start + tick * SAMPLE_MS;
    await sleep(Math.max(0, next - clock()));
  }
  await Promise.all(pending);
  for (const socket of clients) socket.close();
}

async function main(): Promise<void> {
  const load = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(", ");
  log(`load average before: ${load}; starting a primary and a replica`);
  const tier = await StandardTierRedis.start();
  const deployments: Deployment[] = [
    { name: "REDIS_WAIT_REPLICAS=0", tag: "w0", env: {}, replicaDelayMs: 0, latency: createHistogram(), refused: 0 },
    {
      name: "REDIS_WAIT_REPLICAS=1",
      tag: "w1",
      env: { REDIS_WAIT_REPLICAS: "1" },
      replicaDelayMs: 0,
      latency: createHistogram(),
      refused: 0,
    },
    {
      name: `REDIS_WAIT_REPLICAS=1, replica ${REPLICA_DELAY_MS} ms away each way`,
      tag: "w1-far",
      env: { REDIS_WAIT_REPLICAS: "1" },
      replicaDelayMs: REPLICA_DELAY_MS,
      latency: createHistogram(),
      refused: 0,
    },
    {
      name: "REDIS_WAIT_REPLICAS=1, replica unreachable (link cut)",
      tag: "w1-cut",
      env: { REDIS_WAIT_REPLICAS: "1" },
      replicaDelayMs: 0,
      partition: true,
      latency: createHistogram(),
      refused: 0,
    },
  ];
  try {
    for (const deployment of deployments) {
      deployment.topology = await Topology.start({
        instances: 2,
        redisEnv: tier.serviceEnv,
        env: { LOG_LEVEL: "warn", ...deployment.env },
      });
    }
    // A warm-up round each (connections, JIT, Redis's scripts), not counted.
    const turn = async (deployment: Deployment, round: number, ms: number, record = true) => {
      await tier.setReplicationLatency(deployment.replicaDelayMs);
      if (deployment.partition) tier.partitionReplication();
      try {
        await draw(deployment, round, ms, record);
      } finally {
        tier.healReplication();
      }
    };
    for (const deployment of deployments) await turn(deployment, 0, 2_000, false);
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const deployment of deployments) {
        log(`round ${round}/${ROUNDS}: ${deployment.name}`);
        await turn(deployment, round, ROUND_SECONDS * 1000);
      }
    }
    const shortfalls = await Promise.all(
      deployments.map(async (deployment) => {
        const snapshots = await Promise.all(
          (deployment.topology as Topology).instances.map((instance) => scrape(instance.metricsUrl)),
        );
        return snapshots.reduce((sum, snapshot) => sum + snapshot.sum("whiteboard_replica_wait_shortfalls_total"), 0);
      }),
    );
    const after = os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(", ");
    const rows = deployments.map((deployment, index) => {
      const figures = summarize(deployment.latency);
      return `| ${deployment.name} | ${figures.count} | ${figures.p50} | ${figures.p95} | ${figures.p99} | ${figures.max} | ${deployment.refused} | ${shortfalls[index]} |`;
    });
    const table = [
      "| Setting | Strokes acked | p50 ms | p95 ms | p99 ms | max ms | Refused or unanswered | WAIT shortfalls |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n");
    const report = [
      "# What REDIS_WAIT_REPLICAS=1 costs (`make bench-replication`)",
      "",
      `${DRAWERS} drawers on ${BOARDS} boards, each sending a stroke every ${SAMPLE_MS} ms straight to one of two instances (${Math.round((DRAWERS * 1000) / SAMPLE_MS)} strokes/s in all), ` +
        `${ROUNDS} rounds of ${ROUND_SECONDS} s per setting, taking turns; latency from sending a stroke to its acknowledgement. ` +
        "One primary and one replica (TLS, AUTH, replication over TLS through a local relay) serve every setting.",
      "",
      table,
      "",
      `Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load average before ${load}, after ${after} (1, 5, 15 minutes).`,
      "",
    ].join("\n");
    writeFileSync(path.join(__dirname, "REPLICATION.md"), report);
    console.log(`\n${report}`);
  } finally {
    await Promise.all(deployments.map((deployment) => deployment.topology?.stop()));
    await tier.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
