/**
 * The service as sessions see it, in memory, over the memory store: joins (protocol version, user ids derived from
 * keys, edit rights from the edit key), catch-up reads, writes answered as the service answers them and their
 * operations broadcast to every joined connection. Each connection is one ordered stream each way, as a WebSocket
 * is; nothing moves until the test says so (`step`, `drain`), so a test decides how requests, answers and
 * broadcasts of many connections interleave, when connections drop, and when the store restarts from an earlier
 * state (losing its last writes, with a new epoch).
 */
import type { Transport, TransportEvents, AnswerOf, RequestName, RequestOf } from "../../client/core/transport";
import type { BoardOp, ElementTuple, ErrorCode, SyncAck, WriteAck, You } from "../../protocol/events";
import { NO_EPOCH, PROTOCOL_VERSION } from "../../protocol/events";
import { boardIdOf, userIdOf } from "../../service/identity";
import type { DrawOutcome, ReadResult, Written } from "../../service/store/board-store";
import type { SavedBoards } from "../../service/store/memory-board-store";
import { LIMITS, StoreBoard } from "./store-board";

const fail = (code: ErrorCode, error: string = code): { ok: false; code: ErrorCode; error: string } => ({
  ok: false,
  code,
  error,
});

function drawAck(written: Written & { outcomes: DrawOutcome[] }): WriteAck {
  const outcome = written.outcomes[0] as DrawOutcome;
  switch (outcome.kind) {
    case "stored":
    case "duplicate":
      return { ok: true, s: outcome.s, e: written.e };
    case "full":
      return fail("board_full");
    case "out_of_order":
      return { ...fail("out_of_order"), e: written.e };
    default:
      return fail(outcome.kind);
  }
}

function syncAck(board: string, result: ReadResult, you?: You): SyncAck {
  const head = {
    ok: true as const,
    board,
    e: result.e,
    s: result.s,
    ...(result.base !== undefined ? { base: result.base } : {}),
    ...(you ? { you } : {}),
  };
  if ("ops" in result) return { ...head, ops: JSON.parse(result.ops) as BoardOp[] };
  const { k, next } = result.snapshot;
  return {
    ...head,
    snapshot: {
      k,
      records: JSON.parse(result.snapshot.records) as ElementTuple[],
      ...(next !== undefined ? { next } : {}),
    },
  };
}

export class FakeService {
  /** The board every connection joins (its id derived from the edit key, as a real board's is). */
  readonly editKey = "edit-key-of-the-test-board";
  readonly boardId = boardIdOf(this.editKey);
  private generation = 1;
  readonly board = new StoreBoard(this.boardId, LIMITS, { generation: () => `generation-${this.generation}` });
  readonly links = new Set<Link>();
  /** Every operation broadcast, in the order stored, whatever its epoch. */
  readonly history: BoardOp[] = [];

  /** A transport for a new session. */
  transport(): Link {
    const link = new Link();
    this.links.add(link);
    return link;
  }

  /** What the store holds now, to go back to later. */
  save(): SavedBoards {
    return this.board.store.saved();
  }

  /** The store restarts from `saved` (an older snapshot): it lost what came after, and its boards take new epochs. */
  restart(saved: SavedBoards): void {
    this.board.store.restore(saved);
    this.generation += 1;
  }

  /** The board's current epoch. */
  epoch(): string {
    return this.save().get(this.boardId)?.e ?? NO_EPOCH;
  }

  /** The operations of the board's current history still in its log, in seq order. */
  log(): BoardOp[] {
    return (this.save().get(this.boardId)?.log ?? []).map((entry) => JSON.parse(entry) as BoardOp);
  }

  /** The seqs at which the board's earlier epochs ended: where its history may have lost what followed. */
  bases(): number[] {
    return (this.save().get(this.boardId)?.chain ?? []).map(([, base]) => base);
  }

  /** Every connected link's next thing to do: process a request, or deliver a message. */
  steps(): (() => Promise<void>)[] {
    const steps: (() => Promise<void>)[] = [];
    for (const link of this.links) {
      if (!link.open) continue;
      if (link.inbound.length > 0) steps.push(() => this.process(link));
      if (link.outbound.length > 0) steps.push(() => Promise.resolve(link.deliver()));
    }
    return steps;
  }

  /** Runs everything waiting until nothing is left (new requests made meanwhile included). */
  async drain(limit = 10_000): Promise<void> {
    for (let count = 0; count < limit; count += 1) {
      const [step] = this.steps();
      if (!step) return;
      await step();
    }
    throw new Error("the fake service did not settle");
  }

