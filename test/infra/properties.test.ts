/**
 * Properties of the synthesized stacks: what the issue requires of Cloud Run, Redis, the secret, IAM, the network,
 * the load balancer, deletion protection, state and the image build. Each test reads the synthesized JSON.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { App, TerraformStack } from "cdktf";
import { ContainerImage } from "../../infra/constructs/container-image";
import { Network } from "../../infra/constructs/network";
import { maxmemoryGb, Redis } from "../../infra/constructs/redis";
import { WhiteboardService, type WhiteboardServiceProps } from "../../infra/constructs/whiteboard-service";
import { settingsFromEnv } from "../../infra/config/env";
import { type InfraConfigInput, MAINTENANCE_DAYS } from "../../infra/config/schema";
import { hashBuildContext } from "../../infra/image/content-hash";
import {
  BASE_INPUT,
  FIXTURE_CONTEXT,
  address,
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
import { arrayContaining, objectContaining } from "../support/matchers";

function environment(input: InfraConfigInput): { foundation: TerraformJson; app: TerraformJson } {
  const env = input.environment ?? "dev";
  const stacks = synthesize(input);
  return { foundation: stack(stacks, `${env}-foundation`), app: stack(stacks, `${env}-app`) };
}

const dev = environment({ ...BASE_INPUT });
const prod = environment({ ...BASE_INPUT, environment: "prod" });
const DOMAINS = ["board.example.com", "www.board.example.com"];
const withLb = environment({
  ...BASE_INPUT,
  service: { publicAccess: "all-users-invoker" },
  loadBalancer: { domains: DOMAINS, cloudArmor: { enabled: true, requestsPerInterval: 120, intervalSeconds: 60 } },
});
/** Prod behind the load balancer with every default, and the run.app URL turned off. */
const prodLb = environment({
  ...BASE_INPUT,
  environment: "prod",
  service: { defaultUriDisabled: true },
  loadBalancer: { domains: DOMAINS },
});
const direct = environment({ ...BASE_INPUT, network: { egress: "direct", subnetCidr: "10.20.0.0/26" } });
/** Every other setting changed at once (one synth instead of one per setting). */
const custom = environment({
  ...BASE_INPUT,
  region: "europe-west1",
  labels: { "cost-center": "boards" },
  deletionProtection: true,
  state: { bucket: "my-state-bucket", prefix: "boards" },
  network: { vpcEgress: "ALL_TRAFFIC" },
  redis: { memorySizeGb: 5, maxmemoryPercent: 47, maintenanceWindow: { day: "WEDNESDAY", startHour: 22 } },
  service: {
    timeoutSeconds: 900,
    concurrency: 1000,
    minInstances: 2,
    maxInstances: 7,
    cpu: "2",
    memory: "1Gi",
    publicAccess: "none",
    env: { MAX_STROKES_PER_BOARD: "5000", BOARD_IDLE_TTL_SECONDS: "600" },
    logLevel: "debug",
  },
});

/** Address of the secret holding the Redis AUTH string, and of the Prometheus sidecar's configuration. */
const authSecret = (json: TerraformJson) =>
  addressWhere(json, "google_secret_manager_secret", (body) => String(body.secret_id).endsWith("-redis-auth"));
const gmpSecret = (json: TerraformJson) =>
  addressWhere(json, "google_secret_manager_secret", (body) => String(body.secret_id).endsWith("-gmp-config"));

function service(json: TerraformJson): Record<string, unknown> {
  return onlyResource(json, "google_cloud_run_v2_service");
}
function template(json: TerraformJson): Record<string, unknown> {
  return service(json).template as Record<string, unknown>;
}

