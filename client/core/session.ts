/**
 * A client's connection to one board (docs/client.md): joins and catches up after every (re)connect (the operations
 * it missed, or a snapshot in pages), fills gaps, sends its outbox with a small window in flight and resends what was
 * never acknowledged, notices a store that lost writes (a new epoch) and heals it, keeps every unacknowledged write
 * in a PendingStore across reloads, and moves to a fresh connection before Cloud Run's request timeout cuts the
 * current one.
 *
 * Where it stands is one value, `phase`, a discriminated union: each phase holds what only it needs (the connection
 * it runs on, its timer, the board being read aside), so an answer that arrives after its phase ended is recognised
 * by identity and dropped, and leaving a phase cancels its timer. The transport, the clock and the pending store are
 * injected: test/client/session.test.ts drives all of it with a fake transport and fake timers.
 *
 * DOM-free: the browser app draws what it reports, and Node scripts (tests, benchmarks) drive it as users.
 */
import type { BoardOp, EditRequest, ElementInput, ErrorAck, SyncAck, WriteAck, You } from "../../protocol/events";
import { ID_PATTERN, MAX_LINE_BYTES, NO_EPOCH, PROTOCOL_VERSION, RETRYABLE_ERRORS } from "../../protocol/events";
import type { Sample } from "../../protocol/points";
import { randomId } from "../../protocol/random-id";
import { BoardState, noChange, type Applied } from "./board-state";
import { systemClock, type Clock, type TimerHandle } from "./clock";
import { healingWrites, type EpochKnowledge } from "./healing";
import { idsOf, Outbox, type Entry, type Refusal } from "./outbox";
import { MemoryPendingStore } from "./pending-store";
import type {
  BoardChange,
  BoardSession,
  NewElement,
  Notice,
  Pen,
  SessionListeners,
  SessionOptions,
  SessionStatus,
} from "./session-api";
import { ShownBoard } from "./shown-board";
import type { Transport } from "./transport";

export type { SessionOptions, SessionListeners } from "./session-api";

const ACK_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;
/** A full store frees space only when someone clears a board or boards expire: retry slowly. */
const STORAGE_FULL_RETRY_MS = 30_000;
/** Least time between two catch-ups retried early, on a sign that the store is back. */
const EARLY_RETRY_MS = 1_000;
/** Times an append may be overtaken (`out_of_order`) before its line is given up as refused. */
const MAX_OVERTAKEN = 10;
const NOT_CONNECTED: ErrorAck = { ok: false, code: "unavailable", error: "not connected" };
const VIEW_ONLY: ErrorAck = { ok: false, code: "forbidden", error: "this board is view-only here" };

/** One connection of the transport's; its answers are dropped once another has replaced it. */
interface Link {
  readonly id: number;
  /** The server asked for a fresh connection: made at the next quiet moment. */
  rotate: boolean;
  /** Caught up on it once: a join or read on it later (a new name, a gap) is not a reconnection. */
  joined: boolean;
}

/** A snapshot being read: into the board itself (a page that held nothing), or aside (see `snapshot`). */
interface SnapshotRead {
  target: BoardState;
  e: string;
  /** The seq of its first page: what came after is read from the log when the last page is in. */
  start: number;
}

/** Where the session stands. */
type Phase =
  /** No connection: the transport is (re)connecting by itself. */
  | { name: "offline" }
  /** `join` sent on this connection. */
  | { name: "joining"; link: Link }
  /** Joined; reading the operations after the watermark (a gap that stayed open, another epoch heard of). */
  | { name: "reading"; link: Link }
  /** Joined; reading a snapshot's pages. */
  | { name: "snapshot"; link: Link; read: SnapshotRead }
  /** A join or read failed (no answer, the store away): it goes again when the timer fires, or at a sign of life. */
  | { name: "backoff"; link: Link; retry: "join" | "read"; timer: TimerHandle }
  /** Up to date; watching for a gap that stays open. */
  | { name: "live"; link: Link; gap: { stuckAt: number; timer: TimerHandle } | undefined }
  /** The service speaks another protocol version: nothing more is sent; the page must reload. */
  | { name: "outdated" }
  | { name: "closed" };

