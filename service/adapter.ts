/**
 * The Socket.IO adapter that carries a board's operations between instances: @socket.io/redis-adapter's sharded
 * adapter (Redis 7 SPUBLISH/SSUBSCRIBE) in its dynamic mode, so that an instance subscribes to a board's channel
 * only while it has a client on that board, and receives nothing of the others.
 *
 * Wrapped (not forked) in two respects:
 * - `ops` messages that arrive from other instances within one turn of the event loop are merged per board before
 *   they are written to this instance's sockets, so a busy board costs each client one frame per turn rather than
 *   one per instance that wrote;
 * - its subscriptions are guarded ({@link guardSubscriptions}): the adapter calls SSUBSCRIBE and SUNSUBSCRIBE
 *   without waiting for or catching them (@socket.io/redis-adapter 8.3.0, `util.js`), and node-redis registers a
 *   channel's listener only once its SSUBSCRIBE succeeds, so one that fails (a command timeout while Redis is away,
 *   a cluster client not yet connected, a node failing over) would leave that board deaf on this instance for as
 *   long as the room lives, and an unhandled rejection besides. The guard retries it until it succeeds or the room
 *   is gone.
 */
import { createShardedAdapter } from "@socket.io/redis-adapter";
import {
  Adapter,
  MessageType,
  type BroadcastOptions,
  type ClusterAdapter,
  type ClusterMessage,
} from "socket.io-adapter";
import type { BoardOp } from "../protocol/events";
import type { Logger } from "./logger";
import type { SubscribeClient } from "./redis-cluster";

interface EventPacket {
  type: number;
  nsp: string;
  data: [event: string, ...args: unknown[]];
}

type Broadcast = { packet: EventPacket; opts: { rooms: string[]; except: string[]; flags: BroadcastOptions["flags"] } };

/** What an `ops` broadcast carries (see ServerToClientEvents). */
type OpsBatch = { e: string; ops: BoardOp[] };

export function createBoardAdapter(
  pubClient: unknown,
  subClient: SubscribeClient,
  logger: Logger,
): (nsp: unknown) => ClusterAdapter {
  const guarded = guardSubscriptions(subClient, logger);
  const sharded = createShardedAdapter(pubClient, guarded, { subscriptionMode: "dynamic" });
  // Socket.IO calls the factory with `new`: a function (not an arrow) that returns the adapter.
  return function boardAdapter(nsp: unknown) {
    const adapter = sharded(nsp) as unknown as ClusterAdapter;
    mergeRemoteOps(adapter);
    countReceivedBytes(adapter);
    const { dynamicChannel } = adapter as unknown as { dynamicChannel(room: string): string };
    subscriptions.set(adapter, (room) => guarded.subscribed(dynamicChannel.call(adapter, room)));
    return adapter;
  };
}

const subscriptions = new WeakMap<object, (room: string) => Promise<void>>();

/**
 * Settles once `adapter` (made by createBoardAdapter) hears `room`'s channel: the adapter subscribes when the room's
 * first socket joins, without waiting, and a read made before the subscription is answered could miss an operation
 * stored in between (the client would find the gap at its next operation and read again). At once for any other
 * adapter (one instance's in-memory rooms).
 */
export function roomSubscribed(adapter: object, room: string): Promise<void> {
  return subscriptions.get(adapter)?.(room) ?? Promise.resolve();
}

/** Bytes of pub/sub messages an adapter received: on board channels, and on the others (main and response). */
export interface ReceivedBytes {
  board: number;
  other: number;
}

const received = new WeakMap<object, ReceivedBytes>();

/** What `adapter` (made by createBoardAdapter) received from Redis so far; undefined for another adapter. */
export function receivedBytes(adapter: object): ReceivedBytes | undefined {
  return received.get(adapter);
}

/** Counts each raw message by channel before the adapter decodes it (its `onRawMessage`, 8.3.0). */
function countReceivedBytes(adapter: ClusterAdapter): void {
  const raw = adapter as unknown as { channel: string; onRawMessage(message: Buffer, channel: Buffer): void };
  const deliver = raw.onRawMessage.bind(adapter);
  const counts: ReceivedBytes = { board: 0, other: 0 };
  received.set(adapter, counts);
  const boardPrefix = `${raw.channel}b:`;
  raw.onRawMessage = (message, channel) => {
    if (channel.toString().startsWith(boardPrefix)) counts.board += message.length;
    else counts.other += message.length;
    deliver(message, channel);
  };
}