describe("Cloud Run service", () => {
  test("request timeout 3600s and concurrency 250 by default, session affinity on", () => {
    expect(template(dev.app)).toEqual(
      expect.objectContaining({ timeout: "3600s", max_instance_request_concurrency: 250, session_affinity: true }),
    );
  });

  test("configured timeout and concurrency reach Cloud Run and the service's REQUEST_TIMEOUT_SECONDS", () => {
    const { app } = custom;
    expect(template(app)).toEqual(expect.objectContaining({ timeout: "900s", max_instance_request_concurrency: 1000 }));
    expect(containerEnv(app).REQUEST_TIMEOUT_SECONDS).toEqual({ value: "900" });
    expect(containerEnv(dev.app).REQUEST_TIMEOUT_SECONDS).toEqual({ value: "3600" });
  });

  test("the service's socket cap is the concurrency, and its client address the X-Forwarded-For entry of the front in use", () => {
    expect(containerEnv(dev.app).MAX_SOCKETS).toEqual({ value: "250" });
    expect(containerEnv(custom.app).MAX_SOCKETS).toEqual({ value: "1000" });
    // run.app: Cloud Run appends the client (the last entry); behind the load balancer, "<client>,<load balancer>".
    expect(containerEnv(dev.app).CLIENT_ADDRESS_HOP).toEqual({ value: "1" });
    expect(containerEnv(prodLb.app).CLIENT_ADDRESS_HOP).toEqual({ value: "2" });
  });

  test("HTTP/1 port 8080 (WebSockets need http1, never h2c)", () => {
    expect(container(dev.app).ports).toEqual({ name: "http1", container_port: 8080 });
  });

  test("startup probe on /readyz and liveness probe on /healthz", () => {
    expect(container(dev.app)).toEqual(
      expect.objectContaining({
        startup_probe: objectContaining({ http_get: { path: "/readyz", port: 8080 } }),
        liveness_probe: objectContaining({ http_get: { path: "/healthz", port: 8080 } }),
      }),
    );
  });

  test("startup probe budget stays inside Cloud Run's 240 s limit and timeouts are below periods", () => {
    for (const probeName of ["startup_probe", "liveness_probe"]) {
      const probe = container(dev.app)[probeName] as Record<string, number>;
      expect(probe.timeout_seconds).toBeLessThan(probe.period_seconds as number);
    }
    const startup = container(dev.app).startup_probe as Record<string, number>;
    expect(
      (startup.initial_delay_seconds ?? 0) + (startup.period_seconds as number) * (startup.failure_threshold as number),
    ).toBeLessThanOrEqual(240);
  });

  test("min/max instances, CPU and memory by environment and configuration", () => {
    expect(template(dev.app).scaling).toEqual({ min_instance_count: 0, max_instance_count: 3 });
    expect(template(prod.app).scaling).toEqual({ min_instance_count: 1, max_instance_count: 20 });
    const { app } = custom;
    expect(template(app).scaling).toEqual({ min_instance_count: 2, max_instance_count: 7 });
    // The sidecar's 0.08 vCPU comes out of the instance's 2 (monitoring.sidecar.cpu).
    expect(container(app).resources).toEqual(expect.objectContaining({ limits: { cpu: "1.92", memory: "1Gi" } }));
    expect((container(dev.app).resources as Record<string, unknown>).cpu_idle).toBe(true);
    expect((container(prod.app).resources as Record<string, unknown>).cpu_idle).toBe(false);
  });

  test("runs as its own service account", () => {
    const runtime = addressWhere(
      dev.foundation,
      "google_service_account",
      (body) => body.account_id === "whiteboard-dev-run",
    );
    expect(crossStackSource(dev.foundation, template(dev.app).service_account as string)).toBe(`\${${runtime}.email}`);
  });

  test("public without an IAM binding by default: the invoker check is off and there is no allUsers member", () => {
    for (const json of [dev.app, prod.app, prodLb.app]) {
      expect(service(json).invoker_iam_disabled).toBe(true);
      expect(resources(json, "google_cloud_run_v2_service_iam_member")).toEqual([]);
    }
  });

  test("all-users-invoker keeps the check and grants roles/run.invoker to allUsers; none grants nothing", () => {
    expect(service(withLb.app).invoker_iam_disabled).toBe(false);
    expect(onlyResource(withLb.app, "google_cloud_run_v2_service_iam_member")).toEqual(
      expect.objectContaining({
        role: "roles/run.invoker",
        member: "allUsers",
        name: `\${${address(withLb.app, "google_cloud_run_v2_service")}.name}`,
      }),
    );
    expect(service(custom.app).invoker_iam_disabled).toBe(false);
    expect(resources(custom.app, "google_cloud_run_v2_service_iam_member")).toEqual([]);
  });

  test("the run.app URL stays on by default, through the google provider alone", () => {
    for (const json of [dev.app, prod.app, withLb.app]) {
      expect(service(json)).not.toHaveProperty("default_uri_disabled");
      expect(service(json)).not.toHaveProperty("provider");
      expect(json.provider?.["google-beta"]).toBeUndefined();
      expect(json.output?.service_url).toBeDefined();
    }
  });

  test("defaultUriDisabled turns the run.app URL off through google-beta 6.50.0 (a Beta field in 6.50.0)", () => {
    const run = service(prodLb.app);
    expect(run.default_uri_disabled).toBe(true);
    expect(run.provider).toBe("google-beta");
    // google-beta's acceptance test of default_uri_disabled sets the Beta launch stage and ignores it on read back.
    expect(run.launch_stage).toBe("BETA");
    expect(run.lifecycle).toEqual({ ignore_changes: ["launch_stage"] });
    for (const json of [dev.app, prod.app, withLb.app]) expect(service(json)).not.toHaveProperty("launch_stage");
    expect((prodLb.app.terraform?.required_providers as Record<string, unknown>)["google-beta"]).toEqual({
      source: "google-beta",
      version: "6.50.0",
    });
    expect(prodLb.app.provider?.["google-beta"]?.[0]).toEqual({
      project: "whiteboard-test-1",
      region: "us-central1",
      default_labels: { app: "whiteboard", environment: "prod", "managed-by": "cdktf" },
    });
    // Everything else stays on the google provider; no output points at a URL that no longer resolves.
    expect(onlyResource(prodLb.app, "google_compute_backend_service")).not.toHaveProperty("provider");
    expect(prodLb.app.output?.service_url).toBeUndefined();
    expect(prodLb.app.output?.load_balancer_url?.value).toBe("https://board.example.com");
    expect(prodLb.foundation.provider?.["google-beta"]).toBeUndefined();
  });

  test("extra environment variables are passed sorted; LOG_LEVEL is set", () => {
    const { app } = custom;
    const names = (container(app).env as Array<{ name: string }>).map((entry) => entry.name);
    expect(names.slice(-2)).toEqual(["BOARD_IDLE_TTL_SECONDS", "MAX_STROKES_PER_BOARD"]);
    expect(containerEnv(app).LOG_LEVEL).toEqual({ value: "debug" });
    expect(names).not.toContain("PORT");
  });
});

describe("network", () => {
  test("the service is wired to the connector, private ranges only", () => {
    const access = template(dev.app).vpc_access as Record<string, string>;
    expect(access.egress).toBe("PRIVATE_RANGES_ONLY");
    expect(access.network_interfaces).toBeUndefined();
    expect(crossStackSource(dev.foundation, access.connector as string)).toBe(
      `\${${address(dev.foundation, "google_vpc_access_connector")}.id}`,
    );
  });

  test("the connector has its own /28 in our VPC and 2 to 3 e2-micro instances", () => {
    expect(onlyResource(dev.foundation, "google_vpc_access_connector")).toEqual(
      expect.objectContaining({
        name: "whiteboard-dev",
        ip_cidr_range: "10.8.0.0/28",
        network: `\${${address(dev.foundation, "google_compute_network")}.name}`,
        machine_type: "e2-micro",
        min_instances: 2,
        max_instances: 3,
      }),
    );
    expect(onlyResource(dev.foundation, "google_compute_network").auto_create_subnetworks).toBe(false);
    expect(resources(dev.foundation, "google_compute_subnetwork")).toEqual([]);
  });

  test("Direct VPC egress uses a subnet of our VPC and creates no connector", () => {
    const access = template(direct.app).vpc_access as {
      network_interfaces: Array<Record<string, string>>;
      egress: string;
      connector?: string;
    };
    expect(access.connector).toBeUndefined();
    expect(access.egress).toBe("PRIVATE_RANGES_ONLY");
    const [nic] = access.network_interfaces;
    expect(crossStackSource(direct.foundation, nic?.network as string)).toBe(
      `\${${address(direct.foundation, "google_compute_network")}.name}`,
    );
    expect(crossStackSource(direct.foundation, nic?.subnetwork as string)).toBe(
      `\${${address(direct.foundation, "google_compute_subnetwork")}.name}`,
    );
    expect(onlyResource(direct.foundation, "google_compute_subnetwork")).toEqual(
      expect.objectContaining({
        ip_cidr_range: "10.20.0.0/26",
        network: `\${${address(direct.foundation, "google_compute_network")}.id}`,
      }),
    );
    expect(resources(direct.foundation, "google_vpc_access_connector")).toEqual([]);
    const apis = resources(direct.foundation, "google_project_service").map((api) => api.service);
    expect(apis).not.toContain("vpcaccess.googleapis.com");
  });

  test("ALL_TRAFFIC egress when configured", () => {
    const { app } = custom;
    expect((template(app).vpc_access as Record<string, string>).egress).toBe("ALL_TRAFFIC");
  });
});

