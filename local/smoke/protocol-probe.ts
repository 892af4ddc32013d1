/**
 * Everything `make smoke` says in the whiteboard's wire protocol, in one place: Socket.IO's client with the raw events
 * of protocol version 2 (`join` with the board's edit key or without it, `add` of a freehand line and its
 * acknowledgement, the `ops` broadcast, a join's snapshot for a late joiner). Porting the smoke test to another
 * protocol version is porting this file; ./smoke.ts knows only {@link ProbeClient} and the board's link.
 */
import { randomBytes } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import { encodeSamples } from "../../protocol/points";

const ACK_TIMEOUT_MS = 10_000;
const PROTOCOL_VERSION = 2;

/** One browser-like client of a deployed whiteboard. */
export interface ProbeClient {
  /**
   * Joins `board`, able to draw with its edit key `edit` (view only without it); resolves with the ids of the
   * elements the board already holds (a late joiner's catch-up).
   */
  join(board: string, edit?: string): Promise<string[]>;
  /** Draws one freehand line on the joined board; resolves with its id once the service acknowledged it. */
  draw(): Promise<string>;
  /** Resolves once an element of this id has been broadcast to this client, or rejects after `timeoutMs`. */
  sees(elementId: string, timeoutMs: number): Promise<void>;
  /** Whether the WebSocket is open now; `disconnects` counts how often it closed. */
  readonly connected: boolean;
  readonly disconnects: number;
  close(): void;
}

/** What a browser keeps: a random key the service derives the user's id from, and an element id per line. */
const randomKey = (bytes: number) => randomBytes(bytes).toString("base64url");

/** The id of an element in a record (an `a` operation's `r`, a snapshot's records): its fifth field. */
const idOf = (record: unknown): string | undefined =>
  Array.isArray(record) && typeof record[4] === "string" ? record[4] : undefined;

/** Opens a WebSocket (never long-polling, as the browser client) to `url`, as a page of `origin` would. */
export async function openClient(url: string, origin: string): Promise<ProbeClient> {
  const socket: Socket = io(url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: { origin },
  });
  const user = { key: randomKey(16), name: "make smoke", color: "#336699" };
  const seen = new Set<string>();
  const waiting = new Map<string, () => void>();
  let disconnects = 0;
  let lines = 0;
  socket.on("disconnect", () => (disconnects += 1));
  socket.on("ops", (message: { ops?: Array<{ t?: string; r?: unknown }> }) => {
    for (const op of message.ops ?? []) {
      const id = op.t === "a" ? idOf(op.r) : undefined;
      if (id === undefined) continue;
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
    async join(board, edit) {
      const answer = await ack("join", { pv: PROTOCOL_VERSION, board, user, ...(edit ? { edit } : {}) });
      const records = (answer.snapshot as { records?: unknown[] } | undefined)?.records ?? [];
      return records.map(idOf).filter((id): id is string => id !== undefined);
    },
    async draw() {
      lines += 1;
      const id = randomKey(12);
      const d = encodeSamples([
        [1_000, 1_000, 0],
        [5_000, 5_000 + (lines % 100), 0],
      ]);
      await ack("add", { id, t: "f", b: [1_000, 1_000, 4_000, 4_000 + (lines % 100)], c: "#1a2b3c", sw: 4, f: "", d });
      return id;
    },
    sees(elementId, timeoutMs) {
      if (seen.has(elementId)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(elementId);
          reject(new Error(`line ${elementId} did not arrive within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(elementId, () => {
          clearTimeout(timer);
          waiting.delete(elementId);
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
