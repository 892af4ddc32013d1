/**
 * A load-generating child process. It holds a slice of the benchmark's clients, draws as they would (pointer
 * samples at a fixed rate, scheduled on the clock, so a late timer shows up as latency), and measures the
 * latency from each pointer sample to its arrival at every other client of the board.
 *
 * Clients of three kinds:
 * - "ours" with `session` input: drawers run the browser client's own WhiteboardSession (outbox, chunks, a
 *   small window of chunks in flight: the points drawn meanwhile go together), as the browser client draws;
 * - "ours" with `unbatched` input: drawers are plain sockets that send one `stroke` event per pointer sample
 *   (a segment from the previous sample, the first sample a dot) without waiting for acknowledgements, as a
 *   third-party client or a script would: the load the service cannot make cheaper on the sender's side;
 * - ours' watchers (either input) are plain sockets that join the board and time each stroke event, as light
 *   as the baseline's watchers, so that 375 of them sharing one load process measure the service rather than
 *   their own bookkeeping;
 * - "baseline": Socket.IO's whiteboard example, one `drawing` message per segment, against the baseline.
 *
 * Any client may also move a cursor (ours only: the baseline has none) at a fixed rate while drawers draw.
 *
 * A sample carries what its receivers need to time it: its stroke id holds the client and the stroke's
 * start time, and its x coordinate its index in the stroke, so no field outside the protocol is needed.
 */
import { io, type Socket } from "socket.io-client";
import type { Point } from "../../client/core/outbox";
import { WhiteboardSession } from "../../client/core/session";
import type { ClientToServerEvents, ServerToClientEvents, StrokeRecord, UserInfo } from "../../protocol/events";
import { BOARD_HEIGHT, BOARD_WIDTH, toRecord } from "../../protocol/events";
import { decodePoints, encodePoints } from "../../protocol/points";
import { waitFor } from "../../local/ports";
import { clock, createHistogram, encodeHistogram } from "./latency";

export type System = "ours" | "baseline";
/** How ours' drawers send what they draw (see above); the baseline's always send one message per segment. */
export type Input = "session" | "unbatched";

export interface DrawingPattern {
  samplesPerStroke: number;
  /** 1000/60 for a 60 Hz pointer. */
  sampleIntervalMs: number;
  pauseMs: number;
}

/**
 * After drawing: a number waits that long; otherwise the worker waits at least `minMs`, then until nothing was
 * delivered and no acknowledgement was awaited for `quietMs`, at most `maxMs` (an overloaded system delivers
 * its backlog late, and a late delivery is a delivery, counted with its latency).
 */
export type Drain = number | { minMs: number; quietMs: number; maxMs: number };

export type WorkerCommand =
  | {
      kind: "connect";
      system: System;
      input?: Input;
      clients: { id: number; url: string; board: string; draws: boolean }[];
    }
  | {
      kind: "draw";
      drawers: number[];
      pattern: DrawingPattern;
      startAt: number;
      durationMs: number;
      drainMs: Drain;
      cursorHz?: number;
    }
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
  /** `refused`: strokes refused, by code in `refusedBy`; `unanswered`: strokes with no answer within 30 s. */
  errors: { connectErrors: number; disconnects: number; refused: number; unanswered: number };
  refusedBy: Record<string, number>;
  /** Cursor positions sent, and `cursors` messages (and the positions in them) received. */
  cursors: { sent: number; messages: number; positions: number };
  /** How long the worker waited after drawing for the last deliveries and acknowledgements, ms. */
  drainedMs: number;
  /** How late the sampling timer ran, 99th percentile, ms: latency the generator adds itself. */
  samplerLagP99: number;
}