describe("Redis", () => {
  test("AUTH and TLS on, Redis 7, private to our VPC only", () => {
    const redis = onlyResource(dev.foundation, "google_redis_instance");
    expect(redis).toEqual(
      expect.objectContaining({
        auth_enabled: true,
        transit_encryption_mode: "SERVER_AUTHENTICATION",
        connect_mode: "DIRECT_PEERING",
        authorized_network: `\${${address(dev.foundation, "google_compute_network")}.id}`,
        redis_version: "REDIS_7_2",
        reserved_ip_range: "10.9.0.0/29",
      }),
    );
  });

  test("never evicts: a full Redis refuses writes rather than dropping boards (which all carry a TTL)", () => {
    for (const stack of [dev.foundation, prod.foundation, custom.foundation]) {
      expect(
        (onlyResource(stack, "google_redis_instance").redis_configs as Record<string, string>)["maxmemory-policy"],
      ).toBe("noeviction");
    }
  });

  test("maxmemory-gb leaves room for replication and snapshots: 80% in prod, none set in dev, the configured share otherwise", () => {
    expect(onlyResource(prod.foundation, "google_redis_instance").redis_configs).toEqual({
      "maxmemory-policy": "noeviction",
      "maxmemory-gb": "0.8",
    });
    expect(onlyResource(dev.foundation, "google_redis_instance").redis_configs).toEqual({
      "maxmemory-policy": "noeviction",
    });
    // 47% of 5 GB = 2.35 GB, rounded down to a tenth.
    expect(
      (onlyResource(custom.foundation, "google_redis_instance").redis_configs as Record<string, string>)[
        "maxmemory-gb"
      ],
    ).toBe("2.3");
  });

  test("maxmemory-gb is a decimal of at most one fraction digit, never above the share nor below 20% of capacity", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 20, max: 99 }), (memory, percent) => {
        const text = maxmemoryGb(memory, percent);
        expect(text).toMatch(/^[0-9]+(\.[0-9])?$/);
        expect(Number(text)).toBeLessThanOrEqual((memory * percent) / 100 + 1e-9);
        expect(Number(text)).toBeGreaterThan((memory * percent) / 100 - 0.1 - 1e-9);
        expect(Number(text)).toBeGreaterThanOrEqual(memory * 0.2 - 1e-9);
      }),
      { numRuns: 200 },
    );
  });

  test("a weekly maintenance window in prod (Sunday 03:00 UTC by default) or as configured; none in dev", () => {
    const window = (json: TerraformJson) => onlyResource(json, "google_redis_instance").maintenance_policy;
    expect(window(prod.foundation)).toEqual({
      weekly_maintenance_window: [{ day: "SUNDAY", start_time: { hours: 3, minutes: 0, seconds: 0, nanos: 0 } }],
    });
    expect(window(custom.foundation)).toEqual({
      weekly_maintenance_window: [{ day: "WEDNESDAY", start_time: { hours: 22, minutes: 0, seconds: 0, nanos: 0 } }],
    });
    expect(window(dev.foundation)).toBeUndefined();
  });

  test("with a replica (prod), a write is acknowledged once the replica has it; without one (dev), at once", () => {
    expect(containerEnv(prod.app).REDIS_WAIT_REPLICAS).toEqual({ value: "1" });
    expect(containerEnv(dev.app).REDIS_WAIT_REPLICAS).toBeUndefined();
  });

  test("BASIC in dev, STANDARD_HA with RDB snapshots in prod", () => {
    expect(onlyResource(dev.foundation, "google_redis_instance")).toEqual(
      expect.objectContaining({ tier: "BASIC", persistence_config: { persistence_mode: "DISABLED" } }),
    );
    expect(onlyResource(prod.foundation, "google_redis_instance")).toEqual(
      expect.objectContaining({
        tier: "STANDARD_HA",
        persistence_config: { persistence_mode: "RDB", rdb_snapshot_period: "ONE_HOUR" },
      }),
    );
  });

  test("the service gets host, the instance's port (never a literal 6379), TLS and every CA certificate", () => {
    const env = containerEnv(dev.app);
    const redis = address(dev.foundation, "google_redis_instance");
    expect(crossStackSource(dev.foundation, env.REDIS_HOST?.value as string)).toBe(`\${${redis}.host}`);
    expect(crossStackSource(dev.foundation, env.REDIS_PORT?.value as string)).toBe(`\${${redis}.port}`);
    expect(env.REDIS_TLS).toEqual({ value: "true" });
    expect(env.REDIS_CA_CERT?.value).toMatch(/^\$\{join\("\\n", data\.terraform_remote_state\./);
    expect(crossStackSource(dev.foundation, env.REDIS_CA_CERT?.value as string)).toBe(
      `\${${redis}.server_ca_certs[*].cert}`,
    );
    expect(JSON.stringify(dev.app)).not.toContain("6379");
    expect(env.REDIS_URL).toBeUndefined();
  });
});