type Joined = Extract<Phase, { name: "reading" | "live" }>;

const isJoined = (phase: Phase): phase is Joined => phase.name === "live" || phase.name === "reading";

/** A page's id: the time it opened (so earlier pages' records sort first), then randomness. */
const newPageId = () => `${Date.now().toString(36).padStart(9, "0")}-${randomId(6)}`;

export class WhiteboardSession implements BoardSession {
  private board_ = new BoardState();
  private phase: Phase = { name: "offline" };
  private readonly outbox: Outbox;
  private readonly shown: ShownBoard;
  private readonly transport: Transport;
  /** 12 random bytes: 16 URL-safe characters, as element ids must be (ELEMENT_ID_PATTERN). */
  private readonly newId: () => string;
  private readonly clock: Clock;
  private you_: You | undefined;
  /** Whether the session was ever up to date: "reconnecting" rather than "connecting" from then on. */
  private wasLive = false;
  private status_: SessionStatus = "connecting";
  private links = 0;
  private syncFailures = 0;
  private lastEarlyRetry = -Infinity;
  /** The outbox's pause after a write was refused for now; its failures in a row set the next pause. */
  private readonly sender: { timer: TimerHandle; failures: number } = { timer: undefined, failures: 0 };
  /** Ids of the elements this page created: the rest, created elsewhere, History may take as this user's. */
  private readonly mine = new Set<string>();
  /** Notices given, so that each is given once (a view-only board; a full store until a write passes). */
  private readonly told = new Set<Notice["kind"]>();
  /** Connections made after the first one. */
  reconnects = 0;
  /** Reads made to fill a gap that did not fill by itself. */
  gapReads = 0;
  /** Times the board's epoch changed under this session. */
  epochChanges = 0;
  /** Snapshots read (the first join's included): an epoch change that lost nothing needs none. */
  snapshots = 0;

  constructor(
    private readonly options: SessionOptions,
    private readonly listeners: SessionListeners = {},
  ) {
    if (!ID_PATTERN.test(options.board))
      throw new Error(`invalid board id "${options.board}": 1 to 64 of A-Z a-z 0-9 _ -`);
    this.clock = options.clock ?? systemClock;
    this.transport = options.transport;
    this.newId = options.newId ?? (() => randomId(12));
    const store = options.pendingStore ?? new MemoryPendingStore();
    this.outbox = new Outbox({
      board: options.board,
      store,
      pageId: newPageId(),
      maxPointsPerWrite: options.maxPointsPerWrite ?? 200,
      maxLineBytes: options.maxLineBytes ?? MAX_LINE_BYTES,
      newId: this.newId,
    });
    this.shown = new ShownBoard(
      () => this.board_,
      this.outbox,
      () => this.you_?.id ?? "",
    );
    void store.load(options.board).then((records) => {
      if (records.length === 0 || this.phase.name === "closed") return;
      this.outbox.restore(records);
      this.outboxChanged(records.flatMap(({ write }) => (write.kind === "add" ? [write.input.id] : [])));
      if (this.phase.name === "live") this.reconcile();
    });
    this.transport.start({
      connected: () => this.connected(),
      disconnected: () => this.disconnected(),
      ops: ({ e, ops }) => this.onOps(e, ops),
      head: ({ e, s }) => this.onHead(e, s),
      presence: ({ count }) => this.listeners.onPresence?.(count),
      cursors: (cursors) => this.listeners.onCursors?.(cursors),
      rotate: () => this.onRotate(),
    });
  }

  /** The board as the store has it (no unacknowledged writes of this page's): another object after an epoch change. */
  get board(): BoardState {
    return this.board_;
  }

  get status(): SessionStatus {
    return this.status_;
  }

  get you(): You | undefined {
    return this.you_;
  }

  get canEdit(): boolean {
    return this.you_?.edit !== false;
  }

  get pendingWrites(): number {
    return this.outbox.size;
  }

  /** True while a line is being drawn. */
  get drawing(): boolean {
    return this.outbox.drawing;
  }

