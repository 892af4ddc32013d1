/**
 * A load-generating child process (./load-workers.ts runs a few). It holds a slice of the benchmark's clients; its
 * drawers draw lines of pointer samples on the clock and log when each sample was actually handed to the client and
 * what became of it; its checking clients decode every frame they get and check every sample by identity
 * (./ledger.ts). After a step the coordinator gathers the send logs and hands them to every process to settle.
 *
 * Clients:
 * - ours, `unbatched`: a plain socket joined to the board; as a drawer it sends one piece per pointer sample
 *   without waiting for acknowledgements, as a third-party client or a script would: the least favourable honest
 *   load. Every one of them checks what it receives, drawers included (not their own lines);
 * - ours, `session`: drawers run the browser client's own session (its outbox sends what was drawn meanwhile
 *   together while a few pieces are in flight); they do not check (the session holds its own board); the watchers
 *   are plain checking sockets;
 * - `baseline`: a plain socket to the baseline; a drawer sends, per sample, the very frame ours would broadcast for
 *   it, which the baseline relays; its receivers decode and check it exactly as ours' do.
 *
 * Also measured here, per step: this process's CPU time, the time spent decoding and checking, and its event-loop
 * delay, so that a reader can tell when the generator rather than the service sets a figure.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { io, type Socket } from "socket.io-client";
import type { DrawingPattern, Point } from "./drawing";
import { indexOfX, phaseMs, samplePoint, styleOf } from "./drawing";
import { clock, createHistogram, encodeHistogram } from "./latency";
import {
  createSenderLog,
  DeliveryLedger,
  SampleState,
  type SenderLog,
  type Settlement,
  type StepLayout,
} from "./ledger";
import * as wire from "./protocol";
import { waitFor } from "../../local/ports";

export type System = "ours" | "baseline";
/** How ours' drawers send what they draw (see above). */
export type Input = "session" | "unbatched";

/**
 * After drawing: a number waits that long; otherwise the worker waits at least `minMs`, then until nothing new
 * arrived and no acknowledgement was awaited for `quietMs`, at most `maxMs` (an overloaded system delivers its
 * backlog late, and a late delivery is a delivery, counted with its latency).
 */
export type Drain = number | { minMs: number; quietMs: number; maxMs: number };

interface ClientSpec {
  id: number;
  url: string;
  board: string;
  draws: boolean;
}

interface DrawCommand {
  kind: "draw";
  /** Names this step's lines, so that a sample of another step is told apart. */
  tag: string;
  /** The clients that draw, with the sender number each draws as. */
  drawers: { client: number; sender: number }[];
  layout: StepLayout;
  pattern: DrawingPattern;
  /** Shared clock (./latency.ts), ms. */
  startAt: number;
  durationMs: number;
  drain: Drain;
  cursorHz?: number;
}

export type WorkerCommand =
  | { kind: "connect"; system: System; input: Input; clients: ClientSpec[] }
  | DrawCommand
  | { kind: "settle"; logs: SenderLog[] }
  | { kind: "clear" }
  | { kind: "close" };

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export interface DrawReport {
  /** Send logs of this process's drawers, by sender number. */
  logs: [sender: number, log: SenderLog][];
  /** Lateness of each sample's send against its schedule, µs, encoded (the generator's own lag). */
  lag: string;
  samples: number;
  /** Messages sent, and acknowledged as stored (the baseline: relayed, so every one sent). */
  piecesSent: number;
  piecesStored: number;
  refusedBy: Record<string, number>;
  errors: { connectErrors: number; disconnects: number };
  cursors: { sent: number; frames: number; positions: number };
  /** Checking clients here, the frames they got, and the samples that arrived first time. */
  receivers: number;
  frames: number;
  arrived: number;
  cpuMs: number;
  /** Time spent in decoding and checking frames, ms (in `cpuMs`). */
  checkMs: number;
  loopDelayMs: LoopDelay;
  /** When the last sample was sent (shared clock, ms); NaN when this process drew nothing. */
  lastSentAt: number;
  drainedMs: number;
}

const JOIN_TIMEOUT_MS = 120_000;

/** A line of the step: its content is a function of this identity (./drawing.ts). */
interface LineRef {
  tag: string;
  sender: number;
  line: number;
}

/** What a client does in a step. */
interface LoadClient {
  readonly board: string;
  readonly checks: boolean;
  ready(): Promise<void>;
  /** Sample `index` of `line`. */
  draw(line: LineRef, index: number, log: SampleLogger): void;
  end(): void;
  clear(): Promise<void>;
  cursor(point: Point): void;
  /** Pieces sent and not yet answered. */
  readonly awaiting: number;
  close(): void;
}

