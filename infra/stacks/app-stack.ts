import type { Construct } from "constructs";
import { Fn, TerraformOutput, TerraformStack } from "cdktf";
import { baseName, type InfraConfig } from "../config/schema";
import { ContainerImage } from "../constructs/container-image";
import { LoadBalancer } from "../constructs/load-balancer";
import { Monitoring } from "../constructs/monitoring";
import { type VpcEgress, WhiteboardService } from "../constructs/whiteboard-service";
import { configureStateBackend } from "./backend";
import { addGoogleProvider, defaultLabels, type FoundationStack } from "./foundation-stack";
import { GoogleBetaProvider } from "./google-beta-provider";

/** The build context, hashed at synth time by the caller. */
export interface ImageContext {
  /** Hex SHA-256 of the build context. */
  readonly contentHash: string;
  /** Context entries that exist, relative to the repository root. */
  readonly entries: readonly string[];
  /** Folder names the hash skipped at any depth. */
  readonly excludedNames: readonly string[];
}

/** Props of {@link AppStack}. */
export interface AppStackProps {
  /** Validated configuration of the environment. */
  readonly config: InfraConfig;
  /** The environment's foundation stack (cross-stack references to Redis, network, secret and registry). */
  readonly foundation: FoundationStack;
  /** Repository root relative to the stack's Terraform working directory. */
  readonly rootFromStackDir: string;
  /** Hashed build context; required unless `config.service.image` is set. */
  readonly imageContext?: ImageContext;
}

/**
 * What changes on every release: the image (built by Cloud Build when its content hash changes), the Cloud Run
 * service and its invoker IAM, and the optional HTTPS load balancer with Cloud Armor.
 */
