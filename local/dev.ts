/**
 * `make dev`: the whole Cloud Run topology on this machine. Redis as the Memorystore stand-in (TLS and AUTH;
 * redis-server and openssl installed from Debian's packages when missing and possible), N service instances, and
 * the Cloud Run-like front on one address. Ctrl-C stops every process it started.
 *
 * Settings (environment, all optional): INSTANCES (3), PORT of the front (8080), REQUEST_TIMEOUT in
 * seconds (3600), MAX_CONCURRENCY per instance (250), LOG_LEVEL of the instances (info), REDIS: `standalone`
 * (Memorystore for Redis, the default) or `cluster` (Memorystore for Redis Cluster: three primaries with a replica
 * each, IAM tokens from a local metadata server; see local/redis-cluster.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";
import { type MetricsSnapshot, quantile, rate, scrape } from "./metrics-reader";
import { Topology } from "./topology";

const settings = z
  .object({
    INSTANCES: z.coerce.number().int().min(1).max(26).default(3),
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    REQUEST_TIMEOUT: z.coerce.number().int().min(1).max(3600).default(3600),
    MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(250),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    REDIS: z.enum(["standalone", "cluster"]).default("standalone"),
  })
  .safeParse(process.env);
if (!settings.success) {
  for (const issue of settings.error.issues) console.error(`make dev: ${issue.path.join(".")}: ${issue.message}`);
  process.exit(2);
}
const { INSTANCES, PORT, REQUEST_TIMEOUT, MAX_CONCURRENCY, LOG_LEVEL, REDIS } = settings.data;

const SEVERITY_COLOR: Record<string, string> = { WARNING: "\x1b[33m", ERROR: "\x1b[31m", CRITICAL: "\x1b[31m" };
const color = process.stdout.isTTY;

/** Instance logs are JSON for Cloud Logging; here they become one short readable line each. */
function printLine(source: string, line: string): void {
  let text = line;
  try {
    const {
      severity = "",
      message = "",
      time: _time,
      instance: _instance,
      ...fields
    } = JSON.parse(line) as Record<string, unknown>;
    const details = Object.entries(fields).map(
      ([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`,
    );
    const paint = color ? (SEVERITY_COLOR[String(severity)] ?? "") : "";
    text = `${paint}${String(severity).padEnd(7)}${paint ? "\x1b[0m" : ""} ${String(message)} ${details.join(" ")}`;
  } catch {
    // not JSON (redis-server's own log): print as is
  }
  console.log(`${new Date().toTimeString().slice(0, 8)} ${source.padEnd(10)} ${text}`);
}

/** What the Memorystore stand-in needs: Debian package, and the command that proves it is installed. */
const STAND_IN_PACKAGES: Record<string, string[]> = {
  "redis-server": ["redis-server", "--version"],
  openssl: ["openssl", "version"],
};

function missingPackages(): string[] {
  return Object.entries(STAND_IN_PACKAGES)
    .filter(([, [command, ...args]]) => spawnSync(command!, args, { stdio: "ignore" }).status !== 0)
    .map(([name]) => name);
}

/** Installs Debian's packages when this user may (root, or sudo without a password). */
function installPackages(packages: string[]): string | undefined {
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
  if (spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0) return "apt-get is not available";
  if (!asRoot && !sudo) return "installing packages needs root or passwordless sudo";
  const run = (args: string[]) =>
    execFileSync(asRoot ? args[0]! : "sudo", asRoot ? args.slice(1) : args, { stdio: "inherit" });
  const install = ["apt-get", "install", "-y", "--no-install-recommends", ...packages];
  console.log(`${packages.join(" and ")} missing; installing Debian's packages (${install.join(" ")})...`);
  try {
    run(install);
  } catch {
    try {
      run(["apt-get", "update"]);
      run(install);
    } catch (error) {
      return `apt-get failed: ${(error as Error).message}`;
    }
  }
  const stillMissing = missingPackages();
  return stillMissing.length === 0 ? undefined : `${stillMissing.join(" and ")} still not on PATH after installing`;
}

async function main(): Promise<void> {
  const missing = missingPackages();
  const whyNoRedis = missing.length === 0 ? undefined : installPackages(missing);
  const memory = whyNoRedis !== undefined;
  if (memory) {
    console.log(
      [
        "",
        `!! No Redis: ${whyNoRedis}.`,
        "!! Running ONE instance with boards in its memory: nothing is shared between instances (there is one),",
        "!! and every board is lost when it stops. Install redis-server and openssl for the real topology:",
        "!!   sudo apt-get install redis-server openssl && make dev",
        "",
      ].join("\n"),
    );
  }

  const topology = await Topology.start({
    instances: memory ? 1 : INSTANCES,
    store: memory ? "memory" : "redis",
    redis: REDIS,
    // As the stacks do: the socket cap is the front's concurrency. Source maps for the browser's developer tools.
    env: {
      REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT),
      LOG_LEVEL,
      MAX_SOCKETS: String(MAX_CONCURRENCY),
      SOURCE_MAPS: "true",
    },
    front: { port: PORT, requestTimeoutMs: REQUEST_TIMEOUT * 1000, maxConcurrency: MAX_CONCURRENCY },
    onLine: printLine,
  });

  const letters = topology.instances.map((_, index) => String.fromCharCode(97 + index));
  const status = async () => {
    const stats = topology.frontStats();
    const figures = await liveFigures(
      topology.instances.map((instance) => (instance.running ? instance.metricsUrl : undefined)),
    );
    const rows = [
      `  front       http://localhost:${PORT}   no affinity, ${MAX_CONCURRENCY} requests per instance, WebSockets cut after ${REQUEST_TIMEOUT} s`,
      ...topology.instances.map(
        (instance, index) =>
          `  ${instance.name.padEnd(11)} ${instance.url.padEnd(23)} ${instance.running ? `pid ${instance.pid}` : "stopped"}, ${stats?.active[instance.name] ?? 0} open` +
          (figures[index] ? `\n              ${figures[index]}` : ""),
      ),
      ...(memory
        ? ["  boards      in instance-a's memory"]
        : REDIS === "cluster"
          ? clusterRows(topology)
          : [
              `  redis       ${`127.0.0.1:${topology.redis.port}`.padEnd(23)} pid ${topology.redis.pid}, TLS only and AUTH, as Memorystore`,
            ]),
    ];
    console.log(rows.join("\n"));
  };
  console.log(`\nWhiteboard is running: open http://localhost:${PORT}\n`);
  console.log("Metrics (Prometheus text format, on each instance's own port; the front never serves them):");
  for (const instance of topology.instances) console.log(`  ${instance.name.padEnd(11)} ${instance.metricsUrl}`);
  console.log("");
  await status();
  if (!memory && REDIS === "cluster") {
    const { caCertFile, adminPassword, port } = topology.cluster;
    console.log(`\nRedis Cluster from a terminal (as its admin user; -c follows MOVED):`);
    console.log(
      `  redis-cli -c --tls --cacert ${caCertFile} --user admin --pass ${adminPassword} --no-auth-warning -p ${port}`,
    );
    console.log(
      `  type: failover <node> (SIGKILL a node: its replica is promoted), restart <node>, reshard <board> (move its slot)`,
    );
  } else if (!memory) {
    const { caCertFile, password, port } = topology.redis;
    console.log(
      `\nRedis from a terminal:  redis-cli --tls --cacert ${caCertFile} -a ${password} --no-auth-warning -p ${port}`,
    );
  }
  console.log(
    `\nType: status | stop <${letters.join("|")}> (SIGTERM) | kill <x> (SIGKILL) | start <x> | quit.  Ctrl-C stops everything.\n`,
  );

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping every process...");
    await topology.stop();
    console.log("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());

  if (!process.stdin.isTTY) return; // no terminal to type commands in (run in the background)
  const commands = createInterface({ input: process.stdin });
  commands.on("close", () => void shutdown());
  commands.on("line", (line) => {
    const [command, which] = line.trim().split(/\s+/);
    if (REDIS === "cluster" && ["failover", "restart", "reshard"].includes(command ?? "")) {
      clusterCommand(topology, command ?? "", which ?? "").then(
        (done) => console.log(done),
        (error: Error) => console.log(`${command}: ${error.message}`),
      );
      return;
    }
    const index = letters.indexOf((which ?? "").replace(/^instance-/, ""));
    const needsInstance = ["stop", "kill", "start"].includes(command ?? "");
    if (needsInstance && index < 0) return console.log(`which instance? one of: ${letters.join(", ")}`);
    const act: Record<string, () => Promise<unknown>> = {
      status,
      stop: () => topology.stopInstance(index),
      kill: () => topology.killInstance(index),
      start: () => topology.startInstance(index),
      quit: shutdown,
    };
    const action = act[command ?? ""];
    if (!action) return command && console.log("commands: status | stop <x> | kill <x> | start <x> | quit");
    action().then(
      () => needsInstance && console.log(`${command} instance-${letters[index]}: done`),
      (error: Error) => console.log(`${command}: ${error.message}`),
    );
  });
}

/**
 * Each running instance's live figures, from two scrapes of its metrics a second apart: open sockets, boards with a
 * client, strokes stored per second and the store's p99 over that second.
 */
async function liveFigures(urls: readonly (string | undefined)[]): Promise<(string | undefined)[]> {
  const read = (url: string | undefined) => (url ? scrape(url).catch(() => undefined) : Promise.resolve(undefined));
  const first = await Promise.all(urls.map(read));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const second = await Promise.all(urls.map(read));
  return second.map((after, index) => {
    const before = first[index];
    if (!after || !before) return urls[index] ? "metrics unreachable" : undefined;
    const p99 = quantile(0.99, after, "whiteboard_store_call_seconds", {}, before);
    return [
      `${after.sum("whiteboard_sockets")} sockets`,
      `${after.sum("whiteboard_boards")} boards`,
      `${rate(before, after, "whiteboard_operations_stored_total", { kind: "add" }).toFixed(0)} elements/s`,
      `${rate(before, after, "whiteboard_operations_stored_total", { kind: "append" }).toFixed(0)} appends/s`,
      `store p99 ${p99 === undefined ? "-" : `${(p99 * 1000).toFixed(1)} ms`}`,
      `${rate(before, after, "whiteboard_refusals_total").toFixed(0)} refusals/s`,
      `redis ${redisState(after)}`,
    ].join(", ");
  });
}

/** The cluster's nodes, for `status`: role, port, pid, the slots a primary holds. */
function clusterRows(topology: Topology): string[] {
  return topology.cluster.nodes.map(
    (node) =>
      `  redis-${node.index}     ${`127.0.0.1:${node.port}`.padEnd(23)} ${node.process?.running ? `pid ${node.process.pid}` : "stopped"}, TLS only, IAM tokens (cluster node)`,
  );
}

/** `failover <node>`, `restart <node>`, `reshard <board>`: Memorystore's failover and resharding, by hand. */
async function clusterCommand(topology: Topology, command: string, which: string): Promise<string> {
  const cluster = topology.cluster;
  if (command === "reshard") {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(which)) throw new Error("reshard <board>: the board id from its URL");
    const { from, to } = await cluster.migrateSlot(`wb:{${which}}:m`, 100);
    return `board ${which}: its slot moved from redis-${from} to redis-${to}`;
  }
  const index = Number(which);
  if (!Number.isInteger(index) || !cluster.nodes[index])
    throw new Error(`which node? 0 to ${cluster.nodes.length - 1}`);
  if (command === "failover") {
    await cluster.killNode(index);
    return `redis-${index} SIGKILLed; its replica takes over after the node timeout (1.5 s). "restart ${index}" brings it back as a replica`;
  }
  await cluster.startNode(index);
  return `redis-${index} started`;
}

function redisState(snapshot: MetricsSnapshot): string {
  const roles = snapshot.select("whiteboard_redis_connection_up");
  if (roles.length === 0) return "none (memory store)";
  const down = roles.filter((sample) => sample.value !== 1).map((sample) => sample.labels.role);
  const ratio = snapshot.sum("whiteboard_redis_memory_ratio"); // 0: no maxmemory (a local Redis)
  return `${down.length === 0 ? "up" : `down (${down.join(", ")})`}${ratio > 0 ? `, memory ${(ratio * 100).toFixed(0)}%` : ""}`;
}

main().catch((error: Error) => {
  console.error(`make dev: ${error.message}`);
  process.exit(1);
});
