/**
 * Strokes this client drew that the server has not acknowledged yet, in drawing order.
 *
 * A stroke in progress goes out in chunks while it is drawn, so others see it live. Each chunk is a
 * stroke of the protocol with its own id, `<stroke id>-<n>`, and starts at the previous chunk's last
 * point so the pieces join up. The chunk at the tail stays open,
 * taking new points, until the session sends it: while an earlier chunk waits for its ack, points pile up
 * in the next one. So a fast connection sends nearly every pointer sample at once, and a slow or loaded one
 * automatically sends fewer, bigger chunks (as Nagle's algorithm does for TCP).
 */
import type { Point, StrokeInput } from "../../protocol/events";

export interface Pen {
  color: string;
  width: number;
}

interface Chunk {
  stroke: StrokeInput;
  /** Still taking points (the tail of the stroke being drawn, not sent yet). */
  open: boolean;
}

export class Outbox {
  private readonly queue: Chunk[] = [];
  private current: { id: string; pen: Pen; chunks: number; last: Point } | undefined;

  constructor(
    /** Most points in one chunk; the service's MAX_POINTS_PER_STROKE must be at least this. */
    private readonly maxPointsPerChunk: number,
    private readonly newId: () => string,
  ) {}

  /** Chunks not yet acknowledged, oldest first. */
  get pending(): readonly StrokeInput[] {
    return this.queue.map((chunk) => chunk.stroke);
  }

  get size(): number {
    return this.queue.length;
  }

  /** True while a stroke is being drawn. */
  get drawing(): boolean {
    return this.current !== undefined;
  }

  begin(point: Point, pen: Pen): void {
    this.end();
    this.current = { id: this.newId(), pen, chunks: 0, last: point };
    this.openChunk([point]);
  }

  extend(point: Point): void {
    const current = this.current;
    if (!current) return;
    const tail = this.queue.at(-1);
    if (tail?.open && tail.stroke.points.length < this.maxPointsPerChunk) tail.stroke.points.push(point);
    else {
      if (tail) tail.open = false;
      this.openChunk([current.last, point]);
    }
    current.last = point;
  }

  /** The pointer lifted: the stroke is complete. */
  end(): void {
    const tail = this.queue.at(-1);
    if (tail) tail.open = false;
    this.current = undefined;
  }

  /** The chunk to send next, sealed so that later points start a new chunk. */
  next(): StrokeInput | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.open = false;
    return head.stroke;
  }

  /** Removes an acknowledged or refused chunk. */
  remove(id: string): void {
    const index = this.queue.findIndex((chunk) => chunk.stroke.id === id);
    if (index >= 0) this.queue.splice(index, 1);
  }

  private openChunk(points: Point[]): void {
    const current = this.current as NonNullable<Outbox["current"]>;
    current.chunks += 1;
    this.queue.push({
      stroke: { id: `${current.id}-${current.chunks}`, points, color: current.pen.color, width: current.pen.width },
      open: true,
    });
  }
}