/** Writes what became of one sample into its sender's log. */
type SampleLogger = (state: SampleState) => void;

/** The current step's shared figures. */
class StepFigures {
  piecesSent = 0;
  piecesStored = 0;
  refusedBy: Record<string, number> = {};
  errors = { connectErrors: 0, disconnects: 0 };
  cursors = { sent: 0, frames: 0, positions: 0 };
  frames = 0;
  checkMs = 0;

  refused(code: string): void {
    this.refusedBy[code] = (this.refusedBy[code] ?? 0) + 1;
  }
}

let figures = new StepFigures();
let ledger: DeliveryLedger | undefined;
let tag = "";
let clients = new Map<number, LoadClient>();
/** Checking clients in ledger order, by client id. */
let receiverIndex = new Map<number, number>();

/** A checking receiver's sink: decoded samples into the step's ledger. */
function sinkFor(client: number): wire.SampleSink {
  return {
    sample(sampleTag, sender, line, x, y, color, width) {
      if (!ledger) return;
      if (sampleTag !== tag) return ledger.strayed();
      ledger.arrive(receiverIndex.get(client) ?? -1, sender, line, x, y, color, width, arrivalTime);
    },
    undecodable() {
      ledger?.undecodable();
    },
  };
}
/** When the frame being decoded arrived (one clock reading per frame). */
let arrivalTime = 0;

function receive(sink: wire.SampleSink, frame: wire.Frame): void {
  const started = performance.now();
  arrivalTime = clock();
  figures.frames += 1;
  wire.decodeFrame(frame, sink);
  figures.checkMs += performance.now() - started;
}

/** Ours, a plain socket: checks what it receives; as a drawer, one piece per sample, not waiting for answers. */
class PlainClient implements LoadClient {
  readonly checks = true;
  private readonly socket: wire.WireSocket;
  private joined = false;
  awaiting = 0;

  constructor(
    id: number,
    url: string,
    readonly board: string,
  ) {
    const sink = sinkFor(id);
    this.socket = wire.openSocket(url);
    this.socket.on("connect", () => {
      wire.join(this.socket, board, id).then(
        () => (this.joined = true),
        () => (figures.errors.connectErrors += 1),
      );
    });
    this.socket.on(wire.FRAME_EVENT, (frame) => receive(sink, frame));
    this.socket.on(wire.CURSORS_EVENT, (frame) => {
      figures.cursors.frames += 1;
      figures.cursors.positions += wire.cursorCount(frame);
    });
    this.socket.on("connect_error", () => (figures.errors.connectErrors += 1));
    this.socket.on("disconnect", () => {
      this.joined = false;
      figures.errors.disconnects += 1;
    });
  }

  ready(): Promise<void> {
    return waitFor("the client to join", () => this.joined, JOIN_TIMEOUT_MS);
  }

  draw(line: LineRef, index: number, log: SampleLogger): void {
    this.awaiting += 1;
    figures.piecesSent += 1;
    log(SampleState.sent);
    wire.sendPiece(this.socket, { ...line, n: index, first: index, count: 1 }, (outcome) => {
      this.awaiting -= 1;
      if (outcome.stored) {
        figures.piecesStored += 1;
        log(SampleState.stored);
      } else {
        figures.refused(outcome.code);
        log(outcome.code === "no_answer" ? SampleState.unanswered : SampleState.refused);
      }
    });
  }

  end(): void {}

  clear(): Promise<void> {
    return wire.clearBoard(this.socket);
  }

  cursor(point: Point): void {
    wire.sendCursor(this.socket, point);
    figures.cursors.sent += 1;
  }

  close(): void {
    this.socket.close();
  }
}

/** The baseline: sends, per sample, the frame ours would broadcast; checks what the baseline relays. */
class BaselineClient implements LoadClient {
  readonly checks = true;
  readonly awaiting = 0;
  private readonly socket: Socket<BaselineEvents, BaselineEvents>;
  private seq = 0;

  constructor(
    id: number,
    url: string,
    readonly board: string,
  ) {
    const sink = sinkFor(id);
    this.socket = io(url, { transports: ["websocket"], reconnectionDelay: 500, forceNew: true });
    this.socket.on("drawing", (frame) => receive(sink, frame));
    this.socket.on("connect_error", () => (figures.errors.connectErrors += 1));
    this.socket.on("disconnect", () => (figures.errors.disconnects += 1));
  }

  ready(): Promise<void> {
    return waitFor("the baseline client to connect", () => this.socket.connected, JOIN_TIMEOUT_MS);
  }

