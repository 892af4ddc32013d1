/**
 * `make bench-abuse`: what each attack costs an honest user, on this machine. One instance with the
 * default limits (and the V8 heap a 512 MiB Cloud Run instance gets), its Redis (the Memorystore stand-in); an honest
 * user drawing on it (a small line every 50 ms, each ack timed); then, for each attack, a quiet phase and a phase
 * with the attack running from a process of its own. Protocol 2: writers join with their board's edit key, readers
 * with the view-only link; the biggest write is a 1,000-sample line (test/abuse/support.ts). Prints and writes bench/ABUSE.md: the honest user's ack latency
 * p50 / p99 in each phase, and the instance's CPU, peak RSS and bytes written per second.
 *
 * Settings (environment): PHASE_SECONDS (10).
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { PROTOCOL_VERSION, type SyncAck } from "../protocol/events";
import { ServiceInstance, SERVICE_ENTRY } from "../local/service-instance";
import { Topology } from "../local/topology";
import { bigLine, UNTHROTTLED_WRITES } from "../test/abuse/support";
import { openRawWebSocket, textFrames, type RawWebSocket } from "../test/support/raw-websocket";
import { connectClient, makeLine, makeUser, type TestClient } from "../test/support/socket-client";
import { boardIdOf } from "../service/identity";

const PHASE_SECONDS = Number(process.env.PHASE_SECONDS ?? 10);
const MIB = 2 ** 20;
/**
 * Boards are made from edit keys (service/identity.ts). Fixed keys, so that the coordinator and the attack processes
 * name the same boards; an attack that writes joins with its board's key, one that reads with the view-only link.
 */
const editKeyOf = (name: string) => `bench-abuse-edit-key-${name}`.padEnd(22, "0");
const boardOf = (name: string) => ({ board: boardIdOf(editKeyOf(name)), edit: editKeyOf(name) });
const BIG_BOARD = boardIdOf(editKeyOf("largest"));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- Attacks: each runs in its own process until it is told to stop. --------------------------------------------

type Attack = (url: string, running: () => boolean) => Promise<void>;

let seed = 0;
/** A 1,000-sample line (about 7 KB of points): the most one `add` may hold. */
const nextBigLine = () => bigLine((seed += 1));

const failed = { ok: false, code: "unavailable", error: "no answer" } as SyncAck;
const FLOOD = textFrames(Array.from({ length: 8_000 }, () => "40"));

/** Opens a socket from `localAddress`, retrying (refusals are part of the attack) until `running()` turns false. */
async function persistentClient(
  url: string,
  localAddress: string,
  running: () => boolean,
): Promise<TestClient | undefined> {
  while (running()) {
    const client = await connectClient(url, { localAddress }).catch(() => undefined);
    if (client) return client;
    await sleep(100);
  }
  return undefined;
}

