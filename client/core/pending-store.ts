/**
 * Where the session keeps its writes until the store acknowledges them, so that a reload, a closed tab or a crash
 * loses nothing drawn: each write as it goes on the wire, with its acknowledgement once it has one (an acknowledged
 * element is kept until the board holds it: the store may still lose it, and only its author can send it back).
 *
 * The browser's is IndexedDB (client/app/pending-store.ts); Node scripts and tests use the memory one below.
 */
import type { AppendInput, EditRequest, ElementInput, VisibilityRequest } from "../../protocol/events";

/** A write as sent. */
export type PendingWrite =
  | { kind: "add"; input: ElementInput }
  | { kind: "append"; input: AppendInput }
  | { kind: "erase" | "restore"; input: VisibilityRequest }
  | { kind: "edit"; input: EditRequest };

export interface PendingRecord {
  /** Unique across pages and tabs; sorting by key gives the order the writes were made in (see Outbox). */
  key: string;
  write: PendingWrite;
  /** The seq the store acknowledged it with, and the epoch of the history that seq belongs to. */
  acked?: { s: number; e: string };
}

export interface PendingStore {
  /**
   * Takes over what pages before this one (reloaded, closed, crashed) kept for `board`: never what another page
   * still open keeps (its writes are its own to send). In key order.
   */
  load(board: string): Promise<PendingRecord[]>;
  /** Keeps `record`, replacing the one with its key. */
  put(board: string, record: PendingRecord): void;
  /** Forgets a record: acknowledged and on the board, or refused for good. */
  delete(board: string, key: string): void;
}

/** Keeps nothing past the process: for Node scripts, tests, and browsers without IndexedDB. */
export class MemoryPendingStore implements PendingStore {
  private readonly boards = new Map<string, Map<string, PendingRecord>>();

  load(board: string): Promise<PendingRecord[]> {
    const records = [...(this.boards.get(board)?.values() ?? [])];
    return Promise.resolve(
      records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((record) => structuredClone(record)),
    );
  }

  put(board: string, record: PendingRecord): void {
    let records = this.boards.get(board);
    if (!records) this.boards.set(board, (records = new Map<string, PendingRecord>()));
    // A copy: the outbox goes on changing its own objects.
    records.set(record.key, structuredClone(record));
  }

  delete(board: string, key: string): void {
    this.boards.get(board)?.delete(key);
  }

  /** Every record kept for `board`, for tests. */
  records(board: string): PendingRecord[] {
    return [...(this.boards.get(board)?.values() ?? [])];
  }
}
