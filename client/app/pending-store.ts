/**
 * The browser's PendingStore (client/core/pending-store.ts): writes the store has not acknowledged yet, kept in
 * IndexedDB so that a reload, a closed tab or a crashed browser loses nothing drawn; the next page opened on the board
 * sends them (docs/client.md, "Persistence").
 *
 * Plain IndexedDB rather than the `idb` wrapper: this module needs one object store, `put` and `delete` batched into
 * one transaction per task, and one `getAll`; idb would add a dependency to wrap three requests in promises.
 *
 * Several tabs may be open on one board, each with writes of its own in flight: a page takes over only the records of
 * pages that are gone. Each page holds a Web Lock named after it for as long as it lives (the browser releases it when
 * the page goes, however it goes), and claims, under one more lock so two pages never claim the same records, the
 * records whose page holds no lock any more.
 */
import type { PendingRecord, PendingStore } from "../core/pending-store";
import { randomId } from "../../protocol/random-id";

const DATABASE = "whiteboard";
const STORE = "pending";
const VERSION = 1;
const PAGE_LOCK = "whiteboard-page:";
const CLAIM_LOCK = "whiteboard-pending-claim";

/** A record as kept: with its board and the page that keeps it now. */
interface Row {
  board: string;
  key: string;
  owner: string;
  record: PendingRecord;
}

const done = (request: IDBRequest | IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    if (request instanceof IDBTransaction) {
      request.oncomplete = () => resolve();
      request.onerror = request.onabort = () => reject(request.error ?? new Error("transaction aborted"));
    } else {
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error("request failed"));
    }
  });

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: ["board", "key"] });
      store.createIndex("board", "board");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB did not open"));
  });
}

export class IndexedDbPendingStore implements PendingStore {
  /** This page, as the owner of what it keeps. */
  private readonly owner = `${Date.now().toString(36)}-${randomId(9)}`;
  private readonly database: Promise<IDBDatabase | undefined>;
  /** Puts and deletes not written yet (null: delete), by board and key; written together at the end of the task. */
  private readonly waiting = new Map<string, { board: string; key: string; row: Row | null }>();
  private flushing = false;

  constructor(private readonly onError: (error: unknown) => void = () => undefined) {
    // Held until the page goes: other pages see from it that this one's records are not theirs to take.
    void navigator.locks?.request(PAGE_LOCK + this.owner, () => new Promise<never>(() => undefined));
    this.database = open().catch((error: unknown) => {
      // No IndexedDB (a private window in some browsers): the writes live as long as the page, as in memory.
      this.onError(error);
      return undefined;
    });
  }

  async load(board: string): Promise<PendingRecord[]> {
    const database = await this.database;
    if (!database) return [];
    const claim = () => this.claim(database, board);
    // lib.dom types what navigator.locks.request resolves with as `any`: it is what the callback resolves with.
    const rows = navigator.locks ? ((await navigator.locks.request(CLAIM_LOCK, claim)) as Row[]) : await claim();
    return rows.map((row) => row.record).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  put(board: string, record: PendingRecord): void {
    this.queue(board, record.key, { board, key: record.key, owner: this.owner, record });
  }

  delete(board: string, key: string): void {
    this.queue(board, key, null);
  }

  /** The board's records whose pages are gone, made this page's. */
  private async claim(database: IDBDatabase, board: string): Promise<Row[]> {
    const alive = new Set(
      ((await navigator.locks?.query())?.held ?? []).flatMap(({ name }) =>
        name?.startsWith(PAGE_LOCK) ? [name.slice(PAGE_LOCK.length)] : [],
      ),
    );
    const transaction = database.transaction(STORE, "readwrite");
    const store = transaction.objectStore(STORE);
    const request = store.index("board").getAll(board) as IDBRequest<Row[]>;
    await done(request);
    const orphans = request.result.filter((row) => row.owner !== this.owner && !alive.has(row.owner));
    for (const row of orphans) store.put({ ...row, owner: this.owner });
    await done(transaction);
    return orphans;
  }

  private queue(board: string, key: string, row: Row | null): void {
    this.waiting.set(`${board}\u0000${key}`, { board, key, row });
    if (this.flushing) return;
    this.flushing = true;
    // Every change of one task (a pointer event adds samples to a write, a send marks several) in one transaction.
    queueMicrotask(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const database = await this.database;
    const batch = [...this.waiting.values()];
    this.waiting.clear();
    this.flushing = false;
    if (!database || batch.length === 0) return;
    try {
      const transaction = database.transaction(STORE, "readwrite");
      const store = transaction.objectStore(STORE);
      for (const { board, key, row } of batch) {
        if (row) store.put(row);
        else store.delete([board, key]);
      }
      await done(transaction);
    } catch (error) {
      // Storage full or revoked: the writes still go to the service from memory; only a reload would lose them.
      this.onError(error);
    }
  }
}
