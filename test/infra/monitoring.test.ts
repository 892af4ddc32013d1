/**
 * Properties of what an operator gets with the stacks (docs/operations.md): the Prometheus sidecar as a second
 * container of the service and its configuration secret, the uptime check, the alert policies and their channels, the
 * log-based metric and the dashboard. Each test reads the synthesized JSON; the dashboard is parsed back from
 * `dashboard_json`.
 */
import fc from "fast-check";
import { METRICS_PORT, runMonitoringYaml } from "../../infra/constructs/metrics-config";
import { instancesAlertAt, terraformLiteral } from "../../infra/constructs/monitoring";
import { CPU_VALUES, type InfraConfigInput } from "../../infra/config/schema";
import { buildDashboard, type Dashboard } from "../../infra/monitoring/dashboard";
import {
  BASE_INPUT,
  addressWhere,
  container,
  containerEnv,
  crossStackSource,
  onlyResource,
  resources,
  stack,
  synthesize,
  type TerraformJson,
} from "./helpers";
import { objectContaining } from "../support/matchers";

function environment(input: InfraConfigInput): { foundation: TerraformJson; app: TerraformJson } {
  const env = input.environment ?? "dev";
  const stacks = synthesize(input);
  return { foundation: stack(stacks, `${env}-foundation`), app: stack(stacks, `${env}-app`) };
}

const DOMAINS = ["board.example.com", "www.board.example.com"];
const dev = environment({ ...BASE_INPUT });
const prodLb = environment({
  ...BASE_INPUT,
  environment: "prod",
  service: { defaultUriDisabled: true },
  loadBalancer: { domains: DOMAINS },
});
const EMAILS = ["oncall@example.com", "team+boards@example.org"];
const tuned = environment({
  ...BASE_INPUT,
  service: { maxInstances: 10 },
  monitoring: {
    notificationEmails: EMAILS,
    sidecar: { scrapeIntervalSeconds: 15 },
    uptimeCheck: { periodSeconds: 300, regions: ["USA_OREGON", "USA_IOWA", "USA_VIRGINIA", "EUROPE"] },
    alerts: { instancesPercentOfMax: 50, redisMemoryPercent: 90, storeLatencyP99Ms: 100, errorLogsPerMinute: 3 },
  },
});
/** A private service (only principals may invoke it) without the sidecar. */
const bare = environment({
  ...BASE_INPUT,
  service: { publicAccess: "none" },
  monitoring: { sidecar: { enabled: false } },
});

const containers = (json: TerraformJson) =>
  (onlyResource(json, "google_cloud_run_v2_service").template as { containers: Array<Record<string, unknown>> })
    .containers;
const template = (json: TerraformJson) =>
  onlyResource(json, "google_cloud_run_v2_service").template as Record<string, unknown>;
const policies = (json: TerraformJson) => resources(json, "google_monitoring_alert_policy");
const policy = (json: TerraformJson, fragment: string) => {
  const found = policies(json).filter((body) => String(body.display_name).includes(fragment));
  if (found.length !== 1) throw new Error(`expected one policy named like "${fragment}", found ${found.length}`);
  return found[0] as Record<string, unknown>;
};
type Condition = {
  display_name: string;
  condition_threshold?: Record<string, unknown>;
  condition_prometheus_query_language?: Record<string, unknown>;
};
const condition = (body: Record<string, unknown>) => (body.conditions as Condition[])[0] as Condition;
/** The dashboard as the API receives it: Terraform turns `$${` back into `${`. */
const dashboard = (json: TerraformJson): Dashboard =>
  JSON.parse(
    String(onlyResource(json, "google_monitoring_dashboard").dashboard_json)
      .replaceAll("$${", "${")
      .replaceAll("%%{", "%{"),
  ) as Dashboard;
const titles = (json: TerraformJson) => dashboard(json).mosaicLayout.tiles.map((tile) => tile.widget.title);

