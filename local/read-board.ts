import { randomBytes } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ElementRecord, ServerToClientEvents, SyncAck, UserInput } from "../protocol/events";
import { PROTOCOL_VERSION, toRecord } from "../protocol/events";
import { acknowledged } from "./acknowledgement";

/** Reads boards on behalf of tests and benchmarks, with the view-only link (no edit key): it never draws. */
const reader = (): UserInput => ({
  key: randomBytes(16).toString("base64url"),
  name: "board reader",
  color: "#000000",
});

export interface StoredBoard {
  e: string;
  s: number;
  /** The visible elements in stacking order (z, then s), as every client draws them. */
  records: ElementRecord[];
  /** Every element the snapshot holds, hidden ones included, with its version (odd: hidden). */
  versions: Map<string, number>;
}

/**
 * The board as the store has it, read through a service instance by a fresh client (tests, benchmarks): every
 * snapshot page. Visibility is worked out here from the records and the pages' flip counts (docs/protocol.md), not
 * by the client's board, so that a check made with it does not share the client's mistakes.
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
    const join = { pv: PROTOCOL_VERSION, board, user: reader() };
    let ack = answer(await acknowledged<SyncAck>((callback) => socket.timeout(30_000).emit("join", join, callback)));
    const { e, s } = ack;
    const flips: Record<string, number> = { ...ack.snapshot.k };
    const all = ack.snapshot.records.map(toRecord);
    while (ack.snapshot.next !== undefined) {
      const read = { e, at: s, cursor: ack.snapshot.next };
      ack = answer(await acknowledged<SyncAck>((callback) => socket.timeout(30_000).emit("read", read, callback)));
      if (ack.e !== e) throw new Error(`board ${board} changed epoch while it was read`);
      Object.assign(flips, ack.snapshot.k);
      all.push(...ack.snapshot.records.map(toRecord));
    }
    const versions = new Map(
      all.map((record) => [record.i, record.o === 1 ? record.v : record.v + (flips[record.g] ?? 0)]),
    );
    const records = all
      .filter((record) => (versions.get(record.i) as number) % 2 === 0)
      .sort((a, b) => a.z - b.z || a.s - b.s);
    return { e, s, records, versions };
  } finally {
    socket.close();
  }
}