  draw(line: LineRef, index: number, log: SampleLogger): void {
    this.seq += 1;
    const frame = wire.baselineFrame({ ...line, n: index, first: index, count: 1 }, this.seq);
    this.socket.emit("drawing", frame);
    figures.piecesSent += 1;
    figures.piecesStored += 1;
    log(SampleState.stored);
  }

  end(): void {}

  async clear(): Promise<void> {
    // The baseline keeps nothing.
  }

  cursor(): void {
    // The baseline has no cursors.
  }

  close(): void {
    this.socket.close();
  }
}

/** The event the baseline relays (bench/baseline/server.ts), carrying ours' frames. */
interface BaselineEvents {
  drawing: (frame: wire.Frame) => void;
}

/** Ours, through the browser client's session; marks samples stored when the session's pieces are acknowledged. */
class SessionClient implements LoadClient {
  readonly checks = false;
  private readonly drawer: wire.SessionDrawer;
  /** The current step's lines of this client: key → its sender log and line number. */
  readonly lines = new Map<string, { log: SenderLog; line: number; samplesPerLine: number }>();

  constructor(
    id: number,
    url: string,
    readonly board: string,
  ) {
    const mark = (key: string, points: readonly Point[], state: SampleState) => {
      const entry = this.lines.get(key);
      if (!entry) return;
      for (const [x] of points) {
        const index = indexOfX(x);
        if (index >= 0 && index < entry.samplesPerLine)
          entry.log.state[entry.line * entry.samplesPerLine + index] = state;
      }
    };
    this.drawer = new wire.SessionDrawer(url, board, id, {
      stored: (key, points, pieces) => {
        figures.piecesSent += pieces;
        figures.piecesStored += pieces;
        mark(key, points, SampleState.stored);
      },
      refused: (key, points, code) => {
        figures.piecesSent += 1;
        figures.refused(code);
        mark(key, points, SampleState.refused);
      },
      disconnected: () => (figures.errors.disconnects += 1),
      cursors: (positions) => {
        figures.cursors.frames += 1;
        figures.cursors.positions += positions;
      },
    });
  }

  ready(): Promise<void> {
    return this.drawer.ready();
  }

  draw(line: LineRef, index: number, log: SampleLogger): void {
    // Stored when the store's board has it (see `mark`).
    log(SampleState.sent);
    const point = samplePoint(line.sender, line.line, index);
    if (index === 0) this.drawer.begin(point, wire.lineKey(line.tag, line.sender, line.line), styleOf(line.sender));
    else this.drawer.extend(point);
  }

  end(): void {
    this.drawer.end();
  }

  clear(): Promise<void> {
    return this.drawer.clear();
  }

  cursor(point: Point): void {
    this.drawer.cursor(point);
    figures.cursors.sent += 1;
  }

  get awaiting(): number {
    return this.drawer.awaiting;
  }

  close(): void {
    this.drawer.close();
  }
}

/** Draws the step's lines on the clock, then drains (see Drain) and reports. */
async function draw(command: DrawCommand): Promise<DrawReport> {
  const { pattern, layout, startAt, durationMs } = command;
  figures = new StepFigures();
  tag = command.tag;
  const checking = [...clients].filter(([, client]) => client.checks);
  const senderOf = new Map(command.drawers.map(({ client, sender }) => [client, sender]));
  receiverIndex = new Map(checking.map(([id], index) => [id, index]));
  ledger = new DeliveryLedger(
    layout,
    checking.map(([id, client]) => ({ board: client.board, self: senderOf.get(id) })),
    startAt,
  );
  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const lag = createHistogram();
  let samples = 0;
  let lastSentAt = Number.NaN;
  const endAt = startAt + durationMs;
  const drawers = command.drawers.map(({ client: id, sender }) => {
    const client = clients.get(id);
    if (!client) throw new Error(`client ${id} is not in this process`);
    const log = createSenderLog(layout);
    return {
      id,
      sender,
      client,
      log,
      line: 0,
      index: 0,
      start: startAt + phaseMs(sender, pattern),
    };
  });
  for (const drawer of drawers) {
    if (drawer.client instanceof SessionClient) drawer.client.lines.clear();
  }
  const stopCursors = command.cursorHz ? moveCursors(command.cursorHz, startAt, endAt) : () => undefined;

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = clock();
      for (const drawer of drawers) {
        for (;;) {
          const due = drawer.start + drawer.index * pattern.sampleIntervalMs;
          if (due > now || (drawer.index === 0 && (due >= endAt || drawer.line >= layout.linesPerSender))) break;
          const slot = drawer.line * layout.samplesPerLine + drawer.index;
          if (drawer.index === 0 && drawer.client instanceof SessionClient)
            drawer.client.lines.set(wire.lineKey(tag, drawer.sender, drawer.line), {
              log: drawer.log,
              line: drawer.line,
              samplesPerLine: layout.samplesPerLine,
            });
          const sentAt = clock();
          lag.recordValue(Math.max(1, Math.round((sentAt - due) * 1000)));
          drawer.log.sentAt[slot] = sentAt;
          lastSentAt = sentAt;
          const log = drawer.log;
          drawer.client.draw({ tag, sender: drawer.sender, line: drawer.line }, drawer.index, (state) => {
            // An answer may come after a later send's: never overwrite "stored" with anything but itself.
            if (log.state[slot] !== SampleState.stored) log.state[slot] = state;
          });
          samples += 1;
          drawer.index += 1;
          if (drawer.index === pattern.samplesPerLine) {
            drawer.client.end();
            drawer.start = due + pattern.sampleIntervalMs + pattern.pauseMs;
            drawer.index = 0;
            drawer.line += 1;
          }
        }
      }
      if (now >= endAt && drawers.every((drawer) => drawer.index === 0)) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  stopCursors();
  const drainedMs = await drain(command.drain);
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  return {
    logs: drawers.map(({ sender, log }) => [sender, log]),
    lag: encodeHistogram(lag),
    samples,
    piecesSent: figures.piecesSent,
    piecesStored: figures.piecesStored,
    refusedBy: figures.refusedBy,
    errors: figures.errors,
    cursors: figures.cursors,
    receivers: checking.length,
    frames: figures.frames,
    arrived: ledger.arrived,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    checkMs: Math.round(figures.checkMs),
    loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
    lastSentAt,
    drainedMs: Math.round(drainedMs),
  };
}

