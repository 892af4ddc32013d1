/**
 * The benchmarks' topology: one Redis (the Memorystore stand-in: TLS, AUTH), N instances of a system, started
 * patiently, and optionally the Cloud Run-like front before them (local/front.ts). local/topology.ts gives each instance 15 s to be ready, which instances starting together on a machine
 * shared with other work can miss; a benchmark would rather wait than fail.
 */
import { Front, type FrontOptions } from "../../local/front";
import { RedisServer } from "../../local/redis-server";
import { ServiceInstance } from "../../local/service-instance";

const READY_TIMEOUT_MS = 120_000;

export interface BenchTopologyOptions {
  instances: number;
  /** Environment for every instance (see service/config.ts). */
  env?: Record<string, string>;
  /** Node arguments that start an instance; default: the built service. */
  nodeArgs?: readonly string[];
  onLine?: (source: string, line: string) => void;
  /** A front routing to the running instances, as Cloud Run does (no affinity, a concurrency cap each). */
  front?: Omit<FrontOptions, "backends">;
}

export class BenchTopology {
  private front: Front | undefined;

  private constructor(
    readonly redis: RedisServer,
    readonly instances: ServiceInstance[],
  ) {}

  static async start(options: BenchTopologyOptions): Promise<BenchTopology> {
    const redis = await new RedisServer({ onLine: (line) => options.onLine?.("redis", line) }).start();
    const instances = await Promise.all(
      Array.from({ length: options.instances }, (_, index) => {
        const name = `instance-${String.fromCharCode(97 + index)}`;
        return ServiceInstance.create({
          name,
          env: { ...redis.serviceEnv, ...options.env },
          nodeArgs: options.nodeArgs,
          onLine: (line) => options.onLine?.(name, line),
        });
      }),
    );
    const topology = new BenchTopology(redis, instances);
    try {
      await Promise.all(instances.map((instance) => instance.start(READY_TIMEOUT_MS)));
      if (options.front) {
        topology.front = new Front({ ...options.front, backends: () => instances.filter((i) => i.running) });
        await topology.front.listen();
      }
    } catch (error) {
      await topology.stop();
      throw error;
    }
    return topology;
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

  /** Starts an instance again (after it died). */
  async restart(index: number): Promise<void> {
    await this.instance(index).start(READY_TIMEOUT_MS);
  }

  /** Stops every process and deletes Redis's data. */
  async stop(): Promise<void> {
    await this.front?.close();
    await Promise.all(this.instances.map((instance) => instance.stop(3_000)));
    await this.redis.destroy();
  }
}
