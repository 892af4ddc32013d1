/**
 * A client's connection to one board: connects over WebSocket, joins and catches up after every (re)connect
 * (the operations it missed, or a snapshot in pages), fills gaps, sends its outbox with a small window in
 * flight and resends what was never acknowledged, notices a store that lost writes (a new epoch) and restores
 * what it holds, and moves to a fresh connection before Cloud Run's request timeout cuts the current one.
 *
 * DOM-free: the browser app draws what it reports, and Node scripts (tests, benchmarks) drive it as users.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type {
  BoardOp,
  ClientToServerEvents,
  CursorUpdate,
  ErrorAck,
  ServerToClientEvents,
  StrokeInput,
  SyncAck,
  UserInfo,
  WriteAck,
} from "../../protocol/events";
import { ID_PATTERN, NO_EPOCH, RETRYABLE_ERRORS } from "../../protocol/events";
import { randomId } from "../../protocol/random-id";
import { BoardState, type Applied, type ClearOp, type KnownStroke } from "./board-state";
import { Outbox, type Pen, type Point } from "./outbox";

export type ConnectionState = "connecting" | "connected" | "reconnecting";

export interface SessionListeners {
  /** The board changed: draw `applied` (see Applied), or everything when `applied.redraw`. */
  onChange?(applied: Applied): void;
  /** The outbox changed (a chunk added, grown, acknowledged or refused). */
  onPending?(): void;
  onState?(state: ConnectionState): void;
  onPresence?(count: number): void;
  onCursors?(cursors: readonly CursorUpdate[]): void;
  /** Someone (this client included) cleared the board, or undid a clear; in seq order. */
  onClear?(op: ClearOp): void;
  /** The server refused a stroke for good (e.g. `board_full`); it is dropped from the outbox. */
  onRefused?(stroke: StrokeInput, error: ErrorAck): void;
  /** A write was refused with `storage_full`: the store is out of space; the session keeps retrying slowly. */
  onStorageFull?(): void;
  /** A stroke of this client was stored at seq `s`. */
  onAcked?(stroke: StrokeInput, s: number): void;
  /**
   * The store lost writes (its epoch changed) and the board was read again; this client sent back
   * `restored` strokes and re-hid `rehidden` ones that the store lacked.
   */
  onRecovered?(figures: { restored: number; rehidden: number }): void;
}

export interface SessionOptions {
  board: string;
  user: UserInfo;
  /** The service's origin; absent in the browser, where it is the page's own. */
  url?: string;
  /** Socket.IO client options, e.g. reconnection delays. WebSocket-only is enforced. */
  socket?: Partial<ManagerOptions & SocketOptions>;
  /** Most points per chunk sent (≤ the service's MAX_POINTS_PER_STROKE). Default 200. */
  maxPointsPerChunk?: number;
  /** Chunks in flight at once. Default 4. */
  window?: number;
  /** How long a gap in live seqs may stay open before the session reads what it missed. Default 1,000 ms. */
  gapGraceMs?: number;
  /** Generates line ids. Default: 16 random URL-safe characters. */
  newId?: () => string;
}

const ACK_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;
/** A full store frees space only when someone clears a board or boards expire: retry slowly. */
const STORAGE_FULL_RETRY_MS = 30_000;
/** Least time between two catch-ups retried early, on a sign that the store is back (see retrySyncNow). */
const EARLY_RETRY_MS = 1_000;
/** Most ids in one erase sent while healing. */
const HEAL_BATCH = 500;
const NOT_CONNECTED: WriteAck = { ok: false, code: "unavailable", error: "not connected" };
const NO_ANSWER: WriteAck = { ok: false, code: "unavailable", error: "no answer from the server" };

type Timer = ReturnType<typeof setTimeout>;

