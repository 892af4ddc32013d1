/**
 * What a client knows of a board: the stored strokes (each with its seq), and the watermark, the highest
 * seq up to which it has missed nothing. Pure data, no I/O: the session feeds it join acks, live events
 * and its own acks, in whatever order the network delivers them, and it converges to the server's board.
 */
import type { JoinAck, Stroke } from "../../protocol/events";

export type JoinSuccess = Extract<JoinAck, { ok: true }>;

/** What applying an event changed, for whoever draws the board. */
export interface Applied {
  /** Everything held must be drawn again from scratch (strokes were removed). */
  reset: boolean;
  /** Strokes newly held, in the order given. */
  added: Stroke[];
  /** Some of `added` belong below strokes already held: drawn on top, the stacking is off until a redraw. */
  outOfOrder: boolean;
}

export class BoardState {
  private readonly bySeq = new Map<number, Stroke>();
  private readonly ids = new Set<string>();
  /** `bySeq` in seq order, rebuilt lazily after an insertion below the top or a removal. */
  private ordered: Stroke[] | undefined = [];
  /** The highest seq held. */
  private top = 0;
  private watermarkSeq = 0;
  /** The highest seq heard of, from any event. */
  private headSeq = 0;

  /** Every seq up to this one is accounted for (held, or cleared): the `after` of the next join. */
  get watermark(): number {
    return this.watermarkSeq;
  }

  /** True while some seq below the highest one heard of is missing. */
  get hasGap(): boolean {
    return this.headSeq > this.watermarkSeq;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Strokes in seq order: the order in which every client draws them. */
  strokes(): readonly Stroke[] {
    this.ordered ??= [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    return this.ordered;
  }

  applyJoin(ack: JoinSuccess): Applied {
    // Live events newer than the ack (received while the join was in flight) stay.
    if (ack.reset) this.removeWhere((seq) => seq <= ack.seq);
    const applied = this.insertAll(ack.strokes, ack.reset);
    // The ack accounts for every seq up to its own.
    this.watermarkSeq = ack.reset ? ack.seq : Math.max(this.watermarkSeq, ack.seq);
    this.heard(ack.seq);
    return { ...applied, reset: ack.reset };
  }

  /** Adds a stored stroke: a live event, or this client's own stroke once acked. */
  applyStroke(stroke: Stroke): Applied {
    const applied = this.insertAll([stroke], false);
    this.heard(stroke.seq);
    return { ...applied, reset: false };
  }

  /** The board was cleared at `seq`: everything before it is gone, including whatever this client missed. */
  applyClear(seq: number): void {
    this.removeWhere((strokeSeq) => strokeSeq < seq);
    this.watermarkSeq = Math.max(this.watermarkSeq, seq);
    this.heard(seq);
  }

  /** The board's seq as the server reports it from time to time (`head`). */
  applyHead(seq: number): void {
    this.heard(seq);
  }

  private heard(seq: number): void {
    this.headSeq = Math.max(this.headSeq, seq);
    while (this.bySeq.has(this.watermarkSeq + 1)) this.watermarkSeq += 1;
  }

  /**
   * A stroke at or below the watermark that is not held was cleared, so it is never added back, unless a
   * join ack that reset the board brings it.
   */
  private insertAll(strokes: readonly Stroke[], fromReset: boolean): Omit<Applied, "reset"> {
    const added: Stroke[] = [];
    let outOfOrder = false;
    for (const stroke of strokes) {
      if (this.bySeq.has(stroke.seq) || (stroke.seq <= this.watermarkSeq && !fromReset)) continue;
      const below = stroke.seq < this.top;
      this.bySeq.set(stroke.seq, stroke);
      this.ids.add(stroke.id);
      this.top = Math.max(this.top, stroke.seq);
      if (below) this.ordered = undefined;
      else this.ordered?.push(stroke);
      outOfOrder ||= below;
      added.push(stroke);
    }
    return { added, outOfOrder };
  }

  private removeWhere(predicate: (seq: number) => boolean): void {
    for (const [seq, stroke] of this.bySeq) {
      if (!predicate(seq)) continue;
      this.bySeq.delete(seq);
      this.ids.delete(stroke.id);
      this.ordered = undefined;
    }
    this.top = 0;
    for (const seq of this.bySeq.keys()) this.top = Math.max(this.top, seq);
  }
}
