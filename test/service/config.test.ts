import { ConfigError, loadConfig } from "../../service/config";

const load = (env: Record<string, string>) => loadConfig(env, () => "abcd");
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

test("defaults: port 8080, local Redis, same-origin, 60-minute timeout, 100,000 elements and 16 MiB a board, 30 days", () => {
  const config = load({});
  expect(config).toMatchObject({
    port: 8080,
    store: {
      kind: "redis",
      redis: { url: "redis://127.0.0.1:6379", password: undefined, tls: false, caCert: undefined },
      replication: { replicas: 0, timeoutMs: 100 },
    },
    allowedOrigins: "same-origin",
    requestTimeoutMs: 3_600_000,
    board: {
      maxElements: 100_000,
      maxBytes: 16 * 2 ** 20,
      idleTtlSeconds: 30 * 24 * 3600,
      maxPointsPerEvent: 1_000,
      maxIdsPerChange: 1_000,
      maxLineBytes: 16_384,
      maxTextLength: 4_000,
      readBytes: 2 ** 20,
      clearIntervalMs: 10_000,
      undoClearMs: 3_600_000,
    },
    maxMessageBytes: 100_000,
    rateLimit: {
      events: { perSecond: 100, burst: 300 },
      writeBytes: { perSecond: 64 * 1024, burst: 2 ** 20 },
      readBytes: { perSecond: 2 * 2 ** 20, burst: 32 * 2 ** 20 },
      joins: { perSecond: 1, burst: 5 },
      boardsPerMinute: 10,
    },
    cursorIntervalMs: 66,
    writePacing: { intervalMs: 16, burst: 4 },
    shutdownTimeoutMs: 8_000,
    instanceId: "abcd",
  });
});

test("writes can wait for replicas (Redis WAIT)", () => {
  expect(load({ REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "50" }).store).toMatchObject({
    replication: { replicas: 1, timeoutMs: 50 },
  });
});

test("a password in REDIS_URL moves out of the URL, so the URL can be logged", () => {
  const config = load({ REDIS_URL: "rediss://default:s%40cret@10.0.0.3:6378" });
  expect(config.store).toMatchObject({
    kind: "redis",
    redis: { url: "rediss://default@10.0.0.3:6378", password: "s@cret", tls: true, caCert: undefined },
  });
});

test("Memorystore style: host, port, password and CA given separately imply TLS", () => {
  const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const config = load({
    REDIS_HOST: "10.1.2.3",
    REDIS_PORT: "6378",
    REDIS_PASSWORD: "pw",
    REDIS_CA_CERT: ca,
    K_REVISION: "wb-00007",
  });
  expect(config.store).toMatchObject({
    kind: "redis",
    redis: { url: "rediss://10.1.2.3:6378", password: "pw", tls: true, caCert: ca },
  });
  expect(config.instanceId).toBe("wb-00007-abcd");
});

test("a Redis Cluster with IAM authentication: the discovery endpoint, TLS, no password, the metadata server", () => {
  const env = {
    REDIS_HOST: "10.0.0.5",
    REDIS_PORT: "6379",
    REDIS_CA_CERT: PEM,
    REDIS_CLUSTER: "true",
    REDIS_AUTH: "iam",
  };
  expect(load(env).store).toMatchObject({
    kind: "redis",
    redis: {
      url: "rediss://10.0.0.5:6379",
      tls: true,
      password: undefined,
      cluster: true,
      iam: { metadataHost: "metadata.google.internal" },
    },
  });
  expect(load({ ...env, GCE_METADATA_HOST: "127.0.0.1:8999" }).store).toMatchObject({
    redis: { iam: { metadataHost: "127.0.0.1:8999" } },
  });
  // Neither setting: one Redis with its AUTH string, as before.
  expect(load({ REDIS_HOST: "h", REDIS_PASSWORD: "pw" }).store).not.toHaveProperty("redis.cluster");
  expect(load({ REDIS_HOST: "h", REDIS_PASSWORD: "pw", REDIS_AUTH: "password" }).store).not.toHaveProperty("redis.iam");
});

test("REDIS_URL without a password, and the password in REDIS_PASSWORD (kept out of the URL)", () => {
  expect(load({ REDIS_URL: "rediss://10.0.0.3:6378", REDIS_PASSWORD: "pw" }).store).toMatchObject({
    kind: "redis",
    redis: { url: "rediss://10.0.0.3:6378", password: "pw", tls: true, caCert: undefined },
  });
});

test("without REDIS_HOST, the other REDIS_ variables describe Redis on 127.0.0.1", () => {
  expect(load({ REDIS_PORT: "6380", REDIS_PASSWORD: "pw" }).store).toMatchObject({
    kind: "redis",
    redis: { url: "redis://127.0.0.1:6380", password: "pw", tls: false, caCert: undefined },
  });
});

