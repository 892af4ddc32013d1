/**
 * Who a client is and which board it may edit, derived on the server from secrets only the client holds: a user's
 * id from the user's key (kept in the browser), a board's id from its edit key (in the edit link's fragment). Both are
 * one-way: knowing an id (every element and cursor shows its author's; every view-only link shows the board's) does
 * not give the key, so nobody can act as another user, and a view-only link cannot be turned into the edit link.
 *
 * Each derivation hashes a domain separator with the key (SHA-256, base64url, truncated), so a user key used as an
 * edit key (or the reverse) gives unrelated ids.
 */
import { createHash, randomBytes } from "node:crypto";

/** 16 characters, 96 bits: a second key with the same id takes about 2^96 tries. Short, as every record holds one. */
const USER_ID_LENGTH = 16;
/** 22 characters, 132 bits: board ids are also what makes a board hard to find. */
const BOARD_ID_LENGTH = 22;

function derive(domain: string, key: string, length: number): string {
  return createHash("sha256").update(`${domain}\u0000${key}`).digest("base64url").slice(0, length);
}

/** The user id of whoever holds `key` (`UserInput.key`). */
export const userIdOf = (key: string): string => derive("whiteboard user v2", key, USER_ID_LENGTH);

/** The id of the board whose edit key is `editKey` (its view-only link). */
export const boardIdOf = (editKey: string): string => derive("whiteboard board v2", editKey, BOARD_ID_LENGTH);

/** A new board: a random edit key (128 bits) and the board's id. */
export function newBoard(): { board: string; editKey: string } {
  const editKey = randomBytes(16).toString("base64url");
  return { board: boardIdOf(editKey), editKey };
}
