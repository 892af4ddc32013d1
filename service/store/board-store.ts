/**
 * Where boards live. Every stroke is stored, with its seq, before anyone is told about it, and each
 * operation is atomic, so concurrent writers on many instances never interleave.
 *
 * Two implementations keep the same contract (test/service/board-store.test.ts runs against both):
 * Redis, for any number of instances, and memory, for one instance on a machine without Redis.
 */
import type { Stroke, StrokeInput } from "../../protocol/events";

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
  /** The board's current seq. */
  seq: number;
  /** True when the board was cleared after `after`, or holds less than `after` (expired or wiped). */
  reset: boolean;
  /** How many strokes `json` holds. */
  count: number;
  /**
   * The strokes after `after` (all since the last clear when `reset`), in seq order, as a JSON array:
   * a big board goes to the client without being parsed and serialized again (see ../raw-json.ts).
   */
  json: string;
}

/** Which strokes a read after seq `after` returns, given the board's seq and last clear. */
export function readPlan(after: number, seq: number, cleared: number): { reset: boolean; start: number } {
  const reset = after < cleared || after > seq;
  // The stroke at index i since the last clear has seq cleared + 1 + i.
  return { reset, start: reset ? 0 : after - cleared };
}

export interface BoardStore {
  addStroke(board: string, input: StrokeInput): Promise<AddResult>;
  /** Empties the board; returns the clear's seq. */
  clear(board: string): Promise<number>;
  /** The strokes after seq `after`, consistent with the returned seq (one atomic read). */
  read(board: string, after: number): Promise<BoardSnapshot>;
  /**
   * Records this instance's client count on a board (or only reads, when `localCount` is undefined) and
   * returns the count across all live instances with the board's current seq. An instance's entry
   * expires `entryTtlMs` after its last write, so a killed instance stops counting.
   */
  presence(board: string, instanceId: string, localCount: number | undefined, entryTtlMs: number): Promise<{ count: number; seq: number }>;
}

/** The protocol's fields only, in a fixed order: what is stored and broadcast. */
export function storedFields(input: StrokeInput): StrokeInput {
  return { id: input.id, points: input.points, color: input.color, width: input.width };
}
