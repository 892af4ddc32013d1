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
  try {
    let ack = answer(await socket.timeout(30_000).emitWithAck("join", { board, user: READER }));
    const { e, s } = ack;
    const records = ack.snapshot.records.map(toRecord);
    while (ack.snapshot.next !== undefined) {
      ack = answer(await socket.timeout(30_000).emitWithAck("read", { e, at: s, cursor: ack.snapshot.next }));
      records.push(...ack.snapshot.records.map(toRecord));
    }
    return { e, s, records: records.sort((a, b) => a.s - b.s) };
  } finally {
    socket.close();
  }
}
