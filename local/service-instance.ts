/**
 * One whiteboard service instance as its own process (`node dist/service/main.js`), like one Cloud Run
 * container: configured by environment variables, probed on /readyz, stopped with SIGTERM or SIGKILL.
 */
import path from "node:path";
import { ManagedProcess, type Exit } from "./managed-process";
import { freePort, waitFor } from "./ports";

export const SERVICE_ENTRY = path.join(__dirname, "..", "dist", "service", "main.js");

export interface ServiceInstanceOptions {
  /** Names the instance in logs and presence. */
  name: string;
  /** Default: a free port, kept across restarts. */
  port?: number;
  /** Port of GET /metrics (METRICS_PORT). Default: a free port, kept across restarts. */
  metricsPort?: number;
  /** More environment variables (see service/config.ts), the Redis stand-in's among them. */
  env?: Record<string, string>;
  /** Node arguments that start the server. Default: the built service, [SERVICE_ENTRY]. */
  nodeArgs?: readonly string[];
  onLine?: (line: string) => void;
}

export class ServiceInstance {
  private readonly process: ManagedProcess;
  private port: number;
  private readonly metricsPort: number;

  private constructor(
    private readonly options: ServiceInstanceOptions,
    port: number,
    metricsPort: number,
  ) {
    this.port = port;
    this.metricsPort = metricsPort;
    this.process = new ManagedProcess({
      name: options.name,
      command: process.execPath,
      args: options.nodeArgs ?? [SERVICE_ENTRY],
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        INSTANCE_ID: options.name,
        LOG_LEVEL: "info",
        ...options.env,
      },
      onLine: options.onLine,
    });
  }

  static async create(options: ServiceInstanceOptions): Promise<ServiceInstance> {
    const port = options.port ?? (await freePort());
    let metricsPort = options.metricsPort ?? (await freePort());
    while (metricsPort === port) metricsPort = await freePort();
    return new ServiceInstance(options, port, metricsPort);
  }

  get name(): string {
    return this.options.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where the instance's metrics are (Prometheus text format); not served by the front. */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  get running(): boolean {
    return this.process.running;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Starts the process and waits until /readyz answers 200 (Redis connected). */
  async start(readyTimeoutMs = 15_000): Promise<this> {
    this.process.start();
    const exited = this.process.exited().then((exit) => {
      throw new Error(`${this.name} exited at start (${exit.code ?? exit.signal})`);
    });
    await Promise.race([waitFor(`${this.name} to be ready`, () => this.ready(), readyTimeoutMs), exited]);
    return this;
  }

  async ready(): Promise<boolean> {
    const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
    return response.status === 200;
  }

  /** SIGTERM, as Cloud Run sends at scale-in: the instance drains and exits. */
  stop(graceMs?: number): Promise<Exit> {
    return this.process.stop("SIGTERM", graceMs);
  }

  /** SIGKILL, as when an instance's machine dies. */
  kill(): Promise<Exit> {
    return this.process.kill();
  }

  exited(): Promise<Exit> {
    return this.process.exited();
  }
}