export class WhiteboardSession {
  private current = new BoardState();
  /**
   * The board of a new epoch while it is read (the store lost writes, or may have): filled aside, then healed
   * and swapped in at once, so that this page never shows the store's incomplete board in between (strokes it
   * lost blinking out, strokes a lost clear had removed blinking back).
   */
  private incoming: BoardState | undefined;
  /** Clears (and undos of clears) applied to `incoming`, reported once it is swapped in. */
  private incomingClears: ClearOp[] = [];
  readonly outbox: Outbox;
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private state: ConnectionState = "connecting";
  /** Bumped on every connect and disconnect, so that acks from an older connection are ignored. */
  private generation = 0;
  /** Bumped on every catch-up started, so that answers to an older one are ignored. */
  private syncGeneration = 0;
  private joined = false;
  private syncing = false;
  private retries = 0;
  private readonly timers = new Map<string, Timer>();
  /** A catch-up that failed (the store was away) and waits for its retry. */
  private syncRetry: (() => void) | undefined;
  private earlyRetryAt = 0;
  private rotateRequested = false;
  private closed = false;
  /** Visibility changes not yet acknowledged, resent after a reconnect (they are idempotent). */
  private readonly changes: { kind: "erase" | "restore"; x: [string, number][]; inFlight: boolean }[] = [];
  /** Connections made after the first one. */
  reconnects = 0;
  /** Reads made to fill a gap that did not fill by itself. */
  gapRejoins = 0;
  /** Times the board's epoch changed under this session (the store lost or may have lost writes). */
  epochChanges = 0;

  constructor(
    private readonly options: SessionOptions,
    private readonly listeners: SessionListeners = {},
  ) {
    if (!ID_PATTERN.test(options.board))
      throw new Error(`invalid board id "${options.board}": 1 to 64 of A-Z a-z 0-9 _ -`);
    this.outbox = new Outbox(options.maxPointsPerChunk ?? 200, options.newId ?? (() => randomId(12)));
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
    this.socket.on("ops", ({ e, ops }) => this.onOps(e, ops));
    this.socket.on("head", ({ e, s }) => {
      if (this.retrySyncNow() || !this.joined || this.syncing) return;
      if (!this.sameEpoch(e)) return this.sync("snapshot");
      this.board.applyHead(s);
      this.watchGap();
    });
    this.socket.on("presence", ({ count }) => this.listeners.onPresence?.(count));
    this.socket.on("cursors", (cursors) => this.listeners.onCursors?.(cursors));
    this.socket.on("rotate", () => {
      this.rotateRequested = true;
      this.rotateIfQuiet();
    });
  }

  /** What this client holds of the board; another object after the board's epoch changed. */
  get board(): BoardState {
    return this.current;
  }

  get connection(): ConnectionState {
    return this.state;
  }

  get user(): UserInfo {
    return this.options.user;
  }

  /** Pen down at `point` (board units). Returns the new line's id (its chunks are `<id>-<n>`). */
  begin(point: Point, pen: Pen): string {
    const id = this.outbox.begin(point, pen);
    this.listeners.onPending?.();
    this.flush();
    return id;
  }

  extend(point: Point): void {
    this.outbox.extend(point);
    this.listeners.onPending?.();
    this.flush();
  }

  /** Pen up. Returns the ids of the line's chunks, all of it that undo has to hide. */
  end(): string[] {
    const chunks = this.outbox.end();
    this.flush();
    this.rotateIfQuiet();
    return chunks;
  }

  /**
   * Hides strokes for everyone (eraser, undo): each at the version given, which must be odd. Strokes held are
   * hidden here at once, so the page answers the user without waiting for the store.
   */
  erase(x: [id: string, version: number][]): void {
    let hidden = false;
    for (const [id, version] of x) hidden = this.board.hideLocally(id, version) || hidden;
    this.change("erase", x);
    if (hidden) this.listeners.onChange?.({ redraw: true, added: [], placement: "top" });
  }

