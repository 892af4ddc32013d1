import { Construct } from "constructs";
import type { ITerraformDependable, TerraformProvider } from "cdktf";
import {
  CloudRunV2Service,
  type CloudRunV2ServiceTemplateContainers,
  type CloudRunV2ServiceTemplateContainersEnv,
  type CloudRunV2ServiceTemplateVolumes,
  type CloudRunV2ServiceTemplateVpcAccess,
} from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import { METRICS_PORT, SIDECAR_CONFIG_DIR, SIDECAR_CONFIG_FILE } from "./metrics-config";

/** The Managed Service for Prometheus sidecar: a second container that scrapes the service's metrics port. */
interface MetricsSidecar {
  /** Its image, pinned. */
  readonly image: string;
  /** Its vCPU, taken out of the instance's: the service's container gets the rest, so the instance stays whole. */
  readonly cpu: number;
  /** Secret id (short name, same project) holding its RunMonitoring configuration; the service account reads it. */
  readonly configSecretId: string;
  /** Secret version to mount (a number, so a new configuration rolls out a new revision). */
  readonly configSecretVersion: string;
}

/** The sidecar's liveness endpoint (its entrypoint listens there, and answers after flushing telemetry). */
const SIDECAR_HEALTH_PORT = 13133;
/** After a drain the service waits this long, at most, for the sidecar's shut-down scrape (METRICS_FINAL_SCRAPE_SECONDS). */
const FINAL_SCRAPE_SECONDS = 2;

/** Where the service finds Redis. All values may be tokens from another stack. */
interface RedisEndpoint {
  /** Host (IP address). */
  readonly host: string;
  /** Port attribute of the instance. */
  readonly port: number;
  /** PEM CA certificate(s) of the instance. */
  readonly caCertificates: string;
  /**
   * How the service authenticates: the AUTH string from Secret Manager (`secretId`, short name in the same project,
   * readable by the service account; `version`, a number, so a new AUTH string rolls out a new revision), or `iam`
   * (an access token of the service's own account, for Memorystore for Redis Cluster).
   */
  readonly auth:
    { readonly kind: "password"; readonly secretId: string; readonly version: string } | { readonly kind: "iam" };
  /** A Redis Cluster: `host` and `port` are its discovery endpoint (REDIS_CLUSTER). @default false */
  readonly cluster?: boolean;
  /**
   * Replicas each write must reach before the service acknowledges it (REDIS_WAIT_REPLICAS): 1 with a replica
   * (STANDARD_HA), so that a failover loses no acknowledged stroke in the common case; 0 without one.
   */
  readonly waitReplicas: number;
}

/** How the service reaches the VPC. */
export type VpcEgress =
  | { readonly kind: "connector"; readonly connectorId: string; readonly egress: "PRIVATE_RANGES_ONLY" | "ALL_TRAFFIC" }
  | {
      readonly kind: "direct";
      readonly network: string;
      readonly subnetwork: string;
      readonly egress: "PRIVATE_RANGES_ONLY" | "ALL_TRAFFIC";
    };