/** Replaces the adapter's handler of messages from other instances with one that merges `ops` per board and turn. */
function mergeRemoteOps(adapter: ClusterAdapter): void {
  const deliver = (adapter as unknown as { onMessage(message: ClusterMessage, offset?: string): void }).onMessage.bind(
    adapter,
  );
  const pending = new Map<string, Broadcast[]>();
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    for (const broadcasts of pending.values()) {
      const [first] = broadcasts as [Broadcast];
      // Consecutive batches of one epoch become one message; a change of epoch (rare) starts another.
      let merged: OpsBatch | undefined;
      const send = () => {
        if (!merged) return;
        const packet: EventPacket = { ...first.packet, data: ["ops", merged] };
        // What the adapter itself does for a message from another instance: write to this instance's sockets.
        Adapter.prototype.broadcast.call(adapter, packet as never, {
          rooms: new Set(first.opts.rooms),
          except: new Set(first.opts.except),
          flags: first.opts.flags,
        });
      };
      for (const { packet } of broadcasts) {
        const batch = packet.data[1] as OpsBatch;
        if (merged && merged.e === batch.e) merged.ops.push(...batch.ops);
        else {
          send();
          merged = { e: batch.e, ops: [...batch.ops] };
        }
      }
      send();
    }
    pending.clear();
  };

  (adapter as unknown as { onMessage(message: ClusterMessage, offset?: string): void }).onMessage = (
    message,
    offset,
  ) => {
    const broadcast =
      message.type === MessageType.BROADCAST ? (message.data as Broadcast & { requestId?: string }) : undefined;
    const mergeable =
      broadcast !== undefined &&
      message.uid !== (adapter as unknown as { uid: string }).uid &&
      message.nsp === adapter.nsp.name &&
      broadcast.requestId === undefined &&
      broadcast.packet.data[0] === "ops" &&
      broadcast.opts.rooms.length === 1 &&
      broadcast.opts.except.length === 0;
    if (!mergeable) return deliver(message, offset);
    const room = broadcast.opts.rooms[0] as string;
    const queued = pending.get(room);
    if (queued) queued.push(broadcast);
    else pending.set(room, [broadcast]);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/** How soon a failed SSUBSCRIBE is tried again (while its room still exists). */
export const RESUBSCRIBE_MS = 250;
/** A subscription still failing after this long is logged. */
const WARN_AFTER_MS = 5_000;

type Listener = (message: Buffer, channel: Buffer) => void;

export interface GuardedSubscriber extends SubscribeClient {
  /** Settles once `channel`'s subscription is made (at once if it is not wanted or already made). Never rejects. */
  subscribed(channel: string): Promise<void>;
}

/**
 * The subscriber as the adapter sees it: `sSubscribe` is retried until it succeeds, for as long as the channel is
 * still wanted (its room exists), and never rejects; `sUnsubscribe` never rejects either (a failed one changes
 * nothing that matters: the node drops a connection's subscriptions when it closes, and a message for a room this
 * instance left finds no socket). Same listener each retry, so node-redis (which keeps listeners in a Set) never
 * delivers a message twice.
 */
export function guardSubscriptions(
  client: SubscribeClient,
  logger: Logger,
  retryMs = RESUBSCRIBE_MS,
): GuardedSubscriber {
  const wanted = new Map<string, Listener>();
  /** Channels wanted but not subscribed yet, each with what settles its `subscribed` promise. */
  const pending = new Map<string, { done: Promise<void>; settle: () => void }>();
  const settle = (channel: string) => {
    pending.get(channel)?.settle();
    pending.delete(channel);
  };
  /** Channels whose subscription is failing, and since when. */
  const failing = new Map<string, { since: number; warned: boolean }>();
  const subscribe = (channel: string, listener: Listener) => {
    let attempt: Promise<unknown>;
    try {
      attempt = Promise.resolve(client.sSubscribe(channel, listener, true));
    } catch (error) {
      attempt = Promise.reject(error);
    }
    attempt.then(
      () => {
        if (failing.get(channel)?.warned) logger.info({ channel }, "redis subscription made after retries");
        failing.delete(channel);
        if (wanted.get(channel) === listener) settle(channel);
      },
      (error: unknown) => {
        if (wanted.get(channel) !== listener) return;
        // Quiet while Redis is still being reached (a cluster client fails at once until its first discovery).
        const state = failing.get(channel) ?? { since: Date.now(), warned: false };
        failing.set(channel, state);
        if (!state.warned && Date.now() - state.since >= WARN_AFTER_MS) {
          state.warned = true;
          logger.warn({ channel, error: (error as Error).message }, "redis subscription failing; retrying");
        }
        setTimeout(() => {
          if (wanted.get(channel) === listener) subscribe(channel, listener);
        }, retryMs).unref();
      },
    );
  };
  return {
    sSubscribe(channel, listener) {
      wanted.set(channel, listener);
      if (!pending.has(channel)) {
        let settleDone!: () => void;
        const done = new Promise<void>((resolve) => (settleDone = resolve));
        pending.set(channel, { done, settle: settleDone });
      }
      subscribe(channel, listener);
      return Promise.resolve();
    },
    subscribed: (channel) => pending.get(channel)?.done ?? Promise.resolve(),
    sUnsubscribe(channel) {
      wanted.delete(channel);
      failing.delete(channel);
      settle(channel);
      let attempt: Promise<unknown>;
      try {
        attempt = Promise.resolve(client.sUnsubscribe(channel));
      } catch (error) {
        attempt = Promise.reject(error);
      }
      return attempt.catch((error: unknown) =>
        logger.debug({ channel, error: (error as Error).message }, "redis unsubscribe failed"),
      );
    },
  };
}
