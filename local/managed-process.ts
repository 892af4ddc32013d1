/**
 * A child process that the local topology (make dev, tests, benchmarks) starts, stops and kills, and that
 * never outlives its parent.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ProcessSpec {
  /** Names the process in errors. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Working directory. Default: this process's. */
  cwd?: string;
  /** Run as this user and group (needs root), as a container's USER does. Default: this process's. */
  user?: { uid: number; gid: number };
  /** Receives each line the process writes to stdout or stderr; lines are dropped when absent. */
  onLine?: (line: string) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const living = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of living) child.kill("SIGKILL");
});

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<Exit> = Promise.resolve({ code: null, signal: null });

  constructor(private readonly spec: ProcessSpec) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child) throw new Error(`${this.spec.name} is already running`);
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: this.spec.env ?? process.env,
      cwd: this.spec.cwd,
      uid: this.spec.user?.uid,
      gid: this.spec.user?.gid,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    living.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      const lines = createInterface({ input: stream });
      lines.on("line", (line) => this.spec.onLine?.(line));
    }
    this.exit = new Promise((resolve, reject) => {
      child.once("error", (error) => {
        living.delete(child);
        if (this.child === child) this.child = undefined;
        reject(new Error(`${this.spec.name}: cannot start ${this.spec.command}: ${error.message}`));
      });
      // "close", not "exit": it comes once the output is read too, so every line has reached onLine by then.
      child.once("close", (code, signal) => {
        living.delete(child);
        if (this.child === child) this.child = undefined;
        resolve({ code, signal });
      });
    });
    this.exit.catch(() => undefined); // reported through exited()
  }

  /** Resolves when the current (or last) run ends. */
  exited(): Promise<Exit> {
    return this.exit;
  }

  /** Sends `signal` and waits for the exit; after `graceMs` it sends SIGKILL. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<Exit> {
    const child = this.child;
    if (!child) return this.exit;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: the process gets no chance to clean up, as when a machine dies. */
  kill(): Promise<Exit> {
    return this.stop("SIGKILL");
  }
}