test("NODE_ENV=production needs Redis named explicitly, and accepts it given either way", () => {
  expect(load({ NODE_ENV: "production", REDIS_HOST: "10.1.2.3" }).store).toMatchObject({
    redis: { url: "redis://10.1.2.3:6379" },
  });
  expect(load({ NODE_ENV: "production", REDIS_URL: "redis://10.1.2.3:6379" }).store).toMatchObject({
    redis: { url: "redis://10.1.2.3:6379" },
  });
  expect(load({ NODE_ENV: "production", BOARD_STORE: "memory" }).store).toEqual({ kind: "memory" });
});

test("BOARD_STORE=memory needs no Redis", () => {
  expect(load({ BOARD_STORE: "memory" }).store).toEqual({ kind: "memory" });
});

test("allowed origins: a list of exact origins, or *", () => {
  expect(load({ ALLOWED_ORIGINS: "https://a.example.com, https://b.example.com:8443" }).allowedOrigins).toEqual([
    "https://a.example.com",
    "https://b.example.com:8443",
  ]);
  expect(load({ ALLOWED_ORIGINS: "*" }).allowedOrigins).toBe("*");
});

test("blank variables count as unset", () => {
  expect(load({ PORT: "", REDIS_URL: "" }).port).toBe(8080);
});

test.each<[Record<string, string>, RegExp]>([
  [{ PORT: "80a" }, /^PORT: must be a whole number from 1 to 65535$/],
  [{ PORT: "70000" }, /^PORT: .*65535/],
  [{ REDIS_URL: "http://localhost:6379" }, /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/],
  [{ REDIS_URL: "redis://a:1", REDIS_HOST: "b" }, /^REDIS_HOST: set either REDIS_URL or REDIS_HOST, not both$/],
  [{ REDIS_HOST: "h", REDIS_TLS: "yes" }, /^REDIS_TLS: must be "true" or "false"$/],
  [{ REDIS_HOST: "h", REDIS_CA_CERT: "not a pem" }, /^REDIS_CA_CERT: must be a PEM certificate$/],
  [{ REDIS_URL: "redis://h:1", REDIS_TLS: "true" }, /^REDIS_TLS: is true but REDIS_URL uses redis:\/\/$/],
  [{ REDIS_URL: "rediss://h:1", REDIS_TLS: "false" }, /^REDIS_TLS: is false but REDIS_URL uses rediss:\/\/$/],
  [
    { REDIS_PASWORD: "pw" },
    /^REDIS_PASWORD: unknown variable; the Redis variables are REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_TLS, REDIS_CA_CERT, REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS, REDIS_CLUSTER, REDIS_AUTH$/,
  ],
  [{ REDIS_URL: "redis://a:1", REDIS_PORT: "6378" }, /^REDIS_PORT: REDIS_URL holds the port/],
  [{ REDIS_URL: "redis://:one@a:1", REDIS_PASSWORD: "two" }, /^REDIS_PASSWORD: REDIS_URL holds a password too/],
  [{ REDIS_URL: "redis://a:1", REDIS_CA_CERT: PEM }, /^REDIS_CA_CERT: needs a rediss:\/\/ REDIS_URL \(TLS\)$/],
  [
    { REDIS_HOST: "h", REDIS_CA_CERT: PEM, REDIS_TLS: "false" },
    /^REDIS_TLS: must not be false when REDIS_CA_CERT is set$/,
  ],
  [{ BOARD_STORE: "memory", REDIS_HOST: "h" }, /^REDIS_HOST: BOARD_STORE=memory uses no Redis/],
  [{ NODE_ENV: "production" }, /^REDIS_HOST: is required when NODE_ENV=production \(or REDIS_URL\)/],
  [{ NODE_ENV: "staging" }, /^NODE_ENV: must be "production", "development" or "test"$/],
  [{ ALLOWED_ORIGINS: "https://a.example.com/path" }, /^ALLOWED_ORIGINS.*must be an origin/],
  [{ REQUEST_TIMEOUT_SECONDS: "3601" }, /^REQUEST_TIMEOUT_SECONDS: .*3600/],
  [{ MAX_ELEMENTS_PER_BOARD: "0" }, /^MAX_ELEMENTS_PER_BOARD: /],
  // The protocol's limits are what clients keep to: a service may lower them, not raise them.
  [{ MAX_LINE_BYTES: "16385" }, /^MAX_LINE_BYTES: must be a whole number from 1024 to 16384$/],
  [{ MAX_TEXT_LENGTH: "4001" }, /^MAX_TEXT_LENGTH: must be a whole number from 1 to 4000$/],
  [{ WRITE_BURST: "0" }, /^WRITE_BURST: must be a whole number from 1 to 100$/],
  [{ MAX_BOARD_BYTES: "1000" }, /^MAX_BOARD_BYTES: must be a whole number from 65536 to 268435456$/],
  [{ REDIS_WAIT_REPLICAS: "6" }, /^REDIS_WAIT_REPLICAS: .*0 to 5$/],
  [{ CATCH_UP_PAGE_BYTES: "10" }, /^CATCH_UP_PAGE_BYTES: /],
  [{ CURSOR_INTERVAL_MS: "5" }, /^CURSOR_INTERVAL_MS: .*16 to 5000$/],
  [{ SHUTDOWN_TIMEOUT_SECONDS: "10" }, /^SHUTDOWN_TIMEOUT_SECONDS: .*9/],
  [{ LOG_LEVEL: "verbose" }, /^LOG_LEVEL: /],
  [{ BOARD_STORE: "postgres" }, /^BOARD_STORE: must be "redis" or "memory"$/],
  [{ REDIS_CLUSTER: "yes" }, /^REDIS_CLUSTER: must be "true" or "false"$/],
  [{ REDIS_AUTH: "token" }, /^REDIS_AUTH: must be "password" or "iam"$/],
  [
    { REDIS_AUTH: "iam", REDIS_HOST: "h", REDIS_TLS: "true", REDIS_PASSWORD: "pw" },
    /^REDIS_PASSWORD: REDIS_AUTH=iam sends an IAM access token/,
  ],
  [{ REDIS_AUTH: "iam", REDIS_URL: "rediss://:pw@h:1" }, /^REDIS_PASSWORD: REDIS_AUTH=iam sends an IAM access token/],
  [{ REDIS_AUTH: "iam", REDIS_HOST: "h" }, /^REDIS_AUTH: REDIS_AUTH=iam needs TLS/],
  [{ REDIS_AUTH: "iam", REDIS_URL: "redis://h:1" }, /^REDIS_AUTH: REDIS_AUTH=iam needs TLS/],
  [
    { REDIS_AUTH: "iam", REDIS_TLS: "true", GCE_METADATA_HOST: "http://x/" },
    /^GCE_METADATA_HOST: must be host or host:port/,
  ],
  [{ BOARD_STORE: "memory", REDIS_CLUSTER: "true" }, /^REDIS_CLUSTER: BOARD_STORE=memory uses no Redis/],
])("%j is refused with a message naming the variable", (env, message) => {
  expect(problems(env)).toEqual([expect.stringMatching(message)]);
});

