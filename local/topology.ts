/**
 * The Cloud Run topology on one machine: one Redis (the Memorystore stand-in: TLS and AUTH, see ./redis-server.ts),
 * N service instances and, optionally, a front that routes to them as Cloud Run does. Shared by `make dev`, the
 * tests and the benchmarks.
 */
import { Front, type FrontOptions } from "./front";
import { RedisCluster, type RedisClusterOptions } from "./redis-cluster";
import { RedisServer, type RedisServerOptions } from "./redis-server";
import { ServiceInstance } from "./service-instance";

export interface TopologyOptions {
  /** Service instances to start. */
  instances: number;
  /**
   * "redis" (default) starts the Memorystore stand-in for the instances to share, and gives each instance its
   * REDIS_* variables as the stacks give them on Cloud Run. "memory" starts no Redis and exactly one instance with
   * BOARD_STORE=memory, for machines without redis-server.
   */
  store?: "redis" | "memory";
  /**
   * With the Redis store: "standalone" (default) starts the Memorystore for Redis stand-in; "cluster" starts a Redis
   * Cluster of three primaries with a replica each, IAM authentication through a local metadata server (the
   * Memorystore for Redis Cluster stand-in, ./redis-cluster.ts).
   */
  redis?: "standalone" | "cluster";
  /** Settings of the Redis Cluster stand-in (e.g. a short token lifetime). */
  cluster?: Omit<RedisClusterOptions, "onLine">;
  /** Options of the topology's own Memorystore for Redis stand-in, e.g. `{ persistence: false }`: a Basic tier that restarts empty. */
  redisOptions?: Pick<RedisServerOptions, "persistence">;
  /**
   * The instances reach a Redis the caller runs with these variables (e.g. ./standard-tier.ts, a primary and a
   * replica behind one address), and the topology starts none.
   */
  redisEnv?: Record<string, string>;
  /** Environment for every instance (see service/config.ts), e.g. REQUEST_TIMEOUT_SECONDS. */
  env?: Record<string, string>;
  /** Node arguments that start an instance; default: the built service. */
  nodeArgs?: readonly string[];
  /** Start a front too (see ./front.ts). */
  front?: Omit<FrontOptions, "backends">;
  /** Receives every output line of every process, with the process's name. */
  onLine?: (source: string, line: string) => void;
  /** Fixed ports instead of free ones (make dev prints them). */
  redisPort?: number;
  firstInstancePort?: number;
}

export class Topology {
  /** Instances the front may route new requests to: started and ready, not stopping, not dead. */
  private readonly routable = new Set<ServiceInstance>();
  private front: Front | undefined;

  private constructor(
    private readonly redisServer: RedisServer | RedisCluster | undefined,
    readonly instances: ServiceInstance[],
  ) {}

  static async start(options: TopologyOptions): Promise<Topology> {
    const memory = options.store === "memory";
    if (memory && options.instances !== 1) throw new Error("a memory store serves exactly one instance");
    const onRedisLine = (line: string) => options.onLine?.("redis", line);
    const redis =
      memory || options.redisEnv
        ? undefined
        : options.redis === "cluster"
          ? new RedisCluster({ ...options.cluster, onLine: onRedisLine })
          : new RedisServer({ ...options.redisOptions, port: options.redisPort, onLine: onRedisLine });
    await redis?.start();
    const instances = await Promise.all(
      Array.from({ length: options.instances }, (_, index) => {
        const name = `instance-${String.fromCharCode(97 + index)}`;
        return ServiceInstance.create({
          name,
          port: options.firstInstancePort === undefined ? undefined : options.firstInstancePort + index,
          env: {
            ...(redis?.serviceEnv ?? options.redisEnv),
            ...options.env,
            ...(memory ? { BOARD_STORE: "memory" } : {}),
          },
          nodeArgs: options.nodeArgs,
          onLine: (line) => options.onLine?.(name, line),
        });
      }),
    );
    const topology = new Topology(redis, instances);
    try {
      await Promise.all(instances.map((_, index) => topology.startInstance(index)));
      if (options.front) {
        topology.front = new Front({ ...options.front, backends: () => [...topology.routable] });
        await topology.front.listen();
      }
    } catch (error) {
      await topology.stop();
      throw error;
    }
    return topology;
  }

  /** The shared Redis; throws in a memory or cluster topology. */
  get redis(): RedisServer {
    if (!(this.redisServer instanceof RedisServer))
      throw new Error(
        "this topology runs without a single Redis of its own (a memory store, a Redis Cluster, or the caller's Redis)",
      );
    return this.redisServer;
  }

  /** The shared Redis Cluster; throws unless started with `redis: "cluster"`. */
  get cluster(): RedisCluster {
    if (!(this.redisServer instanceof RedisCluster)) throw new Error("this topology runs without a Redis Cluster");
    return this.redisServer;
  }

  /** The front's address; throws when the topology has no front. */
  get url(): string {
    if (!this.front) throw new Error("this topology was started without a front");
    return this.front.url;
  }

  frontStats() {
    return this.front?.stats();
  }

  instance(index: number): ServiceInstance {
    const instance = this.instances[index];
    if (!instance) throw new Error(`no instance ${index}; there are ${this.instances.length}`);
    return instance;
  }

  /** Starts (or restarts) an instance and routes to it once it is ready. */
  async startInstance(index: number): Promise<void> {
    const instance = this.instance(index);
    // A cluster client discovers the slot map and connects to every primary before it is ready: more to do on a
    // loaded machine than one connection to one Redis.
    await instance.start(this.redisServer instanceof RedisCluster ? 30_000 : undefined);
    this.routable.add(instance);
    const unroute = () => this.routable.delete(instance);
    void instance.exited().then(unroute, unroute);
  }

  /** Scale-in: stops routing to the instance, then sends SIGTERM and waits for it to exit. */
  async stopInstance(index: number) {
    const instance = this.instance(index);
    this.routable.delete(instance);
    return instance.stop();
  }

  /** A crash: SIGKILL. The front notices when the process is gone, as Cloud Run notices a dead instance. */
  async killInstance(index: number) {
    const instance = this.instance(index);
    const exit = await instance.kill();
    this.routable.delete(instance);
    return exit;
  }

  /** Stops every process and deletes Redis's data. */
  async stop(): Promise<void> {
    await this.front?.close();
    this.routable.clear();
    await Promise.all(this.instances.map((instance) => instance.stop(3_000)));
    await this.redisServer?.destroy();
  }
}
