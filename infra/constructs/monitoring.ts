import { Construct } from "constructs";
import { LoggingMetric } from "@cdktf/provider-google/lib/logging-metric";
import {
  MonitoringAlertPolicy,
  type MonitoringAlertPolicyConditions,
} from "@cdktf/provider-google/lib/monitoring-alert-policy";
import { MonitoringDashboard } from "@cdktf/provider-google/lib/monitoring-dashboard";
import { MonitoringNotificationChannel } from "@cdktf/provider-google/lib/monitoring-notification-channel";
import { MonitoringUptimeCheckConfig } from "@cdktf/provider-google/lib/monitoring-uptime-check-config";
import { buildDashboard, redisFilters, type RedisEngine, SERVICE_CONTAINER } from "../monitoring/dashboard";
import { EXTERNAL_HEALTH_PATH } from "./whiteboard-service";
import { TerraformData } from "./terraform-data";

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  readonly projectId: string;
  /** `<prefix>-<env>`: names and titles start with it. */
  readonly baseName: string;
  /** Cloud Run service name (a plain string: the dashboard and filters are built at synth). */
  readonly serviceName: string;
  /** Memorystore instance (or cluster) name. */
  readonly redisInstanceName: string;
  /** Which Memorystore it is: its metrics have other names and resource types. @default "memorystore-redis" */
  readonly redisEngine?: RedisEngine;
  /** `service.maxInstances`. */
  readonly maxInstances: number;
  /** One e-mail notification channel each; none: the policies notify nobody. */
  readonly notificationEmails: readonly string[];
  /**
   * The uptime check of GET /healthz over HTTPS: `host` is the load balancer's first domain or the run.app host (a
   * token). Absent when no anonymous check can reach the service (`service.publicAccess = "none"`).
   */
  readonly uptimeCheck?: { readonly host: string; readonly periodSeconds: number; readonly regions: readonly string[] };
  readonly alerts: {
    readonly instancesPercentOfMax: number;
    readonly redisMemoryPercent: number;
    readonly storeLatencyP99Ms: number;
    readonly errorLogsPerMinute: number;
  };
  /** The load balancer's URL map name, when there is one (charted on the dashboard). */
  readonly loadBalancerUrlMap?: string;
  /** `user_labels` of the policies, channels and check (the provider's default labels do not reach these). */
  readonly labels: Readonly<Record<string, string>>;
  /** Repository root relative to the stack's Terraform working directory (where infra/scripts/ is run from). */
  readonly rootFromStackDir: string;
}

/** Instances that open the "near max instances" alert: `percent` of `max`, rounded up, at least 1. */
export function instancesAlertAt(maxInstances: number, percent: number): number {
  return Math.max(1, Math.ceil((maxInstances * percent) / 100 - 1e-9));
}

/**
 * Terraform reads `${` and `%{` in any string as a template: the dashboard's legend templates (`${metric.labels.x}`)
 * must reach the API as written, so they are escaped (`$${`, `%%{`).
 */
export function terraformLiteral(text: string): string {
  return text.replaceAll("${", () => "$${").replaceAll("%{", () => "%%{");
}

/**
 * What an operator of the service needs: the dashboard, the uptime check, the alert policies and their notification
 * channels, and the log-based metric the error-rate alert counts. Every resource here is deleted by `make destroy`:
 * none has deletion protection, and the channels are deleted even if someone added them to other policies.
 *
 * With no e-mail configured the policies exist and are enabled, open incidents in the console, and notify nobody.
 */
