/**
 * A Node Socket.IO client for tests, typed by the shared protocol, that records what the server pushes.
 */
import { io, type Socket } from "socket.io-client";
import type {
  BoardOp,
  ClientToServerEvents,
  CursorUpdate,
  JoinRequest,
  ReadRequest,
  ServerToClientEvents,
  StrokeInput,
  SyncAck,
  UserInfo,
  WriteAck,
} from "../../protocol/events";
import { encodePoints } from "../../protocol/points";
import { waitFor } from "../../local/ports";

export type ProtocolSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestClient {
  socket: ProtocolSocket;
  user: UserInfo;
  /** Every operation pushed to this client, in arrival order. */
  ops: BoardOp[];
  /** The epoch of each `ops` message, in arrival order. */
  epochs: string[];
  presence: number[];
  heads: { e: string; s: number }[];
  cursors: CursorUpdate[][];
  /** Joins as this client's user unless the request names another. */
  join(request: Omit<JoinRequest, "user"> & { user?: UserInfo }): Promise<SyncAck>;
  read(request: ReadRequest): Promise<SyncAck>;
  stroke(input: StrokeInput): Promise<WriteAck>;
  erase(x: [string, number][]): Promise<WriteAck>;
  restore(x: [string, number][]): Promise<WriteAck>;
  clear(): Promise<WriteAck>;
  unclear(of: number): Promise<WriteAck>;
  /** Sends anything at all, as a broken or hostile client would. */
  raw(event: string, ...args: unknown[]): Promise<unknown>;
  close(): void;
}

const ACK_TIMEOUT_MS = 5_000;
let userCounter = 0;

/** A valid user with a fresh id. */
export function makeUser(name = "Tester"): UserInfo {
  userCounter += 1;
  return { id: `user-${process.pid}-${userCounter}`.padEnd(8, "0"), name, color: "#336699" };
}

export interface ConnectOptions {
  reconnection?: boolean;
  origin?: string;
  user?: UserInfo;
  /** Connect from this local address: any of 127.0.0.0/8 is another client address on loopback. */
  localAddress?: string;
  /** More request headers (X-Forwarded-For, X-Forwarded-Proto...). */
  headers?: Record<string, string>;
}

export async function connectClient(url: string, options: ConnectOptions = {}): Promise<TestClient> {
  const socket: ProtocolSocket = io(url, {
    transports: ["websocket"],
    reconnection: options.reconnection ?? false,
    forceNew: true,
    extraHeaders: { ...options.headers, ...(options.origin ? { origin: options.origin } : {}) },
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const user = options.user ?? makeUser();
  const timed = () => socket.timeout(ACK_TIMEOUT_MS);
  const client: TestClient = {
    socket,
    user,
    ops: [],
    epochs: [],
    presence: [],
    heads: [],
    cursors: [],
    join: (request) => timed().emitWithAck("join", { user, ...request }),
    read: (request) => timed().emitWithAck("read", request),
    stroke: (input) => timed().emitWithAck("stroke", input),
    erase: (x) => timed().emitWithAck("erase", { x }),
    restore: (x) => timed().emitWithAck("restore", { x }),
    clear: () => timed().emitWithAck("clear", {}),
    unclear: (of) => timed().emitWithAck("unclear", { of }),
    raw: (event, ...args) => (timed() as unknown as Socket).emitWithAck(event, ...args),
    close: () => socket.close(),
  };
  socket.on("ops", ({ e, ops }) => {
    client.epochs.push(e);
    client.ops.push(...ops);
  });
  socket.on("presence", ({ count }) => client.presence.push(count));
  socket.on("head", (head) => client.heads.push(head));
  socket.on("cursors", (cursors) => client.cursors.push(cursors));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return client;
}

/** The ids of the strokes added among `ops`, in arrival order. */
export const addedIds = (ops: readonly BoardOp[]) => ops.flatMap((op) => (op.t === "s" ? [op.r[3]] : []));

let strokeCounter = 0;

/** A valid stroke with a fresh id. */
export function makeStroke(overrides: Partial<StrokeInput> = {}): StrokeInput {
  strokeCounter += 1;
  return {
    id: `s${process.pid}-${strokeCounter}`,
    p: encodePoints([
      [1_000, 1_000],
      [5_000, 5_000 + (strokeCounter % 100)],
    ]),
    c: "#1a2b3c",
    w: 4,
    ...overrides,
  };
}

export function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  return waitFor(what, check, timeoutMs, 10);
}
