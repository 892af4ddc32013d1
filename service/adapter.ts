/**
 * The Socket.IO adapter that carries a board's operations between instances: @socket.io/redis-adapter's sharded
 * adapter (Redis 7 SPUBLISH/SSUBSCRIBE) in its dynamic mode, so that an instance subscribes to a board's channel
 * only while it has a client on that board, and receives nothing of the others.
 *
 * Wrapped (not forked) in one respect: `ops` messages that arrive from other instances within one turn of the
 * event loop are merged per board before they are written to this instance's sockets, so a busy board costs
 * each client one frame per turn rather than one per instance that wrote.
 */
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { Adapter, MessageType, type BroadcastOptions, type ClusterAdapter, type ClusterMessage } from "socket.io-adapter";
import type { BoardOp } from "../protocol/events";

interface EventPacket {
  type: number;
  nsp: string;
  data: [event: string, ...args: unknown[]];
}

type Broadcast = { packet: EventPacket; opts: { rooms: string[]; except: string[]; flags: BroadcastOptions["flags"] } };

/** What an `ops` broadcast carries (see ServerToClientEvents). */
type OpsBatch = { e: string; ops: BoardOp[] };

export function createBoardAdapter(pubClient: unknown, subClient: unknown): (nsp: unknown) => ClusterAdapter {
  const sharded = createShardedAdapter(pubClient, subClient, { subscriptionMode: "dynamic" });
  // Socket.IO calls the factory with `new`: a function (not an arrow) that returns the adapter.
  return function boardAdapter(nsp: unknown) {
    const adapter = sharded(nsp) as unknown as ClusterAdapter;
    mergeRemoteOps(adapter);
    return adapter;
  };
}

/** Replaces the adapter's handler of messages from other instances with one that merges `ops` per board and turn. */
function mergeRemoteOps(adapter: ClusterAdapter): void {
  const deliver = (adapter as unknown as { onMessage(message: ClusterMessage, offset?: string): void }).onMessage.bind(adapter);
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

  (adapter as unknown as { onMessage(message: ClusterMessage, offset?: string): void }).onMessage = (message, offset) => {
    const broadcast = message.type === MessageType.BROADCAST ? (message.data as Broadcast & { requestId?: string }) : undefined;
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
