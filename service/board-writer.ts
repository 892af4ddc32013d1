/**
 * Coalesces this instance's writes to each board: one store call in flight per board, at most one call of strokes
 * started per `minIntervalMs`, and the strokes that arrive meanwhile go together in the next one, then out in one
 * broadcast. A
 * quiet board adds no delay (its write goes at once); a busy one costs at most one store call and one message per
 * interval (or per round trip to Redis, if longer), however many strokes arrived, which is what bounds the frames
 * every client of a busy board receives: a client that sends one event per pointer sample (60 a second) makes no
 * more frames for the board's other clients than one that batches.
 *
 * Writes run in arrival order. Consecutive strokes go in one call (each still takes its own seq, and is
 * stored before anyone hears of it); any other write runs alone.
 */
import type { StrokeInput } from "../protocol/events";
import {
  strokeBody,
  type AddOutcome,
  type BoardStore,
  type ClearOutcome,
  type UnclearOutcome,
  type Written,
} from "./store/board-store";

export type WriteJob =
  | { kind: "stroke"; user: string; input: StrokeInput }
  | { kind: "visibility"; user: string; changes: readonly (readonly [string, number])[] }
  | { kind: "clear"; user: string }
  | { kind: "unclear"; user: string; of: number };

export type WriteResult =
  | { kind: "stroke"; e: string; outcome: AddOutcome }
  | { kind: "visibility"; e: string; s: number }
  | { kind: "clear"; e: string; s: number; outcome: ClearOutcome }
  | { kind: "unclear"; e: string; s: number; outcome: UnclearOutcome };

export interface BoardWriterOptions {
  store: BoardStore;
  /** Sends what a store call stored (a JSON array of BoardOp) to everyone on the board, on every instance. */
  broadcast(board: string, e: string, ops: string): void;
  /** A store call gave the board a new epoch (new board, or a store that may have lost writes). */
  onRotated?(board: string, e: string): void;
  /** Most strokes in one store call. */
  maxBatch: number;
  /** Least time between the starts of two store calls of one board; 0: each call as soon as the last one ends. */
  minIntervalMs: number;
  /** True while clears of `board` should delete at once rather than keep strokes for an undo (its store is nearly full). */
  clearsDelete(board: string): boolean;
  /** Resolves once the writes made so far to `board` are on its replicas (REDIS_WAIT_REPLICAS); absent: acknowledge at once. */
  replicated?(board: string): Promise<unknown>;
}

interface Queued {
  job: WriteJob;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

export class BoardWriter {
  private readonly queues = new Map<string, Queued[]>();
  /** Store calls made and strokes they carried, for the metrics. */
  readonly counters = { calls: 0, strokes: 0 };

  constructor(private readonly options: BoardWriterOptions) {}

  write(board: string, job: WriteJob): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(board);
      if (queue) {
        queue.push({ job, resolve, reject });
        return;
      }
      this.queues.set(board, [{ job, resolve, reject }]);
      void this.drain(board);
    });
  }

  private async drain(board: string): Promise<void> {
    const queue = this.queues.get(board) as Queued[];
    // The board stays busy until its interval is over, so that writes arriving meanwhile wait and go together.
    while (queue.length > 0) {
      const started = Date.now();
      const batch = this.takeBatch(queue);
      try {
        const results = await this.run(
          board,
          batch.map((queued) => queued.job),
        );
        batch.forEach((queued, index) => queued.resolve(results[index] as WriteResult));
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
      // Strokes come at pointer rate and are what the interval bounds; an erase, a restore or a clear goes at once.
      const rest = started + this.options.minIntervalMs - Date.now();
      if (rest > 0 && batch[0]?.job.kind === "stroke" && (queue.length === 0 || queue[0]?.job.kind === "stroke")) {
        await new Promise((resolve) => setTimeout(resolve, rest));
      }
    }
    this.queues.delete(board);
  }

  private takeBatch(queue: Queued[]): Queued[] {
    if (queue[0]?.job.kind !== "stroke") return queue.splice(0, 1);
    let count = 1;
    while (count < queue.length && count < this.options.maxBatch && queue[count]?.job.kind === "stroke") count += 1;
    return queue.splice(0, count);
  }

  private async run(board: string, jobs: readonly WriteJob[]): Promise<WriteResult[]> {
    const { store } = this.options;
    const first = jobs[0] as WriteJob;
    this.counters.calls += 1;
    let written: Written;
    let results: WriteResult[];
    switch (first.kind) {
      case "stroke": {
        const strokes = jobs as Extract<WriteJob, { kind: "stroke" }>[];
        this.counters.strokes += strokes.length;
        const added = await store.addStrokes(
          board,
          first.user,
          strokes.map(({ input, user }) => ({
            id: input.id,
            body: strokeBody(input, input.u ?? user),
            v: input.v ?? 0,
          })),
        );
        written = added;
        results = added.outcomes.map((outcome) => ({ kind: "stroke", e: added.e, outcome }));
        break;
      }
      case "visibility":
        written = await store.setVisibility(board, first.user, first.changes);
        results = [{ kind: "visibility", e: written.e, s: written.s }];
        break;
      case "clear": {
        const cleared = await store.clear(board, first.user, this.options.clearsDelete(board));
        written = cleared;
        results = [{ kind: "clear", e: cleared.e, s: cleared.s, outcome: cleared.outcome }];
        break;
      }
      case "unclear": {
        const undone = await store.unclear(board, first.user, first.of);
        written = undone;
        results = [{ kind: "unclear", e: undone.e, s: undone.s, outcome: undone.outcome }];
        break;
      }
    }
    if (written.ops !== "[]") await this.options.replicated?.(board);
    if (written.rotated) this.options.onRotated?.(board, written.e);
    if (written.ops !== "[]") this.options.broadcast(board, written.e, written.ops);
    return results;
  }
}
