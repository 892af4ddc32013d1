/**
 * The Cloud Monitoring dashboard of one environment, built as a typed object (the Dashboard REST resource,
 * monitoring.googleapis.com/v1 `projects.dashboards`) and serialized by the stack into `dashboard_json`.
 *
 * The service's own metrics come from the Managed Service for Prometheus sidecar and are queried in PromQL by their
 * Prometheus names (`timeSeriesQuery.prometheusQuery`), narrowed to this service by the `namespace` label the sidecar
 * sets to the Cloud Run service's name. Google's built-in metrics (Cloud Run, Memorystore, the load balancer) are
 * queried with Monitoring filters (`timeSeriesQuery.timeSeriesFilter`), whose metric names are not in doubt.
 *
 * Pure: no cdktf, so tests and the local preview (local/dashboard-preview.ts) use it directly.
 */

/** What the dashboard shows, and the thresholds it draws. */
export interface DashboardOptions {
  /** Title, e.g. "whiteboard-dev". */
  readonly displayName: string;
  /** Cloud Run service name (also the `namespace` label of the sidecar's series). */
  readonly serviceName: string;
  /** Memorystore instance (or cluster) name (`<base>-redis`). */
  readonly redisInstanceName: string;
  /** Which Memorystore it is. @default "memorystore-redis" */
  readonly redisEngine?: RedisEngine;
  /** `service.maxInstances`, drawn on the instances chart. */
  readonly maxInstances: number;
  /** Thresholds of the alerts, drawn on their charts. */
  readonly instancesAlertAt: number;
  readonly redisMemoryRatioAlert: number;
  readonly storeLatencyP99Seconds: number;
  /** The load balancer's URL map, when there is one (its requests, 4xx/5xx and 429s are charted). */
  readonly loadBalancerUrlMap?: string;
}

/** A chart's data set: a PromQL query or a Monitoring filter. */
interface DataSet {
  timeSeriesQuery:
    | { prometheusQuery: string; unitOverride?: string }
    | {
        timeSeriesFilter: {
          filter: string;
          aggregation: {
            alignmentPeriod: string;
            perSeriesAligner: string;
            crossSeriesReducer?: string;
            groupByFields?: string[];
          };
        };
        unitOverride?: string;
      };
  plotType: "LINE" | "STACKED_AREA" | "STACKED_BAR";
  legendTemplate?: string;
  minAlignmentPeriod?: string;
  targetAxis: "Y1";
}

/** A horizontal line on a chart (XyChart thresholds take no color or direction). */
interface Threshold {
  label: string;
  value: number;
  targetAxis: "Y1";
}

export interface Tile {
  xPos: number;
  yPos: number;
  width: number;
  height: number;
  widget: {
    title: string;
    xyChart: {
      dataSets: DataSet[];
      thresholds?: Threshold[];
      yAxis: { label: string; scale: "LINEAR" };
      chartOptions: { mode: "COLOR" };
    };
  };
}

export interface Dashboard {
  displayName: string;
  mosaicLayout: { columns: number; tiles: Tile[] };
}

/** The dashboard is 48 columns wide (the console's own grid), two charts per row. */
const COLUMNS = 48;
const CHART_WIDTH = 24;
const CHART_HEIGHT = 16;

interface Chart {
  title: string;
  yLabel: string;
  dataSets: DataSet[];
  thresholds?: Threshold[];
}

const promql = (query: string, legendTemplate: string, plotType: DataSet["plotType"] = "LINE"): DataSet => ({
  timeSeriesQuery: { prometheusQuery: query },
  plotType,
  legendTemplate,
  targetAxis: "Y1",
});

const filtered = (
  filter: string,
  aggregation: { perSeriesAligner: string; crossSeriesReducer?: string; groupByFields?: string[] },
  legendTemplate?: string,
  plotType: DataSet["plotType"] = "LINE",
): DataSet => ({
  timeSeriesQuery: { timeSeriesFilter: { filter, aggregation: { alignmentPeriod: "60s", ...aggregation } } },
  plotType,
  minAlignmentPeriod: "60s",
  ...(legendTemplate ? { legendTemplate } : {}),
  targetAxis: "Y1",
});

/** The service's container in the Cloud Run template; the sidecar is another, charted and counted apart. */
export const SERVICE_CONTAINER = "whiteboard";

export type RedisEngine = "memorystore-redis" | "memorystore-redis-cluster";