  /** Sends every joined connection the board's head, as the service does every few seconds. */
  async heads(): Promise<void> {
    const head = await this.board.store.presence(this.boardId, "instance", undefined);
    for (const link of this.links) if (link.joined) link.push((events) => events.head({ e: head.e, s: head.s }));
  }

  private broadcast(written: Written): void {
    const ops = JSON.parse(written.ops) as BoardOp[];
    if (ops.length === 0) return;
    this.history.push(...ops);
    for (const link of this.links) if (link.joined) link.push((events) => events.ops({ e: written.e, ops }));
  }

  private async process(link: Link): Promise<void> {
    const request = link.inbound.shift();
    if (!request) return;
    const answer = await this.answer(link, request.name, request.payload);
    link.outbound.push(() => request.answer(answer));
  }

  private async answer(link: Link, name: RequestName, payload: unknown): Promise<unknown> {
    const store = this.board.store;
    const board = this.boardId;
    if (name === "join") {
      const join = payload as RequestOf<"join">;
      if (join.pv !== PROTOCOL_VERSION) return fail("outdated");
      const you = { id: userIdOf(join.user.key), name: join.user.name, edit: join.edit === this.editKey };
      link.you = you;
      link.joined = true;
      return syncAck(board, await store.read(board, { e: join.e, after: join.after }), you);
    }
    const you = link.you;
    if (!you) return fail("not_joined");
    if (name === "read") return syncAck(board, await store.read(board, payload as RequestOf<"read">));
    if (!you.edit) return fail("forbidden");
    let ack: WriteAck;
    let written: Written;
    switch (name) {
      case "add":
      case "append": {
        const result =
          name === "add"
            ? await store.draw(board, [{ kind: "add", user: you.id, element: payload as RequestOf<"add"> }])
            : await store.draw(board, [{ kind: "append", user: you.id, points: payload as RequestOf<"append"> }]);
        [ack, written] = [drawAck(result), result];
        break;
      }
      case "erase":
      case "restore":
        written = await store.setVisibility(board, you.id, (payload as RequestOf<"erase">).ids, name === "restore");
        ack = { ok: true, s: written.s, e: written.e };
        break;
      case "edit": {
        const result = await store.edit(board, you.id, (payload as RequestOf<"edit">).x);
        written = result;
        const { outcome } = result;
        ack =
          outcome.kind === "full"
            ? fail("board_full")
            : outcome.kind === "invalid"
              ? fail("invalid", outcome.reason)
              : { ok: true, s: result.s, e: result.e };
        break;
      }
      case "clear": {
        const result = await store.clear(board, you.id);
        written = result;
        ack = result.outcome === "rate_limited" ? fail("rate_limited") : { ok: true, s: result.s, e: result.e };
        break;
      }
      case "unclear": {
        const result = await store.unclear(board, you.id, (payload as RequestOf<"unclear">).of);
        written = result;
        ack = result.outcome === "stored" ? { ok: true, s: result.s, e: result.e } : fail(result.outcome);
        break;
      }
      default:
        return fail("invalid");
    }
    this.broadcast(written);
    return ack;
  }
}

interface Queued {
  name: RequestName;
  payload: unknown;
  answer(response: unknown): void;
}

/** One session's connection to the fake service: a Transport. */
export class Link implements Transport {
  private events: TransportEvents | undefined;
  open = false;
  joined = false;
  you: You | undefined;
  /** Requests the service has not processed yet, in order. */
  readonly inbound: Queued[] = [];
  /** Answers and pushed events not delivered yet, in order. */
  readonly outbound: (() => void)[] = [];
  reconnects = 0;
  closed = false;

  start(events: TransportEvents): void {
    this.events = events;
  }

  request<K extends RequestName>(
    name: K,
    payload: RequestOf<K>,
    _timeoutMs: number,
    answer: (response: AnswerOf<K> | undefined) => void,
  ): void {
    if (!this.open) return;
    this.inbound.push({
      name,
      payload: structuredClone(payload),
      answer: (response) => answer(response as AnswerOf<K>),
    });
  }

  cursor(): void {
    // Cursors are not stored and change nothing on the board: not modelled.
  }

  reconnect(): void {
    this.reconnects += 1;
    this.drop();
    this.connect();
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  /** The connection opens. */
  connect(): void {
    if (this.open || this.closed) return;
    this.open = true;
    this.events?.connected();
  }

  /** The connection drops: everything in flight either way is lost. */
  drop(): void {
    if (!this.open) return;
    this.open = false;
    this.joined = false;
    this.you = undefined;
    this.inbound.splice(0);
    this.outbound.splice(0);
    this.events?.disconnected();
  }

  push(message: (events: TransportEvents) => void): void {
    this.outbound.push(() => {
      if (this.events) message(this.events);
    });
  }

  deliver(): void {
    this.outbound.shift()?.();
  }
}
