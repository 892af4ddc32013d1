/**
 * A load process of the scale-out benchmark: holds a slice of the clients, joins each to its board, and has each
 * board's drawer send a stroke every `strokeEveryMs`; watchers count the frames that reach them. Both systems carry
 * the same frame: ours broadcasts it, the plain adapter relays it as the drawer sent it (bench/lib/protocol.ts).
 * Talks to its parent over IPC: `connect` → `connected`, `draw` → `report`, `close`.
 */
import { io, type Socket } from "socket.io-client";
import { acknowledged } from "../../local/acknowledgement";
import * as wire from "../lib/protocol";

export type ScaleSystem = "sharded" | "plain";

export interface ScaleClient {
  url: string;
  board: string;
  drawer: boolean;
}

export type ScaleCommand =
  | { kind: "connect"; system: ScaleSystem; clients: ScaleClient[]; first: number }
  | { kind: "draw"; durationMs: number; strokeEveryMs: number; pointsPerStroke: number }
  | { kind: "close" };

export interface ScaleReport {
  strokesSent: number;
  strokesStored: number;
  /** Strokes stored (ours: acknowledged; plain: sent), by board. */
  storedByBoard: Record<string, number>;
  received: number;
  errors: number;
}

/** The plain adapter's server (bench/scale/plain-server.ts): its own join, and the frame relayed. */
interface PlainEvents {
  join: (request: { board: string }, ack: (answer: { ok: boolean }) => void) => void;
  drawing: (frame: wire.Frame) => void;
}

type Connected =
  | { system: "sharded"; socket: wire.WireSocket; client: ScaleClient; id: number }
  | { system: "plain"; socket: Socket<PlainEvents, PlainEvents>; client: ScaleClient; id: number };

const connected: Connected[] = [];
let report: ScaleReport = { strokesSent: 0, strokesStored: 0, storedByBoard: {}, received: 0, errors: 0 };

async function connectOne(system: ScaleSystem, client: ScaleClient, id: number): Promise<void> {
  if (system === "sharded") {
    const socket = wire.openSocket(client.url);
    socket.on(wire.FRAME_EVENT, () => (report.received += 1));
    socket.on("connect_error", () => (report.errors += 1));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    await wire.join(socket, client.board, id);
    connected.push({ system, socket, client, id });
  } else {
    const socket: Socket<PlainEvents, PlainEvents> = io(client.url, { transports: ["websocket"], forceNew: true });
    socket.on("drawing", () => (report.received += 1));
    socket.on("connect_error", () => (report.errors += 1));
    // The board's id as ours knows it: room names (and so the relayed message) as long as ours'.
    const request = { board: wire.boardId(client.board) };
    const answer = await acknowledged<{ ok: boolean }>((callback) =>
      socket.timeout(60_000).emit("join", request, callback),
    );
    if (!answer.ok) throw new Error(`join of ${client.board} refused`);
    connected.push({ system, socket, client, id });
  }
}

async function connectAll(system: ScaleSystem, clients: ScaleClient[], first: number): Promise<void> {
  for (let start = 0; start < clients.length; start += 50) {
    await Promise.all(
      clients.slice(start, start + 50).map((client, i) => connectOne(system, client, first + start + i)),
    );
  }
}

function draw(durationMs: number, strokeEveryMs: number, pointsPerStroke: number): Promise<void> {
  const drawers = connected.filter(({ client }) => client.drawer);
  const tag = `k${process.pid.toString(36)}${Date.now().toString(36)}`;
  const stored = (board: string) => {
    report.strokesStored += 1;
    report.storedByBoard[board] = (report.storedByBoard[board] ?? 0) + 1;
  };
  const timers = drawers.map((drawer, index) => {
    let line = 0;
    const tick = () => {
      const piece: wire.Piece = { tag, sender: drawer.id, line, n: 0, first: 0, count: pointsPerStroke };
      line += 1;
      report.strokesSent += 1;
      if (drawer.system === "sharded") {
        wire.sendPiece(drawer.socket, piece, (outcome) =>
          outcome.stored ? stored(drawer.client.board) : (report.errors += 1),
        );
      } else {
        drawer.socket.emit("drawing", wire.baselineFrame(piece, line));
        stored(drawer.client.board);
      }
    };
    return setTimeout(
      () => {
        tick();
        timers[index] = setInterval(tick, strokeEveryMs);
      },
      (index * strokeEveryMs) / Math.max(1, drawers.length),
    );
  });
  return new Promise((resolve) =>
    setTimeout(() => {
      for (const timer of timers) clearInterval(timer);
      resolve();
    }, durationMs),
  );
}

process.on("message", (message: ScaleCommand) => {
  void (async () => {
    if (message.kind === "connect") {
      await connectAll(message.system, message.clients, message.first);
      process.send?.({ kind: "connected" });
    } else if (message.kind === "draw") {
      report = { strokesSent: 0, strokesStored: 0, storedByBoard: {}, received: 0, errors: 0 };
      await draw(message.durationMs, message.strokeEveryMs, message.pointsPerStroke);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last strokes' deliveries
      process.send?.({ kind: "report", report });
    } else {
      for (const { socket } of connected) socket.close();
      process.exit(0);
    }
  })().catch((error: Error) => {
    process.send?.({ kind: "error", message: error.message });
  });
});