describe("the Managed Service for Prometheus sidecar", () => {
  const sidecar = (json: TerraformJson) => containers(json)[1] as Record<string, unknown>;

  test("is the service's second container, pinned, started after the service's container is healthy", () => {
    for (const json of [dev.app, prodLb.app]) {
      expect(containers(json).map((c) => c.name)).toEqual(["whiteboard", "prometheus-sidecar"]);
      expect(sidecar(json)).toEqual(
        expect.objectContaining({
          image: "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.7.0",
          depends_on: ["whiteboard"],
        }),
      );
    }
  });

  test("takes its CPU out of the instance's: the containers add up to service.cpu, a whole number of at most 8 vCPU", () => {
    expect(sidecar(dev.app).resources).toEqual(expect.objectContaining({ limits: { cpu: "0.08", memory: "128Mi" } }));
    expect((container(dev.app).resources as { limits: { cpu: string } }).limits.cpu).toBe("0.92");
    for (const cpu of CPU_VALUES) {
      for (const share of [0.123, 0.5]) {
        const json = environment({
          ...BASE_INPUT,
          service: { cpu, memory: "4Gi" },
          monitoring: { sidecar: { cpu: share } },
        }).app;
        const total = containers(json).reduce(
          (sum, c) => sum + Number((c.resources as { limits: { cpu: string } }).limits.cpu),
          0,
        );
        expect(Math.round(total * 1000) / 1000).toBe(Number(cpu));
        expect(total).toBeLessThanOrEqual(8);
      }
    }
  });

  test("only the ingress container has a port: the metrics port is reachable from inside the instance only", () => {
    expect(container(dev.app).ports).toEqual({ name: "http1", container_port: 8080 });
    expect(sidecar(dev.app).ports).toBeUndefined();
    expect(containerEnv(dev.app).METRICS_PORT).toEqual({ value: String(METRICS_PORT) });
    expect(METRICS_PORT).not.toBe(8080);
    // The service waits (at most 2 s of its 8 s drain) for the sidecar's shut-down scrape.
    expect(containerEnv(dev.app).METRICS_FINAL_SCRAPE_SECONDS).toEqual({ value: "2" });
  });

  test("reads its RunMonitoring configuration from Secret Manager, mounted where it looks, pinned to the version", () => {
    expect(sidecar(dev.app).volume_mounts).toEqual([{ name: "gmp-config", mount_path: "/etc/rungmp/" }]);
    const [volume] = template(dev.app).volumes as Array<{
      name: string;
      secret: { secret: string; items: Array<{ path: string; version: string }> };
    }>;
    expect(volume?.name).toBe("gmp-config");
    const gmp = addressWhere(
      dev.foundation,
      "google_secret_manager_secret",
      (body) => body.secret_id === "whiteboard-dev-gmp-config",
    );
    expect(crossStackSource(dev.foundation, volume?.secret.secret ?? "")).toBe(`\${${gmp}.secret_id}`);
    expect(volume?.secret.items).toHaveLength(1);
    expect(volume?.secret.items[0]?.path).toBe("config.yaml");
    const version = addressWhere(
      dev.foundation,
      "google_secret_manager_secret_version",
      (body) => body.secret === `\${${gmp}.id}`,
    );
    expect(crossStackSource(dev.foundation, volume?.secret.items[0]?.version ?? "")).toBe(`\${${version}.version}`);
  });

  test("the configuration scrapes GET /metrics on the metrics port at the configured interval", () => {
    const data = (json: TerraformJson) =>
      resources(json, "google_secret_manager_secret_version")
        .map((body) => body.secret_data)
        .find((text) => String(text).includes("RunMonitoring"));
    expect(data(dev.foundation)).toBe(runMonitoringYaml(60));
    expect(data(tuned.foundation)).toBe(runMonitoringYaml(15));
    expect(runMonitoringYaml(30)).toContain(`port: "${METRICS_PORT}"`);
    expect(runMonitoringYaml(30)).toContain("path: /metrics");
    expect(runMonitoringYaml(30)).toContain("interval: 30s");
  });

  test("its liveness probe waits longer than the sidecar's 5 s flush, within the period", () => {
    const probe = sidecar(dev.app).liveness_probe as {
      http_get: { path: string; port: number };
      timeout_seconds: number;
      period_seconds: number;
    };
    expect(probe.http_get).toEqual({ path: "/liveness", port: 13133 });
    expect(probe.timeout_seconds).toBeGreaterThan(5);
    expect(probe.timeout_seconds).toBeLessThan(probe.period_seconds);
  });

  test("turned off: one container, no configuration secret, no metric writer role", () => {
    expect(containers(bare.app).map((c) => c.name)).toEqual(["whiteboard"]);
    expect(template(bare.app).volumes).toBeUndefined();
    expect(resources(bare.foundation, "google_secret_manager_secret").map((body) => body.secret_id)).toEqual([
      "whiteboard-dev-redis-auth",
    ]);
    expect(resources(bare.foundation, "google_project_iam_member").map((body) => body.role)).not.toContain(
      "roles/monitoring.metricWriter",
    );
    expect(containerEnv(bare.app).METRICS_FINAL_SCRAPE_SECONDS).toBeUndefined();
  });
});

