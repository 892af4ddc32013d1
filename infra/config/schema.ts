/**
 * Typed, validated configuration of one deployment environment.
 *
 * `parseInfraConfig()` is the only way to obtain an {@link InfraConfig}: it checks every field against its declaration
 * (./settings.ts), fills the defaults, then checks the rules that span several fields. Any problem throws an
 * {@link InfraConfigError} whose message names each field and its allowed range or pattern, before a single construct
 * exists. Constructs receive plain, already-valid values and never read the environment.
 */
import { cidrsOverlap, parseCidr } from "./cidr";
import { type Environment, type Input, inputSchemaOf, type Resolved, resolve } from "./declaration";
import { CLUSTER_MAX_NODES, type DerivedFrom, RESERVED_ENV_NAMES, RESERVED_ENV_PREFIX, SETTINGS } from "./settings";

export { ENVIRONMENTS, type Environment } from "./declaration";
export { CONNECTOR_NAME, CPU_VALUES, MAINTENANCE_DAYS } from "./settings";

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

/** The configuration a user may write (every setting optional but `projectId`), checked against the declarations. */
const infraConfigInputSchema = inputSchemaOf(SETTINGS);

/** What a user may write, derived from the declarations. */
export type InfraConfigInput = Input<typeof SETTINGS>;

/** The complete, validated configuration of one environment: every setting present, defaults applied. */
export type InfraConfig = Resolved<typeof SETTINGS>;

// Derived defaults read the resolved configuration as DerivedFrom: this fails to compile if it stops providing it.
const resolvedProvidesDerivedFrom = (config: InfraConfig): DerivedFrom => config;
void resolvedProvidesDerivedFrom;

/** Base name of every resource of an environment: `${namePrefix}-${environment}`. */
export function baseName(config: Pick<InfraConfig, "namePrefix" | "environment">): string {
  return `${config.namePrefix}-${config.environment}`;
}

/** Memory quantity in MiB (input already matched the memory pattern). */
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
  const environment: Environment = valueAt(parsed.data, ["environment"]) === "prod" ? "prod" : "dev";
  const config = resolve(SETTINGS, parsed.data, environment);
  // null in a file reads as "none" (the same as leaving it out) for every other field; for prod's state it is a refusal.
  if (environment === "prod" && valueAt(input, ["state", "bucket"]) === null) {
    throw new InfraConfigError([
      `state.bucket: must name a Cloud Storage bucket in prod (got null): prod's state holds the Redis AUTH string and needs GCS's lock, not a file on one machine. Leave state.bucket out to use "${config.state.bucket ?? ""}", or name one; make infra-bootstrap ENV=prod creates it (versioned, uniform access, public access prevented)`,
    ]);
  }

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
