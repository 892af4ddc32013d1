/**
 * The contract between infra/ and service/: the Cloud Run container's environment, exactly as the real infra code
 * synthesizes it for dev and for prod, with the Memorystore stand-in in Memorystore's place, starts two containers of
 * the reproduced runtime image that serve the page and the protocol across each other. Then, each way the contract
 * can break, made on purpose: each must stop the deployment with a message that says what broke.
 */
import { parseInfraConfig } from "../../infra/config/schema";
import { heapLimitMiB } from "../../infra/constructs/whiteboard-service";
import { RedisCluster } from "../../local/redis-cluster";
import { RedisServer } from "../../local/redis-server";
import { loadConfig, SERVICE_VARIABLES } from "../../service/config";
import { BASE_INPUT, onlyResource } from "../infra/helpers";
import {
  type EnvEntry,
  resolveForStandIn,
  standInValues,
  synthesizeService,
  type SynthesizedService,
} from "./cloud-run-env";
import { startContainer } from "./cloud-run-container";
import { deployLocally, RUNTIME_VARIABLES } from "./deploy";
import { buildRuntimeImage, type RuntimeImage } from "./runtime-image";

let redis: RedisServer;
let cluster: RedisCluster;
let image: RuntimeImage;

beforeAll(async () => {
  [redis, cluster, image] = await Promise.all([
    new RedisServer().start(),
    new RedisCluster().start(),
    buildRuntimeImage(),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([redis?.destroy(), cluster?.destroy()]);
});

const DEPLOYMENTS: Array<[string, Parameters<typeof synthesizeService>[0]]> = [
  ["dev", { ...BASE_INPUT }],
  ["prod", { ...BASE_INPUT, environment: "prod" }],
  [
    "prod behind the load balancer (ALLOWED_ORIGINS)",
    { ...BASE_INPUT, environment: "prod", loadBalancer: { domains: ["board.example.com"] } },
  ],
  // The clustered engine: the Memorystore for Redis Cluster stand-in plays the cluster, its local metadata server the
  // platform's (IAM access tokens as AUTH passwords).
  [
    "prod on Memorystore for Redis Cluster",
    { ...BASE_INPUT, environment: "prod", redis: { engine: "memorystore-redis-cluster" } },
  ],
];

describe.each(DEPLOYMENTS)("%s", (_, input) => {
  const standIn = () => (input.redis?.engine === "memorystore-redis-cluster" ? cluster : redis);
  let service: SynthesizedService;
  beforeAll(() => {
    service = synthesizeService(input);
  });

  test("the foundation's Redis is what the stand-in plays: TLS with a server certificate, authentication required", () => {
    if (input.redis?.engine === "memorystore-redis-cluster") {
      expect(onlyResource(service.foundation, "google_redis_cluster")).toEqual(
        expect.objectContaining({
          transit_encryption_mode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
          authorization_mode: "AUTH_MODE_IAM_AUTH",
        }),
      );
    } else {
      expect(onlyResource(service.foundation, "google_redis_instance")).toEqual(
        expect.objectContaining({ transit_encryption_mode: "SERVER_AUTHENTICATION", auth_enabled: true }),
      );
    }
  });

  test("the service (or Node itself) reads every variable the stacks set", () => {
    expect(
      service.env
        .map((entry) => entry.name)
        .filter((name) => !SERVICE_VARIABLES.includes(name) && !RUNTIME_VARIABLES.includes(name)),
    ).toEqual([]);
  });

  test("the service starts with the heap limit the stacks derive from service.memory, below the container's memory", async () => {
    const deployed = parseInfraConfig(input);
    const env = resolveForStandIn(service, standInValues(standIn()));
    expect(env.NODE_OPTIONS).toBe(`--max-old-space-size=${heapLimitMiB(deployed.service.memory)}`);
    const platform: Record<string, string> =
      standIn() instanceof RedisCluster && cluster.metadata ? { GCE_METADATA_HOST: cluster.metadata.host } : {};
    const container = await startContainer(image, env, { service: service.name, name: "heap" }, platform);
    try {
      const listening = container.lines
        .map((line) => JSON.parse(line) as { message?: string; heapLimitMiB?: number })
        .find((entry) => entry.message === "listening");
      const limit = listening?.heapLimitMiB ?? 0;
      // V8's limit is the old space's plus the young generation's (a few semi-spaces of 16 MiB at most).
      expect(limit).toBeGreaterThanOrEqual(heapLimitMiB(deployed.service.memory));
      expect(limit).toBeLessThanOrEqual(heapLimitMiB(deployed.service.memory) + 64);
      expect(limit).toBeLessThan(Number.parseInt(deployed.service.memory, 10));
    } finally {
      await container.stop();
    }
  });

  test("the service caps sockets at the concurrency and reads the client's address where this deployment's front writes it", () => {
    const config = loadConfig(resolveForStandIn(service, standInValues(standIn())), () => "contract");
    const deployed = parseInfraConfig(input);
    expect(config.connections.maxSockets).toBe(deployed.service.concurrency);
    // Behind the load balancer the client is the second-to-last X-Forwarded-For entry; at run.app, the last.
    expect(config.connections.clientAddressHop).toBe(deployed.loadBalancer.domains.length > 0 ? 2 : 1);
  });

  test("two containers with exactly that environment serve the page and the protocol across each other", async () => {
    await deployLocally(service, standIn(), image);
  });
});

describe("each break of the contract stops the deployment, saying what broke", () => {
  let dev: SynthesizedService;
  beforeAll(() => {
    dev = synthesizeService({ ...BASE_INPUT });
  });

  /** The dev deployment with its container environment changed. */
  const deployWith = (change: (env: EnvEntry[]) => EnvEntry[]) =>
    deployLocally({ ...dev, env: change(dev.env.map((entry) => ({ ...entry }))) }, redis, image);
  const without = (name: string) => (env: EnvEntry[]) => env.filter((entry) => entry.name !== name);
  const setting = (name: string, value: string) => (env: EnvEntry[]) => [...without(name)(env), { name, value }];

  test.each([
    ["a setting under a name the service does not know", "MAX_STROKES", "5000"],
    ["a misspelt Redis variable", "REDIS_PASWORD", "x"],
  ])("the stacks set a variable the service does not read: %s", async (_, name, value) => {
    await expect(deployWith(setting(name, value))).rejects.toThrow(
      `the stacks set ${name}, which the service does not read`,
    );
  });

  test.each([
    ["REDIS_HOST", /exited \(2\): invalid configuration:\s+REDIS_HOST: is required when NODE_ENV=production/],
    ["REDIS_PORT", /redis connection error: .*ECONNREFUSED 127\.0\.0\.1:6379/],
    ["REDIS_PASSWORD", /redis connection error: NOAUTH/],
    ["REDIS_CA_CERT", /redis connection error: self-signed certificate in certificate chain/],
  ])("the stacks miss a variable the service needs: %s", async (name, reason) => {
    await expect(deployWith(without(name))).rejects.toThrow(reason);
  });

  test.each([
    ["LOG_LEVEL", "verbose", /LOG_LEVEL: /],
    ["REQUEST_TIMEOUT_SECONDS", "7200", /REQUEST_TIMEOUT_SECONDS: .*3600/],
    ["REDIS_TLS", "false", /REDIS_TLS: must not be false when REDIS_CA_CERT is set/],
    ["ALLOWED_ORIGINS", "board.example.com", /ALLOWED_ORIGINS.*must be an origin/],
  ])("the stacks pass a value the service refuses: %s=%s", async (name, value, reason) => {
    await expect(deployWith(setting(name, value))).rejects.toThrow(reason);
  });

  test("a value wired to the wrong attribute reaches the service as on Cloud Run (the host where the port belongs)", async () => {
    const host = dev.env.find((entry) => entry.name === "REDIS_HOST")?.value ?? "";
    await expect(deployWith(setting("REDIS_PORT", host))).rejects.toThrow(/REDIS_PORT: must be a whole number/);
  });

  test.each([
    ["REDIS_AUTH", /NOAUTH|WRONGPASS|Authentication required/],
    ["REDIS_CLUSTER", /a Redis Cluster node but REDIS_CLUSTER is not set/],
  ])("the cluster deployment misses %s: it stops, saying why", async (name, reason) => {
    const clustered = synthesizeService({
      ...BASE_INPUT,
      environment: "prod",
      redis: { engine: "memorystore-redis-cluster" },
    });
    const env = clustered.env.filter((entry) => entry.name !== name);
    await expect(deployLocally({ ...clustered, env }, cluster, image)).rejects.toThrow(reason);
  });

  test("a reference the stand-in has no value for is left unreplaced: the deployment stops, naming it", async () => {
    const connector = "${data.terraform_remote_state.cross-stack-reference-input-dev-foundation.outputs.vpc_connector}";
    await expect(deployWith(setting("REDIS_HOST", connector))).rejects.toThrow(
      `REDIS_HOST: ${connector} has no local value`,
    );
    await expect(deployWith(setting("REDIS_HOST", "${google_compute_address.redis.address}"))).rejects.toThrow(
      /REDIS_HOST: \$\{google_compute_address/,
    );
  });
});