export class AppStack extends TerraformStack {
  /** The image. */
  readonly image: ContainerImage;
  /** The Cloud Run service and its identity. */
  readonly whiteboard: WhiteboardService;
  /** The load balancer, when domains are configured. */
  readonly loadBalancer?: LoadBalancer;
  /** Dashboard, uptime check, alert policies and their channels. */
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id);
    const { config, foundation } = props;
    const base = baseName(config);
    this.addDependency(foundation);
    configureStateBackend(this, {
      bucket: config.state.bucket,
      prefix: config.state.prefix,
      stateName: `${base}-app`,
      rootFromStackDir: props.rootFromStackDir,
    });
    addGoogleProvider(this, config);

    const registry = foundation.registry;
    if (config.service.image !== undefined) {
      this.image = new ContainerImage(this, "container-image", { prebuiltImage: config.service.image });
    } else {
      if (!props.imageContext || !registry.buildServiceAccountEmail || !registry.stagingBucketName) {
        throw new Error(
          "AppStack: building the image needs imageContext and a foundation registry with build resources",
        );
      }
      this.image = new ContainerImage(this, "container-image", {
        repositoryUrl: registry.repositoryUrl,
        imageName: "whiteboard",
        build: {
          contentHash: props.imageContext.contentHash,
          contextEntries: props.imageContext.entries,
          excludedNames: props.imageContext.excludedNames,
          rootFromStackDir: props.rootFromStackDir,
          projectId: config.projectId,
          region: config.region,
          serviceAccountEmail: registry.buildServiceAccountEmail,
          stagingBucket: registry.stagingBucketName,
        },
      });
    }

    const network = foundation.network;
    const vpc: VpcEgress = network.connector
      ? { kind: "connector", connectorId: network.connector.id, egress: config.network.vpcEgress }
      : {
          kind: "direct",
          network: network.vpc.name,
          subnetwork: network.subnet?.name ?? "",
          egress: config.network.vpcEgress,
        };

    const domains = config.loadBalancer.domains;
    const allowedOrigins = [
      ...new Set([...domains.map((domain) => `https://${domain}`), ...config.service.allowedOrigins]),
    ];

    // google-beta only for what needs it: default_uri_disabled is a Beta field in provider 6.50.0.
    const betaProvider = config.service.defaultUriDisabled
      ? new GoogleBetaProvider(this, "google-beta", {
          project: config.projectId,
          region: config.region,
          defaultLabels: defaultLabels(config),
        })
      : undefined;

    const store = foundation.redisStore;
    this.whiteboard = new WhiteboardService(this, "whiteboard", {
      projectId: config.projectId,
      region: config.region,
      name: base,
      serviceAccountEmail: foundation.serviceIdentity.email,
      image: this.image.imageUri,
      redis: {
        host: store.host,
        port: store.port,
        caCertificates: store.caCertificates,
        cluster: store.cluster,
        auth:
          store.authSecret && store.authSecretVersion
            ? { kind: "password", secretId: store.authSecret.secretId, version: store.authSecretVersion.version }
            : { kind: "iam" },
        // A write is acknowledged once a replica of its primary has it, where there is one.
        waitReplicas: (store.cluster ? config.redis.cluster.replicaCount > 0 : config.redis.tier === "STANDARD_HA")
          ? 1
          : 0,
      },
      vpc,
      timeoutSeconds: config.service.timeoutSeconds,
      concurrency: config.service.concurrency,
      minInstances: config.service.minInstances,
      maxInstances: config.service.maxInstances,
      cpu: config.service.cpu,
      memory: config.service.memory,
      cpuAlwaysAllocated: config.service.cpuAlwaysAllocated,
      startupCpuBoost: config.service.startupCpuBoost,
      sessionAffinity: config.service.sessionAffinity,
      internalAndLoadBalancerIngressOnly: domains.length > 0,
      publicAccess: config.service.publicAccess,
      defaultUriDisabled: config.service.defaultUriDisabled,
      ...(betaProvider ? { betaProvider } : {}),
      deletionProtection: config.deletionProtection,
      allowedOrigins,
      logLevel: config.service.logLevel,
      env: config.service.env,
      ...(foundation.metricsConfig
        ? {
            metricsSidecar: {
              image: config.monitoring.sidecar.image,
              cpu: config.monitoring.sidecar.cpu,
              configSecretId: foundation.metricsConfig.secret.secretId,
              configSecretVersion: foundation.metricsConfig.version.version,
            },
          }
        : {}),
      dependsOn: this.image.buildStep ? [this.image.buildStep] : [],
    });

    if (domains.length > 0) {
      const armor = config.loadBalancer.cloudArmor;
      this.loadBalancer = new LoadBalancer(this, "load-balancer", {
        projectId: config.projectId,
        region: config.region,
        baseName: base,
        cloudRunServiceName: this.whiteboard.service.name,
        domains,
        ...(armor.enabled
          ? { rateLimit: { requestsPerInterval: armor.requestsPerInterval, intervalSeconds: armor.intervalSeconds } }
          : {}),
      });
    }

    // The uptime check goes where users go: the load balancer's first domain, else the run.app URL (which
    // defaultUriDisabled turns off, and which needs the load balancer). A service only principals may invoke
    // (publicAccess "none") answers anonymous checkers 403 on either path, so it gets no uptime check.
    const uptimeHost = domains.length > 0 ? domains[0] : Fn.replace(this.whiteboard.uri, "https://", "");
    this.monitoring = new Monitoring(this, "monitoring", {
      projectId: config.projectId,
      baseName: base,
      serviceName: base,
      redisInstanceName: `${base}-redis`,
      redisEngine: config.redis.engine,
      maxInstances: config.service.maxInstances,
      notificationEmails: config.monitoring.notificationEmails,
      ...(config.service.publicAccess !== "none" && uptimeHost !== undefined
        ? {
            uptimeCheck: {
              host: uptimeHost,
              periodSeconds: config.monitoring.uptimeCheck.periodSeconds,
              regions: config.monitoring.uptimeCheck.regions,
            },
          }
        : {}),
      alerts: config.monitoring.alerts,
      ...(this.loadBalancer ? { loadBalancerUrlMap: this.loadBalancer.urlMapName } : {}),
      labels: defaultLabels(config),
      rootFromStackDir: props.rootFromStackDir,
    });

    if (!config.service.defaultUriDisabled) {
      new TerraformOutput(this, "service_url", {
        value: this.whiteboard.uri,
        description: "Cloud Run URL (reachable only through the load balancer when it exists)",
      });
    }
    new TerraformOutput(this, "image", { value: this.image.imageUri, description: "Image the service runs" });
    new TerraformOutput(this, "dashboard", {
      value: this.monitoring.dashboard.id,
      description: "Cloud Monitoring dashboard (Monitoring, Dashboards in the console)",
    });
    if (this.loadBalancer) {
      new TerraformOutput(this, "load_balancer_ip", {
        value: this.loadBalancer.address.address,
        description: "Point each domain's DNS A record here",
      });
      new TerraformOutput(this, "load_balancer_url", {
        value: this.loadBalancer.url,
        description: "Public URL once DNS and the managed certificate are ready",
      });
    }
  }
}
