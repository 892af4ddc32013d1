/**
 * A client's connection to one board: connects over WebSocket, joins and catches up after every
 * (re)connect, fills gaps, sends its outbox in order and resends what was never acknowledged, and moves
 * to a fresh connection before Cloud Run's request timeout cuts the current one.
 *
 * DOM-free: the browser app draws what it reports, and Node scripts (tests, benchmarks) drive it as users.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { ClientToServerEvents, ErrorAck, Point, ServerToClientEvents, Stroke, StrokeInput, WriteAck } from "../../protocol/events";
import { ID_PATTERN, RETRYABLE_ERRORS } from "../../protocol/events";
import { BoardState, type Applied } from "./board-state";
import { Outbox, type Pen } from "./outbox";

export type ConnectionState = "connecting" | "connected" | "reconnecting";

export interface SessionListeners {
  /** Everything held must be drawn again: a reset or a clear removed strokes. */
  onRedraw?(): void;
  /**
   * Strokes newly held. With `outOfOrder`, some belong below strokes already drawn (strokes stored by
   * different instances arrive in any order): drawing them on top is right but for the stacking, which a
   * redraw soon after fixes.
   */
  onAppend?(strokes: readonly Stroke[], outOfOrder: boolean): void;
  /** The outbox changed (a chunk added, grown, acknowledged or refused). */
  onPending?(): void;
  onState?(state: ConnectionState): void;
  onPresence?(count: number): void;
  /** The server refused a stroke for good (e.g. `board_full`); it is dropped from the outbox. */
  onRefused?(stroke: StrokeInput, error: ErrorAck): void;
  /** A stroke of this client was stored at `seq`. */
  onAcked?(stroke: Stroke): void;
}

export interface SessionOptions {
  board: string;
  /** The service's origin; absent in the browser, where it is the page's own. */
  url?: string;
  /** Socket.IO client options, e.g. reconnection delays. WebSocket-only is enforced. */
  socket?: Partial<ManagerOptions & SocketOptions>;
  /** Most points per chunk sent (≤ the service's MAX_POINTS_PER_STROKE). Default 200. */
  maxPointsPerChunk?: number;
  /** How long a gap in live seqs may stay open before the session rejoins to fill it. Default 1,000 ms. */
  gapGraceMs?: number;
  /** Generates stroke ids. Default: 16 random URL-safe characters. */
  newId?: () => string;
}

const ACK_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;

export class WhiteboardSession {
  readonly board = new BoardState();
  readonly outbox: Outbox;
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private state: ConnectionState = "connecting";
  /** Bumped on every connect and disconnect, so that callbacks of an older connection are ignored. */
  private epoch = 0;
  private joined = false;
  private inFlight = false;
  private retries = 0;
  private readonly retryTimers: Record<"join" | "flush", ReturnType<typeof setTimeout> | undefined> = { join: undefined, flush: undefined };
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private rotateRequested = false;
  private closed = false;
  /** Connections made after the first one. */
  reconnects = 0;
  /** Rejoins made to fill a gap that did not fill by itself. */
  gapRejoins = 0;

  constructor(
    private readonly options: SessionOptions,
    private readonly listeners: SessionListeners = {},
  ) {
    if (!ID_PATTERN.test(options.board)) throw new Error(`invalid board id "${options.board}": 1 to 64 of A-Z a-z 0-9 _ -`);
    this.outbox = new Outbox(options.maxPointsPerChunk ?? 200, options.newId ?? randomId);
    const socketOptions = {
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      randomizationFactor: 0.5,
      ...options.socket,
      // HTTP long-polling needs sticky sessions, which Cloud Run does not promise.
      transports: ["websocket"],
    };
    this.socket = options.url === undefined ? io(socketOptions) : io(options.url, socketOptions);
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
    this.socket.on("stroke", (stroke) => this.applied(this.board.applyStroke(stroke)));
    this.socket.on("cleared", ({ seq }) => {
      this.board.applyClear(seq);
      this.listeners.onRedraw?.();
    });
    this.socket.on("head", ({ seq }) => {
      this.board.applyHead(seq);
      this.watchGap();
    });
    this.socket.on("presence", ({ count }) => this.listeners.onPresence?.(count));
    this.socket.on("rotate", () => {
      this.rotateRequested = true;
      this.rotateIfQuiet();
    });
  }

  get connection(): ConnectionState {
    return this.state;
  }

  /** Pen down at `point` (normalized 0..1). */
  begin(point: Point, pen: Pen): void {
    this.outbox.begin(point, pen);
    this.listeners.onPending?.();
    this.flush();
  }

  extend(point: Point): void {
    this.outbox.extend(point);
    this.listeners.onPending?.();
    this.flush();
  }

