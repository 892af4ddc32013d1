/**
 * `make bench-replication`: what REDIS_WAIT_REPLICAS=1 costs. One Standard-tier pair (a primary and a replica over
 * TLS, local/standard-tier.ts) serves three deployments of two instances each, identical but for the setting:
 * REDIS_WAIT_REPLICAS=0, =1, =1 with the replication link delayed by 1 ms each way (a replica in another zone; an
 * assumed figure, not a measured Memorystore one), and =1 with the link cut (every WAIT runs to its timeout, as
 * while a failed-over primary has no replica yet). A few drawers draw lines as a 60 Hz pointer does (protocol 2: an
 * `add`, then an `append` of one sample every 16 ms, a new line every LINE_SAMPLES samples), straight to the
 * instances, and time each acknowledgement. The deployments take turns, several rounds each, so
 * that the machine's other work falls on all of them alike, after a warm-up round each. Writes bench/REPLICATION.md.
 *
 * Options (environment): DRAWERS (6), BOARDS (2), ROUND_SECONDS (6), ROUNDS (3), LINE_SAMPLES (120).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import { acknowledged } from "../local/acknowledgement";
import { scrape } from "../local/metrics-reader";
import { StandardTierRedis } from "../local/standard-tier";
import { Topology } from "../local/topology";
import {
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SyncAck,
  type WriteAck,
} from "../protocol/events";
import { encodeSamples } from "../protocol/points";
import { newBoard } from "../service/identity";
import { clock, createHistogram, summarize, type Histogram } from "./lib/latency";

const DRAWERS = Number(process.env.DRAWERS ?? 6);
const BOARDS = Number(process.env.BOARDS ?? 2);
const ROUND_SECONDS = Number(process.env.ROUND_SECONDS ?? 6);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Samples per line, about 6 bytes each: well under a line's byte limit. */
const LINE_SAMPLES = Number(process.env.LINE_SAMPLES ?? 120);
const SAMPLE_MS = 16;
const REPLICA_DELAY_MS = 1;

const log = (message: string) => console.log(`${new Date().toTimeString().slice(0, 8)} ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Deployment {
  name: string;
  env: Record<string, string>;
  replicaDelayMs: number;
  /** The replication link is cut during this setting's turns (the replica unreachable: every WAIT times out). */
  partition?: boolean;
  topology?: Topology;
  latency: Histogram;
  refused: number;
}

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

async function connect(url: string, board: { board: string; editKey: string }): Promise<Client> {
  const socket: Client = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  const user = { key: randomBytes(16).toString("base64url"), name: "Drawer", color: "#224466" };
  const request = { pv: PROTOCOL_VERSION, board: board.board, edit: board.editKey, user };
  const ack = await acknowledged<SyncAck>((callback) => socket.timeout(10_000).emit("join", request, callback));
  if (!ack.ok) throw new Error(`join refused: ${ack.error}`);
  return socket;
}

/** The line a drawer is drawing: its id, the appends sent, and its last sample. */
interface Line {
  id: string;
  n: number;
  last: readonly [x: number, y: number];
}

/** A drawer's next write: the first sample of a new line (`add`), or one more sample of its line (`append`). */
function nextWrite(socket: Client, tick: number, index: number, line: Line): Promise<WriteAck> {
  const timed = socket.timeout(10_000);
  if (line.id === "" || line.n === LINE_SAMPLES - 1) {
    const first = [1_000 + ((tick * 37 + index * 1_000) % 14_000), 5_000, 0] as const;
    Object.assign(line, { id: randomBytes(12).toString("base64url"), n: 0, last: [first[0], first[1]] });
    const d = encodeSamples([first]);
    return timed.emitWithAck("add", {
      id: line.id,
      t: "f",
      b: [first[0], first[1], 0, 0],
      c: "#224466",
      sw: 2,
      f: "",
      d,
    });
  }
  const sample = [line.last[0] + 40, line.last[1] + 40, 0] as const;
  const d = encodeSamples([sample], line.last);
  line.n += 1;
  line.last = [sample[0], sample[1]];
  const b: [number, number, number, number] = [
    sample[0] - line.n * 40,
    sample[1] - line.n * 40,
    line.n * 40,
    line.n * 40,
  ];
  return timed.emitWithAck("append", { i: line.id, n: line.n, d, b });
}

/**
 * Every drawer draws one sample every SAMPLE_MS, on the clock, for `ms` (without waiting for acknowledgements, as the
 * browser's outbox keeps a few writes in flight), and times each acknowledgement.
 */
async function draw(deployment: Deployment, ms: number, record = true): Promise<void> {
  const instances = (deployment.topology as Topology).instances;
  // Boards of their own for each turn.
  const boards = Array.from({ length: BOARDS }, () => newBoard());
  const clients = await Promise.all(
    Array.from({ length: DRAWERS }, (_, index) =>
      connect(
        (instances[index % instances.length] as { url: string }).url,
        boards[index % BOARDS] as (typeof boards)[0],
      ),
    ),
  );
  const lines = clients.map((): Line => ({ id: "", n: 0, last: [0, 0] }));
  const pending: Promise<void>[] = [];
  const start = clock();
  let tick = 0;
  while (clock() - start < ms) {
    tick += 1;
    clients.forEach((socket, index) => {
      const sent = clock();
      pending.push(
        nextWrite(socket, tick, index, lines[index] as Line).then(
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
    { name: "REDIS_WAIT_REPLICAS=0", env: {}, replicaDelayMs: 0, latency: createHistogram(), refused: 0 },
    {
      name: "REDIS_WAIT_REPLICAS=1",
      env: { REDIS_WAIT_REPLICAS: "1" },
      replicaDelayMs: 0,
      latency: createHistogram(),
      refused: 0,
    },
    {
      name: `REDIS_WAIT_REPLICAS=1, replica ${REPLICA_DELAY_MS} ms away each way`,
      env: { REDIS_WAIT_REPLICAS: "1" },
      replicaDelayMs: REPLICA_DELAY_MS,
      latency: createHistogram(),
      refused: 0,
    },
    {
      name: "REDIS_WAIT_REPLICAS=1, replica unreachable (link cut)",
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
    const turn = async (deployment: Deployment, ms: number, record = true) => {
      await tier.setReplicationLatency(deployment.replicaDelayMs);
      if (deployment.partition) tier.partitionReplication();
      try {
        await draw(deployment, ms, record);
      } finally {
        tier.healReplication();
      }
    };
    for (const deployment of deployments) await turn(deployment, 2_000, false);
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const deployment of deployments) {
        log(`round ${round}/${ROUNDS}: ${deployment.name}`);
        await turn(deployment, ROUND_SECONDS * 1000);
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
      "| Setting | Writes acked | p50 ms | p95 ms | p99 ms | max ms | Refused or unanswered | WAIT shortfalls |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n");
    const report = [
      "# What REDIS_WAIT_REPLICAS=1 costs (`make bench-replication`)",
      "",
      `${DRAWERS} drawers on ${BOARDS} boards, each drawing one sample every ${SAMPLE_MS} ms straight to one of two instances (an \`add\` per line of ${LINE_SAMPLES} samples, then \`append\`s: ${Math.round((DRAWERS * 1000) / SAMPLE_MS)} writes/s in all), ` +
        `${ROUNDS} rounds of ${ROUND_SECONDS} s per setting, taking turns; latency from sending a write to its acknowledgement. ` +
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
    await Promise.all(deployments.flatMap(({ topology }) => (topology ? [topology.stop()] : [])));
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
