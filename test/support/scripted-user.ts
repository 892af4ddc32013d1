/**
 * A user driven by a script instead of a mouse: a real WhiteboardSession (the browser client's own
 * logic) that draws strokes sample by sample, as a pointer does, and records what the service acknowledged.
 */
import { WhiteboardSession } from "../../client/core/session";
import type { StrokeRecord } from "../../protocol/events";
import { BOARD_HEIGHT, BOARD_WIDTH } from "../../protocol/events";
import { waitFor } from "../../local/ports";
import { readBoard } from "../../local/read-board";
import { makeUser } from "./socket-client";

export interface DrawingPattern {
  /** Pointer samples per stroke. */
  samples: number;
  /** Time between samples; 16 ms is a 60 Hz pointer. */
  sampleMs: number;
  /** Pause between strokes. */
  pauseMs: number;
}

export const QUICK_STROKES: DrawingPattern = { samples: 8, sampleMs: 16, pauseMs: 150 };

export class ScriptedUser {
  readonly session: WhiteboardSession;
  /** Every chunk the service acknowledged: id → seq. */
  readonly acked = new Map<string, number>();
  /** Strokes begun (each is one or more chunks). */
  strokesDrawn = 0;
  /** Chunks the service refused for good (e.g. board full). */
  refused = 0;
  /** Each time the store had lost writes and this session healed it: what it sent back, and when. */
  readonly recoveries: { restored: number; rehidden: number; at: number }[] = [];
  private drawing = false;
  private stopped: Promise<void> = Promise.resolve();

  constructor(url: string, board: string) {
    this.session = new WhiteboardSession(
      {
        url,
        board,
        user: makeUser("Scripted"),
        socket: { reconnectionDelay: 100, reconnectionDelayMax: 1_000 },
        gapGraceMs: 300,
      },
      {
        onAcked: (stroke, s) => this.acked.set(stroke.id, s),
        onRefused: () => (this.refused += 1),
        onRecovered: (figures) => this.recoveries.push({ ...figures, at: Date.now() }),
      },
    );
  }

  startDrawing(pattern: DrawingPattern = QUICK_STROKES): void {
    this.drawing = true;
    this.stopped = this.draw(pattern);
  }

  /** Finishes the stroke in progress, then stops. */
  stopDrawing(): Promise<void> {
    this.drawing = false;
    return this.stopped;
  }

  /** Everything sent and acknowledged, connected, no gap known. */
  get idle(): boolean {
    return this.session.outbox.size === 0 && this.session.connection === "connected" && !this.session.board.hasGap;
  }

  /** The visible strokes, in seq order. */
  ids(): string[] {
    return this.session.board.strokes().map((stroke) => stroke.i);
  }

  close(): void {
    this.drawing = false;
    this.session.close();
  }

  private async draw(pattern: DrawingPattern): Promise<void> {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await sleep(Math.random() * pattern.pauseMs); // users do not start in step
    const at = (x: number, y: number): [number, number] => [Math.round(x * BOARD_WIDTH), Math.round(y * BOARD_HEIGHT)];
    while (this.drawing) {
      const [x, y] = [Math.random() * 0.8, 0.1 + Math.random() * 0.8];
      this.session.begin(at(x, y), { color: "#224466", width: 2 });
      this.strokesDrawn += 1;
      for (let i = 1; i < pattern.samples; i += 1) {
        await sleep(pattern.sampleMs);
        this.session.extend(at(x + (0.2 * i) / pattern.samples, y + 0.05 * Math.sin(i)));
      }
      this.session.end();
      await sleep(pattern.pauseMs);
    }
  }
}

/**
 * Waits until every user has sent everything and holds exactly the stored board (same stroke ids in the
 * same seq order), then returns the board and how long that took.
 */
export async function converge(users: readonly ScriptedUser[], url: string, board: string, timeoutMs = 30_000) {
  const started = Date.now();
  let stored: StrokeRecord[] = [];
  await waitFor(
    "every user to hold the stored board",
    async () => {
      if (!users.every((user) => user.idle)) return false;
      stored = (await readBoard(url, board)).records;
      const expected = stored.map((stroke) => stroke.i).join();
      return users.every((user) => user.ids().join() === expected);
    },
    timeoutMs,
    100,
  );
  return { stored, seconds: (Date.now() - started) / 1000 };
}

/** What a crowd of users drew, was acknowledged and the store holds, once they converged. */
export interface CrowdOutcome {
  strokesDrawn: number;
  chunksAcked: number;
  /** Acknowledged chunks the store does not hold. */
  missing: number;
  /** Acknowledged chunks the store holds under another seq: their first copy was lost and a client sent them back. */
  storedAgain: number;
}

export function crowdOutcome(users: readonly ScriptedUser[], stored: readonly StrokeRecord[]): CrowdOutcome {
  const storedSeq = new Map(stored.map((stroke) => [stroke.i, stroke.s]));
  const acked = users.flatMap((user) => [...user.acked]);
  return {
    strokesDrawn: users.reduce((sum, user) => sum + user.strokesDrawn, 0),
    chunksAcked: acked.length,
    missing: acked.filter(([id]) => !storedSeq.has(id)).length,
    storedAgain: acked.filter(([id, seq]) => storedSeq.has(id) && storedSeq.get(id) !== seq).length,
  };
}

/**
 * The crowd's common promise: every acknowledged chunk is stored, and every stored one was acknowledged to its author
 * once (nothing duplicated, nothing from nowhere); nothing refused, nothing left unsent, and enough drawn to mean it.
 */
export function expectNothingLost(
  users: readonly ScriptedUser[],
  stored: readonly StrokeRecord[],
  outcome: CrowdOutcome,
): void {
  expect(outcome.missing).toBe(0);
  expect(outcome.chunksAcked).toBe(stored.length);
  expect(users.reduce((sum, user) => sum + user.refused, 0)).toBe(0);
  expect(users.every((user) => user.session.outbox.size === 0)).toBe(true);
  expect(outcome.strokesDrawn).toBeGreaterThan(users.length * 10);
}