  elements() {
    return this.shown.elements();
  }

  element(id: string) {
    return this.shown.element(id);
  }

  begin(sample: Sample, pen: Pen): string | undefined {
    if (!this.canEdit) return undefined;
    const id = this.outbox.begin(sample, pen);
    this.mine.add(id);
    this.outboxChanged([id]);
    return id;
  }

  extend(...samples: Sample[]): void {
    const ids = this.outbox.extend(samples);
    for (const id of ids) this.mine.add(id);
    if (ids.length > 0) this.outboxChanged(ids);
  }

  end(): string[] {
    const ids = this.outbox.end();
    this.outboxChanged(ids);
    this.rotateIfQuiet();
    return ids;
  }

  create(elements: readonly NewElement[]): string[] {
    if (!this.canEdit || elements.length === 0) return [];
    const inputs: ElementInput[] = elements.map((element) => ({ ...element, id: this.newId() }));
    for (const { id } of inputs) this.mine.add(id);
    this.outbox.add(inputs);
    const ids = inputs.map(({ id }) => id);
    this.outboxChanged(ids);
    return ids;
  }

  edit(x: EditRequest["x"]): void {
    if (!this.canEdit || x.length === 0) return;
    this.outbox.change({ kind: "edit", input: { x } });
    this.outboxChanged(x.map(([id]) => id));
  }

  erase(ids: readonly string[]): void {
    this.visibility("erase", ids);
  }

  restore(ids: readonly string[]): void {
    this.visibility("restore", ids);
  }

  clear(): Promise<WriteAck> {
    return this.direct((answer) => this.transport.request("clear", {}, ACK_TIMEOUT_MS, answer));
  }

  unclear(of: number): Promise<WriteAck> {
    return this.direct((answer) => this.transport.request("unclear", { of }, ACK_TIMEOUT_MS, answer));
  }

  setUser(user: SessionOptions["user"]): void {
    if (user.key !== this.options.user.key) throw new Error("a session keeps its user key");
    this.options.user = user;
    // The service learns names on join: join again on the same connection.
    if (isJoined(this.phase)) this.join(this.phase.link);
  }

  cursor([x, y]: readonly [number, number]): void {
    if (this.phase.name === "live") this.transport.cursor({ x: Math.round(x), y: Math.round(y) });
  }

  close(): void {
    this.setPhase({ name: "closed" });
    this.pauseWrites(undefined);
    this.transport.close();
  }

  private visibility(kind: "erase" | "restore", ids: readonly string[]): void {
    if (!this.canEdit || ids.length === 0) return;
    this.outbox.change({ kind, input: { ids: [...ids] } });
    this.outboxChanged(ids);
  }

  /** A clear or its undoing: sent now or never (not queued), answered by the store. */
  private direct(send: (answer: (ack: WriteAck | undefined) => void) => void): Promise<WriteAck> {
    if (!this.canEdit) return Promise.resolve(VIEW_ONLY);
    if (!isJoined(this.phase)) return Promise.resolve(NOT_CONNECTED);
    return new Promise((resolve) =>
      send((ack) => resolve(ack ?? { ok: false, code: "unavailable", error: "no answer from the server" })),
    );
  }

  // --- Phases -------------------------------------------------------------------------------------------------

  /** Enters a phase, cancelling the timer of the one it leaves, and reports the status it implies. */
  private setPhase(next: Phase): void {
    const previous = this.phase;
    if (previous.name === "backoff") this.clock.clearTimeout(previous.timer);
    if (previous.name === "live" && previous.gap) this.clock.clearTimeout(previous.gap.timer);
    this.phase = next;
    if (next.name === "live") this.wasLive = true;
    const status = this.statusOf(next);
    if (status === this.status_) return;
    this.status_ = status;
    this.listeners.onStatus?.(status);
  }

  private statusOf(phase: Phase): SessionStatus {
    if (phase.name === "outdated" || phase.name === "closed") return phase.name;
    if (phase.name !== "offline" && phase.link.joined) return "connected";
    if (phase.name === "snapshot" && phase.read.target === this.board_) return "syncing";
    return this.wasLive ? "reconnecting" : "connecting";
  }

