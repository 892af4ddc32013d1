/**
 * Runs the benchmark's clients in a few child processes (./load-worker.ts) and merges what they measure: each step
 * is drawn, drained, then settled (every process gets every sender's send log and checks its receivers' arrivals
 * against it, ./ledger.ts).
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { DrawingPattern } from "./drawing";
import { linesWithin } from "./drawing";
import { clock, mergeHistograms, summarize, type LatencySummary } from "./latency";
import { mergeSettlements, SampleState, type SenderLog, type Settlement } from "./ledger";
import type { Drain, DrawReport, Input, LoopDelay, System, WorkerCommand } from "./load-worker";

export interface ClientPlacement {
  url: string;
  board: string;
  /** Whether this client may be asked to draw. Drawers come first. */
  draws: boolean;
}

/** What one load process did in a step: the generator's own cost, next to the service's. */
interface GeneratorProcess {
  /** "drawers": it holds the drawing clients (and receives with them); "receivers": it only receives. */
  role: "drawers" | "receivers";
  receivers: number;
  /** Samples that arrived (first time) at its checking clients. */
  arrived: number;
  frames: number;
  cpuMs: number;
  /** Of `cpuMs`, decoding and checking frames (the rest: Socket.IO, WebSocket, drawing, timers). */
  checkMs: number;
  loopDelayMs: LoopDelay;
}

export interface DrawResult {
  /** From each sample's actual send to its arrival at each checking client of its board. */
  latency: LatencySummary;
  /** Each sample's send against its schedule: lateness the generator adds by itself (not in `latency`). */
  samplerLag: LatencySummary;
  delivery: Omit<Settlement, "histogram">;
  samples: number;
  /** What became of the samples drawn, from the senders' logs once the drain ended. */
  samplesBy: { stored: number; refused: number; unanswered: number; awaiting: number };
  /** Messages sent, and acknowledged as stored (the baseline relays without answering: every one sent). */
  piecesSent: number;
  piecesStored: number;
  refusedBy: Record<string, number>;
  errors: DrawReport["errors"];
  cursors: DrawReport["cursors"];
  /** Checking clients, and frames (messages of board changes) they received per client per second of drawing. */
  receivers: number;
  framesPerReceiverPerSecond: number;
  /** From the step's start to its last sample (lines begun before the end are drawn to their end). */
  drawSeconds: number;
  /** The longest wait for the last deliveries after drawing, ms. */
  drainedMs: number;
  generator: GeneratorProcess[];
}

export interface DrawOptions {
  /** Client ids that draw, as senders 0, 1, ... in this order. */
  drawers: readonly number[];
  pattern: DrawingPattern;
  durationMs: number;
  drain?: Drain;
  /** Every client moves its cursor this often meanwhile (ours). */
  cursorHz?: number;
}

let steps = 0;

function countStates(logs: readonly SenderLog[]): DrawResult["samplesBy"] {
  const counts = { stored: 0, refused: 0, unanswered: 0, awaiting: 0 };
  for (const log of logs) {
    for (const state of log.state) {
      if (state === SampleState.stored) counts.stored += 1;
      else if (state === SampleState.refused) counts.refused += 1;
      else if (state === SampleState.unanswered) counts.unanswered += 1;
      else if (state === SampleState.sent) counts.awaiting += 1;
    }
  }
  return counts;
}

export class LoadWorkers {
  private nextRequest = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private boards: string[] = [];
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
      Array.from({ length: count }, () =>
        // "advanced" serialization carries the send logs' typed arrays as they are.
        fork(entry, { execArgv: ["--import", "tsx"], stdio: "inherit", serialization: "advanced" }),
      ),
    );
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.pid as number);
  }

  /**
   * Connects the clients and waits until every one is connected. When more than one worker runs and some clients
   * only watch, the drawers get the first worker to themselves and the others are spread over the rest: a worker
   * busy receiving would otherwise send late. When every client draws, all are spread evenly.
   */
  async connect(system: System, input: Input, clients: readonly ClientPlacement[]): Promise<void> {
    const drawers = clients.filter((client) => client.draws).length;
    this.drawerSlots = this.workers.length > 1 && drawers < clients.length ? drawers : 0;
    this.boards = clients.map((client) => client.board);
    await Promise.all(
      this.workers.map((worker, w) =>
        this.request(worker, {
          kind: "connect",
          system,
          input,
          clients: clients.flatMap((client, id) => (this.workerOf(id) === w ? [{ id, ...client }] : [])),
        }),
      ),
    );
  }

  /** Has the given clients draw, waits for the last deliveries (see Drain), then checks every delivery. */
  async draw(options: DrawOptions): Promise<DrawResult> {
    steps += 1;
    const tag = `s${steps.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const layout = {
      senderBoards: options.drawers.map((id) => this.boards[id] as string),
      linesPerSender: linesWithin(options.pattern, options.durationMs),
      samplesPerLine: options.pattern.samplesPerLine,
    };
    const startAt = clock() + 500;
    const reports = (await Promise.all(
      this.workers.map((worker, w) =>
        this.request(worker, {
          kind: "draw",
          tag,
          drawers: options.drawers.flatMap((client, sender) =>
            this.workerOf(client) === w ? [{ client, sender }] : [],
          ),
          layout,
          pattern: options.pattern,
          startAt,
          durationMs: options.durationMs,
          drain: options.drain ?? 3_000,
          ...(options.cursorHz ? { cursorHz: options.cursorHz } : {}),
        }),
      ),
    )) as DrawReport[];
    const logs: SenderLog[] = [];
    for (const report of reports) for (const [sender, log] of report.logs) logs[sender] = log;
    const settlements = (await Promise.all(
      this.workers.map((worker) => this.request(worker, { kind: "settle", logs })),
    )) as Settlement[];
    const { latency, ...delivery } = mergeSettlements(settlements);
    const total = (pick: (report: DrawReport) => number) => reports.reduce((sum, report) => sum + pick(report), 0);
    const refusedBy: Record<string, number> = {};
    for (const report of reports)
      for (const [code, count] of Object.entries(report.refusedBy)) refusedBy[code] = (refusedBy[code] ?? 0) + count;
    const receivers = total((report) => report.receivers);
    const lastSentAt = Math.max(...reports.map((report) => report.lastSentAt).filter(Number.isFinite));
    const drawSeconds =
      (Number.isFinite(lastSentAt) ? lastSentAt - startAt + options.pattern.sampleIntervalMs : options.durationMs) /
      1000;
    return {
      latency,
      samplerLag: summarize(mergeHistograms(reports.map((report) => report.lag))),
      delivery,
      samples: total((report) => report.samples),
      samplesBy: countStates(logs),
      piecesSent: total((report) => report.piecesSent),
      piecesStored: total((report) => report.piecesStored),
      refusedBy,
      errors: {
        connectErrors: total((report) => report.errors.connectErrors),
        disconnects: total((report) => report.errors.disconnects),
      },
      cursors: {
        sent: total((report) => report.cursors.sent),
        frames: total((report) => report.cursors.frames),
        positions: total((report) => report.cursors.positions),
      },
      receivers,
      framesPerReceiverPerSecond: receivers ? total((report) => report.frames) / receivers / drawSeconds : 0,
      drawSeconds,
      drainedMs: Math.max(...reports.map((report) => report.drainedMs)),
      generator: reports.map((report) => ({
        role: report.logs.length > 0 ? "drawers" : "receivers",
        receivers: report.receivers,
        arrived: report.arrived,
        frames: report.frames,
        cpuMs: report.cpuMs,
        checkMs: report.checkMs,
        loopDelayMs: report.loopDelayMs,
      })),
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
