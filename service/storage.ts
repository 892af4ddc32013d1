/**
 * The storage an instance runs on: the board store, plus, with Redis, the connections the board adapter carries
 * broadcasts between instances on (./fanout/). Memory storage serves one instance alone.
 */
import type { Config } from "./config";
import type { Logger } from "./logger";
import { MemoryWatch } from "./memory-watch";
import { ShardedReplicaWait } from "./replica-wait";
import { createRedisBackend, type RedisBackend } from "./redis-cluster";
import type { BoardLimits, BoardStore } from "./store/board-store";
import { MemoryBoardStore } from "./store/memory-board-store";
import { RedisBoardStore } from "./store/redis-board-store";

export interface Storage {
  store: BoardStore;
  /** Whether other instances exist to be told about presence changes. */
  shared: boolean;
  /**
   * Whether the store publishes what a write stored itself, inside the write. One Redis only: a script may publish
   * only on a channel of its keys' slot in a Redis Cluster, and a board's channel is not named for the slot.
   */
  storePublishes: boolean;
  /** How full Redis is; undefined for memory storage. */
  memory: MemoryWatch | undefined;
  /** Waits for a board's writes to reach its primary's replicas, when REDIS_WAIT_REPLICAS asks for it. */
  replicas: ShardedReplicaWait | undefined;
  /** Redis (one, or a cluster), for the board adapter and the metrics; undefined for memory storage. */
  redis: RedisBackend | undefined;
  /** Whether clears of `board` should delete at once: the Redis node that holds it is nearly full. */
  clearsDelete(board: string): boolean;
  isReady(): boolean;
  /** Whether writes can be stored now (see RedisBackend.isWritable). */
  isWritable(): boolean;
  /** Connects in the background; resolves once connected (retrying meanwhile). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export function createStorage(config: Config, logger: Logger): Storage {
  if (config.store.kind === "memory") {
    return {
      store: new MemoryBoardStore(boardLimits(config)),
      shared: false,
      storePublishes: false,
      memory: undefined,
      replicas: undefined,
      redis: undefined,
      clearsDelete: () => false,
      isReady: () => true,
      isWritable: () => true,
      connect: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const redis = createRedisBackend(config.store.redis, logger);
  // Per primary: in a cluster each board's memory is its shard's.
  const memory = new MemoryWatch(() => redis.memoryInfo(), logger, MEMORY_POLL_MS);
  const { replicas, timeoutMs } = config.store.replication;
  return {
    store: new RedisBoardStore(redis.scripts, boardLimits(config), { generation: () => redis.generation() }),
    shared: true,
    storePublishes: !config.store.redis.cluster,
    memory,
    replicas:
      replicas > 0
        ? new ShardedReplicaWait({ wait: redis.wait, nodeOf: redis.nodeOf, replicas, timeoutMs })
        : undefined,
    redis,
    clearsDelete: (board) => memory.tightAt(redis.nodeOf(board)),
    isReady: redis.isReady,
    isWritable: redis.isWritable,
    connect: redis.connect,
    async close() {
      memory.close();
      await redis.close();
    },
  };
}

/** How often each instance reads Redis's memory use. */
const MEMORY_POLL_MS = 10_000;
/** A page closes at 16 KiB: an append rewrites its page's text, so pages stay small. */
const PAGE_BYTES = 16 * 1024;
/** The operation log keeps 256 KiB: a client that was away for a few minutes catches up from it. */
const LOG_BYTES = 256 * 1024;
/**
 * A snapshot's first answer (the join's) holds about 64 KiB, the newest elements, so that a late joiner paints them
 * within a few tens of milliseconds; the rest follows in answers of CATCH_UP_PAGE_BYTES. Measured in Chromium on a
 * board of 100,000 strokes (protocol 1): first paint 40 to 64 ms after `join` instead of 210 to 580 ms with a first
 * answer of 1 MiB.
 */
const FIRST_READ_BYTES = 64 * 1024;

/** The last eighth of a board's bytes is for finishing lines: one begun on a nearly full board is not cut short. */
const APPEND_RESERVE_SHARE = 1 / 8;

function boardLimits(config: Config): BoardLimits {
  const { maxElements, maxBytes, maxLineBytes, readBytes, idleTtlSeconds, clearIntervalMs, undoClearMs } = config.board;
  return {
    maxElements,
    maxBytes,
    appendReserveBytes: Math.floor(maxBytes * APPEND_RESERVE_SHARE),
    maxLineBytes,
    readBytes,
    firstReadBytes: FIRST_READ_BYTES,
    idleTtlSeconds,
    clearIntervalMs,
    undoClearMs,
    pageBytes: PAGE_BYTES,
    logBytes: LOG_BYTES,
  };
}
