/**
 * Typed, validated configuration of one deployment environment.
 *
 * `parseInfraConfig()` is the only way to obtain an {@link InfraConfig}: it checks every field with zod, fills the
 * environment-dependent defaults, then checks the rules that span several fields. Any problem throws an
 * {@link InfraConfigError} whose message names each field and its allowed range or pattern, before a single construct
 * exists. Constructs receive plain, already-valid values and never read the environment.
 */
import { z } from "zod";
import { cidrsOverlap, isRfc1918, parseCidr } from "./cidr";

/** The environments this app knows. `prod` turns on high availability and deletion protection by default. */
export const ENVIRONMENTS = ["dev", "prod"] as const;
/** One of {@link ENVIRONMENTS}. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** Allowed Cloud Armor rate-limit intervals, in seconds (Cloud Armor rejects any other value). */
export const ARMOR_INTERVALS = [10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600] as const;

/**
 * The Memorystore engines the service can run on:
 * - `memorystore-redis`: Memorystore for Redis, one primary (and a replica with STANDARD_HA), AUTH string, TLS;
 * - `memorystore-redis-cluster`: Memorystore for Redis Cluster, shards of a primary and replicas, IAM authentication,
 *   TLS, reached through Private Service Connect; boards and their channels spread over the shards.
 */
export const REDIS_ENGINES = ["memorystore-redis", "memorystore-redis-cluster"] as const;

/** Node types of `google_redis_cluster.node_type` in provider 6.50.0. */
export const CLUSTER_NODE_TYPES = [
  "REDIS_SHARED_CORE_NANO",
  "REDIS_STANDARD_SMALL",
  "REDIS_HIGHMEM_MEDIUM",
  "REDIS_HIGHMEM_XLARGE",
] as const;

/** A Memorystore for Redis Cluster instance holds at most 250 nodes: shards × (1 + replicas per shard). */
export const CLUSTER_MAX_NODES = 250;

/** Days of a Memorystore weekly maintenance window (`maintenance_policy.weekly_maintenance_window.day`). */
export const MAINTENANCE_DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] as const;

/**
 * Who may invoke the Cloud Run service:
 * - `invoker-check-disabled`: anyone, with Cloud Run's invoker IAM check off (`invoker_iam_disabled`); no IAM binding,
 *   so it works under the Domain Restricted Sharing organization policy.
 * - `all-users-invoker`: anyone, through `roles/run.invoker` granted to `allUsers` (refused under Domain Restricted
 *   Sharing; use it where an organization policy requires the invoker check).
 * - `none`: only principals someone grants `roles/run.invoker`; anonymous users, the load balancer's included, get 403.
 */
export const PUBLIC_ACCESS = ["invoker-check-disabled", "all-users-invoker", "none"] as const;

/** Regions uptime checks can run from (the API's `UptimeCheckRegion`); a check needs at least three. */
export const UPTIME_REGIONS = [
  "USA",
  "EUROPE",
  "SOUTH_AMERICA",
  "ASIA_PACIFIC",
  "USA_OREGON",
  "USA_IOWA",
  "USA_VIRGINIA",
] as const;

/** Uptime check periods the API accepts, in seconds. */
export const UPTIME_PERIODS = [60, 300, 600, 900] as const;

/**
 * The Managed Service for Prometheus sidecar for Cloud Run, pinned: the version Google's own sample service
 * (GoogleCloudPlatform/run-gmp-sidecar, run-service-simple.yaml) runs.
 */
export const DEFAULT_SIDECAR_IMAGE =
  "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0";

/** Cloud Run CPU limits accepted by the provider (`resources.limits.cpu`). */
export const CPU_VALUES = ["1", "2", "4", "8"] as const;

/**
 * Environment variable names the stacks set themselves (or Cloud Run reserves); `service.env` may not use them, nor any
 * name starting with RESERVED_ENV_PREFIX: the stacks own the whole Redis connection (engine, address, TLS, AUTH, WAIT).
 */
export const RESERVED_ENV_NAMES = [
  "PORT",
  "K_SERVICE",
  "K_REVISION",
  "K_CONFIGURATION",
  "GCE_METADATA_HOST",
  "REQUEST_TIMEOUT_SECONDS",
  "MAX_SOCKETS",
  "CLIENT_ADDRESS_HOP",
  "ALLOWED_ORIGINS",
  "LOG_LEVEL",
  "NODE_ENV",
  "INSTANCE_ID",
  "METRICS_PORT",
  "METRICS_FINAL_SCRAPE_SECONDS",
] as const;
export const RESERVED_ENV_PREFIX = "REDIS_";

