/**
 * A load-generating child process. It holds a slice of the benchmark's clients, draws as they would (pointer
 * samples at a fixed rate, scheduled on the clock, so a late timer shows up as latency), and measures the
 * latency from each pointer sample to its arrival at every other client of the board.
 *
 * Two kinds of client:
 * - "ours": drawers run the browser client's own WhiteboardSession (outbox, chunking, acks); watchers are
 *   plain sockets that join the board and time each stroke event, as light as the baseline's watchers, so
 *   that 375 of them sharing one load process measure the service rather than their own bookkeeping;
 * - "baseline": Socket.IO's whiteboard example, one `drawing` message per segment, against the baseline.
 *
 * A sample carries what its receivers need to time it: its stroke id holds the client and the stroke's
 * start time, and its x coordinate its index in the stroke, so no field outside the protocol is needed.
 */
import { io, type Socket } from "socket.io-client";
import type { Point } from "../../client/core/outbox";
import { WhiteboardSession } from "../../client/core/session";
import type { ClientToServerEvents, ServerToClientEvents, StrokeRecord, UserInfo } from "../../protocol/events";
import { BOARD_HEIGHT, BOARD_WIDTH, toRecord } from "../../protocol/events";
import { decodePoints } from "../../protocol/points";
import { waitFor } from "../../local/ports";
import { clock, createHistogram, encodeHistogram } from "./latency";

export type System = "ours" | "baseline";

export interface DrawingPattern {
  samplesPerStroke: number;
  /** 1000/60 for a 60 Hz pointer. */
  sampleIntervalMs: number;
  pauseMs: number;
}

export type WorkerCommand =
  | { kind: "connect"; system: System; clients: { id: number; url: string; board: string; draws: boolean }[] }
  | { kind: "draw"; drawers: number[]; pattern: DrawingPattern; startAt: number; durationMs: number; drainMs: number }
  | { kind: "clear" }
  | { kind: "close" };

export interface DrawReport {
  histogram: string;
  delivered: number;
  /** Pointer samples drawn. */
  samples: number;
  /** Units every other client of the board should receive (points for ours, segments for the baseline). */
  deliverablesByBoard: Record<string, number>;
  /** Chunks acknowledged (ours) or messages sent (baseline). */
  messagesSent: number;
  /** Acknowledged chunk ids with their seq (ours). */
  acked: [string, number][];
  errors: { connectErrors: number; disconnects: number; refused: number };
  /** How late the sampling timer ran, 99th percentile, ms: latency the generator adds itself. */
  samplerLagP99: number;
}

/** Hundreds of clients connect at once on a loaded machine. */
const CONNECT_TIMEOUT_MS = 120_000;
/** Sample i of a stroke is drawn at x = X0 + i × DX (board units). */
const X0 = Math.round(0.05 * BOARD_WIDTH);
const DX = 16;
const pointX = (index: number) => X0 + index * DX;
const user = (id: number): UserInfo => ({ id: `load-user-${id}`, name: `load ${id}`, color: "#1a73e8" });
const strokeKey = (client: number, startedAt: number) => `c${client}t${Math.round(startedAt * 10).toString(36)}`;

/** What one draw command measures, shared by this process's clients. */
class Measurements {
  histogram = createHistogram();
  delivered = 0;
  messagesSent = 0;
  acked: [string, number][] = [];
  errors = { connectErrors: 0, disconnects: 0, refused: 0 };
  sampleIntervalMs = 1000 / 60;

  reset(sampleIntervalMs: number): void {
    Object.assign(this, new Measurements(), { sampleIntervalMs });
  }

  record(sampledAt: number): void {
    this.histogram.recordValue(Math.max(1, Math.round((clock() - sampledAt) * 1000)));
    this.delivered += 1;
  }
}

/** A client that draws; `begin` and `extend` return how many units each other client should receive. */
interface LoadClient {
  readonly board: string;
  ready(): Promise<void>;
  begin(point: Point, key: string): number;
  extend(point: Point, sampledAt: number): number;
  end(): void;
  clear(): Promise<void>;
  close(): void;
}

