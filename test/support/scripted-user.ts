/**
 * A user driven by a script instead of a mouse: a real WhiteboardSession (the browser client's own logic) over a
 * real Socket.IO connection, drawing freehand lines sample by sample as a pointer does, and recording what the
 * service acknowledged.
 */
import { SocketTransport } from "../../client/core/socket-transport";
import { WhiteboardSession } from "../../client/core/session";
import type { Notice, Recovery } from "../../client/core/session-api";
import type { ElementRecord, UserInput } from "../../protocol/events";
import { UNITS_PER_PIXEL } from "../../protocol/events";
import { waitFor } from "../../local/ports";
import { makeUser } from "./socket-client";

export interface DrawingPattern {
  /** Pointer samples per line. */
  samples: number;
  /** Time between samples; 16 ms is a 60 Hz pointer. */
  sampleMs: number;
  /** Pause between lines. */
  pauseMs: number;
}

const QUICK_STROKES: DrawingPattern = { samples: 8, sampleMs: 16, pauseMs: 150 };

/** Where scripted lines go: a 1600 × 1000 pixel area, in board units. */
const AREA = { width: 1_600 * UNITS_PER_PIXEL, height: 1_000 * UNITS_PER_PIXEL };

/** A session on the board at `url`, over WebSocket, reconnecting quickly (tests have no time to wait). */
export function openSession(
  url: string,
  board: string,
  options: { edit?: string; user?: UserInput; gapGraceMs?: number } = {},
  listeners: ConstructorParameters<typeof WhiteboardSession>[1] = {},
): WhiteboardSession {
  return new WhiteboardSession(
    {
      board,
      ...(options.edit !== undefined ? { edit: options.edit } : {}),
      user: options.user ?? makeUser("Scripted"),
      transport: new SocketTransport({ url, socket: { reconnectionDelay: 100, reconnectionDelayMax: 1_000 } }),
      gapGraceMs: options.gapGraceMs ?? 300,
    },
    listeners,
  );
}

export class ScriptedUser {
  readonly session: WhiteboardSession;
  /** Every element of this user's the service acknowledged: id → seq. */
  readonly acked = new Map<string, number>();
  /** Lines begun. */
  linesDrawn = 0;
  /** Writes the service refused for good (e.g. board full), as told by the session. */
  refused = 0;
  /** Everything the session told the user, in order. */
  readonly notices: Notice[] = [];
  /** Each time the store had lost writes and this session healed it: what it sent back, and when. */
  readonly recoveries: (Recovery & { at: number })[] = [];
  private drawing = false;
  private stopped: Promise<void> = Promise.resolve();

  /** A user on `board`, able to draw with its edit key `edit`. */
  constructor(url: string, board: string, edit: string) {
    this.session = openSession(
      url,
      board,
      { edit },
      {
        onAcked: (id, s) => this.acked.set(id, s),
        onNotice: (notice) => {
          this.notices.push(notice);
          this.refused += notice.kind === "storage_full" ? 0 : 1;
        },
        onRecovered: (recovery) => this.recoveries.push({ ...recovery, at: Date.now() }),
      },
    );
  }

  startDrawing(pattern: DrawingPattern = QUICK_STROKES): void {
    this.drawing = true;
    this.stopped = this.draw(pattern);
  }

  /** Finishes the line in progress, then stops. */
  stopDrawing(): Promise<void> {
    this.drawing = false;
    return this.stopped;
  }

  /** Everything sent and the board holding it, connected, no gap known. */
  get idle(): boolean {
    const { session } = this;
    return (
      session.pendingWrites === 0 &&
      session.status === "connected" &&
      !session.board.hasGap &&
      session.elements() === session.board.elements()
    );
  }

  /** The visible elements' ids, in stacking order. */
  ids(): string[] {
    return this.session.board.elements().map((element) => element.i);
  }

  close(): void {
    this.drawing = false;
    this.session.close();
  }

  private async draw(pattern: DrawingPattern): Promise<void> {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await sleep(Math.random() * pattern.pauseMs); // users do not start in step
    const at = (x: number, y: number) => [Math.round(x * AREA.width), Math.round(y * AREA.height), 8] as const;
    while (this.drawing) {
      const [x, y] = [Math.random() * 0.8, 0.1 + Math.random() * 0.8];
      this.session.begin(at(x, y), { c: "#224466", sw: 2 });
      this.linesDrawn += 1;
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
 * The board as the store has it, read through a service instance by a fresh view-only session: its visible
 * elements in stacking order.
 */
export async function readStored(url: string, board: string, timeoutMs = 30_000): Promise<ElementRecord[]> {
  const reader = openSession(url, board);
  try {
    await waitFor("the reader to read the board", () => reader.status === "connected", timeoutMs, 20);
    return [...reader.board.elements()];
  } finally {
    reader.close();
  }
}

/**
 * Waits until every user has sent everything and holds exactly the stored board (the same elements in the same
 * order), then returns the board and how long that took.
 */
export async function converge(users: readonly ScriptedUser[], url: string, board: string, timeoutMs = 30_000) {
  const started = Date.now();
  let stored: ElementRecord[] = [];
  await waitFor(
    "every user to hold the stored board",
    async () => {
      if (!users.every((user) => user.idle)) return false;
      stored = await readStored(url, board);
      const expected = stored.map((element) => element.i).join();
      return users.every((user) => user.ids().join() === expected);
    },
    timeoutMs,
    100,
  );
  return { stored, seconds: (Date.now() - started) / 1000 };
}

/** What a crowd of users drew, was acknowledged and the store holds, once they converged. */
export interface CrowdOutcome {
  linesDrawn: number;
  elementsAcked: number;
  /** Acknowledged elements the store does not hold. */
  missing: number;
  /** Acknowledged elements the store holds under another seq: their first copy was lost and a page sent them back. */
  storedAgain: number;
}

export function crowdOutcome(users: readonly ScriptedUser[], stored: readonly ElementRecord[]): CrowdOutcome {
  const storedSeq = new Map(stored.map((element) => [element.i, element.s]));
  const acked = users.flatMap((user) => [...user.acked]);
  return {
    linesDrawn: users.reduce((sum, user) => sum + user.linesDrawn, 0),
    elementsAcked: acked.length,
    missing: acked.filter(([id]) => !storedSeq.has(id)).length,
    storedAgain: acked.filter(([id, seq]) => storedSeq.has(id) && storedSeq.get(id) !== seq).length,
  };
}

/**
 * The crowd's common promise: every acknowledged element is stored, and every stored one was acknowledged to its
 * author once (nothing duplicated, nothing from nowhere); nothing refused, nothing left unsent, and enough drawn to
 * mean it. A line past the points limit is more than one element, each acknowledged.
 */
export function expectNothingLost(
  users: readonly ScriptedUser[],
  stored: readonly ElementRecord[],
  outcome: CrowdOutcome,
): void {
  expect(outcome.missing).toBe(0);
  expect(outcome.elementsAcked).toBe(stored.length);
  expect(users.reduce((sum, user) => sum + user.refused, 0)).toBe(0);
  expect(users.every((user) => user.session.pendingWrites === 0)).toBe(true);
  expect(outcome.linesDrawn).toBeGreaterThan(users.length * 10);
}