/** Props of {@link WhiteboardService}. */
export interface WhiteboardServiceProps {
  /** Project of the service. */
  readonly projectId: string;
  /** Region of the service. */
  readonly region: string;
  /** Service name. */
  readonly name: string;
  /** Email of the runtime service account (see ServiceIdentity: it must already read the AUTH secret). */
  readonly serviceAccountEmail: string;
  /** Image to run. */
  readonly image: string;
  /** Redis endpoint and credentials. */
  readonly redis: RedisEndpoint;
  /** VPC access (connector or Direct VPC egress). */
  readonly vpc: VpcEgress;
  /** Request timeout in seconds, 1 to 3600 (Cloud Run's range); also passed as REQUEST_TIMEOUT_SECONDS. */
  readonly timeoutSeconds: number;
  /** Maximum concurrent requests per instance, 1 to 1000; also the service's MAX_SOCKETS. */
  readonly concurrency: number;
  /** Minimum instances. */
  readonly minInstances: number;
  /** Maximum instances. */
  readonly maxInstances: number;
  /** CPU limit ("1", "2", "4" or "8"). */
  readonly cpu: string;
  /** Memory limit, e.g. "512Mi". */
  readonly memory: string;
  /** Keep CPU allocated outside requests (cpu_idle = false). */
  readonly cpuAlwaysAllocated: boolean;
  /** Startup CPU boost. */
  readonly startupCpuBoost: boolean;
  /** Cloud Run session affinity. */
  readonly sessionAffinity: boolean;
  /**
   * Only internal and load-balancer traffic may reach the service (set when the load balancer exists); the service
   * then takes the client's address from the load balancer's X-Forwarded-For entry (CLIENT_ADDRESS_HOP=2).
   */
  readonly internalAndLoadBalancerIngressOnly: boolean;
  /**
   * Who may invoke the service: `invoker-check-disabled` (anyone; `invoker_iam_disabled = true`, no IAM binding),
   * `all-users-invoker` (anyone; `roles/run.invoker` for `allUsers`) or `none` (only principals granted the role).
   */
  readonly publicAccess: "invoker-check-disabled" | "all-users-invoker" | "none";
  /**
   * Turn off the run.app URL (`default_uri_disabled`). The field is Beta in hashicorp/google 6.50.0, so the service
   * is then managed by `betaProvider` (google-beta). Only sensible behind a load balancer.
   * @default false
   */
  readonly defaultUriDisabled?: boolean;
  /** The google-beta provider of the stack; required when `defaultUriDisabled` is true. */
  readonly betaProvider?: TerraformProvider;
  /** Refuse deletion of the service (deletion_protection). */
  readonly deletionProtection: boolean;
  /** Origins allowed by the service (ALLOWED_ORIGINS); empty means same-origin only. */
  readonly allowedOrigins: readonly string[];
  /** LOG_LEVEL. */
  readonly logLevel: string;
  /** Extra environment variables. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** The Prometheus sidecar that sends the service's metrics to Cloud Monitoring; none when absent. */
  readonly metricsSidecar?: MetricsSidecar;
  /** Resources the service must wait for (the image build). @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Health as seen from outside (the uptime check): a path that reaches the container through Google's front end.
 * Cloud Run reserves `/eventlog`, paths under `/_ah/` and some paths ending in `z` (its known-issues page advises
 * avoiding every one), which the front end answers itself; the probes below go to the container directly.
 */
export const EXTERNAL_HEALTH_PATH = "/health/live";

/** Container port; the service reads PORT, which Cloud Run sets to this value. */
const CONTAINER_PORT = 8080;

/**
 * The whiteboard on Cloud Run (v2 API): runs as its own service account, HTTP/1 port (WebSockets cannot use
 * h2c), startup probe on /readyz and liveness probe on /healthz, Redis settings as environment variables with
 * the AUTH string from Secret Manager, and the VPC access that reaches Redis.
 */
export class WhiteboardService extends Construct {
  /** The Cloud Run service. */
  readonly service: CloudRunV2Service;

