/**
 * Boards in Redis, for any number of instances. Every write is one Lua script (./redis-scripts.ts).
 */
import type { StrokeInput } from "../../protocol/events";
import type { CommandClient } from "../redis";
import { readPlan, storedFields, type AddResult, type BoardLimits, type BoardSnapshot, type BoardStore } from "./board-store";
import { BOARD_FULL, boardKeys, PAGE_SIZE, presenceKey } from "./redis-scripts";

export class RedisBoardStore implements BoardStore {
  constructor(
    private readonly redis: CommandClient,
    private readonly limits: BoardLimits,
  ) {}

  async addStroke(board: string, input: StrokeInput): Promise<AddResult> {
    const stroke = storedFields(input);
    const [seq = BOARD_FULL, stored] = await this.redis.wbAddStroke(boardKeys(board), [
      stroke.id,
      JSON.stringify(stroke),
      this.limits.maxStrokes,
      this.limits.idleTtlSeconds,
    ]);
    if (seq === BOARD_FULL) return { kind: "full" };
    return stored === 1 ? { kind: "stored", stroke: { seq, ...stroke } } : { kind: "duplicate", seq };
  }

  async clear(board: string): Promise<number> {
    return this.redis.wbClear(boardKeys(board), [this.limits.idleTtlSeconds]);
  }

  /**
   * Two round trips rather than one script: a script would copy a big board through Lua, which doubles the
   * time to read 100,000 strokes. The first reads where to start; the second, a transaction, reads the pages
   * with the metadata they go with. A clear landing between the two moves the start, and then the read runs
   * again. Only the first page may hold strokes the client already has; it alone is parsed, to drop them.
   */
  async read(board: string, after: number): Promise<BoardSnapshot> {
    const [meta, pages, ids] = boardKeys(board);
    const ttl = this.limits.idleTtlSeconds;
    for (;;) {
      const [seqBefore, clearedBefore] = await this.redis.hmGet(meta, ["seq", "cleared"]);
      const { start } = readPlan(after, Number(seqBefore ?? 0), Number(clearedBefore ?? 0));
      const firstPage = Math.floor(start / PAGE_SIZE);
      const [[seqText, clearedText], items] = (await this.redis
        .multi()
        .hmGet(meta, ["seq", "cleared"])
        .lRange(pages, firstPage, -1)
        // Opening a board is activity: it stays as long as people use it.
        .expire(meta, ttl)
        .expire(pages, ttl)
        .expire(ids, ttl)
        .exec()) as unknown as [[string | null, string | null], string[]];
      const seq = Number(seqText ?? 0);
      const cleared = Number(clearedText ?? 0);
      const plan = readPlan(after, seq, cleared);
      if (plan.start !== start) continue;
      const skip = start % PAGE_SIZE;
      if (skip > 0 && items[0] !== undefined) {
        const rest = (JSON.parse(`[${items[0]}]`) as unknown[]).slice(skip);
        items[0] = JSON.stringify(rest).slice(1, -1);
      }
      const json = `[${items.filter((page) => page !== "").join(",")}]`;
      return { seq, reset: plan.reset, count: seq - cleared - start, json };
    }
  }

  async presence(board: string, instanceId: string, localCount: number | undefined, entryTtlMs: number) {
    const [count = 0, seq = 0] = await this.redis.wbPresence(
      [presenceKey(board), boardKeys(board)[0]],
      [instanceId, localCount ?? "", entryTtlMs],
    );
    return { count, seq };
  }
}