/** Hundreds of clients connect at once on a loaded machine. */
const CONNECT_TIMEOUT_MS = 120_000;
const ACK_TIMEOUT_MS = 30_000;
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
  errors = { connectErrors: 0, disconnects: 0, refused: 0, unanswered: 0 };
  refusedBy: Record<string, number> = {};
  cursors = { sent: 0, messages: 0, positions: 0 };
  sampleIntervalMs = 1000 / 60;

  reset(sampleIntervalMs: number): void {
    Object.assign(this, new Measurements(), { sampleIntervalMs });
  }

  record(sampledAt: number): void {
    this.histogram.recordValue(Math.max(1, Math.round((clock() - sampledAt) * 1000)));
    this.delivered += 1;
  }

  refused(code: string): void {
    this.errors.refused += 1;
    this.refusedBy[code] = (this.refusedBy[code] ?? 0) + 1;
  }

  cursorsReceived(count: number): void {
    this.cursors.messages += 1;
    this.cursors.positions += count;
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
  /** Moves this client's cursor (ours; the baseline has no cursors). */
  cursor(point: Point): void;
  /** Strokes sent and not yet answered. */
  readonly awaiting: number;
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

  constructor(
    private readonly id: number,
    url: string,
    readonly board: string,
    private readonly m: Measurements,
  ) {
    this.timer = new StrokeTimer(m);
    this.session = new WhiteboardSession(
      { url, board, user: user(id), newId: () => this.nextKey },
      {
        // A redraw (a snapshot, a clear) brings back what was held: counted like any arrival, the first time only.
        onChange: (applied) =>
          (applied.redraw ? this.session.board.strokes() : applied.added).forEach((stroke) => this.received(stroke)),
        onAcked: (stroke, s) => {
          m.messagesSent += 1;
          m.acked.push([stroke.id, s]);
        },
        // The session retries what may pass later (unavailable, rate_limited) by itself: count those too.
        onRefused: (_stroke, ack) => m.refused(ack.code),
        onStorageFull: () => m.refused("storage_full"),
        onState: (state) => state === "reconnecting" && (m.errors.disconnects += 1),
        onCursors: (cursors) => m.cursorsReceived(cursors.length),
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

  cursor(point: Point): void {
    this.session.cursor(point);
    this.m.cursors.sent += 1;
  }

  get awaiting(): number {
    return this.session.outbox.size;
  }

  close(): void {
    this.session.close();
  }

  private received(stroke: StrokeRecord): void {
    if (!stroke.i.startsWith(`c${this.id}t`)) this.timer.received(stroke); // not its own, acknowledged
  }
}

/**
 * A plain socket on the service, joined to the board, timing every stroke event but its own. As a watcher it
 * only receives; as an unbatched drawer it also sends one `stroke` event per pointer sample, without waiting
 * for acknowledgements: the first sample of a stroke as a dot, each next one as the segment from the one before.
 */
class OurSocketClient implements LoadClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private joined = false;
  private key = "";
  private index = 0;
  private last: Point | undefined;
  awaiting = 0;

  constructor(
    private readonly id: number,
    url: string,
    readonly board: string,
    private readonly m: Measurements,
  ) {
    const timer = new StrokeTimer(m);
    const own = `c${id}t`;
    this.socket = io(url, { transports: ["websocket"], reconnectionDelay: 500 });
    this.socket.on("connect", () => {
      this.socket.emit("join", { board, user: user(id) }, (ack) => (this.joined = ack.ok));
    });
    this.socket.on("ops", ({ ops }) => {
      for (const op of ops) if (op.t === "s" && !op.r[3].startsWith(own)) timer.received(toRecord(op.r));
    });
    this.socket.on("cursors", (cursors) => m.cursorsReceived(cursors.length));
    this.socket.on("connect_error", () => (m.errors.connectErrors += 1));
    this.socket.on("disconnect", () => {
      this.joined = false;
      m.errors.disconnects += 1;
    });
  }

  ready(): Promise<void> {
    return waitFor("the client to join", () => this.joined, CONNECT_TIMEOUT_MS);
  }

  begin(point: Point, key: string): number {
    this.key = key;
    this.index = 0;
    this.send([point]);
    this.last = point;
    return 1;
  }

  extend(point: Point): number {
    this.send(this.last ? [this.last, point] : [point]);
    this.last = point;
    return 1;
  }

  end(): void {
    this.last = undefined;
  }

  async clear(): Promise<void> {
    // Only to start the next step on an empty board: a refusal changes no figure.
    await this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck("clear", {})
      .catch(() => undefined);
  }

  cursor(point: Point): void {
    this.socket.volatile.emit("cursor", { x: point[0], y: point[1] });
    this.m.cursors.sent += 1;
  }

  close(): void {
    this.socket.close();
  }

  private send(points: Point[]): void {
    const id = `${this.key}-${this.index}`;
    this.index += 1;
    this.awaiting += 1;
    const m = this.m;
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit("stroke", { id, p: encodePoints(points), c: "#1a73e8", w: 3 }, (error, ack) => {
        this.awaiting -= 1;
        if (error) m.errors.unanswered += 1;
        else if (!ack.ok) m.refused(ack.code);
        else {
          m.messagesSent += 1;
          m.acked.push([id, ack.s]);
        }
      });
  }
}

/** Socket.IO's whiteboard example: a message per segment, relayed to everyone else. */
class BaselineClient implements LoadClient {
  private readonly socket: Socket;
  private last: Point | undefined;

  constructor(
    url: string,
    readonly board: string,
    private readonly m: Measurements,
  ) {
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

  cursor(): void {
    // The baseline has no cursors.
  }

  readonly awaiting = 0;

  close(): void {
    this.socket.close();
  }
}

const measurements = new Measurements();
let clients = new Map<number, LoadClient>();
/** Clients that may draw: one of them clears its board between steps. */
let drawing = new Set<number>();

/** Draws `pattern` with the given clients from `startAt` for `durationMs`, then drains (see Drain) and reports. */
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
  const stopCursors = command.cursorHz ? moveCursors(command.cursorHz, command.startAt, endAt) : () => undefined;

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
            drawer.index === 0
              ? drawer.client.begin(point, strokeKey(drawer.id, drawer.strokeStart))
              : drawer.client.extend(point, due);
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
  stopCursors();
  const drainedMs = await drain(command.drainMs);
  return {
    histogram: encodeHistogram(measurements.histogram),
    delivered: measurements.delivered,
    samples,
    deliverablesByBoard,
    messagesSent: measurements.messagesSent,
    acked: measurements.acked,
    errors: measurements.errors,
    refusedBy: measurements.refusedBy,
    cursors: measurements.cursors,
    drainedMs: Math.round(drainedMs),
    samplerLagP99: Math.round(lag.getValueAtPercentile(99) / 100) / 10,
  };
}

/**
 * Every client of this process moves its cursor `hz` times a second from `startAt` to `endAt`, each on its own
 * phase (so that the positions do not all leave together), along a path of its own. Returns a stop function.
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
        (mover.index * 997 + mover.moves * 40) % BOARD_WIDTH,
        (mover.index * 331 + mover.moves * 25) % BOARD_HEIGHT,
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
    if (measurements.delivered !== seen || awaiting > 0) {
      seen = measurements.delivered;
      quietSince = now;
    }
    if ((now - started >= how.minMs && now - quietSince >= how.quietMs) || now - started >= how.maxMs)
      return now - started;
  }
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.kind) {
    case "connect": {
      const input = command.input ?? "session";
      clients = new Map(
        command.clients.map((spec) => [
          spec.id,
          command.system === "baseline"
            ? new BaselineClient(spec.url, spec.board, measurements)
            : spec.draws && input === "session"
              ? new OurDrawer(spec.id, spec.url, spec.board, measurements)
              : new OurSocketClient(spec.id, spec.url, spec.board, measurements),
        ]),
      );
      drawing = new Set(command.clients.filter((spec) => spec.draws).map((spec) => spec.id));
      await Promise.all([...clients.values()].map((client) => client.ready()));
      return { connected: clients.size };
    }
    case "draw":
      return draw(command);
    case "clear": {
      // One drawer per board clears it for everyone.
      const oneEach = new Map(
        [...clients].filter(([id]) => drawing.has(id)).map(([, client]) => [client.board, client]),
      );
      await Promise.all([...oneEach.values()].map((client) => client.clear()));
      return {};
    }
    case "close":
      clients.forEach((client) => client.close());
      clients.clear();
      drawing.clear();
      return {};
  }
}

process.on("message", (message: { requestId: number; command: WorkerCommand }) => {
  handle(message.command).then(
    (result) => process.send?.({ requestId: message.requestId, result }),
    (error: Error) => process.send?.({ requestId: message.requestId, error: error.stack }),
  );
});