  /** Shows strokes again (redo, undoing an erase): each at the version given, which must be even. */
  restore(x: [id: string, version: number][]): void {
    this.change("restore", x);
  }

  /** Clears the board for everyone. Not queued while offline: a clear replayed later would surprise. */
  clear(): Promise<WriteAck> {
    if (!this.joined) return Promise.resolve(NOT_CONNECTED);
    return this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck("clear", {})
      .catch(() => NO_ANSWER);
  }

  /** Undoes the clear stored at seq `of`, while the store keeps its strokes. */
  unclear(of: number): Promise<WriteAck> {
    if (!this.joined) return Promise.resolve(NOT_CONNECTED);
    return this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck("unclear", { of })
      .catch(() => NO_ANSWER);
  }

  /** A new name or colour for this user (the same id): the service learns it on join, so join again now. */
  setUser(user: UserInfo): void {
    if (user.id !== this.options.user.id) throw new Error("a session keeps its user id");
    this.options.user = user;
    if (this.joined && !this.syncing) this.sync("join");
  }

  /** Where this user points (board units). Dropped when the connection is busy. */
  cursor(point: Point): void {
    if (this.joined) this.socket.volatile.emit("cursor", { x: point[0], y: point[1] });
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
    if (this.generation > 0) this.reconnects += 1;
    this.generation += 1;
    this.rotateRequested = false;
    this.sync("join");
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    this.generation += 1;
    this.syncGeneration += 1;
    this.joined = false;
    this.rotateRequested = false; // the next connection gets its own request
    this.syncing = false;
    this.incoming = undefined;
    // Their acks will never come: everything in flight goes again on the next connection.
    this.outbox.resendAll();
    for (const change of this.changes) change.inFlight = false;
    this.cancelTimers();
    if (this.closed) return;
    this.setState("reconnecting");
    // After these two the client library does not reconnect by itself.
    if (reason === "io server disconnect" || reason === "io client disconnect") this.socket.connect();
  }

  /**
   * Whether `e` is the epoch this client holds. A board read before anyone wrote on it has epoch NO_EPOCH and no
   * operations; the first write gives it an epoch, which is then simply adopted.
   */
  private sameEpoch(e: string): boolean {
    if (this.board.epoch === NO_EPOCH && this.board.watermark === 0 && e !== NO_EPOCH) this.board.epoch = e;
    return e === this.board.epoch;
  }

  private onOps(e: string, ops: readonly BoardOp[]): void {
    this.retrySyncNow();
    if (this.incoming?.epoch === e) {
      // Live operations of the epoch being read aside: they belong to that board.
      this.incomingClears.push(...(this.incoming.applyOps(ops).clears ?? []));
      for (const op of ops) if (op.t === "s" && this.outbox.size > 0) this.acknowledged(op.r[3], op.s);
      return;
    }
    if (!this.sameEpoch(e)) {
      // The store lost writes, or this client has not read the board yet: read it (again).
      if (this.joined && !this.syncing) this.sync("snapshot");
      return;
    }
    this.applied(this.board.applyOps(ops));
    for (const op of ops) if (op.t === "s" && this.outbox.size > 0) this.acknowledged(op.r[3], op.s);
    this.afterChange();
  }

  /**
   * Catches up: `join` after a (re)connect (the server answers with what was missed, or a snapshot), `read`
   * for a gap, `snapshot` when only a fresh read will do (a new epoch, an undo of a clear this client never saw).
   */
  private sync(kind: "join" | "read" | "snapshot"): void {
    this.syncing = true;
    this.syncGeneration += 1;
    const generation = this.syncGeneration;
    const answer = (ack: SyncAck | undefined) => {
      if (generation !== this.syncGeneration) return;
      // The board id was checked up front, so a refusal here is passing (rate limit, store down).
      if (!ack || !ack.ok) return this.retrySyncLater(() => this.sync(kind));
      this.retries = 0;
      void this.catchUp(ack, generation);
    };
    const { epoch, watermark } = this.board;
    if (kind === "read" && epoch !== undefined) {
      this.socket
        .timeout(ACK_TIMEOUT_MS)
        .emit("read", { e: epoch, after: watermark }, (error, ack) => answer(error ? undefined : ack));
    } else {
      const since = kind === "join" && epoch !== undefined ? { e: epoch, after: watermark } : {};
      this.socket
        .timeout(ACK_TIMEOUT_MS)
        .emit("join", { board: this.options.board, user: this.options.user, ...since }, (error, ack) =>
          answer(error ? undefined : ack),
        );
    }
  }

