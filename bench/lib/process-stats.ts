/**
 * CPU time and memory of processes (servers, Redis, load workers) over a measured window.
 */
import pidusage from "pidusage";

export interface ProcessUsage {
  name: string;
  /** CPU used in the window, as a percentage of one core. */
  cpuPercent: number;
  /** CPU time used in the window, ms. */
  cpuMs: number;
  rssMb: number;
  /** The process was gone at the end of the window. */
  died: boolean;
}

/** CPU time (ms) and RSS of a process, or undefined when it is gone. */
async function sample(pid: number): Promise<{ ctime: number; memory: number } | undefined> {
  return pidusage(pid).catch(() => undefined);
}

export class CpuWindow {
  private constructor(
    private readonly processes: ReadonlyMap<string, number>,
    private readonly startCpuMs: Map<number, number>,
    private readonly startedAt: number,
  ) {}

  /** Starts measuring `processes` (name → pid). */
  static async start(processes: ReadonlyMap<string, number>): Promise<CpuWindow> {
    const pids = [...processes.values()];
    const usage = await Promise.all(pids.map(sample));
    return new CpuWindow(processes, new Map(pids.map((pid, i) => [pid, usage[i]?.ctime ?? 0])), Date.now());
  }

  /** Usage over the window; a process that died in it reports `died`. */
  async stop(): Promise<ProcessUsage[]> {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return Promise.all(
      [...this.processes].map(async ([name, pid]) => {
        const usage = await sample(pid);
        if (!usage) return { name, cpuPercent: 0, cpuMs: 0, rssMb: 0, died: true };
        const cpuMs = usage.ctime - (this.startCpuMs.get(pid) ?? 0);
        return {
          name,
          cpuPercent: Math.round(cpuMs / 10 / seconds),
          cpuMs,
          rssMb: Math.round(usage.memory / 1e5) / 10,
          died: false,
        };
      }),
    );
  }
}

/**
 * The lowest RSS of a process over `windowMs` (sampled every 250 ms). A V8 heap holds garbage until its
 * next collection, so one reading right after a burst of work overstates what the work keeps.
 */
export async function settledRssBytes(pid: number, windowMs = 5_000): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let elapsed = 0; elapsed < windowMs; elapsed += 250) {
    lowest = Math.min(lowest, (await pidusage(pid)).memory);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return lowest;
}
