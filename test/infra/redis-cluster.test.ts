/**
 * The clustered engine (`redis.engine: "memorystore-redis-cluster"`): Memorystore for Redis Cluster, synthesized from
 * the real stacks, held to what the single instance is held to (TLS, authentication, private networking, no secret in
 * plain text), plus what only a cluster has (Private Service Connect, IAM authentication, shards and replicas).
 */
import { requiredApis } from "../../infra/config/apis";
import { type InfraConfigInput, parseInfraConfig } from "../../infra/config/schema";
import {
  address,
  BASE_INPUT,
  containerEnv,
  crossStackSource,
  onlyResource,
  resources,
  stack,
  synthesize,
  type TerraformJson,
} from "./helpers";
import { stringMatching } from "../support/matchers";

const CLUSTER = "memorystore-redis-cluster" as const;

function environment(input: InfraConfigInput): { foundation: TerraformJson; app: TerraformJson } {
  const env = input.environment ?? "dev";
  const stacks = synthesize(input);
  return { foundation: stack(stacks, `${env}-foundation`), app: stack(stacks, `${env}-app`) };
}

const dev = environment({ ...BASE_INPUT, redis: { engine: CLUSTER } });
const prod = environment({ ...BASE_INPUT, environment: "prod", redis: { engine: CLUSTER } });
const custom = environment({
  ...BASE_INPUT,
  environment: "prod",
  network: { egress: "direct" },
  redis: {
    engine: CLUSTER,
    persistence: "AOF",
    maintenanceWindow: { day: "TUESDAY", startHour: 4 },
    cluster: { shardCount: 6, nodeType: "REDIS_HIGHMEM_MEDIUM", replicaCount: 2, pscSubnetCidr: "10.30.0.0/29" },
  },
});
const cluster = (json: TerraformJson) => onlyResource(json, "google_redis_cluster");

