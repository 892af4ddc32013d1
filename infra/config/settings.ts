/**
 * Every infrastructure setting, declared once (infra/config/declaration.ts): name (its place in the tree), type and
 * bounds (the zod schema, whose message names the rule), default (per environment where it differs, or derived),
 * allowed values as infra/README.md shows them, and a one-line description. The resolved type `InfraConfig`, the
 * input type, the defaults and README's configuration table all come from {@link SETTINGS}.
 *
 * Rules that span several settings are in ./schema.ts (`crossFieldIssues`).
 */
import { z } from "zod";
import { isRfc1918, parseCidr } from "./cidr";
import { ENVIRONMENTS, type Environment, setting } from "./declaration";

/** Allowed Cloud Armor rate-limit intervals, in seconds (Cloud Armor rejects any other value). */
const ARMOR_INTERVALS = [10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600] as const;

/**
 * The Memorystore engines the service can run on:
 * - `memorystore-redis`: Memorystore for Redis, one primary (and a replica with STANDARD_HA), AUTH string, TLS;
 * - `memorystore-redis-cluster`: Memorystore for Redis Cluster, shards of a primary and replicas, IAM authentication,
 *   TLS, reached through Private Service Connect; boards and their channels spread over the shards.
 */
const REDIS_ENGINES = ["memorystore-redis", "memorystore-redis-cluster"] as const;

/** Node types of `google_redis_cluster.node_type` in provider 6.50.0. */
const CLUSTER_NODE_TYPES = [
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
const PUBLIC_ACCESS = ["invoker-check-disabled", "all-users-invoker", "none"] as const;

/** Regions uptime checks can run from (the API's `UptimeCheckRegion`); a check needs at least three. */
const UPTIME_REGIONS = [
  "USA",
  "EUROPE",
  "SOUTH_AMERICA",
  "ASIA_PACIFIC",
  "USA_OREGON",
  "USA_IOWA",
  "USA_VIRGINIA",
] as const;

/** Uptime check periods the API accepts, in seconds. */
const UPTIME_PERIODS = [60, 300, 600, 900] as const;

/**
 * The Managed Service for Prometheus sidecar for Cloud Run, pinned: the newest release tag of its repository
 * (GoogleCloudPlatform/run-gmp-sidecar, 1.7.0 of 2026-03-09; Google's sample YAML still shows 1.2.0).
 */
const DEFAULT_SIDECAR_IMAGE =
  "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.7.0";

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
  "NODE_OPTIONS",
  "INSTANCE_ID",
  "METRICS_PORT",
  "METRICS_FINAL_SCRAPE_SECONDS",
] as const;
export const RESERVED_ENV_PREFIX = "REDIS_";

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

const numberIn = <const T extends readonly number[]>(values: T) =>
  z
    .number({ error: `must be one of ${values.join(", ")}` })
    .refine((value) => (values as readonly number[]).includes(value), {
      error: `must be one of ${values.join(", ")}`,
    });

/** Cloud Run's fractional CPU: "any value between 0.08 and 1, in increments of 0.001". */
const fractionalCpu = (min: number, max: number) => {
  const error = `must be a number of vCPU from ${min} to ${max}, in steps of 0.001`;
  return z
    .number({ error })
    .min(min, { error })
    .max(max, { error })
    .refine((value) => Math.abs(value * 1000 - Math.round(value * 1000)) < 1e-9, { error });
};

const cidr = (description: string, check: (prefix: number) => boolean) =>
  z.string({ error: `must be ${description}` }).refine(
    (text) => {
      const parsed = parseCidr(text);
      return parsed !== undefined && isRfc1918(parsed) && check(parsed.prefix);
    },
    { error: `must be ${description} (an aligned IPv4 block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)` },
  );

const list = <T extends z.ZodType>(item: T, what: string, max: number, maxMessage: string) =>
  z.array(item, { error: `must be a list of ${what}` }).max(max, { error: maxMessage });

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
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
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
const IMAGE =
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

