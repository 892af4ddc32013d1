/**
 * The two Redis connections of an instance: `commands` (board storage and the adapter's publishes) and
 * `subscriber` (the adapter's subscriptions, which need a connection of their own).
 *
 * Both reconnect by themselves forever with capped backoff, and node-redis restores the subscriptions when
 * the subscriber comes back, so an instance rides through a Redis restart without a restart of its own.
 */
import { createClient } from "redis";
import type { RedisConfig } from "./config";
import type { Logger } from "./logger";
import { type AccessTokenSource, iamCredentialsProvider } from "./redis-auth";
import { redisTlsOptions } from "./redis-tls";
import { boardScripts } from "./store/redis-scripts";

/** Long enough for a 100,000-stroke board read under load; short enough to fail a request while Redis hangs. */
export const COMMAND_TIMEOUT_MS = 4_000;
const CONNECT_TIMEOUT_MS = 3_000;
/** Detects a half-open connection (a Memorystore failover, a cut VPC path) within seconds. */
const PING_INTERVAL_MS = 5_000;

export function reconnectDelay(retries: number): number {
  const capped = Math.min(100 * 2 ** retries, 2_000);
  return capped / 2 + Math.random() * (capped / 2);
}

/**
 * What every connection to Redis shares, one node's or a cluster's: credentials (IAM: each connection's handshake
 * sends the current access token, ./redis-auth.ts; else the AUTH string), the verified TLS identity, reconnection,
 * and the PING that finds a half-open connection.
 */
export function connectionDefaults(config: RedisConfig, tokens?: AccessTokenSource) {
  return {
    ...(tokens ? { credentialsProvider: iamCredentialsProvider(tokens) } : { password: config.password }),
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: reconnectDelay,
      ...(config.tls ? redisTlsOptions(config.caCert) : {}),
    },
    pingInterval: PING_INTERVAL_MS,
    // Fail at once while disconnected: a stroke is refused with "unavailable" rather than queued in memory.
    disableOfflineQueue: true,
  };
}

function createCommandClient(config: RedisConfig, tokens?: AccessTokenSource) {
  return createClient({
    url: config.url,
    // The subscriber, a duplicate(), inherits these options, so both connections check the same identity.
    ...connectionDefaults(config, tokens),
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    scripts: boardScripts,
  });
}

type CommandClient = ReturnType<typeof createCommandClient>;

/** The subscriber keeps node-redis's offline queue so that subscriptions made before it is up still happen. */
function createSubscriberClient(commands: CommandClient) {
  return commands.duplicate({ disableOfflineQueue: false, pingInterval: undefined });
}

export interface RedisConnections {
  commands: CommandClient;
  subscriber: ReturnType<typeof createSubscriberClient>;
  /** True when both connections are up. */
  isReady: () => boolean;
  /** Connects both, resolving once each is up (it keeps retrying meanwhile). */
  connect: () => Promise<void>;
  close: () => Promise<void>;
}

export function createRedisConnections(
  config: RedisConfig,
  logger: Logger,
  tokens?: AccessTokenSource,
): RedisConnections {
  const commands = createCommandClient(config, tokens);
  const subscriber = createSubscriberClient(commands);

  for (const [role, client] of [
    ["commands", commands],
    ["subscriber", subscriber],
  ] as const) {
    let down = false;
    // Without an `error` listener, a Redis reset would crash the process.
    client.on("error", (error: Error) => {
      if (!down) logger.error({ role, error: error.message }, "redis connection error");
      down = true;
    });
    client.on("ready", () => {
      if (down) logger.info({ role }, "redis connection restored");
      down = false;
    });
  }

  return {
    commands,
    subscriber,
    isReady: () => commands.isReady && subscriber.isReady,
    async connect() {
      await Promise.all([commands.connect(), subscriber.connect()]);
    },
    async close() {
      await Promise.allSettled([commands.close(), subscriber.close()]);
    },
  };
}
