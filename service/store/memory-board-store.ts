/**
 * Boards in this process's memory, for running one instance where there is no Redis (`BOARD_STORE=memory`).
 * Same contract as the Redis store; the boards go when the process goes, and a second instance would
 * not see them.
 */
import type { Stroke, StrokeInput } from "../../protocol/events";
import { readPlan, storedFields, type AddResult, type BoardLimits, type BoardSnapshot, type BoardStore } from "./board-store";

interface Board {
  seq: number;
  /** Seq of the last clear, 0 if never. */
  cleared: number;
  /** The strokes since the last clear; the one at index i has seq cleared + 1 + i. */
  strokes: Stroke[];
  ids: Map<string, number>;
  expiresAt: number;
}

export class MemoryBoardStore implements BoardStore {
  private readonly boards = new Map<string, Board>();
  /** Clients per board: with one instance, its own count is the total. */
  private readonly clients = new Map<string, number>();

  constructor(
    private readonly limits: BoardLimits,
    private readonly now: () => number = Date.now,
  ) {
    // Boards nobody opens again would otherwise stay until the process ends.
    setInterval(() => {
      for (const id of this.boards.keys()) this.live(id);
    }, 60_000).unref();
  }

  async addStroke(board: string, input: StrokeInput): Promise<AddResult> {
    const state = this.board(board, true);
    const existing = state.ids.get(input.id);
    if (existing !== undefined) return { kind: "duplicate", seq: existing };
    if (state.strokes.length >= this.limits.maxStrokes) return { kind: "full" };
    state.seq += 1;
    const stroke = { seq: state.seq, ...storedFields(input) };
    state.strokes.push(stroke);
    state.ids.set(stroke.id, stroke.seq);
    return { kind: "stored", stroke };
  }

  async clear(board: string): Promise<number> {
    const state = this.board(board, true);
    state.seq += 1;
    state.cleared = state.seq;
    state.strokes = [];
    state.ids.clear();
    return state.seq;
  }

  async read(board: string, after: number): Promise<BoardSnapshot> {
    const state = this.board(board, false) ?? { seq: 0, cleared: 0, strokes: [] };
    const { reset, start } = readPlan(after, state.seq, state.cleared);
    const strokes = state.strokes.slice(start);
    return { seq: state.seq, reset, count: strokes.length, json: JSON.stringify(strokes) };
  }

  async presence(board: string, _instanceId: string, localCount: number | undefined) {
    if (localCount === 0) this.clients.delete(board);
    else if (localCount !== undefined) this.clients.set(board, localCount);
    return { count: this.clients.get(board) ?? 0, seq: this.live(board)?.seq ?? 0 };
  }

  /** The board unless it expired (then it is gone, as a Redis key would be). */
  private live(id: string): Board | undefined {
    const state = this.boards.get(id);
    if (state && state.expiresAt <= this.now()) {
      this.boards.delete(id);
      return undefined;
    }
    return state;
  }

  /** The board (created if asked), its idle expiry pushed back: reading or writing a board is activity. */
  private board(id: string, create: true): Board;
  private board(id: string, create: false): Board | undefined;
  private board(id: string, create: boolean): Board | undefined {
    let state = this.live(id);
    if (!state && create) {
      state = { seq: 0, cleared: 0, strokes: [], ids: new Map(), expiresAt: 0 };
      this.boards.set(id, state);
    }
    if (state) state.expiresAt = this.now() + this.limits.idleTtlSeconds * 1000;
    return state;
  }
}