export class Monitoring extends Construct {
  readonly dashboard: MonitoringDashboard;
  readonly channels: MonitoringNotificationChannel[];
  readonly uptimeCheck?: MonitoringUptimeCheckConfig;
  readonly errorLogs: LoggingMetric;
  /** Waits until Cloud Monitoring knows {@link errorLogs}, before the policy that reads it is created. */
  readonly errorLogsVisible: TerraformData;
  readonly policies: MonitoringAlertPolicy[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { projectId, baseName, serviceName, alerts } = props;
    const labels = { ...props.labels };
    const instancesAt = instancesAlertAt(props.maxInstances, alerts.instancesPercentOfMax);

    this.channels = props.notificationEmails.map(
      (email, index) =>
        new MonitoringNotificationChannel(this, `email-${index}`, {
          project: projectId,
          displayName: `${baseName} on-call: ${email}`,
          type: "email",
          labels: { email_address: email },
          userLabels: labels,
          forceDelete: true,
        }),
    );
    const notificationChannels = this.channels.map((channel) => channel.name);

    const policy = (
      name: string,
      displayName: string,
      severity: "CRITICAL" | "ERROR" | "WARNING",
      condition: MonitoringAlertPolicyConditions,
      runbook: string,
      dependsOn: TerraformData[] = [],
    ) => {
      const created = new MonitoringAlertPolicy(this, `alert-${name}`, {
        project: projectId,
        displayName: `${baseName}: ${displayName}`,
        combiner: "OR",
        enabled: true,
        severity,
        conditions: [condition],
        notificationChannels,
        alertStrategy: { autoClose: "1800s" },
        documentation: { mimeType: "text/markdown", subject: `${baseName}: ${displayName}`, content: runbook },
        userLabels: labels,
        ...(dependsOn.length > 0 ? { dependsOn } : {}),
      });
      this.policies.push(created);
      return created;
    };

    if (props.uptimeCheck) {
      const { host, periodSeconds, regions } = props.uptimeCheck;
      this.uptimeCheck = new MonitoringUptimeCheckConfig(this, "uptime-check", {
        project: projectId,
        displayName: `${baseName} ${EXTERNAL_HEALTH_PATH}`,
        timeout: "10s",
        period: `${periodSeconds}s`,
        selectedRegions: [...regions],
        checkerType: "STATIC_IP_CHECKERS",
        logCheckFailures: true,
        httpCheck: {
          path: EXTERNAL_HEALTH_PATH,
          port: 443,
          useSsl: true,
          validateSsl: true,
          requestMethod: "GET",
          acceptedResponseStatusCodes: [{ statusClass: "STATUS_CLASS_2XX" }],
        },
        contentMatchers: [{ content: "ok", matcher: "CONTAINS_STRING" }],
        monitoredResource: { type: "uptime_url", labels: { project_id: projectId, host } },
        userLabels: labels,
      });
      // Google's form for an uptime alert: per checker location, the latest result in the window; the condition holds
      // when more than one location fails, so one flaky checker does not page anyone.
      policy(
        "service-down",
        `service down (uptime check of ${EXTERNAL_HEALTH_PATH} failing)`,
        "CRITICAL",
        {
          displayName: `${EXTERNAL_HEALTH_PATH} failing from more than one region`,
          conditionThreshold: {
            filter: `metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND resource.type="uptime_url" AND metric.label.check_id="${this.uptimeCheck.uptimeCheckId}"`,
            aggregations: [
              {
                alignmentPeriod: `${Math.max(120, 2 * periodSeconds)}s`,
                perSeriesAligner: "ALIGN_NEXT_OLDER",
                crossSeriesReducer: "REDUCE_COUNT_FALSE",
                groupByFields: ["resource.label.*"],
              },
            ],
            comparison: "COMPARISON_GT",
            thresholdValue: 1,
            duration: "60s",
            trigger: { count: 1 },
          },
        },
        RUNBOOK.serviceDown(serviceName),
      );
    }

    policy(
      "instances-near-max",
      `instances at ${alerts.instancesPercentOfMax}% of the maximum (${instancesAt} of ${props.maxInstances})`,
      "WARNING",
      {
        displayName: `${instancesAt} or more instances for 5 minutes`,
        conditionThreshold: {
          // One series per container of an instance: the service's container alone counts each instance once.
          filter: `metric.type="run.googleapis.com/container/instance_count" AND resource.type="cloud_run_revision" AND resource.label.service_name="${serviceName}" AND metric.label.container_name="${SERVICE_CONTAINER}"`,
          aggregations: [
            {
              alignmentPeriod: "60s",
              perSeriesAligner: "ALIGN_MAX",
              crossSeriesReducer: "REDUCE_SUM",
              groupByFields: ["resource.label.service_name"],
            },
          ],
          comparison: "COMPARISON_GT",
          thresholdValue: instancesAt - 0.5,
          duration: "300s",
          trigger: { count: 1 },
        },
      },
      RUNBOOK.instances(props.maxInstances),
    );

    policy(
      "redis-memory",
      `Redis memory above ${alerts.redisMemoryPercent}%`,
      "ERROR",
      {
        displayName: `memory usage ratio above ${alerts.redisMemoryPercent / 100} for 5 minutes`,
        conditionThreshold: {
          filter: redisFilters(props.redisEngine ?? "memorystore-redis", props.redisInstanceName).memory,
          aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_MAX", crossSeriesReducer: "REDUCE_MAX" }],
          comparison: "COMPARISON_GT",
          thresholdValue: alerts.redisMemoryPercent / 100,
          duration: "300s",
          trigger: { count: 1 },
        },
      },
      RUNBOOK.redisMemory,
    );

    // The service's own histogram, through the Prometheus sidecar, in PromQL. The metric exists only after the first
    // scrape, so the API must not refuse the policy for a metric it has not seen yet.
    const p99 = `histogram_quantile(0.99, sum by (le) (rate(whiteboard_store_call_seconds_bucket{namespace="${serviceName}",script=~"draw|set_visibility|edit|clear|unclear"}[5m])))`;
    policy(
      "store-latency",
      `store latency p99 above ${alerts.storeLatencyP99Ms} ms`,
      "WARNING",
      {
        displayName: `p99 of store writes above ${alerts.storeLatencyP99Ms} ms for 5 minutes`,
        conditionPrometheusQueryLanguage: {
          query: `${p99} > ${alerts.storeLatencyP99Ms / 1000}`,
          duration: "300s",
          evaluationInterval: "60s",
          disableMetricValidation: true,
        },
      },
      RUNBOOK.storeLatency,
    );

    this.errorLogs = new LoggingMetric(this, "error-logs", {
      project: projectId,
      name: `${baseName}-error-logs`,
      description: `Log entries of severity ERROR or worse from the Cloud Run service ${serviceName}`,
      filter: `resource.type="cloud_run_revision" AND resource.labels.service_name="${serviceName}" AND severity>=ERROR`,
      metricDescriptor: {
        metricKind: "DELTA",
        valueType: "INT64",
        unit: "1",
        displayName: `${baseName} error log entries`,
      },
    });
    // The first apply creates the metric and the policy together; the Monitoring API refuses a policy on a log-based
    // metric it does not know yet (up to ~10 minutes), and the provider does not retry that (infra/README.md).
    this.errorLogsVisible = new TerraformData(this, "error-logs-visible", {
      triggersReplace: { metric: this.errorLogs.id },
      provisioners: [
        {
          type: "local-exec",
          workingDir: props.rootFromStackDir,
          command: "bash infra/scripts/wait-for-metric.sh",
          environment: { PROJECT_ID: projectId, METRIC_TYPE: `logging.googleapis.com/user/${this.errorLogs.name}` },
        },
      ],
    });
    policy(
      "error-logs",
      `more than ${alerts.errorLogsPerMinute} error log entries a minute`,
      "ERROR",
      {
        displayName: `error entries above ${alerts.errorLogsPerMinute} a minute for 5 minutes`,
        conditionThreshold: {
          filter: `metric.type="logging.googleapis.com/user/${this.errorLogs.name}" AND resource.type="cloud_run_revision"`,
          aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_DELTA", crossSeriesReducer: "REDUCE_SUM" }],
          comparison: "COMPARISON_GT",
          thresholdValue: alerts.errorLogsPerMinute,
          duration: "300s",
          trigger: { count: 1 },
        },
      },
      RUNBOOK.errorLogs(serviceName),
      [this.errorLogsVisible],
    );

    this.dashboard = new MonitoringDashboard(this, "dashboard", {
      project: projectId,
      dashboardJson: terraformLiteral(
        JSON.stringify(
          buildDashboard({
            displayName: `${baseName} whiteboard`,
            serviceName,
            redisInstanceName: props.redisInstanceName,
            ...(props.redisEngine ? { redisEngine: props.redisEngine } : {}),
            maxInstances: props.maxInstances,
            instancesAlertAt: instancesAt,
            redisMemoryRatioAlert: alerts.redisMemoryPercent / 100,
            storeLatencyP99Seconds: alerts.storeLatencyP99Ms / 1000,
            ...(props.loadBalancerUrlMap ? { loadBalancerUrlMap: props.loadBalancerUrlMap } : {}),
          }),
        ),
      ),
    });
  }
}

