/**
 * How a board's stored operations reach its sockets on every instance: the instance that stored them publishes them
 * once to the board's channel (./board-adapter.ts), and every instance, that one included, hands them to its frame
 * pacer (./frame-pacer.ts), which writes them to the board's sockets here at once when the board is quiet and as one
 * frame per interval when it is busy, merging what this instance and the others stored. Cursor positions take the
 * same channel to the other instances' cursor relays (../cursors.ts), which merge them with their own users'.
 *
 * With Redis, Socket.IO is given {@link BoardFanout.adapterClass}; without (one instance on the memory store) the
 * pacer alone does the job.
 */
import type { CursorUpdate } from "../../protocol/events";
import type { Logger } from "../logger";
import type { Announcement } from "../store/board-store";
import { BoardAdapter, boardAdapterClass } from "./board-adapter";
import { FramePacer } from "./frame-pacer";
import type { Publisher, SubscribeClient } from "./pubsub";
import { guardSubscriptions } from "./subscriptions";

export interface BoardFanoutOptions {
  /** Least time between two `ops` frames of one board to one socket; 0: each turn of the event loop's at once. */
  frameIntervalMs: number;
  /** The Redis the instances share; absent for one instance alone. */
  redis?: { publisher: Publisher; subscriber: SubscribeClient };
  logger: Logger;
  /** Writes one `ops` frame (a JSON array of operations) to the sockets of `room` on this instance. */
  emit: (room: string, e: string, ops: string) => void;
  /** Positions of other instances' users on the board of `room`. */
  onRemoteCursors: (room: string, cursors: CursorUpdate[]) => void;
}

export class BoardFanout {
  /** Socket.IO's `adapter` option; undefined without Redis (Socket.IO's in-memory adapter then). */
  readonly adapterClass: ReturnType<typeof boardAdapterClass> | undefined;
  private readonly frames: FramePacer;

  constructor(options: BoardFanoutOptions) {
    this.frames = new FramePacer({ intervalMs: options.frameIntervalMs, send: options.emit });
    const { redis, logger } = options;
    this.adapterClass = redis
      ? boardAdapterClass({
          publisher: redis.publisher,
          subscriber: guardSubscriptions(redis.subscriber, logger),
          logger,
          onRemoteOps: (room, e, ops) => this.frames.push(room, e, ops),
          onRemoteCursors: (room, cursors) => options.onRemoteCursors(room, cursors.filter(isCursorUpdate)),
        })
      : undefined;
  }

  /**
   * Operations this instance stored on the board of `room`: to the other instances (unless the store `published`
   * them), and to the sockets here.
   */
  send(adapter: object, room: string, e: string, ops: string, published: boolean): void {
    if (!published && adapter instanceof BoardAdapter) adapter.publishOps(room, e, ops);
    this.frames.push(room, e, ops);
  }

  /** Where the store may publish what it stores on the board of `room` itself; undefined without other instances. */
  announcement(adapter: object, room: string): Announcement | undefined {
    return adapter instanceof BoardAdapter ? adapter.opsAnnouncement(room) : undefined;
  }

  /** This instance's users' cursor positions on the board of `room`, to the other instances. */
  publishCursors(adapter: object, room: string, cursors: readonly CursorUpdate[]): void {
    if (adapter instanceof BoardAdapter) adapter.publishCursors(room, JSON.stringify(cursors));
  }

  close(): void {
    this.frames.close();
  }
}

/** What another instance published as a position (that instance validated it): the shape the relay keys by. */
function isCursorUpdate(value: unknown): value is CursorUpdate {
  return typeof value === "object" && value !== null && typeof (value as { u?: unknown }).u === "string";
}