  private connected(): void {
    if (this.phase.name === "closed" || this.phase.name === "outdated") return;
    if (this.links > 0) this.reconnects += 1;
    this.links += 1;
    this.join({ id: this.links, rotate: false, joined: false });
  }

  private disconnected(): void {
    if (this.phase.name === "closed" || this.phase.name === "outdated") return;
    // Their answers will never come: everything in flight goes again on the next connection.
    this.outbox.unsendAll();
    this.setPhase({ name: "offline" });
  }

  /** The link the session runs on now, if any. */
  private get link(): Link | undefined {
    return "link" in this.phase ? this.phase.link : undefined;
  }

  /**
   * Joins on `link`, naming the epoch held and its watermark so the server answers with what was missed (or tells
   * `base` when the epoch changed). `fresh`: naming nothing, for a snapshot (the page's knowledge goes past `base`,
   * or an undone clear showed a page it never held).
   */
  private join(link: Link, fresh = false): void {
    const phase: Phase = { name: "joining", link };
    this.setPhase(phase);
    const { epoch, watermark, complete } = this.board_;
    this.transport.request(
      "join",
      {
        pv: PROTOCOL_VERSION,
        board: this.options.board,
        ...(this.options.edit !== undefined ? { edit: this.options.edit } : {}),
        user: this.options.user,
        // A board whose snapshot read was given up holds no prefix of the history: it continues from a snapshot.
        ...(epoch !== undefined && complete && !fresh ? { e: epoch, after: watermark } : {}),
      },
      ACK_TIMEOUT_MS,
      (ack) => this.synced(phase, ack, "join"),
    );
  }

  /** Reads the operations after the watermark (a gap; another epoch heard of, whose `base` the answer tells). */
  private read(link: Link): void {
    const epoch = this.board_.epoch;
    if (epoch === undefined) return this.join(link);
    const phase: Phase = { name: "reading", link };
    this.setPhase(phase);
    this.transport.request("read", { e: epoch, after: this.board_.watermark }, ACK_TIMEOUT_MS, (ack) =>
      this.synced(phase, ack, "read"),
    );
  }

  /** The answer to a join or a read. */
  private synced(phase: Phase, ack: SyncAck | undefined, retry: "join" | "read"): void {
    if (this.phase !== phase || !("link" in phase)) return;
    if (ack && !ack.ok && ack.code === "outdated") return this.outdated();
    if (ack && !ack.ok && ack.code === "not_joined") return this.join(phase.link);
    // Anything else refused (a rate limit, the store away) may pass later: the board id was checked up front.
    if (!ack?.ok) return this.backoff(phase.link, retry);
    this.syncFailures = 0;
    if (ack.you) this.met(ack.you);
    if ("snapshot" in ack) return this.snapshot(phase.link, ack);
    const board = this.board_;
    if (board.epoch !== undefined && ack.e !== board.epoch) {
      // Another epoch, whose history shares the one held up to `base`.
      const base = ack.base ?? 0;
      // This page's board knew more (operations waiting behind a gap count): read the new board aside, and heal.
      // Its own acknowledgements past `base` need no snapshot: they are compared with the board once caught up.
      if (board.knownSeq > base || !board.complete) return this.join(phase.link, true);
      const old = board.epoch;
      board.adoptEpoch(ack.e, base);
      this.outbox.carryAcks(old, ack.e, base);
      if (old !== NO_EPOCH) this.epochChanges += 1;
    }
    board.epoch = ack.e;
    this.applied(board.applyOps(ack.ops));
    board.applyHead(ack.s);
    this.caughtUp(phase.link);
  }

  private met(you: You): void {
    this.you_ = you;
    this.listeners.onYou?.(you);
    if (!you.edit)
      this.notify({
        kind: "view_only",
        message: "This board is view-only for you: what you draw here is not saved.",
        ids: [],
      });
  }

