/**
 * The service's Redis, one Redis or a Redis Cluster, behind one interface ({@link RedisBackend}): what the board
 * store, the adapter, WAIT, the memory watch and the metrics need, each routed to the node that holds the board.
 *
 * A Redis Cluster (Memorystore for Redis Cluster) is reached through its discovery endpoint (REDIS_HOST and
 * REDIS_PORT): node-redis's cluster client reads the slot map there (CLUSTER SLOTS) and keeps one command
 * connection per primary; a second cluster client holds the adapter's sharded subscriptions, one connection per
 * primary whose slots carry a subscribed channel. Every board key has the hash tag `{board}`, so each board script
 * runs on the one primary that holds the board, and WAIT and INFO memory go to that primary too.
 *
 * A primary failing over or a slot moving is survived like a Redis restart: commands to a node that went away fail
 * at once (no offline queue: a stroke is refused with `unavailable` and resent by its client), the client re-reads
 * the slot map after a second of reconnecting or at the first MOVED, and a script that meets a slot being migrated
 * (TRYAGAIN) is retried a few times. The board's keys then answer from a node with another replication id, so the
 * board takes a new epoch and its clients re-read and heal it (docs/architecture.md, "When Redis loses writes").
 */
import { createCluster } from "redis";
import type { Publisher, SubscribeClient } from "./fanout/pubsub";
import type { RedisConfig } from "./config";
import type { Logger } from "./logger";
import type { RedisClientLike } from "./metrics";
import { AccessTokenSource, fetchAccessToken } from "./redis-auth";
import { keySlot } from "./redis-slot";
import { boardKeys, boardScripts, type BoardScriptRunner } from "./store/redis-scripts";
import { ConnectionReplicationId } from "./store/replication-id";
import {
  COMMAND_TIMEOUT_MS,
  connectionDefaults,
  createRedisConnections,
  reconnectDelay,
  type RedisConnections,
} from "./redis";

export interface RedisBackend {
  kind: "standalone" | "cluster";
  /** The board scripts, each run on the node that holds its board. */
  scripts: BoardScriptRunner;
  /**
   * The store generation the scripts get (./store/redis-scripts.ts): one Redis's replication id, read once per
   * connection; "" on a cluster, whose scripts read it themselves (docs/store.md says why).
   */
  generation: () => Promise<string>;
  /** What the board adapter publishes with (SPUBLISH, PUBSUB SHARDNUMSUB) and subscribes with (SSUBSCRIBE). */
  publisher: Publisher;
  subscriber: SubscribeClient;
  /** Each connection role, for the metrics (up, reconnects). */
  roles: Readonly<Record<"commands" | "subscriber", RedisClientLike>>;
  ping: () => Promise<unknown>;
  /** Any command, on the node that holds `key` (the startup self-check's probes, ./self-check.ts). */
  sendCommand: (key: string, args: string[]) => Promise<unknown>;
  /** Redis WAIT on the connection that wrote `board`'s keys: the replicas of the board's primary that have them. */
  wait: (board: string, replicas: number, timeoutMs: number) => Promise<number>;
  /** The primary that holds `board` (its address in a cluster; `redis` for one Redis). */
  nodeOf: (board: string) => string;
  /** INFO memory of each primary it can reach. */
  memoryInfo: () => Promise<{ node: string; info: string }[]>;
  /** Both roles up: commands and subscriptions. */
  isReady: () => boolean;
  /**
   * The commands up: what a write needs. Not the subscriber, whose connection to a shard opens only when a room there
   * is first subscribed to (a write arriving meanwhile was refused for nothing), and whose outage costs this
   * instance's clients only broadcasts, which their catch-up finds again.
   */
  isWritable: () => boolean;
  connect: () => Promise<void>;
  close: () => Promise<void>;
}

/** How often a script refused with TRYAGAIN (its slot is being migrated) is retried, and how far apart. */
const TRYAGAIN_ATTEMPTS = 8;
const TRYAGAIN_DELAY_MS = 30;
/** Re-read the slot map after a node has been reconnecting this long (node-redis's default is 5 s). */
const TOPOLOGY_REFRESH_MS = 1_000;

