/**
 * Live cursors, coalesced: each instance keeps the latest position of each user per board (by the board's room), its
 * own users' and those other instances send it, and writes them to the board's sockets here at most once per
 * interval, as one volatile message; its own users' positions go to the other instances at most once per interval
 * too. So a client gets one
 * cursor message per interval however many instances its board's users are on, and a client too busy to take it
 * simply misses a frame. Nothing is stored.
 *
 * A message carries at most `maxPerMessage` positions, those waiting longest first; the others wait for the next
 * interval. A crowd all moving at once then costs each client a bounded number of positions per second, and each
 * cursor is updated less often (every few intervals) instead of every client receiving every position of everyone.
 */
import type { CursorUpdate } from "../protocol/events";

export interface CursorRelayOptions {
  /** Least time between two cursor messages of one room, to its sockets here and to the other instances. */
  intervalMs: number;
  /** Most positions in one message. */
  maxPerMessage: number;
  /** Writes positions to the board's sockets on this instance, dropped where a connection is busy. */
  emit(room: string, cursors: CursorUpdate[]): void;
  /** Sends this instance's users' positions to the other instances on the board. */
  publish(room: string, cursors: CursorUpdate[]): void;
}

/** Positions waiting, by user: a Map keeps a user's place in line when their position is replaced. */
type Waiting = Map<string, CursorUpdate>;

export class CursorRelay {
  /** Per room: what waits to be written here, and (of this instance's users) to be sent to the others. */
  private readonly pending = new Map<string, { shown: Waiting; published: Waiting }>();
  private timer: NodeJS.Timeout | undefined;
  /** Cursor messages written to boards here, for the metrics. */
  sent = 0;

  constructor(private readonly options: CursorRelayOptions) {}

  /** A user of this instance moved their pointer on the board of `room`. */
  moved(room: string, cursor: CursorUpdate): void {
    const waiting = this.waiting(room);
    waiting.shown.set(cursor.u, cursor);
    waiting.published.set(cursor.u, cursor);
    this.schedule();
  }

  /** Another instance's users moved their pointers on the board of `room`. */
  received(room: string, cursors: readonly CursorUpdate[]): void {
    const { shown } = this.waiting(room);
    for (const cursor of cursors) shown.set(cursor.u, cursor);
    this.schedule();
  }

  close(): void {
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private waiting(room: string): { shown: Waiting; published: Waiting } {
    let waiting = this.pending.get(room);
    if (!waiting) {
      waiting = { shown: new Map(), published: new Map() };
      this.pending.set(room, waiting);
    }
    return waiting;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), this.options.intervalMs);
  }

  private flush(): void {
    this.timer = undefined;
    for (const [room, { shown, published }] of this.pending) {
      if (shown.size > 0) {
        this.options.emit(room, this.take(shown));
        this.sent += 1;
      }
      if (published.size > 0) this.options.publish(room, this.take(published));
      if (shown.size === 0 && published.size === 0) this.pending.delete(room);
    }
    if (this.pending.size > 0) this.schedule();
  }

  /** The `maxPerMessage` positions waiting longest, taken out of line. */
  private take(waiting: Waiting): CursorUpdate[] {
    const batch: CursorUpdate[] = [];
    for (const [user, cursor] of waiting) {
      if (batch.length === this.options.maxPerMessage) break;
      batch.push(cursor);
      waiting.delete(user);
    }
    return batch;
  }
}