  /**
   * A snapshot's first page. A page that holds nothing fills its board as the pages come (the newest first, so the
   * screen fills fast); one that holds something reads aside, and keeps showing what it holds until the read is
   * complete: a new epoch's board is then compared with it (healing), and it never sees the store's incomplete
   * board in between (elements it lost blinking out, elements a lost clear had hidden blinking back).
   */
  private snapshot(link: Link, first: Extract<SyncAck, { snapshot: unknown }>): void {
    this.snapshots += 1;
    const holding = this.board_.epoch !== undefined && (this.board_.size > 0 || this.board_.watermark > 0);
    const target = holding ? new BoardState() : this.board_;
    target.reset(first.e);
    const phase: Extract<Phase, { name: "snapshot" }> = {
      name: "snapshot",
      link,
      read: { target, e: first.e, start: first.s },
    };
    this.setPhase(phase);
    if (!holding) this.applied({ ...noChange(), all: true });
    this.snapshotPage(phase, first.snapshot);
  }

  /** Applies a page, having asked for the next one first, so the server reads while this page draws. */
  private snapshotPage(
    phase: Extract<Phase, { name: "snapshot" }>,
    page: Extract<SyncAck, { snapshot: unknown }>["snapshot"],
  ): void {
    const { read } = phase;
    const last = page.next === undefined;
    const request =
      page.next === undefined ? { e: read.e, after: read.start } : { e: read.e, at: read.start, cursor: page.next };
    this.transport.request("read", request, ACK_TIMEOUT_MS, (ack) => this.snapshotRead(phase, ack, last));
    const applied = read.target.applySnapshot(page);
    if (read.target === this.board_) this.applied(applied);
  }

  private snapshotRead(phase: Extract<Phase, { name: "snapshot" }>, ack: SyncAck | undefined, last: boolean): void {
    if (this.phase !== phase) return;
    if (ack && !ack.ok && ack.code === "outdated") return this.outdated();
    // Start over, from what the board held: a half-read snapshot is of no use.
    if (!ack?.ok) return this.backoff(phase.link, "join");
    const { read } = phase;
    if ("snapshot" in ack) {
      // Another epoch meanwhile, or the log no longer holds what followed the first page: this is a new first page.
      if (ack.e !== read.e || last) return this.snapshot(phase.link, ack);
      return this.snapshotPage(phase, ack.snapshot);
    }
    if (ack.e !== read.e) return this.join(phase.link);
    const { target } = read;
    const applied = target.finishSnapshot(read.start);
    const more = target.applyOps(ack.ops);
    target.applyHead(ack.s);
    const old = this.board_;
    if (target === old) {
      this.applied(merge(applied, more));
      return this.caughtUp(phase.link);
    }
    let known: EpochKnowledge[] = [];
    if (old.epoch !== target.epoch) {
      if (old.epoch !== NO_EPOCH) this.epochChanges += 1;
      known = this.knowledgeOf(old, target.epoch as string);
    }
    this.board_ = target;
    this.applied({ ...merge(applied, more), all: true });
    this.caughtUp(phase.link, known);
  }

  /** What this page knew of `old`'s epoch, to compare with the new one: its board, and its own acknowledgements. */
  private knowledgeOf(old: BoardState, epoch: string): EpochKnowledge[] {
    const from = old.epoch as string;
    const known = new Map(old.knowledge().map((element) => [element.record.i, { ...element, epoch: from }]));
    for (const stale of this.outbox.takeStaleAcks(epoch, this.you_?.id ?? "", (id) => known.get(id)))
      known.set(stale.record.i, stale);
    return [...known.values()];
  }

  /** The board is complete up to the store's seq: heal what `known` says the store lacks, then go live. */
  private caughtUp(link: Link, known: EpochKnowledge[] = []): void {
    link.joined = true;
    this.setPhase({ name: "live", link, gap: undefined });
    this.reconcile(known);
    if (this.board_.needsSnapshot) return this.join(link, true);
    this.watchGap();
    this.flush();
    this.rotateIfQuiet();
  }