describe("Memorystore for Redis Cluster instead of Memorystore for Redis", () => {
  test("one cluster and no single instance, no AUTH secret", () => {
    for (const { foundation } of [dev, prod]) {
      expect(resources(foundation, "google_redis_instance")).toEqual([]);
      expect(resources(foundation, "google_secret_manager_secret").map((secret) => secret.secret_id)).not.toContain(
        "whiteboard-dev-redis-auth",
      );
      expect(cluster(foundation)).toEqual(
        expect.objectContaining({
          name: stringMatching(/^whiteboard-(dev|prod)-redis$/),
          region: "us-central1",
        }),
      );
    }
  });

  test("TLS (server authentication) and IAM authentication, both fixed at creation", () => {
    expect(cluster(dev.foundation)).toEqual(
      expect.objectContaining({
        transit_encryption_mode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
        authorization_mode: "AUTH_MODE_IAM_AUTH",
      }),
    );
  });

  test("private networking: Private Service Connect endpoints in our VPC, through a service connection policy on a /29 of its own", () => {
    const vpc = `\${${address(dev.foundation, "google_compute_network")}.id}`;
    const policy = onlyResource(dev.foundation, "google_network_connectivity_service_connection_policy");
    const subnet = resources(dev.foundation, "google_compute_subnetwork").find(
      (body) => body.name === "whiteboard-dev-redis-psc",
    );
    expect(subnet).toEqual(
      expect.objectContaining({ ip_cidr_range: "10.9.0.8/29", region: "us-central1", network: vpc }),
    );
    const subnetAddress = `google_compute_subnetwork.${Object.entries(dev.foundation.resource?.google_compute_subnetwork ?? {}).find(([, body]) => body.name === "whiteboard-dev-redis-psc")?.[0]}`;
    expect(policy).toEqual(
      expect.objectContaining({
        name: "whiteboard-dev-redis",
        location: "us-central1",
        network: vpc,
        service_class: "gcp-memorystore-redis",
        psc_config: { subnetworks: [`\${${subnetAddress}.id}`] },
      }),
    );
    expect(cluster(dev.foundation).psc_configs).toEqual([{ network: vpc }]);
    // The cluster is created once its policy exists.
    expect(cluster(dev.foundation).depends_on).toContain(
      address(dev.foundation, "google_network_connectivity_service_connection_policy"),
    );
    // No peering: nothing of the single instance's network path is left.
    expect(JSON.stringify(dev.foundation)).not.toContain("DIRECT_PEERING");
  });

  test("the service gets the discovery endpoint, TLS with every CA certificate of the cluster, REDIS_CLUSTER and REDIS_AUTH=iam, and no password", () => {
    const env = containerEnv(dev.app);
    const redis = address(dev.foundation, "google_redis_cluster");
    expect(crossStackSource(dev.foundation, env.REDIS_HOST?.value as string)).toBe(
      `\${${redis}.discovery_endpoints[0].address}`,
    );
    expect(crossStackSource(dev.foundation, env.REDIS_PORT?.value as string)).toBe(
      `\${${redis}.discovery_endpoints[0].port}`,
    );
    expect(env.REDIS_TLS).toEqual({ value: "true" });
    expect(env.REDIS_CA_CERT?.value).toMatch(/^\$\{join\("\\n", flatten\(data\.terraform_remote_state\./);
    expect(
      crossStackSource(dev.foundation, /outputs\.[\w-]+/.exec(env.REDIS_CA_CERT?.value as string)?.[0] as string),
    ).toBe(`\${${redis}.managed_server_ca[0].ca_certs[*].certificates}`);
    expect(env.REDIS_CLUSTER).toEqual({ value: "true" });
    expect(env.REDIS_AUTH).toEqual({ value: "iam" });
    expect(env.REDIS_PASSWORD).toBeUndefined();
    expect(env.GCE_METADATA_HOST).toBeUndefined();
  });

  test("no secret in plain text: no password exists, and nothing in either stack holds one", () => {
    for (const { foundation, app } of [dev, prod, custom]) {
      const text = JSON.stringify([foundation, app]);
      expect(text).not.toContain("auth_string");
      expect(text).not.toMatch(/REDIS_PASSWORD/);
      expect(
        resources(foundation, "google_secret_manager_secret_version").map((version) => String(version.secret_data)),
      ).not.toContainEqual(expect.stringContaining("redis"));
    }
  });

  test("the runtime account may connect (roles/redis.dbConnectionUser) and reads no Redis secret", () => {
    const grants = resources(dev.foundation, "google_project_iam_member").map((grant) => grant.role);
    expect(grants).toContain("roles/redis.dbConnectionUser");
    const single = environment({ ...BASE_INPUT });
    expect(resources(single.foundation, "google_project_iam_member").map((grant) => grant.role)).not.toContain(
      "roles/redis.dbConnectionUser",
    );
    expect(resources(dev.foundation, "google_secret_manager_secret_iam_member")).toHaveLength(1); // the sidecar's configuration only
  });

  test("shape by environment: dev 3 nano shards without replicas (no WAIT), prod 3 standard-small shards with a replica (WAIT 1)", () => {
    expect(cluster(dev.foundation)).toEqual(
      expect.objectContaining({ shard_count: 3, node_type: "REDIS_SHARED_CORE_NANO", replica_count: 0 }),
    );
    expect(cluster(prod.foundation)).toEqual(
      expect.objectContaining({ shard_count: 3, node_type: "REDIS_STANDARD_SMALL", replica_count: 1 }),
    );
    expect(containerEnv(dev.app).REDIS_WAIT_REPLICAS).toBeUndefined();
    expect(containerEnv(prod.app).REDIS_WAIT_REPLICAS).toEqual({ value: "1" });
    expect(cluster(dev.foundation).zone_distribution_config).toEqual({ mode: "MULTI_ZONE" });
  });

  test("settings carried through: shards, node type, replicas, AOF, maintenance window, PSC range", () => {
    expect(cluster(custom.foundation)).toEqual(
      expect.objectContaining({
        shard_count: 6,
        node_type: "REDIS_HIGHMEM_MEDIUM",
        replica_count: 2,
        persistence_config: { mode: "AOF", aof_config: { append_fsync: "EVERYSEC" } },
        maintenance_policy: {
          weekly_maintenance_window: [{ day: "TUESDAY", start_time: { hours: 4, minutes: 0, seconds: 0, nanos: 0 } }],
        },
      }),
    );
    expect(cluster(prod.foundation).persistence_config).toEqual({
      mode: "RDB",
      rdb_config: { rdb_snapshot_period: "ONE_HOUR" },
    });
    expect(cluster(dev.foundation).persistence_config).toEqual({ mode: "DISABLED" });
    expect(resources(custom.foundation, "google_compute_subnetwork").map((subnet) => subnet.ip_cidr_range)).toContain(
      "10.30.0.0/29",
    );
  });

  test("noeviction, as on the single instance: a full shard refuses writes rather than dropping boards", () => {
    expect(cluster(dev.foundation).redis_configs).toEqual({ "maxmemory-policy": "noeviction" });
  });

  test("deletion protection: the API's flag and prevent_destroy in prod, neither in dev", () => {
    expect(cluster(prod.foundation)).toEqual(
      expect.objectContaining({ deletion_protection_enabled: true, lifecycle: { prevent_destroy: true } }),
    );
    expect(cluster(dev.foundation)).toEqual(
      expect.objectContaining({ deletion_protection_enabled: false, lifecycle: { prevent_destroy: false } }),
    );
  });

  test("outputs: the discovery endpoint, no AUTH secret", () => {
    expect(Object.keys(dev.foundation.output ?? {})).toEqual(expect.arrayContaining(["redis_host", "redis_port"]));
    expect(dev.foundation.output?.redis_auth_secret).toBeUndefined();
  });

  test("the Network Connectivity API is enabled (and listed for the bootstrap) only with the cluster", () => {
    const apis = resources(dev.foundation, "google_project_service").map((api) => api.service);
    expect(apis).toContain("networkconnectivity.googleapis.com");
    expect(requiredApis(parseInfraConfig({ ...BASE_INPUT }))).not.toContain("networkconnectivity.googleapis.com");
    expect(requiredApis(parseInfraConfig({ ...BASE_INPUT, redis: { engine: CLUSTER } }))).toContain(
      "networkconnectivity.googleapis.com",
    );
  });

  test("the Redis memory alert and charts read the cluster's metrics", () => {
    const policy = resources(dev.app, "google_monitoring_alert_policy").find((body) =>
      String(body.display_name).includes("Redis memory"),
    );
    expect(JSON.stringify(policy)).toContain("redis.googleapis.com/cluster/memory/maximum_utilization");
    expect(JSON.stringify(policy)).toContain('resource.label.cluster_id=\\"whiteboard-dev-redis\\"');
    const dashboard = String(onlyResource(dev.app, "google_monitoring_dashboard").dashboard_json);
    expect(dashboard).toContain("redis.googleapis.com/cluster/memory/maximum_utilization");
    expect(dashboard).not.toContain("redis_instance");
  });
});