describe("uptime check", () => {
  test("GET /health/live over HTTPS on the run.app host without a load balancer (no path ending in z)", () => {
    const check = onlyResource(dev.app, "google_monitoring_uptime_check_config");
    expect(check).toEqual(
      expect.objectContaining({
        period: "60s",
        timeout: "10s",
        selected_regions: ["USA", "EUROPE", "ASIA_PACIFIC"],
        http_check: objectContaining({
          path: "/health/live",
          port: 443,
          use_ssl: true,
          validate_ssl: true,
          request_method: "GET",
        }),
        content_matchers: [{ content: "ok", matcher: "CONTAINS_STRING" }],
      }),
    );
    const resource = check.monitored_resource as { type: string; labels: Record<string, string> };
    expect(resource.type).toBe("uptime_url");
    expect(resource.labels.project_id).toBe(BASE_INPUT.projectId);
    expect(resource.labels.host).toMatch(
      /^\$\{replace\(google_cloud_run_v2_service\.[\w-]+\.uri, "https:\/\/", ""\)\}$/,
    );
  });

  test("on the load balancer's first domain when there is one (the run.app URL may be off)", () => {
    const check = onlyResource(prodLb.app, "google_monitoring_uptime_check_config");
    expect((check.monitored_resource as { labels: Record<string, string> }).labels.host).toBe("board.example.com");
  });

  test("period and regions from the configuration", () => {
    expect(onlyResource(tuned.app, "google_monitoring_uptime_check_config")).toEqual(
      expect.objectContaining({
        period: "300s",
        selected_regions: ["USA_OREGON", "USA_IOWA", "USA_VIRGINIA", "EUROPE"],
      }),
    );
  });

  test("none for a service anonymous checkers cannot call, and so no service-down policy", () => {
    expect(resources(bare.app, "google_monitoring_uptime_check_config")).toEqual([]);
    expect(policies(bare.app).map((body) => body.display_name)).not.toContainEqual(
      expect.stringContaining("service down"),
    );
  });
});