  /**
   * Brings the outbox in line with the board: drops what the board holds, and heals from what this page knew of
   * other epochs (`known`, and acknowledgements kept from them, e.g. by a page reloaded after the store lost writes).
   */
  private reconcile(known: EpochKnowledge[] = []): void {
    const board = this.board_;
    const epoch = board.epoch;
    if (epoch === undefined) return;
    const stale = this.outbox.takeStaleAcks(epoch, this.you_?.id ?? "", () => undefined);
    const writes = healingWrites([...known, ...stale], board);
    if (writes.length > 0) {
      this.outbox.heal(writes);
      this.listeners.onRecovered?.({ restored: writes.length });
    }
    const settled = this.outbox.settle(board);
    if (writes.length > 0 || settled.length > 0) this.outboxChanged([...settled, ...writes.map(({ id }) => id)]);
  }

  /** A join or read failed: again after an exponential backoff with full jitter, or sooner at a sign of life. */
  private backoff(link: Link, retry: "join" | "read"): void {
    const ceiling = Math.min(RETRY_BASE_MS * 2 ** this.syncFailures, RETRY_MAX_MS);
    this.syncFailures += 1;
    const timer = this.clock.setTimeout(() => this.retrySync(), this.clock.random() * ceiling);
    this.setPhase({ name: "backoff", link, retry, timer });
  }

  private retrySync(): void {
    const phase = this.phase;
    if (phase.name !== "backoff") return;
    if (phase.retry === "join") this.join(phase.link);
    else this.read(phase.link);
  }

  /**
   * A message from the store (`ops`, `head`) while a catch-up waits for its retry: the store is back, and its board
   * may have a new epoch, so catch up now rather than at the end of a backoff grown during the outage. At most one
   * a second: an instance whose own connection to the store is still down answers at once, again.
   */
  private retryEarly(): void {
    if (this.phase.name !== "backoff" || this.clock.now() - this.lastEarlyRetry < EARLY_RETRY_MS) return;
    this.lastEarlyRetry = this.clock.now();
    this.retrySync();
  }

  private outdated(): void {
    this.setPhase({ name: "outdated" });
    this.transport.close();
  }

  // --- Live operations ----------------------------------------------------------------------------------------

  private onOps(e: string, ops: readonly BoardOp[]): void {
    this.retryEarly();
    const phase = this.phase;
    if (phase.name === "snapshot") {
      // Operations of the epoch being read belong to that board; they wait for its last page.
      if (e === phase.read.e) {
        const applied = phase.read.target.applyOps(ops);
        if (phase.read.target === this.board_) this.applied(applied);
      }
      return;
    }
    if (phase.name !== "live" && phase.name !== "reading" && phase.name !== "joining") return;
    if (e !== this.board_.epoch) {
      // The store lost writes, or may have: read with the epoch held, and learn `base`.
      if (phase.name === "live") this.read(phase.link);
      return;
    }
    this.applied(this.board_.applyOps(ops));
    if (this.board_.needsSnapshot && phase.name === "live") return this.join(phase.link, true);
    this.watchGap();
  }

  private onHead(e: string, s: number): void {
    this.retryEarly();
    const phase = this.phase;
    if (phase.name !== "live") return;
    if (e !== this.board_.epoch) return this.read(phase.link);
    this.board_.applyHead(s);
    this.watchGap();
  }

  /**
   * Operations stored by different instances arrive out of order, so gaps open and fill by themselves all the time
   * while several people draw. Only a gap that stays open (a broadcast lost with a killed instance) is filled by
   * reading: one where the watermark has not moved for the whole grace period.
   */
  private watchGap(): void {
    const phase = this.phase;
    if (phase.name !== "live" || phase.gap || !this.board_.hasGap) return;
    const stuckAt = this.board_.watermark;
    const timer = this.clock.setTimeout(() => {
      if (this.phase !== phase) return;
      phase.gap = undefined;
      if (this.board_.hasGap && this.board_.watermark === stuckAt) {
        this.gapReads += 1;
        this.read(phase.link);
      } else this.watchGap(); // that gap filled; time any newer one from now
    }, this.options.gapGraceMs ?? 1_000);
    phase.gap = { stuckAt, timer };
  }