/** `null` written in a file means "none", the same as leaving the field out. */
const orNone = <T extends z.ZodType>(schema: T) => schema.nullable().transform((value) => value ?? undefined);

/**
 * What a derived default may read: settings whose own default is not derived (so the order of derivation never
 * matters). The type check at the end of ./schema.ts proves the resolved configuration provides it.
 */
export interface DerivedFrom {
  readonly projectId: string;
  readonly environment: Environment;
  readonly namePrefix: string;
  readonly redis: { readonly tier: "BASIC" | "STANDARD_HA"; readonly persistence: "DISABLED" | "RDB" | "AOF" };
  readonly loadBalancer: { readonly domains: readonly string[] };
}

const derived = <T>(text: string, derive: (config: DerivedFrom) => T) => ({ text, derive });

/** Every setting of an environment file. */
export const SETTINGS = {
  projectId: setting({
    schema: pattern(PROJECT_ID, `must be ${DESCRIPTIONS.projectId}`),
    default: { required: true },
    allowed: '6-30 chars, `^[a-z][a-z0-9-]{4,28}[a-z0-9]$`; `""` in a file = take `PROJECT_ID`',
    description: "The Google Cloud project everything goes in",
  }),
  region: setting({
    schema: pattern(REGION, `must be ${DESCRIPTIONS.region}`),
    default: { value: "us-central1" },
    allowed: "a region name such as `europe-west1`",
    description: "Region of every regional resource",
  }),
  environment: setting({
    schema: oneOf(ENVIRONMENTS),
    default: { value: "dev" },
    allowed: "`dev`, `prod`; must match the file's name (the file's name when left out)",
    description: "Which environment: `prod` turns on high availability and protection by default",
  }),
  namePrefix: setting({
    schema: pattern(NAME_PREFIX, `must be ${DESCRIPTIONS.namePrefix}`),
    default: { value: "whiteboard" },
    allowed: "1-12 chars, lower-case letters, digits, hyphens",
    description: "Every resource name is `<prefix>-<env>-…`",
  }),
  deletionProtection: setting({
    schema: bool(),
    default: { dev: false, prod: true },
    allowed: "boolean",
    description: "Cloud Run `deletion_protection`, Redis `prevent_destroy`, the secret's protection",
  }),
  labels: setting({
    schema: z.record(
      pattern(
        LABEL_KEY,
        "must be a label key: 1 to 63 lower-case letters, digits, underscores or hyphens, starting with a letter",
      ),
      pattern(LABEL_VALUE, "must be a label value: at most 63 lower-case letters, digits, underscores or hyphens"),
      { error: (issue) => (issue.code === "invalid_type" ? "must be an object of label values" : undefined) },
    ),
    default: { value: {} },
    allowed: "keys `^[a-z][a-z0-9_-]{0,62}$`, values `^[a-z0-9_-]{0,63}$`",
    description: "Labels on every resource that takes labels; `app`, `environment`, `managed-by` are added",
  }),
  state: {
    bucket: setting({
      schema: orNone(pattern(BUCKET, `must be ${DESCRIPTIONS.bucket}`)),
      default: derived('dev none (local files), prod `"<projectId>-tfstate"`', (config) =>
        config.environment === "prod" ? `${config.projectId}-tfstate` : undefined,
      ),
      allowed: "bucket name, 3-63 chars; `null` = local files (dev only: refused for prod)",
      description: "Cloud Storage bucket of the Terraform state (`make infra-bootstrap` creates it, versioned)",
    }),
    prefix: setting({
      schema: pattern(STATE_PREFIX, `must be ${DESCRIPTIONS.statePrefix}`),
      default: { value: "whiteboard" },
      allowed: "relative object path",
      description: "Folder of the state objects in the bucket",
    }),
  },
  network: {
    egress: setting({
      schema: oneOf(["connector", "direct"]),
      default: { value: "connector" },
      allowed: "`connector` (Serverless VPC Access) or `direct` (Direct VPC egress)",
      description: "How Cloud Run reaches the VPC, and so Redis",
    }),
    vpcEgress: setting({
      schema: oneOf(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"]),
      default: { value: "PRIVATE_RANGES_ONLY" },
      allowed: "`PRIVATE_RANGES_ONLY`, `ALL_TRAFFIC`",
      description: "Which outbound traffic goes through the VPC",
    }),
    connectorName: setting({
      schema: pattern(CONNECTOR_NAME, `must be ${DESCRIPTIONS.connectorName}`),
      default: derived("`<namePrefix>-<environment>`", (config) => `${config.namePrefix}-${config.environment}`),
      allowed: "at most 25 chars, `^[a-z][-a-z0-9]{0,23}[a-z0-9]$`",
      description: "Name of the Serverless VPC Access connector",
    }),
    connectorCidr: setting({
      schema: cidr("a private /28 range", (prefix) => prefix === 28),
      default: { value: "10.8.0.0/28" },
      allowed: "an aligned private **/28** used by nothing else",
      description: "The connector's own range",
    }),
    connectorMinInstances: setting({
      schema: int(2, 9),
      default: { value: 2 },
      allowed: "2-9, below the maximum",
      description: "Connector instances kept running",
    }),
    connectorMaxInstances: setting({
      schema: int(3, 10),
      default: { value: 3 },
      allowed: "3-10",
      description: "Connector autoscaling ceiling",
    }),
    connectorMachineType: setting({
      schema: oneOf(["e2-micro", "f1-micro", "e2-standard-4"]),
      default: { value: "e2-micro" },
      allowed: "`e2-micro`, `f1-micro`, `e2-standard-4`",
      description: "Connector VM type",
    }),
    subnetCidr: setting({
      schema: cidr("a private range of /26 or larger (prefix length 8 to 26)", (prefix) => prefix >= 8 && prefix <= 26),
      default: { value: "10.10.0.0/24" },
      allowed: "private, /26 or larger, at least 2 addresses per `service.maxInstances`",
      description: "Subnet Direct VPC egress takes addresses from (`direct` only)",
    }),
  },
  redis: {
    engine: setting({
      schema: oneOf(REDIS_ENGINES),
      default: { value: "memorystore-redis" },
      allowed: "`memorystore-redis`, `memorystore-redis-cluster`",
      description:
        "Memorystore for Redis (`tier` to `maxmemoryPercent` apply) or for Redis Cluster (`cluster` applies)",
    }),
    tier: setting({
      schema: oneOf(["BASIC", "STANDARD_HA"]),
      default: { dev: "BASIC", prod: "STANDARD_HA" },
      allowed: "`BASIC`, `STANDARD_HA`",
      description: "One node, or a primary and a replica in two zones",
    }),
    memorySizeGb: setting({
      schema: int(1, 300),
      default: { value: 1 },
      allowed: "1-300",
      description: "Capacity in GiB",
    }),
    version: setting({
      schema: oneOf(["REDIS_7_2", "REDIS_7_0"]),
      default: { value: "REDIS_7_2" },
      allowed: "`REDIS_7_2`, `REDIS_7_0`",
      description: "Redis version",
    }),
    reservedIpRange: setting({
      schema: cidr("a private /29 range", (prefix) => prefix === 29),
      default: { value: "10.9.0.0/29" },
      allowed: "private **/29**, disjoint from the connector range or subnet",
      description: "The instance's addresses (direct peering)",
    }),
    persistence: setting({
      schema: oneOf(["DISABLED", "RDB", "AOF"]),
      default: { dev: "DISABLED", prod: "RDB" },
      allowed: "`DISABLED`, `RDB`; `AOF` with the cluster engine only",
      description: "Snapshots or append-only file",
    }),
    rdbSnapshotPeriod: setting({
      schema: oneOf(["ONE_HOUR", "SIX_HOURS", "TWELVE_HOURS", "TWENTY_FOUR_HOURS"]),
      default: { value: "ONE_HOUR" },
      allowed: "`ONE_HOUR`, `SIX_HOURS`, `TWELVE_HOURS`, `TWENTY_FOUR_HOURS`",
      description: "Snapshot period with `RDB`",
    }),
    // Memorystore accepts maxmemory-gb down to 20% of the capacity; 100 leaves it at the capacity (its default).
    maxmemoryPercent: setting({
      schema: int(20, 100),
      default: derived("`80` with `STANDARD_HA` or `RDB`, else `100`", (config) =>
        config.redis.tier === "STANDARD_HA" || config.redis.persistence === "RDB" ? 80 : 100,
      ),
      allowed: "20-100; `100` sets nothing",
      description: "`maxmemory-gb` as a share of the capacity: room for replication and snapshot forks",
    }),
    maintenanceWindow: setting({
      schema: z
        .strictObject(
          { day: oneOf(MAINTENANCE_DAYS), startHour: int(0, 23) },
          { error: "must be null (Google picks the time) or an object { day, startHour } (UTC)" },
        )
        .nullable(),
      default: { dev: null, prod: { day: "SUNDAY", startHour: 3 } },
      allowed: "`null` (Google picks) or `{day, startHour}`: `MONDAY`…`SUNDAY`, hour 0-23 UTC",
      description: "Weekly one-hour window in which Google may restart or fail over Redis (both engines)",
    }),
    cluster: {
      shardCount: setting({
        schema: int(1, CLUSTER_MAX_NODES),
        default: { value: 3 },
        allowed: "1-250; shards × (1 + replicas) at most 250",
        description: "Shards of the cluster engine",
      }),
      nodeType: setting({
        schema: oneOf(CLUSTER_NODE_TYPES),
        default: { dev: "REDIS_SHARED_CORE_NANO", prod: "REDIS_STANDARD_SMALL" },
        allowed:
          "`REDIS_SHARED_CORE_NANO` (1.4 GB, no SLA), `REDIS_STANDARD_SMALL`, `REDIS_HIGHMEM_MEDIUM`, `REDIS_HIGHMEM_XLARGE`",
        description: "Node type of the cluster engine",
      }),
      replicaCount: setting({
        schema: int(0, 2),
        default: { dev: 0, prod: 1 },
        allowed: "0-2",
        description: "Replicas per shard; with one or more a write is acknowledged once a replica has it",
      }),
      pscSubnetCidr: setting({
        schema: cidr("a private /29 range", (prefix) => prefix === 29),
        default: { value: "10.9.0.8/29" },
        allowed: "private **/29**, disjoint from the connector range or subnet",
        description: "Subnet Private Service Connect takes the cluster's endpoints from",
      }),
    },
  },
  service: {
    image: setting({
      schema: orNone(pattern(IMAGE, `must be ${DESCRIPTIONS.image}`)),
      default: { value: undefined },
      allowed: "image reference with a tag or `@sha256:` digest, or `null`",
      description: "A prebuilt image instead of building this repository",
    }),
    // The service gets the same value as REQUEST_TIMEOUT_SECONDS and asks clients to reconnect shortly before Cloud
    // Run cuts their WebSocket.
    timeoutSeconds: setting({
      schema: int(1, 3600),
      default: { value: 3600 },
      allowed: "1-3600",
      description: "Request timeout: WebSockets are cut at this age (also `REQUEST_TIMEOUT_SECONDS`)",
    }),
    concurrency: setting({
      schema: int(1, 1000),
      default: { value: 250 },
      allowed: "1-1000",
      description: "Open WebSockets per instance (also the service's `MAX_SOCKETS`)",
    }),
    minInstances: setting({
      schema: int(0, 1000),
      default: { dev: 0, prod: 1 },
      allowed: "0-1000, at most `maxInstances`",
      description: "Instances kept warm",
    }),
    maxInstances: setting({
      schema: int(1, 1000),
      default: { dev: 3, prod: 20 },
      allowed: "1-1000",
      description: "Autoscaling ceiling",
    }),
    cpu: setting({
      schema: oneOf(CPU_VALUES),
      default: { value: "1" },
      allowed: '`"1"`, `"2"`, `"4"`, `"8"`',
      description: "vCPU of the service's container",
    }),
    memory: setting({
      schema: pattern(MEMORY, `must be ${DESCRIPTIONS.memory}`),
      default: { value: "512Mi" },
      allowed: "512Mi-32Gi; 4 CPU need 2Gi, 8 CPU 4Gi; >4Gi needs 2 CPU, >8Gi 4 CPU, >16Gi 8 CPU",
      description: "Memory of the service's container",
    }),
    cpuAlwaysAllocated: setting({
      schema: bool(),
      default: { dev: false, prod: true },
      allowed: "boolean (`cpu_idle` is its negation)",
      description: "Instance-based billing: CPU outside requests too",
    }),
    startupCpuBoost: setting({
      schema: bool(),
      default: { value: true },
      allowed: "boolean",
      description: "More CPU while an instance starts",
    }),
    sessionAffinity: setting({
      schema: bool(),
      default: { value: true },
      allowed: "boolean",
      description: "Cloud Run session affinity (best effort; clients use WebSocket only)",
    }),
    publicAccess: setting({
      schema: oneOf(PUBLIC_ACCESS),
      default: { value: "invoker-check-disabled" },
      allowed: "`invoker-check-disabled`, `all-users-invoker`, `none`",
      description: "Who may invoke the service (see Who may call the service)",
    }),
    defaultUriDisabled: setting({
      schema: bool(),
      default: { value: false },
      allowed: "boolean; needs domains",
      description: 'Turns the run.app URL off (google-beta, `launch_stage = "BETA"`)',
    }),
    logLevel: setting({
      schema: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
      default: { value: "info" },
      allowed: "`fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`",
      description: "The service's `LOG_LEVEL`",
    }),
    allowedOrigins: setting({
      schema: list(
        z
          .string({ error: `must be ${DESCRIPTIONS.origin}` })
          .refine(isOrigin, { error: `must be ${DESCRIPTIONS.origin}` }),
        "origins",
        20,
        "must hold at most 20 origins",
      ),
      default: { value: [] },
      allowed: "up to 20 origins (`https://host[:port]`)",
      description: "Origins allowed besides `https://<each domain>`",
    }),
    env: setting({
      schema: z.record(pattern(ENV_NAME, `must be ${DESCRIPTIONS.envName}`), z.string({ error: "must be a string" }), {
        error: (issue) => (issue.code === "invalid_type" ? "must be an object of string values" : undefined),
      }),
      default: { value: {} },
      allowed: "names `^[A-Z_][A-Z0-9_]*$`, not those the stacks set (`PORT`, `REDIS_*`, …)",
      description: "Extra environment variables of the service (`MAX_ELEMENTS_PER_BOARD`, …)",
    }),
  },
  loadBalancer: {
    domains: setting({
      schema: list(
        pattern(DOMAIN, `must be ${DESCRIPTIONS.domain}`),
        "domain names",
        100,
        "must hold at most 100 domains (the limit of a Google-managed certificate)",
      ),
      default: { value: [] },
      allowed: "up to 100 distinct lower-case DNS names, no wildcard",
      description: "Domains of the HTTPS load balancer; non-empty turns it on",
    }),
    cloudArmor: {
      enabled: setting({
        schema: bool(),
        default: derived("`true` in prod when domains exist, else `false`", (config) =>
          config.environment === "prod" && config.loadBalancer.domains.length > 0 ? true : false,
        ),
        allowed: "boolean; `true` needs domains",
        description: "A per-client-IP throttle on the load balancer",
      }),
      requestsPerInterval: setting({
        schema: int(1, 1_000_000),
        default: { value: 300 },
        allowed: "1-1,000,000",
        description: "Requests per client IP per interval; more get HTTP 429",
      }),
      intervalSeconds: setting({
        schema: numberIn(ARMOR_INTERVALS),
        default: { value: 60 },
        allowed: ARMOR_INTERVALS.join(", "),
        description: "The throttle's interval",
      }),
    },
  },
  registry: {
    keepRecentImages: setting({
      schema: int(1, 100),
      default: { value: 10 },
      allowed: "1-100",
      description: "Image versions the cleanup policy keeps (older ones go after 30 days)",
    }),
  },
  monitoring: {
    notificationEmails: setting({
      schema: list(
        pattern(EMAIL, `must be ${DESCRIPTIONS.email}`),
        "e-mail addresses",
        10,
        "must hold at most 10 addresses",
      ),
      default: { value: [] },
      allowed: "up to 10 distinct e-mail addresses",
      description: "One notification channel each; none: the alerts open incidents but notify nobody",
    }),
    sidecar: {
      enabled: setting({
        schema: bool(),
        default: { value: true },
        allowed: "boolean",
        description: "The Managed Service for Prometheus sidecar that sends the service's metrics to Cloud Monitoring",
      }),
      image: setting({
        schema: pattern(IMAGE, `must be ${DESCRIPTIONS.image}`),
        default: { value: DEFAULT_SIDECAR_IMAGE },
        allowed: "image reference with a tag or digest (pin it)",
        description: "The sidecar's image",
      }),
      cpu: setting({
        schema: fractionalCpu(0.08, 0.5),
        default: { value: 0.08 },
        allowed: "0.08-0.5 vCPU, steps of 0.001",
        description:
          "The sidecar's share of `service.cpu`: the service's container gets the rest, the instance stays whole",
      }),
      scrapeIntervalSeconds: setting({
        schema: int(10, 300),
        default: { value: 60 },
        allowed: "10-300",
        description: "How often the sidecar scrapes `/metrics` (each sample is billed)",
      }),
    },
    uptimeCheck: {
      periodSeconds: setting({
        schema: numberIn(UPTIME_PERIODS),
        default: { value: 60 },
        allowed: UPTIME_PERIODS.join(", "),
        description: "How often the uptime check runs",
      }),
      regions: setting({
        schema: z
          .array(oneOf(UPTIME_REGIONS), { error: `must be a list of regions (${UPTIME_REGIONS.join(", ")})` })
          .min(3, { error: "must name at least 3 regions (an uptime check runs from at least three)" }),
        default: { value: ["USA", "EUROPE", "ASIA_PACIFIC"] },
        allowed: `at least 3 distinct of ${UPTIME_REGIONS.map((region) => `\`${region}\``).join(", ")}`,
        description: "Where the uptime check runs from",
      }),
    },
    alerts: {
      instancesPercentOfMax: setting({
        schema: int(10, 100),
        default: { value: 80 },
        allowed: "10-100",
        description: "Instances (rounded up) as a share of `service.maxInstances` that opens an alert",
      }),
      redisMemoryPercent: setting({
        schema: int(10, 100),
        default: { value: 80 },
        allowed: "10-100",
        description: "Redis memory usage, in percent of maxmemory, that opens an alert",
      }),
      storeLatencyP99Ms: setting({
        schema: int(1, 10_000),
        default: { value: 250 },
        allowed: "1-10,000",
        description: "p99 of store writes, sustained 5 minutes, that opens an alert",
      }),
      errorLogsPerMinute: setting({
        schema: int(1, 10_000),
        default: { value: 10 },
        allowed: "1-10,000",
        description: "Entries of severity ERROR or worse a minute, sustained 5 minutes, that open an alert",
      }),
    },
  },
} as const;
