import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents, StrokeRecord, SyncAck, UserInfo } from "../protocol/events";
import { toRecord } from "../protocol/events";

/** Reads boards on behalf of tests and benchmarks; never draws. */
export const READER: UserInfo = { id: "board-reader", name: "board reader", color: "#000000" };

export interface StoredBoard {
  e: string;
  s: number;
  /** The visible strokes in seq order. */
  records: StrokeRecord[];
}

/**
 * The board as the store has it, read through a service instance by a fresh client (tests, benchmarks): every
 * snapshot page, in seq order.
 */
export async function readBoard(url: string, board: string): Promise<StoredBoard> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
    transports: ["websocket"],
    forceNew: true,
  });
  const answer = (ack: SyncAck) => {
    if (!ack.ok) throw new Error(`cannot read board ${board}: ${ack.error}`);
    if (!("snapshot" in ack)) throw new Error(`reading board ${board} from scratch gave operations, not a snapshot`);
    return ack;
  };
  // After timeout(), emitWithAck is typed Promise<any> (socket.io-client 4.8); the callback form keeps SyncAck.
  const request = (send: (callback: (error: Error | null, ack: SyncAck) => void) => void) =>
    new Promise<SyncAck>((resolve, reject) => send((error, ack) => (error ? reject(error) : resolve(ack))));
  try {
    let ack = answer(
      await request((callback) => socket.timeout(30_000).emit("join", { board, user: READER }, callback)),
    );
    const { e, s } = ack;
    const records = ack.snapshot.records.map(toRecord);
    while (ack.snapshot.next !== undefined) {
      const read = { e, at: s, cursor: ack.snapshot.next };
      ack = answer(await request((callback) => socket.timeout(30_000).emit("read", read, callback)));
      records.push(...ack.snapshot.records.map(toRecord));
    }
    return { e, s, records: records.sort((a, b) => a.s - b.s) };
  } finally {
    socket.close();
  }
}