  constructor(scope: Construct, id: string, props: WhiteboardServiceProps) {
    super(scope, id);
    // The configuration already validated these; the construct keeps Cloud Run's own limits for any other caller.
    const check = (ok: boolean, message: string) => {
      if (!ok) throw new Error(`WhiteboardService: ${message}`);
    };
    check(
      Number.isInteger(props.timeoutSeconds) && props.timeoutSeconds >= 1 && props.timeoutSeconds <= 3600,
      "timeoutSeconds must be 1 to 3600",
    );
    check(
      Number.isInteger(props.concurrency) && props.concurrency >= 1 && props.concurrency <= 1000,
      "concurrency must be 1 to 1000",
    );
    check(
      props.minInstances >= 0 && props.minInstances <= props.maxInstances,
      "minInstances must be 0 to maxInstances",
    );
    check(
      !props.defaultUriDisabled || props.betaProvider !== undefined,
      "defaultUriDisabled needs betaProvider (the field is Beta in provider 6.50.0)",
    );

    const env: CloudRunV2ServiceTemplateContainersEnv[] = [
      { name: "NODE_ENV", value: "production" },
      // Node sizes its heap from the machine, not the container: without a limit it grows past the container's memory
      // and Cloud Run kills the instance instead of V8 collecting garbage in time.
      { name: "NODE_OPTIONS", value: `--max-old-space-size=${heapLimitMiB(props.memory)}` },
      { name: "REDIS_HOST", value: props.redis.host },
      { name: "REDIS_PORT", value: `${props.redis.port}` },
      { name: "REDIS_TLS", value: "true" },
      { name: "REDIS_CA_CERT", value: props.redis.caCertificates },
      ...(props.redis.waitReplicas > 0
        ? [{ name: "REDIS_WAIT_REPLICAS", value: String(props.redis.waitReplicas) }]
        : []),
      ...(props.redis.cluster ? [{ name: "REDIS_CLUSTER", value: "true" }] : []),
      props.redis.auth.kind === "iam"
        ? { name: "REDIS_AUTH", value: "iam" }
        : {
            name: "REDIS_PASSWORD",
            valueSource: { secretKeyRef: { secret: props.redis.auth.secretId, version: props.redis.auth.version } },
          },
      { name: "REQUEST_TIMEOUT_SECONDS", value: String(props.timeoutSeconds) },
      // One WebSocket is one Cloud Run request: the service admits no more sockets than the instance's concurrency.
      { name: "MAX_SOCKETS", value: String(props.concurrency) },
      // Which X-Forwarded-For entry is the client (service/client-address.ts): Cloud Run appends the address that
      // reached it (the last entry); the load balancer, the only way in when it exists, appends "<client>,<itself>".
      { name: "CLIENT_ADDRESS_HOP", value: props.internalAndLoadBalancerIngressOnly ? "2" : "1" },
      { name: "LOG_LEVEL", value: props.logLevel },
      // GET /metrics on a port of its own: Cloud Run routes requests only to the ingress port (CONTAINER_PORT).
      { name: "METRICS_PORT", value: String(METRICS_PORT) },
      ...(props.metricsSidecar ? [{ name: "METRICS_FINAL_SCRAPE_SECONDS", value: String(FINAL_SCRAPE_SECONDS) }] : []),
      ...(props.allowedOrigins.length > 0 ? [{ name: "ALLOWED_ORIGINS", value: props.allowedOrigins.join(",") }] : []),
      ...Object.keys(props.env ?? {})
        .sort()
        .map((name) => ({ name, value: (props.env ?? {})[name] ?? "" })),
    ];

    const vpcAccess: CloudRunV2ServiceTemplateVpcAccess =
      props.vpc.kind === "connector"
        ? { connector: props.vpc.connectorId, egress: props.vpc.egress }
        : {
            networkInterfaces: [{ network: props.vpc.network, subnetwork: props.vpc.subnetwork }],
            egress: props.vpc.egress,
          };

    const sidecar = props.metricsSidecar
      ? sidecarContainer(props.metricsSidecar, !props.cpuAlwaysAllocated)
      : undefined;

    this.service = new CloudRunV2Service(this, "service", {
      project: props.projectId,
      location: props.region,
      name: props.name,
      deletionProtection: props.deletionProtection,
      ingress: props.internalAndLoadBalancerIngressOnly
        ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
        : "INGRESS_TRAFFIC_ALL",
      // Public without an IAM binding: no allUsers member, which Domain Restricted Sharing refuses. Needs
      // run.services.setIamPolicy (roles/run.admin) from whoever deploys.
      invokerIamDisabled: props.publicAccess === "invoker-check-disabled",
      template: {
        serviceAccount: props.serviceAccountEmail,
        executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
        timeout: `${props.timeoutSeconds}s`,
        maxInstanceRequestConcurrency: props.concurrency,
        sessionAffinity: props.sessionAffinity,
        scaling: { minInstanceCount: props.minInstances, maxInstanceCount: props.maxInstances },
        vpcAccess,
        ...(sidecar ? { volumes: [sidecar.volume] } : {}),
        containers: [
          {
            name: "whiteboard",
            image: props.image,
            ports: { name: "http1", containerPort: CONTAINER_PORT },
            resources: {
              limits: { cpu: serviceContainerCpu(props.cpu, props.metricsSidecar), memory: props.memory },
              cpuIdle: !props.cpuAlwaysAllocated,
              startupCpuBoost: props.startupCpuBoost,
            },
            env,
            // Ready only once Redis answers: up to 2 + 24 x 5 s, room for Direct VPC egress to come up.
            startupProbe: {
              httpGet: { path: "/readyz", port: CONTAINER_PORT },
              initialDelaySeconds: 2,
              periodSeconds: 5,
              timeoutSeconds: 3,
              failureThreshold: 24,
            },
            // Restart only a process that stopped answering; a Redis outage must not restart every instance.
            livenessProbe: {
              httpGet: { path: "/healthz", port: CONTAINER_PORT },
              periodSeconds: 15,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
          },
          ...(sidecar ? [sidecar.container] : []),
        ],
      },
      dependsOn: props.dependsOn,
      // default_uri_disabled is a Beta field: the API wants the Beta launch stage with it, as google-beta's own
      // acceptance test sets it; that test ignores launch_stage on import (the API may read it back otherwise).
      ...(props.defaultUriDisabled
        ? { provider: props.betaProvider, launchStage: "BETA", lifecycle: { ignoreChanges: ["launch_stage"] } }
        : {}),
    });
    if (props.defaultUriDisabled) this.service.addOverride("default_uri_disabled", true);

    if (props.publicAccess === "all-users-invoker") {
      new CloudRunV2ServiceIamMember(this, "public-invoker", {
        project: props.projectId,
        location: props.region,
        name: this.service.name,
        role: "roles/run.invoker",
        member: "allUsers",
      });
    }
  }

  /** The service's run.app URL. */
  get uri(): string {
    return this.service.uri;
  }
}

/** Share of the service container's memory given to V8's old space (NODE_OPTIONS --max-old-space-size). */
const HEAP_SHARE = 0.75;

/**
 * The heap limit for a container of `memory` (e.g. "512Mi", "2Gi"), in MiB: 75% of it. The rest is headroom for
 * what lives outside V8's old space: the young generation (up to 3 × 16 MiB semi-spaces on 64 bits), code, the
 * socket buffers and TLS state of the open connections (about 20 KB each: 5 MB at 250 sockets) and Node itself.
 */
export function heapLimitMiB(memory: string): number {
  const mi = Number.parseInt(memory, 10) * (memory.endsWith("Gi") ? 1024 : 1);
  return Math.floor(mi * HEAP_SHARE);
}

/** The sidecar's memory: the collector holds one scrape of a few hundred series. */
const SIDECAR_MEMORY = "128Mi";

/**
 * The service container's vCPU: the instance's (`cpu`), less the sidecar's share. Cloud Run adds the containers' CPU
 * into the instance's, which above 1 vCPU must be a whole number; taking the sidecar's share out of the instance keeps
 * it whole at the configured value, and a saturated service reads as a busy instance to the autoscaler.
 */
function serviceContainerCpu(cpu: string, sidecar: MetricsSidecar | undefined): string {
  if (!sidecar) return cpu;
  return String(Math.round((Number(cpu) - sidecar.cpu) * 1000) / 1000);
}

/**
 * The sidecar container and its configuration volume, as Google documents the sidecar for Cloud Run: the RunMonitoring
 * file mounted from Secret Manager at /etc/rungmp/config.yaml, a liveness probe on its port 13133, no ports of its own
 * (only the ingress container may have one), and started after the service's container is healthy (`depends_on`), so
 * that its first scrape finds the metrics endpoint.
 */
function sidecarContainer(
  sidecar: MetricsSidecar,
  cpuIdle: boolean,
): {
  container: CloudRunV2ServiceTemplateContainers;
  volume: CloudRunV2ServiceTemplateVolumes;
} {
  return {
    volume: {
      name: "gmp-config",
      secret: {
        secret: sidecar.configSecretId,
        items: [{ version: sidecar.configSecretVersion, path: SIDECAR_CONFIG_FILE }],
      },
    },
    container: {
      name: "prometheus-sidecar",
      image: sidecar.image,
      dependsOn: ["whiteboard"],
      // Its share of the instance's CPU (see serviceContainerCpu); the memory is added to the instance's.
      // cpu_idle as the service's: the provider sets false on a container whose resources leave it out, and a
      // sidecar with CPU always allocated would bill a request-billed service around the clock.
      resources: { limits: { cpu: String(sidecar.cpu), memory: SIDECAR_MEMORY }, cpuIdle },
      volumeMounts: [{ name: "gmp-config", mountPath: SIDECAR_CONFIG_DIR }],
      // Its /liveness answers after a 5 s pause (it flushes telemetry meanwhile), so the timeout is longer than that.
      livenessProbe: {
        httpGet: { path: "/liveness", port: SIDECAR_HEALTH_PORT },
        periodSeconds: 30,
        timeoutSeconds: 10,
        failureThreshold: 3,
      },
    },
  };
}