describe("alert policies", () => {
  test("service down, instances near max, Redis memory, store latency and error logs; enabled, with their runbook", () => {
    expect(
      policies(dev.app)
        .map((body) => body.display_name)
        .sort(),
    ).toEqual([
      "whiteboard-dev: Redis memory above 80%",
      "whiteboard-dev: instances at 80% of the maximum (3 of 3)",
      "whiteboard-dev: more than 10 error log entries a minute",
      "whiteboard-dev: service down (uptime check of /health/live failing)",
      "whiteboard-dev: store latency p99 above 250 ms",
    ]);
    for (const body of policies(dev.app)) {
      expect(body).toEqual(expect.objectContaining({ enabled: true, combiner: "OR" }));
      expect((body.documentation as { content: string; mime_type: string }).mime_type).toBe("text/markdown");
      expect((body.documentation as { content: string }).content.length).toBeGreaterThan(100);
    }
  });

  test("no channel configured: the policies exist but notify nobody", () => {
    expect(resources(dev.app, "google_monitoring_notification_channel")).toEqual([]);
    for (const body of policies(dev.app)) expect(body.notification_channels).toEqual([]);
  });

  test("one e-mail channel per address, on every policy, deleted by destroy whatever refers to it", () => {
    const channels = resources(tuned.app, "google_monitoring_notification_channel");
    expect(channels.map((body) => (body.labels as Record<string, string>).email_address)).toEqual(EMAILS);
    for (const body of channels) expect(body).toEqual(expect.objectContaining({ type: "email", force_delete: true }));
    const names = Object.keys(tuned.app.resource?.google_monitoring_notification_channel ?? {}).map(
      (name) => `\${google_monitoring_notification_channel.${name}.name}`,
    );
    for (const body of policies(tuned.app)) expect(body.notification_channels).toEqual(names);
  });

  test("service down: more than one checker location failing the check, Google's uptime alert form", () => {
    const threshold = condition(policy(dev.app, "service down")).condition_threshold as Record<string, unknown>;
    const check = Object.keys(dev.app.resource?.google_monitoring_uptime_check_config ?? {})[0];
    expect(threshold.filter).toBe(
      `metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND resource.type="uptime_url" AND metric.label.check_id="\${google_monitoring_uptime_check_config.${check}.uptime_check_id}"`,
    );
    expect(threshold).toEqual(expect.objectContaining({ comparison: "COMPARISON_GT", threshold_value: 1 }));
    expect(threshold.aggregations).toEqual([
      {
        alignment_period: "120s",
        per_series_aligner: "ALIGN_NEXT_OLDER",
        cross_series_reducer: "REDUCE_COUNT_FALSE",
        group_by_fields: ["resource.label.*"],
      },
    ]);
    expect(policy(dev.app, "service down").severity).toBe("CRITICAL");
  });

  test("instances: the service's instance count at the configured share of its maximum", () => {
    const threshold = (json: TerraformJson) =>
      condition(policy(json, "instances at")).condition_threshold as Record<string, unknown>;
    expect(threshold(dev.app).filter).toBe(
      'metric.type="run.googleapis.com/container/instance_count" AND resource.type="cloud_run_revision" AND resource.label.service_name="whiteboard-dev" AND metric.label.container_name="whiteboard"',
    );
    expect(threshold(dev.app).threshold_value).toBe(2.5); // 80% of 3, rounded up: 3 instances
    expect(threshold(prodLb.app).threshold_value).toBe(15.5); // 80% of 20: 16
    expect(threshold(tuned.app).threshold_value).toBe(4.5); // 50% of 10: 5
  });

  test("the instances threshold is the least whole count at or above the share, as a property", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 10, max: 100 }), (max, percent) => {
        const at = instancesAlertAt(max, percent);
        expect(at).toBeGreaterThanOrEqual((max * percent) / 100 - 1e-9);
        expect(at - 1).toBeLessThan(Math.max(1, (max * percent) / 100));
        expect(at).toBeLessThanOrEqual(max);
      }),
      { numRuns: 200 },
    );
  });

  test("Redis memory: the instance's usage ratio above the configured share", () => {
    const threshold = condition(policy(tuned.app, "Redis memory")).condition_threshold as Record<string, unknown>;
    expect(String(threshold.filter)).toContain(
      'metric.type="redis.googleapis.com/stats/memory/usage_ratio" AND resource.type="redis_instance"',
    );
    expect(String(threshold.filter)).toContain('monitoring.regex.full_match(".*/instances/whiteboard-dev-redis")');
    expect(threshold.threshold_value).toBe(0.9);
  });

  test("store latency: PromQL over the service's own histogram, allowed before the metric first arrives", () => {
    const promql = condition(policy(tuned.app, "store latency")).condition_prometheus_query_language as Record<
      string,
      unknown
    >;
    expect(promql).toEqual(
      expect.objectContaining({ duration: "300s", evaluation_interval: "60s", disable_metric_validation: true }),
    );
    expect(promql.query).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(whiteboard_store_call_seconds_bucket{namespace="whiteboard-dev",script=~"draw|set_visibility|edit|clear|unclear"}[5m]))) > 0.1',
    );
  });

  test("error logs: a log-based counter of the service's ERROR entries, and a policy on its rate per minute", () => {
    const metric = onlyResource(dev.app, "google_logging_metric");
    expect(metric).toEqual(
      expect.objectContaining({
        name: "whiteboard-dev-error-logs",
        filter:
          'resource.type="cloud_run_revision" AND resource.labels.service_name="whiteboard-dev" AND severity>=ERROR',
        metric_descriptor: objectContaining({ metric_kind: "DELTA", value_type: "INT64" }),
      }),
    );
    const threshold = condition(policy(tuned.app, "error log")).condition_threshold as Record<string, unknown>;
    const name = Object.keys(tuned.app.resource?.google_logging_metric ?? {})[0];
    expect(threshold.filter).toBe(
      `metric.type="logging.googleapis.com/user/\${google_logging_metric.${name}.name}" AND resource.type="cloud_run_revision"`,
    );
    expect(threshold).toEqual(expect.objectContaining({ threshold_value: 3, duration: "300s" }));
    expect(threshold.aggregations).toEqual([
      { alignment_period: "60s", per_series_aligner: "ALIGN_DELTA", cross_series_reducer: "REDUCE_SUM" },
    ]);
  });

  test("nothing here survives make destroy: no prevent_destroy, no deletion protection", () => {
    for (const type of [
      "google_monitoring_alert_policy",
      "google_monitoring_dashboard",
      "google_monitoring_uptime_check_config",
      "google_monitoring_notification_channel",
      "google_logging_metric",
    ]) {
      for (const body of resources(tuned.app, type)) {
        expect(body.lifecycle).toBeUndefined();
        expect(body.deletion_protection).toBeUndefined();
      }
    }
  });
});