  /** Applies a sync answer; follows snapshot pages to their end, then the operations after the snapshot. */
  private async catchUp(first: Extract<SyncAck, { ok: true }>, generation: number): Promise<void> {
    let ack: SyncAck | undefined = first;
    let continuing = false;
    /** The seq of a snapshot's first page: what came after it is read from the log afterwards. */
    let start = 0;
    /** What this client held before a snapshot of a new epoch: compared with the store afterwards (healing). */
    let known: KnownStroke[] | undefined;
    /** The board being filled: this client's own, or a new epoch's, aside (see `incoming`). */
    let target = this.current;
    let snapshot = false;
    const show = (applied: Applied) => {
      if (target === this.current) this.applied(applied);
      else this.incomingClears.push(...(applied.clears ?? []));
    };
    const read = (request: Parameters<ClientToServerEvents["read"]>[0]) =>
      this.socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck("read", request)
        .catch(() => undefined);
    while (ack?.ok) {
      if ("ops" in ack) {
        show(target.applyOps(ack.ops));
        break;
      }
      if (!continuing || ack.e !== target.epoch) {
        // A snapshot starts from nothing. The first one of a new epoch remembers what was held before, operations
        // waiting behind a gap included, and is read aside while this page keeps showing what it holds.
        const previous = this.current.epoch;
        if (known === undefined && previous !== undefined && previous !== NO_EPOCH && ack.e !== previous) {
          this.current.applyWaiting();
          known = [...this.current.known(), ...this.storedNotHeld()];
          target = this.incoming = new BoardState();
          this.incomingClears = [];
        }
        target.reset(ack.e);
        start = ack.s;
        if (target === this.current) this.listeners.onChange?.({ redraw: true, added: [], placement: "top" });
      }
      const e: string = ack.e;
      const next: number | undefined = ack.snapshot.next;
      continuing = next !== undefined;
      // Pages read later may already show what happened since `start`; the operations are idempotent, so
      // replaying everything after `start` on top leaves the board as the store has it. The next read goes
      // out before this page is applied, so the server reads while this client applies (and draws).
      const reading: Promise<SyncAck | undefined> =
        next !== undefined ? read({ e, at: start, cursor: next }) : read({ e, after: start });
      show(target.applySnapshot(ack.snapshot));
      snapshot = true;
      ack = await reading;
      if (generation !== this.syncGeneration) return;
      if (!continuing && ack?.ok && "ops" in ack) show(target.finishSnapshot(start));
    }
    if (!ack?.ok) return this.retrySyncLater(() => this.sync("snapshot"));
    if (known) {
      this.current = target;
      this.incoming = undefined;
      this.heal(known);
      for (const op of this.incomingClears.splice(0)) this.listeners.onClear?.(op);
    }
    // A snapshot of the epoch this client held, begun at `start`, holds every stroke the store showed by then: an
    // acknowledged chunk of this client's stored before it and missing from the board was hidden meanwhile. (After
    // a new epoch none is left: healing sent back every one the new board lacked.)
    if (snapshot && !known) this.outbox.release(({ input, s }) => this.current.has(input.id) || s <= start);
    this.syncing = false;
    this.joined = true;
    this.setState("connected");
    if (this.board.needsSnapshot) return this.sync("snapshot");
    this.afterChange();
  }

