/**
 * How a board's stored operations travel between instances: on the board's own channel (which names the board), as
 * `o<origin><epoch>\n<ops>`, where `origin` is the publishing adapter's tag (8 characters), `epoch` the board's epoch
 * and `ops` the JSON array exactly as the store returned it. Nothing else: no Socket.IO envelope (packet type,
 * namespace, event name, rooms, flags, the adapter's 16-character uid), and the ops are neither parsed nor
 * re-serialized on either side. A subscriber recognizes its own messages from the first 9 bytes without decoding
 * the rest.
 *
 * Every other message of the adapter is a JSON ClusterMessage, which starts with `{`; this one starts with `o`.
 */
import { randomBytes } from "node:crypto";

const KIND = "o";
const KIND_BYTE = KIND.charCodeAt(0);
const ORIGIN_LENGTH = 8;
const HEADER_LENGTH = 1 + ORIGIN_LENGTH;
const NEWLINE = "\n";

/** A fresh origin tag: 48 random bits, base64url (no newline, never `{`). */
export function newOrigin(): string {
  return randomBytes((ORIGIN_LENGTH * 3) / 4).toString("base64url");
}

export interface OpsMessage {
  origin: string;
  e: string;
  /** The stored operations, a JSON array as the store wrote it. */
  ops: string;
}

export function encodeOps(origin: string, e: string, ops: string): string {
  if (origin.length !== ORIGIN_LENGTH) throw new Error(`an origin tag has ${ORIGIN_LENGTH} characters`);
  // The store's epochs are base64url; one with a newline would be cut short by the receiver.
  if (e.includes(NEWLINE)) throw new Error("an epoch holds no newline");
  return `${KIND}${origin}${e}${NEWLINE}${ops}`;
}

/** Whether `message` is an ops message (else a JSON ClusterMessage). */
export function isOpsMessage(message: Buffer): boolean {
  return message[0] === KIND_BYTE;
}

/** Whether an ops message came from `origin`, read from its header alone. */
export function isFrom(message: Buffer, origin: string): boolean {
  return message.toString("latin1", 1, HEADER_LENGTH) === origin;
}

/** The parts of an ops message; undefined for a malformed one. */
export function decodeOps(message: Buffer): OpsMessage | undefined {
  if (!isOpsMessage(message) || message.length < HEADER_LENGTH + 3) return undefined;
  const text = message.toString("utf8");
  const end = text.indexOf(NEWLINE, HEADER_LENGTH);
  if (end < 0 || text[end + 1] !== "[" || !text.endsWith("]")) return undefined;
  return { origin: text.slice(1, HEADER_LENGTH), e: text.slice(HEADER_LENGTH, end), ops: text.slice(end + 1) };
}
