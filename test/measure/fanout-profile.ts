/**
 * Where an instance's CPU goes when it fans one drawer's strokes out to many sockets on one board: one instance, one
 * Redis, RECEIVERS sockets (WebSockets made by hand that count frames and never decode them, so the load generator
 * stays cheap), one drawer sending RATE strokes a second. The instance runs with `node --cpu-prof`; its profile is
 * summed by self time into writev (the kernel's share of writing to sockets), other native and Node internals, ws,
 * engine.io, socket.io, the service's own code, garbage collection and the rest.
 *
 *   npx tsx test/measure/fanout-profile.ts      (RECEIVERS=300 RATE=60 SECONDS=15; WS_NO_BUFFER_UTIL and the
 *                                                like, and NODE_PATH, pass through to the instance: NODE_PATH=
 *                                                <a folder with bufferutil installed> lets ws load it;
 *                                                PROFILE_OUT=<file> keeps the .cpuprofile, for Chrome's DevTools)
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SERVICE_ENTRY } from "../../local/service-instance";
import { Topology } from "../../local/topology";
import { processFigures } from "../abuse/support";
import { openRawWebSocket, type RawWebSocket } from "../support/raw-websocket";
import { PROTOCOL_VERSION } from "../../protocol/events";
import { connectClient, editableBoard, eventually, makeLine, makeUser } from "../support/socket-client";

const RECEIVERS = Number(process.env.RECEIVERS ?? 300);
const RATE = Number(process.env.RATE ?? 60);
const SECONDS = Number(process.env.SECONDS ?? 15);
const { board: BOARD, edit: EDIT } = editableBoard();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a function is, by where it comes from. */
function category({ functionName, url }: ProfileNode["callFrame"]): string {
  if (functionName === "(idle)") return "idle";
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "program (V8, not attributed)";
  if (functionName === "writev" || functionName === "writeBuffer" || functionName === "writeUtf8String")
    return "socket writes (writev and the like)";
  for (const name of ["ws", "engine.io", "engine.io-parser", "socket.io", "socket.io-adapter", "socket.io-parser"]) {
    if (url.includes(`/node_modules/${name}/`)) return name;
  }
  if (url.includes("/node_modules/@redis/") || url.includes("/node_modules/redis/")) return "node-redis";
  if (url.includes("/node_modules/")) return "other packages";
  if (url.includes("/dist/")) return "the service's code";
  if (url.startsWith("node:")) return "Node.js internals";
  return url === "" ? "native (other)" : "other";
}

/**
 * Self time by category of the samples in a window, given as milliseconds before the profile's end (the process's
 * exit): the measurement, without the start and the drain.
 */
function summarize(
  profile: CpuProfile,
  fromEndMs: number,
  toEndMs: number,
  key: (frame: ProfileNode["callFrame"]) => string = category,
): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const endMs = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0) / 1_000;
  const selfMs = new Map<string, number>();
  let at = 0;
  profile.samples.forEach((id, index) => {
    const delta = (profile.timeDeltas[index] ?? 0) / 1_000;
    at += delta;
    const node = byId.get(id);
    if (!node || at < endMs - fromEndMs || at > endMs - toEndMs) return;
    const name = key(node.callFrame);
    selfMs.set(name, (selfMs.get(name) ?? 0) + delta);
  });
  return selfMs;
}

