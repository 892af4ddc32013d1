/**
 * A user driven by a script instead of a mouse: a real WhiteboardSession (the browser client's own
 * logic) that draws short strokes on a timer and records what the service acknowledged.
 */
import { WhiteboardSession } from "../../client/core/session";
import type { Stroke } from "../../protocol/events";
import { waitFor } from "../../local/ports";
import { connectClient } from "./socket-client";

export class ScriptedUser {
  readonly session: WhiteboardSession;
  /** Every chunk the service acknowledged, by id. */
  readonly acked = new Map<string, number>();
  drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(url: string, board: string, private readonly name: string) {
    this.session = new WhiteboardSession(
      { url, board, socket: { reconnectionDelay: 100, reconnectionDelayMax: 1_000 }, gapGraceMs: 300 },
      { onAcked: (stroke: Stroke) => this.acked.set(stroke.id, stroke.seq) },
    );
  }

  /** Draws a three-point stroke every `everyMs`, each point sent as it is drawn. */
  startDrawing(everyMs: number): void {
    this.timer = setInterval(() => {
      const x = Math.random() * 0.8;
      const y = Math.random() * 0.8;
      this.session.begin([x, y], { color: "#224466", width: 2 });
      this.session.extend([x + 0.1, y]);
      this.session.extend([x + 0.1, y + 0.1]);
      this.session.end();
      this.drawn += 1;
    }, everyMs);
  }

  stopDrawing(): void {
    clearInterval(this.timer);
  }

  get idle(): boolean {
    return this.session.outbox.size === 0 && this.session.connection === "connected" && !this.session.board.hasGap;
  }

  ids(): string[] {
    return this.session.board.strokes().map((stroke) => stroke.id);
  }

  close(): void {
    this.stopDrawing();
    this.session.close();
  }

  toString(): string {
    return this.name;
  }
}

/** The board as the store has it, read by a fresh client. */
export async function storedBoard(url: string, board: string): Promise<Stroke[]> {
  const reader = await connectClient(url);
  try {
    const ack = await reader.join({ board });
    if (!ack.ok) throw new Error(`cannot read board ${board}: ${ack.error}`);
    return ack.strokes;
  } finally {
    reader.close();
  }
}

/**
 * Waits until every user has sent everything and holds exactly the stored board, then returns the board
 * and how long convergence took.
 */
export async function converge(users: readonly ScriptedUser[], url: string, board: string, timeoutMs = 20_000) {
  const started = Date.now();
  let stored: Stroke[] = [];
  await waitFor(
    "every user to hold the stored board",
    async () => {
      if (!users.every((user) => user.idle)) return false;
      stored = await storedBoard(url, board);
      const expected = stored.map((stroke) => stroke.id).join();
      return users.every((user) => user.ids().join() === expected);
    },
    timeoutMs,
    100,
  );
  return { stored, seconds: (Date.now() - started) / 1000 };
}
