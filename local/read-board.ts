import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents, Stroke } from "../protocol/events";

/** The board as the store has it, read through a service instance by a fresh client (tests, benchmarks). */
export async function readBoard(url: string, board: string): Promise<Stroke[]> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { transports: ["websocket"], forceNew: true });
  try {
    const ack = await socket.timeout(30_000).emitWithAck("join", { board });
    if (!ack.ok) throw new Error(`cannot read board ${board}: ${ack.error}`);
    return ack.strokes;
  } finally {
    socket.close();
  }
}
