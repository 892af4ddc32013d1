/**
 * Configuration validation: defaults, one test per invalid-configuration rule (each checks that the message names the
 * field and its allowed range or pattern), and fast-check properties over the ranges and the connector name.
 * No construct is involved: validation runs before any exists.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { settingsFromEnv } from "../../infra/config/env";
import { CONNECTOR_NAME, InfraConfigError, type InfraConfigInput, parseInfraConfig } from "../../infra/config/schema";

const BASE = { projectId: "whiteboard-test-1" } as const;

/** The error message parseInfraConfig throws for `input`, or a failed test. */
function errorFor(input: unknown): string {
  try {
    parseInfraConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InfraConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

const CLUSTER = "memorystore-redis-cluster" as const;

describe("defaults", () => {
  test("dev", () => {
    const config = parseInfraConfig(BASE);
    expect(config).toEqual(
      expect.objectContaining({
        region: "us-central1",
        environment: "dev",
        namePrefix: "whiteboard",
        deletionProtection: false,
      }),
    );
    expect(config.service).toEqual(
      expect.objectContaining({
        timeoutSeconds: 3600,
        concurrency: 250,
        minInstances: 0,
        maxInstances: 3,
        sessionAffinity: true,
        publicAccess: "invoker-check-disabled",
        defaultUriDisabled: false,
        cpuAlwaysAllocated: false,
        image: undefined,
      }),
    );
    expect(config.redis).toEqual(
      expect.objectContaining({
        tier: "BASIC",
        memorySizeGb: 1,
        version: "REDIS_7_2",
        persistence: "DISABLED",
        maxmemoryPercent: 100,
        maintenanceWindow: null,
      }),
    );
    expect(config.network).toEqual(
      expect.objectContaining({
        egress: "connector",
        vpcEgress: "PRIVATE_RANGES_ONLY",
        connectorName: "whiteboard-dev",
        connectorCidr: "10.8.0.0/28",
        connectorMinInstances: 2,
        connectorMaxInstances: 3,
      }),
    );
    expect(config.loadBalancer).toEqual({
      domains: [],
      cloudArmor: { enabled: false, requestsPerInterval: 300, intervalSeconds: 60 },
    });
    expect(config.state).toEqual({ bucket: undefined, prefix: "whiteboard" });
  });

  test("prod turns on HA, persistence, a warm instance and deletion protection", () => {
    const config = parseInfraConfig({ ...BASE, environment: "prod" });
    expect(config.deletionProtection).toBe(true);
    expect(config.redis).toEqual(
      expect.objectContaining({
        tier: "STANDARD_HA",
        persistence: "RDB",
        maxmemoryPercent: 80,
        maintenanceWindow: { day: "SUNDAY", startHour: 3 },
      }),
    );
    expect(config.service).toEqual(
      expect.objectContaining({ minInstances: 1, maxInstances: 20, cpuAlwaysAllocated: true }),
    );
    expect(config.network.connectorName).toBe("whiteboard-prod");
  });

  test("maxmemory leaves room when replication or snapshots need it: 80% with STANDARD_HA or RDB, else 100%", () => {
    const percent = (redis: InfraConfigInput["redis"], environment: "dev" | "prod" = "dev") =>
      parseInfraConfig({ ...BASE, environment, redis }).redis.maxmemoryPercent;
    expect(percent({ tier: "STANDARD_HA" })).toBe(80);
    expect(percent({ persistence: "RDB" })).toBe(80);
    expect(percent({ tier: "BASIC", persistence: "DISABLED" }, "prod")).toBe(100);
    expect(percent({ tier: "STANDARD_HA", maxmemoryPercent: 90 })).toBe(90);
  });

  test("the engine is Memorystore for Redis; the cluster engine's shape follows the environment", () => {
    const dev = parseInfraConfig({ ...BASE, redis: { engine: CLUSTER } });
    expect(parseInfraConfig({ ...BASE }).redis.engine).toBe("memorystore-redis");
    expect(dev.redis.cluster).toEqual({
      shardCount: 3,
      nodeType: "REDIS_SHARED_CORE_NANO",
      replicaCount: 0,
      pscSubnetCidr: "10.9.0.8/29",
    });
    expect(parseInfraConfig({ ...BASE, environment: "prod", redis: { engine: CLUSTER } }).redis.cluster).toMatchObject({
      nodeType: "REDIS_STANDARD_SMALL",
      replicaCount: 1,
    });
    // With the cluster the single instance's /29 is not allocated: a connector may take it.
    expect(() =>
      parseInfraConfig({ ...BASE, redis: { engine: CLUSTER }, network: { connectorCidr: "10.9.0.0/28" } }),
    ).toThrow(/redis.cluster.pscSubnetCidr/);
    expect(
      parseInfraConfig({
        ...BASE,
        redis: { engine: CLUSTER, cluster: { pscSubnetCidr: "10.9.1.0/29" } },
        network: { connectorCidr: "10.9.0.0/28" },
      }).network.connectorCidr,
    ).toBe("10.9.0.0/28");
  });

  test("Cloud Armor is on by default in prod when the load balancer exists, and only then", () => {
    const armor = (input: InfraConfigInput) => parseInfraConfig(input).loadBalancer.cloudArmor.enabled;
    const domains = ["board.example.com"];
    expect(armor({ ...BASE, environment: "prod", loadBalancer: { domains } })).toBe(true);
    expect(armor({ ...BASE, environment: "prod" })).toBe(false);
    expect(armor({ ...BASE, loadBalancer: { domains } })).toBe(false);
    expect(armor({ ...BASE, environment: "prod", loadBalancer: { domains, cloudArmor: { enabled: false } } })).toBe(
      false,
    );
    expect(armor({ ...BASE, loadBalancer: { domains, cloudArmor: { enabled: true } } })).toBe(true);
  });

  test("monitoring: no one notified, the pinned sidecar on 0.08 vCPU scraping every minute, a check every minute from 3 regions, alerts at 80%, 250 ms, 10 errors a minute", () => {
    expect(parseInfraConfig(BASE).monitoring).toEqual({
      notificationEmails: [],
      sidecar: {
        enabled: true,
        image: "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.7.0",
        cpu: 0.08,
        scrapeIntervalSeconds: 60,
      },
      uptimeCheck: { periodSeconds: 60, regions: ["USA", "EUROPE", "ASIA_PACIFIC"] },
      alerts: { instancesPercentOfMax: 80, redisMemoryPercent: 80, storeLatencyP99Ms: 250, errorLogsPerMinute: 10 },
    });
  });

  test("prod keeps its state in <project>-tfstate unless told otherwise; dev in local files", () => {
    expect(parseInfraConfig({ ...BASE, environment: "prod" }).state.bucket).toBe("whiteboard-test-1-tfstate");
    expect(parseInfraConfig({ ...BASE, environment: "prod", state: { bucket: "b-1" } }).state.bucket).toBe("b-1");
    expect(parseInfraConfig(BASE).state.bucket).toBeUndefined();
  });

  test("null says none for the state bucket (dev), the prebuilt image and the maintenance window", () => {
    const config = parseInfraConfig({
      ...BASE,
      environment: "dev",
      state: { bucket: null },
      service: { image: null },
      redis: { maintenanceWindow: null },
    });
    expect(config.state.bucket).toBeUndefined();
    expect(config.service.image).toBeUndefined();
    expect(config.redis.maintenanceWindow).toBeNull();
  });

  test("explicit values win over environment defaults", () => {
    const config = parseInfraConfig({
      ...BASE,
      environment: "prod",
      deletionProtection: false,
      redis: { tier: "BASIC" },
    });
    expect(config.deletionProtection).toBe(false);
    expect(config.redis.tier).toBe("BASIC");
  });
});

/** [rule, input, fragments the message must contain (field first)]. */
const INVALID: Array<[string, unknown, string[]]> = [
  ["projectId is required", {}, ["projectId:"]],
  ["projectId pattern", { projectId: "My_Project" }, ["projectId:", "6 to 30 characters", '"My_Project"']],
  ["projectId too short", { projectId: "abc" }, ["projectId:", "6 to 30 characters"]],
  ["region pattern", { ...BASE, region: "Europe West" }, ["region:", "us-central1"]],
  ["environment", { ...BASE, environment: "staging" }, ["environment:", "dev, prod"]],
  ["namePrefix pattern", { ...BASE, namePrefix: "White-Board" }, ["namePrefix:", "1 to 12 characters"]],
  ["namePrefix length", { ...BASE, namePrefix: "abcdefghijklm" }, ["namePrefix:", "1 to 12 characters"]],
  ["deletionProtection type", { ...BASE, deletionProtection: "yes" }, ["deletionProtection:", "true or false"]],
  ["unknown field", { ...BASE, servce: {} }, ["(root): unknown field(s) servce"]],
  ["unknown nested field", { ...BASE, service: { timeout: 60 } }, ["service: unknown field(s) timeout"]],
  [
    "request timeout below 1",
    { ...BASE, service: { timeoutSeconds: 0 } },
    ["service.timeoutSeconds:", "from 1 to 3600", "(got 0)"],
  ],
  [
    "request timeout above 3600",
    { ...BASE, service: { timeoutSeconds: 3601 } },
    ["service.timeoutSeconds:", "from 1 to 3600"],
  ],
  [
    "request timeout not an integer",
    { ...BASE, service: { timeoutSeconds: 60.5 } },
    ["service.timeoutSeconds:", "integer"],
  ],
  ["concurrency 0", { ...BASE, service: { concurrency: 0 } }, ["service.concurrency:", "from 1 to 1000"]],
  ["concurrency 1001", { ...BASE, service: { concurrency: 1001 } }, ["service.concurrency:", "from 1 to 1000"]],
  ["min instances negative", { ...BASE, service: { minInstances: -1 } }, ["service.minInstances:", "from 0 to 1000"]],
  ["max instances 0", { ...BASE, service: { maxInstances: 0 } }, ["service.maxInstances:", "from 1 to 1000"]],
  [
    "min instances above max",
    { ...BASE, service: { minInstances: 5, maxInstances: 2 } },
    ["service.minInstances:", "at most service.maxInstances", "5 and 2"],
  ],
  ["cpu value", { ...BASE, service: { cpu: "3" } }, ["service.cpu:", "1, 2, 4, 8"]],
  ["memory pattern", { ...BASE, service: { memory: "1GB" } }, ["service.memory:", "Mi or Gi"]],
  ["memory below 512Mi", { ...BASE, service: { memory: "256Mi" } }, ["service.memory:", "from 512Mi to 32Gi"]],
  ["memory above 32Gi", { ...BASE, service: { memory: "64Gi", cpu: "8" } }, ["service.memory:", "from 512Mi to 32Gi"]],
  ["4 CPU need 2Gi", { ...BASE, service: { cpu: "4", memory: "1Gi" } }, ["service.memory:", "4 CPU need at least 2Gi"]],
  ["8Gi+ need 4 CPU", { ...BASE, service: { cpu: "2", memory: "16Gi" } }, ["service.cpu:", "needs at least 4 CPU"]],
  ["16Gi+ need 8 CPU", { ...BASE, service: { cpu: "4", memory: "20Gi" } }, ["service.cpu:", "needs at least 8 CPU"]],
  [
    "image without tag",
    { ...BASE, service: { image: "us-docker.pkg.dev/p/r/app" } },
    ["service.image:", "tag or digest"],
  ],
  ["log level", { ...BASE, service: { logLevel: "verbose" } }, ["service.logLevel:", "info"]],
  [
    "public access",
    { ...BASE, service: { publicAccess: "public" } },
    ["service.publicAccess:", "invoker-check-disabled, all-users-invoker, none"],
  ],
  [
    "publicInvoker was replaced",
    { ...BASE, service: { publicInvoker: true } },
    ["service: unknown field(s) publicInvoker", "replaced by service.publicAccess"],
  ],
  [
    "default URI type",
    { ...BASE, service: { defaultUriDisabled: "yes" } },
    ["service.defaultUriDisabled:", "true or false"],
  ],
  [
    "default URI off without load balancer",
    { ...BASE, service: { defaultUriDisabled: true } },
    ["service.defaultUriDisabled:", "needs the load balancer", "loadBalancer.domains"],
  ],
  [
    "origin with a path",
    { ...BASE, service: { allowedOrigins: ["https://a.example.com/app"] } },
    ["service.allowedOrigins.0:", "origin"],
  ],
  [
    "origin with a default port",
    { ...BASE, service: { allowedOrigins: ["https://a.example.com:443"] } },
    ["service.allowedOrigins.0:", "non-default port"],
  ],
  ["env name pattern", { ...BASE, service: { env: { "max-strokes": "1" } } }, ["service.env", "^[A-Z_][A-Z0-9_]*$"]],
  [
    "reserved env name",
    { ...BASE, service: { env: { REDIS_HOST: "10.0.0.1" } } },
    ["service.env.REDIS_HOST:", "reserved"],
  ],
  [
    "reserved Redis env name the clustered engine sets",
    { ...BASE, service: { env: { REDIS_AUTH: "password" } } },
    ["service.env.REDIS_AUTH:", "every REDIS_*"],
  ],
  [
    "reserved env name set from the concurrency",
    { ...BASE, service: { env: { MAX_SOCKETS: "5000" } } },
    ["service.env.MAX_SOCKETS:", "reserved"],
  ],
  [
    "connector name too long",
    { ...BASE, network: { connectorName: "a".repeat(26) } },
    ["network.connectorName:", "1 to 25 characters", "^[a-z][-a-z0-9]{0,23}[a-z0-9]$"],
  ],
  [
    "connector name upper case",
    { ...BASE, network: { connectorName: "Board-conn" } },
    ["network.connectorName:", "^[a-z][-a-z0-9]{0,23}[a-z0-9]$"],
  ],
  ["connector name trailing hyphen", { ...BASE, network: { connectorName: "board-" } }, ["network.connectorName:"]],
  [
    "connector name starting with a digit",
    { ...BASE, network: { connectorName: "1board" } },
    ["network.connectorName:"],
  ],
  [
    "connector range not a /28",
    { ...BASE, network: { connectorCidr: "10.8.0.0/27" } },
    ["network.connectorCidr:", "private /28"],
  ],
  [
    "connector range not aligned",
    { ...BASE, network: { connectorCidr: "10.8.0.4/28" } },
    ["network.connectorCidr:", "aligned"],
  ],
  [
    "connector range public",
    { ...BASE, network: { connectorCidr: "8.8.8.0/28" } },
    ["network.connectorCidr:", "10.0.0.0/8"],
  ],
  ["connector range garbage", { ...BASE, network: { connectorCidr: "10.8.0/28" } }, ["network.connectorCidr:"]],
  [
    "connector min instances 1",
    { ...BASE, network: { connectorMinInstances: 1 } },
    ["network.connectorMinInstances:", "from 2 to 9"],
  ],
  [
    "connector max instances 11",
    { ...BASE, network: { connectorMaxInstances: 11 } },
    ["network.connectorMaxInstances:", "from 3 to 10"],
  ],
  [
    "connector min not below max",
    { ...BASE, network: { connectorMinInstances: 5, connectorMaxInstances: 5 } },
    ["network.connectorMinInstances:", "lower than network.connectorMaxInstances"],
  ],
  [
    "connector machine type",
    { ...BASE, network: { connectorMachineType: "n1-standard-1" } },
    ["network.connectorMachineType:", "e2-micro"],
  ],
  ["egress kind", { ...BASE, network: { egress: "nat" } }, ["network.egress:", "connector, direct"]],
  [
    "vpc egress",
    { ...BASE, network: { vpcEgress: "PRIVATE" } },
    ["network.vpcEgress:", "PRIVATE_RANGES_ONLY, ALL_TRAFFIC"],
  ],
  [
    "direct subnet too small for max instances",
    { ...BASE, network: { egress: "direct", subnetCidr: "10.10.0.0/26" }, service: { maxInstances: 40 } },
    ["network.subnetCidr:", "60 usable addresses", "needs 2 per instance", "at least 80"],
  ],
  [
    "direct subnet smaller than /26",
    { ...BASE, network: { egress: "direct", subnetCidr: "10.10.0.0/27" } },
    ["network.subnetCidr:", "/26 or larger"],
  ],
  ["redis tier", { ...BASE, redis: { tier: "PREMIUM" } }, ["redis.tier:", "BASIC, STANDARD_HA"]],
  ["redis memory 0", { ...BASE, redis: { memorySizeGb: 0 } }, ["redis.memorySizeGb:", "from 1 to 300"]],
  ["redis memory 301", { ...BASE, redis: { memorySizeGb: 301 } }, ["redis.memorySizeGb:", "from 1 to 300"]],
  ["redis version", { ...BASE, redis: { version: "REDIS_6_X" } }, ["redis.version:", "REDIS_7_2, REDIS_7_0"]],
  [
    "redis range not a /29",
    { ...BASE, redis: { reservedIpRange: "10.9.0.0/28" } },
    ["redis.reservedIpRange:", "private /29"],
  ],
  ["redis persistence", { ...BASE, redis: { persistence: "SNAPSHOTS" } }, ["redis.persistence:", "DISABLED, RDB, AOF"]],
  [
    "redis AOF on one instance",
    { ...BASE, redis: { persistence: "AOF" } },
    ['redis.persistence: "AOF" needs redis.engine "memorystore-redis-cluster"'],
  ],
  [
    "redis engine",
    { ...BASE, redis: { engine: "memorystore-valkey" } },
    ["redis.engine:", "memorystore-redis, memorystore-redis-cluster"],
  ],
  [
    "cluster shards 0",
    { ...BASE, redis: { engine: CLUSTER, cluster: { shardCount: 0 } } },
    ["redis.cluster.shardCount:", "from 1 to 250"],
  ],
  [
    "cluster node type",
    { ...BASE, redis: { engine: CLUSTER, cluster: { nodeType: "REDIS_HIGHCPU_MEDIUM" } } },
    ["redis.cluster.nodeType:", "REDIS_SHARED_CORE_NANO, REDIS_STANDARD_SMALL"],
  ],
  [
    "cluster replicas 3",
    { ...BASE, redis: { engine: CLUSTER, cluster: { replicaCount: 3 } } },
    ["redis.cluster.replicaCount:", "from 0 to 2"],
  ],
  [
    "cluster over 250 nodes",
    { ...BASE, redis: { engine: CLUSTER, cluster: { shardCount: 100, replicaCount: 2 } } },
    ["redis.cluster.shardCount: 100 shards with 2 replicas each are 300 nodes", "at most 250"],
  ],
  [
    "cluster PSC subnet not a /29",
    { ...BASE, redis: { engine: CLUSTER, cluster: { pscSubnetCidr: "10.9.0.0/28" } } },
    ["redis.cluster.pscSubnetCidr:", "private /29"],
  ],
  [
    "cluster field unknown",
    { ...BASE, redis: { engine: CLUSTER, cluster: { shards: 3 } } },
    ["redis.cluster: unknown field(s) shards"],
  ],
  [
    "connector overlaps the cluster's PSC subnet",
    { ...BASE, redis: { engine: CLUSTER }, network: { connectorCidr: "10.9.0.0/28" } },
    ["network.connectorCidr:", "must not overlap redis.cluster.pscSubnetCidr"],
  ],
  [
    "redis snapshot period",
    { ...BASE, redis: { rdbSnapshotPeriod: "TEN_MINUTES" } },
    ["redis.rdbSnapshotPeriod:", "ONE_HOUR"],
  ],
  [
    "redis maxmemory below 20%",
    { ...BASE, redis: { maxmemoryPercent: 19 } },
    ["redis.maxmemoryPercent:", "from 20 to 100", "(got 19)"],
  ],
  [
    "redis maxmemory above 100%",
    { ...BASE, redis: { maxmemoryPercent: 101 } },
    ["redis.maxmemoryPercent:", "from 20 to 100"],
  ],
  [
    "redis maxmemory not an integer",
    { ...BASE, redis: { maxmemoryPercent: 80.5 } },
    ["redis.maxmemoryPercent:", "integer"],
  ],
  [
    "maintenance window not an object",
    { ...BASE, redis: { maintenanceWindow: "SUNDAY" } },
    ["redis.maintenanceWindow:", "{ day, startHour }"],
  ],
  [
    "maintenance day",
    { ...BASE, redis: { maintenanceWindow: { day: "SUN", startHour: 3 } } },
    ["redis.maintenanceWindow.day:", "MONDAY, TUESDAY", "SUNDAY", '"SUN"'],
  ],
  [
    "maintenance day lower case",
    { ...BASE, redis: { maintenanceWindow: { day: "sunday", startHour: 3 } } },
    ["redis.maintenanceWindow.day:", "SUNDAY"],
  ],
  [
    "maintenance hour 24",
    { ...BASE, redis: { maintenanceWindow: { day: "SUNDAY", startHour: 24 } } },
    ["redis.maintenanceWindow.startHour:", "from 0 to 23", "(got 24)"],
  ],
  [
    "maintenance hour negative",
    { ...BASE, redis: { maintenanceWindow: { day: "SUNDAY", startHour: -1 } } },
    ["redis.maintenanceWindow.startHour:", "from 0 to 23"],
  ],
  [
    "maintenance hour fraction",
    { ...BASE, redis: { maintenanceWindow: { day: "SUNDAY", startHour: 3.5 } } },
    ["redis.maintenanceWindow.startHour:", "integer"],
  ],
  [
    "maintenance window without its hour",
    { ...BASE, redis: { maintenanceWindow: { day: "SUNDAY" } } },
    ["redis.maintenanceWindow.startHour:", "from 0 to 23"],
  ],
  [
    "maintenance window extra field",
    { ...BASE, redis: { maintenanceWindow: { day: "SUNDAY", startHour: 3, minutes: 30 } } },
    ["redis.maintenanceWindow: unknown field(s) minutes"],
  ],
  [
    "connector overlaps redis",
    { ...BASE, network: { connectorCidr: "10.9.0.0/28" } },
    ["network.connectorCidr:", "must not overlap redis.reservedIpRange"],
  ],
  [
    "subnet overlaps redis",
    { ...BASE, network: { egress: "direct", subnetCidr: "10.9.0.0/24" } },
    ["network.subnetCidr:", "must not overlap redis.reservedIpRange"],
  ],
  ["domain pattern", { ...BASE, loadBalancer: { domains: ["not a domain"] } }, ["loadBalancer.domains.0:", "DNS name"]],
  [
    "wildcard domain",
    { ...BASE, loadBalancer: { domains: ["*.example.com"] } },
    ["loadBalancer.domains.0:", "no wildcard"],
  ],
  [
    "upper-case domain",
    { ...BASE, loadBalancer: { domains: ["Board.Example.com"] } },
    ["loadBalancer.domains.0:", "lower-case"],
  ],
  [
    "single-label domain",
    { ...BASE, loadBalancer: { domains: ["localhost"] } },
    ["loadBalancer.domains.0:", "at least two labels"],
  ],
  [
    "more than 100 domains",
    { ...BASE, loadBalancer: { domains: Array.from({ length: 101 }, (_, i) => `d${i}.example.com`) } },
    ["loadBalancer.domains:", "at most 100"],
  ],
  [
    "repeated domain",
    { ...BASE, loadBalancer: { domains: ["a.example.com", "a.example.com"] } },
    ["loadBalancer.domains:", "must not repeat", "a.example.com"],
  ],
  [
    "cloud armor without load balancer",
    { ...BASE, loadBalancer: { cloudArmor: { enabled: true } } },
    ["loadBalancer.cloudArmor.enabled:", "loadBalancer.domains is non-empty"],
  ],
  [
    "cloud armor interval",
    { ...BASE, loadBalancer: { domains: ["a.example.com"], cloudArmor: { intervalSeconds: 45 } } },
    ["loadBalancer.cloudArmor.intervalSeconds:", "10, 30, 60"],
  ],
  [
    "cloud armor requests",
    { ...BASE, loadBalancer: { domains: ["a.example.com"], cloudArmor: { requestsPerInterval: 0 } } },
    ["loadBalancer.cloudArmor.requestsPerInterval:", "from 1 to 1000000"],
  ],
  ["label key", { ...BASE, labels: { Team: "a" } }, ["labels", "label key"]],
  ["label value", { ...BASE, labels: { team: "A B" } }, ["labels.team:", "label value"]],
  ["state bucket name", { ...BASE, state: { bucket: "My Bucket" } }, ["state.bucket:", "3 to 63 characters"]],
  [
    "state prefix",
    { ...BASE, state: { bucket: "my-bucket", prefix: "/abs" } },
    ["state.prefix:", "relative object path"],
  ],
  [
    "registry keep count",
    { ...BASE, registry: { keepRecentImages: 0 } },
    ["registry.keepRecentImages:", "from 1 to 100"],
  ],
  [
    "notification e-mail",
    { ...BASE, monitoring: { notificationEmails: ["oncall"] } },
    ["monitoring.notificationEmails.0:", "e-mail address", '"oncall"'],
  ],
  [
    "notification e-mails not a list",
    { ...BASE, monitoring: { notificationEmails: "oncall@example.com" } },
    ["monitoring.notificationEmails:", "list of e-mail addresses"],
  ],
  [
    "more than 10 notification e-mails",
    { ...BASE, monitoring: { notificationEmails: Array.from({ length: 11 }, (_, i) => `p${i}@example.com`) } },
    ["monitoring.notificationEmails:", "at most 10"],
  ],
  [
    "repeated notification e-mail",
    { ...BASE, monitoring: { notificationEmails: ["a@example.com", "a@example.com"] } },
    ["monitoring.notificationEmails:", "must not repeat", "a@example.com"],
  ],
  [
    "sidecar switch type",
    { ...BASE, monitoring: { sidecar: { enabled: "yes" } } },
    ["monitoring.sidecar.enabled:", "true or false"],
  ],
  [
    "sidecar image without tag",
    { ...BASE, monitoring: { sidecar: { image: "us-docker.pkg.dev/p/r/sidecar" } } },
    ["monitoring.sidecar.image:", "tag or digest"],
  ],
  [
    "sidecar CPU below Cloud Run's 0.08 vCPU",
    { ...BASE, monitoring: { sidecar: { cpu: 0.05 } } },
    ["monitoring.sidecar.cpu:", "from 0.08 to 0.5, in steps of 0.001", "(got 0.05)"],
  ],
  [
    "sidecar CPU finer than Cloud Run's 0.001 steps",
    { ...BASE, monitoring: { sidecar: { cpu: 0.0805 } } },
    ["monitoring.sidecar.cpu:", "in steps of 0.001", "(got 0.0805)"],
  ],
  [
    "scrape interval below 10 s",
    { ...BASE, monitoring: { sidecar: { scrapeIntervalSeconds: 5 } } },
    ["monitoring.sidecar.scrapeIntervalSeconds:", "from 10 to 300", "(got 5)"],
  ],
  [
    "uptime period",
    { ...BASE, monitoring: { uptimeCheck: { periodSeconds: 120 } } },
    ["monitoring.uptimeCheck.periodSeconds:", "60, 300, 600, 900"],
  ],
  [
    "uptime region",
    { ...BASE, monitoring: { uptimeCheck: { regions: ["USA", "EUROPE", "MARS"] } } },
    ["monitoring.uptimeCheck.regions.2:", "USA, EUROPE, SOUTH_AMERICA, ASIA_PACIFIC"],
  ],
  [
    "fewer than 3 uptime regions",
    { ...BASE, monitoring: { uptimeCheck: { regions: ["USA", "EUROPE"] } } },
    ["monitoring.uptimeCheck.regions:", "at least 3 regions"],
  ],
  [
    "repeated uptime region",
    { ...BASE, monitoring: { uptimeCheck: { regions: ["USA", "USA", "EUROPE"] } } },
    ["monitoring.uptimeCheck.regions:", "must not repeat", "USA"],
  ],
  [
    "instances alert percent",
    { ...BASE, monitoring: { alerts: { instancesPercentOfMax: 101 } } },
    ["monitoring.alerts.instancesPercentOfMax:", "from 10 to 100"],
  ],
  [
    "redis memory alert percent",
    { ...BASE, monitoring: { alerts: { redisMemoryPercent: 5 } } },
    ["monitoring.alerts.redisMemoryPercent:", "from 10 to 100"],
  ],
  [
    "store latency alert",
    { ...BASE, monitoring: { alerts: { storeLatencyP99Ms: 0 } } },
    ["monitoring.alerts.storeLatencyP99Ms:", "from 1 to 10000"],
  ],
  [
    "error log alert",
    { ...BASE, monitoring: { alerts: { errorLogsPerMinute: 0.5 } } },
    ["monitoring.alerts.errorLogsPerMinute:", "integer"],
  ],
  ["unknown monitoring field", { ...BASE, monitoring: { emails: [] } }, ["monitoring: unknown field(s) emails"]],
  [
    "prod with local state (state.bucket null)",
    { ...BASE, environment: "prod", state: { bucket: null } },
    [
      "state.bucket:",
      "in prod (got null)",
      "Redis AUTH string",
      '"whiteboard-test-1-tfstate"',
      "make infra-bootstrap ENV=prod",
    ],
  ],
];

describe("each invalid configuration is refused with a message naming the field and the rule", () => {
  test.each(INVALID)("%s", (_rule, input, fragments) => {
    const message = errorFor(input);
    expect(message).toMatch(/^Invalid infrastructure configuration:\n {2}- /);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  test("every problem is reported at once", () => {
    const message = errorFor({
      ...BASE,
      service: { timeoutSeconds: 0, concurrency: 5000 },
      redis: { memorySizeGb: 0 },
    });
    expect(message).toContain("service.timeoutSeconds:");
    expect(message).toContain("service.concurrency:");
    expect(message).toContain("redis.memorySizeGb:");
  });

  test("the error lists the issues separately", () => {
    try {
      parseInfraConfig({ ...BASE, service: { concurrency: 0, timeoutSeconds: 0 } });
      throw new Error("not rejected");
    } catch (error) {
      expect((error as InfraConfigError).issues).toHaveLength(2);
    }
  });
});

describe("ranges, as properties", () => {
  const rangeCases: Array<[string, (value: number) => InfraConfigInput, number, number]> = [
    ["service.timeoutSeconds", (value) => ({ ...BASE, service: { timeoutSeconds: value } }), 1, 3600],
    ["service.concurrency", (value) => ({ ...BASE, service: { concurrency: value } }), 1, 1000],
    ["redis.memorySizeGb", (value) => ({ ...BASE, redis: { memorySizeGb: value } }), 1, 300],
    [
      "network.connectorMinInstances",
      (value) => ({ ...BASE, network: { connectorMinInstances: value, connectorMaxInstances: 10 } }),
      2,
      9,
    ],
    [
      "network.connectorMaxInstances",
      (value) => ({ ...BASE, network: { connectorMinInstances: 2, connectorMaxInstances: value } }),
      3,
      10,
    ],
    ["service.maxInstances", (value) => ({ ...BASE, service: { maxInstances: value } }), 1, 1000],
    ["redis.maxmemoryPercent", (value) => ({ ...BASE, redis: { maxmemoryPercent: value } }), 20, 100],
    [
      "redis.maintenanceWindow.startHour",
      (value) => ({ ...BASE, redis: { maintenanceWindow: { day: "MONDAY", startHour: value } } }),
      0,
      23,
    ],
    [
      "monitoring.sidecar.scrapeIntervalSeconds",
      (value) => ({ ...BASE, monitoring: { sidecar: { scrapeIntervalSeconds: value } } }),
      10,
      300,
    ],
    [
      "monitoring.alerts.instancesPercentOfMax",
      (value) => ({ ...BASE, monitoring: { alerts: { instancesPercentOfMax: value } } }),
      10,
      100,
    ],
    [
      "monitoring.alerts.redisMemoryPercent",
      (value) => ({ ...BASE, monitoring: { alerts: { redisMemoryPercent: value } } }),
      10,
      100,
    ],
    [
      "monitoring.alerts.storeLatencyP99Ms",
      (value) => ({ ...BASE, monitoring: { alerts: { storeLatencyP99Ms: value } } }),
      1,
      10_000,
    ],
    [
      "monitoring.alerts.errorLogsPerMinute",
      (value) => ({ ...BASE, monitoring: { alerts: { errorLogsPerMinute: value } } }),
      1,
      10_000,
    ],
  ];

  test.each(rangeCases)("%s accepts exactly the integers of its range", (field, make, min, max) => {
    fc.assert(
      fc.property(fc.integer({ min: min - 1000, max: max + 1000 }), (value) => {
        if (value >= min && value <= max) {
          expect(() => parseInfraConfig(make(value))).not.toThrow();
        } else {
          expect(errorFor(make(value))).toContain(`${field}: must be an integer from ${min} to ${max}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("connector names, as properties", () => {
  const alphabet = fc.constantFrom(..."abcxyz0189-_ABZ.".split(""));
  const anyName = fc.string({ unit: alphabet, minLength: 0, maxLength: 30 });

  test("any name outside ^[a-z][-a-z0-9]{0,23}[a-z0-9]$ (or longer than 25) is rejected", () => {
    fc.assert(
      fc.property(
        anyName.filter((name) => !CONNECTOR_NAME.test(name)),
        (name) => {
          expect(errorFor({ ...BASE, network: { connectorName: name } })).toContain("network.connectorName:");
        },
      ),
      { numRuns: 100 },
    );
  });

  test("any name matching the pattern is accepted, and none is longer than 25 characters", () => {
    const valid = fc
      .tuple(
        fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz".split("")),
        fc.string({ unit: fc.constantFrom(..."abz09-".split("")), maxLength: 23 }),
        fc.constantFrom(..."az09".split("")),
      )
      .map(([first, middle, last]) => `${first}${middle}${last}`);
    fc.assert(
      fc.property(valid, (name) => {
        expect(name.length).toBeLessThanOrEqual(25);
        expect(parseInfraConfig({ ...BASE, network: { connectorName: name } }).network.connectorName).toBe(name);
      }),
      { numRuns: 100 },
    );
  });

  test("every derived default connector name is valid", () => {
    const prefix = fc
      .tuple(
        fc.constantFrom(..."abz".split("")),
        fc.string({ unit: fc.constantFrom(..."az09-".split("")), maxLength: 10 }),
        fc.constantFrom(..."az09".split("")),
      )
      .map(([first, middle, last]) => `${first}${middle}${last}`);
    fc.assert(
      fc.property(prefix, fc.constantFrom("dev" as const, "prod" as const), (namePrefix, environment) => {
        expect(CONNECTOR_NAME.test(parseInfraConfig({ ...BASE, namePrefix, environment }).network.connectorName)).toBe(
          true,
        );
      }),
      { numRuns: 100 },
    );
  });
});

describe("CIDR rules, as properties", () => {
  const dotted = (address: number) => [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");

  test("any aligned /28 inside 10.0.0.0/8 is a valid connector range unless it holds the Redis range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 20 - 1 }), (block) => {
        const text = `${dotted(10 * 2 ** 24 + block * 16)}/28`;
        if (text === "10.9.0.0/28") {
          expect(errorFor({ ...BASE, network: { connectorCidr: text } })).toContain(
            "must not overlap redis.reservedIpRange",
          );
        } else {
          expect(parseInfraConfig({ ...BASE, network: { connectorCidr: text } }).network.connectorCidr).toBe(text);
        }
      }),
      { numRuns: 100 },
    );
  });

  test("any /28 with host bits set, or any other prefix length, is rejected", () => {
    const misaligned = fc
      .tuple(fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.integer({ min: 1, max: 15 }))
      .map(([block, offset]) => `${dotted(10 * 2 ** 24 + block * 16 + offset)}/28`);
    const otherPrefix = fc
      .integer({ min: 8, max: 32 })
      .filter((prefix) => prefix !== 28)
      .map((prefix) => `10.0.0.0/${prefix}`);
    fc.assert(
      fc.property(fc.oneof(misaligned, otherPrefix), (text) => {
        expect(errorFor({ ...BASE, network: { connectorCidr: text } })).toContain(
          "network.connectorCidr: must be a private /28 range",
        );
      }),
      { numRuns: 100 },
    );
  });
});

describe("settings from the committed environment files (what infra/main.ts reads)", () => {
  /** A reader of repository files holding only these environment files. */
  const files =
    (byEnvironment: Record<string, unknown>) =>
    (file: string): string => {
      const match = /^infra\/env\/([a-z]+)\.json$/.exec(file);
      const content = match ? byEnvironment[match[1] as string] : undefined;
      if (content === undefined) throw new Error(`ENOENT: no such file ${file}`);
      return typeof content === "string" ? content : JSON.stringify(content);
    };
  const PROD_LB = {
    projectId: "",
    environment: "prod",
    loadBalancer: { domains: ["board.example.com"] },
    state: { bucket: "tf-state-1" },
  };
  const refusal = (env: Record<string, string>, read: (file: string) => string): string => {
    try {
      settingsFromEnv(env, read);
    } catch (error) {
      expect(error).toBeInstanceOf(InfraConfigError);
      return (error as Error).message;
    }
    throw new Error("expected a refusal");
  };

  test("the committed files are valid for each environment and hold only what an operator chose, no copy of a default", () => {
    const repository = (file: string) => fs.readFileSync(path.join(__dirname, "../..", file), "utf8");
    for (const environment of ["dev", "prod"] as const) {
      const written = JSON.parse(repository(`infra/env/${environment}.json`)) as Record<string, unknown>;
      expect(written.projectId).toBe("");
      const settings = settingsFromEnv({ ENVIRONMENT: environment, PROJECT_ID: "p-123456" }, repository);
      const config = parseInfraConfig(settings.inputs[0]);
      expect(config.environment).toBe(environment);
      const defaults = parseInfraConfig({ projectId: "p-123456", environment });
      // Each value the file writes (but the project id placeholder) differs from what the field would be without it.
      const leaves = (value: unknown, prefix: string): Array<[string, unknown]> =>
        value !== null && typeof value === "object" && !Array.isArray(value) && !prefix.endsWith("maintenanceWindow")
          ? Object.entries(value).flatMap(([key, child]) => leaves(child, prefix ? `${prefix}.${key}` : key))
          : [[prefix, value]];
      const at = (root: unknown, dotted: string) =>
        dotted.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
      const copies = leaves(written, "").filter(
        ([leaf, value]) => leaf !== "projectId" && JSON.stringify(at(defaults, leaf)) === JSON.stringify(value),
      );
      expect(copies).toEqual([]);
    }
  });

  test("the file is the source: synth input without any variable but the project id is the file", () => {
    const settings = settingsFromEnv({ ENVIRONMENT: "prod", PROJECT_ID: "p-123456" }, files({ prod: PROD_LB }));
    const config = parseInfraConfig(settings.inputs[0]);
    expect(config.loadBalancer.domains).toEqual(["board.example.com"]);
    expect(config.state.bucket).toBe("tf-state-1");
    expect(config.loadBalancer.cloudArmor.enabled).toBe(true);
    expect(settings.notices).toEqual([]);
  });

  test("PROJECT_ID fills an empty projectId, GOOGLE_CLOUD_PROJECT too; dev is the default; dev,prod gives both", () => {
    const read = files({ dev: { projectId: "" }, prod: { environment: "prod" } });
    expect(
      settingsFromEnv({ PROJECT_ID: "p-123456" }, read).inputs.map((input) => [input.environment, input.projectId]),
    ).toEqual([["dev", "p-123456"]]);
    const both = settingsFromEnv({ GOOGLE_CLOUD_PROJECT: "g-123456", ENVIRONMENT: "dev,prod" }, read);
    expect(both.environments).toEqual(["dev", "prod"]);
    expect(both.inputs.map((input) => input.projectId)).toEqual(["g-123456", "g-123456"]);
  });

  test("a value equal to the file's is accepted", () => {
    const env = {
      ENVIRONMENT: "prod",
      PROJECT_ID: "p-123456",
      DOMAINS: "board.example.com",
      STATE_BUCKET: "tf-state-1",
      REGION: "us-central1",
      DELETION_PROTECTION: "true",
    };
    expect(() => settingsFromEnv(env, files({ prod: PROD_LB }))).not.toThrow();
  });

  test.each<[string, Record<string, string>, string[]]>([
    [
      "DOMAINS",
      { DOMAINS: "other.example.com" },
      ['DOMAINS=["other.example.com"]', 'loadBalancer.domains = ["board.example.com"]', "OVERRIDE=DOMAINS"],
    ],
    [
      "STATE_BUCKET",
      { STATE_BUCKET: "another-bucket" },
      ['STATE_BUCKET="another-bucket"', 'state.bucket = "tf-state-1"'],
    ],
    [
      "IMAGE",
      { IMAGE: "us-docker.pkg.dev/p/r/app:1" },
      ['IMAGE="us-docker.pkg.dev/p/r/app:1"', "service.image = null (built from this repository)"],
    ],
    ["REGION", { REGION: "europe-west1" }, ['REGION="europe-west1"', 'region = "us-central1"']],
    [
      "DELETION_PROTECTION",
      { DELETION_PROTECTION: "false" },
      ["DELETION_PROTECTION=false", "deletionProtection = true"],
    ],
  ])("a contradicting %s is refused, naming both values", (_name, extra, fragments) => {
    const message = refusal({ ENVIRONMENT: "prod", PROJECT_ID: "p-123456", ...extra }, files({ prod: PROD_LB }));
    expect(message).toContain("contradicts the environment file");
    expect(message).toContain("infra/env/prod.json");
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  test("a PROJECT_ID other than the file's non-empty projectId is refused", () => {
    const message = refusal({ PROJECT_ID: "p-654321" }, files({ dev: { projectId: "p-123456" } }));
    expect(message).toContain('PROJECT_ID="p-654321"');
    expect(message).toContain('projectId = "p-123456"');
    // GOOGLE_CLOUD_PROJECT is ambient (gcloud's own setting): it fills, it never contradicts.
    expect(
      settingsFromEnv({ GOOGLE_CLOUD_PROJECT: "g-654321" }, files({ dev: { projectId: "p-123456" } })).inputs[0]
        ?.projectId,
    ).toBe("p-123456");
  });

  test("every contradiction is reported at once", () => {
    const message = refusal(
      { ENVIRONMENT: "prod", PROJECT_ID: "p-123456", DOMAINS: "x.example.com", REGION: "europe-west1" },
      files({ prod: PROD_LB }),
    );
    expect(message).toContain("DOMAINS: contradicts");
    expect(message).toContain("REGION: contradicts");
  });

  test("OVERRIDE lets the named command-line values win for this run, and says so", () => {
    const env = {
      ENVIRONMENT: "prod",
      PROJECT_ID: "p-123456",
      DOMAINS: "other.example.com",
      IMAGE: "us-docker.pkg.dev/p/r/app:1",
      OVERRIDE: "DOMAINS, IMAGE",
    };
    const settings = settingsFromEnv(env, files({ prod: PROD_LB }));
    const config = parseInfraConfig(settings.inputs[0]);
    expect(config.loadBalancer.domains).toEqual(["other.example.com"]);
    expect(config.service.image).toBe("us-docker.pkg.dev/p/r/app:1");
    expect(config.state.bucket).toBe("tf-state-1");
    expect(settings.notices).toHaveLength(2);
    expect(settings.notices[0]).toContain(
      'OVERRIDE=DOMAINS: the command line says DOMAINS=["other.example.com"], infra/env/prod.json says loadBalancer.domains = ["board.example.com"]',
    );
    // An override of one variable does not excuse another.
    expect(refusal({ ...env, OVERRIDE: "DOMAINS" }, files({ prod: PROD_LB }))).toContain("IMAGE: contradicts");
  });

  test("OVERRIDE=DELETION_PROTECTION is how prod is destroyed without editing the file", () => {
    const settings = settingsFromEnv(
      { ENVIRONMENT: "prod", PROJECT_ID: "p-123456", DELETION_PROTECTION: "false", OVERRIDE: "DELETION_PROTECTION" },
      files({ prod: PROD_LB }),
    );
    expect(parseInfraConfig(settings.inputs[0]).deletionProtection).toBe(false);
  });

  test.each<[string, Record<string, string>, Record<string, unknown>, string]>([
    [
      "missing project",
      {},
      { dev: { projectId: "" } },
      "PROJECT_ID: is required: infra/env/dev.json leaves projectId empty",
    ],
    [
      "unknown environment",
      { PROJECT_ID: "p-123456", ENVIRONMENT: "qa" },
      {},
      'ENVIRONMENT: must be dev or prod, or a comma-separated list of them (got "qa")',
    ],
    [
      "bad deletion protection",
      { PROJECT_ID: "p-123456", DELETION_PROTECTION: "no" },
      { dev: {} },
      'DELETION_PROTECTION: must be true or false (got "no")',
    ],
    [
      "INFRA_CONFIG",
      { PROJECT_ID: "p-123456", INFRA_CONFIG: "x.json" },
      { dev: {} },
      "INFRA_CONFIG: is no longer read",
    ],
    ["missing environment file", { PROJECT_ID: "p-123456" }, {}, "infra/env/dev.json: cannot read JSON: ENOENT"],
    [
      "unparsable environment file",
      { PROJECT_ID: "p-123456" },
      { dev: "{not json" },
      "infra/env/dev.json: cannot read JSON",
    ],
    [
      "environment file not an object",
      { PROJECT_ID: "p-123456" },
      { dev: "[1]" },
      "infra/env/dev.json: must hold a JSON object",
    ],
    [
      "environment file for another environment",
      { PROJECT_ID: "p-123456" },
      { dev: { environment: "prod" } },
      'infra/env/dev.json: environment must be "dev" or left out (got "prod")',
    ],
    [
      "invalid field in the file",
      { PROJECT_ID: "p-123456" },
      { dev: { service: { concurrency: 0 } } },
      "infra/env/dev.json: service.concurrency: must be an integer from 1 to 1000",
    ],
    [
      "OVERRIDE of an unknown name",
      { PROJECT_ID: "p-123456", OVERRIDE: "TIMEOUT" },
      { dev: {} },
      'OVERRIDE: "TIMEOUT" is not a setting the command line can give',
    ],
    [
      "OVERRIDE of a variable not given",
      { PROJECT_ID: "p-123456", OVERRIDE: "DOMAINS" },
      { dev: {} },
      "OVERRIDE: names DOMAINS, but DOMAINS is not set",
    ],
  ])("%s is refused", (_name, env, byEnvironment, message) => {
    expect(refusal(env, files(byEnvironment))).toContain(message);
  });
});
