/**
 * The instance's metrics, in Prometheus' text format (prom-client), for the Managed Service for Prometheus sidecar
 * to scrape on METRICS_PORT (see ./metrics-server.ts and docs/operations.md, "Metrics").
 *
 * Every label takes a value from a short fixed list (store script, operation kind, event, refusal code, connection
 * role): never a board, a socket or a user, so the number of series stays the same whatever the traffic.
 *
 * Most figures are taken where they already exist, without touching the code that makes them: the board store is
 * wrapped ({@link ServiceMetrics.instrumentStore}), the namespace's adapter is watched for broadcasts
 * ({@link ServiceMetrics.instrumentFanout}), and gauges read their value when scraped. What only the socket handlers
 * know (refusals, rotations asked) comes through {@link SocketMetrics}, one call each.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ClientToServerEvents, ErrorCode, ServerToClientEvents } from "../protocol/events";
import type { BoardStore, ReadResult } from "./store/board-store";

/** What the socket handlers report (see ./sockets.ts). */
export interface SocketMetrics {
  /** An event got an error ack. */
  refused(event: keyof ClientToServerEvents, code: ErrorCode): void;
  /** A client was asked to reconnect before the platform's request timeout (`rotate`). */
  rotationAsked(): void;
}

/** What the instance can tell when scraped. Every function is called at scrape time only. */
export interface MetricSources {
  /** Open Socket.IO connections. */
  sockets(): number;
  /** Boards with at least one client on this instance. */
  boards(): number;
  /** Cursor messages sent so far (CursorRelay.sent). */
  cursorsSent(): number;
  /** Redis connections by role, when the store is Redis. */
  redis?: {
    roles: Readonly<Record<"commands" | "subscriber", RedisClientLike>>;
    /** A PING on the command connection. */
    ping(): Promise<unknown>;
  };
  /** Reads Redis's used_memory / maxmemory afresh (MemoryWatch); undefined when Redis has no limit or is away. */
  redisMemoryRatio?(): Promise<number | undefined>;
  /** WAITs that ended with fewer replicas than asked for (ReplicaWait.shortfalls). */
  replicaShortfalls?(): number;
  /** Bytes of pub/sub messages received from Redis: on board channels, and on the adapter's other channels. */
  pubsubReceivedBytes?(): { board: number; other: number } | undefined;
}

/** The part of a node-redis client the metrics look at. */
export interface RedisClientLike {
  readonly isReady: boolean;
  on(event: "reconnecting", listener: () => void): unknown;
}

/** The store calls, one Lua script each on Redis. */
const STORE_SCRIPTS = ["draw", "set_visibility", "edit", "clear", "unclear", "read", "presence"] as const;
/** Kinds of operations a board's log holds. */
const OPERATION_KINDS = ["add", "append", "visibility", "edit", "clear", "unclear"] as const;
const CLIENT_EVENTS: ReadonlySet<string> = new Set<keyof ClientToServerEvents>([
  "join",
  "read",
  "add",
  "append",
  "erase",
  "restore",
  "edit",
  "clear",
  "unclear",
  "cursor",
]);
const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "invalid",
  "outdated",
  "not_joined",
  "forbidden",
  "board_full",
  "too_large",
  "out_of_order",
  "storage_full",
  "rate_limited",
  "unavailable",
  "gone",
]);
const SERVER_EVENTS: ReadonlySet<string> = new Set<keyof ServerToClientEvents>([
  "ops",
  "presence",
  "head",
  "cursors",
  "rotate",
]);

/** How often the command connection is PINGed for `whiteboard_redis_ping_seconds`. */
const PING_INTERVAL_MS = 5_000;

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BYTES_BUCKETS = [256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];

type StoreScript = (typeof STORE_SCRIPTS)[number];