export function createRedisBackend(config: RedisConfig, logger: Logger): RedisBackend {
  const tokens = config.iam
    ? new AccessTokenSource(() => fetchAccessToken((config.iam as { metadataHost: string }).metadataHost), logger)
    : undefined;
  if (config.cluster) return clusterBackend(config, logger, tokens);
  const connections = createRedisConnections(config, logger, tokens);
  const backend = standaloneBackend(connections);
  // A cluster node reached as one Redis would answer MOVED for every board outside its slots: say so, stay unready.
  let clusterNode = false;
  return {
    ...backend,
    isReady: () => !clusterNode && backend.isReady(),
    isWritable: () => !clusterNode && backend.isWritable(),
    async connect() {
      await backend.connect();
      if (/^cluster_enabled:1/m.test(await connections.commands.info("cluster").catch(() => ""))) {
        clusterNode = true;
        logger.error(
          { redis: config.url },
          "redis is a Redis Cluster node but REDIS_CLUSTER is not set: set REDIS_CLUSTER=true",
        );
      }
    },
    close: async () => (tokens?.close(), backend.close()),
  };
}

/** One Redis: everything on its two connections. */
function standaloneBackend(connections: RedisConnections): RedisBackend {
  const { commands, subscriber } = connections;
  const replicationId = new ConnectionReplicationId(commands);
  return {
    kind: "standalone",
    scripts: commands,
    generation: () => replicationId.current(),
    publisher: {
      sPublish: (channel, message) => commands.sPublish(channel, message),
      shardSubscribers: async (channel) => (await commands.pubSubShardNumSub(channel))[channel] ?? 0,
    },
    subscriber: {
      sSubscribe: (channel, listener) => subscriber.sSubscribe(channel, listener, true),
      sUnsubscribe: (channel) => subscriber.sUnsubscribe(channel),
    },
    roles: { commands, subscriber },
    ping: () => commands.ping(),
    sendCommand: (_key, args) => commands.sendCommand(args),
    wait: (_board, replicas, timeoutMs) => commands.wait(replicas, timeoutMs),
    nodeOf: () => "redis",
    memoryInfo: async () => [{ node: "redis", info: await commands.info("memory") }],
    isReady: connections.isReady,
    isWritable: () => commands.isReady,
    connect: connections.connect,
    close: connections.close,
  };
}

function clusterOptions(config: RedisConfig, tokens: AccessTokenSource | undefined) {
  const url = new URL(config.url);
  return {
    rootNodes: [{ socket: { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 6379) } }],
    defaults: connectionDefaults(config, tokens),
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    topologyRefreshOnReconnectionAttemptStrategy: TOPOLOGY_REFRESH_MS,
    scripts: boardScripts,
  };
}

