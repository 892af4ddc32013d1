/**
 * Strokes this client drew that the server has not acknowledged yet, in drawing order.
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
}

export class Outbox {
  private readonly queue: Chunk[] = [];
  private current: { id: string; pen: Pen; chunks: number; last: Point } | undefined;

  constructor(
    /** Most points in one chunk; the service's MAX_POINTS_PER_STROKE must be at least this. */
    private readonly maxPointsPerChunk: number,
    private readonly newId: () => string,
  ) {}

  /** Chunks not yet acknowledged, oldest first (an open chunk encoded as it stands). */
  get pending(): StrokeInput[] {
    return this.queue.map((chunk) => (chunk.points ? { ...chunk.input, p: encodePoints(chunk.points) } : chunk.input));
  }

  get size(): number {
    return this.queue.length;
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

  /** Queues strokes to send as they are (healing a store that lost them). */
  enqueue(inputs: readonly StrokeInput[]): void {
    for (const input of inputs) this.queue.push({ id: input.id, points: undefined, input, inFlight: false });
  }

  /** The next chunk to send, sealed so that later points start a new chunk, and marked in flight. */
  next(): StrokeInput | undefined {
    const chunk = this.queue.find((candidate) => !candidate.inFlight);
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

  /** Removes an acknowledged or refused chunk and returns it (undefined if it was not queued). */
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
    this.queue.push({ id, points, input: { id, p: "", c: current.pen.color, w: current.pen.width }, inFlight: false });
  }
}