  /**
   * Sends back what the store lost (see BoardState.heal), on the board just swapped in, before anything draws it.
   * A store that answered a whole read is up: what was waiting for the end of a backoff goes now.
   */
  private heal(known: KnownStroke[]): void {
    this.epochChanges += 1;
    const healing = this.board.heal(known);
    this.outbox.enqueue(healing.strokes);
    for (const [id, version] of healing.hide) this.board.hideLocally(id, version);
    for (let index = 0; index < healing.hide.length; index += HEAL_BATCH)
      this.change("erase", healing.hide.slice(index, index + HEAL_BATCH));
    clearTimeout(this.timers.get("flush"));
    this.timers.delete("flush");
    this.retries = 0;
    this.listeners.onChange?.({ redraw: true, added: [], placement: "top" });
    this.listeners.onRecovered?.({ restored: healing.strokes.length, rehidden: healing.hide.length });
  }

  private applied(applied: Applied): void {
    this.releaseStored();
    if (applied.redraw || applied.added.length > 0) this.listeners.onChange?.(applied);
    for (const op of applied.clears ?? []) this.listeners.onClear?.(op);
  }

  private afterChange(): void {
    this.watchGap();
    this.flush();
  }

  /** Sends the outbox in drawing order, a few chunks in flight at a time, and the pending visibility changes. */
  private flush(): void {
    if (!this.joined) return;
    const window = this.options.window ?? 4;
    while (this.outbox.inFlight < window && !this.timers.has("flush")) {
      const chunk = this.outbox.next();
      if (!chunk) break;
      this.sendStroke(chunk);
    }
    for (const change of this.changes) if (!change.inFlight) this.sendChange(change);
  }

  private sendStroke(chunk: StrokeInput): void {
    const generation = this.generation;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("stroke", chunk, (error, ack) => {
      if (generation !== this.generation) return;
      if (error || (!ack.ok && RETRYABLE_ERRORS.has(ack.code))) {
        this.outbox.retry(chunk.id);
        if (!error && !ack.ok && ack.code === "storage_full") this.listeners.onStorageFull?.();
        return this.retryLater("flush", () => this.flush(), !error && !ack.ok && ack.code === "storage_full");
      }
      if (!ack.ok && ack.code === "not_joined") return this.sync("join");
      this.retries = 0;
      if (ack.ok) this.acknowledged(chunk.id, ack.s);
      else {
        this.outbox.take(chunk.id);
        this.listeners.onRefused?.(chunk, ack);
        this.listeners.onPending?.();
      }
      // A rotation first: what is still queued goes on the new connection.
      this.rotateIfQuiet();
      this.flush();
    });
  }

  /**
   * A chunk of this client's is stored (its ack, or its broadcast, whichever came first). It stays on the page,
   * from the outbox, until the board holds it.
   */
  private acknowledged(id: string, s: number): void {
    const chunk = this.outbox.acknowledge(id, s);
    if (!chunk) return;
    this.releaseStored();
    this.listeners.onAcked?.(chunk, s);
    this.listeners.onPending?.();
  }

  /**
   * Drops from the outbox the acknowledged chunks the board holds. (Not by seq: an acknowledgement names no epoch,
   * and one from a store that just lost writes carries a seq of its new history.)
   */
  private releaseStored(): void {
    this.outbox.release(({ input }) => this.current.has(input.id));
  }

  /**
   * This client's acknowledged chunks that the board does not hold yet, as strokes it knew: at an epoch change,
   * their broadcast may be what the failed store never delivered, and their store what lost them.
   */
  private storedNotHeld(): KnownStroke[] {
    return this.outbox.stored
      .filter(({ input }) => !this.current.has(input.id))
      .map(({ input, s }) => ({
        record: {
          s,
          g: 0,
          v: input.v ?? 0,
          i: input.id,
          u: input.u ?? this.options.user.id,
          c: input.c,
          w: input.w,
          p: input.p,
        },
        version: input.v ?? 0,
      }));
  }

