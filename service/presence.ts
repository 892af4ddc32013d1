/**
 * Presence across instances, and the periodic `head` that lets clients notice a lost broadcast.
 *
 * Each instance writes its own client count per board into Redis (an entry that expires unless refreshed,
 * so a killed instance's clients stop counting within ENTRY_TTL_MS) and tells the other instances, which
 * re-read the total and push it to their own clients of that board. Updates are coalesced per board, so a
 * reconnect storm costs a handful of Redis calls, not one per socket.
 */
import type { Logger } from "./logger";
import type { BoardStore } from "./store/board-store";

/** How often every instance refreshes its entries, re-reads totals and sends `head`. */
const HEARTBEAT_MS = 5_000;
const ENTRY_TTL_MS = 3 * HEARTBEAT_MS;
const COALESCE_MS = 50;

export interface PresenceHooks {
  /** Clients of `board` on this instance. */
  localCount(board: string): number;
  /** Boards with at least one client on this instance. */
  localBoards(): Iterable<string>;
  /** Sends `presence` to this instance's clients of `board` only. */
  emitPresence(board: string, count: number): void;
  /** Sends `head` to this instance's clients of `board` only. */
  emitHead(board: string, e: string, s: number): void;
  /** Asks every other instance to call `remoteChanged(board)`. */
  notifyOthers(board: string): void;
}

export class Presence {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Boards whose local count changed since the last write (the others only need reading). */
  private readonly dirty = new Set<string>();
  /** The last count sent to this instance's clients of each board. */
  private readonly sent = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly store: BoardStore,
    private readonly instanceId: string,
    private readonly hooks: PresenceHooks,
    private readonly logger: Logger,
  ) {
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** A client of this instance joined or left `board`. */
  localChanged(board: string): void {
    this.dirty.add(board);
    // A newcomer has no count yet: forget what was sent so the next total goes out even if unchanged.
    this.sent.delete(board);
    this.schedule(board);
  }

  /** Another instance's count for `board` changed. */
  remoteChanged(board: string): void {
    if (this.hooks.localCount(board) > 0) this.schedule(board);
  }

  /** Removes this instance's entries at once (on shutdown) instead of letting them expire. */
  async withdraw(boards: Iterable<string>): Promise<void> {
    clearInterval(this.heartbeat);
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await Promise.allSettled(
      [...boards].map(async (board) => {
        await this.store.presence(board, this.instanceId, 0, ENTRY_TTL_MS);
        this.hooks.notifyOthers(board);
      }),
    );
  }

  private schedule(board: string): void {
    if (this.pending.has(board)) return;
    const timer = setTimeout(() => {
      this.pending.delete(board);
      void this.sync(board, "change");
    }, COALESCE_MS);
    this.pending.set(board, timer);
  }

  private async sync(board: string, reason: "change" | "heartbeat"): Promise<void> {
    const write = this.dirty.delete(board);
    const localCount = this.hooks.localCount(board);
    try {
      const { count, s, e } = await this.store.presence(
        board,
        this.instanceId,
        write ? localCount : undefined,
        ENTRY_TTL_MS,
      );
      if (write && reason === "change") this.hooks.notifyOthers(board);
      if (localCount === 0) {
        this.sent.delete(board);
        return;
      }
      if (this.sent.get(board) !== count) {
        this.sent.set(board, count);
        this.hooks.emitPresence(board, count);
      }
      if (reason === "heartbeat") this.hooks.emitHead(board, e, s);
    } catch (error) {
      if (write) this.dirty.add(board); // retried at the next heartbeat
      this.logger.debug({ board, error: (error as Error).message }, "presence update failed");
    }
  }

  private beat(): void {
    for (const board of this.hooks.localBoards()) {
      this.dirty.add(board); // refresh this instance's entry before it expires
      void this.sync(board, "heartbeat");
    }
    // Boards this instance left while Redis was unreachable still need their entry removed.
    for (const board of this.dirty) {
      if (this.hooks.localCount(board) === 0) void this.sync(board, "change");
    }
  }
}
