/**
 * A Node Socket.IO client for tests, typed by the shared protocol, that records what the server pushes.
 */
import { randomBytes } from "node:crypto";
import { io, type Socket } from "socket.io-client";
import {
  PROTOCOL_VERSION,
  type AppendInput,
  type BoardOp,
  type ClientToServerEvents,
  type CursorUpdate,
  type EditRequest,
  type ElementInput,
  type JoinRequest,
  type ReadRequest,
  type ServerToClientEvents,
  type SyncAck,
  type UserInput,
  type WriteAck,
} from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { waitFor } from "../../local/ports";
import { newBoard, userIdOf } from "../../service/identity";

type ProtocolSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestClient {
  socket: ProtocolSocket;
  user: UserInput;
  /** The id the service derives from this client's key: the `u` of what it writes. */
  id: string;
  /** Every operation pushed to this client, in arrival order. */
  ops: BoardOp[];
  /** The epoch of each `ops` message, in arrival order. */
  epochs: string[];
  presence: number[];
  heads: { e: string; s: number }[];
  cursors: CursorUpdate[][];
  /** Joins as this client's user, protocol version 2, unless the request says otherwise. */
  join(request: Omit<JoinRequest, "user" | "pv"> & { user?: UserInput; pv?: number }): Promise<SyncAck>;
  read(request: ReadRequest): Promise<SyncAck>;
  add(element: ElementInput): Promise<WriteAck>;
  append(points: AppendInput): Promise<WriteAck>;
  erase(ids: string[]): Promise<WriteAck>;
  restore(ids: string[]): Promise<WriteAck>;
  edit(x: EditRequest["x"]): Promise<WriteAck>;
  clear(): Promise<WriteAck>;
  unclear(of: number): Promise<WriteAck>;
  /** Sends anything at all, as a broken or hostile client would. */
  raw(event: string, ...args: unknown[]): Promise<unknown>;
  close(): void;
}

const ACK_TIMEOUT_MS = 5_000;

/** A user with a fresh random key. */
export function makeUser(name = "Tester"): UserInput {
  return { key: randomBytes(16).toString("base64url"), name, color: "#336699" };
}

/** A new board: its id and its edit key (join with `{ board, edit }` to write). */
export function editableBoard(): { board: string; edit: string } {
  const { board, editKey } = newBoard();
  return { board, edit: editKey };
}

export interface ConnectOptions {
  reconnection?: boolean;
  origin?: string;
  user?: UserInput;
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
    id: userIdOf(user.key),
    ops: [],
    epochs: [],
    presence: [],
    heads: [],
    cursors: [],
    join: (request) => timed().emitWithAck("join", { pv: PROTOCOL_VERSION, user, ...request }),
    read: (request) => timed().emitWithAck("read", request),
    add: (element) => timed().emitWithAck("add", element),
    append: (points) => timed().emitWithAck("append", points),
    erase: (ids) => timed().emitWithAck("erase", { ids }),
    restore: (ids) => timed().emitWithAck("restore", { ids }),
    edit: (x) => timed().emitWithAck("edit", { x }),
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

/** The ids of the elements added among `ops`, in arrival order. */
export const addedIds = (ops: readonly BoardOp[]) => ops.flatMap((op) => (op.t === "a" ? [op.r[4]] : []));

/** A fresh element id: 16 random URL-safe characters. */
export const newElementId = (): string => randomBytes(12).toString("base64url");

let lineCounter = 0;

/** A valid freehand line with a fresh id. */
export function makeLine(overrides: Partial<ElementInput> = {}): ElementInput {
  lineCounter += 1;
  return {
    id: newElementId(),
    t: "f",
    b: [1_000, 1_000, 4_000, 4_000 + (lineCounter % 100)],
    c: "#1a2b3c",
    sw: 4,
    f: "",
    d: encodeSamples([
      [1_000, 1_000, 0],
      [5_000, 5_000 + (lineCounter % 100), 0],
    ]),
    ...overrides,
  };
}

export function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  return waitFor(what, check, timeoutMs, 10);
}