/**
 * Monitoring filters of the Redis memory ratio and connected clients, by engine. Memorystore for Redis: resource
 * `redis_instance`, whose instance_id label is the full name, projects/<p>/locations/<r>/instances/<name>. Memorystore
 * for Redis Cluster: `redis.googleapis.com/cluster/memory/maximum_utilization` (the fullest node, which is what fills
 * up first) on resource `redis.googleapis.com/Cluster`, and each node's clients on `redis.googleapis.com/ClusterNode`.
 */
export function redisFilters(engine: RedisEngine, name: string): { memory: string; clients: string } {
  if (engine === "memorystore-redis-cluster") {
    const cluster = `resource.label.cluster_id="${name}"`;
    return {
      memory: `metric.type="redis.googleapis.com/cluster/memory/maximum_utilization" AND resource.type="redis.googleapis.com/Cluster" AND ${cluster}`,
      clients: `metric.type="redis.googleapis.com/cluster/node/clients/connected_clients" AND resource.type="redis.googleapis.com/ClusterNode" AND ${cluster}`,
    };
  }
  const instance = `resource.type="redis_instance" AND resource.label.instance_id=monitoring.regex.full_match(".*/instances/${name}")`;
  return {
    memory: `metric.type="redis.googleapis.com/stats/memory/usage_ratio" AND ${instance}`,
    clients: `metric.type="redis.googleapis.com/clients/connected" AND ${instance}`,
  };
}

const line = (label: string, value: number): Threshold => ({ label, value, targetAxis: "Y1" });

