/**
 * The Socket.IO adapter that carries boards between instances over Redis 7 sharded pub/sub (SPUBLISH/SSUBSCRIBE), a
 * subclass of socket.io-adapter's public ClusterAdapter, as @socket.io/redis-adapter's sharded adapter is:
 *
 * - one channel per board room, subscribed only while this instance has a socket in the room (and for LINGER_MS
 *   after the last one left, so that a client reconnecting or a socket hopping between boards costs Redis no
 *   SUNSUBSCRIBE and SSUBSCRIBE each time); a main channel for everything else (presence notices, requests), and a
 *   channel of its own for the answers to its requests;
 * - every subscription goes through the guard (./subscriptions.ts), which retries a failed SSUBSCRIBE for as long as
 *   the channel is wanted; a join waits for its board's subscription ({@link roomSubscribed});
 * - a board's stored operations and its users' cursor positions travel compactly ({@link BoardAdapter.publishOps},
 *   {@link BoardAdapter.publishCursors}, ./messages.ts) and are handed as they came to what merges them with the
 *   board's others on this instance (the frame pacer, the cursor relay); every other message is a JSON
 *   ClusterMessage handled by ClusterAdapter;
 * - the bytes received are counted by channel kind (board or other), for the metrics.
 *
 * Messages are JSON: a binary payload (which the service never emits) would not survive the trip.
 */
import type { Namespace } from "socket.io";
import { ClusterAdapter, MessageType, type ClusterMessage, type ClusterResponse, type Offset } from "socket.io-adapter";
import type { Logger } from "../logger";
import type { Announcement } from "../store/board-store";
import {
  decodeCursors,
  decodeOps,
  encodeCursors,
  encodeOps,
  isFrom,
  kindOf,
  newOrigin,
  OPS,
  opsHead,
} from "./messages";
import type { Publisher } from "./pubsub";
import type { GuardedSubscriber } from "./subscriptions";

export interface BoardAdapterOptions {
  publisher: Publisher;
  /** Shared by every namespace's adapter. */
  subscriber: GuardedSubscriber;
  logger: Logger;
  /** Operations another instance stored on the board of `room` (a JSON array as the store wrote it). */
  onRemoteOps(room: string, e: string, ops: string): void;
  /** Positions of another instance's users on the board of `room` (as that instance published them). */
  onRemoteCursors(room: string, cursors: unknown[]): void;
}

/** Channels are `wb#<namespace>#`, `wb#<namespace>#<room>#` and `wb#<namespace>#<adapter uid>#` (answers). */
const CHANNEL_PREFIX = "wb";
/** How long a room's channel stays subscribed after its last socket here left. */
export const LINGER_MS = 5_000;

/** Bytes of pub/sub messages received: on board channels, and on the others (main and answers). */
export interface ReceivedBytes {
  board: number;
  other: number;
}

type Listener = (message: Buffer, channel: Buffer) => void;

export class BoardAdapter extends ClusterAdapter {
  /** The namespace's main channel, which every instance subscribes to. */
  readonly channel: string;
  readonly received: ReceivedBytes = { board: 0, other: 0 };
  private readonly responseChannel: string;
  /** Tags this adapter's ops messages, so that it drops its own when Redis sends them back. */
  private readonly origin = newOrigin();
  private readonly listener: Listener = (message, channel) => this.onRawMessage(message, channel);
  /** Rooms gone from this instance whose channel is still subscribed, with the timer that will unsubscribe it. */
  private readonly lingering = new Map<string, NodeJS.Timeout>();

  constructor(
    nsp: Namespace,
    private readonly options: BoardAdapterOptions,
  ) {
    super(nsp);
    this.channel = `${CHANNEL_PREFIX}#${nsp.name}#`;
    this.responseChannel = `${this.channel}${this.uid}#`;
    void options.subscriber.sSubscribe(this.channel, this.listener, true);
    void options.subscriber.sSubscribe(this.responseChannel, this.listener, true);
    this.on("create-room", (room: string) => {
      if (this.sids.has(room)) return; // a socket's own room: nobody else sends to it here
      const timer = this.lingering.get(room);
      if (timer) {
        clearTimeout(timer);
        this.lingering.delete(room);
        return;
      }
      void options.subscriber.sSubscribe(this.roomChannel(room), this.listener, true);
    });
    this.on("delete-room", (room: string) => {
      if (this.sids.has(room) || this.lingering.has(room)) return;
      const timer = setTimeout(() => {
        this.lingering.delete(room);
        void options.subscriber.sUnsubscribe(this.roomChannel(room));
      }, LINGER_MS);
      timer.unref();
      this.lingering.set(room, timer);
    });
  }

  /** Settles once this instance hears `room`'s channel (at once if it already does). Never rejects. */
  subscribed(room: string): Promise<void> {
    return this.options.subscriber.subscribed(this.roomChannel(room));
  }

