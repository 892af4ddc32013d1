/**
 * The service's configuration, read once from the environment at start and validated: a bad value stops
 * the process with a message naming the variable. Nothing here is ever logged whole (it holds the Redis password).
 */
import { z } from "zod";

const DAY_SECONDS = 24 * 60 * 60;
const KIB = 1_024;
const MIB = 1_024 * KIB;
const GIB = 1_024 * MIB;

const wholeNumber = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message));
};

const integer = (min: number, max: number, fallback: number) => wholeNumber(min, max).default(fallback);

const boolean = z
  .enum(["true", "false", "1", "0"], { message: 'must be "true" or "false"' })
  .transform((value) => value === "true" || value === "1");

const origin = z.string().refine((value) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, "must be an origin such as https://board.example.com (scheme, host and optional port, no path)");

/** The Redis variables the service reads. Any other REDIS_* variable is a mistake, such as REDIS_PASWORD. */
const REDIS_VARIABLES = [
  "REDIS_URL",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_PASSWORD",
  "REDIS_TLS",
  "REDIS_CA_CERT",
  "REDIS_WAIT_REPLICAS",
  "REDIS_WAIT_TIMEOUT_MS",
  "REDIS_CLUSTER",
  "REDIS_AUTH",
] as const;

/** A redis:// or rediss:// URL, or undefined (the schema reports a bad one). */
function redisUrl(text: string | undefined): URL | undefined {
  try {
    const url = new URL(text ?? "");
    return url.protocol === "redis:" || url.protocol === "rediss:" ? url : undefined;
  } catch {
    return undefined;
  }
}