/** Times each point of a stroke the first time it arrives (a chunk repeats its predecessor's last point). */
class StrokeTimer {
  /** Per stroke, the highest point index counted. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly m: Measurements) {}

  received(stroke: StrokeRecord): void {
    const key = stroke.i.slice(0, stroke.i.lastIndexOf("-"));
    const startedAt = parseInt(key.slice(key.indexOf("t") + 1), 36) / 10;
    let highest = this.seen.get(key) ?? -1;
    const flat = decodePoints(stroke.p) as number[];
    for (let point = 0; point < flat.length; point += 2) {
      const index = Math.round(((flat[point] as number) - X0) / DX);
      if (index <= highest) continue;
      highest = index;
      this.m.record(startedAt + index * this.m.sampleIntervalMs);
    }
    this.seen.set(key, highest);
  }
}

/** A drawer on the service, through the real client session. */
class OurDrawer implements LoadClient {
  private readonly session: WhiteboardSession;
  private nextKey = "";
  private readonly timer: StrokeTimer;

  constructor(private readonly id: number, url: string, readonly board: string, private readonly m: Measurements) {
    this.timer = new StrokeTimer(m);
    this.session = new WhiteboardSession(
      { url, board, user: user(id), newId: () => this.nextKey },
      {
        // A redraw (a snapshot, a clear) brings back what was held: counted like any arrival, the first time only.
        onChange: (applied) => (applied.redraw ? this.session.board.strokes() : applied.added).forEach((stroke) => this.received(stroke)),
        onAcked: (stroke, s) => {
          m.messagesSent += 1;
          m.acked.push([stroke.id, s]);
        },
        onRefused: () => (m.errors.refused += 1),
        onState: (state) => state === "reconnecting" && (m.errors.disconnects += 1),
      },
    );
  }

  ready(): Promise<void> {
    return waitFor("the drawer to join", () => this.session.connection === "connected", CONNECT_TIMEOUT_MS);
  }

  begin(point: Point, key: string): number {
    this.nextKey = key;
    this.session.begin(point, { color: "#1a73e8", width: 3 });
    return 1;
  }

  extend(point: Point): number {
    this.session.extend(point);
    return 1;
  }

  end(): void {
    this.session.end();
  }

  async clear(): Promise<void> {
    await this.session.clear();
  }

  close(): void {
    this.session.close();
  }

  private received(stroke: StrokeRecord): void {
    if (!stroke.i.startsWith(`c${this.id}t`)) this.timer.received(stroke); // not its own, acknowledged
  }
}

/** A watcher on the service: joins the board and times every stroke event. */
class OurWatcher implements LoadClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private joined = false;

  constructor(id: number, url: string, readonly board: string, m: Measurements) {
    const timer = new StrokeTimer(m);
    this.socket = io(url, { transports: ["websocket"], reconnectionDelay: 500 });
    this.socket.on("connect", () => {
      this.socket.emit("join", { board, user: user(id) }, (ack) => (this.joined = ack.ok));
    });
    this.socket.on("ops", ({ ops }) => {
      for (const op of ops) if (op.t === "s") timer.received(toRecord(op.r));
    });
    this.socket.on("connect_error", () => (m.errors.connectErrors += 1));
    this.socket.on("disconnect", () => {
      this.joined = false;
      m.errors.disconnects += 1;
    });
  }

  ready(): Promise<void> {
    return waitFor("the watcher to join", () => this.joined, CONNECT_TIMEOUT_MS);
  }

  begin(): number {
    throw new Error("watchers do not draw");
  }

  extend(): number {
    throw new Error("watchers do not draw");
  }

  end(): void {}

  async clear(): Promise<void> {
    // Drawers clear the board between steps.
  }

  close(): void {
    this.socket.close();
  }
}

/** Socket.IO's whiteboard example: a message per segment, relayed to everyone else. */
class BaselineClient implements LoadClient {
  private readonly socket: Socket;
  private last: Point | undefined;

  constructor(url: string, readonly board: string, private readonly m: Measurements) {
    this.socket = io(url, { transports: ["websocket"], reconnectionDelay: 500 });
    this.socket.on("drawing", (data: { t: number }) => m.record(data.t));
    this.socket.on("connect_error", () => (m.errors.connectErrors += 1));
    this.socket.on("disconnect", () => (m.errors.disconnects += 1));
  }

  ready(): Promise<void> {
    return waitFor("the baseline client to connect", () => this.socket.connected, CONNECT_TIMEOUT_MS);
  }