describe("the AUTH string in Secret Manager", () => {
  test("the secret version holds the instance's auth_string", () => {
    const versions = resources(dev.foundation, "google_secret_manager_secret_version").filter(
      (version) => version.secret === `\${${authSecret(dev.foundation)}.id}`,
    );
    expect(versions).toEqual([
      {
        secret: `\${${authSecret(dev.foundation)}.id}`,
        secret_data: `\${${address(dev.foundation, "google_redis_instance")}.auth_string}`,
      },
    ]);
    expect(
      dev.foundation.resource?.google_secret_manager_secret?.[authSecret(dev.foundation).split(".")[1] as string],
    ).toEqual(expect.objectContaining({ secret_id: "whiteboard-dev-redis-auth", replication: { auto: {} } }));
  });

  test("reaches the service as a secret environment variable, pinned to the version", () => {
    const env = containerEnv(dev.app);
    expect(env.REDIS_PASSWORD?.value).toBeUndefined();
    const ref = (env.REDIS_PASSWORD?.value_source as { secret_key_ref: { secret: string; version: string } })
      .secret_key_ref;
    expect(crossStackSource(dev.foundation, ref.secret)).toBe(`\${${authSecret(dev.foundation)}.secret_id}`);
    const authVersion = addressWhere(
      dev.foundation,
      "google_secret_manager_secret_version",
      (body) => body.secret === `\${${authSecret(dev.foundation)}.id}`,
    );
    expect(crossStackSource(dev.foundation, ref.version)).toBe(`\${${authVersion}.version}`);
  });

  test("the AUTH string never appears in plain text or in an unprotected output", () => {
    for (const output of Object.values(dev.foundation.output ?? {})) {
      if (JSON.stringify(output.value).includes("auth_string")) expect(output.sensitive).toBe(true);
    }
    expect(JSON.stringify(dev.app)).not.toContain("auth_string");
  });
});

describe("IAM", () => {
  const runtimeMember = `serviceAccount:\${${addressWhere(dev.foundation, "google_service_account", (body) => body.account_id === "whiteboard-dev-run")}.email}`;
  const buildMember = `serviceAccount:\${${addressWhere(dev.foundation, "google_service_account", (body) => body.account_id === "whiteboard-dev-build")}.email}`;
  const grantsOf = (json: TerraformJson, member: string) =>
    [
      "google_project_iam_member",
      "google_secret_manager_secret_iam_member",
      "google_artifact_registry_repository_iam_member",
      "google_storage_bucket_iam_member",
      "google_cloud_run_v2_service_iam_member",
    ]
      .flatMap((type) => resources(json, type).map((grant): Record<string, unknown> => ({ type, ...grant })))
      .filter((grant) => grant.member === member);

  // No roles/logging.logWriter: stdout reaches Cloud Logging through Cloud Run, not through the account.
  test("the runtime service account can read its own secrets and (for the sidecar) write metrics, nothing more", () => {
    const grants = grantsOf(dev.foundation, runtimeMember);
    expect(grants.map((grant) => `${String(grant.type)} ${String(grant.role)}`).sort()).toEqual([
      "google_project_iam_member roles/monitoring.metricWriter",
      "google_secret_manager_secret_iam_member roles/secretmanager.secretAccessor",
      "google_secret_manager_secret_iam_member roles/secretmanager.secretAccessor",
    ]);
    const secretGrants = grants
      .filter((grant) => grant.type === "google_secret_manager_secret_iam_member")
      .map((grant) => grant.secret_id);
    expect(secretGrants.sort()).toEqual(
      [`\${${authSecret(dev.foundation)}.id}`, `\${${gmpSecret(dev.foundation)}.id}`].sort(),
    );
    // The app stack grants nothing but the public invoker.
    expect(resources(dev.app, "google_project_iam_member")).toEqual([]);
    expect(resources(dev.app, "google_secret_manager_secret_iam_member")).toEqual([]);
  });

  test("the grants exist a stack before Cloud Run, which waits for the image build", () => {
    expect(resources(dev.app, "google_service_account")).toEqual([]);
    expect(service(dev.app).depends_on).toEqual([
      addressWhere(dev.app, "terraform_data", (body) => "image" in (body.triggers_replace as object)),
    ]);
  });

  test("the build service account can push to our repository, use the staging bucket and write logs, nothing more", () => {
    const grants = grantsOf(dev.foundation, buildMember);
    expect(grants.map((grant) => `${String(grant.type)} ${String(grant.role)}`).sort()).toEqual([
      "google_artifact_registry_repository_iam_member roles/artifactregistry.writer",
      "google_project_iam_member roles/logging.logWriter",
      "google_storage_bucket_iam_member roles/storage.objectAdmin",
    ]);
    expect(onlyResource(dev.foundation, "google_artifact_registry_repository_iam_member").repository).toBe(
      `\${${address(dev.foundation, "google_artifact_registry_repository")}.name}`,
    );
    expect(onlyResource(dev.foundation, "google_storage_bucket_iam_member").bucket).toBe(
      `\${${address(dev.foundation, "google_storage_bucket")}.name}`,
    );
  });
});

