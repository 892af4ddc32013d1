/**
 * Boards in Redis, for any number of instances: one Lua script per operation (./redis-scripts.ts), so one
 * round trip each, and every write atomic.
 */
import {
  newEpoch,
  snapshotRecords,
  StorageFullError,
  type AddOutcome,
  type BoardLimits,
  type BoardStore,
  type ClearOutcome,
  type NewStroke,
  type ReadRequest,
  type ReadResult,
  type UnclearOutcome,
  type Written,
} from "./board-store";
import { boardKeys, presenceKey, STATUS, type BoardScriptRunner } from "./redis-scripts";

type Reply = readonly (string | number)[];

export class RedisBoardStore implements BoardStore {
  constructor(
    private readonly redis: BoardScriptRunner,
    private readonly limits: BoardLimits,
  ) {}

  async addStrokes(board: string, user: string, strokes: readonly NewStroke[]) {
    const args = strokes.flatMap((stroke) => [stroke.id, stroke.body, stroke.v]);
    const reply = await full(this.redis.wbAddStrokes(boardKeys(board), [...this.common(), user, ...args]));
    const outcomes: AddOutcome[] = [];
    for (let index = 4; index < reply.length; index += 2) {
      const status = Number(reply[index]);
      const s = Number(reply[index + 1]);
      outcomes.push(
        status === STATUS.full
          ? { kind: "full" }
          : status === STATUS.duplicate
            ? { kind: "duplicate", s }
            : { kind: "stored", s },
      );
    }
    return { ...written(reply), outcomes };
  }

  async setVisibility(board: string, user: string, changes: readonly (readonly [string, number])[]): Promise<Written> {
    const reply = await full(this.redis.wbSetVisibility(boardKeys(board), [...this.common(), user, ...changes.flat()]));
    return written(reply);
  }

  async clear(board: string, user: string, hard = false) {
    const { clearIntervalMs, undoClearMs } = this.limits;
    const reply = await full(
      this.redis.wbClear(boardKeys(board), [...this.common(), user, clearIntervalMs, undoClearMs, hard ? 1 : 0]),
    );
    const result = written(reply);
    const outcome: ClearOutcome =
      reply[4] === STATUS.rateLimited ? "rate_limited" : result.ops === "[]" ? "unchanged" : "stored";
    return { ...result, outcome };
  }

  async unclear(board: string, user: string, of: number) {
    const reply = await full(
      this.redis.wbUnclear(boardKeys(board), [...this.common(), user, of, this.limits.clearIntervalMs]),
    );
    const result = written(reply);
    const outcome: UnclearOutcome =
      reply[4] === STATUS.rateLimited ? "rate_limited" : reply[4] === STATUS.gone ? "gone" : "stored";
    return { ...result, outcome };
  }

  async read(board: string, request: ReadRequest): Promise<ReadResult> {
    const reply = (await this.redis.wbRead(boardKeys(board), [
      newEpoch(),
      this.limits.idleTtlSeconds,
      request.e ?? "",
      request.after ?? request.at ?? "",
      request.cursor ?? 0,
      request.cursor ? this.limits.readBytes : Math.min(this.limits.readBytes, this.limits.firstReadBytes ?? Infinity),
    ])) as Reply;
    const e = String(reply[0]);
    const s = Number(reply[1]);
    const rotated = reply[2] === 1;
    if (reply[3] === "ops") return { e, s, rotated, ops: String(reply[4]) };
    const k: Record<string, number> = {};
    const pages: { text: string; dead: Set<string> }[] = [];
    for (let index = 5; index < reply.length; index += 4) {
      k[String(reply[index])] = Number(reply[index + 1]);
      const dead = String(reply[index + 2]);
      pages.push({ text: String(reply[index + 3]), dead: new Set(dead === "" ? [] : dead.split(",")) });
    }
    const next = Number(reply[4]);
    return { e, s, rotated, snapshot: { k, records: snapshotRecords(pages), ...(next > 0 ? { next } : {}) } };
  }

  async presence(board: string, instanceId: string, localCount: number | undefined, entryTtlMs: number) {
    const reply = (await this.redis.wbPresence(
      [...boardKeys(board), presenceKey(board)],
      [newEpoch(), this.limits.idleTtlSeconds, instanceId, localCount ?? "", entryTtlMs],
    )) as Reply;
    return { count: Number(reply[0]), s: Number(reply[1]), e: String(reply[2]) };
  }

  /** ARGV[1..6] of every write script: a spare epoch, the idle TTL, then the limits. */
  private common(): (string | number)[] {
    const { idleTtlSeconds, maxStrokes, maxBytes, pageBytes, logBytes } = this.limits;
    return [newEpoch(), idleTtlSeconds, maxStrokes, maxBytes, pageBytes, logBytes];
  }
}

/** Redis refuses a write with `OOM ...` when it is out of memory (maxmemory with noeviction). */
async function full(pending: Promise<unknown>): Promise<Reply> {
  try {
    return (await pending) as Reply;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("OOM")) throw new StorageFullError(error);
    throw error;
  }
}

function written(reply: Reply): Written {
  return { e: String(reply[0]), s: Number(reply[1]), rotated: reply[2] === 1, ops: String(reply[3]) };
}