  /** Sends operations stored on `room`'s board to the other instances with a socket in it. */
  publishOps(room: string, e: string, ops: string): void {
    this.publishOnRoom(room, encodeOps(this.origin, e, ops));
  }

  /** Where the store may publish the operations it stores on `room`'s board, as {@link publishOps} would. */
  opsAnnouncement(room: string): Announcement {
    return { channel: this.roomChannel(room), head: opsHead(this.origin) };
  }

  /** Sends this instance's users' cursor positions (a JSON array) to the other instances with a socket in `room`. */
  publishCursors(room: string, cursors: string): void {
    this.publishOnRoom(room, encodeCursors(this.origin, cursors));
  }

  override serverCount(): Promise<number> {
    return this.options.publisher.shardSubscribers(this.channel);
  }

  override async close(): Promise<void> {
    for (const timer of this.lingering.values()) clearTimeout(timer);
    const rooms = [...this.rooms.keys(), ...this.lingering.keys()].filter((room) => !this.sids.has(room));
    this.lingering.clear();
    const channels = [this.channel, this.responseChannel, ...rooms.map((room) => this.roomChannel(room))];
    await Promise.all(channels.map((channel) => this.options.subscriber.sUnsubscribe(channel)));
  }

  protected override async doPublish(message: ClusterMessage): Promise<Offset> {
    await this.options.publisher.sPublish(this.channelOf(message), JSON.stringify(message));
    return "";
  }

  protected override async doPublishResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    await this.options.publisher.sPublish(`${this.channel}${requesterUid}#`, JSON.stringify(response));
  }

  /** A lost message is found again by the clients (`head`, gaps); Redis being away is its connection's news. */
  private publishOnRoom(room: string, message: string): void {
    this.options.publisher
      .sPublish(this.roomChannel(room), message)
      .catch((error: Error) => this.options.logger.debug({ room, error: error.message }, "publish failed"));
  }

  private roomChannel(room: string): string {
    return `${this.channel}${room}#`;
  }

  /**
   * A broadcast to one room without acknowledgements goes on the room's channel, which only the instances with a
   * socket there receive; everything else on the main channel. A room of 20 characters is taken for a socket's own
   * (Socket.IO's ids have 20), which no other instance subscribes to, as @socket.io/redis-adapter does.
   */
  private channelOf(message: ClusterMessage): string {
    if (message.type !== MessageType.BROADCAST || message.data.requestId !== undefined) return this.channel;
    const [room, ...others] = message.data.opts.rooms;
    return room !== undefined && others.length === 0 && room.length !== 20 ? this.roomChannel(room) : this.channel;
  }

  private onRawMessage(message: Buffer, channelBuffer: Buffer): void {
    const channel = channelBuffer.toString();
    const onRoom = channel !== this.channel && channel !== this.responseChannel;
    if (onRoom) this.received.board += message.length;
    else this.received.other += message.length;
    const kind = kindOf(message);
    if (kind !== undefined) {
      if (!onRoom || isFrom(message, this.origin)) return;
      const room = channel.slice(this.channel.length, -1);
      if (kind === OPS) {
        const ops = decodeOps(message);
        if (ops) this.options.onRemoteOps(room, ops.e, ops.ops);
      } else {
        const cursors = decodeCursors(message);
        if (cursors) this.options.onRemoteCursors(room, cursors);
      }
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.toString());
    } catch {
      return;
    }
    // Answers to this adapter's requests too: ClusterAdapter hands them on to onResponse by their type.
    if (isClusterMessage(parsed)) this.onMessage(parsed);
  }
}

/** The envelope every ClusterMessage and ClusterResponse has; ClusterAdapter goes by `type` for the rest. */
function isClusterMessage(value: unknown): value is ClusterMessage {
  if (typeof value !== "object" || value === null) return false;
  const { uid, nsp, type } = value as Record<string, unknown>;
  return typeof uid === "string" && typeof nsp === "string" && typeof type === "number";
}

/**
 * Settles once `adapter` hears `room`'s channel: a BoardAdapter subscribes when the room's first socket joins,
 * without waiting, and a read made before the subscription is answered could miss an operation stored in between.
 * At once for any other adapter (one instance's in-memory rooms).
 */
export function roomSubscribed(adapter: object, room: string): Promise<void> {
  return adapter instanceof BoardAdapter ? adapter.subscribed(room) : Promise.resolve();
}

/** A BoardAdapter class bound to its options, as Socket.IO's `adapter` option wants: it constructs one per namespace. */
export function boardAdapterClass(options: BoardAdapterOptions) {
  return class BoundBoardAdapter extends BoardAdapter {
    constructor(nsp: Namespace) {
      super(nsp, options);
    }
  };
}
