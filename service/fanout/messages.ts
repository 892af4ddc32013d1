/**
 * The compact messages that carry a board's traffic between instances, on the board's own channel (which names the
 * board), instead of Socket.IO's broadcast envelope (packet type, namespace, event name, rooms, flags, the adapter's
 * 16-character uid):
 *
 * - stored operations: `o<origin><epoch>\n<ops>`, `ops` the JSON array exactly as the store returned it, neither
 *   parsed nor re-serialized on either side;
 * - cursor positions: `c<origin><cursors>`, the JSON array of this instance's users' positions.
 *
 * `origin` is the publishing adapter's tag (8 characters): a subscriber recognizes its own messages from the first 9
 * bytes without decoding the rest. Every other message of the adapter is a JSON ClusterMessage, which starts with `{`.
 */
import { randomBytes } from "node:crypto";

export const OPS = "o";
const CURSORS = "c";
type Kind = typeof OPS | typeof CURSORS;

const ORIGIN_LENGTH = 8;
const HEADER_LENGTH = 1 + ORIGIN_LENGTH;
const NEWLINE = "\n";

/** A fresh origin tag: 48 random bits, base64url (no newline, never `{`). */
export function newOrigin(): string {
  return randomBytes((ORIGIN_LENGTH * 3) / 4).toString("base64url");
}

/** What an ops message starts with; the store's scripts add the epoch, a newline and the operations themselves. */
export function opsHead(origin: string): string {
  checkOrigin(origin);
  return `${OPS}${origin}`;
}

export function encodeOps(origin: string, e: string, ops: string): string {
  // The store's epochs are base64url; one with a newline would be cut short by the receiver.
  if (e.includes(NEWLINE)) throw new Error("an epoch holds no newline");
  return `${opsHead(origin)}${e}${NEWLINE}${ops}`;
}

export function encodeCursors(origin: string, cursors: string): string {
  checkOrigin(origin);
  return `${CURSORS}${origin}${cursors}`;
}

/** The kind of a compact message; undefined for anything else (a JSON ClusterMessage). */
export function kindOf(message: Buffer): Kind | undefined {
  const first = String.fromCharCode(message[0] ?? 0);
  return first === OPS || first === CURSORS ? first : undefined;
}

/** Whether a compact message came from `origin`, read from its header alone. */
export function isFrom(message: Buffer, origin: string): boolean {
  return message.toString("latin1", 1, HEADER_LENGTH) === origin;
}

/** The epoch and operations of an ops message; undefined for a malformed one. */
export function decodeOps(message: Buffer): { e: string; ops: string } | undefined {
  if (kindOf(message) !== OPS || message.length < HEADER_LENGTH + 3) return undefined;
  const text = message.toString("utf8");
  const end = text.indexOf(NEWLINE, HEADER_LENGTH);
  if (end < 0 || text[end + 1] !== "[" || !text.endsWith("]")) return undefined;
  return { e: text.slice(HEADER_LENGTH, end), ops: text.slice(end + 1) };
}

/** The positions of a cursors message; undefined for a malformed one. */
export function decodeCursors(message: Buffer): unknown[] | undefined {
  if (kindOf(message) !== CURSORS) return undefined;
  try {
    const cursors: unknown = JSON.parse(message.toString("utf8", HEADER_LENGTH));
    return Array.isArray(cursors) ? cursors : undefined;
  } catch {
    return undefined;
  }
}

function checkOrigin(origin: string): void {
  if (origin.length !== ORIGIN_LENGTH) throw new Error(`an origin tag has ${ORIGIN_LENGTH} characters`);
}