const ATTACKS: Record<string, { title: string; before: string; run: Attack }> = {
  catchups: {
    title: "10 clients looping joins and catch-up reads of a 16 MiB board",
    before: "1 client: p99 12 → 489 ms, 78 MB/s written, 1.1 GB RSS; 10 clients: 1.4 GB RSS",
    run: async (url, running) => {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (running()) {
            const client = await persistentClient(url, "127.0.10.1", running);
            while (client?.socket.connected && running()) {
              let ack = await client.join({ board: BIG_BOARD }).catch(() => failed);
              if (!ack.ok) await sleep(100);
              const at = ack.ok ? ack.s : 0;
              while (ack.ok && "snapshot" in ack && ack.snapshot.next !== undefined && running()) {
                const next = await client.read({ e: ack.e, at, cursor: ack.snapshot.next }).catch(() => failed);
                if (next.ok) ack = next;
                else await sleep(100);
              }
            }
            client?.close();
          }
        }),
      );
    },
  },
  nonReaders: {
    title: "10 clients asking for catch-ups and never reading (reconnecting when cut)",
    before: "1 client joining 5 times a second: past 512 MiB in 1.5 s",
    run: async (url, running) => {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (running()) {
            const ws = await openRawWebSocket(url, { localAddress: "127.0.10.2", collect: true }).catch(
              () => undefined,
            );
            if (!ws) {
              await sleep(100);
              continue;
            }
            ws.sendFrames(["40"]);
            for (let i = 0; i < 50 && !ws.frames.some((frame) => frame.startsWith("40{")); i++) await sleep(20);
            ws.pause();
            const join = { pv: PROTOCOL_VERSION, board: BIG_BOARD, user: makeUser() };
            ws.sendFrames([`420["join",${JSON.stringify(join)}]`]);
            let closed = false;
            void ws.closed.then(() => (closed = true));
            for (let id = 1; !closed && running(); id++) {
              if (ws.socket.writable) ws.sendFrames([`42${id}["read",{"e":"stale","after":0}]`]);
              await sleep(30);
            }
            ws.close();
          }
        }),
      );
    },
  },
  connectFloods: {
    title: "16 WebSockets at a time, each with 8,000 CONNECTs in one write, over and over",
    before: "16 WebSockets: 128,000 sockets, 641 MB RSS in 8.6 s, 256,003 log lines",
    run: async (url, running) => {
      await Promise.all(
        Array.from({ length: 16 }, async (_, index) => {
          while (running()) {
            const ws: RawWebSocket | undefined = await openRawWebSocket(url, {
              localAddress: `127.0.11.${index + 1}`,
              collect: true,
            }).catch(() => undefined);
            if (!ws) {
              await sleep(50);
              continue;
            }
            ws.sendRaw(FLOOD);
            await Promise.race([ws.closed, sleep(3_000)]);
            ws.close();
          }
        }),
      );
    },
  },
  socketFlood: {
    title: "sockets opened as fast as possible from one address, and from 100 addresses, kept open",
    before: "2,000 sockets from one address in 2.5 s, none refused; 750 idle sockets made every page load a 429",
    run: async (url, running) => {
      const held: TestClient[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async (_, worker) => {
          for (let attempt = 0; running(); attempt++) {
            const address = worker < 10 ? "127.0.12.1" : `127.0.13.${(attempt % 100) + 1}`;
            const client = await connectClient(url, { localAddress: address }).catch(() => undefined);
            if (!client) continue;
            held.push(client);
            // Joined, so that the join timeout does not close them: they hold their place.
            void client.join(boardOf(`flood-${worker}`)).catch(() => undefined);
          }
        }),
      );
      for (const client of held) client.close();
    },
  },
  bigLines: {
    title: "4 clients writing 1,000-sample lines as fast as they are accepted",
    before: "1 client at 59 strokes/s: Redis 71% CPU, everyone's acks p50 5 → 141 ms; 4 clients: p50 440 ms",
    run: async (url, running) => {
      await Promise.all(
        Array.from({ length: 4 }, async (_, index) => {
          const client = await persistentClient(url, `127.0.14.${index + 1}`, running);
          await client?.join(boardOf(`big-lines-${index}`));
          while (client && running()) {
            const acks = await Promise.all(
              Array.from({ length: 10 }, () => client.add(nextBigLine()).catch(() => undefined)),
            );
            if (acks.some((ack) => ack && !ack.ok)) await sleep(20);
          }
          client?.close();
        }),
      );
    },
  },
  clears: {
    title: "10 clients clearing a board with 50 listeners, as fast as they may",
    before: "10 connections: 683 clears/s, 50 listeners got 34,145 cleared events/s, instance at 90% CPU",
    run: async (url, running) => {
      const { board, edit } = boardOf("vandalized");
      const listeners = await Promise.all(
        Array.from({ length: 50 }, (_, i) => persistentClient(url, `127.0.15.${i + 1}`, running)),
      );
      await Promise.all(
        listeners.filter((listener) => listener !== undefined).map((listener) => listener.join({ board })),
      );
      await Promise.all(
        Array.from({ length: 10 }, async (_, index) => {
          const vandal = await persistentClient(url, `127.0.16.${index + 1}`, running);
          await vandal?.join({ board, edit });
          while (vandal && running()) {
            await vandal.clear().catch(() => undefined);
            await vandal.add(makeLine()).catch(() => undefined);
          }
          vandal?.close();
        }),
      );
      for (const listener of listeners) listener?.close();
    },
  },
};

async function runAttack(name: string, url: string): Promise<void> {
  let running = true;
  process.on("message", () => (running = false));
  await (ATTACKS[name] as { run: Attack }).run(url, () => running);
  process.exit(0);
}

// --- The coordinator. --------------------------------------------------------------------------------------------

interface PhaseFigures {
  p50: number;
  p99: number;
  acks: number;
  failed: number;
  cpuPercent: number;
  peakRssMb: number;
  writtenMbPerSecond: number;
}