const envSchema = z
  .object({
    NODE_ENV: z
      .enum(["production", "development", "test"], { message: 'must be "production", "development" or "test"' })
      .optional(),
    PORT: integer(1, 65535, 8080),
    BOARD_STORE: z.enum(["redis", "memory"], { message: 'must be "redis" or "memory"' }).default("redis"),
    REDIS_URL: z.url({ protocol: /^rediss?$/, message: "must be a redis:// or rediss:// URL" }).optional(),
    REDIS_HOST: z.string().trim().min(1).optional(),
    REDIS_PORT: wholeNumber(1, 65535).optional(),
    REDIS_PASSWORD: z.string().optional(),
    REDIS_TLS: boolean.optional(),
    REDIS_WAIT_REPLICAS: wholeNumber(0, 5).optional(),
    REDIS_WAIT_TIMEOUT_MS: wholeNumber(1, 10_000).optional(),
    REDIS_CA_CERT: z
      .string()
      .refine((pem) => pem.includes("-----BEGIN CERTIFICATE-----"), "must be a PEM certificate")
      .optional(),
    // A Redis Cluster (Memorystore for Redis Cluster): REDIS_HOST and REDIS_PORT name its discovery endpoint.
    REDIS_CLUSTER: boolean.optional(),
    // How the service authenticates: the AUTH string (REDIS_PASSWORD), or IAM (an access token of the service's
    // own account, from the metadata server, sent as the AUTH password and refreshed before it expires).
    REDIS_AUTH: z.enum(["password", "iam"], { message: 'must be "password" or "iam"' }).optional(),
    // Google's client libraries' own override of the metadata server's address (host[:port]); tests only.
    GCE_METADATA_HOST: z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port (the metadata server's address)")
      .optional(),
    ALLOWED_ORIGINS: z
      .string()
      .transform((list) =>
        list
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .pipe(z.union([z.tuple([z.literal("*")]), z.array(origin)]))
      .optional(),
    REQUEST_TIMEOUT_SECONDS: integer(1, 3600, 3600),
    MAX_STROKES_PER_BOARD: integer(1, 1_000_000, 100_000),
    MAX_BOARD_BYTES: integer(64 * KIB, 256 * MIB, 16 * MIB),
    BOARD_IDLE_TTL_SECONDS: integer(60, 365 * DAY_SECONDS, 30 * DAY_SECONDS),
    MAX_POINTS_PER_STROKE: integer(1, 10_000, 1_000),
    MAX_IDS_PER_CHANGE: integer(1, 10_000, 1_000),
    CATCH_UP_PAGE_BYTES: integer(16 * KIB, 8 * MIB, MIB),
    CLEAR_INTERVAL_SECONDS: integer(0, 3_600, 10),
    UNDO_CLEAR_SECONDS: integer(0, 7 * DAY_SECONDS, 3_600),
    MAX_MESSAGE_BYTES: integer(1_024, 10_000_000, 100_000),
    RATE_LIMIT_PER_SECOND: integer(1, 10_000, 100),
    RATE_LIMIT_BURST: integer(1, 100_000, 300),
    WRITE_BYTES_PER_SECOND: integer(1_024, 100 * MIB, 64 * KIB),
    WRITE_BYTES_BURST: integer(1_024, GIB, MIB),
    READ_BYTES_PER_SECOND: integer(1_024, GIB, 2 * MIB),
    READ_BYTES_BURST: integer(KIB, GIB, 32 * MIB),
    WRITE_BYTES_PER_ADDRESS_PER_SECOND: integer(1_024, GIB, 256 * KIB),
    WRITE_BYTES_PER_ADDRESS_BURST: integer(1_024, GIB, 4 * MIB),
    READ_BYTES_PER_ADDRESS_PER_SECOND: integer(1_024, GIB, 8 * MIB),
    READ_BYTES_PER_ADDRESS_BURST: integer(KIB, GIB, 64 * MIB),
    JOINS_PER_SECOND: integer(1, 1_000, 1),
    JOIN_BURST: integer(1, 1_000, 5),
    BOARDS_PER_MINUTE: integer(1, 10_000, 10),
    CURSOR_INTERVAL_MS: integer(16, 5_000, 66),
    WRITE_INTERVAL_MS: integer(0, 1_000, 33),
    FRAME_INTERVAL_MS: integer(0, 1_000, 33),
    CURSORS_PER_MESSAGE: integer(1, 1_000, 32),
    MAX_SOCKETS: integer(1, 100_000, 250),
    MAX_SOCKETS_PER_ADDRESS: integer(1, 100_000, 50),
    CONNECTIONS_PER_ADDRESS_PER_SECOND: integer(1, 10_000, 5),
    // Default: MAX_SOCKETS_PER_ADDRESS (an address may open all the sockets it is allowed at once).
    CONNECTIONS_PER_ADDRESS_BURST: wholeNumber(1, 100_000).optional(),
    CLIENT_ADDRESS_HOP: integer(0, 10, 1),
    JOIN_TIMEOUT_SECONDS: integer(1, 600, 10),
    MAX_SEND_BUFFER_BYTES: integer(64 * KIB, GIB, 4 * MIB),
    MAX_SEND_BUFFER_TOTAL_BYTES: integer(MIB, 16 * GIB, 128 * MIB),
    SOURCE_MAPS: boolean.default(false),
    SHUTDOWN_TIMEOUT_SECONDS: integer(1, 9, 8),
    METRICS_PORT: integer(1, 65535, 9464),
    METRICS_FINAL_SCRAPE_SECONDS: integer(0, 8, 0),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    INSTANCE_ID: z.string().trim().min(1).optional(),
    K_REVISION: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    const problem = (variable: string, message: string) => ctx.addIssue({ code: "custom", path: [variable], message });
    // A catch-up answer holds up to CATCH_UP_PAGE_BYTES: a buffer that cannot take one would cut every late joiner.
    if (env.MAX_SEND_BUFFER_BYTES <= env.CATCH_UP_PAGE_BYTES + 64 * KIB) {
      problem(
        "MAX_SEND_BUFFER_BYTES",
        `must exceed CATCH_UP_PAGE_BYTES (${env.CATCH_UP_PAGE_BYTES}) by more than 64 KiB: a catch-up answer must fit`,
      );
    }
    if (env.MAX_SEND_BUFFER_TOTAL_BYTES < env.MAX_SEND_BUFFER_BYTES) {
      problem("MAX_SEND_BUFFER_TOTAL_BYTES", `must be at least MAX_SEND_BUFFER_BYTES (${env.MAX_SEND_BUFFER_BYTES})`);
    }
    if (env.BOARD_STORE === "memory") {
      for (const name of REDIS_VARIABLES) {
        if (env[name] !== undefined)
          problem(name, "BOARD_STORE=memory uses no Redis: unset it, or use BOARD_STORE=redis");
      }
      return;
    }
    if (env.REDIS_URL !== undefined) {
      if (env.REDIS_HOST !== undefined) problem("REDIS_HOST", "set either REDIS_URL or REDIS_HOST, not both");
      if (env.REDIS_PORT !== undefined)
        problem("REDIS_PORT", "REDIS_URL holds the port: set either REDIS_URL, or REDIS_HOST and REDIS_PORT");
      const url = redisUrl(env.REDIS_URL);
      if (url) {
        const tls = url.protocol === "rediss:";
        if (env.REDIS_TLS !== undefined && env.REDIS_TLS !== tls)
          problem("REDIS_TLS", `is ${env.REDIS_TLS} but REDIS_URL uses ${url.protocol}//`);
        if (env.REDIS_CA_CERT !== undefined && !tls) problem("REDIS_CA_CERT", "needs a rediss:// REDIS_URL (TLS)");
        if (env.REDIS_PASSWORD !== undefined && url.password)
          problem("REDIS_PASSWORD", "REDIS_URL holds a password too: give it in one place");
      }
    } else if (env.REDIS_HOST === undefined && env.NODE_ENV === "production") {
      // The image sets NODE_ENV=production: a deployed instance must never quietly look for Redis on itself.
      problem("REDIS_HOST", "is required when NODE_ENV=production (or REDIS_URL): no default Redis in production");
    }
    if (env.METRICS_PORT === env.PORT) {
      ctx.addIssue({
        code: "custom",
        path: ["METRICS_PORT"],
        message: `must differ from PORT (${env.PORT}): the metrics stay off the public port`,
      });
    }
    // (Refinements run even when a field is out of range: only a value that passed its own range is compared.)
    if (env.METRICS_FINAL_SCRAPE_SECONDS <= 8 && env.METRICS_FINAL_SCRAPE_SECONDS >= env.SHUTDOWN_TIMEOUT_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["METRICS_FINAL_SCRAPE_SECONDS"],
        message: `must be below SHUTDOWN_TIMEOUT_SECONDS (${env.SHUTDOWN_TIMEOUT_SECONDS}): the wait for a last scrape is part of the drain`,
      });
    }
    if (env.REDIS_CA_CERT !== undefined && env.REDIS_TLS === false) {
      problem("REDIS_TLS", "must not be false when REDIS_CA_CERT is set");
    }
    if (env.REDIS_AUTH === "iam") {
      const urlPassword = redisUrl(env.REDIS_URL)?.password;
      if (env.REDIS_PASSWORD !== undefined || urlPassword)
        problem("REDIS_PASSWORD", "REDIS_AUTH=iam sends an IAM access token as the password: set no password");
      const tls =
        env.REDIS_URL !== undefined
          ? redisUrl(env.REDIS_URL)?.protocol === "rediss:"
          : (env.REDIS_TLS ?? env.REDIS_CA_CERT !== undefined);
      if (!tls)
        problem(
          "REDIS_AUTH",
          "REDIS_AUTH=iam needs TLS (REDIS_TLS=true or REDIS_CA_CERT): an access token must not cross the network in plain text",
        );
    }
  });