describe("load balancer", () => {
  const lb = withLb.app;
  test("no load balancer and public ingress without domains", () => {
    expect(service(dev.app).ingress).toBe("INGRESS_TRAFFIC_ALL");
    for (const type of [
      "google_compute_global_address",
      "google_compute_backend_service",
      "google_compute_url_map",
      "google_compute_security_policy",
    ]) {
      expect(resources(dev.app, type)).toEqual([]);
    }
    expect(containerEnv(dev.app).ALLOWED_ORIGINS).toBeUndefined();
    expect(dev.app.output?.load_balancer_ip).toBeUndefined();
  });

  test("ingress limited to internal and load-balancer traffic when it exists", () => {
    expect(service(lb).ingress).toBe("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
  });

  test("serverless NEG pointing at the Cloud Run service", () => {
    expect(onlyResource(lb, "google_compute_region_network_endpoint_group")).toEqual(
      expect.objectContaining({
        network_endpoint_type: "SERVERLESS",
        region: "us-central1",
        cloud_run: { service: `\${${address(lb, "google_cloud_run_v2_service")}.name}` },
      }),
    );
  });

  test("backend service: EXTERNAL_MANAGED, the NEG only, no timeout_sec, affinity or health check", () => {
    const backend = onlyResource(lb, "google_compute_backend_service");
    expect(backend).toEqual(
      expect.objectContaining({
        load_balancing_scheme: "EXTERNAL_MANAGED",
        backend: [{ group: `\${${address(lb, "google_compute_region_network_endpoint_group")}.id}` }],
      }),
    );
    for (const forbidden of ["timeout_sec", "session_affinity", "health_checks", "port_name"])
      expect(backend).not.toHaveProperty(forbidden);
  });

  test("URL map, managed certificate for every domain, HTTPS proxy and forwarding rule on 443", () => {
    const maps = resources(lb, "google_compute_url_map");
    const main = maps.find((map) => map.default_service !== undefined);
    expect(main?.default_service).toBe(`\${${address(lb, "google_compute_backend_service")}.id}`);
    const certificate = onlyResource(lb, "google_compute_managed_ssl_certificate");
    expect(certificate.managed).toEqual({ domains: DOMAINS });
    expect(certificate.lifecycle).toEqual({ create_before_destroy: true });
    const https = onlyResource(lb, "google_compute_target_https_proxy");
    expect(https.ssl_certificates).toEqual([`\${${address(lb, "google_compute_managed_ssl_certificate")}.id}`]);
    const rules = resources(lb, "google_compute_global_forwarding_rule");
    const rule443 = rules.find((rule) => rule.port_range === "443");
    expect(rule443).toEqual(
      expect.objectContaining({
        target: `\${${address(lb, "google_compute_target_https_proxy")}.id}`,
        ip_address: `\${${address(lb, "google_compute_global_address")}.id}`,
        load_balancing_scheme: "EXTERNAL_MANAGED",
      }),
    );
  });

  test("HTTP on port 80 only redirects to HTTPS", () => {
    const redirect = resources(lb, "google_compute_url_map").find((map) => map.default_url_redirect !== undefined);
    expect(redirect?.default_url_redirect).toEqual({
      https_redirect: true,
      strip_query: false,
      redirect_response_code: "MOVED_PERMANENTLY_DEFAULT",
    });
    expect(redirect).not.toHaveProperty("default_service");
    const rule80 = resources(lb, "google_compute_global_forwarding_rule").find((rule) => rule.port_range === "80");
    expect(rule80).toEqual(
      expect.objectContaining({
        target: `\${${address(lb, "google_compute_target_http_proxy")}.id}`,
        load_balancing_scheme: "EXTERNAL_MANAGED",
      }),
    );
  });

  test("the HTTPS proxy has an SSL policy: MODERN profile, TLS 1.2 minimum", () => {
    for (const json of [lb, prodLb.app]) {
      const policy = onlyResource(json, "google_compute_ssl_policy");
      expect(policy).toEqual(expect.objectContaining({ profile: "MODERN", min_tls_version: "TLS_1_2" }));
      expect(policy).not.toHaveProperty("custom_features");
      expect(onlyResource(json, "google_compute_target_https_proxy").ssl_policy).toBe(
        `\${${address(json, "google_compute_ssl_policy")}.id}`,
      );
    }
    expect(resources(dev.app, "google_compute_ssl_policy")).toEqual([]);
  });

  test("Cloud Armor is on by default in prod behind the load balancer", () => {
    const policy = onlyResource(prodLb.app, "google_compute_security_policy");
    const rules = policy.rule as Array<Record<string, unknown>>;
    expect(rules.find((rule) => rule.action === "throttle")?.rate_limit_options).toEqual(
      expect.objectContaining({ rate_limit_threshold: { count: 300, interval_sec: 60 }, enforce_on_key: "IP" }),
    );
    expect(onlyResource(prodLb.app, "google_compute_backend_service").security_policy).toBe(
      `\${${address(prodLb.app, "google_compute_security_policy")}.id}`,
    );
  });

  test("Cloud Armor throttles each client IP and is attached to the backend", () => {
    const policy = onlyResource(lb, "google_compute_security_policy");
    const rules = policy.rule as Array<Record<string, unknown>>;
    expect(rules.find((rule) => rule.action === "throttle")?.rate_limit_options).toEqual({
      conform_action: "allow",
      exceed_action: "deny(429)",
      enforce_on_key: "IP",
      rate_limit_threshold: { count: 120, interval_sec: 60 },
    });
    expect(rules.find((rule) => rule.priority === 2147483647)?.action).toBe("allow");
    expect(onlyResource(lb, "google_compute_backend_service").security_policy).toBe(
      `\${${address(lb, "google_compute_security_policy")}.id}`,
    );
    const { app } = environment({ ...BASE_INPUT, loadBalancer: { domains: DOMAINS } });
    expect(resources(app, "google_compute_security_policy")).toEqual([]);
    expect(onlyResource(app, "google_compute_backend_service")).not.toHaveProperty("security_policy");
  });

  test("the service allows https://<each domain> and the outputs give the address and URL", () => {
    expect(containerEnv(lb).ALLOWED_ORIGINS).toEqual({
      value: "https://board.example.com,https://www.board.example.com",
    });
    expect(lb.output?.load_balancer_ip?.value).toBe(`\${${address(lb, "google_compute_global_address")}.address}`);
    expect(lb.output?.load_balancer_url?.value).toBe("https://board.example.com");
  });
});

describe("deletion protection", () => {
  test("off in dev so make destroy works, on in prod", () => {
    expect(service(dev.app).deletion_protection).toBe(false);
    expect(onlyResource(dev.foundation, "google_redis_instance").lifecycle).toEqual({ prevent_destroy: false });
    const secret = (json: TerraformJson, id: string) =>
      resources(json, "google_secret_manager_secret").find((body) => body.secret_id === id);
    expect(secret(dev.foundation, "whiteboard-dev-redis-auth")?.deletion_protection).toBe(false);
    expect(service(prod.app).deletion_protection).toBe(true);
    expect(onlyResource(prod.foundation, "google_redis_instance").lifecycle).toEqual({ prevent_destroy: true });
    expect(secret(prod.foundation, "whiteboard-prod-redis-auth")?.deletion_protection).toBe(true);
    // The sidecar's configuration is not worth protecting: destroy removes it in every environment.
    expect(secret(prod.foundation, "whiteboard-prod-gmp-config")?.deletion_protection).toBe(false);
  });

  test("the override turns it off in prod (and on in dev)", () => {
    const prodOff = environment({ ...BASE_INPUT, environment: "prod", deletionProtection: false });
    expect(service(prodOff.app).deletion_protection).toBe(false);
    expect(onlyResource(prodOff.foundation, "google_redis_instance").lifecycle).toEqual({ prevent_destroy: false });
    expect(service(custom.app).deletion_protection).toBe(true);
  });

  test("what destroy must delete can be deleted: bucket with its objects, no soft delete", () => {
    expect(onlyResource(dev.foundation, "google_storage_bucket")).toEqual(
      expect.objectContaining({
        force_destroy: true,
        soft_delete_policy: { retention_duration_seconds: 0 },
        public_access_prevention: "enforced",
      }),
    );
  });
});

describe("APIs", () => {
  test("every API the stacks use is enabled and never disabled on destroy", () => {
    const apis = resources(dev.foundation, "google_project_service");
    expect(apis.map((api) => api.service).sort()).toEqual([
      "artifactregistry.googleapis.com",
      "cloudbuild.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "compute.googleapis.com",
      "iam.googleapis.com",
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "redis.googleapis.com",
      "run.googleapis.com",
      "secretmanager.googleapis.com",
      "storage.googleapis.com",
      "vpcaccess.googleapis.com",
    ]);
    for (const api of apis) expect(api.disable_on_destroy).toBe(false);
  });

  test("foundation resources wait for the APIs", () => {
    for (const type of [
      "google_redis_instance",
      "google_compute_network",
      "google_vpc_access_connector",
      "google_artifact_registry_repository",
    ]) {
      expect(onlyResource(dev.foundation, type).depends_on).toEqual(
        expect.arrayContaining([expect.stringMatching(/^google_project_service\.apis_/)]),
      );
    }
  });
});

describe("image", () => {
  const hash = hashBuildContext(FIXTURE_CONTEXT).sha256;
  const image = `us-central1-docker.pkg.dev/whiteboard-test-1/whiteboard-dev/whiteboard:${hash.slice(0, 32)}`;

  test("tagged with the content hash of the build context, built by Cloud Build from terraform_data", () => {
    expect(container(dev.app).image).toBe(image);
    const [build] = resources(dev.app, "terraform_data").filter(
      (body) => "image" in (body.triggers_replace as object),
    ) as [Record<string, unknown>];
    expect(build.triggers_replace).toEqual({ image });
    const [provisioner] = build.provisioner as Array<{
      "local-exec": { command: string; working_dir: string; environment: Record<string, string> };
    }>;
    expect(provisioner?.["local-exec"]).toEqual({
      command: "bash infra/image/build-image.sh",
      working_dir: "../../..",
      environment: objectContaining({
        IMAGE: image,
        PROJECT_ID: "whiteboard-test-1",
        REGION: "us-central1",
        BUILD_SERVICE_ACCOUNT: "whiteboard-dev-build@whiteboard-test-1.iam.gserviceaccount.com",
        STAGING_BUCKET: "whiteboard-test-1-whiteboard-dev-build",
        CONTEXT_ENTRIES: "Dockerfile .dockerignore package.json package-lock.json service client",
      }),
    });
    expect(dev.app.output?.image?.value).toBe(image);
  });

  test("the repository is in the region, Docker format, with a cleanup policy keeping recent versions", () => {
    expect(onlyResource(dev.foundation, "google_artifact_registry_repository")).toEqual(
      expect.objectContaining({
        repository_id: "whiteboard-dev",
        location: "us-central1",
        format: "DOCKER",
        cleanup_policy_dry_run: false,
        cleanup_policies: arrayContaining([
          expect.objectContaining({ action: "KEEP", most_recent_versions: { keep_count: 10 } }),
        ]),
      }),
    );
  });

  test("a prebuilt image is deployed as is: no build step, build identity, bucket or Cloud Build API", () => {
    const prebuilt = "us-docker.pkg.dev/cloudrun/container/hello:latest";
    const { foundation, app } = environment({ ...BASE_INPUT, service: { image: prebuilt } });
    expect(container(app).image).toBe(prebuilt);
    // The only terraform_data left is the wait for the log-based metric (monitoring), no build step.
    expect(resources(app, "terraform_data").map((body) => Object.keys(body.triggers_replace as object))).toEqual([
      ["metric"],
    ]);
    expect(resources(foundation, "google_storage_bucket")).toEqual([]);
    expect(resources(foundation, "google_service_account").map((account) => account.account_id)).toEqual([
      "whiteboard-dev-run",
    ]);
    expect(resources(foundation, "google_project_service").map((api) => api.service)).not.toContain(
      "cloudbuild.googleapis.com",
    );
    expect(service(app).depends_on).not.toEqual(expect.arrayContaining([expect.stringMatching(/^terraform_data/)]));
  });
});

describe("state and outputs", () => {
  test("local state by default, at a relative path shared with the cross-stack reader", () => {
    expect(dev.foundation.terraform?.backend).toEqual({
      local: { path: "../../../terraform.whiteboard-dev-foundation.tfstate" },
    });
    expect(dev.app.terraform?.backend).toEqual({ local: { path: "../../../terraform.whiteboard-dev-app.tfstate" } });
    const remote = Object.values(dev.app.data?.terraform_remote_state ?? {});
    expect(remote).toEqual([
      expect.objectContaining({
        backend: "local",
        config: { path: "../../../terraform.whiteboard-dev-foundation.tfstate" },
      }),
    ]);
  });

  test("GCS state when a bucket is configured", () => {
    const { foundation, app } = custom;
    expect(foundation.terraform?.backend).toEqual({
      gcs: { bucket: "my-state-bucket", prefix: "boards/whiteboard-dev-foundation" },
    });
    expect(app.terraform?.backend).toEqual({ gcs: { bucket: "my-state-bucket", prefix: "boards/whiteboard-dev-app" } });
    expect(Object.values(app.data?.terraform_remote_state ?? {})).toEqual([
      expect.objectContaining({
        backend: "gcs",
        config: { bucket: "my-state-bucket", prefix: "boards/whiteboard-dev-foundation" },
      }),
    ]);
  });

  test("outputs: service URL, image and Redis host", () => {
    expect(dev.app.output?.service_url?.value).toBe(`\${${address(dev.app, "google_cloud_run_v2_service")}.uri}`);
    expect(dev.foundation.output?.redis_host?.value).toBe(
      `\${${address(dev.foundation, "google_redis_instance")}.host}`,
    );
  });

  test("provider pinned by the bindings, project, region and labels kept verbatim", () => {
    const { foundation } = custom;
    expect(foundation.provider?.google?.[0]).toEqual({
      project: "whiteboard-test-1",
      region: "europe-west1",
      default_labels: { "cost-center": "boards", app: "whiteboard", environment: "dev", "managed-by": "cdktf" },
    });
    expect((foundation.terraform?.required_providers as Record<string, unknown>).google).toEqual({
      source: "google",
      version: "6.50.0",
    });
  });

  test("both environments can live in one app and one project without name clashes", () => {
    const stacks = synthesize({ ...BASE_INPUT }, { ...BASE_INPUT, environment: "prod" });
    expect(Object.keys(stacks)).toEqual(["dev-app", "dev-foundation", "prod-app", "prod-foundation"]);
    const names = (id: string) =>
      Object.values(stack(stacks, id).resource ?? {})
        .flatMap((byName) => Object.values(byName))
        .map((body) => body.name ?? body.account_id ?? body.secret_id ?? body.repository_id)
        .filter((name): name is string => typeof name === "string" && !name.startsWith("${"));
    const devNames = [...names("dev-foundation"), ...names("dev-app")];
    const prodNames = [...names("prod-foundation"), ...names("prod-app")];
    expect(devNames.filter((name) => prodNames.includes(name))).toEqual([]);
  });
});

describe("settings come from the committed environment file", () => {
  const file = {
    projectId: "",
    environment: "prod",
    loadBalancer: { domains: DOMAINS },
    service: { image: "us-docker.pkg.dev/cloudrun/container/hello:1" },
  };
  const read = (path: string) => {
    if (path !== "infra/env/prod.json") throw new Error(`unexpected read of ${path}`);
    return JSON.stringify(file);
  };

  test("a deploy without DOMAINS (or IMAGE) keeps the load balancer, Cloud Armor and the image of the file", () => {
    const settings = settingsFromEnv({ ENVIRONMENT: "prod", PROJECT_ID: BASE_INPUT.projectId }, read);
    const app = stack(synthesize(...settings.inputs), "prod-app");
    expect(onlyResource(app, "google_compute_managed_ssl_certificate").managed).toEqual({ domains: DOMAINS });
    expect(resources(app, "google_compute_security_policy")).toHaveLength(1);
    expect(service(app).ingress).toBe("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    expect(container(app).image).toBe("us-docker.pkg.dev/cloudrun/container/hello:1");
  });

  test("a contradicting DOMAINS stops before any construct exists; OVERRIDE=DOMAINS takes the command-line value", () => {
    expect(() =>
      settingsFromEnv({ ENVIRONMENT: "prod", PROJECT_ID: BASE_INPUT.projectId, DOMAINS: "other.example.com" }, read),
    ).toThrow(
      /DOMAINS: contradicts the environment file: the command line says DOMAINS=\["other.example.com"\], infra\/env\/prod.json says loadBalancer.domains = \["board.example.com","www.board.example.com"\]/,
    );
    // What it synthesizes is the input's domains, as the test above shows for the file's.
    const settings = settingsFromEnv(
      { ENVIRONMENT: "prod", PROJECT_ID: BASE_INPUT.projectId, DOMAINS: "other.example.com", OVERRIDE: "DOMAINS" },
      read,
    );
    expect(settings.inputs[0]?.loadBalancer?.domains).toEqual(["other.example.com"]);
  });
});

describe("any valid configuration synthesizes", () => {
  const validInput = fc.record(
    {
      environment: fc.constantFrom("dev" as const, "prod" as const),
      // A /20 leaves Direct VPC egress room for 1000 instances (two addresses each).
      network: fc.record({
        egress: fc.constantFrom("connector" as const, "direct" as const),
        subnetCidr: fc.constant("10.16.0.0/20"),
      }),
      redis: fc.record({
        tier: fc.constantFrom("BASIC" as const, "STANDARD_HA" as const),
        memorySizeGb: fc.integer({ min: 1, max: 300 }),
      }),
      service: fc.record({
        timeoutSeconds: fc.integer({ min: 1, max: 3600 }),
        concurrency: fc.integer({ min: 1, max: 1000 }),
        maxInstances: fc.integer({ min: 1, max: 1000 }),
      }),
      loadBalancer: fc.record({
        domains: fc.uniqueArray(fc.constantFrom("a.example.com", "b.example.org", "c.example.net"), { maxLength: 3 }),
      }),
      publicAccess: fc.constantFrom("invoker-check-disabled" as const, "all-users-invoker" as const, "none" as const),
      maxmemoryPercent: fc.integer({ min: 20, max: 100 }),
      maintenanceWindow: fc.option(
        fc.record({ day: fc.constantFrom(...MAINTENANCE_DAYS), startHour: fc.integer({ min: 0, max: 23 }) }),
        { nil: null },
      ),
    },
    { requiredKeys: ["environment", "publicAccess", "maxmemoryPercent", "maintenanceWindow"] },
  );

  test("and carries timeout, concurrency, tier, egress, ingress, access, maxmemory, maintenance and Cloud Armor through", () => {
    fc.assert(
      fc.property(validInput, ({ publicAccess, maxmemoryPercent, maintenanceWindow, ...partial }) => {
        const input: InfraConfigInput = {
          ...BASE_INPUT,
          ...partial,
          service: { minInstances: 0, ...partial.service, publicAccess },
          redis: { ...partial.redis, maxmemoryPercent, maintenanceWindow },
        };
        const { foundation, app } = environment(input);
        const run = template(app);
        if (partial.service?.timeoutSeconds !== undefined)
          expect(run.timeout).toBe(`${partial.service.timeoutSeconds}s`);
        if (partial.service?.concurrency !== undefined)
          expect(run.max_instance_request_concurrency).toBe(partial.service.concurrency);
        if (partial.redis?.tier !== undefined)
          expect(onlyResource(foundation, "google_redis_instance").tier).toBe(partial.redis.tier);
        const direct = partial.network?.egress === "direct";
        expect(resources(foundation, "google_vpc_access_connector")).toHaveLength(direct ? 0 : 1);
        const domains = partial.loadBalancer?.domains ?? [];
        expect(service(app).ingress).toBe(
          domains.length > 0 ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL",
        );
        expect(service(app).deletion_protection).toBe(partial.environment === "prod");
        expect(service(app).invoker_iam_disabled).toBe(publicAccess === "invoker-check-disabled");
        expect(resources(app, "google_cloud_run_v2_service_iam_member")).toHaveLength(
          publicAccess === "all-users-invoker" ? 1 : 0,
        );
        const redis = onlyResource(foundation, "google_redis_instance");
        const memory = partial.redis?.memorySizeGb ?? 1;
        const configs = redis.redis_configs as Record<string, string>;
        if (maxmemoryPercent === 100) expect(configs).not.toHaveProperty("maxmemory-gb");
        else expect(Number(configs["maxmemory-gb"])).toBeCloseTo(Math.floor((memory * maxmemoryPercent) / 10) / 10, 5);
        expect(redis.maintenance_policy).toEqual(
          maintenanceWindow === null
            ? undefined
            : {
                weekly_maintenance_window: [
                  {
                    day: maintenanceWindow.day,
                    start_time: { hours: maintenanceWindow.startHour, minutes: 0, seconds: 0, nanos: 0 },
                  },
                ],
              },
        );
        expect(resources(app, "google_compute_security_policy")).toHaveLength(
          partial.environment === "prod" && domains.length > 0 ? 1 : 0,
        );
        expect(resources(app, "google_compute_ssl_policy")).toHaveLength(domains.length > 0 ? 1 : 0);
      }),
      { numRuns: 10, seed: 20261127 },
    );
  });
});

describe("constructs guard their own limits for callers that skip the configuration", () => {
  // App creates its outdir; nothing is synthesized here, so one private folder serves every test.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-guard-"));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const scope = () => new TerraformStack(new App({ outdir }), "guard");
  const serviceProps: WhiteboardServiceProps = {
    projectId: "p-123456",
    region: "us-central1",
    name: "svc",
    serviceAccountEmail: "svc@p-123456.iam.gserviceaccount.com",
    image: "us-docker.pkg.dev/p/r/i:1",
    redis: {
      host: "10.0.0.3",
      port: 6378,
      caCertificates: "pem",
      auth: { kind: "password", secretId: "s", version: "1" },
      waitReplicas: 0,
    },
    vpc: { kind: "connector", connectorId: "c", egress: "PRIVATE_RANGES_ONLY" },
    timeoutSeconds: 3600,
    concurrency: 250,
    minInstances: 0,
    maxInstances: 3,
    cpu: "1",
    memory: "512Mi",
    cpuAlwaysAllocated: false,
    startupCpuBoost: true,
    sessionAffinity: true,
    internalAndLoadBalancerIngressOnly: false,
    publicAccess: "all-users-invoker",
    deletionProtection: false,
    allowedOrigins: [],
    logLevel: "info",
  };

  test("WhiteboardService refuses Cloud Run's impossible values", () => {
    expect(() => new WhiteboardService(scope(), "ok", serviceProps)).not.toThrow();
    expect(() => new WhiteboardService(scope(), "t", { ...serviceProps, timeoutSeconds: 3601 })).toThrow(
      "timeoutSeconds must be 1 to 3600",
    );
    expect(() => new WhiteboardService(scope(), "c", { ...serviceProps, concurrency: 0 })).toThrow(
      "concurrency must be 1 to 1000",
    );
    expect(() => new WhiteboardService(scope(), "m", { ...serviceProps, minInstances: 4 })).toThrow(
      "minInstances must be 0 to maxInstances",
    );
  });

  test("WhiteboardService needs the google-beta provider to turn the run.app URL off", () => {
    expect(() => new WhiteboardService(scope(), "u", { ...serviceProps, defaultUriDisabled: true })).toThrow(
      "defaultUriDisabled needs betaProvider",
    );
  });

  test("Redis refuses a maxmemory share or a maintenance hour Memorystore would refuse", () => {
    const props = {
      projectId: "p-123456",
      region: "us-central1",
      baseName: "b",
      authorizedNetwork: "n",
      tier: "BASIC" as const,
      memorySizeGb: 1,
      version: "REDIS_7_2",
      reservedIpRange: "10.9.0.0/29",
      persistence: "DISABLED" as const,
      rdbSnapshotPeriod: "ONE_HOUR",
      deletionProtection: false,
    };
    expect(
      () =>
        new Redis(scope(), "ok", {
          ...props,
          maxmemoryPercent: 20,
          maintenanceWindow: { day: "MONDAY", startHour: 23 },
        }),
    ).not.toThrow();
    expect(() => new Redis(scope(), "low", { ...props, maxmemoryPercent: 19 })).toThrow(
      "maxmemoryPercent must be an integer from 20 to 100",
    );
    expect(() => new Redis(scope(), "hour", { ...props, maintenanceWindow: { day: "MONDAY", startHour: 24 } })).toThrow(
      "startHour must be an integer from 0 to 23",
    );
  });

  test("Network refuses a connector name the API would refuse", () => {
    const props = {
      projectId: "p-123456",
      region: "us-central1",
      baseName: "b",
      egress: "connector" as const,
      connectorCidr: "10.8.0.0/28",
      connectorMinInstances: 2,
      connectorMaxInstances: 3,
      connectorMachineType: "e2-micro",
      subnetCidr: "10.10.0.0/24",
    };
    expect(() => new Network(scope(), "n", { ...props, connectorName: "x".repeat(26) })).toThrow(
      "at most 25 characters",
    );
  });

  test("ContainerImage needs exactly one source and a relative build path", () => {
    const build = {
      contentHash: "a".repeat(64),
      contextEntries: ["Dockerfile"],
      excludedNames: [],
      rootFromStackDir: "../../..",
      projectId: "p",
      region: "r",
      serviceAccountEmail: "e",
      stagingBucket: "b",
    };
    expect(() => new ContainerImage(scope(), "both", { prebuiltImage: "x/y:z", build, repositoryUrl: "u" })).toThrow(
      "not both",
    );
    expect(() => new ContainerImage(scope(), "none", {})).toThrow("required without prebuiltImage");
    expect(
      () => new ContainerImage(scope(), "abs", { repositoryUrl: "u", build: { ...build, rootFromStackDir: "/work" } }),
    ).toThrow("must be relative");
    expect(
      () =>
        new ContainerImage(scope(), "nodocker", {
          repositoryUrl: "u",
          build: { ...build, contextEntries: ["service"] },
        }),
    ).toThrow("no Dockerfile");
  });
});
