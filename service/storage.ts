/**
 * The storage an instance runs on: the board store, plus, with Redis, the Socket.IO adapter that carries
 * broadcasts between instances. Memory storage serves one instance alone.
 */
import { createAdapter } from "@socket.io/redis-adapter";
import type { ServerOptions } from "socket.io";
import type { Config } from "./config";
import type { Logger } from "./logger";
import { createRedisConnections, type CommandClient } from "./redis";
import type { BoardStore } from "./store/board-store";
import { MemoryBoardStore } from "./store/memory-board-store";
import { RedisBoardStore } from "./store/redis-board-store";

export interface Storage {
  store: BoardStore;
  /** Socket.IO's adapter: the Redis adapter, or undefined for Socket.IO's in-process default. */
  adapter: ServerOptions["adapter"] | undefined;
  /** Whether other instances exist to be told about presence changes. */
  shared: boolean;
  isReady(): boolean;
  /** Connects in the background; resolves once connected (retrying meanwhile). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export function createStorage(config: Config, logger: Logger): Storage {
  if (config.store.kind === "memory") {
    return {
      store: new MemoryBoardStore(config.board),
      adapter: undefined,
      shared: false,
      isReady: () => true,
      connect: async () => undefined,
      close: async () => undefined,
    };
  }
  const redis = createRedisConnections(config.store.redis, logger);
  return {
    store: new RedisBoardStore(redis.commands, config.board),
    adapter: createAdapter(guardedPublisher(redis.commands, logger), redis.subscriber),
    shared: true,
    isReady: redis.isReady,
    connect: redis.connect,
    close: redis.close,
  };
}

/**
 * The adapter publishes without handling a rejection, and a publish fails whenever Redis is unreachable;
 * unhandled, that would end the process. The stroke is already stored by then, and clients recover it from
 * `head`, so a failed broadcast is logged (once per outage) and otherwise ignored.
 */
function guardedPublisher(commands: CommandClient, logger: Logger): CommandClient {
  let failing = false;
  const publish = async (...args: Parameters<CommandClient["publish"]>) => {
    try {
      const receivers = await commands.publish(...args);
      failing = false;
      return receivers;
    } catch (error) {
      if (!failing) logger.warn({ error: (error as Error).message }, "broadcast through redis failed");
      failing = true;
      return 0;
    }
  };
  return Object.create(commands, { publish: { value: publish } }) as CommandClient;
}
