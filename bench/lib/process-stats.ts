/**
 * CPU time and memory of processes (servers, Redis, load workers) over a measured window.
 */
import pidusage from "pidusage";

export interface ProcessUsage {
  name: string;
  /** CPU used in the window, as a percentage of one core. */
  cpuPercent: number;
  rssMb: number;
}

export class CpuWindow {
  private constructor(
    private readonly processes: ReadonlyMap<string, number>,
    private readonly startCpuMs: Map<number, number>,
    private readonly startedAt: number,
  ) {}

  /** Starts measuring `processes` (name → pid). */
  static async start(processes: ReadonlyMap<string, number>): Promise<CpuWindow> {
    const usage = await pidusage([...processes.values()]);
    return new CpuWindow(processes, new Map([...processes.values()].map((pid) => [pid, usage[pid]?.ctime ?? 0])), Date.now());
  }

  async stop(): Promise<ProcessUsage[]> {
    const usage = await pidusage([...this.processes.values()]);
    const seconds = (Date.now() - this.startedAt) / 1000;
    return [...this.processes].map(([name, pid]) => ({
      name,
      cpuPercent: Math.round(((usage[pid]?.ctime ?? 0) - (this.startCpuMs.get(pid) ?? 0)) / 10 / seconds),
      rssMb: Math.round((usage[pid]?.memory ?? 0) / 1e5) / 10,
    }));
  }
}

export async function rssBytes(pid: number): Promise<number> {
  return (await pidusage(pid)).memory;
}