  /** The first sample of a stroke is no segment yet: nothing to send. */
  begin(point: Point): number {
    this.last = point;
    return 0;
  }

  extend(point: Point, sampledAt: number): number {
    if (!this.last) return 0;
    const [x0, y0] = this.last;
    this.socket.emit("drawing", { x0, y0, x1: point[0], y1: point[1], color: "#1a73e8", t: sampledAt });
    this.m.messagesSent += 1;
    this.last = point;
    return 1;
  }

  end(): void {
    this.last = undefined;
  }

  async clear(): Promise<void> {
    // The baseline keeps nothing, so there is nothing to clear.
  }

  close(): void {
    this.socket.close();
  }
}

const measurements = new Measurements();
let clients = new Map<number, LoadClient>();

/** Draws `pattern` with the given clients from `startAt` for `durationMs`, then waits `drainMs` and reports. */
async function draw(command: Extract<WorkerCommand, { kind: "draw" }>): Promise<DrawReport> {
  const { samplesPerStroke, sampleIntervalMs, pauseMs } = command.pattern;
  measurements.reset(sampleIntervalMs);
  const lag = createHistogram();
  const deliverablesByBoard: Record<string, number> = {};
  let samples = 0;
  const endAt = command.startAt + command.durationMs;
  const cycleMs = samplesPerStroke * sampleIntervalMs + pauseMs;
  const drawers = command.drawers.map((id) => ({
    id,
    client: clients.get(id) as LoadClient,
    // Spread stroke starts over a cycle so that drawers do not sample in lockstep.
    strokeStart: command.startAt + ((id * 7919) % Math.max(1, Math.round(cycleMs))),
    index: 0,
    y: Math.round((0.1 + ((id * 37) % 80) / 100) * BOARD_HEIGHT),
  }));

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = clock();
      for (const drawer of drawers) {
        for (;;) {
          const due = drawer.strokeStart + drawer.index * sampleIntervalMs;
          if (due > now || (drawer.index === 0 && due >= endAt)) break;
          lag.recordValue(Math.max(1, Math.round((now - due) * 1000)));
          const point: Point = [pointX(drawer.index), drawer.y];
          const units =
            drawer.index === 0 ? drawer.client.begin(point, strokeKey(drawer.id, drawer.strokeStart)) : drawer.client.extend(point, due);
          deliverablesByBoard[drawer.client.board] = (deliverablesByBoard[drawer.client.board] ?? 0) + units;
          samples += 1;
          drawer.index += 1;
          if (drawer.index === samplesPerStroke) {
            drawer.client.end();
            drawer.strokeStart = due + sampleIntervalMs + pauseMs;
            drawer.index = 0;
          }
        }
      }
      if (now >= endAt && drawers.every((drawer) => drawer.index === 0)) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  await new Promise((resolve) => setTimeout(resolve, command.drainMs));
  return {
    histogram: encodeHistogram(measurements.histogram),
    delivered: measurements.delivered,
    samples,
    deliverablesByBoard,
    messagesSent: measurements.messagesSent,
    acked: measurements.acked,
    errors: measurements.errors,
    samplerLagP99: Math.round(lag.getValueAtPercentile(99) / 100) / 10,
  };
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.kind) {
    case "connect": {
      clients = new Map(
        command.clients.map((spec) => [
          spec.id,
          command.system === "baseline"
            ? new BaselineClient(spec.url, spec.board, measurements)
            : spec.draws
              ? new OurDrawer(spec.id, spec.url, spec.board, measurements)
              : new OurWatcher(spec.id, spec.url, spec.board, measurements),
        ]),
      );
      await Promise.all([...clients.values()].map((client) => client.ready()));
      return { connected: clients.size };
    }
    case "draw":
      return draw(command);
    case "clear": {
      // One client per board clears it for everyone.
      const oneEach = new Map([...clients.values()].map((client) => [client.board, client]));
      await Promise.all([...oneEach.values()].map((client) => client.clear()));
      return {};
    }
    case "close":
      clients.forEach((client) => client.close());
      clients.clear();
      return {};
  }
}

process.on("message", (message: { requestId: number; command: WorkerCommand }) => {
  handle(message.command).then(
    (result) => process.send?.({ requestId: message.requestId, result }),
    (error: Error) => process.send?.({ requestId: message.requestId, error: error.stack }),
  );
});
