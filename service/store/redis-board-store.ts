/**
 * Boards in Redis, for any number of instances: one Lua script per operation (./redis-scripts.ts), so one round trip
 * each, and every write atomic.
 */
import type { AppendInput, ElementInput } from "../../protocol/events";
import {
  newEpoch,
  type Announcement,
  StorageFullError,
  type BoardLimits,
  type BoardStore,
  type ClearOutcome,
  type DrawItem,
  type DrawOutcome,
  type EditItem,
  type EditOutcome,
  type ReadRequest,
  type ReadResult,
  type UnclearOutcome,
  type Written,
} from "./board-store";
import { boardKeys, DRAWN, presenceKey, STATUS, type BoardScriptRunner } from "./redis-scripts";

type Reply = readonly (string | number)[];

export interface RedisStoreOptions {
  now?: () => number;
  /**
   * The store generation the scripts compare each board's with: the replication id of the server the next script
   * runs on (./replication-id.ts), or "" to let each script read it itself (a Redis Cluster).
   */
  generation: () => Promise<string>;
}

export class RedisBoardStore implements BoardStore {
  private readonly now: () => number;

  constructor(
    private readonly redis: BoardScriptRunner,
    private readonly limits: BoardLimits,
    private readonly options: RedisStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async draw(board: string, items: readonly DrawItem[], announce?: Announcement) {
    const { maxElements, maxBytes, appendReserveBytes, maxLineBytes, pageBytes, logBytes } = this.limits;
    const args = items.flatMap((item) =>
      item.kind === "add" ? addArgs(item.user, item.element) : appendArgs(item.user, item.points),
    );
    const reply = await this.run(
      "wbDraw",
      board,
      [...[maxElements, maxBytes, appendReserveBytes, maxLineBytes, pageBytes, logBytes], ...args],
      announce,
    );
    const outcomes: DrawOutcome[] = [];
    for (let index = 4; index < reply.length; index += 3) {
      outcomes.push(drawOutcome(Number(reply[index]), Number(reply[index + 1]), Number(reply[index + 2])));
    }
    return { ...written(reply), outcomes };
  }

  async setVisibility(
    board: string,
    user: string,
    ids: readonly string[],
    show: boolean,
    announce?: Announcement,
  ): Promise<Written> {
    const { pageBytes, logBytes } = this.limits;
    return written(
      await this.run("wbSetVisibility", board, [pageBytes, logBytes, user, show ? 1 : 0, ...ids], announce),
    );
  }

  async edit(board: string, user: string, items: readonly EditItem[], announce?: Announcement) {
    const { maxBytes, appendReserveBytes, logBytes } = this.limits;
    const reply = await this.run(
      "wbEdit",
      board,
      [...[maxBytes, appendReserveBytes, logBytes, user], JSON.stringify(items)],
      announce,
    );
    const status = Number(reply[4]);
    const outcome: EditOutcome =
      status === STATUS.stored
        ? { kind: "stored" }
        : status === STATUS.full
          ? { kind: "full" }
          : status === STATUS.invalid
            ? { kind: "invalid", index: Number(reply[5]), reason: String(reply[6]) }
            : { kind: "unchanged" };
    return { ...written(reply), outcome };
  }

  async clear(board: string, user: string, hard = false, announce?: Announcement) {
    const { logBytes, clearIntervalMs, undoClearMs } = this.limits;
    const args = [logBytes, user, clearIntervalMs, undoClearMs, hard ? 1 : 0];
    const reply = await this.run("wbClear", board, args, announce);
    const status = Number(reply[4]);
    const outcome: ClearOutcome =
      status === STATUS.rateLimited ? "rate_limited" : status === STATUS.stored ? "stored" : "unchanged";
    return { ...written(reply), outcome };
  }

  async unclear(board: string, user: string, of: number, announce?: Announcement) {
    const { logBytes, clearIntervalMs } = this.limits;
    const reply = await this.run("wbUnclear", board, [logBytes, user, of, clearIntervalMs], announce);
    const status = Number(reply[4]);
    const outcome: UnclearOutcome =
      status === STATUS.rateLimited ? "rate_limited" : status === STATUS.stored ? "stored" : "gone";
    return { ...written(reply), outcome };
  }

  async read(board: string, request: ReadRequest): Promise<ReadResult> {
    const { readBytes, firstReadBytes } = this.limits;
    const reply = await this.run("wbRead", board, [
      request.e ?? "",
      request.after ?? request.at ?? "",
      request.cursor ?? 0,
      request.cursor ? readBytes : Math.min(readBytes, firstReadBytes ?? Infinity),
    ]);
    const base = Number(reply[3]);
    const head = {
      e: String(reply[0]),
      s: Number(reply[1]),
      rotated: reply[2] === 1,
      ...(base >= 0 ? { base } : {}),
    };
    if (reply[4] === "ops") return { ...head, ops: String(reply[5]) };
    const k: Record<string, number> = {};
    const texts: string[] = [];
    for (let index = 6; index < reply.length; index += 3) {
      k[String(reply[index])] = Number(reply[index + 1]);
      texts.push(String(reply[index + 2]));
    }
    const next = Number(reply[5]);
    return { ...head, snapshot: { k, records: `[${texts.join(",")}]`, ...(next > 0 ? { next } : {}) } };
  }

  async presence(board: string, instanceId: string, localCount: number | undefined, entryTtlMs: number) {
    const { idleTtlSeconds } = this.limits;
    const generation = await this.options.generation();
    const reply = (await this.redis.wbPresence(
      [...boardKeys(board), presenceKey(board)],
      [newEpoch(), generation, this.now(), idleTtlSeconds, "", "", instanceId, localCount ?? "", entryTtlMs],
    )) as Reply;
    return { count: Number(reply[0]), s: Number(reply[1]), e: String(reply[2]) };
  }

  /** Runs a board script with the arguments every one takes first (see ./redis-scripts.ts). */
  private async run(
    name: Exclude<keyof BoardScriptRunner, "wbPresence">,
    board: string,
    args: readonly (string | number)[],
    announce?: Announcement,
  ): Promise<Reply> {
    // The script must be sent right after the generation is known, with no I/O in between: see ./replication-id.ts.
    const generation = await this.options.generation();
    try {
      return (await this.redis[name](boardKeys(board), [
        newEpoch(),
        generation,
        this.now(),
        this.limits.idleTtlSeconds,
        announce?.channel ?? "",
        announce?.head ?? "",
        ...args,
      ])) as Reply;
    } catch (error) {
      // Redis refuses a write with `OOM ...` when it is out of memory (maxmemory with noeviction).
      if (error instanceof Error && error.message.startsWith("OOM")) throw new StorageFullError(error);
      throw error;
    }
  }
}

function addArgs(user: string, element: ElementInput): (string | number)[] {
  const [x, y, w, h] = element.b;
  const { id, t, c, sw, f, d } = element;
  return ["a", user, id, t, x, y, w, h, c, sw, f, d, element.h ?? "", element.v ?? 0, element.u ?? "", element.n ?? 0];
}

function appendArgs(user: string, points: AppendInput): (string | number)[] {
  const [x, y, w, h] = points.b;
  return ["p", user, points.i, points.n, points.d, x, y, w, h];
}

function drawOutcome(status: number, s: number, bytes: number): DrawOutcome {
  switch (status) {
    case DRAWN.stored:
      return { kind: "stored", s, bytes };
    case DRAWN.duplicate:
      return { kind: "duplicate", s };
    case DRAWN.full:
      return { kind: "full" };
    case DRAWN.tooLarge:
      return { kind: "too_large" };
    case DRAWN.outOfOrder:
      return { kind: "out_of_order" };
    case DRAWN.forbidden:
      return { kind: "forbidden" };
    default:
      return { kind: "invalid" };
  }
}

function written(reply: Reply): Written {
  return { e: String(reply[0]), s: Number(reply[1]), rotated: reply[2] === 1, ops: String(reply[3]) };
}
