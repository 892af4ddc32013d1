/**
 * A Node Socket.IO client for tests, typed by the shared protocol, that records what the server pushes.
 */
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, JoinAck, JoinRequest, ServerToClientEvents, Stroke, StrokeInput, WriteAck } from "../../protocol/events";
import { waitFor } from "../../local/ports";

export type ProtocolSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestClient {
  socket: ProtocolSocket;
  /** Every `stroke` pushed to this client, in arrival order. */
  strokes: Stroke[];
  cleared: number[];
  presence: number[];
  join(request: JoinRequest): Promise<JoinAck>;
  stroke(input: StrokeInput): Promise<WriteAck>;
  clear(): Promise<WriteAck>;
  /** Sends anything at all, as a broken or hostile client would. */
  raw(event: string, ...args: unknown[]): Promise<unknown>;
  close(): void;
}

const ACK_TIMEOUT_MS = 5_000;

export async function connectClient(url: string, options: { reconnection?: boolean; origin?: string } = {}): Promise<TestClient> {
  const socket: ProtocolSocket = io(url, {
    transports: ["websocket"],
    reconnection: options.reconnection ?? false,
    forceNew: true,
    extraHeaders: options.origin ? { origin: options.origin } : {},
  });
  const client: TestClient = {
    socket,
    strokes: [],
    cleared: [],
    presence: [],
    join: (request) => socket.timeout(ACK_TIMEOUT_MS).emitWithAck("join", request),
    stroke: (input) => socket.timeout(ACK_TIMEOUT_MS).emitWithAck("stroke", input),
    clear: () => socket.timeout(ACK_TIMEOUT_MS).emitWithAck("clear", {}),
    raw: (event, ...args) => (socket.timeout(ACK_TIMEOUT_MS) as unknown as Socket).emitWithAck(event, ...args),
    close: () => socket.close(),
  };
  socket.on("stroke", (stroke) => client.strokes.push(stroke));
  socket.on("cleared", ({ seq }) => client.cleared.push(seq));
  socket.on("presence", ({ count }) => client.presence.push(count));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return client;
}

let strokeCounter = 0;

/** A valid stroke with a fresh id. */
export function makeStroke(overrides: Partial<StrokeInput> = {}): StrokeInput {
  strokeCounter += 1;
  return {
    id: `s${process.pid}-${strokeCounter}`,
    points: [
      [0.1, 0.1],
      [0.5, 0.5 + (strokeCounter % 100) / 1000],
    ],
    color: "#1a2b3c",
    width: 4,
    ...overrides,
  };
}

export function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  return waitFor(what, check, timeoutMs, 10);
}
