/**
 * Live cursors, coalesced: each instance keeps the latest position of each of its users per board and sends
 * them to the board (every instance) at most once per interval, as one volatile message. With 750 people on a
 * board that is at most a few messages per second per instance instead of one per pointer move per person,
 * and a client too busy to take it simply misses a frame. Nothing is stored.
 *
 * A message carries at most `maxPerMessage` positions, those waiting longest first; the others wait for the next
 * interval. A crowd all moving at once (250 users on an instance) then costs each client a bounded number of
 * positions per second, and each cursor is updated less often (every few intervals) instead of every client
 * receiving every position of everyone.
 */
import type { CursorUpdate } from "../protocol/events";

export interface CursorRelayOptions {
  /** Least time between two cursor messages of one board from this instance. */
  intervalMs: number;
  /** Most positions in one message. */
  maxPerMessage: number;
  /** Sends the positions to everyone on the board, dropped where a connection is busy. */
  send(board: string, cursors: CursorUpdate[]): void;
}

export class CursorRelay {
  private readonly pending = new Map<string, Map<string, CursorUpdate>>();
  private timer: NodeJS.Timeout | undefined;
  /** Cursor messages sent, for the metrics. */
  sent = 0;

  constructor(private readonly options: CursorRelayOptions) {}

  /** A user of this instance moved their pointer on `board`. */
  moved(board: string, cursor: CursorUpdate): void {
    let positions = this.pending.get(board);
    if (!positions) {
      positions = new Map();
      this.pending.set(board, positions);
    }
    // A user keeps their place in the queue: a position waiting is replaced by the newer one, not sent later.
    positions.set(cursor.u, cursor);
    this.timer ??= setTimeout(() => this.flush(), this.options.intervalMs);
  }

  close(): void {
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    for (const [board, positions] of this.pending) {
      const batch: CursorUpdate[] = [];
      for (const [user, cursor] of positions) {
        if (batch.length === this.options.maxPerMessage) break;
        batch.push(cursor);
        positions.delete(user);
      }
      this.options.send(board, batch);
      this.sent += 1;
      if (positions.size === 0) this.pending.delete(board);
    }
    if (this.pending.size > 0) this.timer = setTimeout(() => this.flush(), this.options.intervalMs);
  }
}
