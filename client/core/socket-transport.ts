/**
 * The real transport: a socket.io-client socket over WebSocket only (HTTP long-polling needs sticky sessions, which
 * Cloud Run does not promise), typed by the shared protocol.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../protocol/events";
import type { AnswerOf, RequestName, RequestOf, Transport, TransportEvents } from "./transport";

export interface SocketTransportOptions {
  /** The service's origin; absent in the browser, where it is the page's own. */
  url?: string;
  /** Socket.IO client options, e.g. reconnection delays. WebSocket-only is enforced. */
  socket?: Partial<ManagerOptions & SocketOptions>;
}

export class SocketTransport implements Transport {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private closed = false;

  constructor(options: SocketTransportOptions = {}) {
    const socketOptions = {
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      randomizationFactor: 0.5,
      ...options.socket,
      autoConnect: false,
      transports: ["websocket"],
    };
    this.socket = options.url === undefined ? io(socketOptions) : io(options.url, socketOptions);
  }

  start(events: TransportEvents): void {
    const socket = this.socket;
    socket.on("connect", () => events.connected());
    socket.on("disconnect", (reason) => {
      events.disconnected();
      // After these two the client library does not reconnect by itself.
      if (!this.closed && (reason === "io server disconnect" || reason === "io client disconnect")) socket.connect();
    });
    socket.on("ops", (batch) => events.ops(batch));
    socket.on("head", (head) => events.head(head));
    socket.on("presence", (presence) => events.presence(presence));
    socket.on("cursors", (cursors) => events.cursors(cursors));
    socket.on("rotate", (rotate) => events.rotate(rotate));
    socket.connect();
  }

  request<K extends RequestName>(
    name: K,
    payload: RequestOf<K>,
    timeoutMs: number,
    answer: (response: AnswerOf<K> | undefined) => void,
  ): void {
    // Socket.IO types `emit` per event name, and a generic K cannot select one of its overloads; this view of the
    // same method ties payload and answer to K through RequestOf and AnswerOf instead.
    const timed = this.socket.timeout(timeoutMs) as unknown as {
      emit(event: K, payload: RequestOf<K>, callback: (error: Error | null, response: AnswerOf<K>) => void): void;
    };
    timed.emit(name, payload, (error, response) => answer(error ? undefined : response));
  }

  cursor(position: { x: number; y: number }): void {
    this.socket.volatile.emit("cursor", position);
  }

  reconnect(): void {
    // The "io client disconnect" handler above connects again.
    this.socket.disconnect();
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}