/** The charts, in reading order (left to right, top to bottom). */
function dashboardCharts(options: DashboardOptions): Chart[] {
  const ns = `namespace="${options.serviceName}"`;
  const run = `resource.type="cloud_run_revision" AND resource.label.service_name="${options.serviceName}"`;
  // Per-container metrics carry container_name: the sidecar's own series would halve CPU and double instances.
  const service = `${run} AND metric.label.container_name="${SERVICE_CONTAINER}"`;
  const redis = redisFilters(options.redisEngine ?? "memorystore-redis", options.redisInstanceName);
  const writes = `script=~"draw|set_visibility|edit|clear|unclear"`;
  const charts: Chart[] = [
    {
      title: "Open connections and boards",
      yLabel: "count",
      dataSets: [
        promql(`sum(whiteboard_sockets{${ns}})`, "sockets"),
        promql(`sum(whiteboard_boards{${ns}})`, "boards (summed over instances)"),
      ],
    },
    {
      title: "Operations stored per second",
      yLabel: "per second",
      dataSets: [
        promql(`sum by (kind) (rate(whiteboard_operations_stored_total{${ns}}[5m]))`, "${kind}", "STACKED_AREA"),
      ],
    },
    {
      title: "Store latency (writes): p50 and p99",
      yLabel: "seconds",
      dataSets: [
        promql(
          `histogram_quantile(0.5, sum by (le) (rate(whiteboard_store_call_seconds_bucket{${ns},${writes}}[5m])))`,
          "p50",
        ),
        promql(
          `histogram_quantile(0.99, sum by (le) (rate(whiteboard_store_call_seconds_bucket{${ns},${writes}}[5m])))`,
          "p99",
        ),
      ],
      thresholds: [line("p99 alert", options.storeLatencyP99Seconds)],
    },
    {
      title: "Refusals per second, by code",
      yLabel: "per second",
      dataSets: [promql(`sum by (code) (rate(whiteboard_refusals_total{${ns}}[5m]))`, "${code}", "STACKED_AREA")],
    },
    {
      title: `Instances (max ${options.maxInstances})`,
      yLabel: "instances",
      dataSets: [
        filtered(
          `metric.type="run.googleapis.com/container/instance_count" AND ${service}`,
          { perSeriesAligner: "ALIGN_MAX", crossSeriesReducer: "REDUCE_SUM", groupByFields: ["metric.label.state"] },
          "${metric.labels.state}",
          "STACKED_AREA",
        ),
      ],
      thresholds: [line("max instances", options.maxInstances), line("alert", options.instancesAlertAt)],
    },
    {
      title: "Broadcast fan-out per second",
      yLabel: "per second",
      dataSets: [
        promql(`sum(rate(whiteboard_broadcast_messages_total{${ns}}[5m]))`, "messages"),
        promql(`sum(rate(whiteboard_broadcast_recipients_total{${ns}}[5m]))`, "recipients"),
      ],
    },
    {
      title: "CPU utilization of the service's container: p50 and p99",
      yLabel: "ratio",
      dataSets: [
        filtered(
          `metric.type="run.googleapis.com/container/cpu/utilizations" AND ${service}`,
          { perSeriesAligner: "ALIGN_PERCENTILE_50", crossSeriesReducer: "REDUCE_MEAN" },
          "p50",
        ),
        filtered(
          `metric.type="run.googleapis.com/container/cpu/utilizations" AND ${service}`,
          { perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX" },
          "p99",
        ),
      ],
    },
    {
      title: "Memory utilization of the service's container: p50 and p99",
      yLabel: "ratio",
      dataSets: [
        filtered(
          `metric.type="run.googleapis.com/container/memory/utilizations" AND ${service}`,
          { perSeriesAligner: "ALIGN_PERCENTILE_50", crossSeriesReducer: "REDUCE_MEAN" },
          "p50",
        ),
        filtered(
          `metric.type="run.googleapis.com/container/memory/utilizations" AND ${service}`,
          { perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX" },
          "p99",
        ),
      ],
    },
    {
      title: "Redis memory usage ratio",
      yLabel: "ratio of maxmemory",
      dataSets: [
        filtered(redis.memory, { perSeriesAligner: "ALIGN_MAX", crossSeriesReducer: "REDUCE_MAX" }, "usage ratio"),
      ],
      thresholds: [line("alert", options.redisMemoryRatioAlert)],
    },
    {
      title: "Redis connected clients",
      yLabel: "clients",
      dataSets: [
        filtered(redis.clients, { perSeriesAligner: "ALIGN_MEAN", crossSeriesReducer: "REDUCE_SUM" }, "clients"),
      ],
    },
    {
      title: "Catch-up answers: p99 time by kind",
      yLabel: "seconds",
      dataSets: [
        promql(
          `histogram_quantile(0.99, sum by (le, kind) (rate(whiteboard_catchup_seconds_bucket{${ns}}[5m])))`,
          "${kind}",
        ),
      ],
    },
    {
      title: "Event-loop lag p99 (max of instances) and Redis PING p99",
      yLabel: "seconds",
      dataSets: [
        promql(`max(nodejs_eventloop_lag_p99_seconds{${ns}})`, "event-loop lag"),
        promql(
          `histogram_quantile(0.99, sum by (le) (rate(whiteboard_redis_ping_seconds_bucket{${ns}}[5m])))`,
          "Redis PING",
        ),
      ],
    },
  ];
  if (options.loadBalancerUrlMap) {
    const lb = `metric.type="loadbalancing.googleapis.com/https/request_count" AND resource.type="https_lb_rule" AND resource.label.url_map_name="${options.loadBalancerUrlMap}"`;
    charts.push(
      {
        title: "Load balancer requests per second, by response class",
        yLabel: "per second",
        dataSets: [
          filtered(
            lb,
            {
              perSeriesAligner: "ALIGN_RATE",
              crossSeriesReducer: "REDUCE_SUM",
              groupByFields: ["metric.label.response_code_class"],
            },
            "${metric.labels.response_code_class}",
            "STACKED_BAR",
          ),
        ],
      },
      {
        title: "Load balancer 429s per second (Cloud Armor's throttle)",
        yLabel: "per second",
        dataSets: [
          filtered(
            `${lb} AND metric.label.response_code=429`,
            { perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" },
            "429",
          ),
        ],
      },
    );
  }
  return charts;
}

/** The Dashboard resource for `dashboard_json`. */
export function buildDashboard(options: DashboardOptions): Dashboard {
  const charts = dashboardCharts(options);
  const perRow = COLUMNS / CHART_WIDTH;
  const tiles: Tile[] = charts.map((chart, index) => ({
    xPos: (index % perRow) * CHART_WIDTH,
    yPos: Math.floor(index / perRow) * CHART_HEIGHT,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    widget: {
      title: chart.title,
      xyChart: {
        dataSets: chart.dataSets,
        ...(chart.thresholds ? { thresholds: chart.thresholds } : {}),
        yAxis: { label: chart.yLabel, scale: "LINEAR" },
        chartOptions: { mode: "COLOR" },
      },
    },
  }));
  return { displayName: options.displayName, mosaicLayout: { columns: COLUMNS, tiles } };
}
