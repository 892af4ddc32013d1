/**
 * Live cursors, coalesced: each instance keeps the latest position of each of its users per board and sends
 * them to the board (every instance) at most once per interval, as one volatile message. With 750 people on a
 * board that is at most a few messages per second per instance instead of one per pointer move per person,
 * and a client too busy to take it simply misses a frame. Nothing is stored.
 */
import type { CursorUpdate } from "../protocol/events";

export interface CursorRelayOptions {
  /** Least time between two cursor messages of one board from this instance. */
  intervalMs: number;
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
      this.options.send(board, [...positions.values()]);
      this.sent += 1;
    }
    this.pending.clear();
  }
}
