/**
 * Paces the `ops` frames each board's clients receive on this instance, whatever instance stored the operations. Each
 * board has a budget of frames, one per interval, of which it may save up BURST: while it has a frame left, what
 * arrives goes out at once (at the end of the turn of the event loop, together with whatever else arrived in it);
 * once it has none, what arrives, from this instance's writer or from any other instance, waits for the next frame
 * and goes out with everything else that waited. So a client gets about one `ops` frame per interval per board
 * however many instances have drawers, a quiet board's operations go at once, and one writer whose store calls come
 * one interval apart (as the board writer's do) is never held back: a timer that fires a little late, here or there,
 * is absorbed by the saved frame instead of delaying every frame that follows.
 *
 * A frame merges batches without parsing them: each batch is a JSON array of operations from one store call, whose
 * seqs are consecutive (a store call is atomic), so ordering the batches by their first seq orders the operations.
 * Batches of another epoch (the store changed the board's epoch in between: rare) go in a frame of their own.
 */

export interface FramePacerOptions {
  /** Least time between two frames of one board; 0 sends every turn's operations at once. */
  intervalMs: number;
  /** Writes one frame to the board's sockets on this instance: `ops` is a JSON array of operations. */
  send(room: string, e: string, ops: string): void;
}

interface Batch {
  e: string;
  ops: string;
  seq: number;
}

interface Pacing {
  pending: Batch[];
  /** Frames the board may send now (up to BURST), as of `updatedAt`. */
  frames: number;
  updatedAt: number;
  /** A flush is scheduled: at the end of this turn, or once a frame is available. */
  scheduled: boolean;
}

/** Frames a quiet board may save up. */
export const BURST = 2;
/** How often boards that are quiet again are forgotten. */
const SWEEP_MS = 10_000;

/**
 * The first operation's seq. Operations are objects whose first `"s":` key is their seq: the store writes no other
 * key named `s` and no string holding a quote, so the first match is the first operation's.
 */
const FIRST_SEQ = /"s":(\d+)/;

export function firstSeq(ops: string): number {
  const match = FIRST_SEQ.exec(ops);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

export class FramePacer {
  private readonly rooms = new Map<string, Pacing>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly options: FramePacerOptions) {
    this.sweep = setInterval(() => {
      for (const [room, pacing] of this.rooms) {
        if (!pacing.scheduled && this.available(pacing) >= BURST) this.rooms.delete(room);
      }
    }, SWEEP_MS);
    this.sweep.unref();
  }

  /** Operations stored on the board of `room` (by this instance or another), to send to its sockets here. */
  push(room: string, e: string, ops: string): void {
    if (ops === "[]") return;
    let pacing = this.rooms.get(room);
    if (!pacing) {
      pacing = { pending: [], frames: BURST, updatedAt: performance.now(), scheduled: false };
      this.rooms.set(room, pacing);
    }
    pacing.pending.push({ e, ops, seq: firstSeq(ops) });
    this.schedule(room, pacing);
  }

  /** Drops what waits (the instance is stopping). */
  close(): void {
    clearInterval(this.sweep);
    for (const pacing of this.rooms.values()) pacing.pending = [];
  }

  /** Frames the board may send now. */
  private available(pacing: Pacing): number {
    const { intervalMs } = this.options;
    if (intervalMs === 0) return BURST;
    const now = performance.now();
    pacing.frames = Math.min(BURST, pacing.frames + (now - pacing.updatedAt) / intervalMs);
    pacing.updatedAt = now;
    return pacing.frames;
  }

  private schedule(room: string, pacing: Pacing): void {
    if (pacing.scheduled) return;
    pacing.scheduled = true;
    const wait = (1 - this.available(pacing)) * this.options.intervalMs;
    if (wait <= 0) setImmediate(() => this.flush(room, pacing));
    else setTimeout(() => this.flush(room, pacing), wait);
  }

  private flush(room: string, pacing: Pacing): void {
    pacing.scheduled = false;
    const batches = pacing.pending;
    pacing.pending = [];
    if (batches.length === 0) return;
    this.available(pacing);
    pacing.frames -= 1;
    for (const [e, sameEpoch] of byEpoch(batches)) this.options.send(room, e, merge(sameEpoch));
  }
}

/** Batches grouped by epoch, epochs in the order they first arrived. */
function byEpoch(batches: Batch[]): Map<string, Batch[]> {
  const groups = new Map<string, Batch[]>();
  for (const batch of batches) {
    const group = groups.get(batch.e);
    if (group) group.push(batch);
    else groups.set(batch.e, [batch]);
  }
  return groups;
}

/** One JSON array of every batch's operations, in seq order. */
function merge(batches: Batch[]): string {
  if (batches.length === 1) return (batches[0] as Batch).ops;
  batches.sort((a, b) => a.seq - b.seq || 0);
  return `[${batches.map((batch) => batch.ops.slice(1, -1)).join(",")}]`;
}