  end(): void {
    this.outbox.end();
    this.flush();
    this.rotateIfQuiet();
  }

  /** Clears the board for everyone. Not queued while offline: a clear replayed later would surprise. */
  async clear(): Promise<WriteAck> {
    if (!this.joined) return { ok: false, code: "unavailable", error: "not connected" };
    const ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("clear", {}).catch(
      (): WriteAck => ({ ok: false, code: "unavailable", error: "no answer from the server" }),
    );
    if (ack.ok) {
      this.board.applyClear(ack.seq);
      this.listeners.onRedraw?.();
    }
    return ack;
  }

  close(): void {
    this.closed = true;
    this.cancelTimers();
    this.socket.close();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.listeners.onState?.(state);
  }

  private onConnect(): void {
    if (this.epoch > 0) this.reconnects += 1;
    this.epoch += 1;
    this.rotateRequested = false;
    this.join();
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    this.epoch += 1;
    this.joined = false;
    this.inFlight = false; // its ack will never come; the chunk is still in the outbox and goes again
    this.cancelTimers();
    if (this.closed) return;
    this.setState("reconnecting");
    // After these two the client library does not reconnect by itself.
    if (reason === "io server disconnect" || reason === "io client disconnect") this.socket.connect();
  }

  /** Joins (or rejoins) the board asking for everything after the watermark. */
  private join(): void {
    const epoch = this.epoch;
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit("join", { board: this.options.board, after: this.board.watermark }, (error, ack) => {
        if (epoch !== this.epoch) return;
        // The board id was checked up front, so any refusal here is passing (rate limit, store down).
        if (error || !ack.ok) return this.retryLater("join", () => this.join());
        this.retries = 0;
        this.joined = true;
        this.setState("connected");
        this.applied(this.board.applyJoin(ack));
        this.flush();
      });
  }

  private applied({ reset, added, outOfOrder }: Applied): void {
    if (reset) this.listeners.onRedraw?.();
    else if (added.length > 0) this.listeners.onAppend?.(added, outOfOrder);
    this.watchGap();
  }

  /** Sends the outbox, one chunk at a time, in drawing order. */
  private flush(): void {
    if (!this.joined || this.inFlight) return;
    const chunk = this.outbox.next();
    if (!chunk) return;
    this.inFlight = true;
    const epoch = this.epoch;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("stroke", chunk, (error, ack) => {
      if (epoch !== this.epoch) return;
      this.inFlight = false;
      if (error || (!ack.ok && RETRYABLE_ERRORS.has(ack.code))) return this.retryLater("flush", () => this.flush());
      if (!ack.ok && ack.code === "not_joined") return this.join();
      this.retries = 0;
      this.outbox.remove(chunk.id);
      if (ack.ok) {
        const stroke = { ...chunk, seq: ack.seq };
        this.applied(this.board.applyStroke(stroke));
        this.listeners.onAcked?.(stroke);
      } else {
        this.listeners.onRefused?.(chunk, ack);
      }
      this.listeners.onPending?.();
      this.flush();
      this.rotateIfQuiet();
    });
  }

  /** Exponential backoff with full jitter, for refusals that may pass later. */
  private retryLater(kind: "join" | "flush", action: () => void): void {
    clearTimeout(this.retryTimers[kind]);
    const ceiling = Math.min(RETRY_BASE_MS * 2 ** this.retries, RETRY_MAX_MS);
    this.retries += 1;
    const epoch = this.epoch;
    this.retryTimers[kind] = setTimeout(() => {
      if (epoch === this.epoch) action();
    }, Math.random() * ceiling);
  }

  private cancelTimers(): void {
    clearTimeout(this.retryTimers.join);
    clearTimeout(this.retryTimers.flush);
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  /**
   * Strokes stored by different instances arrive out of order, so gaps open and fill by themselves all the
   * time while several people draw. Only a gap that stays open (a broadcast lost with a killed instance)
   * is filled by rejoining: one where the watermark has not moved for the whole grace period.
   */
  private watchGap(): void {
    if (this.gapTimer !== undefined || !this.board.hasGap || !this.joined) return;
    const stuckAt = this.board.watermark;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (!this.joined) return;
      if (this.board.watermark === stuckAt && this.board.hasGap) {
        this.gapRejoins += 1;
        this.join();
      }
      else this.watchGap(); // that gap filled; time any newer one from now
    }, this.options.gapGraceMs ?? 1_000);
  }

  /** Reconnects, if the server asked for it, at a quiet moment: no stroke being drawn, nothing in flight. */
  private rotateIfQuiet(): void {
    if (!this.rotateRequested || this.outbox.drawing || this.inFlight || this.outbox.size > 0) return;
    this.rotateRequested = false;
    this.socket.disconnect();
  }
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
}