/** Every environment variable the service reads. The contract test holds the stacks to this list. */
export const SERVICE_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface RedisConfig {
  url: string;
  /** Given separately so that it never appears in a URL that could be logged. */
  password: string | undefined;
  tls: boolean;
  /** PEM of the CA that signed the server's certificate (Memorystore's server CA). */
  caCert: string | undefined;
  /** A Redis Cluster, discovered from `url` (service/redis-cluster.ts). Default: one Redis. */
  cluster?: boolean;
  /** IAM authentication: an access token from the metadata server at this host[:port] is the AUTH password. */
  iam?: { metadataHost: string };
}

/** How many replicas a write must reach before it is acknowledged (Redis WAIT), and for how long to wait. */
export interface ReplicationConfig {
  /** 0 acknowledges as soon as the primary has it. */
  replicas: number;
  /** A write is acknowledged anyway after this. */
  timeoutMs: number;
}

export interface Config {
  port: number;
  /** Redis for any number of instances; memory for a single instance where there is no Redis. */
  store: { kind: "redis"; redis: RedisConfig; replication: ReplicationConfig } | { kind: "memory" };
  /** `"same-origin"`, `"*"`, or the exact browser origins allowed to open a socket. */
  allowedOrigins: "same-origin" | "*" | string[];
  /** Cloud Run's request timeout: the platform cuts every WebSocket at this age. */
  requestTimeoutMs: number;
  board: {
    maxStrokes: number;
    maxBytes: number;
    idleTtlSeconds: number;
    maxPointsPerStroke: number;
    maxIdsPerChange: number;
    /** Most bytes of stroke records in one catch-up answer (at least one page). */
    readBytes: number;
    clearIntervalMs: number;
    undoClearMs: number;
  };
  maxMessageBytes: number;
  /**
   * Per connection: events, stroke bytes written, catch-up bytes read, joins; boards joined per minute. Per client
   * address (all its sockets on this instance together): stroke bytes written, catch-up bytes read.
   */
  rateLimit: {
    events: Rate;
    writeBytes: Rate;
    readBytes: Rate;
    writeBytesPerAddress: Rate;
    readBytesPerAddress: Rate;
    joins: Rate;
    boardsPerMinute: number;
  };
  cursorIntervalMs: number;
  /** Least time between two store calls (and broadcasts) of one board on this instance (./board-writer.ts). */
  writeIntervalMs: number;
  /** Least time between two `ops` frames of one board to its sockets on this instance (./fanout/frame-pacer.ts). */
  frameIntervalMs: number;
  /** Most cursor positions in one message; the rest wait for the next interval (./cursors.ts). */
  cursorsPerMessage: number;
  /** What one instance, and one client address, may hold open (./connection-limits.ts). */
  connections: ConnectionConfig;
  /** Serve the client's source maps (`/assets/*.map`); off unless asked for. */
  sourceMaps: boolean;
  shutdownTimeoutMs: number;
  /** Where GET /metrics is served: a port of its own, never the public one. */
  metricsPort: number;
  /** After a drain, how long to wait for one more scrape before exiting (0: exit at once). */
  metricsFinalScrapeMs: number;
  logLevel: string;
  /** Names this process in logs and in the cross-instance presence count. */
  instanceId: string;
}

