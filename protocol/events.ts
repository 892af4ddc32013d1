/**
 * The whiteboard wire protocol: the one definition shared by the service and the browser client.
 *
 * Socket.IO namespace `/`, path `/socket.io`, WebSocket transport only (HTTP long-polling needs sticky
 * sessions, which Cloud Run does not guarantee).
 *
 * Every board has a sequence number `seq` that grows by exactly one for each stored stroke and each
 * clear, so a client that sees a gap knows it missed something and rejoins with `after`.
 */

/** A point on the board, normalized so that the canvas spans 0..1 on both axes. */
export type Point = [x: number, y: number];

/** A polyline as the client sends it. `id` is made by the client and makes resending idempotent. */
export interface StrokeInput {
  id: string;
  points: Point[];
  /** `#rrggbb` */
  color: string;
  /** Line width in CSS pixels at a 1000-pixel-wide canvas, 1 to 64. */
  width: number;
}

/** A stroke as stored: the input plus the board sequence number it was stored at. */
export interface Stroke extends StrokeInput {
  seq: number;
}

export interface JoinRequest {
  board: string;
  /** The highest seq the client holds with no gap below it; absent (or 0) when it holds nothing. */
  after?: number;
}

/** Machine-readable reasons for a refusal; `error` carries the human-readable text. */
export type ErrorCode =
  /** The event's payload does not match the protocol. Do not resend it unchanged. */
  | "invalid"
  /** `stroke` or `clear` before a successful `join`. */
  | "not_joined"
  /** The board holds its maximum number of strokes. Clear it or use another board. */
  | "board_full"
  /** Too many events from this connection; resend later. */
  | "rate_limited"
  /** The store is unreachable or the instance is shutting down; resend later, possibly after reconnecting. */
  | "unavailable";

export interface ErrorAck {
  ok: false;
  code: ErrorCode;
  error: string;
}

export type JoinAck =
  | {
      ok: true;
      board: string;
      /** Every stroke with seq > `after` (all of them when `after` is absent), in seq order. */
      strokes: Stroke[];
      /** The board's current seq. */
      seq: number;
      /** True when the board was cleared after `after` (or lost): drop everything held, then draw `strokes`. */
      reset: boolean;
    }
  | ErrorAck;

export type WriteAck = { ok: true; seq: number } | ErrorAck;

/** Codes after which the same event may succeed if sent again later. */
export const RETRYABLE_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["rate_limited", "unavailable"]);

export interface ClientToServerEvents {
  join: (request: JoinRequest, ack: (response: JoinAck) => void) => void;
  stroke: (stroke: StrokeInput, ack: (response: WriteAck) => void) => void;
  clear: (request: Record<string, never>, ack: (response: WriteAck) => void) => void;
}

export interface ServerToClientEvents {
  /** A stroke stored by another client of the same board, on any instance. */
  stroke: (stroke: Stroke) => void;
  /** The board was cleared; this clear took `seq`. */
  cleared: (event: { seq: number }) => void;
  /** How many clients are on this board across every instance. Sent when it changes. */
  presence: (event: { count: number }) => void;
  /**
   * The board's current seq, sent every few seconds. A client holding less rejoins with `after`:
   * this recovers a stroke that was stored but whose broadcast was lost (an instance killed between the two).
   */
  head: (event: { seq: number }) => void;
  /**
   * The platform will cut this connection in about `inMs` milliseconds (Cloud Run's request timeout).
   * The client should reconnect at its next quiet moment; the new connection may reach another instance.
   */
  rotate: (event: { inMs: number }) => void;
}

/** Board ids and stroke ids: 1 to 64 characters of `[A-Za-z0-9_-]`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;
export const MIN_WIDTH = 1;
export const MAX_WIDTH = 64;
