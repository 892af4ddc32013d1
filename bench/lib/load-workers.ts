/**
 * Runs the benchmark's clients in a few child processes (./load-worker.ts) and merges what they measure.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { mergeHistograms, summarize, type LatencySummary } from "./latency";
import type { Drain, DrawingPattern, DrawReport, Input, System, WorkerCommand } from "./load-worker";

export interface ClientSpec {
  url: string;
  board: string;
  /** Whether this client may be asked to draw (watchers can be lighter). */
  draws: boolean;
}

export interface DrawResult {
  latency: LatencySummary;
  /** Deliveries measured / deliveries expected (every sample to every other client of its board). */
  deliveredFraction: number;
  /** Deliveries measured: pointer samples that reached another client of their board. */
  delivered: number;
  expected: number;
  samples: number;
  messagesSent: number;
  acked: [string, number][];
  errors: DrawReport["errors"];
  refusedBy: Record<string, number>;
  cursors: DrawReport["cursors"];
  /** The longest wait for the last deliveries after drawing, ms. */
  drainedMs: number;
  samplerLagP99: number;
}

export class LoadWorkers {
  private nextRequest = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private boardSizes = new Map<string, number>();
  /** Clients 0..drawerSlots-1 live in the first worker, so that receiving never delays their sampling. */
  private drawerSlots = 0;

  private constructor(private readonly workers: ChildProcess[]) {
    for (const worker of workers) {
      worker.on("message", (message: { requestId: number; result?: unknown; error?: string }) => {
        const waiting = this.pending.get(message.requestId);
        this.pending.delete(message.requestId);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve(message.result);
      });
    }
  }

  static start(count: number): LoadWorkers {
    const entry = path.join(__dirname, "load-worker.ts");
    return new LoadWorkers(
      Array.from({ length: count }, () => fork(entry, { execArgv: ["--import", "tsx"], stdio: "inherit" })),
    );
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.pid as number);
  }

  /**
   * Connects the clients and waits until every one is connected. When more than one worker runs, the
   * drawers (clients with `draws`, which must come first) get the first worker to themselves and the others
   * are spread over the rest: a worker busy receiving would otherwise sample late, and count its own lag as
   * latency. When every client draws, all are spread evenly.
   */
  async connect(system: System, clients: readonly ClientSpec[], input?: Input): Promise<void> {
    const drawers = clients.filter((client) => client.draws).length;
    this.drawerSlots = this.workers.length > 1 && drawers < clients.length ? drawers : 0;
    this.boardSizes = new Map();
    for (const client of clients) this.boardSizes.set(client.board, (this.boardSizes.get(client.board) ?? 0) + 1);
    await Promise.all(
      this.workers.map((worker, w) =>
        this.request(worker, {
          kind: "connect",
          system,
          ...(input ? { input } : {}),
          clients: clients.flatMap((client, id) => (this.workerOf(id) === w ? [{ id, ...client }] : [])),
        }),
      ),
    );
  }

  /**
   * Has the clients with these ids draw for `durationMs`, then waits for the last deliveries (see Drain); with
   * `cursorHz`, every client moves its cursor that often meanwhile.
   */
  async draw(
    drawers: readonly number[],
    pattern: DrawingPattern,
    durationMs: number,
    drainMs: Drain = 3_000,
    cursorHz?: number,
  ): Promise<DrawResult> {
    const startAt = performance.timeOrigin + performance.now() + 500;
    const reports = (await Promise.all(
      this.workers.map((worker, w) =>
        this.request(worker, {
          kind: "draw",
          drawers: drawers.filter((id) => this.workerOf(id) === w),
          pattern,
          startAt,
          durationMs,
          drainMs,
          ...(cursorHz ? { cursorHz } : {}),
        }),
      ),
    )) as DrawReport[];
    let expected = 0;
    for (const report of reports) {
      for (const [board, count] of Object.entries(report.deliverablesByBoard)) {
        expected += count * ((this.boardSizes.get(board) ?? 1) - 1);
      }
    }
    const samples = reports.reduce((sum, report) => sum + report.samples, 0);
    const delivered = reports.reduce((sum, report) => sum + report.delivered, 0);
    const total = (pick: (report: DrawReport) => number) => reports.reduce((sum, report) => sum + pick(report), 0);
    const refusedBy: Record<string, number> = {};
    for (const report of reports)
      for (const [code, count] of Object.entries(report.refusedBy)) refusedBy[code] = (refusedBy[code] ?? 0) + count;
    return {
      latency: summarize(mergeHistograms(reports.map((report) => report.histogram))),
      deliveredFraction: expected === 0 ? 1 : delivered / expected,
      delivered,
      expected,
      samples,
      messagesSent: reports.reduce((sum, report) => sum + report.messagesSent, 0),
      acked: reports.flatMap((report) => report.acked),
      errors: {
        connectErrors: total((report) => report.errors.connectErrors),
        disconnects: total((report) => report.errors.disconnects),
        refused: total((report) => report.errors.refused),
        unanswered: total((report) => report.errors.unanswered),
      },
      refusedBy,
      cursors: {
        sent: total((report) => report.cursors.sent),
        messages: total((report) => report.cursors.messages),
        positions: total((report) => report.cursors.positions),
      },
      drainedMs: Math.max(...reports.map((report) => report.drainedMs)),
      samplerLagP99: Math.max(...reports.map((report) => report.samplerLagP99)),
    };
  }

  async clear(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.request(worker, { kind: "clear" })));
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.request(worker, { kind: "close" })));
  }

  stop(): void {
    for (const worker of this.workers) worker.kill();
  }

  private workerOf(id: number): number {
    if (this.drawerSlots === 0) return id % this.workers.length;
    return id < this.drawerSlots ? 0 : 1 + (id % (this.workers.length - 1));
  }

  private request(worker: ChildProcess, command: WorkerCommand): Promise<unknown> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      worker.send({ requestId, command });
    });
  }
}