function procFigures(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  const written = Number(/^wchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, rssMb: rssKb / 1024, written };
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** The honest user's acks and the instance's figures over one phase. */
async function measurePhase(honest: TestClient, pid: number): Promise<PhaseFigures> {
  const latencies: number[] = [];
  let failures = 0;
  const start = procFigures(pid);
  let peakRss = start.rssMb;
  const started = performance.now();
  const until = started + PHASE_SECONDS * 1_000;
  while (performance.now() < until) {
    const sent = performance.now();
    const ack = await honest.add(makeLine()).catch(() => undefined);
    if (ack?.ok) latencies.push(performance.now() - sent);
    else failures += 1;
    peakRss = Math.max(peakRss, procFigures(pid).rssMb);
    await sleep(Math.max(0, 50 - (performance.now() - sent)));
  }
  const seconds = (performance.now() - started) / 1_000;
  const end = procFigures(pid);
  latencies.sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(latencies, 50) * 10) / 10,
    p99: Math.round(percentile(latencies, 99) * 10) / 10,
    acks: latencies.length,
    failed: failures,
    cpuPercent: Math.round((end.cpuMs - start.cpuMs) / 10 / seconds),
    peakRssMb: Math.round(peakRss),
    writtenMbPerSecond: Math.round(((end.written - start.written) / MIB / seconds) * 10) / 10,
  };
}

async function buildBigBoard(redisEnv: Record<string, string>): Promise<void> {
  const builder = await ServiceInstance.create({
    name: "builder",
    env: {
      ...redisEnv,
      LOG_LEVEL: "warn",
      ...UNTHROTTLED_WRITES,
    },
  });
  await builder.start();
  const client = await connectClient(builder.url);
  await client.join(boardOf("largest"));
  for (let full = false; !full;) {
    const acks = await Promise.all(Array.from({ length: 200 }, () => client.add(nextBigLine())));
    full = acks.some((ack) => !ack.ok);
  }
  client.close();
  await builder.stop();
}

async function coordinate(): Promise<void> {
  const loadBefore = loadavg().map((value) => value.toFixed(2));
  const topology = await Topology.start({
    instances: 1,
    env: { LOG_LEVEL: "warn" },
    nodeArgs: ["--max-old-space-size=256", SERVICE_ENTRY],
  });
  const rows: string[] = [];
  try {
    const url = topology.instance(0).url;
    const pid = topology.instance(0).pid as number;
    await buildBigBoard(topology.redis.serviceEnv);
    const honest = await connectClient(url, { localAddress: "127.0.9.1", reconnection: true });
    await honest.join(boardOf("honest"));
    await measurePhase(honest, pid); // warm-up

    for (const [name, attack] of Object.entries(ATTACKS)) {
      const quiet = await measurePhase(honest, pid);
      const child: ChildProcess = fork(__filename, ["attack", name, url], {
        execArgv: ["--import", "tsx"],
        stdio: "inherit",
      });
      await sleep(1_000);
      const during = await measurePhase(honest, pid);
      child.send("stop");
      await Promise.race([
        new Promise((resolve) => child.once("exit", resolve)),
        sleep(5_000).then(() => child.kill("SIGKILL")),
      ]);
      await sleep(3_000);
      const row = `| ${attack.title} | ${quiet.p50} / ${quiet.p99} | ${during.p50} / ${during.p99} | ${during.failed} | ${during.cpuPercent}% | ${during.peakRssMb} | ${during.writtenMbPerSecond} | ${attack.before} |`;
      console.log(row);
      rows.push(row);
      if (!honest.socket.connected) throw new Error(`the honest user lost its connection during ${name}`);
    }
    honest.close();
  } finally {
    await topology.stop();
  }
  const loadAfter = loadavg().map((value) => value.toFixed(2));
  const text = `# Attacks against one instance: the honest user's line acks (\`make bench-abuse\`)

One instance with the default limits and the V8 heap of a 512 MiB Cloud Run instance (\`--max-old-space-size=256\`),
its Redis (TLS, AUTH), on loopback. The honest user sends a small line every 50 ms and times each ack; each phase
lasts ${PHASE_SECONDS} s, the attack from a process of its own, started 1 s before its phase. "Before" is what the
same attacks measured on this machine before the per-address limits (protocol 1, 2026-11). CPU, peak RSS and bytes written are the instance's during the attack.
Load average ${loadBefore.join(", ")} before the run, ${loadAfter.join(", ")} after (2 cores, shared).

| Attack | Quiet p50 / p99 ms | During p50 / p99 ms | Acks failed | Instance CPU | Peak RSS MB | Written MB/s | Before the limits |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}
`;
  writeFileSync(path.join(__dirname, "ABUSE.md"), text);
  console.log(`\nwritten to bench/ABUSE.md`);
}

if (process.argv[2] === "attack") void runAttack(process.argv[3] as string, process.argv[4] as string);
else
  coordinate().catch((error: Error) => {
    console.error(error);
    process.exit(1);
  });
