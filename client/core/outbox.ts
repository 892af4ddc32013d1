/**
 * Strokes this client drew that are not on its board yet, in drawing order: those the server has not
 * acknowledged, and those it has whose operation the board has not applied yet (it may wait behind a gap
 * for a while, or for good when the store failed before relaying what came before it): the page keeps
 * drawing them until the board holds them, so a user's own line never blinks out at its acknowledgement.
 *
 * A stroke in progress goes out in chunks while it is drawn, so others see it live. Each chunk is a stroke
 * of the protocol with its own id, `<line id>-<n>`, and starts at the previous chunk's last point so the
 * pieces join up. The chunk at the tail stays open, taking new points, until the session sends it: while
 * earlier chunks wait for their acks, points pile up in the next one. So a fast connection sends nearly every
 * pointer sample at once, and a slow or loaded one automatically sends fewer, bigger chunks (as Nagle's
 * algorithm does for TCP). The session keeps a small window of chunks in flight.
 *
 * Strokes restored into a store that lost them (healing) queue here too, already encoded.
 */
import type { StrokeInput } from "../../protocol/events";
import { encodePoints } from "../../protocol/points";

/** A point in board units (integers; see BOARD_WIDTH and BOARD_HEIGHT). */
export type Point = [x: number, y: number];

export interface Pen {
  color: string;
  width: number;
}

interface Chunk {
  id: string;
  /** The points while the chunk is open; encoded into `input.p` when it is sealed. */
  points: Point[] | undefined;
  input: StrokeInput;
  /** Sent on the current connection and not yet answered. */
  inFlight: boolean;
  /** Acknowledged: never sent again, kept only until the board holds it (see `release`). */
  stored: boolean;
  /** The seq it was acknowledged with. */
  s?: number;
}

/** An acknowledged chunk still waiting for the board to hold it. */
export interface StoredChunk {
  input: StrokeInput;
  s: number;
}

export class Outbox {
  private readonly queue: Chunk[] = [];
  private current: { id: string; pen: Pen; chunks: number; last: Point } | undefined;

  constructor(
    /** Most points in one chunk; the service's MAX_POINTS_PER_STROKE must be at least this. */
    private readonly maxPointsPerChunk: number,
    private readonly newId: () => string,
  ) {}

  /**
   * What the page draws from here: chunks not on the board yet, acknowledged or not, oldest first (an open chunk
   * encoded as it stands). Strokes restored hidden (healing a store that lost a clear or an erase) are not shown.
   */
  get pending(): StrokeInput[] {
    return this.queue.flatMap((chunk) =>
      (chunk.input.v ?? 0) % 2 === 1
        ? []
        : [chunk.points ? { ...chunk.input, p: encodePoints(chunk.points) } : chunk.input],
    );
  }

  /** Chunks not yet acknowledged. */
  get size(): number {
    return this.queue.reduce((count, chunk) => count + (chunk.stored ? 0 : 1), 0);
  }

  get inFlight(): number {
    return this.queue.reduce((count, chunk) => count + (chunk.inFlight ? 1 : 0), 0);
  }

  /** True while a stroke is being drawn. */
  get drawing(): boolean {
    return this.current !== undefined;
  }

  /** The id of the line being drawn (its chunks are `<id>-<n>`), or undefined. */
  get line(): string | undefined {
    return this.current?.id;
  }

  begin(point: Point, pen: Pen): string {
    this.end();
    const id = this.newId();
    this.current = { id, pen, chunks: 0, last: point };
    this.openChunk([point]);
    return id;
  }

  extend(point: Point): void {
    const current = this.current;
    if (!current) return;
    const tail = this.queue.at(-1);
    if (tail?.points && !tail.inFlight && tail.points.length < this.maxPointsPerChunk) tail.points.push(point);
    else {
      if (tail) this.seal(tail);
      this.openChunk([current.last, point]);
    }
    current.last = point;
  }

  /** The pointer lifted: the stroke is complete. Returns the ids of its chunks (none if no stroke was drawn). */
  end(): string[] {
    const tail = this.queue.at(-1);
    if (tail) this.seal(tail);
    const line = this.current;
    this.current = undefined;
    return line ? Array.from({ length: line.chunks }, (_, index) => `${line.id}-${index + 1}`) : [];
  }

  /**
   * Queues strokes to send as they are (healing a store that lost them). A chunk of this client's that was
   * acknowledged and is still here (the store lost it before the board applied it) is sent again; one not yet
   * acknowledged is on its way already.
   */
  enqueue(inputs: readonly StrokeInput[]): void {
    for (const input of inputs) {
      const held = this.queue.find((chunk) => chunk.id === input.id);
      if (!held) this.queue.push({ id: input.id, points: undefined, input, inFlight: false, stored: false });
      else if (held.stored) Object.assign(held, { input, stored: false });
    }
  }

  /** The next chunk to send, sealed so that later points start a new chunk, and marked in flight. */
  next(): StrokeInput | undefined {
    const chunk = this.queue.find((candidate) => !candidate.inFlight && !candidate.stored);
    if (!chunk) return undefined;
    this.seal(chunk);
    chunk.inFlight = true;
    return chunk.input;
  }

  /** The connection dropped: everything in flight goes again, in order. */
  resendAll(): void {
    for (const chunk of this.queue) chunk.inFlight = false;
  }

  /** A chunk's answer was "try later": it goes again with the next ones. */
  retry(id: string): void {
    const chunk = this.queue.find((candidate) => candidate.id === id);
    if (chunk) chunk.inFlight = false;
  }

  /**
   * The store has the chunk: it is never sent again, and stays (in `pending`, not in `size`) until `release`
   * finds it on the board. Returns it, or undefined if it was not waiting for an acknowledgement.
   */
  acknowledge(id: string, s: number): StrokeInput | undefined {
    const chunk = this.queue.find((candidate) => candidate.id === id);
    if (!chunk || chunk.stored) return undefined;
    this.seal(chunk);
    Object.assign(chunk, { inFlight: false, stored: true, s });
    return chunk.input;
  }

  /** Acknowledged chunks not released yet, oldest first. */
  get stored(): StoredChunk[] {
    return this.queue.flatMap((chunk) => (chunk.stored ? [{ input: chunk.input, s: chunk.s ?? 0 }] : []));
  }

  /** Drops the acknowledged chunks for which `done` is true (the board holds them, or never will). */
  release(done: (chunk: StoredChunk) => boolean): void {
    for (let index = this.queue.length - 1; index >= 0; index -= 1) {
      const chunk = this.queue[index] as Chunk;
      if (chunk.stored && done({ input: chunk.input, s: chunk.s ?? 0 })) this.queue.splice(index, 1);
    }
  }

  /** Removes a refused chunk and returns it (undefined if it was not queued). */
  take(id: string): StrokeInput | undefined {
    const index = this.queue.findIndex((chunk) => chunk.id === id);
    if (index < 0) return undefined;
    const [chunk] = this.queue.splice(index, 1) as [Chunk];
    this.seal(chunk);
    return chunk.input;
  }

  private seal(chunk: Chunk): void {
    if (!chunk.points) return;
    chunk.input.p = encodePoints(chunk.points);
    chunk.points = undefined;
  }

  private openChunk(points: Point[]): void {
    const current = this.current as NonNullable<Outbox["current"]>;
    current.chunks += 1;
    const id = `${current.id}-${current.chunks}`;
    this.queue.push({
      id,
      points,
      input: { id, p: "", c: current.pen.color, w: current.pen.width },
      inFlight: false,
      stored: false,
    });
  }
}
