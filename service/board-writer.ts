/**
 * Each board's writes on this instance, in arrival order, one store call in flight per board. Adds and appends that
 * arrive while a call is in flight go together in the next one (each still takes its own seq and is stored before
 * anyone hears of it), and what one call stored goes out in one broadcast.
 *
 * Pacing: a board's draw calls take tokens from a bucket of `burst` calls refilled at one per `intervalMs`. A quiet
 * board's write goes at once (nothing in flight, tokens left); only a board that keeps writing faster than one call
 * per interval waits for its next token, and what arrives meanwhile goes in that call. That bounds the frames a busy
 * board's clients receive (one per interval, whatever the number of drawers) without delaying anyone when it is
 * quiet. Erasures, edits and clears are not paced (they come at human speed) but still wait for the call in flight.
 */
import type { AppendInput, ElementInput } from "../protocol/events";
import type {
  Announcement,
  BoardStore,
  ClearOutcome,
  DrawItem,
  DrawOutcome,
  EditItem,
  EditOutcome,
  UnclearOutcome,
  Written,
} from "./store/board-store";

export type AddJob = { kind: "add"; user: string; element: ElementInput };
export type AppendJob = { kind: "append"; user: string; points: AppendInput };
export type VisibilityJob = { kind: "visibility"; user: string; ids: readonly string[]; show: boolean };
export type EditJob = { kind: "edit"; user: string; items: readonly EditItem[] };
export type ClearJob = { kind: "clear"; user: string };
export type UnclearJob = { kind: "unclear"; user: string; of: number };
export type WriteJob = AddJob | AppendJob | VisibilityJob | EditJob | ClearJob | UnclearJob;

/** What a write did. `bytes`: of the operations it stored, which every listener receives. */
export type DrawResult = { e: string; outcome: DrawOutcome };
export type VisibilityResult = { e: string; s: number; bytes: number };
export type EditResult = { e: string; s: number; bytes: number; outcome: EditOutcome };
export type ClearResult = { e: string; s: number; outcome: ClearOutcome };
export type UnclearResult = { e: string; s: number; outcome: UnclearOutcome };
type WriteResult = DrawResult | VisibilityResult | EditResult | ClearResult | UnclearResult;

export interface BoardWriterOptions {
  store: BoardStore;
  /**
   * Sends what a store call stored (a JSON array of BoardOp) to everyone on the board: on this instance, and on the
   * others unless the store published it already (`published`: the call carried an {@link Announcement}).
   */
  broadcast(board: string, e: string, ops: string, published: boolean): void;
  /** Where the store itself publishes a call's operations to the other instances; absent or undefined: it does not. */
  announcement?(board: string): Announcement | undefined;
  /** A store call gave the board a new epoch (new board, or a store that may have lost writes). */
  onRotated?(board: string, e: string): void;
  /** Most adds and appends in one store call. */
  maxBatch: number;
  /** A board's draw calls once its burst is spent: one per interval. 0: no pacing. */
  intervalMs: number;
  /** Draw calls a board may make at once before pacing starts. */
  burst: number;
  /** True while clears of `board` should delete at once rather than keep elements for an undo (its store is nearly full). */
  clearsDelete(board: string): boolean;
  /** Resolves once the writes made so far to `board` are on its replicas (REDIS_WAIT_REPLICAS); absent: acknowledge at once. */
  replicated?(board: string): Promise<unknown>;
  now?: () => number;
}

interface Queued {
  job: WriteJob;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

interface BoardQueue {
  queue: Queued[];
  busy: boolean;
  /** Draw calls available now, and when that was last worked out. */
  tokens: number;
  countedAt: number;
  /** Set while the next draw call waits for its token. */
  timer: NodeJS.Timeout | undefined;
  /** Set while an idle board waits for its bucket to fill, to be forgotten. */
  forget: NodeJS.Timeout | undefined;
}

const isDraw = (job: WriteJob): job is AddJob | AppendJob => job.kind === "add" || job.kind === "append";

export class BoardWriter {
  private readonly boards = new Map<string, BoardQueue>();
  private readonly now: () => number;
  /** Store calls made and adds and appends they carried, for the metrics. */
  readonly counters = { calls: 0, items: 0 };

