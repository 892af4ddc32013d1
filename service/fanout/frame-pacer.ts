/**
 * Paces the `ops` frames each board's clients receive on this instance, whatever instance stored the operations:
 * a quiet board's operations go out at once (in the same turn of the event loop, together with whatever else arrived
 * in it), and then the board cools down for one interval, during which what arrives, from this instance's writer or
 * from any other instance, waits and goes out as one frame at its end. So a client gets at most one `ops` frame per
 * interval per board, however many instances have drawers, and a board that is quiet for an interval adds no delay.
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
  /** A flush is scheduled: at the end of this turn, or at the end of the cooldown. */
  scheduled: boolean;
}

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

  constructor(private readonly options: FramePacerOptions) {}

  /** Operations stored on the board of `room` (by this instance or another), to send to its sockets here. */
  push(room: string, e: string, ops: string): void {
    if (ops === "[]") return;
    let pacing = this.rooms.get(room);
    if (!pacing) {
      pacing = { pending: [], scheduled: false };
      this.rooms.set(room, pacing);
    }
    pacing.pending.push({ e, ops, seq: firstSeq(ops) });
    if (pacing.scheduled) return;
    pacing.scheduled = true;
    setImmediate(() => this.flush(room, pacing));
  }

  /** Drops what waits (the instance is stopping). */
  close(): void {
    for (const pacing of this.rooms.values()) pacing.pending = [];
  }

  private flush(room: string, pacing: Pacing): void {
    if (pacing.pending.length === 0) {
      // A whole interval without operations: the board is quiet again, and its next operations go at once.
      this.rooms.delete(room);
      return;
    }
    const batches = pacing.pending;
    pacing.pending = [];
    for (const [e, sameEpoch] of byEpoch(batches)) {
      this.options.send(room, e, merge(sameEpoch));
    }
    if (this.options.intervalMs === 0) {
      pacing.scheduled = false;
      this.rooms.delete(room);
      return;
    }
    setTimeout(() => this.flush(room, pacing), this.options.intervalMs);
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