export class ServiceMetrics implements SocketMetrics {
  readonly registry = new Registry();
  private sources: MetricSources | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  private readonly operations = new Counter({
    name: "whiteboard_operations_stored_total",
    help: "Operations stored on boards by this instance, by kind (add, append, visibility, edit, clear, unclear)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: "whiteboard_refusals_total",
    help: "Events answered with an error, by event and code (invalid, rate_limited, board_full, storage_full, unavailable, ...)",
    labelNames: ["event", "code"] as const,
    registers: [this.registry],
  });
  private readonly storeSeconds = new Histogram({
    name: "whiteboard_store_call_seconds",
    help: "Duration of a board store call (one Lua script on Redis), by script",
    labelNames: ["script"] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly storeErrors = new Counter({
    name: "whiteboard_store_call_errors_total",
    help: "Board store calls that failed (Redis unreachable, timed out, out of memory), by script",
    labelNames: ["script"] as const,
    registers: [this.registry],
  });
  private readonly itemsPerCall = new Histogram({
    name: "whiteboard_draw_items_per_store_call",
    help: "Adds and appends carried by one draw call: the writer's coalescing (count = calls, sum = items)",
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  private readonly broadcastMessages = new Counter({
    name: "whiteboard_broadcast_messages_total",
    help: "Broadcasts written to this instance's sockets (its own and those relayed from other instances), by event",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });
  private readonly broadcastRecipients = new Counter({
    name: "whiteboard_broadcast_recipients_total",
    help: "Sockets written to by those broadcasts (the fan-out), by event",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });
  private readonly catchUpBytes = new Histogram({
    name: "whiteboard_catchup_bytes",
    help: "Size of the stroke data in a catch-up answer (join or read), from the operation log or a snapshot page",
    labelNames: ["kind"] as const,
    buckets: BYTES_BUCKETS,
    registers: [this.registry],
  });
  private readonly catchUpSeconds = new Histogram({
    name: "whiteboard_catchup_seconds",
    help: "Time to read a catch-up answer (join or read) from the store, from the operation log or a snapshot page",
    labelNames: ["kind"] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly epochChanges = new Counter({
    name: "whiteboard_board_epoch_changes_total",
    help: "Boards that got a new epoch (new boards, and boards Redis may have lost writes of)",
    registers: [this.registry],
  });
  private readonly rotations = new Counter({
    name: "whiteboard_rotations_asked_total",
    help: "Clients asked to reconnect before Cloud Run's request timeout cuts their connection (rotate)",
    registers: [this.registry],
  });
  private readonly drains = new Counter({
    name: "whiteboard_drains_total",
    help: "Drains started (SIGTERM: scale-in or a new revision); 1 in the last scrape of a stopping instance",
    registers: [this.registry],
  });
  private readonly redisPing = new Histogram({
    name: "whiteboard_redis_ping_seconds",
    help: `Round trip of a PING on the Redis command connection, every ${PING_INTERVAL_MS / 1000} s`,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly redisReconnects = new Counter({
    name: "whiteboard_redis_reconnects_total",
    help: "Reconnection attempts of a Redis connection, by role (commands, subscriber)",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });

  constructor() {
    // Event-loop lag (nodejs_eventloop_lag_*), heap, GC, CPU and file descriptors of the process.
    collectDefaultMetrics({ register: this.registry });
    const sources = () => this.sources;
    new Gauge({
      name: "whiteboard_sockets",
      help: "Open Socket.IO connections on this instance",
      registers: [this.registry],
      collect() {
        this.set(sources()?.sockets() ?? 0);
      },
    });
    new Gauge({
      name: "whiteboard_boards",
      help: "Boards with at least one client on this instance",
      registers: [this.registry],
      collect() {
        this.set(sources()?.boards() ?? 0);
      },
    });
    new Counter({
      name: "whiteboard_cursor_messages_total",
      help: "Cursor messages sent to boards (each carries every pointer of the board that moved in one interval)",
      registers: [this.registry],
      collect() {
        setCounter(this, sources()?.cursorsSent() ?? 0);
      },
    });
    new Gauge({
      name: "whiteboard_redis_connection_up",
      help: "1 while a Redis connection is ready, by role (commands: storage and publishes; subscriber: the adapter's subscriptions)",
      labelNames: ["role"] as const,
      registers: [this.registry],
      collect() {
        for (const [role, client] of Object.entries(sources()?.redis?.roles ?? {}))
          this.set({ role }, client.isReady ? 1 : 0);
      },
    });
    new Gauge({
      name: "whiteboard_redis_memory_ratio",
      help: "Redis used_memory / maxmemory, read when scraped; 0 when Redis has no limit (maxmemory 0) or cannot be read yet",
      registers: [this.registry],
      async collect() {
        this.set((await sources()?.redisMemoryRatio?.()) ?? 0);
      },
    });
    new Counter({
      name: "whiteboard_replica_wait_shortfalls_total",
      help: "Redis WAITs that ended with fewer replicas than REDIS_WAIT_REPLICAS (the write was acknowledged anyway)",
      registers: [this.registry],
      collect() {
        setCounter(this, sources()?.replicaShortfalls?.() ?? 0);
      },
    });
    new Counter({
      name: "whiteboard_redis_pubsub_received_bytes_total",
      help: "Bytes of pub/sub messages this instance received from Redis, by channel: board (a board's own channel, subscribed only while this instance has a client on it) or other (presence and the adapter's requests, which every instance receives)",
      labelNames: ["channel"] as const,
      registers: [this.registry],
      collect() {
        const bytes = sources()?.pubsubReceivedBytes?.();
        if (!bytes) return;
        this.reset();
        this.inc({ channel: "board" }, bytes.board);
        this.inc({ channel: "other" }, bytes.other);
      },
    });
    for (const kind of OPERATION_KINDS) this.operations.inc({ kind }, 0);
    for (const script of STORE_SCRIPTS) this.storeErrors.inc({ script }, 0);
    this.drains.inc(0);
    this.rotations.inc(0);
    this.epochChanges.inc(0);
  }

  /** Gives the gauges their sources and starts the Redis PING probe. */
  watch(sources: MetricSources): void {
    this.sources = sources;
    const redis = sources.redis;
    if (!redis) return;
    for (const [role, client] of Object.entries(redis.roles)) {
      this.redisReconnects.inc({ role }, 0);
      client.on("reconnecting", () => this.redisReconnects.inc({ role }));
    }
    const probe = () => {
      if (!redis.roles.commands.isReady) return;
      const end = this.redisPing.startTimer();
      redis.ping().then(
        () => end(),
        () => undefined, // a failed PING is the connection's own news (whiteboard_redis_connection_up)
      );
    };
    this.pingTimer = setInterval(probe, PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  close(): void {
    clearInterval(this.pingTimer);
  }

  refused(event: keyof ClientToServerEvents, code: ErrorCode): void {
    this.refusals.inc({
      event: CLIENT_EVENTS.has(event) ? event : "other",
      code: ERROR_CODES.has(code) ? code : "other",
    });
  }

  rotationAsked(): void {
    this.rotations.inc();
  }

  drainStarted(): void {
    this.drains.inc();
  }

  /** The metrics in Prometheus' text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The same store, timing every call and counting what it stored. */
  instrumentStore(store: BoardStore): BoardStore {
    const timed = async <T>(script: StoreScript, call: () => Promise<T>): Promise<T> => {
      const end = this.storeSeconds.startTimer({ script });
      try {
        return await call();
      } catch (error) {
        this.storeErrors.inc({ script });
        throw error;
      } finally {
        end();
      }
    };
    const rotated = (result: { rotated: boolean }) => {
      if (result.rotated) this.epochChanges.inc();
    };
    return {
      draw: async (board, items, announce) => {
        this.itemsPerCall.observe(items.length);
        const written = await timed("draw", () => store.draw(board, items, announce));
        written.outcomes.forEach((outcome, index) => {
          if (outcome.kind === "stored") this.operations.inc({ kind: items[index]?.kind === "add" ? "add" : "append" });
        });
        rotated(written);
        return written;
      },
      setVisibility: async (board, user, ids, show, announce) => {
        const written = await timed("set_visibility", () => store.setVisibility(board, user, ids, show, announce));
        if (written.ops !== "[]") this.operations.inc({ kind: "visibility" });
        rotated(written);
        return written;
      },
      edit: async (board, user, items, announce) => {
        const written = await timed("edit", () => store.edit(board, user, items, announce));
        if (written.outcome.kind === "stored") this.operations.inc({ kind: "edit" });
        rotated(written);
        return written;
      },
      clear: async (board, user, hard, announce) => {
        const written = await timed("clear", () => store.clear(board, user, hard, announce));
        if (written.outcome === "stored") this.operations.inc({ kind: "clear" });
        rotated(written);
        return written;
      },
      unclear: async (board, user, of, announce) => {
        const written = await timed("unclear", () => store.unclear(board, user, of, announce));
        if (written.outcome === "stored") this.operations.inc({ kind: "unclear" });
        rotated(written);
        return written;
      },
      read: async (board, request) => {
        const started = performance.now();
        const result: ReadResult = await timed("read", () => store.read(board, request));
        const kind = "ops" in result ? "log" : "snapshot";
        this.catchUpSeconds.observe({ kind }, (performance.now() - started) / 1000);
        this.catchUpBytes.observe({ kind }, "ops" in result ? result.ops.length : result.snapshot.records.length);
        rotated(result);
        return result;
      },
      presence: (board, instanceId, localCount, entryTtlMs) =>
        timed("presence", () => store.presence(board, instanceId, localCount, entryTtlMs)),
    };
  }

  /**
   * Counts what a namespace's adapter writes to sockets: every broadcast, whether this instance emitted it or another
   * instance's arrived through Redis, ends in the adapter's `broadcast` of socket.io-adapter's in-memory Adapter, which
   * encodes the packet once (`_encode`) and then writes it to each matching socket (`apply`). Both are looked up on the
   * instance, so wrapping them there sees every broadcast without touching Socket.IO.
   */
  instrumentFanout(adapter: object): void {
    const target = adapter as {
      _encode(packet: { data?: unknown[] }, options: unknown): unknown;
      apply(options: unknown, callback: (socket: unknown) => void): void;
    };
    const encode = target._encode.bind(target);
    const apply = target.apply.bind(target);
    let event: string | undefined;
    target._encode = (packet, options) => {
      const name = packet.data?.[0];
      event = typeof name === "string" && SERVER_EVENTS.has(name) ? name : "other";
      return encode(packet, options);
    };
    target.apply = (options, callback) => {
      const broadcasting = event;
      event = undefined;
      if (broadcasting === undefined) return apply(options, callback); // fetchSockets, socketsJoin...: not a broadcast
      let recipients = 0;
      apply(options, (socket) => {
        recipients += 1;
        callback(socket);
      });
      this.broadcastMessages.inc({ event: broadcasting });
      if (recipients > 0) this.broadcastRecipients.inc({ event: broadcasting }, recipients);
    };
  }
}

/** Sets a counter that mirrors a running total kept elsewhere. */
function setCounter(counter: Counter, total: number): void {
  counter.reset();
  if (total > 0) counter.inc(total);
}