export interface ConnectionConfig {
  /** Sockets open on this instance at once (Cloud Run's concurrency, passed by the stacks). */
  maxSockets: number;
  /** Sockets open on this instance from one client address (an IPv6 /64 counts as one address). */
  maxSocketsPerAddress: number;
  /** Connections admitted per second from one client address on this instance. */
  connectRate: Rate;
  /**
   * Which X-Forwarded-For entry, counted from the right, is the client: 1 the last (Cloud Run appends the address
   * that connected to it), 2 the second-to-last (the load balancer appends the client, then its own address), 0 none
   * (the TCP peer; no proxy in front). See ./client-address.ts.
   */
  clientAddressHop: number;
  /** A socket that has not joined a board this long after connecting is closed (and a connection with no socket). */
  joinTimeoutMs: number;
  /** Bytes waiting to be sent to one socket beyond which it is disconnected (it reconnects and catches up). */
  sendBufferBytes: number;
  /** Bytes waiting to be sent to all sockets of the instance beyond which the largest buffers are cut. */
  sendBufferTotalBytes: number;
}

/** A token bucket: `burst` at once, refilled at `perSecond`. */
export interface Rate {
  perSecond: number;
  burst: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Builds the configuration from environment variables; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv, makeInstanceId: () => string): Config {
  const blankAsUnset = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const unknownRedisVariables = Object.keys(blankAsUnset).filter(
    (name) => name.startsWith("REDIS_") && !(REDIS_VARIABLES as readonly string[]).includes(name),
  );
  const parsed = envSchema.safeParse(blankAsUnset);
  const problems = [
    ...unknownRedisVariables.map(
      (name) => `${name}: unknown variable; the Redis variables are ${REDIS_VARIABLES.join(", ")}`,
    ),
    ...(parsed.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) ?? []),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    port: e.PORT,
    store:
      e.BOARD_STORE === "memory"
        ? { kind: "memory" }
        : {
            kind: "redis",
            redis: redisConfig(e),
            replication: { replicas: e.REDIS_WAIT_REPLICAS ?? 0, timeoutMs: e.REDIS_WAIT_TIMEOUT_MS ?? 100 },
          },
    allowedOrigins:
      e.ALLOWED_ORIGINS === undefined ? "same-origin" : e.ALLOWED_ORIGINS[0] === "*" ? "*" : e.ALLOWED_ORIGINS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
    board: {
      maxStrokes: e.MAX_STROKES_PER_BOARD,
      maxBytes: e.MAX_BOARD_BYTES,
      idleTtlSeconds: e.BOARD_IDLE_TTL_SECONDS,
      maxPointsPerStroke: e.MAX_POINTS_PER_STROKE,
      maxIdsPerChange: e.MAX_IDS_PER_CHANGE,
      readBytes: e.CATCH_UP_PAGE_BYTES,
      clearIntervalMs: e.CLEAR_INTERVAL_SECONDS * 1000,
      undoClearMs: e.UNDO_CLEAR_SECONDS * 1000,
    },
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
    rateLimit: {
      events: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
      writeBytes: { perSecond: e.WRITE_BYTES_PER_SECOND, burst: e.WRITE_BYTES_BURST },
      readBytes: { perSecond: e.READ_BYTES_PER_SECOND, burst: e.READ_BYTES_BURST },
      writeBytesPerAddress: { perSecond: e.WRITE_BYTES_PER_ADDRESS_PER_SECOND, burst: e.WRITE_BYTES_PER_ADDRESS_BURST },
      readBytesPerAddress: { perSecond: e.READ_BYTES_PER_ADDRESS_PER_SECOND, burst: e.READ_BYTES_PER_ADDRESS_BURST },
      joins: { perSecond: e.JOINS_PER_SECOND, burst: e.JOIN_BURST },
      boardsPerMinute: e.BOARDS_PER_MINUTE,
    },
    cursorIntervalMs: e.CURSOR_INTERVAL_MS,
    writeIntervalMs: e.WRITE_INTERVAL_MS,
    frameIntervalMs: e.FRAME_INTERVAL_MS,
    cursorsPerMessage: e.CURSORS_PER_MESSAGE,
    connections: {
      maxSockets: e.MAX_SOCKETS,
      // The stacks set MAX_SOCKETS from the concurrency, which may be below this default: the smaller wins.
      maxSocketsPerAddress: Math.min(e.MAX_SOCKETS_PER_ADDRESS, e.MAX_SOCKETS),
      connectRate: {
        perSecond: e.CONNECTIONS_PER_ADDRESS_PER_SECOND,
        burst: e.CONNECTIONS_PER_ADDRESS_BURST ?? Math.min(e.MAX_SOCKETS_PER_ADDRESS, e.MAX_SOCKETS),
      },
      clientAddressHop: e.CLIENT_ADDRESS_HOP,
      joinTimeoutMs: e.JOIN_TIMEOUT_SECONDS * 1000,
      sendBufferBytes: e.MAX_SEND_BUFFER_BYTES,
      sendBufferTotalBytes: e.MAX_SEND_BUFFER_TOTAL_BYTES,
    },
    sourceMaps: e.SOURCE_MAPS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    metricsPort: e.METRICS_PORT,
    metricsFinalScrapeMs: e.METRICS_FINAL_SCRAPE_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? [e.K_REVISION, makeInstanceId()].filter(Boolean).join("-"),
  };
}

/** The connection the (already consistent) variables describe. */
function redisConfig(e: z.output<typeof envSchema>): RedisConfig {
  const extra = {
    ...(e.REDIS_CLUSTER ? { cluster: true } : {}),
    ...(e.REDIS_AUTH === "iam" ? { iam: { metadataHost: e.GCE_METADATA_HOST ?? METADATA_HOST } } : {}),
  };
  const url = redisUrl(e.REDIS_URL);
  if (url) {
    // Credentials move out of the URL so the URL itself is safe to log.
    const password = e.REDIS_PASSWORD ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.password = "";
    return { url: url.toString(), password, tls: url.protocol === "rediss:", caCert: e.REDIS_CA_CERT, ...extra };
  }
  const host = e.REDIS_HOST ?? "127.0.0.1";
  const tls = e.REDIS_TLS ?? e.REDIS_CA_CERT !== undefined;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${tls ? "rediss" : "redis"}://${urlHost}:${e.REDIS_PORT ?? 6379}`,
    password: e.REDIS_PASSWORD,
    tls,
    caCert: e.REDIS_CA_CERT,
    ...extra,
  };
}

/** The metadata server every Cloud Run instance reaches (Google's client libraries use the same name). */
export const METADATA_HOST = "metadata.google.internal";