  private change(kind: "erase" | "restore", x: [string, number][]): void {
    const change = { kind, x, inFlight: false };
    this.changes.push(change);
    this.flush();
  }

  private sendChange(change: (typeof this.changes)[number]): void {
    change.inFlight = true;
    const generation = this.generation;
    this.socket.timeout(ACK_TIMEOUT_MS).emit(change.kind, { x: change.x }, (error, ack) => {
      if (generation !== this.generation) return;
      change.inFlight = false;
      if (error || (!ack.ok && RETRYABLE_ERRORS.has(ack.code))) return this.retryLater("change", () => this.flush());
      // Stored, or refused for good (the stroke is gone): either way it is done.
      this.changes.splice(this.changes.indexOf(change), 1);
      this.rotateIfQuiet();
    });
  }

  /** Exponential backoff with full jitter, for refusals that may pass later; a full store waits long. */
  private retryLater(kind: string, action: () => void, long = false): void {
    clearTimeout(this.timers.get(kind));
    const ceiling = long ? STORAGE_FULL_RETRY_MS : Math.min(RETRY_BASE_MS * 2 ** this.retries, RETRY_MAX_MS);
    this.retries += 1;
    const generation = this.generation;
    this.timers.set(
      kind,
      setTimeout(
        () => {
          this.timers.delete(kind);
          if (generation === this.generation) action();
        },
        (long ? 0.5 + Math.random() / 2 : Math.random()) * ceiling,
      ),
    );
  }

  private retrySyncLater(action: () => void): void {
    this.syncRetry = action;
    this.retryLater("sync", () => {
      this.syncRetry = undefined;
      action();
    });
  }

  /**
   * A message from the store (`ops`, `head`) while a catch-up waits for its retry: the store is back, and its
   * board may have a new epoch, so catch up now rather than at the end of a backoff grown during the outage.
   */
  private retrySyncNow(): boolean {
    const retry = this.syncRetry;
    // At most one a second: an instance whose own connection to the store is still down answers at once, again.
    if (!retry || Date.now() - this.earlyRetryAt < EARLY_RETRY_MS) return false;
    this.earlyRetryAt = Date.now();
    clearTimeout(this.timers.get("sync"));
    this.timers.delete("sync");
    this.syncRetry = undefined;
    retry();
    return true;
  }

  private cancelTimers(): void {
    this.syncRetry = undefined;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Operations stored by different instances arrive out of order, so gaps open and fill by themselves all the
   * time while several people draw. Only a gap that stays open (a broadcast lost with a killed instance) is
   * filled by reading: one where the watermark has not moved for the whole grace period.
   */
  private watchGap(): void {
    if (this.timers.has("gap") || !this.board.hasGap || !this.joined || this.syncing) return;
    const stuckAt = this.board.watermark;
    this.timers.set(
      "gap",
      setTimeout(() => {
        this.timers.delete("gap");
        if (!this.joined || this.syncing) return;
        if (this.board.watermark === stuckAt && this.board.hasGap) {
          this.gapRejoins += 1;
          this.sync("read");
        } else this.watchGap(); // that gap filled; time any newer one from now
      }, this.options.gapGraceMs ?? 1_000),
    );
  }

  /**
   * Reconnects, if the server asked for it, at a quiet moment: no stroke being drawn, no answer awaited. What is
   * queued but not sent yet simply goes on the new connection.
   */
  private rotateIfQuiet(): void {
    // Only a live connection rotates: disconnect() on a dropped one would also stop its reconnection.
    if (
      !this.rotateRequested ||
      !this.joined ||
      this.outbox.drawing ||
      this.outbox.inFlight > 0 ||
      this.changes.some((change) => change.inFlight)
    )
      return;
    this.rotateRequested = false;
    this.socket.disconnect();
  }
}