describe("dashboard", () => {
  test("charts connections, strokes, store latency p50/p99, instances against max, CPU, memory and Redis", () => {
    expect(titles(dev.app)).toEqual([
      "Open connections and boards",
      "Operations stored per second",
      "Store latency (writes): p50 and p99",
      "Refusals per second, by code",
      "Instances (max 3)",
      "Broadcast fan-out per second",
      "CPU utilization of the service's container: p50 and p99",
      "Memory utilization of the service's container: p50 and p99",
      "Redis memory usage ratio",
      "Redis connected clients",
      "Catch-up answers: p99 time by kind",
      "Event-loop lag p99 (max of instances) and Redis PING p99",
    ]);
  });

  test("with the load balancer: its requests by response class and its 429s too", () => {
    expect(titles(prodLb.app).slice(-2)).toEqual([
      "Load balancer requests per second, by response class",
      "Load balancer 429s per second (Cloud Armor's throttle)",
    ]);
    const tiles = dashboard(prodLb.app).mosaicLayout.tiles;
    const filter = (
      tiles[tiles.length - 1]?.widget.xyChart.dataSets[0]?.timeSeriesQuery as { timeSeriesFilter: { filter: string } }
    ).timeSeriesFilter.filter;
    expect(filter).toContain('resource.label.url_map_name="whiteboard-prod-url-map"');
    expect(filter).toContain("metric.label.response_code=429");
  });

  test("draws the alert thresholds: max instances and the alert's count, the latency and Redis limits", () => {
    const tile = (title: string) =>
      dashboard(tuned.app).mosaicLayout.tiles.find((t) => t.widget.title.startsWith(title))?.widget.xyChart;
    expect(tile("Instances")?.thresholds?.map((t) => t.value)).toEqual([10, 5]);
    expect(tile("Store latency")?.thresholds?.map((t) => t.value)).toEqual([0.1]);
    expect(tile("Redis memory")?.thresholds?.map((t) => t.value)).toEqual([0.9]);
  });

  test("the service's metrics are PromQL narrowed to this service; Google's metrics are filters on its resources", () => {
    for (const tile of dashboard(dev.app).mosaicLayout.tiles) {
      for (const dataSet of tile.widget.xyChart.dataSets) {
        const query = dataSet.timeSeriesQuery;
        if ("prometheusQuery" in query) expect(query.prometheusQuery).toContain('namespace="whiteboard-dev"');
        else
          expect(query.timeSeriesFilter.filter).toMatch(
            /service_name="whiteboard-dev"|instances\/whiteboard-dev-redis/,
          );
      }
    }
  });

  test("tiles fit the 48-column grid without overlapping", () => {
    for (const json of [dev.app, prodLb.app]) {
      const { columns, tiles } = dashboard(json).mosaicLayout;
      expect(columns).toBe(48);
      const cells = new Set<string>();
      for (const tile of tiles) {
        expect(tile.xPos + tile.width).toBeLessThanOrEqual(columns);
        for (let x = tile.xPos; x < tile.xPos + tile.width; x += 1) {
          for (let y = tile.yPos; y < tile.yPos + tile.height; y += 1) {
            expect(cells.has(`${x},${y}`)).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
    }
  });

  test("dashboard_json is the builder's object, with Terraform's template characters escaped", () => {
    const raw = String(onlyResource(dev.app, "google_monitoring_dashboard").dashboard_json);
    expect(raw).not.toMatch(/(^|[^$])\$\{/);
    expect(raw).toContain("$${kind}");
    expect(terraformLiteral("a ${x} %{y}")).toBe("a $${x} %%{y}");
    expect(dashboard(dev.app)).toEqual(
      buildDashboard({
        displayName: "whiteboard-dev whiteboard",
        serviceName: "whiteboard-dev",
        redisInstanceName: "whiteboard-dev-redis",
        maxInstances: 3,
        instancesAlertAt: 3,
        redisMemoryRatioAlert: 0.8,
        storeLatencyP99Seconds: 0.25,
      }),
    );
  });

  test("the app stack outputs the dashboard's id", () => {
    expect(dev.app.output?.dashboard?.value).toBe(
      `\${${Object.keys(dev.app.resource?.google_monitoring_dashboard ?? {}).map((name) => `google_monitoring_dashboard.${name}`)[0]}.id}`,
    );
  });
});
