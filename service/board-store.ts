/**
 * Boards in Redis: every stroke is stored, with its seq, before anyone is told about it. All operations are
 * single Lua scripts (./board-scripts.ts), so concurrent writers on many instances never interleave.
 */
import type { Stroke, StrokeInput } from "../protocol/events";
import { BOARD_FULL, boardKeys, presenceKey } from "./board-scripts";
import type { CommandClient } from "./redis";

export interface BoardLimits {
  maxStrokes: number;
  idleTtlSeconds: number;
}

export type AddResult =
  | { kind: "stored"; stroke: Stroke }
  /** The id was stored before (a resend after a lost ack): the same seq, and nothing new to broadcast. */
  | { kind: "duplicate"; seq: number }
  | { kind: "full" };

export interface BoardSnapshot {
  seq: number;
  reset: boolean;
  strokes: Stroke[];
}

export class BoardStore {
  constructor(
    private readonly redis: CommandClient,
    private readonly limits: BoardLimits,
  ) {}

  async addStroke(board: string, input: StrokeInput): Promise<AddResult> {
    // Built field by field from validated input, so the stored JSON holds exactly the protocol's fields.
    const stroke: StrokeInput = { id: input.id, points: input.points, color: input.color, width: input.width };
    const json = JSON.stringify(stroke);
    const [seq = BOARD_FULL, stored] = await this.redis.wbAddStroke(boardKeys(board), [
      input.id,
      json,
      this.limits.maxStrokes,
      this.limits.idleTtlSeconds,
    ]);
    if (seq === BOARD_FULL) return { kind: "full" };
    return stored === 1 ? { kind: "stored", stroke: { seq, ...stroke } } : { kind: "duplicate", seq };
  }

  /** Empties the board; returns the clear's seq. */
  async clear(board: string): Promise<number> {
    return this.redis.wbClear(boardKeys(board), [this.limits.idleTtlSeconds]);
  }

  /** The strokes after seq `after`, consistent with the returned seq (one atomic read). */
  async read(board: string, after: number): Promise<BoardSnapshot> {
    const [seq, reset, ...strokes] = await this.redis.wbRead(boardKeys(board), [after, this.limits.idleTtlSeconds]);
    return {
      seq: Number(seq),
      reset: reset === 1,
      // One JSON.parse over the joined list is several times faster than one per stroke on big boards.
      strokes: strokes.length === 0 ? [] : (JSON.parse(`[${strokes.join(",")}]`) as Stroke[]),
    };
  }

  /**
   * Records this instance's client count on a board (or only reads, when `localCount` is undefined) and
   * returns the count across all live instances with the board's current seq.
   */
  async presence(board: string, instanceId: string, localCount: number | undefined, entryTtlMs: number) {
    const [count = 0, seq = 0] = await this.redis.wbPresence(
      [presenceKey(board), boardKeys(board)[0]],
      [instanceId, localCount ?? "", entryTtlMs],
    );
    return { count, seq };
  }
}
