/**
 * A real redis-server on 127.0.0.1, as the local stand-in for Memorystore. It keeps an append-only file
 * that a graceful stop flushes, so a test can restart Redis and expect every acked stroke back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createConnection } from "node:net";
import { ManagedProcess } from "./managed-process";
import { freePort, waitFor } from "./ports";

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** The redis-server binary. Default: `redis-server` on PATH. */
  binary?: string;
  onLine?: (line: string) => void;
}

export class RedisServer {
  private process: ManagedProcess | undefined;
  private dir: string | undefined;
  private port = 0;

  constructor(private readonly options: RedisServerOptions = {}) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<this> {
    this.port ||= this.options.port ?? (await freePort());
    this.dir ??= mkdtempSync(path.join(tmpdir(), "whiteboard-redis-"));
    this.process = new ManagedProcess({
      name: `redis-server :${this.port}`,
      command: this.options.binary ?? "redis-server",
      args: [
        "--port", String(this.port),
        "--bind", "127.0.0.1",
        "--dir", this.dir,
        "--save", "",
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--daemonize", "no",
        "--loglevel", "warning",
      ],
      onLine: this.options.onLine,
    });
    this.process.start();
    const exited = this.process.exited().then((exit) => {
      throw new Error(`redis-server exited at start (${exit.code ?? exit.signal})`);
    });
    await Promise.race([waitFor(`redis-server on port ${this.port}`, () => ping(this.port)), exited]);
    return this;
  }

  /** Graceful stop (SIGTERM): Redis flushes its data and exits. The data stays for the next start. */
  async stop(): Promise<void> {
    await this.process?.stop("SIGTERM");
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  /** Stops and deletes the data. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    socket.setTimeout(500);
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
