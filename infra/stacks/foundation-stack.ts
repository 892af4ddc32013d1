import type { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { requiredApis } from "../config/apis";
import { baseName, type InfraConfig } from "../config/schema";
import { ImageRegistry } from "../constructs/image-registry";
import { MetricsConfig } from "../constructs/metrics-config";
import { Network } from "../constructs/network";
import { ProjectServices } from "../constructs/project-services";
import { Redis } from "../constructs/redis";
import { RedisClusterStore } from "../constructs/redis-cluster";
import { ServiceIdentity } from "../constructs/service-identity";
import { configureStateBackend } from "./backend";

/** What the service needs of either engine. */
export interface RedisStore {
  readonly host: string;
  readonly port: number;
  readonly caCertificates: string;
  /** A Redis Cluster (IAM authentication), or one Redis (the AUTH string in a secret). */
  readonly cluster: boolean;
  readonly authSecret?: { readonly secretId: string };
  readonly authSecretVersion?: { readonly version: string };
}

/** Props of {@link FoundationStack}. */
export interface FoundationStackProps {
  /** Validated configuration of the environment. */
  readonly config: InfraConfig;
  /** Repository root relative to the stack's Terraform working directory (for the local state path). */
  readonly rootFromStackDir: string;
}

/** Labels on every labelled resource: the user's labels plus app, environment and managed-by. */
export function defaultLabels(config: InfraConfig): Record<string, string> {
  return { ...config.labels, app: config.namePrefix, environment: config.environment, "managed-by": "cdktf" };
}

/**
 * The Google provider of a stack, with the default labels. The labels go in through an override because cdktf
 * snake-cases every key of provider attributes (it would turn a `cost-center` label into `cost_center`).
 */
export function addGoogleProvider(stack: TerraformStack, config: InfraConfig): GoogleProvider {
  const provider = new GoogleProvider(stack, "google", { project: config.projectId, region: config.region });
  provider.addOverride("default_labels", defaultLabels(config));
  return provider;
}

/**
 * What changes rarely: APIs, the VPC and its connector (or Direct VPC egress subnet), Memorystore Redis and its AUTH
 * secret, the Artifact Registry repository, the Cloud Build identity and bucket, and the service's runtime identity.
 */
export class FoundationStack extends TerraformStack {
  /** Enabled APIs. */
  readonly apis: ProjectServices;
  /** VPC and connector or subnet. */
  readonly network: Network;
  /** Memorystore for Redis and its AUTH secret (engine `memorystore-redis`); undefined with the cluster engine. */
  readonly redis?: Redis;
  /** Memorystore for Redis Cluster, its PSC subnet and policy (engine `memorystore-redis-cluster`). */
  readonly redisCluster?: RedisClusterStore;
  /** The engine's endpoint, CA and credentials, whichever engine it is. */
  get redisStore(): RedisStore {
    if (this.redisCluster) {
      const { host, port, caCertificates } = this.redisCluster;
      return { host, port, caCertificates, cluster: true };
    }
    const redis = this.redis as Redis;
    return {
      host: redis.host,
      port: redis.port,
      caCertificates: redis.caCertificates,
      cluster: false,
      authSecret: redis.authSecret,
      authSecretVersion: redis.authSecretVersion,
    };
  }

  /** Image repository (and build identity and bucket when building). */
  readonly registry: ImageRegistry;
  /** The Cloud Run service's identity and its grants. */
  readonly serviceIdentity: ServiceIdentity;
  /** The Prometheus sidecar's configuration, when the sidecar runs. */
  readonly metricsConfig?: MetricsConfig;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id);
    const { config } = props;
    const base = baseName(config);
    configureStateBackend(this, {
      bucket: config.state.bucket,
      prefix: config.state.prefix,
      stateName: `${base}-foundation`,
      rootFromStackDir: props.rootFromStackDir,
    });
    addGoogleProvider(this, config);

    this.apis = new ProjectServices(this, "apis", { projectId: config.projectId, services: requiredApis(config) });
    const afterApis = this.apis.all;

    this.network = new Network(this, "vpc", {
      projectId: config.projectId,
      region: config.region,
      baseName: base,
      egress: config.network.egress,
      connectorName: config.network.connectorName,
      connectorCidr: config.network.connectorCidr,
      connectorMinInstances: config.network.connectorMinInstances,
      connectorMaxInstances: config.network.connectorMaxInstances,
      connectorMachineType: config.network.connectorMachineType,
      subnetCidr: config.network.subnetCidr,
      dependsOn: afterApis,
    });

    if (config.redis.engine === "memorystore-redis-cluster") {
      this.redisCluster = new RedisClusterStore(this, "redis-cluster", {
        projectId: config.projectId,
        region: config.region,
        baseName: base,
        network: this.network.vpc.id,
        pscSubnetCidr: config.redis.cluster.pscSubnetCidr,
        shardCount: config.redis.cluster.shardCount,
        nodeType: config.redis.cluster.nodeType,
        replicaCount: config.redis.cluster.replicaCount,
        persistence: config.redis.persistence,
        rdbSnapshotPeriod: config.redis.rdbSnapshotPeriod,
        maintenanceWindow: config.redis.maintenanceWindow,
        deletionProtection: config.deletionProtection,
        dependsOn: afterApis,
      });
    } else {
      this.redis = new Redis(this, "redis", {
        projectId: config.projectId,
        region: config.region,
        baseName: base,
        authorizedNetwork: this.network.vpc.id,
        tier: config.redis.tier,
        memorySizeGb: config.redis.memorySizeGb,
        version: config.redis.version,
        reservedIpRange: config.redis.reservedIpRange,
        // AOF is refused for this engine by the configuration's rules.
        persistence: config.redis.persistence === "RDB" ? "RDB" : "DISABLED",
        rdbSnapshotPeriod: config.redis.rdbSnapshotPeriod,
        maxmemoryPercent: config.redis.maxmemoryPercent,
        maintenanceWindow: config.redis.maintenanceWindow,
        deletionProtection: config.deletionProtection,
        dependsOn: afterApis,
      });
    }

    this.registry = new ImageRegistry(this, "image-registry", {
      projectId: config.projectId,
      region: config.region,
      baseName: base,
      keepRecentImages: config.registry.keepRecentImages,
      withBuild: config.service.image === undefined,
      dependsOn: afterApis,
    });

    if (config.monitoring.sidecar.enabled) {
      this.metricsConfig = new MetricsConfig(this, "metrics-config", {
        projectId: config.projectId,
        baseName: base,
        scrapeIntervalSeconds: config.monitoring.sidecar.scrapeIntervalSeconds,
        dependsOn: afterApis,
      });
    }

    // The runtime identity lives here, not in the app stack: IAM grants can take minutes to propagate, and Cloud Run
    // refuses a revision whose account cannot read its secret yet. Created a whole stack earlier, they are in effect
    // by the time the service is.
    this.serviceIdentity = new ServiceIdentity(this, "service-identity", {
      projectId: config.projectId,
      accountId: `${base}-run`,
      readableSecretIds: [
        ...(this.redis ? [this.redis.authSecret.id] : []),
        ...(this.metricsConfig ? [this.metricsConfig.secret.id] : []),
      ],
      writesMetrics: config.monitoring.sidecar.enabled,
      // IAM authentication to the cluster: the service's access token is its AUTH password.
      connectsToRedisCluster: this.redisCluster !== undefined,
      dependsOn: afterApis,
    });

    new TerraformOutput(this, "network", {
      value: this.network.vpc.name,
      description: "VPC the service and Redis share",
    });
    if (this.network.connector) {
      new TerraformOutput(this, "vpc_connector", {
        value: this.network.connector.id,
        description: "Serverless VPC Access connector",
      });
    }
    if (this.network.subnet) {
      new TerraformOutput(this, "direct_vpc_subnet", {
        value: this.network.subnet.name,
        description: "Subnet of Direct VPC egress",
      });
    }
    const store = this.redisStore;
    new TerraformOutput(this, "redis_host", {
      value: store.host,
      description: store.cluster
        ? "Discovery endpoint of Memorystore for Redis Cluster (Private Service Connect)"
        : "Private address of Memorystore Redis",
    });
    new TerraformOutput(this, "redis_port", {
      value: store.port,
      description: store.cluster ? "Port of the cluster's discovery endpoint (TLS)" : "Port of Memorystore Redis (TLS)",
    });
    if (this.redis) {
      new TerraformOutput(this, "redis_auth_secret", {
        value: this.redis.authSecret.id,
        description: "Secret Manager secret holding the Redis AUTH string",
      });
    }
    new TerraformOutput(this, "registry", {
      value: this.registry.repositoryUrl,
      description: "Artifact Registry repository for the image",
    });
    new TerraformOutput(this, "service_account", {
      value: this.serviceIdentity.email,
      description: "Runtime service account of the Cloud Run service",
    });
  }
}
