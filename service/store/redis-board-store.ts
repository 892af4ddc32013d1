/**
 * Boards in Redis, for any number of instances. Every operation is one Lua script (./redis-scripts.ts).
 */
import type { Stroke, StrokeInput } from "../../protocol/events";
import type { CommandClient } from "../redis";
import { storedFields, type AddResult, type BoardLimits, type BoardSnapshot, type BoardStore } from "./board-store";
import { BOARD_FULL, boardKeys, presenceKey } from "./redis-scripts";

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

  async read(board: string, after: number): Promise<BoardSnapshot> {
    const [seq, reset, ...strokes] = await this.redis.wbRead(boardKeys(board), [after, this.limits.idleTtlSeconds]);
    return {
      seq: Number(seq),
      reset: reset === 1,
      // One JSON.parse over the joined list is several times faster than one per stroke on big boards.
      strokes: strokes.length === 0 ? [] : (JSON.parse(`[${strokes.join(",")}]`) as Stroke[]),
    };
  }

  async presence(board: string, instanceId: string, localCount: number | undefined, entryTtlMs: number) {
    const [count = 0, seq = 0] = await this.redis.wbPresence(
      [presenceKey(board), boardKeys(board)[0]],
      [instanceId, localCount ?? "", entryTtlMs],
    );
    return { count, seq };
  }
}
