/**
 * What the session needs of a connection to the service, and nothing more: requests with an answer (or none, after
 * a timeout), the server's pushed events, and a way to start over on a fresh connection. The Socket.IO client
 * implements it (./socket-transport.ts); tests implement it with a fake that answers as they script, as tldraw's
 * TLSyncClient takes a socket.
 */
import type { ClientToServerEvents, CursorInput, ServerToClientEvents } from "../../protocol/events";

/** The requests that carry an answer (every client event but `cursor`). */
export type RequestName = Exclude<keyof ClientToServerEvents, "cursor">;
export type RequestOf<K extends RequestName> = Parameters<ClientToServerEvents[K]>[0];
export type AnswerOf<K extends RequestName> = Parameters<Parameters<ClientToServerEvents[K]>[1]>[0];

/** What the transport reports: its connection coming and going, and the server's events on it. */
export interface TransportEvents {
  /** A new connection is open (the first, or one after a drop): the session joins on it. */
  connected(): void;
  /** The connection is gone; answers to requests sent on it will never come. The transport reconnects by itself. */
  disconnected(): void;
  ops: ServerToClientEvents["ops"];
  head: ServerToClientEvents["head"];
  presence: ServerToClientEvents["presence"];
  cursors: ServerToClientEvents["cursors"];
  rotate: ServerToClientEvents["rotate"];
}

export interface Transport {
  /** Starts connecting; from then on it reports through `events`, and reconnects after any drop until `close`. */
  start(events: TransportEvents): void;
  /**
   * Sends a request on the current connection. `answer` is called once: with the server's answer, or with
   * undefined when none came within `timeoutMs` (or the connection went first).
   */
  request<K extends RequestName>(
    name: K,
    payload: RequestOf<K>,
    timeoutMs: number,
    answer: (response: AnswerOf<K> | undefined) => void,
  ): void;
  /** Where this user points: ephemeral, dropped when the connection is busy. */
  cursor(position: CursorInput): void;
  /** Leaves the current connection for a fresh one (the server asked to rotate). */
  reconnect(): void;
  /** Disconnects for good. */
  close(): void;
}
