/**
 * Everything `make smoke` says in the whiteboard's wire protocol, in one place: Socket.IO's client with the raw events
 * of protocol version 1 (`join`, `stroke` and their acknowledgements, the `ops` broadcast, a join's snapshot for a late
 * joiner). Porting the smoke test to another protocol version is porting this file; ./smoke.ts knows only
 * {@link ProbeClient}.
 */
import { io, type Socket } from "socket.io-client";
import { encodePoints } from "../../protocol/points";

const ACK_TIMEOUT_MS = 10_000;

/** One browser-like client of a deployed whiteboard. */
export interface ProbeClient {
  /** Joins `board`; resolves with the ids of the strokes the board already holds (a late joiner's catch-up). */
  join(board: string): Promise<string[]>;
  /** Draws one stroke on the joined board; resolves with its id once the service acknowledged it. */
  draw(): Promise<string>;
  /** Resolves once a stroke of this id has been broadcast to this client, or rejects after `timeoutMs`. */
  sees(strokeId: string, timeoutMs: number): Promise<void>;
  /** Whether the WebSocket is open now; `disconnects` counts how often it closed. */
  readonly connected: boolean;
  readonly disconnects: number;
  close(): void;
}

let counter = 0;

/** Opens a WebSocket (never long-polling, as the browser client) to `url`, as a page of `origin` would. */
export async function openClient(url: string, origin: string): Promise<ProbeClient> {
  const socket: Socket = io(url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: { origin },
  });
  counter += 1;
  const user = { id: `smoke-${process.pid}-${counter}`.padEnd(8, "0"), name: "make smoke", color: "#336699" };
  const seen = new Set<string>();
  const waiting = new Map<string, () => void>();
  let disconnects = 0;
  socket.on("disconnect", () => (disconnects += 1));
  socket.on("ops", (message: { ops?: Array<{ t?: string; r?: unknown[] }> }) => {
    for (const op of message.ops ?? []) {
      const id = op.t === "s" ? op.r?.[3] : undefined;
      if (typeof id !== "string") continue;
      seen.add(id);
      waiting.get(id)?.();
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const ack = async (event: string, payload: unknown): Promise<Record<string, unknown>> => {
    const answer = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as Record<string, unknown>;
    if (answer.ok !== true) throw new Error(`${event} refused: ${JSON.stringify(answer)}`);
    return answer;
  };
  return {
    async join(board) {
      const answer = await ack("join", { board, user });
      const records = (answer.snapshot as { records?: unknown[][] } | undefined)?.records ?? [];
      return records.map((record) => record[3]).filter((id): id is string => typeof id === "string");
    },
    async draw() {
      counter += 1;
      const id = `smoke-${process.pid}-${counter}`;
      const points = encodePoints([
        [1_000, 1_000],
        [5_000, 5_000 + (counter % 100)],
      ]);
      await ack("stroke", { id, p: points, c: "#1a2b3c", w: 4 });
      return id;
    },
    sees(strokeId, timeoutMs) {
      if (seen.has(strokeId)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(strokeId);
          reject(new Error(`stroke ${strokeId} did not arrive within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(strokeId, () => {
          clearTimeout(timer);
          waiting.delete(strokeId);
          resolve();
        });
      });
    },
    get connected() {
      return socket.connected;
    },
    get disconnects() {
      return disconnects;
    },
    close: () => socket.close(),
  };
}