  private onRotate(): void {
    const link = this.link;
    if (!link) return;
    link.rotate = true;
    this.rotateIfQuiet();
  }

  /**
   * Reconnects, if the server asked for it, at a quiet moment: up to date, no line being drawn, no answer awaited.
   * What is queued but not sent simply goes on the new connection.
   */
  private rotateIfQuiet(): void {
    const phase = this.phase;
    if (phase.name !== "live" || !phase.link.rotate || this.outbox.drawing || this.outbox.inFlight > 0) return;
    phase.link.rotate = false;
    this.transport.reconnect();
  }

  /** The board changed: tell the page, and drop from the outbox what the board now holds. */
  private applied(applied: Applied): void {
    const settled = this.outbox.settle(this.board_);
    for (const id of settled) applied.ids.add(id);
    this.shown.invalidate();
    if (applied.all || applied.ids.size > 0 || applied.clears.length > 0) {
      const change: BoardChange = {
        all: applied.all,
        ids: applied.ids,
        created: applied.created.filter((record) => !this.mine.has(record.i)),
        clears: applied.clears,
      };
      this.listeners.onChange?.(change);
    }
    for (const op of applied.clears) this.listeners.onClear?.(op);
    if (settled.length > 0) this.listeners.onPending?.(this.outbox.size);
    this.flush();
  }

  // --- Writes -------------------------------------------------------------------------------------------------

  /** The outbox changed (a write made, acknowledged, refused): redraw what it touches and send what may go. */
  private outboxChanged(ids: Iterable<string>): void {
    this.shown.invalidate();
    this.listeners.onChange?.({ all: false, ids: new Set(ids), created: [], clears: [] });
    this.listeners.onPending?.(this.outbox.size);
    this.flush();
  }

  /** Sends what may go: joined and allowed to write, not pausing, a few writes in flight at a time. */
  private flush(): void {
    const phase = this.phase;
    if (!isJoined(phase) || !this.you_?.edit || this.sender.timer !== undefined) return;
    for (
      let entry = this.outbox.next(this.options.window ?? 4);
      entry;
      entry = this.outbox.next(this.options.window ?? 4)
    )
      this.send(entry, phase.link);
  }

  private send(entry: Entry, link: Link): void {
    const answer = (ack: WriteAck | undefined) => this.written(entry, link, ack);
    const { write } = entry;
    switch (write.kind) {
      case "add":
        return this.transport.request("add", write.input, ACK_TIMEOUT_MS, answer);
      case "append":
        return this.transport.request("append", write.input, ACK_TIMEOUT_MS, answer);
      case "erase":
        return this.transport.request("erase", write.input, ACK_TIMEOUT_MS, answer);
      case "restore":
        return this.transport.request("restore", write.input, ACK_TIMEOUT_MS, answer);
      case "edit":
        return this.transport.request("edit", write.input, ACK_TIMEOUT_MS, answer);
    }
  }

  private written(entry: Entry, link: Link, ack: WriteAck | undefined): void {
    // An answer on a connection replaced since: the write went back to the queue when that connection dropped.
    if (this.link !== link) return;
    if (ack && !ack.ok && ack.code === "out_of_order") {
      // The store has another history than this page's board: it lost the line, and this page heals it once it has
      // read that history (now, rather than at the next message of the new epoch). Until then the append waits.
      if (ack.e !== undefined && ack.e !== this.board_.epoch) {
        if (this.phase.name === "live") this.read(this.phase.link);
      } else if ((entry.overtaken += 1) > MAX_OVERTAKEN) return this.refused(entry, ack);
    }
    if (!ack || (!ack.ok && RETRYABLE_ERRORS.has(ack.code))) {
      this.outbox.retry(entry);
      const full = ack?.ok === false && ack.code === "storage_full";
      if (full)
        this.notify({
          kind: "storage_full",
          message: "The whiteboard's storage is full: what you draw will be saved once space is freed.",
          ids: [],
        });
      return this.pauseWrites(full);
    }
    if (!ack.ok && ack.code === "not_joined") {
      this.outbox.retry(entry);
      return this.join(link);
    }
    this.sender.failures = 0;
    this.told.delete("storage_full");
    if (!ack.ok && ack.code === "forbidden" && entry.write.kind === "append" && this.canEdit)
      return this.continued(entry, entry.write.input.i);
    if (!ack.ok) return this.refused(entry, ack);
    this.outbox.acknowledge(entry, ack.s, ack.e);
    if (entry.write.kind === "add" && this.mine.has(entry.write.input.id))
      this.listeners.onAcked?.(entry.write.input.id, ack.s);
    this.outboxChanged([...this.outbox.settle(this.board_), ...idsOf(entry.write)]);
    // The first write made the board: take its epoch now, so that a store that loses the board is noticed (its
    // epoch changes under this page) and what it lost is sent back.
    if (this.board_.epoch === NO_EPOCH && this.phase.name === "live") this.read(this.phase.link);
    this.rotateIfQuiet();
  }