/** Thrown when the configuration is invalid. `issues` lists every problem as `field: message`. */
export class InfraConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`Invalid infrastructure configuration:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
    this.name = "InfraConfigError";
  }
}

/** Runs a command-line entry point: an invalid configuration prints its message and exits 1, without a stack. */
export function runReportingConfigErrors(main: () => void): void {
  try {
    main();
  } catch (error) {
    if (error instanceof InfraConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Field helpers: every message states the allowed range or pattern, so the error names both field and rule.
// ---------------------------------------------------------------------------------------------------------------

const int = (min: number, max: number) => {
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const pattern = (regex: RegExp, description: string) =>
  z.string({ error: description }).regex(regex, { error: description });

const bool = () => z.boolean({ error: "must be true or false" });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

const cidr = (description: string, check: (prefix: number) => boolean) =>
  z.string({ error: `must be ${description}` }).refine(
    (text) => {
      const parsed = parseCidr(text);
      return parsed !== undefined && isRfc1918(parsed) && check(parsed.prefix);
    },
    { error: `must be ${description} (an aligned IPv4 block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)` },
  );

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+[0-9]{1,2}$/;
const NAME_PREFIX = /^[a-z](?:[a-z0-9-]{0,10}[a-z0-9])?$/;
/** Serverless VPC Access connector names: the API pattern, which also caps the length at 25. */
export const CONNECTOR_NAME = /^[a-z][-a-z0-9]{0,23}[a-z0-9]$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
const STATE_PREFIX = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const MEMORY = /^[1-9][0-9]*(Mi|Gi)$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** An e-mail address as Cloud Monitoring's email channel takes it: local part, @, a domain with a dot. */
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** Lower-case DNS name with at least two labels; no wildcard (Google-managed certificates refuse them). */
export const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An origin exactly as the service accepts it: what `new URL(value).origin` gives back unchanged. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
  } catch {
    return false;
  }
}
/** A container image reference with an explicit tag or digest. */
export const IMAGE =
  /^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

const DESCRIPTIONS = {
  projectId:
    "6 to 30 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen",
  region: "a Google Cloud region such as us-central1 or europe-west1",
  namePrefix:
    "1 to 12 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen",
  connectorName:
    "1 to 25 characters matching ^[a-z][-a-z0-9]{0,23}[a-z0-9]$ (lower-case letter first, lower-case letters, digits and hyphens, no trailing hyphen)",
  bucket:
    "a Cloud Storage bucket name: 3 to 63 characters of lower-case letters, digits, dots, hyphens and underscores",
  statePrefix: "a relative object path of letters, digits, dots, hyphens and underscores separated by single slashes",
  memory: "a whole number of Mi or Gi such as 512Mi or 2Gi",
  image: "a container image reference with a tag or digest, e.g. us-docker.pkg.dev/project/repo/image:tag",
  domain: "a lower-case DNS name with at least two labels and no wildcard, e.g. board.example.com",
  origin:
    "an origin such as https://board.example.com (http or https, host and optional non-default port, no path or trailing slash)",
  envName: "an upper-case environment variable name matching ^[A-Z_][A-Z0-9_]*$",
  email: "an e-mail address such as oncall@example.com",
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Input schema: what a user may write (every field optional except projectId).
// ---------------------------------------------------------------------------------------------------------------

const networkInput = z.strictObject({
  egress: oneOf(["connector", "direct"]).optional(),
  vpcEgress: oneOf(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"]).optional(),
  connectorName: pattern(CONNECTOR_NAME, `must be ${DESCRIPTIONS.connectorName}`).optional(),
  connectorCidr: cidr("a private /28 range", (prefix) => prefix === 28).optional(),
  connectorMinInstances: int(2, 9).optional(),
  connectorMaxInstances: int(3, 10).optional(),
  connectorMachineType: oneOf(["e2-micro", "f1-micro", "e2-standard-4"]).optional(),
  subnetCidr: cidr(
    "a private range of /26 or larger (prefix length 8 to 26)",
    (prefix) => prefix >= 8 && prefix <= 26,
  ).optional(),
});

const redisInput = z.strictObject({
  engine: oneOf(REDIS_ENGINES).optional(),
  tier: oneOf(["BASIC", "STANDARD_HA"]).optional(),
  memorySizeGb: int(1, 300).optional(),
  version: oneOf(["REDIS_7_2", "REDIS_7_0"]).optional(),
  reservedIpRange: cidr("a private /29 range", (prefix) => prefix === 29).optional(),
  persistence: oneOf(["DISABLED", "RDB", "AOF"]).optional(),
  rdbSnapshotPeriod: oneOf(["ONE_HOUR", "SIX_HOURS", "TWELVE_HOURS", "TWENTY_FOUR_HOURS"]).optional(),
  // Memorystore accepts maxmemory-gb down to 20% of the capacity; 100 leaves it at the capacity (its default).
  maxmemoryPercent: int(20, 100).optional(),
  maintenanceWindow: z
    .strictObject(
      { day: oneOf(MAINTENANCE_DAYS), startHour: int(0, 23) },
      { error: "must be null (Google picks the time) or an object { day, startHour } (UTC)" },
    )
    .nullable()
    .optional(),
  // Settings of the memorystore-redis-cluster engine (read only with it).
  cluster: z
    .strictObject({
      shardCount: int(1, CLUSTER_MAX_NODES).optional(),
      nodeType: oneOf(CLUSTER_NODE_TYPES).optional(),
      replicaCount: int(0, 2).optional(),
      pscSubnetCidr: cidr("a private /29 range", (prefix) => prefix === 29).optional(),
    })
    .optional(),
});

const serviceInput = z.strictObject({
  // null: build this repository (the same as leaving it out; written so a file can say so).
  image: pattern(IMAGE, `must be ${DESCRIPTIONS.image}`).nullable().optional(),
  // Cloud Run's range. The service gets the same value as REQUEST_TIMEOUT_SECONDS and asks clients to reconnect
  // shortly before Cloud Run cuts their WebSocket.
  timeoutSeconds: int(1, 3600).optional(),
  concurrency: int(1, 1000).optional(),
  minInstances: int(0, 1000).optional(),
  maxInstances: int(1, 1000).optional(),
  cpu: oneOf(CPU_VALUES).optional(),
  memory: pattern(MEMORY, `must be ${DESCRIPTIONS.memory}`).optional(),
  cpuAlwaysAllocated: bool().optional(),
  startupCpuBoost: bool().optional(),
  sessionAffinity: bool().optional(),
  publicAccess: oneOf(PUBLIC_ACCESS).optional(),
  defaultUriDisabled: bool().optional(),
  logLevel: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  allowedOrigins: z
    .array(
      z
        .string({ error: `must be ${DESCRIPTIONS.origin}` })
        .refine(isOrigin, { error: `must be ${DESCRIPTIONS.origin}` }),
      {
        error: "must be a list of origins",
      },
    )
    .max(20, { error: "must hold at most 20 origins" })
    .optional(),
  env: z
    .record(pattern(ENV_NAME, `must be ${DESCRIPTIONS.envName}`), z.string({ error: "must be a string" }), {
      error: (issue) => (issue.code === "invalid_type" ? "must be an object of string values" : undefined),
    })
    .optional(),
});

const cloudArmorInput = z.strictObject({
  enabled: bool().optional(),
  requestsPerInterval: int(1, 1_000_000).optional(),
  intervalSeconds: z
    .number({ error: `must be one of ${ARMOR_INTERVALS.join(", ")}` })
    .refine((value) => (ARMOR_INTERVALS as readonly number[]).includes(value), {
      error: `must be one of ${ARMOR_INTERVALS.join(", ")}`,
    })
    .optional(),
});

const loadBalancerInput = z.strictObject({
  domains: z
    .array(pattern(DOMAIN, `must be ${DESCRIPTIONS.domain}`), { error: "must be a list of domain names" })
    .max(100, { error: "must hold at most 100 domains (the limit of a Google-managed certificate)" })
    .optional(),
  cloudArmor: cloudArmorInput.optional(),
});

const monitoringInput = z.strictObject({
  notificationEmails: z
    .array(pattern(EMAIL, `must be ${DESCRIPTIONS.email}`), { error: "must be a list of e-mail addresses" })
    .max(10, { error: "must hold at most 10 addresses" })
    .optional(),
  sidecar: z
    .strictObject({
      enabled: bool().optional(),
      image: pattern(IMAGE, `must be ${DESCRIPTIONS.image}`).optional(),
      scrapeIntervalSeconds: int(10, 300).optional(),
    })
    .optional(),
  uptimeCheck: z
    .strictObject({
      periodSeconds: z
        .number({ error: `must be one of ${UPTIME_PERIODS.join(", ")}` })
        .refine((value) => (UPTIME_PERIODS as readonly number[]).includes(value), {
          error: `must be one of ${UPTIME_PERIODS.join(", ")}`,
        })
        .optional(),
      regions: z
        .array(oneOf(UPTIME_REGIONS), { error: `must be a list of regions (${UPTIME_REGIONS.join(", ")})` })
        .min(3, { error: "must name at least 3 regions (an uptime check runs from at least three)" })
        .optional(),
    })
    .optional(),
  alerts: z
    .strictObject({
      instancesPercentOfMax: int(10, 100).optional(),
      redisMemoryPercent: int(10, 100).optional(),
      storeLatencyP99Ms: int(1, 10_000).optional(),
      errorLogsPerMinute: int(1, 10_000).optional(),
    })
    .optional(),
});

/** The configuration a user may write. Every field but `projectId` is optional; see {@link InfraConfig} for defaults. */
export const infraConfigInputSchema = z.strictObject({
  projectId: pattern(PROJECT_ID, `must be ${DESCRIPTIONS.projectId}`),
  region: pattern(REGION, `must be ${DESCRIPTIONS.region}`).optional(),
  environment: oneOf(ENVIRONMENTS).optional(),
  namePrefix: pattern(NAME_PREFIX, `must be ${DESCRIPTIONS.namePrefix}`).optional(),
  deletionProtection: bool().optional(),
  labels: z
    .record(
      pattern(
        LABEL_KEY,
        "must be a label key: 1 to 63 lower-case letters, digits, underscores or hyphens, starting with a letter",
      ),
      pattern(LABEL_VALUE, "must be a label value: at most 63 lower-case letters, digits, underscores or hyphens"),
      { error: (issue) => (issue.code === "invalid_type" ? "must be an object of label values" : undefined) },
    )
    .optional(),
  state: z
    .strictObject({
      // null: local state files (the same as leaving it out).
      bucket: pattern(BUCKET, `must be ${DESCRIPTIONS.bucket}`).nullable().optional(),
      prefix: pattern(STATE_PREFIX, `must be ${DESCRIPTIONS.statePrefix}`).optional(),
    })
    .optional(),
  network: networkInput.optional(),
  redis: redisInput.optional(),
  service: serviceInput.optional(),
  loadBalancer: loadBalancerInput.optional(),
  registry: z.strictObject({ keepRecentImages: int(1, 100).optional() }).optional(),
  monitoring: monitoringInput.optional(),
});

/** What a user may write: the input type of {@link infraConfigInputSchema}. */
export type InfraConfigInput = z.input<typeof infraConfigInputSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Resolved configuration: every field present, defaults applied.
// ---------------------------------------------------------------------------------------------------------------

/** Network settings. */
export interface NetworkConfig {
  /**
   * How Cloud Run reaches the VPC (and so Redis): `connector` (a Serverless VPC Access connector, the default) or
   * `direct` (Direct VPC egress into a dedicated subnet, Google's current recommendation).
   * @default "connector"
   */
  readonly egress: "connector" | "direct";
  /**
   * Which outbound traffic goes through the VPC: `PRIVATE_RANGES_ONLY` (only RFC 1918 destinations such as Redis) or
   * `ALL_TRAFFIC`.
   * @default "PRIVATE_RANGES_ONLY"
   */
  readonly vpcEgress: "PRIVATE_RANGES_ONLY" | "ALL_TRAFFIC";
  /**
   * Connector name; at most 25 characters matching `^[a-z][-a-z0-9]{0,23}[a-z0-9]$`.
   * @default `${namePrefix}-${environment}`
   */
  readonly connectorName: string;
  /**
   * The connector's own /28 range; nothing else may use it.
   * @default "10.8.0.0/28"
   */
  readonly connectorCidr: string;
  /** Connector instances kept running, 2 to 9, lower than `connectorMaxInstances`. @default 2 */
  readonly connectorMinInstances: number;
  /** Connector autoscaling ceiling, 3 to 10. @default 3 */
  readonly connectorMaxInstances: number;
  /** Connector VM type: `e2-micro`, `f1-micro` or `e2-standard-4`. @default "e2-micro" */
  readonly connectorMachineType: "e2-micro" | "f1-micro" | "e2-standard-4";
  /**
   * Range of the subnet Direct VPC egress takes addresses from (created only when `egress` is `direct`);
   * /26 or larger.
   * @default "10.10.0.0/24"
   */
  readonly subnetCidr: string;
}

/** Memorystore settings. */
export interface RedisConfig {
  /**
   * Which Memorystore (see {@link REDIS_ENGINES}): `memorystore-redis` (one primary; the fields `tier` to
   * `maxmemoryPercent` apply) or `memorystore-redis-cluster` (shards; `cluster` applies).
   * @default "memorystore-redis"
   */
  readonly engine: (typeof REDIS_ENGINES)[number];
  /** `BASIC` (one node) or `STANDARD_HA` (primary and replica in two zones). @default dev "BASIC", prod "STANDARD_HA" */
  readonly tier: "BASIC" | "STANDARD_HA";
  /** Capacity in GiB, 1 to 300. @default 1 */
  readonly memorySizeGb: number;
  /** Redis version: `REDIS_7_2` or `REDIS_7_0`. @default "REDIS_7_2" */
  readonly version: "REDIS_7_2" | "REDIS_7_0";
  /** The /29 the instance takes its addresses from (direct peering); must not overlap other ranges. @default "10.9.0.0/29" */
  readonly reservedIpRange: string;
  /** `RDB` snapshots, `AOF` (the cluster engine only) or `DISABLED`. @default dev "DISABLED", prod "RDB" */
  readonly persistence: "DISABLED" | "RDB" | "AOF";
  /** Snapshot period when `persistence` is `RDB`. @default "ONE_HOUR" */
  readonly rdbSnapshotPeriod: "ONE_HOUR" | "SIX_HOURS" | "TWELVE_HOURS" | "TWENTY_FOUR_HOURS";
  /**
   * `maxmemory-gb` as a percentage of `memorySizeGb`, 20 to 100 (rounded down to 0.1 GB). Replication (failover,
   * scaling, upgrades of STANDARD_HA) and the fork of RDB snapshots need memory beyond the data; Memorystore advises
   * 80%. 100 leaves maxmemory at the capacity (no `maxmemory-gb` is set).
   * @default 80 with STANDARD_HA or RDB, else 100
   */
  readonly maxmemoryPercent: number;
  /**
   * Weekly maintenance window (one hour, UTC) or `null` to let Google pick.
   * @default prod { day: "SUNDAY", startHour: 3 }, dev null
   */
  readonly maintenanceWindow: MaintenanceWindow | null;
  /** The `memorystore-redis-cluster` engine's shape and network. */
  readonly cluster: ClusterConfig;
}

/** Memorystore for Redis Cluster settings (used with `redis.engine = "memorystore-redis-cluster"`). */
export interface ClusterConfig {
  /** Shards (one primary each), 1 to 250; shards × (1 + replicaCount) at most 250. @default 3 */
  readonly shardCount: number;
  /**
   * Node type: `REDIS_SHARED_CORE_NANO` (1.4 GB, no SLA: development), `REDIS_STANDARD_SMALL` (6.5 GB, 2 vCPU),
   * `REDIS_HIGHMEM_MEDIUM` (13 GB), `REDIS_HIGHMEM_XLARGE` (58 GB).
   * @default dev "REDIS_SHARED_CORE_NANO", prod "REDIS_STANDARD_SMALL"
   */
  readonly nodeType: (typeof CLUSTER_NODE_TYPES)[number];
  /** Replicas per shard, 0 to 2 (a shard without one has no failover and no SLA). @default dev 0, prod 1 */
  readonly replicaCount: number;
  /** The /29 subnet Private Service Connect takes the cluster's endpoint addresses from. @default "10.9.0.8/29" */
  readonly pscSubnetCidr: string;
}

/** A weekly one-hour Memorystore maintenance window starting at `startHour`:00 UTC on `day`. */
export interface MaintenanceWindow {
  /** Day of the week. */
  readonly day: (typeof MAINTENANCE_DAYS)[number];
  /** Hour (UTC) the window starts, 0 to 23. */
  readonly startHour: number;
}

/** Cloud Run service settings. */
export interface ServiceConfig {
  /** A prebuilt image to deploy instead of building this repository. @default undefined (build with Cloud Build) */
  readonly image: string | undefined;
  /**
   * Request timeout in seconds, 1 to 3600. WebSockets are cut at this age and clients reconnect; also passed to
   * the service as REQUEST_TIMEOUT_SECONDS.
   * @default 3600
   */
  readonly timeoutSeconds: number;
  /** Maximum concurrent requests (open WebSockets) per instance, 1 to 1000. @default 250 */
  readonly concurrency: number;
  /** Minimum instances, 0 to 1000, at most `maxInstances`. @default dev 0, prod 1 */
  readonly minInstances: number;
  /** Maximum instances, 1 to 1000. @default dev 3, prod 20 */
  readonly maxInstances: number;
  /** CPU limit per instance: "1", "2", "4" or "8". @default "1" */
  readonly cpu: (typeof CPU_VALUES)[number];
  /**
   * Memory limit per instance, 512Mi to 32Gi. 4 CPU need at least 2Gi and 8 CPU 4Gi; more than 4Gi needs 2 CPU, more
   * than 8Gi 4 CPU, more than 16Gi 8 CPU.
   * @default "512Mi"
   */
  readonly memory: string;
  /** Keep CPU allocated outside requests (instance-based billing). @default dev false, prod true */
  readonly cpuAlwaysAllocated: boolean;
  /** Boost CPU while an instance starts. @default true */
  readonly startupCpuBoost: boolean;
  /** Cloud Run session affinity (best effort; clients use WebSocket only). @default true */
  readonly sessionAffinity: boolean;
  /**
   * Who may invoke the service (see {@link PUBLIC_ACCESS}): `invoker-check-disabled` (public, no IAM binding),
   * `all-users-invoker` (public through `allUsers`) or `none`.
   * @default "invoker-check-disabled"
   */
  readonly publicAccess: (typeof PUBLIC_ACCESS)[number];
  /**
   * Turn off the run.app URL (`default_uri_disabled`, a Beta field of the provider: managed through google-beta).
   * Needs the load balancer, the only way in once it is off.
   * @default false
   */
  readonly defaultUriDisabled: boolean;
  /** LOG_LEVEL for the service. @default "info" */
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Origins allowed besides https://<each load balancer domain>. @default [] */
  readonly allowedOrigins: readonly string[];
  /** Extra environment variables (e.g. MAX_STROKES_PER_BOARD); reserved names are refused. @default {} */
  readonly env: Readonly<Record<string, string>>;
}

/** Cloud Armor settings (needs the load balancer). */
export interface CloudArmorConfig {
  /**
   * Attach a Cloud Armor policy with a per-client-IP throttle to the backend service.
   * @default true in prod when the load balancer exists, else false
   */
  readonly enabled: boolean;
  /** Requests allowed per client IP per interval, 1 to 1,000,000; more get HTTP 429. @default 300 */
  readonly requestsPerInterval: number;
  /** Interval in seconds, one of 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600. @default 60 */
  readonly intervalSeconds: number;
}

/** External HTTPS load balancer settings. */
export interface LoadBalancerConfig {
  /** Domains served with a Google-managed certificate; the load balancer exists only when this is non-empty. @default [] */
  readonly domains: readonly string[];
  /** Optional Cloud Armor policy. */
  readonly cloudArmor: CloudArmorConfig;
}

/** Metrics, dashboard, alerts and uptime check. */
export interface MonitoringConfig {
  /**
   * Who is told when an alert opens or closes: one e-mail notification channel each (at most 10). Empty: the alert
   * policies still exist and open incidents in the console, but notify nobody.
   * @default []
   */
  readonly notificationEmails: readonly string[];
  /** The Managed Service for Prometheus sidecar that sends the service's metrics to Cloud Monitoring. */
  readonly sidecar: {
    /** Run the sidecar (a second container of the service). Without it the custom metrics stay inside the instance. @default true */
    readonly enabled: boolean;
    /** Its image, pinned. @default {@link DEFAULT_SIDECAR_IMAGE} */
    readonly image: string;
    /** How often it scrapes the service's metrics, 10 to 300 seconds (each sample is billed). @default 30 */
    readonly scrapeIntervalSeconds: number;
  };
  /** The uptime check of GET /healthz (on the load balancer's first domain, else the run.app URL). */
  readonly uptimeCheck: {
    /** 60, 300, 600 or 900 seconds. @default 60 */
    readonly periodSeconds: number;
    /** Where it runs from: at least 3 of {@link UPTIME_REGIONS}. @default ["USA", "EUROPE", "ASIA_PACIFIC"] */
    readonly regions: readonly (typeof UPTIME_REGIONS)[number][];
  };
  /** Alert thresholds. */
  readonly alerts: {
    /** Instances running, as a percentage of `service.maxInstances`, that opens an alert (10 to 100). @default 80 */
    readonly instancesPercentOfMax: number;
    /** Redis memory usage ratio, in percent, that opens an alert (10 to 100). @default 80 */
    readonly redisMemoryPercent: number;
    /** p99 of the service's store calls, in ms, sustained for 5 minutes, that opens an alert (1 to 10,000). @default 250 */
    readonly storeLatencyP99Ms: number;
    /** Log entries of severity ERROR or worse per minute, sustained for 5 minutes, that open an alert (1 to 10,000). @default 10 */
    readonly errorLogsPerMinute: number;
  };
}

/** The complete, validated configuration of one environment. */
export interface InfraConfig {
  /** Google Cloud project id (required). */
  readonly projectId: string;
  /** Region of every regional resource. @default "us-central1" */
  readonly region: string;
  /** `dev` or `prod`. @default "dev" */
  readonly environment: Environment;
  /** Prefix of every resource name, 1 to 12 characters. @default "whiteboard" */
  readonly namePrefix: string;
  /** Protect the Cloud Run service (deletion_protection) and Redis (prevent_destroy) from deletion. @default environment === "prod" */
  readonly deletionProtection: boolean;
  /** Labels on every resource that takes labels (merged with app, environment and managed-by). @default {} */
  readonly labels: Readonly<Record<string, string>>;
  /** Terraform state: a GCS bucket (must exist) or, when unset, local files. */
  readonly state: { readonly bucket: string | undefined; readonly prefix: string };
  /** Network settings. */
  readonly network: NetworkConfig;
  /** Redis settings. */
  readonly redis: RedisConfig;
  /** Cloud Run settings. */
  readonly service: ServiceConfig;
  /** Load balancer settings. */
  readonly loadBalancer: LoadBalancerConfig;
  /** Artifact Registry settings: how many recent image versions the cleanup policy keeps, 1 to 100. @default 10 */
  readonly registry: { readonly keepRecentImages: number };
  /** Metrics, dashboard, alerts and uptime check. */
  readonly monitoring: MonitoringConfig;
}

/** Base name of every resource of an environment: `${namePrefix}-${environment}`. */
export function baseName(config: Pick<InfraConfig, "namePrefix" | "environment">): string {
  return `${config.namePrefix}-${config.environment}`;
}

/** Memory quantity in MiB (input already matched {@link MEMORY}). */
function memoryMi(memory: string): number {
  const value = Number.parseInt(memory, 10);
  return memory.endsWith("Gi") ? value * 1024 : value;
}

/** Fields that existed once, and what replaced them (named in the "unknown field" message). */
const REPLACED_FIELDS: Readonly<Record<string, string>> = {
  "service.publicInvoker":
    'service.publicInvoker was replaced by service.publicAccess: true is now "invoker-check-disabled" (or "all-users-invoker"), false is "none"',
};

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key) => String(key)).join(".") || "(root)";
}

/**
 * Validates `input` and returns the complete configuration with defaults applied.
 * @throws InfraConfigError naming every invalid field and its allowed range or pattern.
 */
export function parseInfraConfig(input: unknown): InfraConfig {
  const parsed = infraConfigInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new InfraConfigError(
      parsed.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
          const hints = issue.keys
            .map((key) => REPLACED_FIELDS[[...issue.path, key].join(".")])
            .filter((hint): hint is string => hint !== undefined);
          return `${formatPath(issue.path)}: unknown field(s) ${issue.keys.join(", ")}${hints.length > 0 ? ` (${hints.join("; ")})` : ""}`;
        }
        if (issue.code === "invalid_key") {
          // A record key (environment variable or label name) failed its pattern.
          return `${formatPath(issue.path)}: key ${issue.issues[0]?.message ?? "is invalid"}`;
        }
        const got = valueAt(input, issue.path);
        return `${formatPath(issue.path)}: ${issue.message}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}`;
      }),
    );
  }
  const value = parsed.data;
  const environment = value.environment ?? "dev";
  const prod = environment === "prod";
  const namePrefix = value.namePrefix ?? "whiteboard";
  const redisTier = value.redis?.tier ?? (prod ? "STANDARD_HA" : "BASIC");
  const redisPersistence = value.redis?.persistence ?? (prod ? "RDB" : "DISABLED");
  const domains = value.loadBalancer?.domains ?? [];

  const config: InfraConfig = {
    projectId: value.projectId,
    region: value.region ?? "us-central1",
    environment,
    namePrefix,
    deletionProtection: value.deletionProtection ?? prod,
    labels: value.labels ?? {},
    state: { bucket: value.state?.bucket ?? undefined, prefix: value.state?.prefix ?? "whiteboard" },
    network: {
      egress: value.network?.egress ?? "connector",
      vpcEgress: value.network?.vpcEgress ?? "PRIVATE_RANGES_ONLY",
      connectorName: value.network?.connectorName ?? `${namePrefix}-${environment}`,
      connectorCidr: value.network?.connectorCidr ?? "10.8.0.0/28",
      connectorMinInstances: value.network?.connectorMinInstances ?? 2,
      connectorMaxInstances: value.network?.connectorMaxInstances ?? 3,
      connectorMachineType: value.network?.connectorMachineType ?? "e2-micro",
      subnetCidr: value.network?.subnetCidr ?? "10.10.0.0/24",
    },
    redis: {
      engine: value.redis?.engine ?? "memorystore-redis",
      tier: redisTier,
      memorySizeGb: value.redis?.memorySizeGb ?? 1,
      version: value.redis?.version ?? "REDIS_7_2",
      reservedIpRange: value.redis?.reservedIpRange ?? "10.9.0.0/29",
      persistence: redisPersistence,
      rdbSnapshotPeriod: value.redis?.rdbSnapshotPeriod ?? "ONE_HOUR",
      maxmemoryPercent:
        value.redis?.maxmemoryPercent ?? (redisTier === "STANDARD_HA" || redisPersistence === "RDB" ? 80 : 100),
      maintenanceWindow:
        value.redis?.maintenanceWindow === undefined
          ? prod
            ? { day: "SUNDAY", startHour: 3 }
            : null
          : value.redis.maintenanceWindow,
      cluster: {
        shardCount: value.redis?.cluster?.shardCount ?? 3,
        nodeType: value.redis?.cluster?.nodeType ?? (prod ? "REDIS_STANDARD_SMALL" : "REDIS_SHARED_CORE_NANO"),
        replicaCount: value.redis?.cluster?.replicaCount ?? (prod ? 1 : 0),
        pscSubnetCidr: value.redis?.cluster?.pscSubnetCidr ?? "10.9.0.8/29",
      },
    },
    service: {
      image: value.service?.image ?? undefined,
      timeoutSeconds: value.service?.timeoutSeconds ?? 3600,
      concurrency: value.service?.concurrency ?? 250,
      minInstances: value.service?.minInstances ?? (prod ? 1 : 0),
      maxInstances: value.service?.maxInstances ?? (prod ? 20 : 3),
      cpu: value.service?.cpu ?? "1",
      memory: value.service?.memory ?? "512Mi",
      cpuAlwaysAllocated: value.service?.cpuAlwaysAllocated ?? prod,
      startupCpuBoost: value.service?.startupCpuBoost ?? true,
      sessionAffinity: value.service?.sessionAffinity ?? true,
      publicAccess: value.service?.publicAccess ?? "invoker-check-disabled",
      defaultUriDisabled: value.service?.defaultUriDisabled ?? false,
      logLevel: value.service?.logLevel ?? "info",
      allowedOrigins: value.service?.allowedOrigins ?? [],
      env: value.service?.env ?? {},
    },
    loadBalancer: {
      domains,
      cloudArmor: {
        enabled: value.loadBalancer?.cloudArmor?.enabled ?? (prod && domains.length > 0),
        requestsPerInterval: value.loadBalancer?.cloudArmor?.requestsPerInterval ?? 300,
        intervalSeconds: value.loadBalancer?.cloudArmor?.intervalSeconds ?? 60,
      },
    },
    registry: { keepRecentImages: value.registry?.keepRecentImages ?? 10 },
    monitoring: {
      notificationEmails: value.monitoring?.notificationEmails ?? [],
      sidecar: {
        enabled: value.monitoring?.sidecar?.enabled ?? true,
        image: value.monitoring?.sidecar?.image ?? DEFAULT_SIDECAR_IMAGE,
        scrapeIntervalSeconds: value.monitoring?.sidecar?.scrapeIntervalSeconds ?? 30,
      },
      uptimeCheck: {
        periodSeconds: value.monitoring?.uptimeCheck?.periodSeconds ?? 60,
        regions: value.monitoring?.uptimeCheck?.regions ?? ["USA", "EUROPE", "ASIA_PACIFIC"],
      },
      alerts: {
        instancesPercentOfMax: value.monitoring?.alerts?.instancesPercentOfMax ?? 80,
        redisMemoryPercent: value.monitoring?.alerts?.redisMemoryPercent ?? 80,
        storeLatencyP99Ms: value.monitoring?.alerts?.storeLatencyP99Ms ?? 250,
        errorLogsPerMinute: value.monitoring?.alerts?.errorLogsPerMinute ?? 10,
      },
    },
  };

  const issues = crossFieldIssues(config);
  if (issues.length > 0) throw new InfraConfigError(issues);
  return config;
}

/** Rules that involve more than one field (or a derived default). Returns `field: message` strings. */
function crossFieldIssues(config: InfraConfig): string[] {
  const issues: string[] = [];
  const { network, redis, service, loadBalancer } = config;

  if (network.connectorMinInstances >= network.connectorMaxInstances) {
    issues.push(
      `network.connectorMinInstances: must be lower than network.connectorMaxInstances (got ${network.connectorMinInstances} and ${network.connectorMaxInstances})`,
    );
  }
  if (service.minInstances > service.maxInstances) {
    issues.push(
      `service.minInstances: must be at most service.maxInstances (got ${service.minInstances} and ${service.maxInstances})`,
    );
  }

  const memory = memoryMi(service.memory);
  if (memory < 512 || memory > 32 * 1024) {
    issues.push(`service.memory: must be from 512Mi to 32Gi (got "${service.memory}")`);
  }
  const cpu = Number(service.cpu);
  const minMemoryForCpu: Record<number, number> = { 1: 512, 2: 512, 4: 2048, 8: 4096 };
  if (memory < (minMemoryForCpu[cpu] ?? 0)) {
    issues.push(
      `service.memory: ${cpu} CPU need at least ${(minMemoryForCpu[cpu] ?? 0) / 1024}Gi (got "${service.memory}")`,
    );
  }
  // Cloud Run: above 4 GiB needs 2 CPU, above 8 GiB 4 CPU, above 16 GiB 6 CPU (so 8 here: 6 is not offered).
  const minCpuForMemory = memory > 16 * 1024 ? 8 : memory > 8 * 1024 ? 4 : memory > 4 * 1024 ? 2 : 1;
  if (cpu < minCpuForMemory) {
    issues.push(
      `service.cpu: ${service.memory} of memory needs at least ${minCpuForMemory} CPU (got "${service.cpu}")`,
    );
  }

  for (const name of Object.keys(service.env)) {
    if ((RESERVED_ENV_NAMES as readonly string[]).includes(name) || name.startsWith(RESERVED_ENV_PREFIX)) {
      issues.push(
        `service.env.${name}: is reserved (set by the stack or by Cloud Run); reserved names are ${RESERVED_ENV_NAMES.join(", ")} and every ${RESERVED_ENV_PREFIX}*`,
      );
    }
  }

  const duplicates = loadBalancer.domains.filter((domain, index) => loadBalancer.domains.indexOf(domain) !== index);
  if (duplicates.length > 0) {
    issues.push(
      `loadBalancer.domains: must not repeat a domain (got ${[...new Set(duplicates)].join(", ")} more than once)`,
    );
  }
  if (loadBalancer.cloudArmor.enabled && loadBalancer.domains.length === 0) {
    issues.push(
      "loadBalancer.cloudArmor.enabled: needs the load balancer, which exists only when loadBalancer.domains is non-empty",
    );
  }
  if (service.defaultUriDisabled && loadBalancer.domains.length === 0) {
    issues.push(
      "service.defaultUriDisabled: needs the load balancer (loadBalancer.domains non-empty): without the run.app URL it is the only way to reach the service",
    );
  }

  const { monitoring } = config;
  const repeatedEmails = monitoring.notificationEmails.filter(
    (email, index) => monitoring.notificationEmails.indexOf(email) !== index,
  );
  if (repeatedEmails.length > 0) {
    issues.push(
      `monitoring.notificationEmails: must not repeat an address (got ${[...new Set(repeatedEmails)].join(", ")} more than once)`,
    );
  }
  const repeatedRegions = monitoring.uptimeCheck.regions.filter(
    (region, index) => monitoring.uptimeCheck.regions.indexOf(region) !== index,
  );
  if (repeatedRegions.length > 0) {
    issues.push(
      `monitoring.uptimeCheck.regions: must not repeat a region (got ${[...new Set(repeatedRegions)].join(", ")} more than once)`,
    );
  }

  // Direct VPC egress takes two subnet addresses per instance in steady state (Cloud Run documentation); a subnet
  // too small for maxInstances fails at scale-out, not at deploy, so refuse it here. GCP reserves 4 per subnet.
  if (network.egress === "direct") {
    const subnet = parseCidr(network.subnetCidr);
    const usable = subnet ? subnet.end - subnet.start + 1 - 4 : 0;
    if (subnet && 2 * service.maxInstances > usable) {
      issues.push(
        `network.subnetCidr: ${network.subnetCidr} has ${usable} usable addresses; Direct VPC egress needs 2 per instance, so service.maxInstances ${service.maxInstances} needs at least ${2 * service.maxInstances}`,
      );
    }
  }

  const clustered = redis.engine === "memorystore-redis-cluster";
  if (redis.persistence === "AOF" && !clustered) {
    issues.push(
      'redis.persistence: "AOF" needs redis.engine "memorystore-redis-cluster" (Memorystore for Redis offers RDB snapshots only)',
    );
  }
  const clusterNodes = redis.cluster.shardCount * (1 + redis.cluster.replicaCount);
  if (clustered && clusterNodes > CLUSTER_MAX_NODES) {
    issues.push(
      `redis.cluster.shardCount: ${redis.cluster.shardCount} shards with ${redis.cluster.replicaCount} replicas each are ${clusterNodes} nodes; a Memorystore for Redis Cluster instance holds at most ${CLUSTER_MAX_NODES}`,
    );
  }

  // Every private range we allocate must be disjoint. The subnet exists only with Direct VPC egress, the connector
  // range only with the connector; the Redis range is the peering's /29 or, for a cluster, its PSC subnet.
  const ranges: Array<[string, string]> = [
    clustered
      ? ["redis.cluster.pscSubnetCidr", redis.cluster.pscSubnetCidr]
      : ["redis.reservedIpRange", redis.reservedIpRange],
  ];
  if (network.egress === "connector") ranges.push(["network.connectorCidr", network.connectorCidr]);
  if (network.egress === "direct") ranges.push(["network.subnetCidr", network.subnetCidr]);
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [nameA, textA] = ranges[i] as [string, string];
      const [nameB, textB] = ranges[j] as [string, string];
      const a = parseCidr(textA);
      const b = parseCidr(textB);
      if (a && b && cidrsOverlap(a, b)) {
        issues.push(`${nameB}: must not overlap ${nameA} (got ${textB} and ${textA})`);
      }
    }
  }
  return issues;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
