import { Construct } from "constructs";
import { Fn, Token, type ITerraformDependable } from "cdktf";
import { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import { NetworkConnectivityServiceConnectionPolicy } from "@cdktf/provider-google/lib/network-connectivity-service-connection-policy";
import { RedisCluster } from "@cdktf/provider-google/lib/redis-cluster";

/** Props of {@link RedisClusterStore}. */
export interface RedisClusterStoreProps {
  /** Project of the cluster, its subnet and its policy. */
  readonly projectId: string;
  /** Region of the cluster, the subnet and the service connection policy. */
  readonly region: string;
  /** The cluster is `${baseName}-redis`, the PSC subnet `${baseName}-redis-psc`, the policy `${baseName}-redis`. */
  readonly baseName: string;
  /** Id of the VPC (`projects/<p>/global/networks/<n>`) the endpoints are made in; the service reaches them there. */
  readonly network: string;
  /** The /29 Private Service Connect takes the endpoints' addresses from. */
  readonly pscSubnetCidr: string;
  /** Shards, each a primary and `replicaCount` replicas. */
  readonly shardCount: number;
  /** `REDIS_SHARED_CORE_NANO`, `REDIS_STANDARD_SMALL`, `REDIS_HIGHMEM_MEDIUM` or `REDIS_HIGHMEM_XLARGE`. */
  readonly nodeType: string;
  /** Replicas per shard. */
  readonly replicaCount: number;
  /** `DISABLED`, `RDB` or `AOF`. */
  readonly persistence: "DISABLED" | "RDB" | "AOF";
  /** RDB snapshot period when `persistence` is `RDB`. */
  readonly rdbSnapshotPeriod: string;
  /** Weekly one-hour maintenance window starting at `startHour`:00 UTC, or none to let Google pick. */
  readonly maintenanceWindow?: { readonly day: string; readonly startHour: number } | null;
  /** Refuse deletion: the API's own `deletion_protection_enabled` and Terraform's `prevent_destroy`. */
  readonly deletionProtection: boolean;
  /** Resources (API enablement) to wait for. @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Memorystore for Redis Cluster with in-transit encryption and IAM authentication, reached from one VPC through
 * Private Service Connect: a service connection policy (service class `gcp-memorystore-redis`) on the VPC lets
 * Memorystore create the endpoints in a /29 subnet of its own, and the cluster names the VPC in `psc_configs`.
 *
 * The service needs three values, all attributes of the cluster: the discovery endpoint's `address` and `port`, and
 * the CA certificates (`managed_server_ca`, present with `TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION`). No
 * password exists: the service sends an IAM access token of its own account, which needs
 * `roles/redis.dbConnectionUser` (see ServiceIdentity).
 */
export class RedisClusterStore extends Construct {
  readonly cluster: RedisCluster;
  readonly subnet: ComputeSubnetwork;
  readonly policy: NetworkConnectivityServiceConnectionPolicy;

  constructor(scope: Construct, id: string, props: RedisClusterStoreProps) {
    super(scope, id);
    const dependsOn = props.dependsOn ?? [];
    const window = props.maintenanceWindow ?? undefined;
    if (
      !Number.isInteger(props.shardCount) ||
      props.shardCount < 1 ||
      props.shardCount * (1 + props.replicaCount) > 250
    ) {
      throw new Error(
        `RedisClusterStore: ${props.shardCount} shards with ${props.replicaCount} replicas each do not fit 1 to 250 nodes`,
      );
    }
    this.subnet = new ComputeSubnetwork(this, "psc-subnet", {
      project: props.projectId,
      region: props.region,
      name: `${props.baseName}-redis-psc`,
      network: props.network,
      ipCidrRange: props.pscSubnetCidr,
      dependsOn,
    });
    this.policy = new NetworkConnectivityServiceConnectionPolicy(this, "psc-policy", {
      project: props.projectId,
      location: props.region,
      name: `${props.baseName}-redis`,
      description: `Private Service Connect endpoints of ${props.baseName}-redis (Memorystore for Redis Cluster)`,
      network: props.network,
      serviceClass: "gcp-memorystore-redis",
      pscConfig: { subnetworks: [this.subnet.id] },
      dependsOn,
    });
    this.cluster = new RedisCluster(this, "cluster", {
      project: props.projectId,
      region: props.region,
      name: `${props.baseName}-redis`,
      shardCount: props.shardCount,
      nodeType: props.nodeType,
      replicaCount: props.replicaCount,
      authorizationMode: "AUTH_MODE_IAM_AUTH",
      transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
      pscConfigs: [{ network: props.network }],
      zoneDistributionConfig: { mode: "MULTI_ZONE" },
      // As on the single instance: every board key has an idle TTL, so an evicting policy would drop boards (or half
      // a board) under memory pressure; with noeviction a full shard refuses writes and clients retry.
      redisConfigs: { "maxmemory-policy": "noeviction" },
      persistenceConfig:
        props.persistence === "RDB"
          ? { mode: "RDB", rdbConfig: { rdbSnapshotPeriod: props.rdbSnapshotPeriod } }
          : props.persistence === "AOF"
            ? { mode: "AOF", aofConfig: { appendFsync: "EVERYSEC" } }
            : { mode: "DISABLED" },
      ...(window
        ? {
            maintenancePolicy: {
              weeklyMaintenanceWindow: [
                { day: window.day, startTime: { hours: window.startHour, minutes: 0, seconds: 0, nanos: 0 } },
              ],
            },
          }
        : {}),
      deletionProtectionEnabled: props.deletionProtection,
      lifecycle: { preventDestroy: props.deletionProtection },
      // The policy must exist before the cluster asks for its endpoints (the provider's own examples wait for it).
      dependsOn: [...dependsOn, this.policy],
    });
  }

  /** The discovery endpoint's address: what the service gives node-redis's cluster client to read the slot map. */
  get host(): string {
    return this.cluster.discoveryEndpoints.get(0).address;
  }

  /** The discovery endpoint's port. */
  get port(): number {
    return this.cluster.discoveryEndpoints.get(0).port;
  }

  /** Every certificate of every CA chain the cluster's server certificates may come from, PEM, joined by newlines. */
  get caCertificates(): string {
    const chains = Token.asList(
      this.cluster.interpolationForAttribute("managed_server_ca[0].ca_certs[*].certificates"),
    );
    // cdktf types what Fn.flatten returns as `any`: here, a list token of the certificates.
    return Fn.join("\n", Fn.flatten(chains) as string[]);
  }
}