/**
 * Every client of this process moves its cursor `hz` times a second from `startAt` to `endAt`, each on its own
 * phase, along a path of its own. Returns a stop function.
 */
function moveCursors(hz: number, startAt: number, endAt: number): () => void {
  const periodMs = 1000 / hz;
  const movers = [...clients.values()].map((client, index, all) => ({
    client,
    index,
    next: startAt + (index / all.length) * periodMs,
    moves: 0,
  }));
  const tick = setInterval(() => {
    const now = clock();
    if (now >= endAt) return clearInterval(tick);
    for (const mover of movers) {
      if (mover.next > now) continue;
      mover.next += periodMs * Math.max(1, Math.ceil((now - mover.next) / periodMs));
      mover.moves += 1;
      mover.client.cursor([
        (mover.index * 997 + mover.moves * 40) % 16_000,
        (mover.index * 331 + mover.moves * 25) % 10_000,
      ]);
    }
  }, 5);
  return () => clearInterval(tick);
}

/** Waits after drawing (see Drain); returns how long it waited, ms. */
async function drain(how: Drain): Promise<number> {
  const started = clock();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  if (typeof how === "number") {
    await sleep(how);
    return clock() - started;
  }
  let seen = -1;
  let quietSince = started;
  for (;;) {
    await sleep(100);
    const now = clock();
    const awaiting = [...clients.values()].reduce((sum, client) => sum + client.awaiting, 0);
    const arrived = ledger?.arrived ?? 0;
    if (arrived !== seen || awaiting > 0) {
      seen = arrived;
      quietSince = now;
    }
    if ((now - started >= how.minMs && now - quietSince >= how.quietMs) || now - started >= how.maxMs)
      return now - started;
  }
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.kind) {
    case "connect": {
      clients = new Map(
        command.clients.map((spec) => [
          spec.id,
          command.system === "baseline"
            ? new BaselineClient(spec.id, spec.url, spec.board)
            : spec.draws && command.input === "session"
              ? new SessionClient(spec.id, spec.url, spec.board)
              : new PlainClient(spec.id, spec.url, spec.board),
        ]),
      );
      await Promise.all([...clients.values()].map((client) => client.ready()));
      return { connected: clients.size };
    }
    case "draw":
      return draw(command);
    case "settle": {
      if (!ledger) throw new Error("settle before any step");
      const settlement: Settlement = ledger.settle(command.logs);
      return settlement;
    }
    case "clear": {
      // One client per board clears it for everyone.
      const oneEach = new Map([...clients.values()].map((client) => [client.board, client]));
      await Promise.all([...oneEach.values()].map((client) => client.clear()));
      return {};
    }
    case "close":
      clients.forEach((client) => client.close());
      clients.clear();
      ledger = undefined;
      return {};
  }
}

process.on("message", (message: { requestId: number; command: WorkerCommand }) => {
  handle(message.command).then(
    (result) => process.send?.({ requestId: message.requestId, result }),
    (error: Error) => process.send?.({ requestId: message.requestId, error: error.stack }),
  );
});
