/**
 * The service's configuration, read once from the environment at start and validated: a bad value stops the process
 * with a message naming the variable. Nothing here is ever logged whole (it holds the Redis password).
 *
 * Every variable is declared once, below, in `settings`: name, kind and bounds, default, one line of documentation,
 * and where its value goes in `Config` (the tree has Config's shape; `Config` is derived from it). Rules across
 * variables are in `rules`. docs/configuration.md's table is generated from both (`npm run docs:settings`), and a
 * test fails when it is out of date. Adding a setting is adding one declaration where its value belongs, e.g.
 *   maxElements: integer("MAX_ELEMENTS_PER_BOARD", { min: 1, max: 1_000_000, default: 100_000 }, "What a board..."),
 * The kinds (integer, bytes, seconds, flag, choice, custom) are in ./config/declaration.ts; `.map(inMilliseconds)`
 * turns seconds into Config's milliseconds. docs/development.md shows a whole example, and how to move a setting
 * written the old way (a zod field, a Config field, a line of the mapping, a README row) into this form.
 */
import { z } from "zod";
import { MAX_LINE_BYTES, MAX_TEXT_LENGTH } from "../protocol/events";
import {
  buildValue,
  bytes,
  choice,
  custom,
  derive,
  flag,
  inMilliseconds,
  integer,
  seconds,
  settingsOf,
  type EnvOf,
  type Rule,
  type ValueOf,
} from "./config/declaration";

const DAY_SECONDS = 24 * 60 * 60;
const KIB = 1_024;
const MIB = 1_024 * KIB;
const GIB = 1_024 * MIB;

/** The metadata server every Cloud Run instance reaches (Google's client libraries use the same name). */
const METADATA_HOST = "metadata.google.internal";

const origin = z.string().refine((value) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, "must be an origin such as https://board.example.com (scheme, host and optional port, no path)");

const originList = z
  .string()
  .transform((list) =>
    list
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.union([z.tuple([z.literal("*")]), z.array(origin)]));