  /** A write refused for good: dropped (a line whole), and the user told once, in words. */
  private refused(entry: Entry, ack: ErrorAck): void {
    const removeWhole = ack.code === "board_full" || ack.code === "too_large" || ack.code === "out_of_order";
    const refusal = this.outbox.refuse(entry, removeWhole);
    if (refusal) this.notify(noticeOf(refusal, ack));
    this.outboxChanged(refusal?.ids ?? idsOf(entry.write));
    this.rotateIfQuiet();
  }

  /**
   * An append to this page's line `id` refused because the store holds the line as someone else's (a page healing
   * a store that restarted empty put it back as its own): the rest of the line continues as a new line of this
   * user's (Outbox.continueLine), from what the store's copy holds when this page has it.
   */
  private continued(entry: Entry, id: string): void {
    const copy = this.board_.get(id);
    const next = this.outbox.continueLine(entry, copy && copy.u !== this.you_?.id ? copy.n : undefined);
    if (next !== undefined) this.mine.add(next);
    this.outboxChanged(next === undefined ? [id] : [id, next]);
    this.rotateIfQuiet();
  }

  /** Stops sending until a backoff passes (undefined: cancels a pause). */
  private pauseWrites(full: boolean | undefined): void {
    if (this.sender.timer !== undefined) this.clock.clearTimeout(this.sender.timer);
    this.sender.timer = undefined;
    if (full === undefined) return;
    const ceiling = full ? STORAGE_FULL_RETRY_MS : Math.min(RETRY_BASE_MS * 2 ** this.sender.failures, RETRY_MAX_MS);
    this.sender.failures += 1;
    const delay = (full ? 0.5 + this.clock.random() / 2 : this.clock.random()) * ceiling;
    this.sender.timer = this.clock.setTimeout(() => {
      this.sender.timer = undefined;
      this.flush();
    }, delay);
  }

  private notify(notice: Notice): void {
    // A refused element is told every time (each is its own); the rest once, until the condition passes.
    if (notice.ids.length === 0 && this.told.has(notice.kind)) return;
    this.told.add(notice.kind);
    this.listeners.onNotice?.(notice);
  }
}

function merge(a: Applied, b: Applied): Applied {
  return {
    all: a.all || b.all,
    ids: new Set([...a.ids, ...b.ids]),
    created: [...a.created, ...b.created],
    clears: [...a.clears, ...b.clears],
  };
}

/** The words for a refusal: what happened to the user's work, and what they can do. */
function noticeOf(refusal: Refusal, ack: ErrorAck): Notice {
  const { ids } = refusal;
  if (ack.code === "board_full")
    return {
      kind: "board_full",
      message: refusal.element
        ? "This board is full, so your last drawing was not saved. Clear the board or start a new one."
        : "This board is full: that change was not saved.",
      ids,
    };
  if (ack.code === "too_large")
    return { kind: "too_large", message: "That was too big to save in one piece, so it was removed.", ids };
  if (ack.code === "forbidden")
    return { kind: "view_only", message: "This board is view-only for you: that change was not saved.", ids };
  return { kind: "refused", message: "A change could not be saved and was undone.", ids };
}