/** A receiver: connected and joined, then it only counts the frames it gets. */
async function receiver(url: string): Promise<RawWebSocket> {
  const ws = await openRawWebSocket(url, { collect: true });
  ws.sendFrames(["40"]);
  await eventually("the CONNECT answer", () => ws.frames.some((frame) => frame.startsWith("40{")));
  ws.sendFrames([`420["join",${JSON.stringify({ pv: PROTOCOL_VERSION, board: BOARD, user: makeUser() })}]`]);
  await eventually("the join's answer", () => ws.frames.some((frame) => frame.startsWith("430")), 10_000);
  return ws;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "fanout-profile-"));
  const topology = await Topology.start({
    instances: 1,
    env: {
      RATE_LIMIT_PER_SECOND: "10000",
      RATE_LIMIT_BURST: "100000",
      MAX_SOCKETS: "5000",
      MAX_SOCKETS_PER_ADDRESS: "5000",
      CONNECTIONS_PER_ADDRESS_PER_SECOND: "10000",
      CONNECTIONS_PER_ADDRESS_BURST: "100000",
      LOG_LEVEL: "warn",
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => name.startsWith("WS_NO_") || name === "NODE_PATH"),
      ),
    },
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`, SERVICE_ENTRY],
  });
  let receivers: RawWebSocket[] = [];
  try {
    const url = topology.instance(0).url;
    receivers = [];
    for (let i = 0; i < RECEIVERS; i += 50)
      receivers.push(...(await Promise.all(Array.from({ length: Math.min(50, RECEIVERS - i) }, () => receiver(url)))));
    const drawer = await connectClient(url);
    await drawer.join({ board: BOARD, edit: EDIT });
    const pid = topology.instance(0).pid as number;
    let stopped = false;
    const drawing = (async () => {
      let next = performance.now();
      while (!stopped) {
        drawer.add(makeLine()).catch(() => undefined);
        next += 1_000 / RATE;
        await sleep(Math.max(0, next - performance.now()));
      }
    })();
    await sleep(1_000);
    for (const ws of receivers) ws.frames.length = 0;
    const cpuBefore = processFigures(pid).cpuMs;
    const started = performance.now();
    let frames = 0;
    const counter = setInterval(() => {
      for (const ws of receivers) {
        frames += ws.frames.length;
        ws.frames.length = 0;
      }
    }, 200);
    await sleep(SECONDS * 1_000);
    clearInterval(counter);
    for (const ws of receivers) frames += ws.frames.length;
    const ended = performance.now();
    const seconds = (ended - started) / 1_000;
    const cpuMs = processFigures(pid).cpuMs - cpuBefore;
    stopped = true;
    await drawing;
    drawer.close();
    for (const ws of receivers) ws.close();
    await topology.stop();
    const exited = performance.now();
    const [file] = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
    if (!file) throw new Error("the instance wrote no profile");
    const profile = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    if (process.env.PROFILE_OUT) copyFileSync(path.join(dir, file), process.env.PROFILE_OUT);
    const selfMs = summarize(profile, exited - started, exited - ended);
    const busy = [...selfMs].filter(([name]) => name !== "idle").reduce((sum, [, ms]) => sum + ms, 0);
    console.log(
      `${RECEIVERS} receivers, 1 drawer at ${RATE}/s, ${seconds.toFixed(1)} s: ${(frames / RECEIVERS / seconds).toFixed(1)} frames per ` +
        `receiver per second, instance CPU ${((cpuMs / (seconds * 1_000)) * 100).toFixed(0)}% of a core, ` +
        `${((cpuMs * 1_000) / Math.max(1, frames)).toFixed(1)} µs per frame delivered`,
    );
    console.log("\n| share of the instance's busy time | % |\n|---|---|");
    for (const [name, ms] of [...selfMs].filter(([name]) => name !== "idle").sort((a, b) => b[1] - a[1]))
      console.log(`| ${name} | ${((ms / busy) * 100).toFixed(1)} |`);
    const byFunction = summarize(
      profile,
      exited - started,
      exited - ended,
      ({ functionName, url }) =>
        `${functionName || "(anonymous)"} ${url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/dist\//, "dist/")}`,
    );
    console.log("\n| function (top 15 by self time) | % |\n|---|---|");
    for (const [name, ms] of [...byFunction]
      .filter(([name]) => !name.startsWith("(idle)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15))
      console.log(`| ${name} | ${((ms / busy) * 100).toFixed(1)} |`);
  } finally {
    for (const ws of receivers) ws.close();
    await topology.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