/** A redis:// or rediss:// URL, or undefined (the schema reports a bad one). */
function redisUrl(text: string | undefined): URL | undefined {
  try {
    const url = new URL(text ?? "");
    return url.protocol === "redis:" || url.protocol === "rediss:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Where the boards are kept: BOARD_STORE and the Redis connection. */
const storeSettings = {
  kind: choice(
    "BOARD_STORE",
    ["redis", "memory"],
    { default: "redis" },
    "`memory`: a single instance without Redis (boards lost at exit)",
  ),
  nodeEnv: choice(
    "NODE_ENV",
    ["production", "development", "test"],
    {},
    "The image sets `production`, where Redis must be named (`REDIS_HOST` or `REDIS_URL`)",
  ),
  url: custom(
    "REDIS_URL",
    z.url({ protocol: /^rediss?$/, message: "must be a redis:// or rediss:// URL" }).optional(),
    {
      values: "`redis://` or `rediss://` URL",
      default: "–",
      description: "Instead of `REDIS_HOST` and `REDIS_PORT`: Redis as a URL, password allowed in it",
    },
  ),
  host: custom("REDIS_HOST", z.string().trim().min(1).default("127.0.0.1"), {
    values: "host name or address",
    default: "`127.0.0.1`",
    description: "Redis given piece by piece, as the stacks give Memorystore's: its host",
  }),
  port: integer("REDIS_PORT", { min: 1, max: 65535, default: 6379 }, "Redis's port"),
  password: custom("REDIS_PASSWORD", z.string().optional(), {
    values: "text",
    default: "–",
    description: "Redis's AUTH string (Memorystore's); never logged",
  }),
  tls: flag(
    "REDIS_TLS",
    { unset: "`true` with `REDIS_CA_CERT` or a `rediss://` URL, else `false`" },
    "Whether Redis speaks TLS",
  ),
  caCert: custom(
    "REDIS_CA_CERT",
    z
      .string()
      .refine((pem) => pem.includes("-----BEGIN CERTIFICATE-----"), "must be a PEM certificate")
      .optional(),
    {
      values: "PEM",
      default: "–",
      description: "The CA or CAs to trust for TLS (Memorystore's server CAs); implies TLS",
    },
  ),
  waitReplicas: integer(
    "REDIS_WAIT_REPLICAS",
    { min: 0, max: 5, default: 0 },
    "Replicas a write must reach (Redis `WAIT`, sent to the primary that holds the board) before it is acknowledged",
  ),
  waitTimeoutMs: integer(
    "REDIS_WAIT_TIMEOUT_MS",
    { min: 1, max: 10_000, default: 100 },
    "The longest wait for `REDIS_WAIT_REPLICAS`: the write is acknowledged anyway after it",
  ),
  cluster: flag(
    "REDIS_CLUSTER",
    { default: false },
    "`true`: Redis is a Redis Cluster (Memorystore for Redis Cluster) and `REDIS_HOST`/`REDIS_PORT` (or `REDIS_URL`) name its discovery endpoint. A cluster node reached without it is refused (logged, never ready)",
  ),
  auth: choice(
    "REDIS_AUTH",
    ["password", "iam"],
    { default: "password" },
    "`iam`: an IAM access token of the service's own account, from the metadata server, is the AUTH password, refreshed before it expires; needs TLS and no password. `password`: `REDIS_PASSWORD`'s AUTH string (or none)",
  ),
  metadataHost: custom(
    "GCE_METADATA_HOST",
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port (the metadata server's address)")
      .default(METADATA_HOST),
    {
      values: "`host[:port]`",
      default: `\`${METADATA_HOST}\``,
      description:
        "Where the metadata server is, with `REDIS_AUTH=iam`: the name Google's client libraries read; set only by the local stand-ins",
    },
  ),
};

/** Every environment variable the service reads, in the shape of the configuration object it builds. */
export const settings = {
  port: integer("PORT", { min: 1, max: 65535, default: 8080 }, "HTTP port (Cloud Run sets it)"),
  /** Redis for any number of instances; memory for a single instance where there is no Redis. */
  store: derive(storeSettings, storeConfig),
  allowedOrigins: custom("ALLOWED_ORIGINS", originList.optional(), {
    values: "comma-separated origins, or `*`",
    default: "same origin",
    description: "Browser origins allowed to open a socket",
  }).map((origins): "same-origin" | "*" | string[] =>
    origins === undefined ? "same-origin" : origins[0] === "*" ? "*" : origins,
  ),
  requestTimeoutMs: seconds(
    "REQUEST_TIMEOUT_SECONDS",
    { min: 1, max: 3600, default: 3600 },
    "Cloud Run's request timeout, at which the platform cuts every WebSocket: clients are asked to reconnect shortly before it",
  ).map(inMilliseconds),
  board: {
    maxElements: integer(
      "MAX_ELEMENTS_PER_BOARD",
      { min: 1, max: 1_000_000, default: 100_000 },
      "Elements (a freehand line is one) a board may hold, hidden and cleared ones included; beyond it an `add` gets `board_full`",
    ),
    maxBytes: bytes(
      "MAX_BOARD_BYTES",
      { min: 64 * KIB, max: 256 * MIB, default: 16 * MIB },
      "Bytes of element records a board may hold, hidden and cleared ones included; beyond it a write gets `board_full` (appends may use the last eighth, so a line is finished whole)",
    ),
    idleTtlSeconds: seconds(
      "BOARD_IDLE_TTL_SECONDS",
      { min: 60, max: 365 * DAY_SECONDS, default: 30 * DAY_SECONDS },
      "A board nobody opens or draws on for this long is deleted",
    ),
    maxPointsPerEvent: integer(
      "MAX_POINTS_PER_EVENT",
      { min: 1, max: 10_000, default: 1_000 },
      "Samples in one `add` or `append` of a freehand line",
    ),
    // The protocol's limits are what clients keep to: a service may only lower them.
    maxLineBytes: bytes(
      "MAX_LINE_BYTES",
      { min: KIB, max: MAX_LINE_BYTES, default: MAX_LINE_BYTES },
      "Bytes of one freehand line's encoded points; past it an append gets `too_large` and the client continues with a new line",
    ),
    maxTextLength: integer(
      "MAX_TEXT_LENGTH",
      { min: 1, max: MAX_TEXT_LENGTH, default: MAX_TEXT_LENGTH },
      "Characters of one text or sticky note",
    ),
    maxIdsPerChange: integer(
      "MAX_IDS_PER_CHANGE",
      { min: 1, max: 10_000, default: 1_000 },
      "Elements named in one `erase`, `restore` or `edit`",
    ),
    readBytes: bytes(
      "CATCH_UP_PAGE_BYTES",
      { min: 16 * KIB, max: 8 * MIB, default: MIB },
      "Most element bytes in one catch-up answer (at least one page of 16 KiB); a snapshot's first answer holds at most 64 KiB of them, so the newest elements paint at once",
    ),
    clearIntervalMs: seconds(
      "CLEAR_INTERVAL_SECONDS",
      { min: 0, max: 3_600, default: 10 },
      "Least time between two clears of one board, and between two undos of a clear (an undo may follow a clear at once)",
    ).map(inMilliseconds),
    undoClearMs: seconds(
      "UNDO_CLEAR_SECONDS",
      { min: 0, max: 7 * DAY_SECONDS, default: 3_600 },
      "How long a clear can be undone: its elements are kept that long (new writes are refused before they are deleted)",
    ).map(inMilliseconds),
  },
  maxMessageBytes: bytes(
    "MAX_MESSAGE_BYTES",
    { min: 1_024, max: 10_000_000, default: 100_000 },
    "Socket.IO's `maxHttpBufferSize`: a bigger message closes the connection",
  ),
  /**
   * Per connection: events, bytes stored and broadcast, catch-up bytes read, joins; boards joined per minute. Per client
   * address (all its sockets on this instance together): bytes stored and broadcast, catch-up bytes read.
   */
  rateLimit: {
    events: {
      perSecond: integer(
        "RATE_LIMIT_PER_SECOND",
        { min: 1, max: 10_000, default: 100 },
        "Events per second one connection may send (a token bucket over all events)",
      ),
      burst: integer(
        "RATE_LIMIT_BURST",
        { min: 1, max: 100_000, default: 300 },
        "Events one connection may send at once (the bucket of `RATE_LIMIT_PER_SECOND`)",
      ),
    },
    writeBytes: {
      perSecond: bytes(
        "WRITE_BYTES_PER_SECOND",
        { min: 1_024, max: 100 * MIB, default: 64 * KIB },
        "Bytes per second one connection's writes may cost: what they add to the store or broadcast to the board, whichever is more",
      ),
      burst: bytes(
        "WRITE_BYTES_BURST",
        { min: 1_024, max: GIB, default: MIB },
        "Bytes one connection's writes may cost at once",
      ),
    },
    readBytes: {
      perSecond: bytes(
        "READ_BYTES_PER_SECOND",
        { min: 1_024, max: GIB, default: 2 * MIB },
        "Catch-up bytes per second one connection may read (one catch-up read at a time)",
      ),
      burst: bytes(
        "READ_BYTES_BURST",
        { min: KIB, max: GIB, default: 32 * MIB },
        "Catch-up bytes one connection may read at once",
      ),
    },
    writeBytesPerAddress: {
      perSecond: bytes(
        "WRITE_BYTES_PER_ADDRESS_PER_SECOND",
        { min: 1_024, max: GIB, default: 256 * KIB },
        "Write bytes per second (as above) all sockets of one client address share on an instance",
      ),
      burst: bytes(
        "WRITE_BYTES_PER_ADDRESS_BURST",
        { min: 1_024, max: GIB, default: 4 * MIB },
        "Write bytes one client address may spend at once",
      ),
    },
    readBytesPerAddress: {
      perSecond: bytes(
        "READ_BYTES_PER_ADDRESS_PER_SECOND",
        { min: 1_024, max: GIB, default: 8 * MIB },
        "Catch-up bytes per second all sockets of one client address share on an instance",
      ),
      burst: bytes(
        "READ_BYTES_PER_ADDRESS_BURST",
        { min: KIB, max: GIB, default: 64 * MIB },
        "Catch-up bytes one client address may read at once",
      ),
    },
    joins: {
      perSecond: integer("JOINS_PER_SECOND", { min: 1, max: 1_000, default: 1 }, "Joins per second of one connection"),
      burst: integer("JOIN_BURST", { min: 1, max: 1_000, default: 5 }, "Joins one connection may make at once"),
    },
    boardsPerMinute: integer(
      "BOARDS_PER_MINUTE",
      { min: 1, max: 10_000, default: 10 },
      "Distinct boards one connection may join in a minute",
    ),
  },
  cursorIntervalMs: integer(
    "CURSOR_INTERVAL_MS",
    { min: 16, max: 5_000, default: 66 },
    "Least time between two cursor messages of one board from one instance",
  ),
  frameIntervalMs: integer(
    "FRAME_INTERVAL_MS",
    { min: 0, max: 1_000, default: 33 },
    "Least time between two `ops` frames of one board to its sockets on an instance, once its budget of 2 is spent (service/fanout/frame-pacer.ts): operations from every instance arriving meanwhile go in one frame; a quiet board's go at once",
  ),
  /**
   * A board's draw calls (and broadcasts) on this instance: `burst` at once, then one per `intervalMs` while it keeps
   * writing (./board-writer.ts).
   */
  writePacing: {
    intervalMs: integer(
      "WRITE_INTERVAL_MS",
      { min: 0, max: 1_000, default: 16 },
      "A board's draw calls on one instance, once its `WRITE_BURST` is spent: one per this many ms, with the adds and appends that arrived meanwhile stored together (service/board-writer.ts); a quiet board's write goes at once. `0`: the next call as soon as the last one ends",
    ),
    burst: integer(
      "WRITE_BURST",
      { min: 1, max: 100, default: 4 },
      "Draw calls a quiet board may make at once on one instance before `WRITE_INTERVAL_MS` paces it",
    ),
  },
  cursorsPerMessage: integer(
    "CURSORS_PER_MESSAGE",
    { min: 1, max: 1_000, default: 32 },
    "Most positions in one cursor message (service/cursors.ts): those waiting longest go first, the rest in the next messages",
  ),
  /** What one instance, and one client address, may hold open (./connection-limits.ts). */
  connections: derive(
    {
      maxSockets: integer(
        "MAX_SOCKETS",
        { min: 1, max: 100_000, default: 250 },
        "Sockets open on an instance; the stacks set Cloud Run's concurrency. Past it a WebSocket is refused",
      ),
      maxSocketsPerAddress: integer(
        "MAX_SOCKETS_PER_ADDRESS",
        { min: 1, max: 100_000, default: 50 },
        "Sockets open on an instance from one client address (an IPv6 /64 is one address); at most `MAX_SOCKETS`",
      ),
      connectRate: {
        perSecond: integer(
          "CONNECTIONS_PER_ADDRESS_PER_SECOND",
          { min: 1, max: 10_000, default: 5 },
          "Connections admitted per second from one client address on an instance (service/connection-limits.ts); past it a connection is refused (`address_rate`)",
        ),
        burst: integer(
          "CONNECTIONS_PER_ADDRESS_BURST",
          { min: 1, max: 100_000, default: 50 },
          "Connections one client address may open at once before `CONNECTIONS_PER_ADDRESS_PER_SECOND` paces it",
        ),
      },
      clientAddressHop: integer(
        "CLIENT_ADDRESS_HOP",
        { min: 0, max: 10, default: 1 },
        "Which `X-Forwarded-For` entry, from the right, is the client (service/client-address.ts): `1` Cloud Run's run.app URL, `2` behind the load balancer (the stacks set it), `0` none (the TCP peer)",
      ),
      joinTimeoutMs: seconds(
        "JOIN_TIMEOUT_SECONDS",
        { min: 1, max: 600, default: 10 },
        "A connection that opens no socket, or a socket that joins no board, within this is closed",
      ).map(inMilliseconds),
      sendBufferBytes: bytes(
        "MAX_SEND_BUFFER_BYTES",
        { min: 64 * KIB, max: GIB, default: 4 * MIB },
        "Bytes queued for one socket beyond which it is cut (it reconnects and catches up)",
      ),
      sendBufferTotalBytes: bytes(
        "MAX_SEND_BUFFER_TOTAL_BYTES",
        { min: MIB, max: 16 * GIB, default: 128 * MIB },
        "Bytes queued for all sockets of an instance beyond which the largest queues are cut",
      ),
    },
    // The stacks set MAX_SOCKETS from the concurrency, which may be below MAX_SOCKETS_PER_ADDRESS: the smaller wins.
    (limits) => ({ ...limits, maxSocketsPerAddress: Math.min(limits.maxSocketsPerAddress, limits.maxSockets) }),
  ),
  sourceMaps: flag(
    "SOURCE_MAPS",
    { default: false },
    "Serve the client's source maps (`/assets/*.map`); `make dev` sets it",
  ),
  shutdownTimeoutMs: seconds(
    "SHUTDOWN_TIMEOUT_SECONDS",
    { min: 1, max: 9, default: 8 },
    "Longest drain after SIGTERM (Cloud Run kills at about 10 s)",
  ).map(inMilliseconds),
  metricsPort: integer(
    "METRICS_PORT",
    { min: 1, max: 65535, default: 9464 },
    "Port of `GET /metrics` (Prometheus text format), never the public one",
  ),
  metricsFinalScrapeMs: seconds(
    "METRICS_FINAL_SCRAPE_SECONDS",
    { min: 0, max: 8, default: 0 },
    "After a drain, how long to wait for one more scrape of the metrics before exiting (`0`: exit at once); the Cloud Run stack sets `2` for the sidecar's shut-down scrape",
  ).map(inMilliseconds),
  logLevel: choice(
    "LOG_LEVEL",
    ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
    { default: "info" },
    "Least severity logged",
  ),
  /** Names this process in logs and in the cross-instance presence count. */
  instanceId: derive(
    {
      id: custom("INSTANCE_ID", z.string().trim().min(1).optional(), {
        values: "text",
        default: "`K_REVISION`-random",
        description: "Names the instance in logs and in the cross-instance presence count",
      }),
      revision: custom("K_REVISION", z.string().optional(), {
        values: "text",
        default: "–",
        description: "Cloud Run's revision name (Cloud Run sets it): the start of the default `INSTANCE_ID`",
      }),
    },
    ({ id, revision }, { makeInstanceId }) => id ?? [revision, makeInstanceId()].filter(Boolean).join("-"),
  ),
};

export type Config = ValueOf<typeof settings>;
export type ConnectionConfig = Config["connections"];
/** A token bucket: `burst` at once, refilled at `perSecond`. */
export type Rate = Config["rateLimit"]["events"];

/** The variables as parsed, by name: what the rules read. */
type Env = EnvOf<typeof settings>;

/** Every environment variable the service reads. The contract test holds the stacks to this list. */
export const SERVICE_VARIABLES: readonly string[] = settingsOf(settings).map((setting) => setting.name);

/** Any REDIS_* variable the service does not read is a mistake, such as REDIS_PASWORD. */
export const RESERVED_PREFIX = "REDIS_";
const REDIS_VARIABLES = SERVICE_VARIABLES.filter((name): name is keyof Env & `REDIS_${string}` =>
  name.startsWith(RESERVED_PREFIX),
);

/** A rule about the Redis variables: none of them applies to the memory store (which has its own rule). */
const redisRule = (description: string, check: Rule<Env>["check"]): Rule<Env> => ({
  description,
  check: (env, context) => {
    if (env.BOARD_STORE === "redis") check(env, context);
  },
});

/** Rules across variables. (They run also when a variable failed its own checks: compare only values in range.) */
export const rules: readonly Rule<Env>[] = [
  {
    description:
      "`MAX_SEND_BUFFER_BYTES` exceeds `CATCH_UP_PAGE_BYTES` by more than 64 KiB: a catch-up answer must fit",
    check(env, { problem }) {
      if (env.MAX_SEND_BUFFER_BYTES <= env.CATCH_UP_PAGE_BYTES + 64 * KIB) {
        problem(
          "MAX_SEND_BUFFER_BYTES",
          `must exceed CATCH_UP_PAGE_BYTES (${env.CATCH_UP_PAGE_BYTES}) by more than 64 KiB: a catch-up answer must fit`,
        );
      }
    },
  },
  {
    description: "`MAX_SEND_BUFFER_TOTAL_BYTES` is at least `MAX_SEND_BUFFER_BYTES`",
    check(env, { problem }) {
      if (env.MAX_SEND_BUFFER_TOTAL_BYTES < env.MAX_SEND_BUFFER_BYTES) {
        problem("MAX_SEND_BUFFER_TOTAL_BYTES", `must be at least MAX_SEND_BUFFER_BYTES (${env.MAX_SEND_BUFFER_BYTES})`);
      }
    },
  },
  {
    description: "With `BOARD_STORE=memory`, no `REDIS_*` variable is set: the memory store uses no Redis",
    check(env, { given, problem }) {
      if (env.BOARD_STORE !== "memory") return;
      for (const name of REDIS_VARIABLES) {
        if (given(name)) problem(name, "BOARD_STORE=memory uses no Redis: unset it, or use BOARD_STORE=redis");
      }
    },
  },
  redisRule(
    "Redis is named by `REDIS_URL` or by `REDIS_HOST` and `REDIS_PORT`; with `REDIS_URL`, the password is in one place, and `REDIS_TLS` and `REDIS_CA_CERT` agree with its scheme",
    (env, { given, problem }) => {
      if (!given("REDIS_URL")) return;
      if (given("REDIS_HOST")) problem("REDIS_HOST", "set either REDIS_URL or REDIS_HOST, not both");
      if (given("REDIS_PORT"))
        problem("REDIS_PORT", "REDIS_URL holds the port: set either REDIS_URL, or REDIS_HOST and REDIS_PORT");
      const url = redisUrl(env.REDIS_URL);
      if (!url) return;
      const tls = url.protocol === "rediss:";
      if (env.REDIS_TLS !== undefined && env.REDIS_TLS !== tls)
        problem("REDIS_TLS", `is ${env.REDIS_TLS} but REDIS_URL uses ${url.protocol}//`);
      if (env.REDIS_CA_CERT !== undefined && !tls) problem("REDIS_CA_CERT", "needs a rediss:// REDIS_URL (TLS)");
      if (env.REDIS_PASSWORD !== undefined && url.password)
        problem("REDIS_PASSWORD", "REDIS_URL holds a password too: give it in one place");
    },
  ),
  redisRule(
    "With `NODE_ENV=production`, `REDIS_HOST` or `REDIS_URL` is set: no default Redis in production",
    (env, { given, problem }) => {
      // The image sets NODE_ENV=production: a deployed instance must never quietly look for Redis on itself.
      if (env.NODE_ENV === "production" && !given("REDIS_URL") && !given("REDIS_HOST"))
        problem("REDIS_HOST", "is required when NODE_ENV=production (or REDIS_URL): no default Redis in production");
    },
  ),
  {
    description: "`METRICS_PORT` differs from `PORT`: the metrics stay off the public port",
    check(env, { problem }) {
      if (env.METRICS_PORT === env.PORT)
        problem("METRICS_PORT", `must differ from PORT (${env.PORT}): the metrics stay off the public port`);
    },
  },
  {
    description:
      "`METRICS_FINAL_SCRAPE_SECONDS` is below `SHUTDOWN_TIMEOUT_SECONDS`: the wait for a last scrape is part of the drain",
    check(env, { problem }) {
      // Only a value that passed its own range (0 to 8) is compared.
      if (env.METRICS_FINAL_SCRAPE_SECONDS <= 8 && env.METRICS_FINAL_SCRAPE_SECONDS >= env.SHUTDOWN_TIMEOUT_SECONDS) {
        problem(
          "METRICS_FINAL_SCRAPE_SECONDS",
          `must be below SHUTDOWN_TIMEOUT_SECONDS (${env.SHUTDOWN_TIMEOUT_SECONDS}): the wait for a last scrape is part of the drain`,
        );
      }
    },
  },
  redisRule("`REDIS_TLS` is not `false` when `REDIS_CA_CERT` is set", (env, { problem }) => {
    if (env.REDIS_CA_CERT !== undefined && env.REDIS_TLS === false)
      problem("REDIS_TLS", "must not be false when REDIS_CA_CERT is set");
  }),
  redisRule(
    "With `REDIS_AUTH=iam`, TLS and no password: an access token must not cross the network in plain text",
    (env, { problem }) => {
      if (env.REDIS_AUTH !== "iam") return;
      const url = redisUrl(env.REDIS_URL);
      if (env.REDIS_PASSWORD !== undefined || url?.password)
        problem("REDIS_PASSWORD", "REDIS_AUTH=iam sends an IAM access token as the password: set no password");
      const tls =
        env.REDIS_URL !== undefined ? url?.protocol === "rediss:" : (env.REDIS_TLS ?? env.REDIS_CA_CERT !== undefined);
      if (!tls)
        problem(
          "REDIS_AUTH",
          "REDIS_AUTH=iam needs TLS (REDIS_TLS=true or REDIS_CA_CERT): an access token must not cross the network in plain text",
        );
    },
  ),
];

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
interface ReplicationConfig {
  /** 0 acknowledges as soon as the primary has it. */
  replicas: number;
  /** A write is acknowledged anyway after this. */
  timeoutMs: number;
}

type StoreConfig = { kind: "redis"; redis: RedisConfig; replication: ReplicationConfig } | { kind: "memory" };

function storeConfig(store: ValueOf<typeof storeSettings>): StoreConfig {
  if (store.kind === "memory") return { kind: "memory" };
  return {
    kind: "redis",
    redis: redisConfig(store),
    replication: { replicas: store.waitReplicas, timeoutMs: store.waitTimeoutMs },
  };
}

/** The connection the (already consistent) variables describe. */
function redisConfig(store: ValueOf<typeof storeSettings>): RedisConfig {
  const extra = {
    ...(store.cluster ? { cluster: true } : {}),
    ...(store.auth === "iam" ? { iam: { metadataHost: store.metadataHost } } : {}),
  };
  const url = redisUrl(store.url);
  if (url) {
    // Credentials move out of the URL so the URL itself is safe to log.
    const password = store.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.password = "";
    return { url: url.toString(), password, tls: url.protocol === "rediss:", caCert: store.caCert, ...extra };
  }
  const tls = store.tls ?? store.caCert !== undefined;
  const urlHost = store.host.includes(":") ? `[${store.host}]` : store.host;
  return {
    url: `${tls ? "rediss" : "redis"}://${urlHost}:${store.port}`,
    password: store.password,
    tls,
    caCert: store.caCert,
    ...extra,
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const envSchema = z.object(Object.fromEntries(settingsOf(settings).map((setting) => [setting.name, setting.schema])));

/** Builds the configuration from environment variables; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv, makeInstanceId: () => string): Config {
  const blankAsUnset = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const unknownRedisVariables = Object.keys(blankAsUnset).filter(
    (name) => name.startsWith(RESERVED_PREFIX) && !(REDIS_VARIABLES as readonly string[]).includes(name),
  );
  const given = (name: string) => name in blankAsUnset;
  const parsed = envSchema
    .superRefine((values, ctx) => {
      const problem = (name: string, message: string) => ctx.addIssue({ code: "custom", path: [name], message });
      for (const rule of rules) rule.check(values as Env, { given, problem });
    })
    .safeParse(blankAsUnset);
  const problems = [
    ...unknownRedisVariables.map(
      (name) => `${name}: unknown variable; the Redis variables are ${REDIS_VARIABLES.join(", ")}`,
    ),
    ...(parsed.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) ?? []),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return buildValue(settings, parsed.data, { makeInstanceId });
}