function clusterBackend(config: RedisConfig, logger: Logger, tokens: AccessTokenSource | undefined): RedisBackend {
  const options = clusterOptions(config, tokens);
  const commands = createCluster(options);
  // The subscriber keeps an offline queue (subscriptions made while a node is away still happen), holds no command
  // connections of its own (minimizeConnections), and is never PINGed: a subscribed connection answers no PING.
  const subscriber = createCluster({
    ...options,
    defaults: { ...options.defaults, disableOfflineQueue: false, pingInterval: undefined },
    minimizeConnections: true,
  });

  const commandsReady = () =>
    commands.isReady && commands.masters.length > 0 && commands.masters.every((node) => node.client?.isReady === true);
  const subscriberReady = () =>
    subscriber.isReady && subscriber.masters.every((node) => node.pubSub === undefined || node.pubSub.client.isReady);

  for (const [role, cluster] of [
    ["commands", commands],
    ["subscriber", subscriber],
  ] as const) {
    const down = new Set<string>();
    // Without `error` listeners, a failed discovery or a node's reset would crash the process.
    cluster.on("error", (error: Error) => logger.error({ role, error: error.message }, "redis cluster error"));
    cluster.on("node-error", (error: Error, node: { host: string; port: number }) => {
      const address = `${node.host}:${node.port}`;
      if (!down.has(address)) logger.error({ role, node: address, error: error.message }, "redis connection error");
      down.add(address);
    });
    cluster.on("node-ready", (node: { host: string; port: number }) => {
      const address = `${node.host}:${node.port}`;
      if (down.delete(address)) logger.info({ role, node: address }, "redis connection restored");
    });
    cluster.on("sharded-channel-moved-error", (error: Error, channel: string) =>
      logger.error(
        { role, channel, error: error.message },
        "redis cluster: a moved subscription could not follow its slot",
      ),
    );
  }

  const role = (cluster: typeof commands, ready: () => boolean): RedisClientLike => ({
    get isReady() {
      return ready();
    },
    on: (_event: "reconnecting", listener: () => void) => cluster.on("node-reconnecting", listener),
  });

  const keyOf = (board: string) => boardKeys(board)[0];
  return {
    kind: "cluster",
    scripts: retryingTryAgain(commands),
    generation: () => Promise.resolve(""),
    publisher: {
      sPublish: (channel, message) => commands.sPublish(channel, message),
      // Each primary counts the subscribers of the channels in its own slots.
      async shardSubscribers(channel) {
        const counts = await Promise.all(
          commands.masters.map(async (master) => (await commands.nodeClient(master)).pubSubShardNumSub(channel)),
        );
        return counts.reduce((sum, count) => sum + (count[channel] ?? 0), 0);
      },
    },
    subscriber: {
      sSubscribe: (channel, listener) => subscriber.sSubscribe(channel, listener, true),
      sUnsubscribe: (channel) => subscriber.sUnsubscribe(channel),
    },
    roles: { commands: role(commands, commandsReady), subscriber: role(subscriber, subscriberReady) },
    ping: () => commands.ping(),
    sendCommand: (key, args) => commands.sendCommand(key, false, args),
    async wait(board, replicas, timeoutMs) {
      // The primary's command connection: the one every write to the board went through.
      const node = await commands.getNodeClientForKey(keyOf(board));
      return node.wait(replicas, timeoutMs);
    },
    nodeOf: (board) => commands.slots[keySlot(keyOf(board))]?.master.address ?? "unknown",
    async memoryInfo() {
      const readings = await Promise.allSettled(
        commands.masters.map(async (master) => ({
          node: master.address,
          info: await (await commands.nodeClient(master)).info("memory"),
        })),
      );
      return readings.flatMap((reading) => (reading.status === "fulfilled" ? [reading.value] : []));
    },
    isReady: () => commandsReady() && subscriberReady(),
    isWritable: commandsReady,
    async connect() {
      // Discovery fails while the endpoint is unreachable: keep trying, as the standalone clients do by themselves.
      for (const cluster of [commands, subscriber]) {
        for (let attempt = 0; ; attempt += 1) {
          try {
            await cluster.connect();
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, reconnectDelay(attempt)));
          }
        }
      }
    },
    async close() {
      tokens?.close();
      await Promise.allSettled([commands.close(), subscriber.close()]);
    },
  };
}

/** Retries a script that met its slot half-migrated (TRYAGAIN: nothing ran); MOVED and ASK node-redis follows itself. */
function retryingTryAgain(scripts: BoardScriptRunner): BoardScriptRunner {
  const wrapped = {} as Record<keyof BoardScriptRunner, BoardScriptRunner[keyof BoardScriptRunner]>;
  for (const name of Object.keys(boardScripts) as (keyof BoardScriptRunner)[]) {
    wrapped[name] = async (keys, args) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await scripts[name](keys, args);
        } catch (error) {
          if (!(error instanceof Error) || !error.message.startsWith("TRYAGAIN") || attempt >= TRYAGAIN_ATTEMPTS)
            throw error;
          await new Promise((resolve) => setTimeout(resolve, TRYAGAIN_DELAY_MS * attempt));
        }
      }
    };
  }
  return wrapped;
}
