/**
 * The startup self-check (service/self-check.ts) against the local Memorystore stand-ins, in real service instances
 * started with the stacks' variables: on one Redis and on a Redis Cluster (with WAIT for a replica) every capability
 * passes and the instance becomes ready; on a Redis whose ACL denies the service's user one capability (as a
 * Memorystore that blocked it would), the instance logs one line naming it and stays unready.
 */
import { RedisCluster } from "../../local/redis-cluster";
import { RedisServer } from "../../local/redis-server";
import { ServiceInstance } from "../../local/service-instance";
import { eventually } from "../support/socket-client";

interface LogLine {
  severity?: string;
  message?: string;
  capability?: string;
  reason?: string;
  capabilities?: string[];
  tlsIdentity?: string;
}

/** An instance of the built service on `env`, collecting its JSON log lines. */
async function instance(name: string, env: Record<string, string>) {
  const lines: LogLine[] = [];
  const started = await ServiceInstance.create({
    name,
    env: { NODE_ENV: "production", ...env },
    onLine: (line) => {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // redis-server or Node output
      }
    },
  });
  return { started, lines };
}

const stopping: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stopping.reverse()) await stop();
});

test("one Redis (the Memorystore for Redis stand-in): every capability passes, then the instance is ready", async () => {
  const redis = await new RedisServer({ persistence: false }).start();
  stopping.push(() => redis.destroy());
  const { started, lines } = await instance("self-check-a", redis.serviceEnv);
  stopping.push(() => started.stop());
  await started.start();
  const passed = lines.find((line) => line.message === "redis self-check passed");
  expect(passed?.capabilities).toEqual(["eval-info", "evalsha", "allow-oom", "sharded-pubsub", "tls-identity"]);
  // Memorystore's shape: the IP address as subject CN and no subject alternative names.
  expect(passed?.tlsIdentity).toBe("subject-common-name");
  // The probes leave nothing behind.
  expect(await redis.command(["KEYS", "*self-check*"])).toEqual([]);
});

test("a Redis Cluster with replicas: WAIT is exercised too, and the instance is ready", async () => {
  const cluster = await new RedisCluster().start();
  stopping.push(() => cluster.destroy());
  const { started, lines } = await instance("self-check-c", { ...cluster.serviceEnv, REDIS_WAIT_REPLICAS: "1" });
  stopping.push(() => started.stop());
  await started.start(30_000);
  expect(lines.find((line) => line.message === "redis self-check passed")?.capabilities).toEqual([
    "eval-info",
    "evalsha",
    "allow-oom",
    "sharded-pubsub",
    "wait",
    "tls-identity",
  ]);
}, 60_000);

describe.each([
  // INFO denied to the user, scripts included (a Redis that runs no INFO from Lua refuses every board write).
  ["eval-info", ["ACL", "SETUSER", "default", "-info"], /can.t run this command|NOPERM/i],
  ["sharded-pubsub", ["ACL", "SETUSER", "default", "-spublish"], /NOPERM|no permissions/i],
  ["evalsha", ["ACL", "SETUSER", "default", "-evalsha"], /NOPERM|no permissions/i],
])("a Redis that refuses %s", (capability, acl, reason) => {
  test("keeps the instance unready, with one log line naming the capability", async () => {
    const redis = await new RedisServer({ persistence: false }).start();
    stopping.push(() => redis.destroy());
    await redis.command(acl);
    const { started, lines } = await instance(`refuses-${capability}`, redis.serviceEnv);
    stopping.push(() => started.stop());
    await expect(started.start(4_000)).rejects.toThrow(/to be ready/);
    await eventually("the refusal to be logged", () => lines.some((line) => line.capability === capability));
    const refusals = lines.filter((line) => line.message?.startsWith("redis refused"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ severity: "ERROR", capability });
    expect(refusals[0]?.message).toBe(
      `redis refused ${capability}: this instance stays unready (the revision must not serve)`,
    );
    expect(refusals[0]?.reason).toMatch(reason);
    // Still running, still unready: Cloud Run's startup probe fails and the revision never takes traffic.
    expect(started.running).toBe(true);
    expect(await started.ready()).toBe(false);
    expect((await fetch(`${started.url}/health/ready`)).status).toBe(503);
  });
});
