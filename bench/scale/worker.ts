/**
 * A load process of the scale-out benchmark: holds a slice of the clients, joins each to its board, and has each
 * board's drawer send a stroke every `strokeEveryMs`; watchers only count what reaches them. Talks to its parent
 * over IPC: `connect` → `connected`, `draw` → `report`, `close`.
 */
import { io, type Socket } from "socket.io-client";
import { encodePoints } from "../../protocol/points";

export type ScaleSystem = "sharded" | "plain";

export interface ScaleClient {
  url: string;
  board: string;
  drawer: boolean;
}

export type ScaleCommand =
  | { kind: "connect"; system: ScaleSystem; clients: ScaleClient[] }
  | { kind: "draw"; durationMs: number; strokeEveryMs: number }
  | { kind: "close" };

export interface ScaleReport {
  strokesSent: number;
  strokesAcked: number;
  received: number;
  errors: number;
}

const sockets: { socket: Socket; client: ScaleClient }[] = [];
let system: ScaleSystem = "sharded";
const report: ScaleReport = { strokesSent: 0, strokesAcked: 0, received: 0, errors: 0 };
let userCounter = 0;

async function connectOne(client: ScaleClient): Promise<void> {
  const socket = io(client.url, { transports: ["websocket"], forceNew: true, reconnection: false });
  socket.on("ops", () => (report.received += 1));
  socket.on("drawing", () => (report.received += 1));
  socket.on("connect_error", () => (report.errors += 1));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  userCounter += 1;
  const user = { id: `bench-${process.pid}-${userCounter}`.padEnd(8, "0"), name: "Bench", color: "#336699" };
  const answer = (await socket
    .timeout(60_000)
    .emitWithAck("join", system === "sharded" ? { board: client.board, user } : { board: client.board })) as {
    ok: boolean;
  };
  if (!answer.ok) throw new Error(`join refused: ${JSON.stringify(answer)}`);
  sockets.push({ socket, client });
}

async function connectAll(clients: ScaleClient[]): Promise<void> {
  for (let start = 0; start < clients.length; start += 50) {
    await Promise.all(clients.slice(start, start + 50).map(connectOne));
  }
}

function draw(durationMs: number, strokeEveryMs: number): Promise<void> {
  const drawers = sockets.filter(({ client }) => client.drawer);
  let strokeCounter = 0;
  const timers = drawers.map(({ socket }, index) =>
    setTimeout(
      () => {
        const tick = () => {
          strokeCounter += 1;
          const x = 1_000 + (strokeCounter % 100) * 50;
          const p = encodePoints(Array.from({ length: 8 }, (_, i) => [x + i * 20, 2_000 + i * 15] as [number, number]));
          report.strokesSent += 1;
          if (system === "sharded") {
            socket
              .timeout(10_000)
              .emitWithAck("stroke", { id: `s${process.pid}x${strokeCounter}`, p, c: "#224466", w: 2 })
              .then((ack: { ok: boolean }) => (ack.ok ? (report.strokesAcked += 1) : (report.errors += 1)))
              .catch(() => (report.errors += 1));
          } else {
            socket.emit("drawing", { p, c: "#224466", w: 2 });
            report.strokesAcked += 1;
          }
        };
        tick();
        timers[index] = setInterval(tick, strokeEveryMs);
      },
      (index * strokeEveryMs) / Math.max(1, drawers.length),
    ),
  );
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
      system = message.system;
      await connectAll(message.clients);
      process.send?.({ kind: "connected" });
    } else if (message.kind === "draw") {
      Object.assign(report, { strokesSent: 0, strokesAcked: 0, received: 0, errors: 0 });
      await draw(message.durationMs, message.strokeEveryMs);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last strokes' deliveries
      process.send?.({ kind: "report", report });
    } else {
      for (const { socket } of sockets) socket.close();
      process.exit(0);
    }
  })().catch((error: Error) => {
    process.send?.({ kind: "error", message: error.message });
  });
});