  constructor(private readonly options: BoardWriterOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  write(board: string, job: AddJob | AppendJob): Promise<DrawResult>;
  write(board: string, job: VisibilityJob): Promise<VisibilityResult>;
  write(board: string, job: EditJob): Promise<EditResult>;
  write(board: string, job: ClearJob): Promise<ClearResult>;
  write(board: string, job: UnclearJob): Promise<UnclearResult>;
  write(board: string, job: WriteJob): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      let state = this.boards.get(board);
      if (!state) {
        const [tokens, countedAt] = [this.options.burst, this.now()];
        state = { queue: [], busy: false, tokens, countedAt, timer: undefined, forget: undefined };
        this.boards.set(board, state);
      }
      clearTimeout(state.forget);
      state.forget = undefined;
      state.queue.push({ job, resolve, reject });
      this.pump(board, state);
    });
  }

  /** Starts the next call of `board` if it may go now, or when its next token comes. */
  private pump(board: string, state: BoardQueue): void {
    const head = state.queue[0];
    if (state.busy || state.timer !== undefined) return;
    if (!head) {
      // Forget a board once its bucket is full again: a new write then starts from a full bucket, as it would here.
      if (this.refill(state) >= this.options.burst) this.boards.delete(board);
      else {
        state.forget = setTimeout(() => this.pump(board, state), this.wait(state, this.options.burst));
        state.forget.unref();
      }
      return;
    }
    if (isDraw(head.job) && this.options.intervalMs > 0) {
      if (this.refill(state) < 1) {
        state.timer = setTimeout(
          () => {
            state.timer = undefined;
            this.pump(board, state);
          },
          this.wait(state, 1),
        );
        return;
      }
      state.tokens -= 1;
    }
    void this.drain(board, state);
  }

  private refill(state: BoardQueue): number {
    const now = this.now();
    const { intervalMs, burst } = this.options;
    state.tokens = intervalMs > 0 ? Math.min(burst, state.tokens + (now - state.countedAt) / intervalMs) : burst;
    state.countedAt = now;
    return state.tokens;
  }

  /** Milliseconds until the bucket holds `tokens`. */
  private wait(state: BoardQueue, tokens: number): number {
    return Math.max(1, Math.ceil((tokens - state.tokens) * this.options.intervalMs));
  }

  private async drain(board: string, state: BoardQueue): Promise<void> {
    state.busy = true;
    const batch = this.takeBatch(state.queue);
    try {
      const results = await this.run(board, batch);
      batch.forEach((queued, index) => queued.resolve(results[index] as WriteResult));
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
    state.busy = false;
    this.pump(board, state);
  }

  private takeBatch(queue: Queued[]): Queued[] {
    const first = queue[0] as Queued;
    if (!isDraw(first.job)) return queue.splice(0, 1);
    let count = 1;
    while (count < queue.length && count < this.options.maxBatch && isDraw((queue[count] as Queued).job)) count += 1;
    return queue.splice(0, count);
  }

  private async run(board: string, batch: readonly Queued[]): Promise<WriteResult[]> {
    const { store } = this.options;
    const job = (batch[0] as Queued).job;
    const announce = this.options.announcement?.(board);
    this.counters.calls += 1;
    let written: Written;
    let results: WriteResult[];
    switch (job.kind) {
      case "add":
      case "append": {
        const items = batch.flatMap(({ job: item }): DrawItem[] =>
          item.kind === "add"
            ? [{ kind: "add", user: item.user, element: item.element }]
            : item.kind === "append"
              ? [{ kind: "append", user: item.user, points: item.points }]
              : [],
        );
        this.counters.items += items.length;
        const drawn = await store.draw(board, items, announce);
        written = drawn;
        results = drawn.outcomes.map((outcome) => ({ e: drawn.e, outcome }));
        break;
      }
      case "visibility":
        written = await store.setVisibility(board, job.user, job.ids, job.show, announce);
        results = [{ e: written.e, s: written.s, bytes: opsBytes(written) }];
        break;
      case "edit": {
        const edited = await store.edit(board, job.user, job.items, announce);
        written = edited;
        results = [{ e: edited.e, s: edited.s, bytes: opsBytes(edited), outcome: edited.outcome }];
        break;
      }
      case "clear": {
        const cleared = await store.clear(board, job.user, this.options.clearsDelete(board), announce);
        written = cleared;
        results = [{ e: cleared.e, s: cleared.s, outcome: cleared.outcome }];
        break;
      }
      case "unclear": {
        const undone = await store.unclear(board, job.user, job.of, announce);
        written = undone;
        results = [{ e: undone.e, s: undone.s, outcome: undone.outcome }];
        break;
      }
    }
    if (written.ops !== "[]") await this.options.replicated?.(board);
    if (written.rotated) this.options.onRotated?.(board, written.e);
    if (written.ops !== "[]") this.options.broadcast(board, written.e, written.ops, announce !== undefined);
    return results;
  }
}

/** Bytes of the operations a call stored (the JSON array without its brackets). */
const opsBytes = (written: Written) => (written.ops === "[]" ? 0 : written.ops.length - 2);
