/**
 * Rules a first `make deploy` on a fresh project depends on, over every configuration that matters (dev, prod, prod
 * with the load balancer, prod on Redis Cluster), checked on the synthesized stacks:
 * - no alert policy reads a user-defined metric created in the same apply unless it waits for the metric to be
 *   visible (infra/scripts/wait-for-metric.sh; the Monitoring API refuses a policy on a log-based metric for up to
 *   10 minutes after its creation, and provider 6.50.0 retries only 409);
 * - no path checked from outside (through Google's front end) and no route a browser needs ends in `z` or lies under
 *   `/_ah/` or is `/eventlog` (reserved by Cloud Run), and the checked paths answer 200 from the service;
 * - the cluster engine's APIs include the Service Consumer Management API.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { requiredApis } from "../../infra/config/apis";
import { type InfraConfigInput, parseInfraConfig } from "../../infra/config/schema";
import { newBoardId } from "../../protocol/random-id";
import { createHttpHandler } from "../../service/http";
import { BASE_INPUT, resources, synthesize, type TerraformJson } from "./helpers";

const CONFIGURATIONS: Record<string, InfraConfigInput> = {
  dev: { ...BASE_INPUT },
  prod: { ...BASE_INPUT, environment: "prod" },
  "prod with the load balancer": {
    ...BASE_INPUT,
    environment: "prod",
    service: { defaultUriDisabled: true },
    loadBalancer: { domains: ["board.example.com"] },
  },
  "prod on Redis Cluster": { ...BASE_INPUT, environment: "prod", redis: { engine: "memorystore-redis-cluster" } },
};
const synthesized = Object.entries(CONFIGURATIONS).map(([name, input]) => {
  const stacks = Object.values(synthesize(input)).map((stack) => stack.json);
  return { name, input, stacks };
});

/** `resource.<type>.<name>` of every resource of `type`, with its body. */
function named(json: TerraformJson, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(json.resource?.[type] ?? {}).map(([name, body]) => [`${type}.${name}`, body]);
}

/** Every metric type an alert policy's conditions read (threshold filters and PromQL queries). */
function metricsRead(policy: Record<string, unknown>): string[] {
  const conditions = policy.conditions as Array<Record<string, Record<string, unknown> | undefined>>;
  return conditions.flatMap((condition) =>
    [condition.condition_threshold?.filter, condition.condition_prometheus_query_language?.query]
      .filter((text): text is string => typeof text === "string")
      .flatMap((text) => [...text.matchAll(/metric\.type="([^"]+)"/g)].map((match) => match[1] as string)),
  );
}

describe.each(synthesized)("$name", ({ stacks }) => {
  test("no alert policy reads a user-defined metric created in the same apply without waiting until it is visible", () => {
    // One `make deploy` applies both stacks: a metric of either is created in the same run as any policy.
    const created = stacks.flatMap((json) =>
      named(json, "google_logging_metric").map(([address, body]) => ({ address, name: String(body.name) })),
    );
    expect(created.length).toBeGreaterThan(0);
    const waits = stacks.flatMap((json) => named(json, "terraform_data"));
    let guarded = 0;
    for (const json of stacks) {
      for (const [, policy] of named(json, "google_monitoring_alert_policy")) {
        for (const metric of metricsRead(policy)) {
          const metricResource = created.find(
            (candidate) =>
              metric === `logging.googleapis.com/user/${candidate.name}` ||
              metric === `logging.googleapis.com/user/\${${candidate.address}.name}`,
          );
          if (!metricResource) {
            // Anything else is Google's own metric or the service's Prometheus metric (validation disabled).
            expect(metric).not.toMatch(
              /^(logging\.googleapis\.com\/user|custom\.googleapis\.com|workload\.googleapis\.com)\//,
            );
            continue;
          }
          const wait = waits.find(([address, body]) => {
            const local = (
              body.provisioner as Array<{ "local-exec": { command: string; environment: Record<string, string> } }>
            )[0]?.["local-exec"];
            return (
              (policy.depends_on as string[] | undefined)?.includes(address) === true &&
              JSON.stringify(body.triggers_replace).includes(`\${${metricResource.address}.id}`) &&
              local?.command === "bash infra/scripts/wait-for-metric.sh" &&
              local.environment.METRIC_TYPE === metric
            );
          });
          expect(wait).toBeDefined();
          guarded += 1;
        }
      }
    }
    expect(guarded).toBeGreaterThan(0);
  });

  test("no path checked through Google's front end ends in z, lies under /_ah/ or is /eventlog, and each answers 200", async () => {
    const checked = stacks.flatMap((json) =>
      resources(json, "google_monitoring_uptime_check_config").map(
        (check) => (check.http_check as { path: string }).path,
      ),
    );
    expect(checked.length).toBeGreaterThan(0);
    for (const path of checked) expect(reserved(path)).toBe(false);
    // Serverless NEG backends take no health check: the uptime check is the only check that crosses the front end.
    expect(stacks.flatMap((json) => resources(json, "google_compute_health_check"))).toEqual([]);
    for (const path of checked) expect((await get(path)).status).toBe(200);
  });
});

/** Cloud Run's reserved paths, and every path ending in `z` as its known-issues page advises. */
function reserved(path: string): boolean {
  return path.endsWith("z") || path.startsWith("/_ah/") || path === "/eventlog";
}

/** The service's HTTP handler (service/http.ts) on a real server of its own, on 127.0.0.1. */
let server: Server;
beforeAll(async () => {
  server = createServer(createHttpHandler({ clientDir: "/nonexistent", isReady: () => true }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(path: string): Promise<{ status: number; location: string | undefined }> {
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: "manual" });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get("location") ?? undefined };
}

test("no route a browser needs ends in z or lies under /_ah/: new boards, the Socket.IO path, the assets", async () => {
  // A new board's address: 16 random bytes in base64url, whose last character holds 2 bits (A, Q, g or w).
  for (let i = 0; i < 50; i += 1) {
    const { status, location } = await get("/");
    expect(status).toBe(302);
    expect(reserved(String(location))).toBe(false);
  }
  for (let i = 0; i < 10_000; i += 1) expect(reserved(`/b/${newBoardId()}`)).toBe(false);
  // Socket.IO's client connects to /socket.io/ (the default path, which the service keeps); the build names assets
  // <entry>-<hash>.js/.css (client/build.mjs).
  for (const path of [
    "/socket.io/",
    "/assets/app-0123abcd.js",
    "/assets/app-0123abcd.css",
    "/assets/ink-0123abcd.js",
  ]) {
    expect(reserved(path)).toBe(false);
  }
});

test("Memorystore for Redis Cluster: bootstrap enables the Service Consumer Management API too", () => {
  const cluster = parseInfraConfig(CONFIGURATIONS["prod on Redis Cluster"]);
  expect(requiredApis(cluster)).toEqual(
    expect.arrayContaining(["networkconnectivity.googleapis.com", "serviceconsumermanagement.googleapis.com"]),
  );
  expect(requiredApis(parseInfraConfig(CONFIGURATIONS.prod))).not.toContain("serviceconsumermanagement.googleapis.com");
});