/** What the operator does, in each policy's documentation (shown in the incident and the notification). */
const RUNBOOK = {
  serviceDown: (service: string) =>
    [
      `GET ${EXTERNAL_HEALTH_PATH} fails from more than one region: nobody can open the whiteboard.`,
      `1. Cloud Run console, service \`${service}\`: is the latest revision ready? A failing startup probe (/readyz) means it cannot reach Redis.`,
      "2. Logs of the revision: `severity>=ERROR`. A crash loop shows `uncaught exception` or `cannot listen`.",
      "3. Behind the load balancer: the managed certificate must be ACTIVE and DNS must point at the load balancer's address.",
      "4. Roll back to the previous revision (Cloud Run console, Revisions, Manage traffic) if the last deploy caused it.",
    ].join("\n"),
  instances: (max: number) =>
    [
      `The service runs close to its maximum of ${max} instances; past it Cloud Run answers new connections with HTTP 429.`,
      "1. Dashboard: connections and strokes per second. A real rise in users: raise `service.maxInstances` in infra/env/<env>.json and deploy.",
      "2. Instances without users (connections flat): check CPU and event-loop lag; a slow Redis keeps requests open longer.",
    ].join("\n"),
  redisMemory: [
    "Redis holds more than the alert's share of maxmemory. At 90% the service makes clears delete at once; at 100% every write is refused (`storage_full`).",
    "1. Dashboard: Redis memory usage ratio. Boards expire after BOARD_IDLE_TTL_SECONDS without use; a steady climb means more boards than the instance holds.",
    "2. Raise `redis.memorySizeGb` in infra/env/<env>.json and deploy (Memorystore scales in place; STANDARD_HA without downtime), or lower BOARD_IDLE_TTL_SECONDS through `service.env`.",
  ].join("\n"),
  storeLatency: [
    "Storing strokes is slow: users see their lines acknowledged late. Every stroke waits for its store call.",
    "1. Dashboard: Redis PING p99 and event-loop lag. PING slow too: Redis or the network (Memorystore CPU, maintenance, the VPC connector's throughput).",
    "2. PING fast but stores slow: a very busy board or a large snapshot read; check strokes per second and the instances' CPU.",
  ].join("\n"),
  errorLogs: (service: string) =>
    [
      "The service logs errors faster than the threshold.",
      `1. Logs Explorer: \`resource.type="cloud_run_revision" resource.labels.service_name="${service}" severity>=ERROR\`, grouped by message.`,
      "2. `redis connection error`: Redis unreachable (see the Redis charts); `unhandled promise rejection`: a bug, file it with the stack.",
    ].join("\n"),
};