test("every bad variable is reported at once", () => {
  expect(problems({ PORT: "x", RATE_LIMIT_BURST: "-1" }).map((p) => p.split(":")[0])).toEqual([
    "PORT",
    "RATE_LIMIT_BURST",
  ]);
  expect(
    problems({ REDIS_PASWORD: "pw", REDIS_URL: "redis://a:1", REDIS_HOST: "b" }).map((p) => p.split(":")[0]),
  ).toEqual(["REDIS_PASWORD", "REDIS_HOST"]);
});

// The metrics settings: defaults, and one test per rule, each checking that the message names the variable.
describe("metrics", () => {
  test("defaults: metrics on port 9464, no wait for a last scrape", () => {
    expect(load({})).toMatchObject({ metricsPort: 9464, metricsFinalScrapeMs: 0 });
    expect(load({ METRICS_PORT: "9100", METRICS_FINAL_SCRAPE_SECONDS: "2" })).toMatchObject({
      metricsPort: 9100,
      metricsFinalScrapeMs: 2_000,
    });
  });

  test.each([
    ["METRICS_PORT out of range", { METRICS_PORT: "70000" }, "METRICS_PORT: must be a whole number from 1 to 65535"],
    ["METRICS_PORT not a number", { METRICS_PORT: "metrics" }, "METRICS_PORT: must be a whole number from 1 to 65535"],
    [
      "METRICS_PORT equal to PORT",
      { PORT: "9000", METRICS_PORT: "9000" },
      "METRICS_PORT: must differ from PORT (9000)",
    ],
    ["METRICS_PORT equal to the default PORT", { METRICS_PORT: "8080" }, "METRICS_PORT: must differ from PORT (8080)"],
    [
      "METRICS_PORT equal to PORT with the memory store",
      { BOARD_STORE: "memory", METRICS_PORT: "8080" },
      "METRICS_PORT: must differ from PORT (8080)",
    ],
    [
      "METRICS_FINAL_SCRAPE_SECONDS out of range",
      { METRICS_FINAL_SCRAPE_SECONDS: "9" },
      "METRICS_FINAL_SCRAPE_SECONDS: must be a whole number from 0 to 8",
    ],
    [
      "METRICS_FINAL_SCRAPE_SECONDS not below SHUTDOWN_TIMEOUT_SECONDS",
      { METRICS_FINAL_SCRAPE_SECONDS: "3", SHUTDOWN_TIMEOUT_SECONDS: "3" },
      "METRICS_FINAL_SCRAPE_SECONDS: must be below SHUTDOWN_TIMEOUT_SECONDS (3)",
    ],
  ])("%s", (_rule, env, message) => {
    expect(problems(env)).toEqual([expect.stringContaining(message)]);
  });
});
